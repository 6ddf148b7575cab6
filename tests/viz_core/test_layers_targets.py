"""Layer catalogue and targets: shapes are measured, targets score what they claim, bad indices explain."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

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


class _ChannelsLast(torch.nn.Module):
    """A conv whose output is handed on as (B, H, W, C), as Swin-like stages do."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 5, 3, padding=1)
        self.stage = torch.nn.Identity()
        self.head = torch.nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nhwc = self.stage(self.conv(x).permute(0, 2, 3, 1))
        return self.head(nhwc.mean(dim=(1, 2)))


def _channels_last_model() -> vc.LoadedModel:
    config = {"input_size": (3, 12, 12), "mean": (0.5,) * 3, "std": (0.5,) * 3, "crop_pct": 1.0}
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return vc.LoadedModel.from_module(_ChannelsLast(), data_config=config, class_names=["a", "b"])


def test_geometry_views_every_layout_as_channels_at_positions() -> None:
    conv = torch.arange(2 * 3 * 2 * 4, dtype=torch.float32).view(2, 3, 2, 4)
    assert torch.equal(vc.Geometry("map").grid(conv), conv)
    assert torch.equal(vc.Geometry("map", channels_last=True).grid(conv.permute(0, 2, 3, 1)), conv)
    tokens = torch.cat([torch.full((2, 1, 3), -1.0), conv.flatten(2).transpose(1, 2)], dim=1)  # a class token, then 2x4 patches
    assert torch.equal(vc.Geometry("tokens", prefix=1, aspect=0.5).grid(tokens), conv)
    assert vc.Geometry.infer(torch.zeros(1, 17, 8)).prefix == 1  # a square 4x4 grid after one token
    assert vc.Geometry("vector").grid(torch.ones(2, 7)).shape == (2, 7, 1, 1)
    assert vc.Geometry("vector").positions(torch.ones(2, 7)).shape == (2, 7, 1)


def test_channels_last_maps_are_recognised_and_targets_read_them(generator: torch.Generator) -> None:
    m = _channels_last_model()
    info = find_layer(m.layers(), "stage")
    conv = find_layer(m.layers(), "conv")
    assert info.channels_last and not conv.channels_last
    assert info.channels == 5 and info.spatial == (12, 12) and vc.position_grid(info) == (0, 12, 12)
    x = torch.randn(1, 3, 12, 12, generator=generator)
    with torch.no_grad():
        nchw = m.model.conv(x)
    target = as_target(vc.unit("stage", 4, 2, 7), m)
    assert float(target.score(torch.zeros(1, 2), {"stage": nchw.permute(0, 2, 3, 1)})) == pytest.approx(float(nchw[0, 4, 2, 7]))
    channel_map = vc.channel_map(m, x, "stage", 4)
    assert channel_map.shape == (12, 12) and np.allclose(channel_map, nchw[0, 4].detach().numpy(), atol=1e-5)


def test_default_layers_for_each_purpose(lite0: vc.LoadedModel, random_cnn: vc.LoadedModel, random_vit: vc.LoadedModel) -> None:
    assert vc.default_layer(lite0, "grad_cam") == "bn2"
    assert vc.default_layer(lite0, "neuron") == "blocks.5" and vc.default_layer(lite0, "deepdream") == "blocks.3"
    assert lite0.stages == ("blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6")
    assert vc.default_layer(random_cnn, "grad_cam") == "layer4" and vc.default_layer(random_cnn, "neuron") == "layer3"
    assert vc.default_layer(random_vit, "grad_cam") == "blocks.11.norm1" and vc.default_layer(random_vit, "unit") == "blocks.6"
    assert vc.spread_stages(lite0, 3) == ["blocks.1", "blocks.4", "blocks.6"]
    with pytest.raises(vc.SettingsError, match="Unknown purpose"):
        vc.default_layer(lite0, "style")


def test_one_target_vocabulary(random_cnn: vc.LoadedModel) -> None:
    assert as_target(7, random_cnn) == vc.class_logit(7)  # a plain int is a logit everywhere
    for target in (vc.class_logit(3), vc.class_prob(3), vc.unit("layer2", 5), vc.unit("layer2", 5, 1, 2)):
        assert vc.from_spec(target.spec()) == target
    centre = vc.centre_unit(random_cnn, "layer2", 5)  # layer2 is an 8x8 map at 64 px
    assert (centre.y, centre.x) == (4, 4)
    with pytest.raises(vc.TargetError, match="no spatial positions"):
        vc.centre_unit(random_cnn, "fc", 0)
    with pytest.raises(vc.TargetError, match="kind"):
        vc.from_spec({"kind": "pixel"})


def test_default_layers_of_a_net_without_stage_blocks() -> None:
    """digits_cnn has no timm-style blocks: its feature_info stages stand in, in depth order."""
    m = vc.load_model("digits_cnn")
    assert vc.default_layer(m, "unit") in m.stages
    assert m.stages.index(vc.default_layer(m, "neuron")) >= m.stages.index(vc.default_layer(m, "deepdream"))


def zoo_model(name: str, size: int, **kwargs: object) -> vc.LoadedModel:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return vc.load_model(name, "random", input_size=(size, size), model_kwargs=kwargs or None)


def test_default_layers_of_nets_whose_stages_are_single_layers_or_blocks_of_branches() -> None:
    """VGG's stages are ReLUs of one `features` Sequential: its middle unit is a stage with a map,
    not the 1×1 pre-logits. Inception's blocks hold branches: its patches rank a block's units."""
    vgg = zoo_model("vgg11", 64, mlp_ratio=0.0625)
    assert vc.default_layer(vgg, "unit") == "features.14" and vc.default_layer(vgg, "neuron") == "features.19"
    assert vc.channel_map(vgg, torch.zeros(1, 3, 64, 64), vc.default_layer(vgg, "unit"), 0).shape == (8, 8)
    assert vc.default_layer(zoo_model("inception_v3", 96), "patches") == "Mixed_6a"


def test_stages_of_token_models_whose_feature_info_names_no_layer() -> None:
    """Twins and MViTv2 list `block.0`… in feature_info; the last token grid of each size stands in."""

    class Stage(nn.Module):
        def __init__(self, pool: bool) -> None:
            super().__init__()
            self.pool, self.mix = pool, nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.pool:  # 4×4 tokens -> 2×2
                x = F.avg_pool2d(x.transpose(1, 2).reshape(-1, 8, 4, 4), 2).flatten(2).transpose(1, 2)
            return self.mix(x)

    class Tokens(nn.Module):
        feature_info = [{"module": "block.0"}, {"module": "block.1"}]

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Conv2d(3, 8, 4, stride=4)
            self.stages = nn.ModuleList([Stage(False), Stage(True)])
            self.norm, self.head = nn.LayerNorm(8), nn.Linear(8, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.embed(x).flatten(2).transpose(1, 2)
            for stage in self.stages:
                x = stage(x)
            return self.head(self.norm(x).mean(1))

    config = {"input_size": (3, 16, 16), "mean": (0.5,) * 3, "std": (0.5,) * 3, "crop_pct": 1.0, "interpolation": "bilinear"}
    m = vc.LoadedModel.from_module(Tokens(), data_config=config, class_names=["a", "b"])
    assert m.stages == ("stages.0", "stages.1")
    assert vc.style_layers(m) == ("stages.0", ("stages.0", "stages.1"))
