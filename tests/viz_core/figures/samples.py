"""Small results built by hand (numpy only), one per drawable kind, for the figure tests.

Why by hand: a figure test checks what is drawn from given numbers, so it needs no model and
its expectations can be read off the arrays below.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from viz_core import results as R
from viz_core.dataset.patches import ReceptiveField

H, W = 6, 8  # a picture that is wider than tall, so a lost aspect ratio shows


def picture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def attribution(rule: str = "guided", applied: int = 3) -> R.Attribution:
    values = np.zeros((3, H, W), np.float32)
    values[0, 1, 2], values[1, 4, 5] = 2.0, -0.5
    return R.Attribution(method=rule, attribution=values, image=picture(), target="class 1 'cat' (logit)", score=4.0, rule=rule, rule_applied=applied)


def grad_cam() -> R.GradCam:
    cam = np.array([[0.0, 1.0], [2.0, 0.5]], np.float32)
    return R.GradCam(map=cam, upsampled=cam.repeat(3, axis=0).repeat(4, axis=1), weights=np.ones(4, np.float32), image=picture(), layer="blocks.5", target="class 1 'cat' (logit)", score=4.0)


def occlusion() -> R.OcclusionMap:
    return R.OcclusionMap(
        score=np.array([[0.9, 0.2], [0.8, 0.95]]),
        winner=np.array([[1, 7], [1, 1]]),
        winner_probability=np.array([[0.9, 0.6], [0.8, 0.95]]),
        centers_y=np.array([1.5, 4.5]),
        centers_x=np.array([2.0, 6.0]),
        base_score=0.9,
        base_winner=1,
        class_names={1: "cat", 7: "dog"},
        image=picture(),
        target="class 1 'cat' (probability)",
        params={"method": "occlusion", "patch": 3, "stride": 3, "fill": "blur"},
    )


def segmentation() -> R.Segmentation:
    saliency = np.linspace(0, 2, H * W).reshape(H, W)
    seeds = np.where(saliency > 1.5, 1, np.where(saliency < 0.5, 0, 2)).astype(np.uint8)
    return R.Segmentation(mask=saliency > 1.0, seeds=seeds, saliency=saliency, image=picture(), foreground_share=0.5)


def synthesis() -> R.Synthesis:
    return R.Synthesis(
        image=picture(1), final_image=picture(2), scores=np.array([0.0, 2.0, 1.5]), best_step=1, stopped_early=False, seconds=0.1,
        params={"objective": "logit[1]", "settings": {"param": "fourier"}, "class_name": "tabby, tabby cat"}, metrics={"probability": 0.9},
    )


def adversarial() -> R.Adversarial:
    change = np.zeros((H, W, 3), np.float32)
    change[0, 0] = 4 / 255
    change[1, 1] = -4 / 255
    return R.Adversarial(
        original=picture(), image=picture(3), final_image=picture(3), best_step=1, stopped_early=True, perturbation=change,
        probs_before=np.array([0.1, 0.8, 0.1]), probs_after=np.array([0.05, 0.15, 0.8]), probs_8bit=np.array([0.05, 0.15, 0.8]),
        label=1, target_class=2, target="class 2 'dog'", method="pgd", norm="linf", eps=8 / 255, step_size=1 / 255,
        scores=np.array([-2.0, -0.2]), linear_gain=3.0, success=True, seconds=0.1, params={},
    )


def attack_sweep() -> R.AttackSweep:
    success = np.array([[False, True, True], [False, False, True]])
    return R.AttackSweep(
        epsilons=np.array([1, 2, 4]) / 255, names=("a.jpg", "b.jpg"), success=success, goal_prob=success * 0.9,
        predicted=np.zeros((2, 3), int), labels=np.array([1, 2]), target_class=None, target="untargeted", norm="linf", steps=5, seconds=0.1, params={},
    )


def style_transfer() -> R.StyleTransfer:
    losses = np.array([1.0, 0.5, 0.2])
    return R.StyleTransfer(
        image=picture(1), final_image=picture(1), scores=-losses, best_step=2, content=picture(2), style=picture(3), content_loss=losses, style_loss=losses, tv_loss=losses,
        content_layer="blocks.4", style_layers=("blocks.1", "blocks.2"), metrics={"style_drop": 0.8}, stopped_early=False, seconds=0.1, params={},
    )


def filters(mode: str = "kernels") -> R.Filters:
    rng = np.random.default_rng(0)
    return R.Filters(
        layer="conv", mode=mode, tiles=rng.integers(0, 256, (5, 3, 3, 3), dtype=np.uint8), kernels=rng.uniform(-1, 1, (4, 2, 3, 3)),
        weight_shape=(4, 2, 3, 3) if mode == "kernels" else (8, 3, 3, 3), scale="shared", shown=(4, 2) if mode == "kernels" else (5, 3),
    )


def top_patches() -> R.TopPatches:
    channels, k, h, w = 2, 3, 4, 5
    return R.TopPatches(
        layer="act4", channels=np.array([7, 3]), values=np.arange(6.0).reshape(2, 3)[:, ::-1], image_indices=np.arange(6).reshape(2, 3),
        positions=np.zeros((2, 3, 2), int), boxes=np.tile([0, 0, h, w], (2, 3, 1)),
        patches=np.random.default_rng(0).integers(0, 256, (channels, k, h, w, 3), dtype=np.uint8),
        image_names=np.full((2, 3), "x.png"), image_labels=np.full((2, 3), "cat"), channel_variance=np.ones(2),
        rf_size=(h, w), rf_box=(0, 0, h, w), rf_gradient=np.ones((H, W)), rf_global=False, layout="map", grid=(2, 2), k=k,
        collection="demo", collection_digest="0", images_seen=6, skipped=(),
    )


def receptive_field() -> ReceptiveField:
    gradient = np.zeros((H, W))
    gradient[1:4, 2:6] = 0.5
    gradient[2, 3] = 1.0
    return ReceptiveField(layer="act2", grid=(3, 4), centre=(1, 2), box=(1, 2, 4, 6), stride=(2.0, 2.0), gradient=gradient, is_global=False)


def projection() -> R.Projection:
    return R.Projection(coords=np.random.default_rng(0).normal(size=(12, 2)).astype(np.float32), method="tsne", params={}, seconds=0.1)


def linear_fooling() -> R.LinearFooling:
    x, w, eps = np.array([1.0, -1.0, 0.5]), np.array([0.5, 2.0, -1.0]), 0.1
    delta = eps * np.sign(w)
    return R.LinearFooling(x=x, w=w, b=0.0, eps=eps, delta=delta, x_adv=x + delta, score_before=-2.0, score_after=-1.65, prob_before=0.12, prob_after=0.16, predicted_gain=0.35)


def digits_fooling() -> R.DigitsFooling:
    rng = np.random.default_rng(0)
    change = np.zeros((8, 8))
    change[0, 0], change[3, 3] = 0.2, -0.1
    image = rng.uniform(size=(8, 8))
    return R.DigitsFooling(
        image=image, adversarial=np.clip(image + change, 0, 1), perturbation=change, label=3, source=3, target_class=5, eps=0.2, clip=True,
        probs_before=np.eye(10)[3], probs_after=np.eye(10)[5], predicted_gain=2.0, margin_gain=1.5,
    )


def dimension_gain() -> R.DimensionGain:
    return R.DimensionGain(dims=np.array([10, 100, 1000]), eps=1 / 255, aligned=np.array([0.03, 0.3, 3.0]), random=np.array([0.01, 0.03, 0.1]))


def faithfulness() -> R.Faithfulness:
    fractions = np.linspace(0, 1, 5)
    deletion = np.array([[0.9, 0.3, 0.2, 0.1, 0.05], [0.9, 0.7, 0.5, 0.2, 0.05]])
    insertion = np.array([[0.1, 0.6, 0.8, 0.9, 0.9], [0.1, 0.2, 0.4, 0.7, 0.9]])
    return R.Faithfulness(
        methods=("grad_cam", "vanilla"), fractions=fractions, deletion=deletion, insertion=insertion,
        random_deletion=np.array([0.9, 0.6, 0.4, 0.2, 0.05]), random_insertion=np.array([0.1, 0.3, 0.5, 0.7, 0.9]),
        maps=np.zeros((2, H, W), np.float32), image=picture(), target="class 1 'cat' (probability)", params={"patch": 1},
    )


def faithfulness_summary() -> R.FaithfulnessSummary:
    return R.FaithfulnessSummary(
        methods=("grad_cam", "vanilla"), names=("a", "b", "c"), targets=("cat", "cat", "dog"), fractions=np.linspace(0, 1, 3),
        deletion_area=np.array([[0.2, 0.4], [0.3, 0.5], [0.25, np.nan]]), insertion_area=np.array([[0.7, 0.5], [0.6, 0.4], [0.8, np.nan]]),
        random_deletion_area=np.array([0.4, 0.45, 0.5]), random_insertion_area=np.array([0.5, 0.45, 0.55]),
        mean_deletion=np.zeros((2, 3)), mean_insertion=np.zeros((2, 3)), collection="photos",
    )


def sanity() -> R.Sanity:
    rho = np.array([[1.0, 1.0], [0.9, 0.4], [0.8, 0.1]])
    return R.Sanity(
        mode="cascading", methods=("guided", "vanilla"), stages=("original", "fc", "conv1"), maps=np.random.default_rng(0).normal(size=(3, 2, H, W)).astype(np.float32),
        spearman_abs=rho, spearman_signed=rho, ssim_abs=rho, ssim_signed=rho, threshold=0.5, insensitive=("guided",), verdict_stage=1, image=picture(), target="class 1 'cat' (logit)",
    )


def attention_heads(heads: tuple[int, ...] = (0, 1, 2)) -> R.AttentionHeads:
    """Three heads over a 2×2 patch grid plus one class token: head h looks only at patch h."""
    attention = np.zeros((len(heads), 5, 5), np.float32)
    maps = np.zeros((len(heads), 2, 2), np.float32)
    for i, h in enumerate(heads):
        attention[i, :, 1 + h] = 0.75
        attention[i, :, 0] = 0.25
        maps[i].flat[h] = 0.75
    upsampled = maps.repeat(3, axis=1).repeat(4, axis=2)
    return R.AttentionHeads(
        attention=attention, maps=maps, upsampled=upsampled, prefix_share=np.full(len(heads), 0.25, np.float32), heads=heads, image=picture(),
        block="blocks.1.attn", query="class token", params={"method": "attention_maps", "block": "blocks.1.attn", "head": None},
    )


def attention_relevance(method: str = "attention_rollout") -> R.AttentionRelevance:
    relevance = np.array([[0.1, 0.4], [0.2, 0.3]], np.float32)
    params = {"method": method, "head_fusion": "max", "discard_ratio": 0.9} if method == "attention_rollout" else {"method": method, "target": {"kind": "class", "index": 1, "probability": False}}
    return R.AttentionRelevance(
        method=method, matrix=np.eye(5, dtype=np.float32), map=relevance, upsampled=relevance.repeat(3, axis=0).repeat(4, axis=1), image=picture(),
        blocks=("blocks.0.attn", "blocks.1.attn"), query="class token", target="" if method == "attention_rollout" else "class 1 'cat' (logit)",
        score=None if method == "attention_rollout" else 2.0, params=params,
    )


SAMPLES: dict[type, Callable[[], Any]] = {
    R.Attribution: attribution, R.GradCam: grad_cam, R.OcclusionMap: occlusion, R.Segmentation: segmentation,
    R.Synthesis: synthesis, R.Adversarial: adversarial, R.AttackSweep: attack_sweep, R.StyleTransfer: style_transfer,
    R.Filters: filters, R.TopPatches: top_patches, ReceptiveField: receptive_field, R.Projection: projection,
    R.LinearFooling: linear_fooling, R.DigitsFooling: digits_fooling, R.DimensionGain: dimension_gain,
    R.Faithfulness: faithfulness, R.FaithfulnessSummary: faithfulness_summary, R.Sanity: sanity,
    R.AttentionHeads: attention_heads, R.AttentionRelevance: attention_relevance,
}


def assert_image_axes(fig: Any) -> None:
    """Every panel shows an image: square pixels against its own x axis, y running down, no tick labels."""
    ys, xs = list(fig.select_yaxes()), list(fig.select_xaxes())
    assert ys and xs
    for axis in ys:
        assert axis.scaleanchor == (axis.anchor or "x") and axis.autorange == "reversed" and axis.showticklabels is False
    assert all(axis.showticklabels is False for axis in xs)
