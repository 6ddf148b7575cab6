"""The optimisation loop: exact steps on a linear model, constraints, early stop, and no side effects."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.errors import ConvlensError
from viz_core.hooks import count_hooks
from viz_core.results import Cancelled, StepInfo
from viz_core.synthesis import PENULTIMATE, fourier, optimize_image, perturbation, pixels
from viz_core.synthesis.engine import StepState, reference_activations
from viz_core.synthesis import objectives as O
from viz_core.synthesis import transforms as T


def _snapshot(m: vc.LoadedModel) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in m.model.state_dict().items()}


def _assert_untouched(m: vc.LoadedModel, before: dict[str, torch.Tensor]) -> None:
    assert count_hooks(m.model) == 0
    assert not m.model.training
    for p in m.model.parameters():
        assert p.grad is None and not p.requires_grad
    after = m.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_one_sgd_step_is_the_gradient_in_pixel_units(linear: vc.LoadedModel) -> None:
    # logit_k = W_k · (x01 - 0.5) / 0.25, so d logit / d x01 = 4 W_k: one SGD step adds lr * 4 W_k
    grey = np.full((8, 8, 3), 0.5, dtype=np.float32)
    param = pixels((8, 8), init=grey)
    optimize_image(linear, O.target(vc.class_logit(1)), param, steps=1, lr=0.01, optimizer="sgd")
    weights = linear.model.fc.weight[1].view(1, 3, 8, 8)
    expected = (0.5 + 0.01 * 4 * weights).clamp(0, 1)
    assert torch.allclose(param.pixels.detach(), expected, atol=1e-6)


def test_normalized_gradient_step_has_unit_mean_magnitude(linear: vc.LoadedModel) -> None:
    grey = np.full((8, 8, 3), 0.5, dtype=np.float32)
    param = pixels((8, 8), init=grey)
    optimize_image(linear, O.target(vc.class_logit(1)), param, steps=1, lr=0.001, optimizer="sgd", normalize_grad=True)
    change = (param.pixels.detach() - 0.5).abs().mean()
    assert float(change) == pytest.approx(0.001, rel=1e-4)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "lbfgs"])
def test_every_optimizer_raises_the_score(tiny: vc.LoadedModel, optimizer: str) -> None:
    lr = {"adam": 0.05, "sgd": 0.05, "lbfgs": 0.1}[optimizer]
    result = optimize_image(tiny, O.target(vc.class_logit(2)), pixels((8, 8), generator=torch.Generator().manual_seed(1)), steps=20, lr=lr, optimizer=optimizer)
    assert result.scores[-1] > result.scores[0] + 0.1
    assert result.image.shape == (8, 8, 3) and result.image.dtype == np.uint8


def test_model_is_left_as_found_on_success_and_failure(random_cnn: vc.LoadedModel) -> None:
    before = _snapshot(random_cnn)
    optimize_image(random_cnn, O.target(vc.unit("layer2", 3)) - 0.1 * O.total_variation(), steps=3)
    _assert_untouched(random_cnn, before)

    calls = {"n": 0}

    def explode(probe: O.Probe) -> torch.Tensor:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected")
        return probe.activations["layer1"].mean(dim=(1, 2, 3))

    with pytest.raises(RuntimeError, match="injected"):
        optimize_image(random_cnn, O.Objective("boom", explode, ("layer1",)), steps=5)
    _assert_untouched(random_cnn, before)


def test_cancel_returns_the_best_picture_so_far(tiny: vc.LoadedModel) -> None:
    seen: list[StepInfo] = []

    def stop_at_three(info: StepInfo) -> None:
        seen.append(info)
        if info.step == 3:
            raise Cancelled()

    result = optimize_image(tiny, O.target(vc.class_logit(0)), pixels((8, 8)), steps=50, lr=0.05, on_step=stop_at_three, preview_every=2)
    assert result.stopped_early and len(result.scores) == 4
    assert result.best_step == int(np.argmax(result.scores))
    assert [s.step for s in seen] == [0, 1, 2, 3]
    assert [s.image is not None for s in seen] == [True, False, True, False]
    assert seen[0].image.shape == (8, 8, 3) and seen[0].image.dtype == np.uint8
    assert seen[-1].fraction == pytest.approx(4 / 50)
    assert count_hooks(tiny.model) == 0


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_perturbation_stays_in_budget_and_in_range(tiny: vc.LoadedModel, norm: str) -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, (8, 8, 3)).astype(np.float32)
    eps = 0.03 if norm == "linf" else 0.2
    param = perturbation(base, eps, norm=norm, random_start=True, generator=torch.Generator().manual_seed(0))
    checks: list[tuple[float, float, float]] = []

    def watch(info: StepInfo) -> None:
        delta = param.render().detach() - param.base
        size = float(delta.abs().max()) if norm == "linf" else float(delta.norm())
        picture = param.render().detach()
        checks.append((size, float(picture.min()), float(picture.max())))

    result = optimize_image(tiny, O.target(vc.class_logit(1)), param, steps=10, lr=0.05, optimizer="sgd", on_step=watch)
    assert result.scores[-1] > result.scores[0]
    assert all(size <= eps + 1e-6 and low >= 0 and high <= 1 for size, low, high in checks)
    assert max(size for size, _, _ in checks) > 0.5 * eps  # the budget is actually used


def test_same_seed_same_picture_other_seed_other_picture(random_cnn: vc.LoadedModel) -> None:
    def run(seed: int) -> np.ndarray:
        return optimize_image(random_cnn, O.target(vc.unit("layer1", 0)), None, [T.affine(shift=2.0, scale=0.1, degrees=8.0)], steps=3, seed=seed).image

    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_fourier_renders_valid_pictures() -> None:
    param = fourier((32, 48), sd=0.5, generator=torch.Generator().manual_seed(0))
    image = param.render().detach()
    assert image.shape == (1, 3, 32, 48)
    assert float(image.min()) >= 0 and float(image.max()) <= 1
    assert float(image.std()) > 0.01


def test_clear_errors_for_bad_settings(tiny: vc.LoadedModel) -> None:
    with pytest.raises(ConvlensError, match="optimiser"):
        optimize_image(tiny, O.target(vc.class_logit(0)), steps=1, optimizer="rmsprop")
    with pytest.raises(ConvlensError, match="raw pixels"):
        optimize_image(tiny, O.target(vc.class_logit(0)), fourier((8, 8)), steps=1, image_steps=[T.decay()])
    with pytest.raises(vc.LayerError, match="Did you mean"):
        optimize_image(tiny, O.target(vc.unit("conv.x", 0)), steps=1)
    with pytest.raises(ConvlensError, match="budget"):
        perturbation(np.zeros((8, 8, 3), np.float32), -1.0)
    assert count_hooks(tiny.model) == 0


def test_penultimate_is_the_classifier_input(random_cnn: vc.LoadedModel) -> None:
    image = np.random.default_rng(0).uniform(0, 1, (64, 64, 3)).astype(np.float32)
    code = reference_activations(random_cnn, image, [PENULTIMATE])[PENULTIMATE]
    with torch.no_grad():
        x = random_cnn.preprocessing.to_tensor(image)
        expected = random_cnn.model.forward_head(random_cnn.model.forward_features(x), pre_logits=True)
    assert torch.allclose(code, expected, atol=1e-5)
    assert count_hooks(random_cnn.model) == 0


def test_pixel_regularisers_act_between_steps(tiny: vc.LoadedModel) -> None:
    noisy = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    plain = pixels((8, 8), init=noisy)
    blurred = pixels((8, 8), init=noisy)
    optimize_image(tiny, O.target(vc.class_logit(0)), plain, steps=2, lr=1e-4, optimizer="sgd")
    optimize_image(tiny, O.target(vc.class_logit(0)), blurred, steps=2, lr=1e-4, optimizer="sgd", image_steps=[T.blur_every(2, 1.0), T.clip_norm(25)])
    tv = lambda p: float((p.pixels.detach()[..., 1:, :] - p.pixels.detach()[..., :-1, :]).abs().mean())  # noqa: E731
    assert tv(blurred) < 0.7 * tv(plain)
    grey = (blurred.pixels - 0.5).norm(dim=1) < 1e-6
    assert int(grey.sum()) >= 16  # a quarter of the 64 pixels were set to grey


def test_step_callbacks_see_every_step_with_probe_values_and_can_stop(tiny: vc.LoadedModel) -> None:
    logit, prior = O.target(vc.class_logit(0)), O.l2()
    seen: list[tuple[int, float, dict[str, float]]] = []

    def record(state: StepState) -> None:
        seen.append((state.step, state.score, dict(state.probes)))

    def stop_at_four(state: StepState) -> bool:
        return state.step == 3

    result = optimize_image(
        tiny, logit - prior, pixels((8, 8), generator=torch.Generator().manual_seed(2)), steps=20, lr=0.05,
        callbacks=[record, stop_at_four], probes={"logit": logit, "l2": prior}, preview_every=0,
    )
    assert [step for step, _, _ in seen] == [0, 1, 2, 3] and result.stopped_early and len(result.scores) == 4
    for _, score, probes in seen:  # the probes are the terms of this very forward
        assert score == pytest.approx(probes["logit"] - probes["l2"], abs=1e-6)
    assert count_hooks(tiny.model) == 0


def test_pixels_at_black_or_white_still_get_a_gradient() -> None:
    """clamp's gradient is 0 at its bounds: a binary start would never move without the straight-through clip."""
    start = torch.tensor([0.0, 1.0, 0.5]).reshape(1, 3, 1, 1).expand(1, 3, 2, 2).contiguous()
    param = pixels((2, 2), init=start)
    (grad,) = torch.autograd.grad((param.render() * torch.tensor([1.0, -1.0, 1.0]).reshape(1, 3, 1, 1)).sum(), param.tensors())
    assert torch.equal(grad, torch.tensor([1.0, -1.0, 1.0]).reshape(1, 3, 1, 1).expand(1, 3, 2, 2))
    assert torch.equal(param.render(), start)
