"""The digits demo: loads offline, looks like a timm model, and is as accurate as its script says."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

import viz_core as vc
from viz_core.demo_models import DigitsCNN


def test_loads_as_a_demo_with_its_default_collection() -> None:
    m = vc.load_model("digits_cnn")
    assert "digits_cnn" in vc.available_models()
    assert m.input_size == (1, 32, 32) and m.class_names == [str(d) for d in range(10)]
    assert m.default_collection == "digits" and "digits_cnn.safetensors" in m.weights
    assert not m.model.training and all(not p.requires_grad for p in m.model.parameters())
    shapes = {info.path: info.shape for info in m.layers()}
    assert shapes["act1"] == (16, 32, 32) and shapes["act4"] == (64, 8, 8) and shapes["fc"] == (10,)
    assert {type(mod) for mod in m.model.modules()} >= {nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Linear}


def test_timm_like_interface() -> None:
    model = DigitsCNN().eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        trunk = model.forward_features(x)
        assert trunk.shape == (2, 64, 8, 8)
        assert model.forward_head(trunk, pre_logits=True).shape == (2, 64)
        torch.testing.assert_close(model.forward_head(trunk), model(x))
    assert model.num_classes == 10


def test_held_out_accuracy_of_the_committed_checkpoint() -> None:
    """The same 20 % split as scripts/train_digits.py (seed 0), never trained on."""
    m = vc.load_model("digits_cnn")
    c = vc.collection("digits")
    held_out = np.random.default_rng(0).permutation(len(c))[: len(c) // 5]
    x = torch.cat([m.preprocess(c.load(int(i))) for i in held_out])
    with torch.inference_mode():
        predicted = m.model(x).argmax(1).numpy()
    assert (predicted == c.labels[held_out]).mean() >= 0.97


def test_photos_are_converted_to_gray() -> None:
    m = vc.load_model("digits_cnn")
    x = m.preprocess(vc.sample_image("coffee (espresso)"))
    assert x.shape == (1, 1, 32, 32)
    assert len(m.predict(vc.sample_image("coffee (espresso)"), top_k=3)) == 3
