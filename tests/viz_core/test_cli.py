"""The command line: in a subprocess as a user runs it (digits demo, bundled model), and in-process for the rest."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viz_core.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "CONVLENS_CACHE_DIR": str(cwd / "store")}
    return subprocess.run([sys.executable, "-m", "viz_core", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_help_lists_the_commands_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["explain", "--help"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("explain", "report", "evaluate", "reproduce")) and "examples:" in out and "--methods" in out


def test_explain_then_reproduce_on_the_digits_demo(tmp_path: Path) -> None:
    made = cli("explain", "--model", "digits_cnn", "--image", "sample:rocket", "--methods", "guided,grad_cam", "--target", "4", "--out", "out", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    record = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(record["results"]) == {"guided", "grad_cam"} and record["results"]["guided"]["params"]["target"]["index"] == 4
    assert (tmp_path / "out" / "guided-map.png").is_file() and (tmp_path / "out" / "grad_cam.html").is_file()
    again = cli("reproduce", "out", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["guided: identical (2 arrays)", "grad_cam: identical (4 arrays)"]


def test_report_and_evaluate_on_the_digits_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path / "store"))
    assert main(["report", "--model", "digits_cnn", "--folder", "digits", "--limit", "2", "--methods", "vanilla", "--out", "r.html"]) == 0
    page = (tmp_path / "r.html").read_text()
    assert page.count('class="figure"') == 2 and "2 items" in page
    assert main(["evaluate", "--model", "digits_cnn", "--folder", "digits", "--out", "m.json", "--report", "e.html"]) == 0
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["images"] == 1797 and metrics["top1"]["value"] > 0.9 and len(metrics["classes"]["name"]) == 10
    assert "top-1" in (tmp_path / "e.html").read_text()


def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "--model", "digits_cnn", "--image", "missing.png"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["convlens: error: No image file at 'missing.png'. Check the path."]
    assert main(["explain", "--image", "sample:rocket", "--model", "resnet5O"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("convlens: error: There is no model called 'resnet5O'.")
    assert main(["reproduce", "nothing.zip"]) == 2
    assert "No manifest or bundle" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["explain", "--image", "sample:rocket", "--methods", "gradcam"])
    assert stop.value.code == 2 and "unknown method 'gradcam'" in capsys.readouterr().err


@pytest.mark.slow
def test_explain_and_reproduce_on_the_bundled_model(tmp_path: Path) -> None:
    made = cli("explain", "--image", "sample:chelsea (cat)", "--methods", "vanilla", "--zip", "cat.zip", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    again = cli("reproduce", "cat.zip", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == "vanilla: identical (2 arrays)", again.stdout + again.stderr
