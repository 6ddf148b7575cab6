"""Dataset passes: the scan against a plain batched loop, and PCA / t-SNE / UMAP at 2,000 and 10,000 points.

The scan is timed against (a) the loop a user would write (decode + preprocess + forward, same
batches) and (b) the model's bare batch-32 forward on ready tensors. Projections run in a fresh
subprocess each, so "cold" includes imports and numba's cached compilation, "warm" is a second
fit in the same process, and memory is the warm fit's peak resident growth (Linux VmHWM, reset first).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import viz_core as vc
from viz_core.dataset.embedding import FeatureCollector
from viz_core.dataset.patches import TopK
from viz_core.dataset.scan import _decode

from .common import Row, paired, ratio_row

IMAGES = 96
BATCH = 32
ROOT = Path(__file__).resolve().parents[1]
PROJECTION_CODE = """
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from viz_core.dataset.embedding import project
n, method = {n}, {method!r}
rng = np.random.default_rng(0)
centres = rng.normal(scale=4.0, size=(10, 64))
data = (centres[rng.integers(0, 10, n)] + rng.normal(size=(n, 64))).astype(np.float32)
def kib(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field))
t = time.perf_counter(); project(data, method, seed=0); cold = time.perf_counter() - t
base = kib("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current size
t = time.perf_counter(); project(data, method, seed=0); warm = time.perf_counter() - t
peak = (kib("VmHWM:") - base) / 1024
print(json.dumps({{"cold": cold, "warm": warm, "mb": peak}}))
"""


def _plain_loop(m: vc.LoadedModel, c: vc.Collection) -> None:
    """What a user would write: decode and preprocess a batch, then one inference forward."""
    for start in range(0, len(c), BATCH):
        images01, _, _ = _decode(m, c, np.arange(start, min(start + BATCH, len(c))))
        x = m.preprocessing.to_tensor(torch.from_numpy(images01).permute(0, 3, 1, 2))
        with torch.inference_mode():
            m.model(x)


def _projection(n: int, method: str) -> dict[str, float]:
    code = PROJECTION_CODE.format(root=str(ROOT), n=n, method=method)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(m: vc.LoadedModel) -> list[Row]:
    c = vc.collection("photos").subset(np.arange(IMAGES))
    layer = vc.default_layer(m, "patches")

    def full_scan() -> None:
        vc.scan(m, c, [FeatureCollector(), TopK(layer, 9)], batch_size=BATCH)

    plain, scanned = paired(lambda: _plain_loop(m, c), full_scan)
    times = IMAGES // BATCH
    rows = [
        ratio_row("dataset", f"plain loop: decode + forward, {IMAGES} images", plain, m, BATCH, "forward", times, note=f"{IMAGES / plain:.1f} img/s"),
        ratio_row(
            "dataset",
            f"scan: features + top-9 of {layer}, {IMAGES} images",
            scanned,
            m,
            BATCH,
            "forward",
            times,
            note=f"{IMAGES / scanned:.1f} img/s = {plain / scanned:.2f}× the plain loop's throughput",
        ),
    ]
    started = time.perf_counter()
    field = vc.receptive_field(m, layer)
    rows.append(ratio_row("dataset", f"receptive field of {layer} ({field.size[0]}×{field.size[1]} px)", time.perf_counter() - started, m, 1, "forward_backward", 2, note="2 noise images"))
    for n in (2_000, 10_000):
        for method in ("pca", "tsne", "umap"):
            result = _projection(n, method)
            rows.append(
                ratio_row(
                    "dataset",
                    f"{method} {n:,} points (warm)",
                    result["warm"],
                    m,
                    BATCH,
                    "forward",
                    note=f"cold {result['cold']:.1f} s (fresh process); warm fit peak +{result['mb']:.0f} MB; 64-d, 10 clusters",
                )
            )
    return rows
