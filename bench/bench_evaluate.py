"""Evaluation: throughput against a plain timm loop, and the second visit answered by the store.

Targets (issue 11): evaluation throughput >= 0.95x a plain timm loop over the same folder
(PIL decode + timm's eval transform + forward, same batch size), timed alternately with it;
a second evaluate of a 5,000-image folder < 1 s, from the store. The store-hit part runs the
model at 32 px (CNNs only) so that the first pass over 5,000 images takes seconds, not minutes:
a hit's cost is reading rows and computing metrics, which does not depend on the input size.
It is timed with the collection already listed (a page that keeps the Collection) and with the
folder listed again (what `evaluate(m, "/path")` does: stat every file for the digest).
"""
from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image

import viz_core as vc
from viz_core.dataset.evaluate import evaluate
from viz_core.store import Store

from .common import Row, paired

TOPIC = "evaluate"
IMAGES = 96
BATCH = 32
BIG = 5_000
SMALL_SIDE = 32
ROOT = Path(__file__).resolve().parents[1]
FRESH_PROCESS_CODE = """
import json, sys, time
sys.path.insert(0, {root!r})
from dataclasses import replace
import viz_core as vc
from viz_core.dataset.evaluate import evaluate
from viz_core.store import Store
m = vc.load_model({name!r})
m = replace(m, data_config={{**m.data_config, "input_size": {size!r}}})
t = time.perf_counter()
ev = evaluate(m, {folder!r}, batch_size={batch}, store=Store({store!r}))
print(json.dumps({{"seconds": time.perf_counter() - t, "from_store": ev.from_store}}))
"""


def _photo_folder(root: Path, count: int) -> Path:
    """`count` PNG crops of the sample photos (a few hundred pixels each), in folders 0, 1, ...

    Folders named by index match any model's first classes: the accuracy means nothing here,
    the time to decode, preprocess and classify does.
    """
    c = vc.collection("photos")
    for i in range(count):
        folder = root / str(int(c.labels[i % len(c)]))
        folder.mkdir(parents=True, exist_ok=True)
        c.load(i % len(c)).save(folder / f"{i:05d}.png")
    return root


def _digit_folder(root: Path, count: int) -> Path:
    """`count` small PNGs (the digits, 32 px RGB, repeated) in folders 0-9."""
    c = vc.collection("digits")
    for i in range(count):
        folder = root / str(int(c.labels[i % len(c)]))
        folder.mkdir(parents=True, exist_ok=True)
        c.load(i % len(c)).resize((32, 32), Image.BILINEAR).save(folder / f"{i:05d}.png")
    return root


def _timm_loop(m: vc.LoadedModel, folder: Path) -> None:
    """What a timm user writes: open each file, timm's eval transform, stack, one forward per batch."""
    import timm.data

    config = m.data_config
    transform = timm.data.create_transform(
        input_size=config["input_size"], interpolation=config.get("interpolation", "bicubic"), mean=config["mean"],
        std=config["std"], crop_pct=config.get("crop_pct"), crop_mode=config.get("crop_mode"), is_training=False,
    )
    files = sorted(p for p in folder.rglob("*.png"))
    for start in range(0, len(files), BATCH):
        x = torch.stack([transform(Image.open(f).convert("RGB")) for f in files[start : start + BATCH]])
        with torch.inference_mode():
            m.model(x.to(m.device))


def run(m: vc.LoadedModel) -> list[Row]:
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        photos = _photo_folder(work / "photos", IMAGES)
        runs = itertools.count()

        def ours() -> None:  # a fresh store each time: every call is a full pass that also writes its shards
            evaluate(m, photos, batch_size=BATCH, store=Store(work / f"store-{next(runs)}"))

        plain, evaluated = paired(lambda: _timm_loop(m, photos), ours, repeats=3)
        rows = [
            Row(TOPIC, f"plain timm loop: decode + transform + forward, {IMAGES} images, b={BATCH}", plain, "itself", 1.0, f"{IMAGES / plain:.1f} img/s"),
            Row(
                TOPIC,
                f"evaluate (scan + predictions + store write), {IMAGES} images, b={BATCH}",
                evaluated,
                "plain timm loop",
                evaluated / plain,
                f"{IMAGES / evaluated:.1f} img/s = {plain / evaluated:.2f}x the plain loop's throughput (target >= 0.95x)",
            ),
        ]

        small = m if hasattr(m.model, "patch_embed") else replace(m, data_config={**m.data_config, "input_size": (m.input_size[0], SMALL_SIDE, SMALL_SIDE)})
        digits = _digit_folder(work / "digits", BIG)
        store = Store(work / "store-big")
        started = time.perf_counter()
        first = evaluate(small, digits, batch_size=BATCH, store=store)
        cold = time.perf_counter() - started
        listed = vc.collection(digits)

        def hit(source: vc.Collection | Path) -> float:
            times = []
            for _ in range(5):
                begun = time.perf_counter()
                again = evaluate(small, source, batch_size=BATCH, store=store)
                times.append(time.perf_counter() - begun)
                assert again.from_store
            return statistics.median(times)

        for source, how in ((listed, "collection already listed"), (digits, "folder listed again")):
            seconds = hit(source)
            rows.append(
                Row(
                    TOPIC,
                    f"second evaluate of a {BIG:,}-image folder (store hit, {how})",
                    seconds,
                    "first evaluate (full pass)",
                    seconds / cold,
                    f"target < 1 s; first pass {cold:.1f} s at {small.input_size[1]} px; {first.classes.size} classes in the table",
                )
            )
        if m.weights.startswith("bundled"):
            code = FRESH_PROCESS_CODE.format(root=str(ROOT), name=m.name, size=small.input_size, folder=str(digits), batch=BATCH, store=str(store.root))
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
            fresh = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(
                Row(
                    TOPIC,
                    f"evaluate of the {BIG:,}-image folder after a restart (fresh process, model loaded)",
                    fresh["seconds"],
                    "first evaluate (full pass)",
                    fresh["seconds"] / cold,
                    f"from store: {fresh['from_store']}; includes hashing the weights once and importing scikit-learn and pyarrow",
                )
            )
    return rows
