"""Every Streamlit cache around viz_core, in one place.

Why: models are shared resources (one object for all sessions; engines lock and scope their hooks),
results are data (pickled copies, keyed by content digests, bounded). Pages call these functions
and never torch directly.
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import streamlit as st

import viz_core as vc
from viz_core.images import image_digest

UPLOAD_DIR = Path(tempfile.gettempdir()) / "convlens-uploads"


@st.cache_resource(max_entries=3, show_spinner="Loading the model…")
def model(name: str, weights: str) -> vc.LoadedModel:
    """One shared model per (name, weights source); `weights` is a source name or a saved upload path."""
    return vc.load_model(name, weights)


@st.cache_data(show_spinner=False)
def model_names() -> list[str]:
    return vc.available_models()


def save_upload(data: bytes, suffix: str) -> Path:
    """Store uploaded bytes under a name made from their digest: the user's file name never becomes a path."""
    suffix = suffix.lower() if suffix.lower() in (".safetensors", ".pth", ".pt", ".bin") else ".bin"
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    path = UPLOAD_DIR / f"{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
    if not path.exists():
        path.write_bytes(data)
    return path


@st.cache_data(max_entries=32, show_spinner=False)
def uploaded_image(digest: str, _data: bytes) -> "vc.images.Image.Image":
    """A checked, RGB version of an upload (keyed by the bytes' digest)."""
    return vc.load_image(_data)


@st.cache_data(max_entries=16, show_spinner=False)
def sample(name: str) -> "vc.images.Image.Image":
    return vc.sample_image(name)


def digest_of(picture: "vc.images.Image.Image") -> str:
    return image_digest(picture)


@st.cache_data(max_entries=64, show_spinner=False)
def predictions(model_key: str, image_key: str, _m: vc.LoadedModel, _image: "vc.images.Image.Image", top_k: int = 5) -> list[vc.Prediction]:
    return _m.predict(_image, top_k=top_k)


# --- linear fooling toy, adversarial images, neural style ---


@st.cache_data(max_entries=64, show_spinner=False)
def linear_fooling(x: tuple[float, ...], w: tuple[float, ...], eps: float, b: float) -> "vc.results.LinearFooling":
    return vc.linear_fool(list(x), list(w), eps, b)


@st.cache_data(max_entries=128, show_spinner=False)
def digit_fooling(index: int, target: int, eps: float, clip: bool) -> "vc.results.DigitsFooling":
    return vc.fool_digit(vc.digits_classifier(), index, target, eps, clip=clip)


@st.cache_data(max_entries=128, show_spinner=False)
def digit_min_epsilons(index: int, clip: bool) -> list[float | None]:
    """The smallest ε that turns test digit `index` into each of the ten classes (None: not within ε ≤ 1)."""
    classifier = vc.digits_classifier()
    return [vc.digit_min_epsilon(classifier, index, target, clip=clip) for target in range(10)]


@st.cache_data(max_entries=4, show_spinner=False)
def digits_summary() -> tuple[int, float, list[int]]:
    """(number of test digits, test accuracy, their labels) of the logistic digits classifier."""
    classifier = vc.digits_classifier()
    return len(classifier.test_labels), classifier.accuracy, [int(v) for v in classifier.test_labels]


@st.cache_data(max_entries=8, show_spinner=False)
def dimension_gain(dims: tuple[int, ...], eps: float) -> "vc.results.DimensionGain":
    return vc.dimension_gain(list(dims), eps, trials=50)


@st.cache_data(max_entries=32, show_spinner=False)
def attack(
    model_key: str, image_key: str, method: str, target: int | None, eps: float, norm: str, steps: int, _m: vc.LoadedModel, _image: "vc.images.Image.Image", _on_step: object = None
) -> "vc.results.Adversarial":
    """FGSM (one step) or PGD on the selected image, keyed by the model, the image digest and the settings."""
    if method == "fgsm":
        return vc.fgsm(_m, _image, eps, target=target, norm=norm, on_step=_on_step)  # type: ignore[arg-type]
    return vc.adversarial(_m, _image, target, eps, norm, steps, on_step=_on_step)  # type: ignore[arg-type]


@st.cache_data(max_entries=8, show_spinner=False)
def attack_sweep(model_key: str, target: int | None, norm: str, steps: int, epsilons: tuple[float, ...], _m: vc.LoadedModel, _on_step: object = None) -> "vc.results.AttackSweep":
    """PGD success against ε over the first sample photos (each (image, ε) its own run)."""
    return vc.attack_sweep(_m, None, epsilons, target, norm, steps, on_step=_on_step)  # type: ignore[arg-type]


@st.cache_data(max_entries=16, show_spinner=False)
def style_transfer(
    model_key: str,
    content_key: str,
    style_key: str,
    settings: tuple[tuple[str, object], ...],
    _m: vc.LoadedModel,
    _content: "vc.images.Image.Image",
    _style: "vc.images.Image.Image",
    _on_step: object = None,
) -> "vc.results.StyleTransfer":
    """Neural style keyed by the model, both images' digests and every setting (as sorted pairs)."""
    return vc.style_transfer(_m, _content, _style, on_step=_on_step, **dict(settings))  # type: ignore[arg-type]
