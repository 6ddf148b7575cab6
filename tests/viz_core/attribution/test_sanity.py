"""Model- and data-randomisation sanity checks on tiny nets whose answers are known."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core.attribution import sanity

from . import nets

X = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(4))


def edges(m: vc.LoadedModel, x: torch.Tensor, target: vc.Target) -> np.ndarray:
    """A 'method' that is a fixed function of the input alone: the image's gradient magnitude."""
    gray = x[0].mean(0).numpy()
    gy, gx = np.gradient(gray)
    return np.hypot(gx, gy)


def test_a_map_of_the_input_alone_is_marked_insensitive_and_the_gradient_is_not() -> None:
    m = nets.tiny_cnn()
    result = vc.model_randomisation(m, X, 0, mode="cascading", methods=("vanilla",), custom={"edges": edges})
    assert result.methods == ("vanilla", "edges")
    assert result.stages == ("original", "fc", "conv2", "conv1")
    np.testing.assert_allclose(result.spearman_abs[:, 1], 1.0)
    np.testing.assert_allclose(result.ssim_signed[:, 1], 1.0, atol=1e-9)
    assert "edges" in result.insensitive and "vanilla" not in result.insensitive
    assert result.verdict_stage == 2 and abs(result.spearman_abs[2, 0]) < result.threshold
    assert result.spearman_abs[0, 0] == pytest.approx(1.0)
    assert any("edges" in note and "insensitive" in note for note in result.notes)
    rows = {row["method"]: row for row in result.table()}
    assert rows["edges"]["insensitive"] and not rows["vanilla"]["insensitive"]


def test_the_shared_model_is_never_changed() -> None:
    m = nets.tiny_cnn()
    before = {k: v.clone() for k, v in m.model.state_dict().items()}
    for mode in sanity.MODES:
        vc.model_randomisation(m, X, 1, mode=mode, methods=("vanilla", "guided", "grad_cam", "occlusion"))
    assert all(torch.equal(before[k], v) for k, v in m.model.state_dict().items())
    assert all(p.grad is None and not p.requires_grad for p in m.model.parameters())
    copy = sanity.private_copy(m)
    sanity.randomise(copy.model, [name for _, names in sanity.layer_groups(copy.model) for name in names], seed=0)
    assert all(torch.equal(before[k], v) for k, v in m.model.state_dict().items())
    assert not torch.equal(dict(copy.model.named_parameters())["fc.weight"], before["fc.weight"])


def test_full_and_top_half_equal_their_cascading_stages_and_independent_the_first() -> None:
    m = nets.tiny_cnn()
    methods = ("vanilla", "guided", "deconvnet", "saliency")
    cascading = vc.model_randomisation(m, X, 2, mode="cascading", methods=methods, seed=5)
    full = vc.model_randomisation(m, X, 2, mode="full", methods=methods, seed=5)
    half = vc.model_randomisation(m, X, 2, mode="top_half", methods=methods, seed=5)
    independent = vc.model_randomisation(m, X, 2, mode="independent", methods=methods, seed=5)
    np.testing.assert_allclose(full.spearman_abs[-1], cascading.spearman_abs[-1])
    np.testing.assert_allclose(full.maps[-1], cascading.maps[-1])
    assert cascading.verdict_stage == 2 and half.stages[1] == "top 2 of 3 groups (down to conv2)"  # 3 groups: fc, conv2, conv1
    np.testing.assert_allclose(half.maps[1], cascading.maps[2])
    np.testing.assert_allclose(half.spearman_abs[1], cascading.spearman_abs[2])
    np.testing.assert_allclose(independent.maps[1], cascading.maps[1])  # both: only the classifier random
    assert independent.stages == cascading.stages and independent.insensitive == () and independent.verdict_stage is None
    assert full.stages == ("original", "all layers")
    other_seed = vc.model_randomisation(m, X, 2, mode="full", methods=methods, seed=6)
    assert not np.allclose(other_seed.maps[-1], full.maps[-1])


def test_randomised_weights_keep_each_tensors_scale() -> None:
    m = nets.tiny_cnn()
    copy = sanity.private_copy(m)
    original = dict(m.model.named_parameters())["conv2.weight"]
    sanity.randomise(copy.model, ["conv2.weight"], seed=0)
    drawn = dict(copy.model.named_parameters())["conv2.weight"]
    assert float(drawn.std()) == pytest.approx(float(original.std()), rel=0.2)
    assert abs(float(np.corrcoef(drawn.ravel(), original.ravel())[0, 1])) < 0.3


def test_layer_groups_follow_the_forward_order_and_keep_norms_with_their_conv() -> None:
    model = nn.Sequential()
    model.add_module("stem", nn.Conv2d(3, 4, 3))
    model.add_module("bn", nn.BatchNorm2d(4))
    model.add_module("act", nn.ReLU())
    model.add_module("blocks", nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1)))
    model.add_module("head", nn.Linear(4, 2))
    groups = vc.layer_groups(model)
    assert [label for label, _ in groups] == ["stem+bn", "blocks.0", "blocks.1", "head"]
    assert groups[0][1] == ("stem.weight", "stem.bias", "bn.weight", "bn.bias")
    assert [label for label, _ in vc.layer_groups(nets.tiny_cnn().model)] == ["conv1", "conv2", "fc"]


def test_a_module_shared_by_two_paths_is_randomised_once_under_its_own_name() -> None:
    """CoaT reaches each stage's position encoding both as `cpe4` and as `serial_blocks4.1.cpe`;
    named_parameters() names it once, and so must the groups."""
    shared = nn.Conv2d(4, 4, 1)
    model = nn.Sequential()
    model.add_module("stem", nn.Conv2d(3, 4, 3))
    model.add_module("cpe", shared)
    model.add_module("blocks", nn.Sequential(nn.Sequential(shared, nn.ReLU()), nn.Conv2d(4, 4, 1)))
    model.add_module("pool", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)))
    groups = vc.layer_groups(model)
    assert [label for label, _ in groups] == ["stem", "cpe", "blocks.1", "pool.2"]
    names = [name for _, group in groups for name in group]
    assert sorted(names) == sorted(name for name, _ in model.named_parameters())
    m = vc.LoadedModel.from_module(model, data_config={**nets.PLAIN, "input_size": (3, 16, 16), "mean": (0.0,) * 3, "std": (1.0,) * 3}, class_names=["a", "b"])
    assert vc.model_randomisation(m, X, 1, methods=("vanilla",)).stages == ("original", "pool.2", "blocks.1", "cpe", "stem")


def test_similarities_of_constant_maps_are_undefined_not_similar() -> None:
    assert np.isnan(sanity.spearman(np.zeros((8, 8)), np.random.default_rng(0).normal(size=(8, 8))))
    assert np.isnan(sanity.ssim(np.zeros((8, 8)), np.ones((8, 8)), signed=False))
    a = np.random.default_rng(1).normal(size=(9, 9))
    assert sanity.spearman(a, 2 * a + 1) == pytest.approx(1.0) and sanity.ssim(a, 3 * a, signed=True) == pytest.approx(1.0)
    assert sanity.spearman(a, -a) == pytest.approx(-1.0)


def test_bad_settings_say_what_is_valid() -> None:
    m = nets.tiny_cnn()
    with pytest.raises(vc.SettingsError, match="cascading"):
        vc.model_randomisation(m, X, 0, mode="sideways")
    with pytest.raises(vc.SettingsError, match="between -1 and 1"):
        vc.model_randomisation(m, X, 0, threshold=2)
    with pytest.raises(vc.SettingsError, match="Use any of"):
        vc.model_randomisation(m, X, 0, methods=("lime",))
    with pytest.raises(vc.SettingsError, match="different inputs"):
        vc.data_randomisation(m, nets.relu_net(), X, 0)


def test_the_shuffled_labels_digits_model_learned_no_digit_and_its_maps_differ() -> None:
    trained, shuffled = vc.load_model("digits_cnn"), vc.load_model("digits_cnn_shuffled")
    assert "digits_cnn_shuffled" in vc.available_models() and "shuffled" in shuffled.weights
    c = vc.collection("digits")
    held_out = np.random.default_rng(0).permutation(len(c))[: len(c) // 5]
    x = torch.cat([trained.preprocess(c.load(int(i))) for i in held_out])
    with torch.inference_mode():
        accuracy = (shuffled.model(x).argmax(1).numpy() == c.labels[held_out]).mean()
    assert accuracy < 0.2  # chance is 0.1: nothing about digits was learned
    result = vc.data_randomisation(trained, shuffled, c.load(0), int(c.labels[0]), methods=("vanilla", "saliency"), custom={"edges": edges})
    assert result.mode == "data" and result.stages == ("digits_cnn", "digits_cnn_shuffled")
    assert result.maps.shape == (2, 3, 32, 32)
    assert "edges" in result.insensitive
