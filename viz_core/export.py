"""Exports that reproduce: a manifest of everything that made a result, a zip bundle, `reproduce`.

Why: a result handed to someone who does not run the dashboard (a bug report, a deck, a notebook)
is only worth as much as the ability to make it again. The manifest names the model, the weights
source *and* a digest of the weights, the input image's digest, the exact call (function and
keyword arguments, rebuilt from the result's `params`), library versions, the time and the
dashboard URL that reopens the view; each array is recorded with a SHA-256 of its bytes, so
`reproduce` can say "identical" without the original arrays at hand.

Zip layout (`results_zip`):

    manifest.json        the manifest (one entry per result under "results")
    input.png            the input image exactly as given (PNG: lossless, so its digest survives)
    <name>.npz           every array field of the result
    <name>-<array>.png   pictures drawn from the arrays (PIL: no browser needed to export)
    <name>.html          the interactive Plotly figure; plotly.min.js sits next to it, once
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import io
import json
import platform
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from PIL import Image

from .errors import ConvlensError
from .images import ImageLike, image_digest, load_image

if TYPE_CHECKING:
    from .hub import LoadedModel

MANIFEST_FORMAT = 1
MANIFEST_NAME = "manifest.json"
IMAGE_NAME = "input.png"
VERSIONED = ("torch", "torchvision", "timm", "numpy", "pillow", "plotly", "scikit-learn", "streamlit")


class ExportError(ConvlensError):
    """A manifest or bundle that cannot be read, or a result that cannot be made again."""


# --- what a result holds ------------------------------------------------------------------------


def _fields(result: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        raise ExportError(f"A {type(result).__name__} is not a convlens result.", "Pass what a viz_core function returned.")
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}


def arrays_of(result: Any) -> dict[str, np.ndarray]:
    """Every NumPy array field of a result (what goes into the NPZ and is compared on reproduce)."""
    return {name: value for name, value in _fields(result).items() if isinstance(value, np.ndarray) and value.dtype != object}


def plain(value: Any) -> Any:  # noqa: PLR0911 - one case per kind of value
    """A JSON-ready copy: NumPy scalars and small arrays as numbers and lists, tuples as lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _values(result: Any) -> dict[str, Any]:
    """The scalar fields (score, target name, layer, ...): read by people, not compared."""
    skip = {"params", "notes", "class_names"}
    return {k: plain(v) for k, v in _fields(result).items() if k not in skip and not isinstance(v, np.ndarray)}


def array_digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes: equal digests mean bit-identical arrays."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}|{array.shape}|".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


# --- the call that made a result ----------------------------------------------------------------


class _NotReproducible(Exception):
    """Internal: a result whose making cannot be replayed from its params (with the reason)."""


def _need(params: Mapping[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in params]
    if missing:
        raise _NotReproducible(f"its params lack {', '.join(missing)}")


def _attribution_call(params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    method = params.get("method")
    _need(params, "target")
    target = params["target"]
    if method == "backprop":
        return "backprop", {"target": target, "rule": params.get("rule", "vanilla")}
    if method == "gradient_x_input":
        return "gradient_x_input", {"target": target}
    if method in ("grad_cam", "guided_grad_cam"):
        _need(params, "layer")
        return method, {"target": target, "layer": params["layer"]}
    if method == "smoothgrad":
        if params.get("seed") is None:
            raise _NotReproducible("SmoothGrad ran with a torch.Generator, not a seed")
        return "smoothgrad", {"target": target, "samples": params["samples"], "noise": params["noise"], "rule": params["rule"], "seed": params["seed"]}
    if method == "integrated_gradients":
        if params.get("baseline") == "tensor":
            raise _NotReproducible("integrated gradients ran from a baseline tensor, which is not kept")
        return "integrated_gradients", {"target": target, "baseline": params["baseline"], "steps": params["steps"]}
    if method == "occlusion":
        return "occlusion", {"target": target, "patch": params["patch"], "stride": params["stride"], "fill": params["fill"]}
    raise _NotReproducible(f"no replay is known for method {method!r}")


def _synthesis_call(result: Any) -> tuple[str, dict[str, Any]]:
    from .results import Adversarial, StyleTransfer
    from .synthesis.settings import Accent, Ascent, Dream, Inversion

    params = result.params
    if isinstance(result, Adversarial):
        target = params.get("target")
        index = None if target is None else int(target["index"])
        if params.get("method") == "fgsm":
            return "fgsm", {"target": index, "eps": params["eps"], "norm": params["norm"]}
        return "adversarial", {"target": index, "eps": params["eps"], "norm": params["norm"], "steps": params["steps"], "step_size": params["step_size"], "stop_prob": params["stop_prob"]}
    if isinstance(result, StyleTransfer):
        raise _NotReproducible("style transfer needs its style image, which the bundle does not carry")
    settings = params.get("settings")
    if not isinstance(settings, Mapping):
        raise _NotReproducible("its params hold no settings")
    keys = set(settings)
    known = {name: {f.name for f in dataclasses.fields(kind)} for name, kind in (("ascent", Ascent), ("inversion", Inversion), ("dream", Dream), ("accent", Accent))}
    target = params.get("target")
    if keys == known["ascent"] and isinstance(target, Mapping):
        return ("class_model" if target.get("kind") == "class" else "neuron"), {"target": target, "settings": dict(settings)}
    if keys == known["inversion"]:
        layer = params.get("layer")
        return "invert", {"layer": None if layer == "penultimate" else layer, "settings": dict(settings)}
    if keys == known["accent"] and isinstance(target, Mapping):
        return "accentuate", {"target": target, "settings": dict(settings)}
    if keys == known["dream"]:
        return "deepdream", {"layer": params.get("layer"), "settings": dict(settings)}
    raise _NotReproducible("its settings match no known recipe")


def call_of(result: Any) -> tuple[str, dict[str, Any]]:
    """(function name, JSON keyword arguments) that make `result` again; ExportError if none is known."""
    from .results import Attribution, GradCam, OcclusionMap, Synthesis

    try:
        if isinstance(result, (Attribution, GradCam, OcclusionMap)):
            return _attribution_call(result.params)
        if isinstance(result, Synthesis):
            return _synthesis_call(result)
        raise _NotReproducible(f"{type(result).__name__} results are exported but not replayed")
    except _NotReproducible as reason:
        raise ExportError(f"This result cannot be made again from its parameters: {reason}.") from None


def _settings(function: str, values: Mapping[str, Any]) -> Any:
    """A recipe's settings dataclass from its JSON form (lists back to tuples, so it stays hashable)."""
    from .synthesis.settings import Accent, Ascent, Dream, Inversion

    kind = {"class_model": Ascent, "neuron": Ascent, "invert": Inversion, "deepdream": Dream, "accentuate": Accent}[function]
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _run_call(function: str, kwargs: Mapping[str, Any], m: "LoadedModel", image: Any) -> Any:
    """Call a viz_core function from its manifest form (targets and settings rebuilt)."""
    import viz_core as vc

    options = dict(kwargs)
    if isinstance(options.get("target"), Mapping):
        options["target"] = vc.from_spec(options["target"])
    if function in ("class_model", "neuron"):
        settings = _settings(function, options.pop("settings"))
        return getattr(vc, function)(m, options.pop("target"), settings, **options)
    if function in ("invert", "deepdream"):
        settings = _settings(function, options.pop("settings"))
        return getattr(vc, function)(m, _need_image(image), options.pop("layer"), settings)
    if function == "accentuate":
        settings = _settings(function, options.pop("settings"))
        return vc.accentuate(m, _need_image(image), options.pop("target"), settings)
    if function in ("fgsm", "adversarial"):
        return getattr(vc, function)(m, _need_image(image), options.pop("target"), **options)
    if function in _REPLAYABLE:
        return getattr(vc, function)(m, _need_image(image), options.pop("target"), **options)
    raise ExportError(f"The manifest names a function convlens does not replay: {function!r}.", f"Known: {', '.join(sorted(_REPLAYABLE | _RECIPES))}.")


_REPLAYABLE = frozenset({"backprop", "gradient_x_input", "grad_cam", "guided_grad_cam", "smoothgrad", "integrated_gradients", "occlusion"})
_RECIPES = frozenset({"class_model", "neuron", "invert", "deepdream", "accentuate", "fgsm", "adversarial"})
_NEEDS_NO_IMAGE = frozenset({"class_model", "neuron"})


def _need_image(image: Any) -> Any:
    if image is None:
        raise ExportError("This result was made from an input image, and none was found.", "Pass image=..., or reproduce from the zip (it carries input.png).")
    return image


def uses_image(results: Mapping[str, Any]) -> bool:
    """Whether any result was made from an input image: not class models or neuron pictures, nor
    dataset results (patches, features, filters) that come from a collection."""
    for result in results.values():
        try:
            function, _ = call_of(result)
        except ExportError:
            if hasattr(result, "image"):  # not replayed, but shows an input: a reader wants to see it
                return True
            continue
        if function not in _NEEDS_NO_IMAGE:
            return True
    return False


# --- the manifest -------------------------------------------------------------------------------


def weights_argument(m: "LoadedModel") -> str:
    """The `weights=` value that loads `m` again ("bundled", "random", "pretrained" or "file")."""
    from .hub import BUNDLED_WEIGHTS, DEMO_MODELS

    if m.is_random:
        return "random"
    if m.weights.startswith("file "):
        return "file"
    if m.weights.startswith("timm pretrained"):
        return "pretrained"
    if m.name in DEMO_MODELS or m.name in BUNDLED_WEIGHTS:
        return "bundled"
    return m.weights


def versions() -> dict[str, str | None]:
    """Python and the versions of the libraries a result depends on."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


Results = Union[Any, Mapping[str, Any]]


def named_results(results: Results) -> dict[str, Any]:
    """{name: result} from one result or a mapping (entries that are not results, e.g. None, dropped)."""
    if isinstance(results, Mapping):
        named = {str(k): v for k, v in results.items() if v is not None and dataclasses.is_dataclass(v) and not isinstance(v, type)}
    else:
        named = {"result": results}
    if not named:
        raise ExportError("There is no result to export.", "Run the method first.")
    for name in named:
        if not name or any(c in name for c in '/\\:*?"<>|') or name.startswith("."):
            raise ExportError(f"{name!r} cannot name a result in a bundle.", "Use letters, digits, '-' and '_'.")
    return named


def _entry(name: str, result: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": type(result).__name__,
        "params": plain(getattr(result, "params", {})),
        "notes": list(getattr(result, "notes", ())),
        "values": _values(result),
        "arrays": {k: {"sha256": array_digest(v), "dtype": v.dtype.str, "shape": list(v.shape)} for k, v in arrays_of(result).items()},
    }
    try:
        function, kwargs = call_of(result)
        entry["call"] = {"function": function, "kwargs": plain(kwargs)}
    except ExportError as error:
        entry["call"] = None
        entry["not_reproducible"] = error.message
    return entry


def manifest(
    results: Results,
    m: "LoadedModel",
    image: ImageLike | None = None,
    *,
    weights: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """Everything that made `results` (one result, or a {name: result} mapping), as a JSON-able dict.

    weights: the `weights=` argument that loaded `m` (inferred when omitted; a checkpoint file
    is then named but must be passed again to `reproduce`); url: the dashboard address that
    reopens the view. The image is the input as given (not the model's crop of it).
    """
    from .store import weights_digest

    named = named_results(results)
    picture = load_image(image) if image is not None and uses_image(named) else None
    argument = str(weights or weights_argument(m))
    from_file = argument == "file" or bool(Path(argument).suffix)
    file_name = Path(argument).name if Path(argument).suffix else (m.weights[len("file "):] if m.weights.startswith("file ") else None)
    return {
        "convlens_manifest": MANIFEST_FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "name": m.name,
            "weights": "file" if from_file else argument,
            "weights_file": file_name if from_file else None,
            "weights_source": m.weights,
            "weights_digest": weights_digest(m.model),
            "input_size": list(m.input_size),
            "is_random": m.is_random,
        },
        "image": None if picture is None else {"digest": image_digest(picture), "file": IMAGE_NAME, "size": list(picture.size)},
        "url": url,
        "versions": versions(),
        "results": {name: _entry(name, result) for name, result in named.items()},
    }


# --- pictures from arrays -----------------------------------------------------------------------


def _lut(name: str) -> np.ndarray:
    """A 256-entry RGB table of a Plotly colour scale, so PNGs use the figures' colours."""
    import plotly.colors as pc

    scale = pc.get_colorscale(name)
    stops = np.array([s for s, _ in scale])
    colours = np.array([pc.unlabel_rgb(pc.convert_colors_to_same_type([c], "rgb")[0][0]) for _, c in scale], dtype=np.float64)
    grid = np.linspace(0, 1, 256)
    return np.stack([np.interp(grid, stops, colours[:, i]) for i in range(3)], axis=-1).round().astype(np.uint8)


def colourised(values: np.ndarray, signed: bool | None = None, *, min_side: int = 224) -> np.ndarray:
    """A 2-D map as an RGB picture on the house scales (diverging at zero when signed); small maps are
    enlarged by whole pixels, so cells stay visible."""
    from .figures.display import DIVERGING, SEQUENTIAL, symmetric_range

    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    signed = bool((values < 0).any()) if signed is None else signed
    if signed:
        top = symmetric_range([values])
        index = np.clip((values / top + 1) / 2, 0, 1)
        table = _lut(DIVERGING)
    else:
        low, top = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        index = np.clip((values - low) / (top - low if top > low else 1.0), 0, 1)
        table = _lut(SEQUENTIAL)
    picture = table[(index * 255).round().astype(int)]
    factor = max(1, int(np.ceil(min_side / max(min(picture.shape[:2]), 1)))) if min(picture.shape[:2]) < min_side else 1
    return np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1) if factor > 1 else picture


def pictures(result: Any) -> dict[str, np.ndarray]:
    """The result's arrays as RGB uint8 pictures: images as they are, maps on the house colour scales."""
    from .figures.display import amplified, gradient_picture, tile_canvas
    from .results import Attribution, OcclusionMap

    out: dict[str, np.ndarray] = {}
    for name, value in arrays_of(result).items():
        if value.dtype == np.uint8 and value.ndim == 3 and value.shape[-1] == 3:
            out[name] = value
        elif value.dtype == np.uint8 and value.ndim in (4, 5) and value.shape[-1] == 3:
            tiles = value.reshape(-1, *value.shape[-3:])[:64]
            columns = value.shape[1] if value.ndim == 5 else int(np.ceil(np.sqrt(len(tiles))))
            rows = int(np.ceil(len(tiles) / columns))
            padded = np.concatenate([tiles, np.zeros((rows * columns - len(tiles), *tiles.shape[1:]), np.uint8)])
            out[name] = tile_canvas(padded, rows, columns, 2, 255)
        elif value.ndim == 3 and value.shape[-1] == 3 and np.issubdtype(value.dtype, np.floating):
            out[name] = amplified(value, float(np.abs(value).max(initial=0.0)))
        elif isinstance(result, Attribution) and name == "attribution":
            out[name] = gradient_picture(value)
        elif value.ndim == 2 and min(value.shape) > 1 and np.issubdtype(value.dtype, np.number):
            out[name] = colourised(value)
    if isinstance(result, Attribution):
        out["map"], out["saliency"] = colourised(result.map, True), colourised(result.saliency, False)
    if isinstance(result, OcclusionMap):
        out["drop"] = colourised(result.drop, True)
    return out


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(picture)).save(buffer, format="PNG")
    return buffer.getvalue()


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return buffer.getvalue()


def figure_html(result: Any, *, plotly_js: str | bool = "directory") -> str | None:
    """The result's interactive figure as an HTML page (None when its kind has no figure).

    plotly_js "directory": the page loads plotly.min.js from its own folder (one copy per
    bundle); True inlines it (a page that stands alone).
    """
    from . import figures

    try:
        fig = figures.figure(result)
    except TypeError:
        return None
    return fig.to_html(include_plotlyjs=plotly_js, full_html=True)


def files_zip(stem: str, *, picture: np.ndarray | None = None, arrays: Mapping[str, np.ndarray] | None = None, params: Any = None) -> bytes:
    """A zip of what is not a result (a table, a summary): `stem`.png, .npz and .json, no manifest to replay."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        if picture is not None:
            bundle.writestr(f"{stem}.png", png_bytes(picture))
        if arrays:
            bundle.writestr(f"{stem}.npz", npz_bytes(arrays))
        if params is not None:
            bundle.writestr(f"{stem}.json", json.dumps(plain(params), indent=2))
    return buffer.getvalue()


def results_zip(
    results: Results,
    m: "LoadedModel",
    image: ImageLike | None = None,
    *,
    weights: str | None = None,
    url: str | None = None,
) -> bytes:
    """One zip with the manifest, the input image, arrays (NPZ), pictures (PNG) and figures (HTML)."""
    import plotly.offline

    named = named_results(results)
    record = manifest(named, m, image, weights=weights, url=url)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        if record["image"] is not None and image is not None:
            bundle.writestr(IMAGE_NAME, png_bytes(np.asarray(load_image(image))))
        wrote_js = False
        for name, result in named.items():
            files: dict[str, Any] = {"npz": f"{name}.npz", "png": []}
            bundle.writestr(files["npz"], npz_bytes(arrays_of(result)))
            for picture_name, picture in pictures(result).items():
                path = f"{name}-{picture_name}.png"
                bundle.writestr(path, png_bytes(picture))
                files["png"].append(path)
            html = figure_html(result)
            if html is not None:
                files["html"] = f"{name}.html"
                bundle.writestr(files["html"], html)
                if not wrote_js:
                    bundle.writestr("plotly.min.js", plotly.offline.get_plotlyjs())
                    wrote_js = True
            record["results"][name]["files"] = files
        bundle.writestr(MANIFEST_NAME, json.dumps(record, indent=2))
    return buffer.getvalue()


# --- reproduce ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reproduction:
    """What `reproduce` made and how it compares: per result, per array, the largest |difference|
    (0.0 with identical bytes) or None where the stored array was not at hand and the digests differ."""

    results: dict[str, Any]
    identical: dict[str, dict[str, bool]]
    max_difference: dict[str, dict[str, float | None]]
    skipped: dict[str, str]

    @property
    def exact(self) -> bool:
        """Every replayed array is bit-identical to the stored one (and something was replayed)."""
        return bool(self.results) and all(all(v.values()) for v in self.identical.values())


def _read_source(source: Any) -> tuple[dict[str, Any], Callable[[str], bytes | None]]:
    """A manifest and a reader for the files beside it (a zip, a folder, or nothing)."""
    if isinstance(source, Mapping):
        return dict(source), lambda name: None
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise ExportError(f"No manifest or bundle at '{path}'.", "Pass a results zip, a manifest.json or the folder it is in.")
        if path.is_dir():
            path = path / MANIFEST_NAME
        if path.suffix.lower() == ".json":
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise ExportError(f"'{path.name}' is not a readable manifest ({error}).") from error
            folder = path.parent

            def beside(name: str) -> bytes | None:
                candidate = folder / Path(name).name
                return candidate.read_bytes() if candidate.is_file() else None

            return record, beside
        data = path.read_bytes()
    try:
        bundle = zipfile.ZipFile(io.BytesIO(data))
        record = json.loads(bundle.read(MANIFEST_NAME))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ExportError("This is not a convlens results zip (no readable manifest.json inside).", "Download it again with 'Download results'.") from error
    names = set(bundle.namelist())
    return record, lambda name: bundle.read(name) if name in names else None


def _check_manifest(record: Mapping[str, Any]) -> None:
    if record.get("convlens_manifest") != MANIFEST_FORMAT or not isinstance(record.get("results"), Mapping):
        raise ExportError("This is not a convlens manifest (format 1).", "Use the manifest.json of a 'Download results' zip.")


def _load_model(record: Mapping[str, Any], model: "LoadedModel | None", weights: str | None) -> "LoadedModel":
    from .hub import DEMO_MODELS, load_model
    from .store import weights_digest

    spec = record["model"]
    if model is None:
        argument = weights or spec["weights"]
        if argument == "random":
            raise ExportError(
                f"{spec['name']} ran with random weights, which cannot be drawn again.",
                "Pass the same model object: reproduce(manifest, model=m), or save its weights to a file.",
            )
        if argument == "file":
            raise ExportError(f"{spec['name']} ran with weights from the file {spec.get('weights_file')}.", "Pass its path: reproduce(manifest, weights='/path/to/file').")
        size = spec.get("input_size")
        kwargs = {} if spec["name"] in DEMO_MODELS or not size else {"input_size": (int(size[1]), int(size[2]))}
        model = load_model(spec["name"], argument, **kwargs)
    if model.name != spec["name"]:
        raise ExportError(f"The manifest is for {spec['name']}, the model given is {model.name}.")
    digest = weights_digest(model.model)
    if digest != spec["weights_digest"]:
        raise ExportError(
            f"These weights are not the ones that made the result (digest {digest[:12]}… instead of {spec['weights_digest'][:12]}…).",
            "Load the same checkpoint; another version of the bundled package also changes the digest.",
        )
    return model


def _load_image(record: Mapping[str, Any], image: ImageLike | None, read: Callable[[str], bytes | None]) -> Any:
    spec = record.get("image")
    if spec is None:
        return None if image is None else load_image(image)
    if image is None:
        data = read(spec.get("file", IMAGE_NAME))
        if data is None:
            return None  # recipes that need no image still run; others say what is missing
        image = data
    picture = load_image(image)
    if image_digest(picture) != spec["digest"]:
        raise ExportError("This image is not the one the result was made from (its digest differs).", "Use the input.png of the bundle.")
    return picture


def reproduce(
    source: Mapping[str, Any] | str | Path | bytes,
    *,
    image: ImageLike | None = None,
    model: "LoadedModel | None" = None,
    weights: str | None = None,
    only: str | None = None,
) -> Reproduction:
    """Make every result of a manifest again and compare it with what was stored.

    source: a manifest dict, a manifest.json path (or its folder), or a results zip (path or
    bytes). image: the input, when the source does not carry it; model: the loaded model (needed
    for random weights); weights: the checkpoint path for results made from a file; only: one
    result's name. The weights' digest and the image's digest are checked before anything runs.
    """
    record, read = _read_source(source)
    _check_manifest(record)
    entries = dict(record["results"])
    if only is not None:
        if only not in entries:
            raise ExportError(f"The manifest has no result called {only!r}.", f"It has: {', '.join(entries)}.")
        entries = {only: entries[only]}
    m = _load_model(record, model, weights)
    picture = _load_image(record, image, read)
    made: dict[str, Any] = {}
    identical: dict[str, dict[str, bool]] = {}
    differences: dict[str, dict[str, float | None]] = {}
    skipped: dict[str, str] = {}
    for name, entry in entries.items():
        call = entry.get("call")
        if not call:
            skipped[name] = entry.get("not_reproducible", "no call recorded")
            continue
        if picture is None and call["function"] not in _NEEDS_NO_IMAGE:
            _need_image(None)
        result = _run_call(call["function"], call["kwargs"], m, picture)
        made[name] = result
        stored = _stored_arrays(read, entry)
        identical[name], differences[name] = {}, {}
        new = arrays_of(result)
        for key, info in entry["arrays"].items():
            if key not in new:
                identical[name][key], differences[name][key] = False, None
                continue
            same = array_digest(new[key]) == info["sha256"]
            identical[name][key] = same
            if same:
                differences[name][key] = 0.0
            elif key in stored and stored[key].shape == new[key].shape:
                differences[name][key] = float(np.abs(stored[key].astype(np.float64) - new[key].astype(np.float64)).max(initial=0.0))
            else:
                differences[name][key] = None
    return Reproduction(made, identical, differences, skipped)


def _stored_arrays(read: Callable[[str], bytes | None], entry: Mapping[str, Any]) -> dict[str, np.ndarray]:
    files = entry.get("files") or {}
    data = read(files["npz"]) if files.get("npz") else None
    if data is None:
        return {}
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        return {k: stored[k] for k in stored.files}
