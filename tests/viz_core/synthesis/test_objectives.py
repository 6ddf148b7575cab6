"""Objectives: closed-form values on hand-built inputs, the algebra, and "the score improves"."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.hooks import count_hooks
from viz_core.synthesis import PENULTIMATE, optimize_image, pixels
from viz_core.synthesis.engine import reference_activations
from viz_core.synthesis import objectives as O


def _probe(act: torch.Tensor | None = None, logits: torch.Tensor | None = None, image01: torch.Tensor | None = None) -> O.Probe:
    image = image01 if image01 is not None else torch.full((1, 3, 4, 4), 0.5)
    return O.Probe(logits if logits is not None else torch.zeros(1, 3), {"L": act} if act is not None else {}, image, image)


def test_gram_matrix_is_channel_correlation_over_positions() -> None:
    act = torch.arange(2 * 2 * 3, dtype=torch.float32).view(1, 2, 2, 3)
    flat = act.view(2, 6).numpy()
    assert np.allclose(O.gram(act)[0].numpy(), flat @ flat.T / 6)
    tokens = torch.randn(1, 5, 3)  # 1 class token + a 2x2 grid
    patches = tokens[0, 1:].numpy()
    assert np.allclose(O.gram(tokens)[0].numpy(), patches.T @ patches / 4, atol=1e-5)


def test_total_variation_counts_one_edge() -> None:
    image = torch.zeros(1, 3, 4, 4)
    image[..., 2:] = 1.0  # a vertical edge between columns 1 and 2
    # (dx² + dy²) is 1 on the 3x3 grid's middle column only: 3 of 9 cells, for each of 3 colours
    assert float(O.total_variation(2.0).score(_probe(image01=image))) == pytest.approx(3 / 9, abs=1e-6)
    assert float(O.total_variation(1.0).score(_probe(image01=image))) == pytest.approx(3 / 9, abs=1e-3)


def test_priors_and_matches_have_known_values() -> None:
    image = torch.full((1, 3, 2, 2), 0.5)
    image[0, 0, 0, 0] = 1.0
    assert float(O.l2().score(_probe(image01=image))) == pytest.approx(0.25 / 12)
    assert float(O.alpha_norm(4).score(_probe(image01=image))) == pytest.approx(0.0625 / 12)
    act = torch.tensor([[3.0, 4.0]])
    assert float(O.feature_match("L", torch.zeros(1, 2), relative=False).score(_probe(act))) == pytest.approx(-25 / 2)
    assert float(O.feature_match("L", torch.tensor([[3.0, 0.0]])).score(_probe(act))) == pytest.approx(-16 / 9)
    assert float(O.layer_norm("L").score(_probe(act))) == pytest.approx(0.5 * 25 / 2)
    assert float(O.gram_match("L", O.gram(act)).score(_probe(act))) == 0.0


def test_channel_neuron_and_class_scores_read_the_right_numbers() -> None:
    act = torch.arange(2 * 3 * 3, dtype=torch.float32).view(1, 2, 3, 3)
    assert float(O.target(vc.unit("L", 1)).score(_probe(act))) == pytest.approx(13.0)
    assert float(O.target(vc.unit("L", 1, 1, 1)).score(_probe(act))) == 13.0  # centre (1, 1)
    assert float(O.target(vc.unit("L", 0, 0, 2)).score(_probe(act))) == 2.0
    tokens = torch.arange(5 * 2, dtype=torch.float32).view(1, 5, 2)  # class token + 2x2 grid
    assert float(O.target(vc.unit("L", 1)).score(_probe(tokens))) == pytest.approx((3 + 5 + 7 + 9) / 4)
    assert float(O.target(vc.unit("L", 0, 1, 0)).score(_probe(tokens))) == 6.0  # token 1 + 1*2 + 0
    assert float(O.target(2).score(_probe(logits=torch.tensor([[0.0, 1.0, 7.0]])))) == 7.0  # a plain int is a logit
    logits = torch.tensor([[0.0, np.log(3.0), 0.0]])
    assert float(O.target(vc.class_logit(1)).score(_probe(logits=logits))) == pytest.approx(np.log(3.0))
    assert float(O.target(vc.class_prob(1)).score(_probe(logits=logits))) == pytest.approx(0.6)


def test_algebra_composes_scores_and_layers() -> None:
    act = torch.tensor([[3.0, 4.0]])
    logits = torch.tensor([[1.0, 2.0, 5.0]])
    probe = O.Probe(logits, {"L": act, "M": act * 2}, torch.full((1, 3, 2, 2), 0.5), torch.zeros(1, 3, 2, 2))
    combined = 2 * O.target(vc.class_logit(2)) - O.target(vc.unit("L", 0)) + O.target(vc.unit("M", 1)) / 4 + 1.0
    assert float(combined.score(probe)) == pytest.approx(2 * 5 - 3 + 8 / 4 + 1)
    assert combined.layers == ("L", "M")
    assert float((-O.target(vc.class_logit(0))).score(probe)) == -1.0
    assert float((3.0 - O.target(vc.class_logit(1))).score(probe)) == 1.0


def test_layer_norm_gradient_is_the_activation(tiny: vc.LoadedModel) -> None:
    # DeepDream's definition: d/d act of 0.5 * mean(act²) is act / N
    act = torch.randn(1, 2, 3, 3, requires_grad=True)
    (grad,) = torch.autograd.grad(O.layer_norm("L").score(_probe(act)).sum(), [act])
    assert torch.allclose(grad, act.detach() / act.numel())


def _objectives(m: vc.LoadedModel, layer: str) -> dict[str, O.Objective]:
    image = np.random.default_rng(1).uniform(0, 1, (*m.input_size[1:], 3)).astype(np.float32)
    refs = reference_activations(m, image, [layer, PENULTIMATE])
    return {
        "class_logit": O.target(vc.class_logit(3)),
        "class_prob": O.target(vc.class_prob(3)),
        "channel": O.target(vc.unit(layer, 2)),
        "neuron": O.target(vc.centre_unit(m, layer, 2)),
        "layer_norm": O.layer_norm(layer),
        "feature_match": O.feature_match(layer, refs[layer]),
        "penultimate_match": O.feature_match(PENULTIMATE, refs[PENULTIMATE]),
        "gram_match": O.gram_match(layer, O.gram(refs[layer])),
        "total_variation": O.total_variation(),
        "alpha_norm": O.alpha_norm(),
        "l2": O.l2(),
        "composite": O.target(vc.unit(layer, 2)) - 0.5 * O.total_variation() - O.l2(),
    }


@pytest.mark.parametrize("model_name,layer", [("random_cnn", "layer3.0.conv2"), ("random_vit", "blocks.6")])
def test_every_objective_improves_within_ten_steps(model_name: str, layer: str, request: pytest.FixtureRequest) -> None:
    m: vc.LoadedModel = request.getfixturevalue(model_name)
    for name, objective in _objectives(m, layer).items():
        for param_kind in ("pixels", "fourier") if name in ("class_logit", "composite") else ("pixels",):
            gen = torch.Generator().manual_seed(0)
            param = pixels(m.input_size[1:], sd=0.1, generator=gen) if param_kind == "pixels" else None
            result = optimize_image(m, objective, param, steps=10, lr=0.02, seed=gen, preview_every=0)
            first, last = result.scores[:2].mean(), result.scores[-2:].mean()
            assert last > first, f"{name} ({param_kind}) did not improve on {m.name}: {result.scores}"
    assert count_hooks(m.model) == 0
    assert all(p.grad is None for p in m.model.parameters())
