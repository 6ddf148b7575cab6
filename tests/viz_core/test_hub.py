"""Model hub: bundled weights give the right answers offline; bad names/weights give clear messages."""
from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import viz_core as vc
from viz_core.hub import BUNDLED_WEIGHTS, _read_checkpoint, available_models


def test_bundled_default_recognises_cat_and_espresso(lite0: vc.LoadedModel) -> None:
    cat = lite0.predict(vc.sample_image("chelsea (cat)"), top_k=1)[0]
    assert cat.label.split(",")[0] in {"tabby", "tiger cat", "Egyptian cat"}
    coffee = lite0.predict(vc.sample_image("coffee (espresso)"), top_k=1)[0]
    assert coffee.label == "espresso" and coffee.probability > 0.5


def test_loaded_model_is_private_eval_frozen_not_inplace(lite0: vc.LoadedModel) -> None:
    assert not lite0.model.training
    assert not any(p.requires_grad for p in lite0.model.parameters())
    assert not any(getattr(mod, "inplace", False) is True for mod in lite0.model.modules())
    assert lite0.data_config["input_size"] == (3, 224, 224)
    assert lite0.preprocessing.mean == pytest.approx((0.485, 0.456, 0.406))
    assert lite0.num_classes == 1000 and lite0.class_names[967] == "espresso"
    assert "bundled" in lite0.weights


def test_from_module_never_changes_the_callers_module() -> None:
    user = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    user.train()
    m = vc.LoadedModel.from_module(user, data_config={"input_size": (3, 16, 16), "mean": (0.5,) * 3, "std": (0.5,) * 3})
    assert user.training and user[1].inplace and all(p.requires_grad for p in user.parameters())
    assert m.model is not user and not m.model.training and not m.model[1].inplace
    assert m.class_names == ["class 0", "class 1", "class 2"]


@pytest.mark.parametrize("name", ["resnet10t", "vit_tiny_patch16_224"])
def test_random_weight_cnn_and_vit_list_layers(name: str) -> None:
    m = vc.load_model(name, "random", input_size=(64, 64))
    layers = m.layers()
    assert m.warnings and "random" in m.warnings[0].lower()
    kinds = {info.kind for info in layers}
    assert {"conv", "norm", "linear"} <= kinds
    layouts = {info.layout for info in layers}
    assert ("tokens" if "vit" in name else "map") in layouts
    assert layers[-1].shape == (1000,)


def test_auto_weights_warn_when_random() -> None:
    m = vc.load_model("resnet10t", input_size=(32, 32))
    assert m.weights == "random initialisation" and m.warnings


def test_bundled_lite_variants_are_listed_first() -> None:
    names = available_models()
    assert names[: len(BUNDLED_WEIGHTS)] == list(BUNDLED_WEIGHTS)
    assert len(names) > 1000


def test_unknown_model_suggests_near_matches() -> None:
    with pytest.raises(vc.ModelNotFoundError) as error:
        vc.load_model("resnet5O")
    assert "resnet50" in str(error.value)
    with pytest.raises(vc.ModelNotFoundError, match="Did you mean"):
        vc.load_model("efficientnet_lite")


def test_pretrained_offline_fails_fast_with_advice() -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    started = time.perf_counter()
    with pytest.raises(vc.WeightsError, match="local file|weights="):
        vc.load_model("resnet10t", "pretrained")
    assert time.perf_counter() - started < 2.0


def test_parameter_limit_refuses_huge_models() -> None:
    with pytest.raises(vc.ModelTooLargeError, match="M parameters"):
        vc.load_model("vit_huge_patch14_224", "random")
    with pytest.raises(vc.ModelTooLargeError):
        vc.load_model("resnet10t", "random", max_params=1000)


def test_bundled_unavailable_for_other_architectures() -> None:
    with pytest.raises(vc.WeightsError, match="bundles no weights"):
        vc.load_model("resnet10t", "bundled")


def _small_state(num_classes: int = 1000) -> dict[str, torch.Tensor]:
    import timm

    return timm.create_model("resnet10t", num_classes=num_classes).state_dict()


def test_local_safetensors_and_pth_with_wrappers(tmp_path: Path) -> None:
    state = _small_state()
    save_file(state, str(tmp_path / "w.safetensors"))
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "w.pth")
    for file in ("w.safetensors", "w.pth"):
        m = vc.load_model("resnet10t", tmp_path / file, input_size=(32, 32))
        assert torch.equal(m.model.state_dict()["fc.weight"], state["fc.weight"])
        assert file in m.weights


def test_checkpoint_with_other_head_size_builds_that_head(tmp_path: Path) -> None:
    torch.save(_small_state(num_classes=7), tmp_path / "seven.pt")
    m = vc.load_model("resnet10t", tmp_path / "seven.pt", input_size=(32, 32))
    assert m.num_classes == 7 and m.class_names[6] == "class 6"
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"kind {i}" for i in range(7)))
    assert vc.load_model("resnet10t", tmp_path / "seven.pt", labels=labels).class_names[3] == "kind 3"


def test_wrong_checkpoint_counts_missing_and_unexpected(tmp_path: Path) -> None:
    state = _small_state()
    state.pop("fc.weight")
    state["extra.weight"] = torch.zeros(2)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(vc.WeightsError) as error:
        vc.load_model("resnet10t", tmp_path / "bad.pth")
    text = str(error.value)
    assert "1 missing (e.g. fc.weight)" in text and "1 unexpected (e.g. extra.weight)" in text


def test_checkpoint_needing_code_execution_is_refused(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self) -> tuple:
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    (tmp_path / "evil.pth").write_bytes(pickle.dumps({"state_dict": Payload()}))
    with pytest.raises(vc.WeightsError, match="refuses"):
        _read_checkpoint(tmp_path / "evil.pth")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [(b"", ".pth", "could not be read"), (b"not a checkpoint", ".safetensors", "could not be read"), (b"x", ".h5", "format")],
)
def test_unreadable_checkpoints(tmp_path: Path, content: bytes, suffix: str, message: str) -> None:
    path = tmp_path / f"file{suffix}"
    path.write_bytes(content)
    with pytest.raises(vc.WeightsError, match=message):
        _read_checkpoint(path)


def test_missing_checkpoint_file() -> None:
    with pytest.raises(vc.WeightsError, match="No checkpoint file"):
        vc.load_model("resnet10t", "/nonexistent/weights.pth")
