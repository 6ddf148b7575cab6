"""Any input size: timm rebuilds what it can for the size, and what cannot run there says which
sizes it accepts; the penultimate code is read on models whose classifier is several heads."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core.layers import classifier_paths, fixed_input_size, size_failure, smaller_sizes
from viz_core.synthesis.engine import recording
from viz_core.synthesis.objectives import PENULTIMATE


def load(name: str, size: tuple[int, int] | None, **kwargs: object) -> vc.LoadedModel:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return vc.load_model(name, "random", input_size=size, model_kwargs=kwargs or None)


@pytest.mark.parametrize(
    ("name", "kwargs", "rebuilt"),
    [
        ("mixer_s16_224", {}, True),  # "Input height (96) doesn't match model (224)" unless rebuilt
        ("vit_tiny_patch16_224", {"depth": 1}, True),
        ("resnet18", {}, False),  # runs at any size as it is
        ("tiny_vit_5m_224", {"depths": (1, 1, 1, 1)}, False),  # timm cannot rebuild it (no img_size), but it runs at 96
    ],
)
def test_a_model_runs_at_the_size_asked_for(name: str, kwargs: dict, rebuilt: bool) -> None:
    m = load(name, (96, 96), **kwargs)
    assert m.input_size == (3, 96, 96)
    with torch.inference_mode():
        assert m.model(torch.zeros(1, 3, 96, 96)).shape == (1, m.num_classes)
    if rebuilt:  # the patch embedding (a mixer's stem) was built for the size
        embed = getattr(m.model, "patch_embed", None) or m.model.stem
        assert tuple(embed.img_size) == (96, 96)


def test_an_architecture_that_cannot_run_at_the_size_names_the_sizes_it_accepts() -> None:
    with pytest.raises(vc.SettingsError) as error:
        load("efficientformer_l1", (128, 128))
    assert "efficientformer_l1 cannot run at 128×128 pixels" in error.value.message
    assert "224×224 (its native size)" in error.value.hint


def test_options_timm_refuses_are_a_settings_error() -> None:
    with pytest.raises(vc.SettingsError, match="timm cannot build mixer_s16_224 with model_kwargs"):
        load("mixer_s16_224", (96, 96), num_blocks=1)  # the variant sets num_blocks itself
    for size in ((64, 64), None):  # NextViT's constructor trips on one block per stage: IndexError
        with pytest.raises(vc.SettingsError, match="timm cannot build nextvit_small with model_kwargs .*IndexError"):
            load("nextvit_small", size, depths=(1, 1, 1, 1))


def test_size_failures_are_read_from_the_meta_device_and_confirmed_for_real() -> None:
    class FixedGrid(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[-1] % 32 == 0, f"width ({x.shape[-1]}) must be divisible by 32"
            return x.mean(dim=(2, 3))

    assert size_failure(FixedGrid(), (64, 64)) is None
    assert size_failure(FixedGrid(), (64, 70)) == "AssertionError: width (70) must be divisible by 32"


def test_the_penultimate_code_of_a_model_with_one_head_per_branch() -> None:
    """CrossViT's forward_head averages two heads, one per branch: its code is both heads' inputs."""
    m = load("crossvit_tiny_240", None, depth=((1, 1, 0),) * 1)
    assert classifier_paths(m.model) == ("head.0", "head.1")
    x = m.preprocess(vc.sample_image("chelsea (cat)"))
    with torch.inference_mode(), recording(m.model, [PENULTIMATE]) as store:
        m.model(x)
        expected = m.model.forward_head(m.model.forward_features(x), pre_logits=True)
    torch.testing.assert_close(store[PENULTIMATE], expected)
    result = vc.invert(m, vc.sample_image("chelsea (cat)"), steps=2)
    assert result.params["layer"] == "penultimate" and result.metrics["relative_distance"] > 0


def test_distilled_heads_join_their_inputs() -> None:
    m = load("deit_tiny_distilled_patch16_224", (64, 64), depth=1)
    assert classifier_paths(m.model) == ("head", "head_dist")
    x = m.preprocess(vc.sample_image("chelsea (cat)"))
    with torch.inference_mode(), recording(m.model, [PENULTIMATE]) as store:
        m.model(x)
        tokens = m.model.forward_features(x)
    torch.testing.assert_close(store[PENULTIMATE], torch.cat([tokens[:, 0], tokens[:, 1]], dim=1))


def test_a_classifier_that_never_runs_is_a_clear_message() -> None:
    class Skips(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4, 2)

        def get_classifier(self) -> nn.Module:
            return self.fc

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x).mean(dim=(2, 3))[:, :2]  # the head is never called

    m = vc.LoadedModel.from_module(Skips(), data_config={"input_size": (3, 32, 32), "mean": (0.5,) * 3, "std": (0.5,) * 3, "crop_pct": 1.0, "interpolation": "bilinear"}, class_names=["a", "b"])
    with pytest.raises(vc.LayerError, match="did not run on its input"):
        vc.invert(m, vc.sample_image("chelsea (cat)"), steps=1)


def test_a_model_that_runs_only_at_its_own_size_is_measured_fixed_and_synthesis_keeps_that_size() -> None:
    """No patch embedding, yet 48 px crops of a 64 px picture fail (branches fused at multiples of
    32, as in HRNet and DLA): the model is fixed, so class models show it whole pictures."""

    class Multiples(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[-1] % 32 == 0, f"width ({x.shape[-1]}) must be divisible by 32"
            return self.fc(self.conv(x).mean(dim=(2, 3)))

    config = {"input_size": (3, 64, 64), "mean": (0.5,) * 3, "std": (0.5,) * 3, "crop_pct": 1.0, "interpolation": "bilinear"}
    m = vc.LoadedModel.from_module(Multiples(), data_config=config, class_names=["a", "b"])
    assert smaller_sizes((64, 64)) == [(48, 48), (46, 46), (33, 33)]
    assert fixed_input_size(m.model) and not fixed_input_size(load("resnet10t", (64, 64)).model)
    assert vc.class_model(m, 1, steps=1, batch=1).image.shape == (64, 64, 3)
