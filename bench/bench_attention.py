"""Attention maps, rollout and gradient-weighted attention as ratios to a ViT's own passes.

The bench's model is a CNN without attention, so this topic loads vit_tiny_patch16_224 with random
weights at 224 px (the cost does not depend on the weights). Expected: maps and rollout ≈ one
forward plus recomputing q, k and the probabilities in the hooked blocks; gradient attention ≈ one
forward + backward to the input; the one-off survey (first call per model) ≈ one rollout.
"""
from __future__ import annotations

import dataclasses
import statistics
import time

import torch

import viz_core as vc
from viz_core.attribution.attention import attention_blocks, attention_maps, attention_rollout, gradient_attention

from .common import Row, paired

TOPIC = "attention"


def run(_: vc.LoadedModel) -> list[Row]:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        vit = vc.load_model("vit_tiny_patch16_224", "random")
    x = vit.preprocess(vc.sample_image("chelsea (cat)"))

    def forward() -> None:
        with torch.inference_mode():
            vit.model(x)

    def forward_backward() -> None:
        image = x.clone().requires_grad_(True)
        torch.autograd.grad(vit.model(image).max(dim=1).values.sum(), [image])

    attention_blocks(vit)  # the survey runs once per model; time it separately below
    methods = [
        ("attention maps, last block, all heads", lambda: attention_maps(vit, x), forward, "forward b=1 (interleaved)"),
        ("attention maps, first block, all heads", lambda: attention_maps(vit, x, block=0), forward, "forward b=1 (interleaved)"),
        ("attention rollout, 12 blocks, mean, discard 0.9", lambda: attention_rollout(vit, x), forward, "forward b=1 (interleaved)"),
        ("gradient-weighted attention (Chefer), 12 blocks", lambda: gradient_attention(vit, x, 281), forward_backward, "forward+backward b=1 (interleaved)"),
    ]
    rows = []
    for name, method, denominator, label in methods:
        seconds, base = paired(method, denominator, repeats=7)
        rows.append(Row(TOPIC, f"{name}, vit_tiny 224 px", seconds, label, seconds / base, f"denominator {base * 1e3:.1f} ms"))
    surveys = []
    for _ in range(3):
        fresh = dataclasses.replace(vit)  # a new LoadedModel around the same module: the survey is not cached for it
        start = time.perf_counter()
        attention_blocks(fresh)
        surveys.append(time.perf_counter() - start)
    seconds, base = statistics.median(surveys), paired(forward, forward, repeats=3)[0]
    rows.append(Row(TOPIC, "survey of the attention blocks (once per model), vit_tiny 224 px", seconds, "forward b=1", seconds / base))
    return rows
