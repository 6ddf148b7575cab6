"""Pictures past the Lucid baseline, each checked against its definition: MACO's phase-only
parameterisation, batched random crops, the cosine schedule, the importance map, SWAG's
softmax-smoothed Gram matrices, the diversity term and feature accentuation's budget."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.errors import SettingsError
from viz_core.synthesis import optimize_image, pixels
from viz_core.synthesis import objectives as O
from viz_core.synthesis import transforms as T
from viz_core.synthesis.engine import StepState
from viz_core.synthesis.params import maco, natural_magnitude, to_spectrum


def _photo(height: int, width: int) -> np.ndarray:
    return np.asarray(vc.sample_image("coffee (espresso)").resize((width, height)), dtype=np.float32) / 255.0


@pytest.mark.parametrize("size", [(24, 32), (23, 31)])
def test_maco_keeps_the_given_magnitude_exactly(size: tuple[int, int]) -> None:
    magnitude = natural_magnitude(size)
    param = maco(size, generator=torch.Generator().manual_seed(3))
    for _ in range(2):  # also after the optimiser has moved the phase anywhere
        got = torch.fft.rfft2(param.field()).abs()
        assert torch.allclose(got, magnitude, rtol=1e-4, atol=1e-3 * float(magnitude.max()) * 1e-3)
        with torch.no_grad():
            param.phase.add_(torch.randn(param.phase.shape, generator=torch.Generator().manual_seed(4)) * 5)
    assert param.tensors() == [param.phase]  # only the phase is optimised


def test_maco_renders_a_photo_from_its_own_magnitude_and_phase() -> None:
    photo = _photo(24, 32)
    spectrum = to_spectrum(photo)
    rendered = maco((24, 32), magnitude=spectrum.abs(), phase=spectrum.angle()).render()[0].permute(1, 2, 0).detach().numpy()
    assert np.abs(rendered - photo.clip(1e-3, 1 - 1e-3)).max() < 1e-4


def test_natural_magnitude_falls_with_frequency() -> None:
    magnitude = natural_magnitude((32, 32))[0].mean(dim=0)  # (32, 17)
    assert magnitude[1, 1] > 10 * magnitude[16, 16]  # photos: most energy at low frequencies


@pytest.mark.parametrize("degrees", [0.0, 1e-6])  # whole-pixel slices, and the grid_sample path
def test_crops_cut_the_drawn_box_and_resample_it(degrees: float) -> None:
    # a horizontal ramp: a crop of side s centred at cx (grid units) spans x in [cx - s, cx + s]
    ramp = torch.linspace(-1, 1, 64).view(1, 1, 1, 64).expand(3, 3, 64, 64).contiguous()
    out = T.crops((16, 16), area=(0.25, 0.25), degrees=degrees)(ramp, torch.Generator().manual_seed(0))
    draws = torch.Generator().manual_seed(0)  # replay: side (fixed here), centre x, centre y[, angle]
    side = 0.5
    for i in range(3):
        torch.rand((), generator=draws)
        cx = (side - 1) + (2 - 2 * side) * float(torch.rand((), generator=draws))
        torch.rand((), generator=draws)
        if degrees:
            torch.rand((), generator=draws)
        row = out[i, 0, 8]
        assert float(row[0]) == pytest.approx(cx - side + side / 16, abs=0.04)  # first pixel centre
        assert float(row[-1]) == pytest.approx(cx + side - side / 16, abs=0.04)
    assert out.shape == (3, 3, 16, 16)


def test_a_batch_of_views_scores_their_mean(tiny: vc.LoadedModel) -> None:
    # without transforms every view is the same picture, so a batch of 4 gives batch 1's score
    start = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    one = optimize_image(tiny, O.target(2), pixels((8, 8), init=start), steps=3, lr=0.05)
    four = optimize_image(tiny, O.target(2), pixels((8, 8), init=start), steps=3, lr=0.05, batch=4)
    assert np.allclose(one.scores, four.scores, atol=1e-5)
    assert four.params["batch"] == 4
    with pytest.raises(SettingsError):
        optimize_image(tiny, O.target(2), steps=1, batch=0)


def test_cosine_schedule_decays_the_learning_rate_to_zero(linear: vc.LoadedModel) -> None:
    # SGD on a linear logit: each step adds lr_t * 4 W to the pixels, lr_t = lr (1 + cos(pi t / T)) / 2
    grey = np.full((8, 8, 3), 0.5, dtype=np.float32)
    moves: list[float] = []
    previous = [torch.full((1, 3, 8, 8), 0.5)]

    def watch(state: StepState) -> None:
        now = state.param.pixels.detach().clone()  # type: ignore[attr-defined]
        moves.append(float((now - previous[0]).abs().mean()))
        previous[0] = now

    optimize_image(linear, O.target(1), pixels((8, 8), init=grey), steps=4, lr=1e-3, optimizer="sgd", schedule="cosine", callbacks=[watch])
    weight = float(linear.model.fc.weight[1].abs().mean()) * 4
    expected = [1e-3 * 0.5 * (1 + math.cos(math.pi * t / 4)) * weight for t in range(4)]
    assert np.allclose(moves, expected, rtol=1e-4)


def test_importance_is_the_accumulated_gradient_magnitude(linear: vc.LoadedModel) -> None:
    # d logit_1 / d picture = 4 W_1 at every step: the map is sum_c |W_1c| scaled to max 1
    result = optimize_image(linear, O.target(1), pixels((8, 8)), steps=3, lr=1e-3, importance=True)
    expected = linear.model.fc.weight[1].view(3, 8, 8).abs().sum(dim=0)
    assert result.importance is not None and result.importance.shape == (8, 8)
    assert np.allclose(result.importance, (expected / expected.max()).numpy(), atol=1e-5)


def test_swag_softmax_gram_by_hand() -> None:
    act = torch.tensor([[[[0.0, 1.0], [2.0, 0.0]], [[1.0, 1.0], [0.0, 3.0]]]])  # (1, C=2, 2, 2)
    flat = act.reshape(1, 2, 4)
    e = torch.exp(flat / 2.0)
    p = e / e.sum()  # one softmax over all 8 activations of the layer
    expected = torch.stack([torch.stack([(p[0, i] * p[0, j]).sum() / 4 for j in range(2)]) for i in range(2)])
    assert torch.allclose(O.gram(act, softmax=2.0)[0], expected, atol=1e-7)
    assert float(O.smoothed(flat).sum()) == pytest.approx(1.0)
    assert torch.allclose(O.gram(act), (flat @ flat.transpose(1, 2) / 4))  # None: Gatys' plain Gram


def test_diversity_term_by_hand() -> None:
    # three pictures' 1-channel... use 2 channels, 1 position: Gram = outer(a, a); flattened and unit length
    act = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]).view(3, 2, 1, 1)
    grams = [torch.outer(a, a).flatten() for a in act.view(3, 2)]
    unit = [g / g.norm() for g in grams]
    expected = torch.tensor([-sum(float(unit[i] @ unit[j]) for j in range(3) if j != i) for i in range(3)])
    probe = O.Probe(torch.zeros(3, 1), {"x": act}, torch.zeros(3, 3, 1, 1), torch.zeros(3, 3, 1, 1))
    assert torch.allclose(O.diversity("x").score(probe), expected, atol=1e-6)
    alone = O.Probe(torch.zeros(1, 1), {"x": act[:1]}, torch.zeros(1, 3, 1, 1), torch.zeros(1, 3, 1, 1))
    assert float(O.diversity("x").score(alone)) == 0.0


def test_accent_stays_within_its_budget(tiny: vc.LoadedModel) -> None:
    photo = _photo(8, 8)
    result = vc.accentuate(tiny, (photo * 255).astype(np.uint8), 2, steps=12, lr=0.5, budget=0.05, batch=2, crop_area=0.5, similarity_weight=0.0)
    assert result.metrics["rms_change"] <= 0.05 + 2 / 255  # the budget, plus uint8 rounding
    assert result.metrics["rms_change"] > 0.01  # it did use the budget
    assert result.metrics["score_after"] > result.metrics["score_before"]
    assert result.images is not None and result.images.shape == (2, 8, 8, 3)


def test_accent_projection_scales_the_change_onto_the_budget() -> None:
    from viz_core.synthesis.params import accent

    param = accent(_photo(16, 16), budget=0.02, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        param.spectrum.mul_(1e4)
        param.project()
        assert float(param.change().pow(2).mean().sqrt()) == pytest.approx(0.02, rel=1e-4)


def test_diverse_pictures_are_several_and_differ(tiny: vc.LoadedModel) -> None:
    result = vc.diverse(tiny, vc.unit("conv", 1), count=3, weight=1.0, steps=8, crop_area=0.0)
    assert result.images is not None and result.images.shape == (3, 8, 8, 3)
    assert not np.array_equal(result.images[0], result.images[1])
    assert -1.0 <= result.metrics["gram_similarity"] <= 1.0
    with pytest.raises(SettingsError):
        vc.diverse(tiny, vc.unit("conv", 1), count=1)


@pytest.fixture(scope="module")
def lite2() -> vc.LoadedModel:
    return vc.load_model("efficientnet_lite2")


@pytest.mark.slow
def test_a_default_class_model_made_on_lite0_is_recognised_by_lite2(lite0: vc.LoadedModel, lite2: vc.LoadedModel) -> None:
    # the bench's transfer check for one class (balloon: Lite2 p = 0.72 when measured), default Ascent
    from bench.bench_pictures import judge

    result = vc.class_model(lite0, 417)
    assert result.params["param"] == "maco" and result.importance is not None
    (verdict,) = judge([lite2], result.image, 417)
    assert verdict["hit"], verdict


@pytest.mark.slow
def test_default_style_transfer_is_closer_to_the_style_on_a_model_it_never_saw(lite0: vc.LoadedModel, lite2: vc.LoadedModel) -> None:
    # the bench's style metric at 128 px: Lite2 Gram distance to the style, relative to the content
    # photo's own; measured 0.23 with the defaults and 0.62 with Style.gatys()
    from bench.bench_pictures import style_ratio

    assert style_ratio(lite0, lite2, vc.Style(size=128))["ratio"] < 0.4
