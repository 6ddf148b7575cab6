"""Layer catalogue and targets: shapes are measured, targets score what they claim, bad indices explain."""
from __future__ import annotations

import pytest
import torch

import viz_core as vc
from viz_core.layers import find_layer, token_grid
from viz_core.targets import as_target


def test_catalogue_of_the_default_model(lite0: vc.LoadedModel) -> None:
    layers = lite0.layers()
    stem = find_layer(layers, "conv_stem")
    assert stem.kind == "conv" and stem.shape == (32, 112, 112) and stem.layout == "map" and stem.spatial == (112, 112)
    assert find_layer(layers, "bn1.act").kind == "activation"
    assert find_layer(layers, "blocks").kind == "block"
    assert find_layer(layers, "classifier").shape == (1000,) and find_layer(layers, "classifier").layout == "vector"
    assert sum(info.type_name == "ReLU6" for info in layers) == 33
    with pytest.raises(vc.LayerError, match="conv_stem"):
        find_layer(layers, "conv_stm")


def test_token_layers_of_a_vit(random_vit: vc.LoadedModel) -> None:
    block = find_layer(random_vit.layers(), "blocks.3")
    assert block.layout == "tokens" and block.shape == (17, 192) and block.channels == 192
    assert token_grid(17) == (1, 4, 4) and token_grid(196) == (0, 14, 14) and token_grid(201) == (5, 14, 14)
    with pytest.raises(vc.LayerError):
        token_grid(3000)


def test_unit_scores(random_vit: vc.LoadedModel) -> None:
    maps = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)
    assert torch.equal(vc.unit("a", 1, 2, 3).score(None, {"a": maps}), maps[:, 1, 2, 3])  # type: ignore[arg-type]
    assert torch.allclose(vc.unit("a", 2).score(None, {"a": maps}), maps[:, 2].mean(dim=(1, 2)))  # type: ignore[arg-type]
    tokens = torch.randn(2, 17, 8)
    assert torch.equal(vc.unit("t", 5, 1, 2).score(None, {"t": tokens}), tokens[:, 1 + 1 * 4 + 2, 5])  # type: ignore[arg-type]
    assert torch.allclose(vc.unit("t", 5).score(None, {"t": tokens}), tokens[:, 1:, 5].mean(dim=1))  # type: ignore[arg-type]
    logits = torch.randn(2, 10)
    assert torch.allclose(vc.class_prob(3).score(logits, {}), torch.softmax(logits, -1)[:, 3])


def test_targets_validate_with_clear_messages(lite0: vc.LoadedModel) -> None:
    assert as_target(281, lite0) == vc.class_logit(281)
    with pytest.raises(vc.TargetError, match="0..999"):
        as_target(1000, lite0)
    with pytest.raises(vc.TargetError, match="0..31"):
        as_target(vc.unit("conv_stem", 32), lite0)
    with pytest.raises(vc.TargetError, match="outside the 112x112"):
        as_target(vc.unit("conv_stem", 0, 200, 3), lite0)
    with pytest.raises(vc.TargetError, match="no spatial positions"):
        as_target(vc.unit("classifier", 0, 1, 1), lite0)
    with pytest.raises(vc.LayerError, match="no layer"):
        as_target(vc.unit("nope", 0), lite0)
    with pytest.raises(vc.TargetError):
        as_target(True, lite0)
