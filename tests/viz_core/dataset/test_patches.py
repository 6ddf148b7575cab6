"""Receptive fields against the analytic answer, and top patches that match their definition."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core.hooks import capture, count_hooks

GRAY = {"input_size": (1, 64, 64), "mean": (0.5,), "std": (0.5,), "crop_pct": 1.0, "interpolation": "bilinear"}


def known_stack(seed: int = 0) -> vc.LoadedModel:
    """conv3 → ReLU → conv3/2 → ReLU → maxpool2 → conv5: fields 3, 5, 7, 23 px with jumps 1, 2, 4, 4."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # weights from `seed`, the global generator left as it was
        return _known_stack()


def _known_stack() -> vc.LoadedModel:
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 3, 5, padding=2),
    )
    return vc.LoadedModel.from_module(net, data_config=GRAY, class_names=["a", "b", "c"])


@pytest.mark.parametrize(("layer", "size", "grid"), [("0", 3, 64), ("2", 5, 32), ("4", 7, 16), ("5", 23, 16)])
def test_measured_field_equals_the_analytic_one(layer: str, size: int, grid: int) -> None:
    for seed in range(8):  # whatever the weights (seed 7 once made the max pool hide a row of its window)
        m = known_stack(seed)
        field = vc.receptive_field(m, layer)
        assert field.size == (size, size) and field.grid == (grid, grid), seed
        assert field.stride == (64 / grid, 64 / grid) and not field.is_global
        top, left, bottom, right = field.box
        cy, cx = field.centre  # the field is centred on the unit's own position in the input
        assert (top + bottom - 1) / 2 == pytest.approx(cy * 64 / grid + (64 / grid - 1) / 2, abs=1.0)
        assert count_hooks(m.model) == 0


def test_a_field_is_measured_where_the_channels_sum_to_a_constant() -> None:
    """After PVT's closing LayerNorm the channels sum to a constant, so the gradient of their sum
    is zero up to rounding (and at 32 px exactly zero); here exactly: each channel and its negative."""

    class Opposites(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            return torch.cat([y, -y], dim=1)

    net = nn.Sequential(Opposites(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    m = vc.LoadedModel.from_module(net, data_config=GRAY, class_names=["a", "b"])
    assert vc.receptive_field(m, "0").size == (3, 3)


def test_digits_cnn_fields(digits: vc.LoadedModel) -> None:
    assert vc.receptive_field(digits, "act3").size == (18, 18)  # 3, 4, 8, 10, 18 along the stack
    assert vc.receptive_field(digits, "act4").size == (26, 26)


def test_vit_patch_embedding_sees_its_patch_and_blocks_see_everything(random_vit: vc.LoadedModel) -> None:
    patch = vc.receptive_field(random_vit, "patch_embed")
    assert patch.size == (16, 16) and patch.grid == (4, 4) and patch.box == (32, 32, 48, 48)
    block = vc.receptive_field(random_vit, "blocks.0")
    assert block.is_global and block.size == (64, 64)


def test_top_patches_match_the_activations_they_claim(digits: vc.LoadedModel) -> None:
    c = vc.collection("digits").subset(np.arange(120))
    result = vc.top_patches(digits, c, "act3", channels=[3, 10], k=4)
    assert result.patches.shape == (2, 4, 18, 18, 3) and result.rf_size == (18, 18)
    assert np.all(np.diff(result.values, axis=1) <= 0)  # best first
    for row, channel in enumerate(result.channels):
        for col in range(4):
            index, (y, x) = int(result.image_indices[row, col]), result.positions[row, col]
            with torch.inference_mode(), capture(digits.model, ["act3"]) as store:
                digits.model(digits.preprocess(c.load(index)))
            plane = store["act3"][0, channel]
            assert float(plane[y, x]) == pytest.approx(float(result.values[row, col]), rel=1e-4)
            assert float(plane.max()) == pytest.approx(float(result.values[row, col]), rel=1e-4)
            top, left, bottom, right = result.boxes[row, col]
            assert 0 <= top < bottom <= 32 and 0 <= left < right <= 32 and (bottom - top, right - left) == (18, 18)
            view = (digits.image01(c.load(index)) * 255).round().astype(np.uint8)
            np.testing.assert_array_equal(result.patches[row, col], view[top:bottom, left:right])
            centre_y, centre_x = (y + 0.5) * 4, (x + 0.5) * 4  # the unit sits inside its crop
            assert top <= centre_y <= bottom and left <= centre_x <= right


def test_most_variable_channels_are_chosen_by_variance(digits: vc.LoadedModel) -> None:
    c = vc.collection("digits").subset(np.arange(60))
    result = vc.top_patches(digits, c, "act2", k=3, n_channels=4)
    assert len(result.channels) == 4 and np.all(np.diff(result.channel_variance) <= 0)


def test_top_patches_on_vit_tokens_show_the_token_patch(random_vit: vc.LoadedModel) -> None:
    c = vc.collection("photos").subset(np.arange(0, 300, 30))
    result = vc.top_patches(random_vit, c, "blocks.2", channels=[0], k=3)
    assert result.layout == "tokens" and result.rf_global and "own 16×16 px patch" in result.notes[0]
    assert result.patches.shape == (1, 3, 16, 16, 3)
    for col in range(3):
        y, x = result.positions[0, col]
        assert tuple(result.boxes[0, col]) == (y * 16, x * 16, y * 16 + 16, x * 16 + 16)


def test_bad_channels_and_layers_are_clear_errors(digits: vc.LoadedModel) -> None:
    c = vc.collection("digits").subset(np.arange(10))
    with pytest.raises(vc.LayerError, match="out of range"):
        vc.top_patches(digits, c, "act3", channels=[64])
    with pytest.raises(vc.LayerError, match="no layer called"):
        vc.top_patches(digits, c, "act9")


def test_suggested_layers_see_part_of_the_image(lite0: vc.LoadedModel, digits: vc.LoadedModel, random_vit: vc.LoadedModel) -> None:
    assert vc.default_layer(lite0, "patches") == "blocks.3"
    assert vc.default_layer(digits, "patches") == "act4"
    assert vc.default_layer(random_vit, "patches").startswith("blocks.")
