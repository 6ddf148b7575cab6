"""Pictures people recognise: do class models transfer, and does style transfer show the style?

Why transfer: a class model that only the generating network recognises fits that network's
quirks, not the class (Fel et al. 2023). Class models are made on the bench model (Lite0) with
the default `vc.Ascent` and judged by the independently trained EfficientNet-Lite1 and Lite2:
top-1 and the probability of the intended class, on the picture resized to their input size (no
crop). Seconds per picture are absolute (the machine is shared) and as a ratio to one
forward+backward at batch 1 timed in the same run, so the cost reads the same on a busy machine.

Why Gram distance on Lite2: the style loss the optimiser drives down says nothing about a model
it never saw. The metric is the mean relative Gram distance to the style image over Lite2's
default style layers, for the result divided by the content image's own (1 = no closer to the
style than the content photo; 0 = the style's statistics exactly). Texture synthesis starts from
noise with no content term.

`python -m bench.bench_pictures [--set steps=256 ...] [--classes 130,323]` prints the per-class
table; `python -m bench pictures` gives the summary rows.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

import viz_core as vc
from viz_core.synthesis.engine import model_input
from viz_core.synthesis.style import losses, reference_activations

from viz_core.synthesis.recipes import _views

from .common import Row, forward_backward_samples, step_times

TOPIC = "pictures"
# chosen before measuring: colourful, distinctive ImageNet classes a stakeholder names at a glance
CLASSES = (1, 130, 323, 417, 948, 954, 963, 980)  # goldfish, flamingo, monarch, balloon, Granny Smith, banana, pizza, volcano
JUDGES = ("efficientnet_lite1", "efficientnet_lite2")
CONTENT, STYLE = "chelsea (cat)", "immunohistochemistry"


def judge(models: Sequence[vc.LoadedModel], image: np.ndarray, class_index: int) -> list[dict[str, float]]:
    """Top-1 and probability of `class_index` for each model on the exact picture (resized, no crop)."""
    picture = torch.as_tensor(image, dtype=torch.float32).permute(2, 0, 1)[None] / 255.0
    out = []
    for model in models:
        with torch.no_grad():
            probs = torch.softmax(model.model(model_input(model, picture)), dim=-1)[0]
        out.append({"top1": int(probs.argmax()), "p": float(probs[class_index]), "hit": int(probs.argmax()) == class_index})
    return out


def transfer(m: vc.LoadedModel, judges: Sequence[vc.LoadedModel], classes: Sequence[int], settings: vc.Ascent, verbose: bool = False) -> list[dict[str, Any]]:
    """One class model per class on `m`; each judged by `m` itself and by `judges`."""
    rows = []
    for class_index in classes:
        result = vc.class_model(m, class_index, settings)
        verdicts = judge([m, *judges], result.image, class_index)
        rows.append({"class": class_index, "name": m.class_names[class_index].split(",")[0], "seconds": result.seconds, "self": verdicts[0], "judges": verdicts[1:], "image": result.image})
        if verbose:
            print(f"  {class_index}: Lite1 {verdicts[1]['hit']} ({verdicts[1]['p']:.2f}), Lite2 {verdicts[2]['hit']} ({verdicts[2]['p']:.2f}), {result.seconds:.1f} s", flush=True)
    return rows


def style_ratio(m: vc.LoadedModel, judge_model: vc.LoadedModel, settings: vc.Style) -> dict[str, float]:
    """Gram distance to the style on `judge_model`, of the result relative to the content image's."""
    result = vc.style_transfer(m, vc.sample_image(CONTENT), vc.sample_image(STYLE), settings)
    side = result.image.shape[0]
    content_layer, layers = vc.style_layers(judge_model)
    style01 = result.style.astype(np.float32) / 255.0
    refs = reference_activations(judge_model, style01, list(layers), (side, side))
    content_ref = reference_activations(judge_model, result.content.astype(np.float32) / 255.0, [content_layer], (side, side))[content_layer]

    def distance(picture: np.ndarray) -> float:
        return losses(judge_model, picture.astype(np.float32) / 255.0, content_ref, content_layer, refs, [1.0] * len(layers))["style"]

    of_content = distance(result.content)
    return {"ratio": distance(result.image) / of_content, "seconds": result.seconds, "drop": result.metrics["style_drop"], "image": result.image}  # type: ignore[dict-item]


def seconds_per_fb(m: vc.LoadedModel) -> float:
    """One forward+backward at batch 1 now (median of 9): the unit of the seconds-per-picture ratio."""
    forward_backward_samples(m, 2)
    return statistics.median(forward_backward_samples(m, 9))


def step_ratio(m: vc.LoadedModel, settings: vc.Ascent, rounds: int = 4, steps: int = 6) -> tuple[float, float]:
    """(median seconds per class-model step, median forward+backward of the batch it uses), alternated."""
    _, seen = _views(m, settings)
    x = torch.rand(settings.batch, 3, *seen)

    def fb() -> float:
        start = time.perf_counter()
        image = x.clone().requires_grad_(True)
        torch.autograd.grad(m.model(image)[:, 1].sum(), [image])
        return time.perf_counter() - start

    def run(n: int, cb: Any) -> object:
        return vc.class_model(m, 130, settings, steps=n, on_step=cb)

    step_times(run, 3)
    fb()
    ours: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        base += [fb() for _ in range(3)]
        ours += step_times(run, steps)
    return statistics.median(ours), statistics.median(base)


def _summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    both = sum(all(j["hit"] for j in row["judges"]) for row in rows)
    return {"both": both, "lite1": sum(row["judges"][0]["hit"] for row in rows), "lite2": sum(row["judges"][1]["hit"] for row in rows), "seconds": float(np.median([r["seconds"] for r in rows]))}


def run(m: vc.LoadedModel) -> list[Row]:
    judges = [vc.load_model(name) for name in JUDGES]
    unit = seconds_per_fb(m)
    rows = transfer(m, judges, CLASSES, vc.Ascent())
    unit = (unit + seconds_per_fb(m)) / 2
    s = _summary(rows)
    per_class = "; ".join(f"{r['name']} {r['judges'][0]['p']:.2f}/{r['judges'][1]['p']:.2f}" for r in rows)
    per_step, per_fb = step_ratio(m, vc.Ascent())
    out = [
        Row(TOPIC, f"class model step, default Ascent (batch {vc.Ascent().batch} views)", per_step, "forward+backward of that batch (interleaved)", per_step / per_fb, f"f+b {per_fb * 1e3:.0f} ms"),
        Row(TOPIC, f"class model transfer: top-1 on Lite1 and Lite2 for {s['both']:.0f}/{len(rows)} classes (Lite1 {s['lite1']:.0f}, Lite2 {s['lite2']:.0f})", s["seconds"], "forward+backward b=1", s["seconds"] / unit, f"median s/picture; p Lite1/Lite2: {per_class}"),
    ]
    for name, settings in (("style transfer (default)", vc.Style()), ("texture synthesis (noise, no content)", vc.Style(init="noise", content_weight=0.0))):
        st = style_ratio(m, judges[1], settings)
        out.append(Row(TOPIC, f"{name}: Lite2 Gram distance / content's = {st['ratio']:.3f}", st["seconds"], "forward+backward b=1", st["seconds"] / unit, f"style loss on {m.name} fell {st['drop']:.0%}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs="*", default=[], help="Ascent overrides, key=value (JSON values)")
    parser.add_argument("--style-set", nargs="*", default=[], help="Style overrides, key=value (JSON values)")
    parser.add_argument("--classes", default=",".join(map(str, CLASSES)))
    parser.add_argument("--no-style", action="store_true")
    parser.add_argument("--no-transfer", action="store_true")
    parser.add_argument("--step-only", action="store_true", help="only the per-step cost ratio")
    parser.add_argument("--save", default="", help="folder for the pictures (PNG)")
    args = parser.parse_args()
    from viz_core.runtime import keep_freed_memory

    keep_freed_memory()

    def value(text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text  # a bare word: a string setting

    def parse(items: list[str]) -> dict[str, Any]:
        return {k: value(v) for k, v in (item.split("=", 1) for item in items)}

    m = vc.load_model("efficientnet_lite0")
    judges = [vc.load_model(name) for name in JUDGES]
    unit = seconds_per_fb(m)
    print(f"forward+backward b=1 now: {unit * 1e3:.1f} ms")
    save = args.save
    if save:
        from pathlib import Path
        from PIL import Image

        Path(save).mkdir(parents=True, exist_ok=True)
    if args.step_only:
        per_step, per_fb = step_ratio(m, vc.Ascent(**parse(args.set)))
        print(f"per step {per_step * 1e3:.0f} ms vs forward+backward of its batch {per_fb * 1e3:.0f} ms: {per_step / per_fb:.2f}x")
        return
    if not args.no_transfer:
        settings = vc.Ascent(**parse(args.set))
        print(settings, flush=True)
        started = time.perf_counter()
        rows = transfer(m, judges, [int(c) for c in args.classes.split(",")], settings, verbose=True)
        print("| class | Lite0 p | Lite1 top-1 (p) | Lite2 top-1 (p) | s |\n|---|---|---|---|---|")
        for r in rows:
            j1, j2 = r["judges"]
            print(f"| {r['class']} {r['name']} | {r['self']['p']:.2f} | {'yes' if j1['hit'] else m.class_names[j1['top1']][:18]} ({j1['p']:.2f}) | {'yes' if j2['hit'] else m.class_names[j2['top1']][:18]} ({j2['p']:.2f}) | {r['seconds']:.1f} |")
            if save:
                Image.fromarray(r["image"]).save(f"{save}/class_{r['class']}.png")
        s = _summary(rows)
        unit = (unit + seconds_per_fb(m)) / 2
        per_step, per_fb = step_ratio(m, settings)
        print(f"per step {per_step * 1e3:.0f} ms vs forward+backward of its batch {per_fb * 1e3:.0f} ms: {per_step / per_fb:.2f}x")
        print(f"both: {s['both']:.0f}/{len(rows)}  Lite1 {s['lite1']:.0f}  Lite2 {s['lite2']:.0f}  median {s['seconds']:.1f} s/picture = {s['seconds'] / unit:.0f}× f+b ({unit * 1e3:.1f} ms); total {time.perf_counter() - started:.0f} s")
    if not args.no_style:
        extra = parse(args.style_set)
        for name, settings in (("style", vc.Style(**extra)), ("texture", vc.Style(**{**extra, "init": "noise", "content_weight": 0.0}))):
            st = style_ratio(m, judges[1], settings)
            print(f"{name}: Lite2 Gram distance / content's = {st['ratio']:.3f}  ({st['seconds']:.1f} s, Lite0 style loss fell {st['drop']:.0%})")
            if save:
                Image.fromarray(st["image"]).save(f"{save}/{name}.png")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
