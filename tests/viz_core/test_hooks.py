"""Hooks: captured values are right, nothing is left behind, threads never see each other's hooks."""
from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core.hooks import activation_rule, capture, count_hooks, model_lock


def tiny() -> nn.Sequential:
    torch.manual_seed(0)  # test-local construction only; engines never seed globally
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def test_capture_returns_the_layer_outputs_and_removes_hooks() -> None:
    model = tiny()
    x = torch.randn(2, 3, 8, 8)
    with capture(model, ["1", "3"]) as acts:
        model(x)
    assert torch.equal(acts["1"], torch.relu(model[0](x)))
    assert acts["3"].shape == (2, 5, 8, 8) and not acts["3"].requires_grad
    assert count_hooks(model) == 0


def test_hooks_removed_when_the_forward_raises() -> None:
    model = tiny()
    with pytest.raises(RuntimeError):
        with capture(model, ["1", "3"]):
            model(torch.randn(1, 7, 8, 8))  # wrong channel count -> error mid-forward
    assert count_hooks(model) == 0
    with pytest.raises(ValueError):
        with activation_rule(model, ["1"], lambda mod, x, g: g):
            raise ValueError("injected")
    assert count_hooks(model) == 0
    assert not model_lock(model)._is_owned()  # type: ignore[attr-defined]


def test_unknown_layer_gets_suggestions() -> None:
    with pytest.raises(vc.LayerError, match="Did you mean"):
        with capture(tiny(), ["33"]):
            pass


def test_rule_replaces_the_local_gradient_only() -> None:
    model = tiny()
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    (plain,) = torch.autograd.grad(model(x).sum(), [x])
    with activation_rule(model, ["1", "3"], lambda mod, inp, g: torch.ones_like(g) * 0 + g) as stats:
        out = model(x)
        (identity_rule,) = torch.autograd.grad(out.sum(), [x])
    assert stats.applied == 2
    assert not torch.allclose(plain, identity_rule)  # the ReLU mask was replaced by identity
    assert torch.equal(model(x), out)  # forward values untouched


def test_two_threads_capture_different_layers_of_one_model() -> None:
    model = tiny()
    inputs = {name: torch.randn(3, 3, 8, 8) for name in ("1", "3")}
    expected = {"1": torch.relu(model[0](inputs["1"])).detach(), "3": model[:4](inputs["3"]).detach()}
    results: dict[str, list[torch.Tensor]] = {"1": [], "3": []}
    errors: list[BaseException] = []

    def worker(layer: str) -> None:
        try:
            for _ in range(25):
                with capture(model, [layer]) as acts:
                    model(inputs[layer])
                results[layer].append(acts[layer])
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    # a third thread runs plain forwards all the while: it must never be captured
    stop = threading.Event()

    def bystander() -> None:
        while not stop.is_set():
            with torch.inference_mode():
                model(torch.randn(1, 3, 8, 8))

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("1", "3")] + [threading.Thread(target=bystander)]
    for thread in threads:
        thread.start()
    for thread in threads[:2]:
        thread.join()
    stop.set()
    threads[2].join()
    assert not errors
    for layer in ("1", "3"):
        assert len(results[layer]) == 25
        assert all(torch.equal(value, expected[layer]) for value in results[layer])
    assert count_hooks(model) == 0
