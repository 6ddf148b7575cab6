"""Models without a classifier head (timm num_classes=0): they load, class-based methods say why
not, and everything that explains or maximises a unit of a layer works."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc

HEADLESS = "no classifier head"


@pytest.fixture(scope="module")
def backbone() -> vc.LoadedModel:
    """A ViT without its head, at 64 px: its output is the 192-dimensional pooled feature."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return vc.load_model("vit_tiny_patch16_224", "random", input_size=(64, 64), model_kwargs={"num_classes": 0})


@pytest.fixture(scope="module")
def image() -> object:
    return vc.sample_image("chelsea (cat)")


def test_it_loads_with_no_classes_and_a_feature_output(backbone: vc.LoadedModel) -> None:
    assert backbone.num_classes == 0 and backbone.class_names == []
    assert backbone.output_shape == (192,)


def test_predict_says_there_is_no_classifier_head(backbone: vc.LoadedModel, image: object) -> None:
    with pytest.raises(vc.TargetError, match=HEADLESS):
        backbone.predict(image)


@pytest.mark.parametrize(
    "method",
    [
        lambda m, img: vc.backprop(m, img, 1),
        lambda m, img: vc.grad_cam(m, img, vc.class_prob(0)),
        lambda m, img: vc.occlusion(m, img, 0, patch=32, stride=32),
        lambda m, img: vc.integrated_gradients(m, img, 0, steps=2),
        lambda m, img: vc.class_model(m, 3, steps=1),
        lambda m, img: vc.adversarial(m, img, None, steps=1),
        lambda m, img: vc.fgsm(m, img, None),
        lambda m, img: vc.gradient_attention(m, img, 0),
    ],
    ids=["backprop", "grad_cam", "occlusion", "integrated_gradients", "class_model", "adversarial", "fgsm", "gradient_attention"],
)
def test_class_based_methods_say_why_not(backbone: vc.LoadedModel, image: object, method) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(vc.TargetError, match=HEADLESS) as error:
        method(backbone, image)
    assert "0 classes" not in str(error.value) and "Explain or maximise a unit" in error.value.hint


def test_unit_methods_work(backbone: vc.LoadedModel, image: object) -> None:
    layer = vc.default_layer(backbone, "unit")
    target = vc.unit(layer, 3)
    assert np.abs(vc.backprop(backbone, image, target).attribution).sum() > 0
    assert vc.grad_cam(backbone, image, target).map.shape == (4, 4)
    occluded = vc.occlusion(backbone, image, target, patch=32, stride=32)
    assert (occluded.winner == -1).all() and occluded.class_names == {} and HEADLESS in occluded.notes[0]
    assert "no winning class" in vc.figures.figure(occluded, winner=True).layout.title.text
    assert vc.neuron(backbone, target, steps=2).image.shape == (64, 64, 3)
    inverted = vc.invert(backbone, image, steps=2)  # the penultimate code: the output itself
    assert inverted.image.shape == (64, 64, 3) and set(inverted.metrics) == {"relative_distance"}  # no class to compare
    assert vc.deepdream(backbone, image, layer, steps=1).image.shape == (64, 64, 3)
    assert vc.style_transfer(backbone, image, image, steps=1).image.shape == (64, 64, 3)
    assert vc.filters(backbone, vc.filter_layers(backbone)[0]).mode == "rgb"
    rollout = vc.attention_rollout(backbone, image)
    assert rollout.map.shape == (4, 4) and rollout.target == ""
    assert vc.gradient_attention(backbone, image, target).score is not None


def test_dataset_passes_work_without_predictions(backbone: vc.LoadedModel) -> None:
    c = vc.collection("digits")
    features = vc.features(backbone, c, limit=6)
    assert features.values.shape == (6, 192) and (features.predicted == -1).all() and HEADLESS in features.notes[0]
    patches = vc.top_patches(backbone, c.sample(8, 0)[0], vc.default_layer(backbone, "patches"), n_channels=2, k=2)
    assert patches.values.shape == (2, 2)
