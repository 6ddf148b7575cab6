"""The command line: `python -m viz_core explain | report | evaluate | reproduce`.

Thin over the public API: the same functions the dashboard calls, the same zip, report and
manifest. Bad input ends with one clear line on stderr and exit status 2; a reproduction that
does not match exits with 1.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

EXAMPLES = {
    "explain": """examples:
  python -m viz_core explain --image cat.jpg --methods vanilla,guided,grad_cam --out cat-results
  python -m viz_core explain --model digits_cnn --image "sample:coffee (espresso)" --target 3 --zip out.zip
  python -m viz_core explain --model resnet50 --weights ckpt.safetensors --image x.png --methods occlusion""",
    "report": """examples:
  python -m viz_core report --images cat.jpg dog.jpg --methods vanilla,grad_cam --out report.html
  python -m viz_core report --model digits_cnn --folder digits/ --limit 8 --out digits.html""",
    "evaluate": """examples:
  python -m viz_core evaluate --folder val/ --out metrics.json --report evaluation.html
  python -m viz_core evaluate --model digits_cnn --folder digits --no-store""",
    "reproduce": """examples:
  python -m viz_core reproduce results.zip
  python -m viz_core reproduce results/manifest.json --weights ckpt.safetensors""",
}

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


class Progress:
    """A one-line terminal progress bar for `on_step` (redrawn in place on a terminal, else quiet)."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 28) -> None:
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.tty = self.stream.isatty()
        self._last = 0.0

    def __call__(self, info: Any) -> None:
        now = time.monotonic()
        if info.fraction < 1.0 and now - self._last < 0.1:
            return
        self._last = now
        filled = int(round(info.fraction * self.width))
        line = f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {info.fraction:4.0%} {info.message}"[:120]
        if self.tty:
            self.stream.write("\r" + line.ljust(120) + ("\n" if info.fraction >= 1.0 else ""))
            self.stream.flush()
        elif info.fraction >= 1.0:
            self.stream.write(line + "\n")

    def done(self) -> None:
        from .results import StepInfo

        self(StepInfo(1.0, "done"))


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _methods(text: str) -> list[str]:
    from .compare import METHODS

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in METHODS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown method {', '.join(unknown) or text!r}; choose from {', '.join(METHODS)}")
    return names


def _image(text: str) -> Any:
    """A path, or `sample:<name>` for a built-in photo."""
    import viz_core as vc

    if text.startswith("sample:"):
        return vc.sample_image(text[len("sample:") :])
    return vc.load_image(text)


def _model(args: argparse.Namespace) -> Any:
    import viz_core as vc

    bar = Progress(f"loading {args.model}")
    m = vc.load_model(args.model, args.weights)
    bar.done()
    for note in m.warnings:
        _say(f"note: {note}")
    return m


def _target(m: Any, image: Any, text: str) -> Any:
    import viz_core as vc

    if text == "top1":
        return vc.class_logit(m.predict(image, top_k=1)[0].index)
    try:
        return vc.class_logit(int(text))
    except ValueError:
        raise vc.TargetError(f"--target must be 'top1' or a class index, not {text!r}.") from None


def _explain_all(m: Any, image: Any, methods: Sequence[str], target_text: str, label: str) -> dict[str, Any]:
    import viz_core as vc

    target = _target(m, image, target_text)
    bar = Progress(label)
    results: dict[str, Any] = {}
    for number, method in enumerate(methods):
        bar(vc.StepInfo(number / len(methods), method))
        results[method] = vc.explain(m, image, method, target)
    bar.done()
    return results


def explain(args: argparse.Namespace) -> int:
    import viz_core as vc

    image = _image(args.image)  # a wrong path fails before the model loads
    m = _model(args)
    results = _explain_all(m, image, args.methods, args.target, "explaining")
    data = vc.results_zip(results, m, image, weights=args.weights)
    if args.zip:
        Path(args.zip).write_bytes(data)
        _say(f"wrote {args.zip} ({len(data) / 2**20:.1f} MB)")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    zipfile.ZipFile(io.BytesIO(data)).extractall(out)
    _say(f"wrote {out}/: manifest.json, input.png and PNG, NPZ and HTML for {', '.join(results)}")
    return 0


def _images_of(args: argparse.Namespace) -> list[tuple[str, Any]]:
    import viz_core as vc

    if args.images:
        return [(Path(p).name if not p.startswith("sample:") else p[len("sample:") :], _image(p)) for p in args.images]
    c = vc.collection(args.folder)
    chosen = range(min(len(c), args.limit))
    return [(c.names[i], c.load(i)) for i in chosen]


def report(args: argparse.Namespace) -> int:
    import viz_core as vc

    if not args.images and not args.folder:
        raise vc.SettingsError("Give --images or --folder.")
    m = _model(args)
    items = []
    pictures = _images_of(args)
    for number, (name, image) in enumerate(pictures, start=1):
        results = _explain_all(m, image, args.methods, args.target, f"image {number}/{len(pictures)}")
        items.append(vc.report_item(results, m, image, title=name, image_name=name))
    Path(args.out).write_text(vc.report_html(items, title=args.title), encoding="utf-8")
    _say(f"wrote {args.out} ({len(items)} items)")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    import viz_core as vc
    from .dataset.evaluate import class_table, evaluate as run
    from .export import plain
    from .store import Store

    m = _model(args)
    bar = Progress("evaluating")
    ev = run(m, args.folder, batch_size=args.batch_size, store=None if args.no_store else Store(), on_step=bar)
    bar.done()
    metrics = {
        "model": ev.model, "weights": ev.weights, "collection": ev.collection, "collection_digest": ev.collection_digest,
        "images": int(ev.indices.size), "unmatched_images": ev.unmatched_images, "skipped": list(ev.skipped), "from_store": ev.from_store,
        "top1": plain(ev.top1), "top5": plain(ev.top5), "ece": ev.ece, "classes": class_table(ev),
        "confused_pairs": [{"true": ev.class_names[t], "predicted": ev.class_names[p], "count": int(n)} for t, p, n in ev.confused_pairs[:20]],
        "params": plain(ev.params),
    }
    text = json.dumps(metrics, indent=2)
    if args.out:
        Path(args.out).write_text(text)
        _say(f"wrote {args.out}")
    else:
        print(text)
    if args.report:
        caption = f"top-1 {ev.top1.value:.1%} [{ev.top1.low:.1%}, {ev.top1.high:.1%}] of {ev.top1.n} images; top-5 {ev.top5.value:.1%}; ECE {ev.ece:.3f}"
        item = vc.report_item({"evaluation": ev}, m, title=f"{m.name} on {ev.collection}", caption=caption)
        Path(args.report).write_text(vc.report_html([item], title=f"Evaluation of {m.name}"), encoding="utf-8")
        _say(f"wrote {args.report}")
    _say(f"top-1 {ev.top1.value:.1%} ({ev.top1.n} images), top-5 {ev.top5.value:.1%}, ECE {ev.ece:.3f}")
    return 0


def reproduce(args: argparse.Namespace) -> int:
    import viz_core as vc

    bar = Progress("reproducing")
    again = vc.reproduce(args.source, weights=args.weights, image=args.image)
    bar.done()
    for name, arrays in again.identical.items():
        worst = max((d for d in again.max_difference[name].values() if d is not None), default=0.0)
        state = "identical" if all(arrays.values()) else f"DIFFERENT (largest difference {worst:.3g})"
        print(f"{name}: {state} ({len(arrays)} arrays)")
    for name, reason in again.skipped.items():
        print(f"{name}: skipped, {reason}")
    return 0 if again.exact else 1


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m viz_core",
        description="convlens on the command line: explain images, write reports, evaluate a model, reproduce an export.",
        epilog="Run 'python -m viz_core <command> --help' for a command's options and examples.",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="{explain,report,evaluate,reproduce}")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text, epilog=EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter)
        if name != "reproduce":
            sub.add_argument("--model", default="efficientnet_lite0", help="a timm name or digits_cnn (default: efficientnet_lite0)")
            sub.add_argument("--weights", default="auto", help="auto, bundled, random, pretrained or a checkpoint path (default: auto)")
        return sub

    methods = dict(type=_methods, default=["vanilla", "guided", "grad_cam"], help="comma-separated methods (default: vanilla,guided,grad_cam)")
    sub = command("explain", "Attribution maps of one image: PNG, NPZ, interactive HTML and a manifest that reproduces them.")
    sub.add_argument("--image", required=True, help="an image file, or sample:<name> for a built-in photo")
    sub.add_argument("--methods", **methods)  # type: ignore[arg-type]
    sub.add_argument("--target", default="top1", help="top1 (the predicted class) or a class index")
    where = sub.add_mutually_exclusive_group()
    where.add_argument("--out", default="convlens-results", help="folder to write into (default: convlens-results)")
    where.add_argument("--zip", help="write one zip file instead of a folder")
    sub.set_defaults(run=explain)

    sub = command("report", "One self-contained HTML report (opens offline) of several images' attributions.")
    given = sub.add_mutually_exclusive_group()
    given.add_argument("--images", nargs="+", help="image files (or sample:<name>)")
    given.add_argument("--folder", help="a folder of images (flat or one subfolder per class), or 'digits' / 'photos'")
    sub.add_argument("--limit", type=int, default=12, help="at most this many images of --folder (default: 12)")
    sub.add_argument("--methods", **methods)  # type: ignore[arg-type]
    sub.add_argument("--target", default="top1", help="top1 or a class index")
    sub.add_argument("--title", default="convlens report")
    sub.add_argument("--out", default="convlens-report.html", help="the HTML file (default: convlens-report.html)")
    sub.set_defaults(run=report)

    sub = command("evaluate", "Accuracy, per-class metrics and calibration on a labelled folder (one subfolder per class).")
    sub.add_argument("--folder", required=True, help="labelled folder, or 'digits' for the demo collection")
    sub.add_argument("--out", help="metrics JSON file (default: print to stdout)")
    sub.add_argument("--report", help="also write an HTML report")
    sub.add_argument("--batch-size", type=int, default=32)
    sub.add_argument("--no-store", action="store_true", help="do not read or write the on-disk results store")
    sub.set_defaults(run=evaluate)

    sub = command("reproduce", "Recompute the results of an export and compare them with the stored arrays (exit 1 if any differs).")
    sub.add_argument("source", help="a results zip, a manifest.json, or the folder holding it")
    sub.add_argument("--weights", help="the checkpoint path, for results made from a file")
    sub.add_argument("--image", help="the input image, when the source does not carry it")
    sub.set_defaults(run=reproduce)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .errors import ConvlensError

    try:
        return int(args.run(args))
    except ConvlensError as error:
        _say(f"convlens: error: {error.message}" + (f" {error.hint}" if error.hint else ""))
        return 2
    except OSError as error:  # a file that cannot be read or written
        _say(f"convlens: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "))
        return 2
    except KeyboardInterrupt:
        _say("convlens: stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
