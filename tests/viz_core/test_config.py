"""The deployment file: a good file, a bad entry among good ones, a missing file; labels files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from viz_core.config import ConfigError, Problem, config_path, load_config, load_entry, read_labels
from viz_core.demo_models import DigitsCNN

GOOD = """
[[models]]
name = "Digits (team)"
architecture = "viz_core.demo_models:DigitsCNN"
checkpoint = "weights/digits.safetensors"
labels = "weights/digits.txt"
input_size = 32
mean = [0.5]
std = [0.5]
crop_pct = 1.0

[[models]]
name = "Lite0 at 128"
architecture = "efficientnet_lite0"
input_size = [128, 160]

[[collections]]
name = "Validation"
path = "val"
"""


@pytest.fixture()
def deployment(tmp_path: Path) -> Path:
    (tmp_path / "weights").mkdir()
    (tmp_path / "val").mkdir()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        save_file(DigitsCNN().state_dict(), str(tmp_path / "weights" / "digits.safetensors"))
    (tmp_path / "weights" / "digits.txt").write_text("\n".join(f"digit {d}" for d in range(10)) + "\n")
    (tmp_path / "convlens.toml").write_text(GOOD)
    return tmp_path / "convlens.toml"


def test_good_file(deployment: Path) -> None:
    config = load_config(deployment)
    assert config.problems == ()
    digits, lite0 = config.models
    assert digits.name == "Digits (team)" and digits.is_builder
    assert digits.checkpoint == deployment.parent / "weights" / "digits.safetensors"  # relative to the file
    assert digits.input_size == (32, 32) and digits.mean == (0.5,) and digits.crop_pct == 1.0
    assert digits.data_overrides() == {"mean": (0.5,), "std": (0.5,), "crop_pct": 1.0}
    assert not lite0.is_builder and lite0.input_size == (128, 160) and lite0.checkpoint is None
    assert [c.name for c in config.collections] == ["Validation"]
    assert config.collections[0].path == deployment.parent / "val"


def test_builder_entry_loads_with_checkpoint_and_labels(deployment: Path) -> None:
    entry = load_config(deployment).model("Digits (team)")
    m = load_entry(entry)
    assert m.name == "Digits (team)" and m.weights == "file digits.safetensors"
    assert m.class_names[3] == "digit 3" and m.input_size == (1, 32, 32)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        saved = DigitsCNN()
    for name, tensor in saved.state_dict().items():
        torch.testing.assert_close(m.model.state_dict()[name], tensor)
    (deployment.parent / "weights" / "digits.txt").write_text("\n".join(str(d) for d in range(9)))
    with pytest.raises(ConfigError, match="has 9 names; the model has 10 outputs"):
        load_entry(entry)


def test_bad_entry_is_named_and_the_rest_loads(tmp_path: Path) -> None:
    (tmp_path / "val").mkdir()
    (tmp_path / "convlens.toml").write_text(
        """
[[models]]
name = "typo"
architecture = "resnet18"
checkpiont = "x.pth"

[[models]]
name = "missing file"
architecture = "resnet18"
checkpoint = "nowhere.safetensors"

[[models]]
name = "gray"
architecture = "mypkg.nets:build"
mean = [0.5]

[[models]]
name = "fine"
architecture = "resnet18"
std = [0.2, 0.2, 0.2]

[[models]]
name = "fine"
architecture = "resnet34"

[[collections]]
name = "val"
path = "val"

[[collections]]
name = "no path"

[extras]
x = 1
"""
    )
    config = load_config(tmp_path / "convlens.toml")
    assert [m.name for m in config.models] == ["fine"]
    assert [c.name for c in config.collections] == ["val"]
    found = {(p.entry, p.field) for p in config.problems}
    assert found == {
        ("models[1] 'typo'", "checkpiont"),
        ("models[2] 'missing file'", "checkpoint"),
        ("models[3] 'gray'", "std"),
        ("models[5] 'fine'", "name"),
        ("collections[2] 'no path'", "path"),
        (str(tmp_path / "convlens.toml"), "extras"),
    }
    typo = next(p for p in config.problems if p.field == "checkpiont")
    assert "did you mean 'checkpoint'" in str(typo) and str(typo).startswith("models[1] 'typo', field 'checkpiont'")
    with pytest.raises(ConfigError, match="No configured model is called 'typo'"):
        config.model("typo")


def test_missing_file_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONVLENS_CONFIG", raising=False)
    assert config_path() == Path("convlens.toml")
    config = load_config()
    assert config.models == () and config.collections == () and config.problems == () and config.path is None
    monkeypatch.setenv("CONVLENS_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert load_config().path is None


def test_unreadable_toml_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "convlens.toml").write_text("[[models]\nname = ")
    config = load_config(tmp_path / "convlens.toml")
    assert config.models == () and len(config.problems) == 1
    assert isinstance(config.problems[0], Problem) and "not readable TOML" in config.problems[0].message


@pytest.mark.parametrize(
    "text",
    ["cat\ndog\n\nbird\n", json.dumps(["cat", "dog", "bird"]), json.dumps({"1": "dog", "0": "cat", "2": "bird"})],
    ids=["lines", "json-list", "json-object"],
)
def test_labels_formats(tmp_path: Path, text: str) -> None:
    path = tmp_path / "labels.txt"
    path.write_text(text)
    assert read_labels(path, count=3) == ("cat", "dog", "bird")


def test_labels_count_and_gaps_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(["cat", "dog"]))
    with pytest.raises(ConfigError, match="has 2 names; the model has 10 outputs") as error:
        read_labels(path, count=10)
    assert error.value.hint
    path.write_text(json.dumps({"0": "cat", "2": "bird"}))
    with pytest.raises(ConfigError, match="no name for index 1"):
        read_labels(path)
    path.write_text("[1, 2")
    with pytest.raises(ConfigError, match="does not parse"):
        read_labels(path)


def test_timm_entry_gets_its_overrides(tmp_path: Path) -> None:
    (tmp_path / "labels.txt").write_text("\n".join(f"c{i}" for i in range(1000)))
    (tmp_path / "convlens.toml").write_text(
        '[[models]]\nname = "Lite0 small"\narchitecture = "efficientnet_lite0"\nlabels = "labels.txt"\ninput_size = 64\nmean = [0.4, 0.4, 0.4]\ncrop_pct = 1.0\n'
    )
    config = load_config(tmp_path / "convlens.toml")
    m = load_entry(config.models[0])
    assert m.name == "Lite0 small" and m.input_size == (3, 64, 64) and m.class_names[999] == "c999"
    assert m.preprocessing.mean == (0.4, 0.4, 0.4) and m.preprocessing.crop_pct == 1.0
    assert "bundled" in m.weights
