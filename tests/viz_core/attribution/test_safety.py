"""Every method leaves the shared model as it found it, also on failure, and is thread-safe."""
from __future__ import annotations

import hashlib
import importlib
import threading
from collections.abc import Callable

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.hooks import count_hooks
from viz_core.results import StepInfo

IMAGE = "chelsea (cat)"
backprop_module = importlib.import_module("viz_core.attribution.backprop")  # the package exports a function of that name


def snapshot(m: vc.LoadedModel) -> tuple:
    """Everything a method could change: weights/buffers digest, hooks, modes, requires_grad, .grad."""
    digest = hashlib.sha256()
    for key, value in m.model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().numpy().tobytes())
    return (
        digest.hexdigest(),
        count_hooks(m.model),
        tuple(module.training for module in m.model.modules()),
        tuple(p.requires_grad for p in m.model.parameters()),
        tuple(p.grad is None for p in m.model.parameters()),
        tuple(getattr(module, "inplace", None) for module in m.model.modules()),
    )


def _boom(info: StepInfo) -> None:
    raise vc.Cancelled()


METHODS: dict[str, Callable[[vc.LoadedModel, object], object]] = {
    "vanilla": lambda m, image: vc.backprop(m, image, 3, rule="vanilla"),
    "guided": lambda m, image: vc.backprop(m, image, vc.unit("layer2", 1), rule="guided"),
    "deconvnet": lambda m, image: vc.backprop(m, image, 3, rule="deconvnet"),
    "grad_cam": lambda m, image: vc.grad_cam(m, image, 3),
    "guided_grad_cam": lambda m, image: vc.guided_grad_cam(m, image, 3, layer="layer3"),
    "smoothgrad": lambda m, image: vc.smoothgrad(m, image, 3, samples=4, batch_size=2),
    "integrated_gradients": lambda m, image: vc.integrated_gradients(m, image, 3, steps=4, batch_size=2),
    "occlusion": lambda m, image: vc.occlusion(m, image, 3, patch=32, stride=16),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_method_leaves_the_model_unchanged(random_cnn: vc.LoadedModel, name: str) -> None:
    before = snapshot(random_cnn)
    METHODS[name](random_cnn, vc.sample_image(IMAGE))
    assert snapshot(random_cnn) == before


class ExplodingTarget:
    """A unit target whose score raises after the forward ran with every hook installed."""

    def layers(self) -> tuple[str, ...]:
        return ("layer2",)

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        raise RuntimeError("injected failure")

    def validate(self, m: vc.LoadedModel) -> None:
        return None

    def describe(self, m: vc.LoadedModel) -> str:
        return "exploding"


@pytest.mark.parametrize(
    "call",
    [
        lambda m, image: vc.backprop(m, image, ExplodingTarget(), rule="guided"),
        lambda m, image: vc.grad_cam(m, image, ExplodingTarget(), layer="layer3"),
        lambda m, image: vc.occlusion(m, image, ExplodingTarget(), patch=32, stride=16),
        lambda m, image: vc.smoothgrad(m, image, 3, samples=4, batch_size=2, rule="deconvnet", on_step=_boom),
        lambda m, image: vc.integrated_gradients(m, image, 3, steps=4, batch_size=2, on_step=_boom),
        lambda m, image: vc.occlusion(m, image, 3, patch=32, stride=16, batch_size=2, on_step=_boom),
    ],
    ids=["backprop-score", "gradcam-score", "occlusion-score", "smoothgrad-progress", "ig-progress", "occlusion-progress"],
)
def test_model_unchanged_when_a_method_fails_midway(random_cnn: vc.LoadedModel, call) -> None:
    before = snapshot(random_cnn)
    with pytest.raises((RuntimeError, vc.Cancelled)):
        call(random_cnn, vc.sample_image(IMAGE))
    assert snapshot(random_cnn) == before


def test_model_unchanged_when_the_rule_fails_inside_the_backward(random_cnn: vc.LoadedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(module: torch.nn.Module, x: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("injected failure in the backward")

    monkeypatch.setitem(backprop_module._RULE_FUNCTIONS, "guided", broken)
    before = snapshot(random_cnn)
    with pytest.raises(RuntimeError, match="injected"):
        vc.backprop(random_cnn, vc.sample_image(IMAGE), 3, rule="guided")
    assert snapshot(random_cnn) == before
    monkeypatch.undo()
    assert vc.backprop(random_cnn, vc.sample_image(IMAGE), 3, rule="guided").rule_applied > 0


def test_concurrent_runs_equal_serial_runs(random_cnn: vc.LoadedModel) -> None:
    """Guided (hooks installed) in one thread, vanilla and occlusion (no hooks) in another."""
    image = vc.sample_image(IMAGE)
    jobs = {
        "guided": lambda: vc.backprop(random_cnn, image, 5, rule="guided").attribution,
        "vanilla": lambda: vc.backprop(random_cnn, image, 5, rule="vanilla").attribution,
        "occlusion": lambda: vc.occlusion(random_cnn, image, 5, patch=32, stride=16).score,
        "cam": lambda: vc.grad_cam(random_cnn, image, 5).map,
    }
    serial = {name: job() for name, job in jobs.items()}
    found: dict[str, list[np.ndarray]] = {name: [] for name in jobs}
    errors: list[BaseException] = []

    def worker(names: list[str]) -> None:
        try:
            for _ in range(4):
                for name in names:
                    found[name].append(jobs[name]())
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(names,)) for names in (["guided", "cam"], ["vanilla", "occlusion"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for name, results in found.items():
        assert len(results) == 4
        for result in results:
            np.testing.assert_allclose(result, serial[name], rtol=1e-5, atol=1e-7)
    assert count_hooks(random_cnn.model) == 0


def test_the_users_module_is_never_touched() -> None:
    from . import nets

    module = nets.TinyCNN(torch.Generator().manual_seed(0))
    module.train()
    state = {k: v.clone() for k, v in module.state_dict().items()}
    m = vc.LoadedModel.from_module(module, data_config=nets.tiny_cnn().data_config, class_names=["a", "b", "c"])
    vc.backprop(m, torch.zeros(1, 3, 16, 16), 0, rule="guided")
    assert module.training and all(p.requires_grad and p.grad is None for p in module.parameters())
    assert all(torch.equal(state[k], v) for k, v in module.state_dict().items())
