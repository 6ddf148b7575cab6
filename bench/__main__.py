"""`python -m bench [topic ...]`: the baseline passes, then every topic's methods as ratios.

Prints a Markdown table (paste it into notes) and writes bench/results/latest.json.
"""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from viz_core.runtime import keep_freed_memory

from .common import Row, baseline, register

HERE = Path(__file__).resolve().parent


def cold_start_seconds() -> float:
    """Fresh interpreter: import, load the bundled model, predict one image (what a user waits for)."""
    code = (
        "import time; t=time.perf_counter(); import viz_core as vc; m=vc.load_model(); "
        "m.predict(vc.sample_image('chelsea (cat)')); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE.parent)
    return float(out.stdout.strip().splitlines()[-1])


def topics() -> list[str]:
    return sorted(name[len("bench_"):] for _, name, _ in pkgutil.iter_modules([str(HERE)]) if name.startswith("bench_"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("topics", nargs="*", help=f"subset of: {', '.join(topics())}")
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--no-cold-start", action="store_true")
    args = parser.parse_args()

    import viz_core as vc

    keep_freed_memory()
    m = vc.load_model(args.model)
    key = register(m)
    print(f"# convlens bench — {m.name} ({m.weights}), input {m.input_size}, torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    rows: list[Row] = []
    for batch in (1, 32):
        base = baseline(key, batch)
        print(f"batch {batch:>2}: forward {base['forward'] * 1e3:8.1f} ms ({batch / base['forward']:6.1f} img/s)   forward+backward-to-input {base['forward_backward'] * 1e3:8.1f} ms")
    if not args.no_cold_start:
        print(f"cold start to first prediction: {cold_start_seconds():.1f} s")
    print()
    for topic in args.topics or topics():
        module = importlib.import_module(f"bench.bench_{topic}")
        started = time.perf_counter()
        rows.extend(module.run(m))
        print(f"({topic}: {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if rows:
        print("| topic | method | seconds | ratio | denominator | note |\n|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row.topic} | {row.method} | {row.seconds:.4f} | {row.ratio:.2f}× | {row.denominator} | {row.note} |")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
