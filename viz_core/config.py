"""The deployment file, `convlens.toml`: the team's models and collections, configured once.

Why a file: a team's dashboard serves the same fine-tuned checkpoints and validation folders to
everyone; typing paths into a sidebar each time loses them. The file is read from the working
directory, or from the path in CONVLENS_CONFIG. A missing file is an empty configuration.

Why problems instead of an exception: one typo must not take every other model off the
dashboard, so a bad entry is left out and described (entry, field, what to do), and the rest
loads. Paths in the file are relative to the file's folder.

    [[models]]
    name = "Defects v3"                      # what the pickers show
    architecture = "convnext_tiny"           # a timm name, or "package.module:function"
    checkpoint = "checkpoints/defects-v3.safetensors"
    labels = "checkpoints/defects-v3.txt"    # one name per line, a JSON list or {"0": "name", ...}
    input_size = 224                         # or [height, width]
    mean = [0.485, 0.456, 0.406]             # one value per input channel
    std = [0.229, 0.224, 0.225]
    crop_pct = 0.875                         # the centre crop timm's eval transform takes

    [[collections]]
    name = "Validation 2026-11"
    path = "/data/defects/val"               # a folder (one subfolder per class) or a .zip
"""
from __future__ import annotations

import difflib
import importlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConvlensError

if TYPE_CHECKING:
    import torch

    from .hub import LoadedModel

CONFIG_ENV = "CONVLENS_CONFIG"
CONFIG_NAME = "convlens.toml"
BUILDER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
MODEL_FIELDS = ("name", "architecture", "checkpoint", "labels", "input_size", "mean", "std", "crop_pct")
COLLECTION_FIELDS = ("name", "path")


class ConfigError(ConvlensError):
    """A deployment file or labels file that cannot be used as written."""


@dataclass(frozen=True)
class Problem:
    """Why one entry (or the whole file) was left out: which entry, which field, what to do."""

    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.entry}, field '{self.field}'" if self.field else self.entry
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ModelEntry:
    """A configured model. `architecture` is a timm name or "package.module:function" (a builder)."""

    name: str
    architecture: str
    checkpoint: Path | None = None
    labels: Path | None = None
    input_size: tuple[int, int] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    crop_pct: float | None = None

    @property
    def is_builder(self) -> bool:
        return ":" in self.architecture

    def data_overrides(self) -> dict[str, Any]:
        """The entry's preprocessing settings as timm data-config keys (only those it sets)."""
        overrides: dict[str, Any] = {}
        if self.mean is not None:
            overrides["mean"] = self.mean
        if self.std is not None:
            overrides["std"] = self.std
        if self.crop_pct is not None:
            overrides["crop_pct"] = self.crop_pct
        return overrides


@dataclass(frozen=True)
class CollectionEntry:
    """A configured collection: a folder of class subfolders, or a .zip file."""

    name: str
    path: Path


@dataclass(frozen=True)
class Config:
    """What the deployment file holds: the good entries, and the problems of the others."""

    models: tuple[ModelEntry, ...] = ()
    collections: tuple[CollectionEntry, ...] = ()
    problems: tuple[Problem, ...] = ()
    path: Path | None = None

    def model(self, name: str) -> ModelEntry:
        """The model entry called `name`."""
        for entry in self.models:
            if entry.name == name:
                return entry
        known = ", ".join(e.name for e in self.models) or "(none)"
        raise ConfigError(f"No configured model is called '{name}'.", f"Configured: {known}.")


class _Bad(Exception):
    """One field of one entry is wrong (internal: becomes a Problem)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def config_path() -> Path:
    """CONVLENS_CONFIG if set, else convlens.toml in the working directory."""
    return Path(os.environ.get(CONFIG_ENV) or CONFIG_NAME).expanduser()


def _text(table: Mapping[str, Any], key: str, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise _Bad(key, "is missing.")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Bad(key, f"must be a non-empty string, not {value!r}.")
    return value.strip()


def _file(table: Mapping[str, Any], key: str, base: Path, *, folder_ok: bool = False) -> Path | None:
    text = _text(table, key, required=False)
    if text is None:
        return None
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if not (path.is_file() or (folder_ok and path.is_dir())):
        raise _Bad(key, f"there is no {'folder or file' if folder_ok else 'file'} at '{path}'.")
    return path


def _numbers(table: Mapping[str, Any], key: str) -> tuple[float, ...] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise _Bad(key, f"must be a list of numbers, one per input channel (e.g. [0.5, 0.5, 0.5]), not {value!r}.")
    return tuple(float(v) for v in value)


def _size(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    sizes = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(sizes, list) and len(sizes) == 1:
        sizes = sizes * 2
    if not (isinstance(sizes, list) and len(sizes) == 2 and all(isinstance(s, int) and not isinstance(s, bool) and 8 <= s <= 4096 for s in sizes)):
        raise _Bad("input_size", f"must be a size in pixels (224) or [height, width] between 8 and 4096, not {value!r}.")
    return int(sizes[0]), int(sizes[1])


def _unknown(table: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            advice = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}."
            raise _Bad(key, f"is not a field convlens knows; {advice}")


def _model(table: Mapping[str, Any], base: Path) -> ModelEntry:
    _unknown(table, MODEL_FIELDS)
    name = _text(table, "name")
    architecture = _text(table, "architecture")
    assert name is not None and architecture is not None
    if ":" in architecture and not BUILDER.match(architecture):
        raise _Bad("architecture", f"'{architecture}' is neither a timm name nor 'package.module:function'.")
    mean, std = _numbers(table, "mean"), _numbers(table, "std")
    if std is not None and min(std) <= 0:
        raise _Bad("std", "every value must be above 0.")
    if mean is not None and std is not None and len(mean) != len(std):
        raise _Bad("std", f"has {len(std)} values but mean has {len(mean)}; give one per input channel.")
    if (mean is None) != (std is None) and len(mean or std or ()) != 3:
        given, needed = ("mean", "std") if std is None else ("std", "mean")
        raise _Bad(needed, f"is needed too: {given} has {len(mean or std or ())} values, so the 3-channel default does not fit.")
    crop = table.get("crop_pct")
    if crop is not None and (isinstance(crop, bool) or not isinstance(crop, (int, float)) or not 0 < crop <= 1):
        raise _Bad("crop_pct", f"must be a number in (0, 1] (1 means no crop), not {crop!r}.")
    return ModelEntry(
        name=name,
        architecture=architecture,
        checkpoint=_file(table, "checkpoint", base),
        labels=_file(table, "labels", base),
        input_size=_size(table.get("input_size")),
        mean=mean,
        std=std,
        crop_pct=None if crop is None else float(crop),
    )


def _collection(table: Mapping[str, Any], base: Path) -> CollectionEntry:
    _unknown(table, COLLECTION_FIELDS)
    name = _text(table, "name")
    path = _file(table, "path", base, folder_ok=True)
    if path is None:
        raise _Bad("path", "is missing.")
    assert name is not None
    return CollectionEntry(name, path)


def load_config(path: str | Path | None = None) -> Config:
    """The deployment file at `path` (default: `config_path()`); missing means empty, never an error."""
    file = Path(path).expanduser() if path is not None else config_path()
    if not file.is_file():
        return Config(path=None)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
        return Config(problems=(Problem(str(file), "", f"is not readable TOML ({error}); nothing in it was loaded."),), path=file)
    base = file.resolve().parent
    problems: list[Problem] = []
    for key in data:
        if key not in ("models", "collections"):
            problems.append(Problem(str(file), key, "is not a section convlens knows; use [[models]] and [[collections]]."))
    parsed: dict[str, list[Any]] = {"models": [], "collections": []}
    for section, parse in (("models", _model), ("collections", _collection)):
        tables = data.get(section, [])
        if not isinstance(tables, list):
            problems.append(Problem(str(file), section, f"must be an array of tables: write [[{section}]] above each entry."))
            continue
        seen: set[str] = set()
        for number, table in enumerate(tables, start=1):
            label = f"{section}[{number}]"
            if isinstance(table, dict) and isinstance(table.get("name"), str):
                label += f" '{table['name']}'"
            if not isinstance(table, dict):
                problems.append(Problem(label, "", f"must be a table of fields, not {table!r}."))
                continue
            try:
                entry = parse(table, base)
            except _Bad as bad:
                problems.append(Problem(label, bad.field, bad.message))
                continue
            if entry.name in seen:
                problems.append(Problem(label, "name", "another entry above already has this name; names must be unique."))
                continue
            seen.add(entry.name)
            parsed[section].append(entry)
    return Config(tuple(parsed["models"]), tuple(parsed["collections"]), tuple(problems), file)


def read_labels(path: str | Path, count: int | None = None) -> tuple[str, ...]:
    """Class names from a labels file: one per line, a JSON list, or a JSON object index -> name.

    `count` is the model's number of outputs: a file with another number of names is refused,
    since every class after the first gap would get the wrong name.
    """
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"The labels file '{file}' could not be read ({error}).", "Give a UTF-8 text or JSON file.") from error
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise ConfigError(f"The labels file '{file.name}' looks like JSON but does not parse ({error}).", "Fix the JSON, or write one name per line.") from error
        names = _json_names(data, file.name)
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise ConfigError(f"The labels file '{file.name}' holds no names.", "Write one class name per line, in the model's output order.")
    if count is not None and len(names) != count:
        raise ConfigError(
            f"The labels file '{file.name}' has {len(names)} names; the model has {count} outputs.",
            "Give exactly one name per output, in the model's output order.",
        )
    return tuple(names)


def _json_names(data: Any, filename: str) -> list[str]:
    if isinstance(data, list):
        if not all(isinstance(n, str) and n.strip() for n in data):
            raise ConfigError(f"The JSON list in '{filename}' must hold only non-empty strings.", 'Write e.g. ["cat", "dog"].')
        return [n.strip() for n in data]
    if not all(isinstance(k, str) and k.strip().isdigit() for k in data) or not all(isinstance(v, str) and v.strip() for v in data.values()):
        raise ConfigError(f"The JSON object in '{filename}' must map indices to names.", 'Write e.g. {"0": "cat", "1": "dog"}.')
    by_index = {int(k): v.strip() for k, v in data.items()}
    missing = sorted(set(range(len(by_index))) - set(by_index))
    if missing:
        raise ConfigError(f"The JSON object in '{filename}' has no name for index {missing[0]}.", f"Give every index from 0 to {len(by_index) - 1} once.")
    return [by_index[i] for i in range(len(by_index))]


def load_entry(entry: ModelEntry, *, device: "str | torch.device" = "cpu") -> "LoadedModel":
    """The configured model, ready for every engine: the hub for timm names, the builder otherwise.

    The builder's module is ours (it was just built), so its checkpoint is loaded into it before
    `LoadedModel.from_module` makes the private, frozen copy every engine expects.
    """
    from torch import nn

    from .hub import LoadedModel, _load_state, _read_checkpoint, load_model, resolve_device

    names = list(read_labels(entry.labels)) if entry.labels is not None else None
    if not entry.is_builder:
        m = load_model(entry.architecture, weights=entry.checkpoint or "auto", labels=names, device=device, input_size=entry.input_size)
        return replace(m, name=entry.name, data_config={**m.data_config, **entry.data_overrides()})
    module_name, function = entry.architecture.split(":")
    try:
        build = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"Model '{entry.name}': cannot import '{entry.architecture}' ({error}).", "Install the package on the dashboard's Python path, or fix the name.") from error
    module = build()
    if not isinstance(module, nn.Module):
        raise ConfigError(f"Model '{entry.name}': '{entry.architecture}' returned a {type(module).__name__}, not a torch nn.Module.", "Make the function return the model.")
    weights = "the builder's own initialisation"
    if entry.checkpoint is not None:
        _load_state(module, _read_checkpoint(entry.checkpoint), f"'{entry.checkpoint.name}'")
        weights = f"file {entry.checkpoint.name}"
    channels = len(entry.mean or entry.std or (0, 0, 0))
    height, width = entry.input_size or (224, 224)
    data_config = {
        "input_size": (channels, height, width),
        "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225),
        "crop_pct": 0.875,
        "interpolation": "bicubic",
        **entry.data_overrides(),
    }
    m = LoadedModel.from_module(module, name=entry.name, data_config=data_config, weights=weights)
    m.model.to(resolve_device(device))  # the private copy from_module just made
    if names is not None:
        if len(names) != m.num_classes:
            raise ConfigError(
                f"Model '{entry.name}': the labels file '{entry.labels.name if entry.labels else ''}' has {len(names)} names; the model has {m.num_classes} outputs.",
                "Give exactly one name per output, in the model's output order.",
            )
        m = replace(m, class_names=names)
    return m
