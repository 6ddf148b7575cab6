"""device="auto": CUDA, else MPS, else CPU; every engine keeps its tensors on the model's device.

The CPU is the tested default. The engine check runs on every device this machine has (so on a
GPU machine it runs there too): a tensor left on the wrong device is a torch error, so a clean
run of each engine with the model on that device is the check.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (["mps"] if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else [])


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert vc.resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert vc.resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert vc.resolve_device("auto") == torch.device("cpu")
    assert vc.resolve_device(" CPU ") == torch.device("cpu")


def test_unusable_devices_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(vc.WeightsError, match="no CUDA GPU"):
        vc.resolve_device("cuda")
    with pytest.raises(vc.WeightsError, match="not a device torch knows"):
        vc.resolve_device("gpu please")
    with pytest.raises(vc.WeightsError, match="not 'meta'"):
        vc.resolve_device("meta")
    with pytest.raises(vc.WeightsError, match="no CUDA GPU"):
        vc.load_model("digits_cnn", device="cuda")


@pytest.fixture(scope="module", params=DEVICES)
def digits_on(request: pytest.FixtureRequest) -> vc.LoadedModel:
    return vc.load_model("digits_cnn", device=request.param)


def test_engines_keep_tensors_on_the_models_device(digits_on: vc.LoadedModel) -> None:
    m = digits_on
    assert m.device.type == next(m.model.parameters()).device.type
    image = vc.collection("digits").load(3)
    assert m.preprocess(image).device.type == m.device.type
    assert m.predict(image)[0].label == "3"
    assert np.isfinite(vc.backprop(m, image, 3, rule="guided").attribution).all()
    assert np.isfinite(vc.grad_cam(m, image, 3).upsampled).all()
    assert np.isfinite(vc.smoothgrad(m, image, 3, samples=2).attribution).all()
    assert np.isfinite(vc.integrated_gradients(m, image, 3, steps=4).attribution).all()
    assert np.isfinite(vc.occlusion(m, image, vc.class_prob(3), patch=16, stride=16).score).all()
    assert vc.contrast(m, image, 3, 8).predicted == 3
    subset = vc.collection("digits").subset(np.arange(40))
    assert vc.evaluate(m, subset, batch_size=16).top1.n == 40
    assert vc.features(m, subset).values.shape == (40, 64)
    assert vc.top_patches(m, subset, "act3", channels=[0], k=2).params["layer"] == "act3"
    assert vc.class_model(m, 3, steps=2).image.shape[-1] == 3


def test_auto_loads_where_torch_says(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = vc.resolve_device("auto")
    assert vc.load_model("digits_cnn", device="auto").device.type == expected.type
