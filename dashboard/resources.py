"""Every Streamlit cache around viz_core, in one place.

Why: models are shared resources (one object for all sessions; engines lock and scope their hooks),
results are data (pickled copies, keyed by content digests, bounded). Pages call these functions
and never torch directly.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

import viz_core as vc

UPLOAD_DIR = Path(tempfile.gettempdir()) / "convlens-uploads"
DEVICE = os.environ.get("CONVLENS_DEVICE", "auto")  # CUDA, else MPS, else CPU


@st.cache_resource(max_entries=3, show_spinner="Loading the model…")
def model(name: str, weights: str) -> vc.LoadedModel:
    """One shared model per (name, weights source); `weights` is a source name or a saved upload path."""
    return vc.load_model(name, weights, device=DEVICE)


@st.cache_data(show_spinner=False)
def model_names() -> list[str]:
    return vc.available_models()


def save_upload(data: bytes, suffix: str) -> Path:
    """Store an uploaded checkpoint under a name made from its digest: the user's file name never becomes a path."""
    return _store_by_digest(data, "", suffix.lower() if suffix.lower() in (".safetensors", ".pth", ".pt", ".bin") else ".bin")


def _store_by_digest(data: bytes, prefix: str, suffix: str) -> Path:
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    path = UPLOAD_DIR / f"{prefix}{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
    if not path.exists():
        path.write_bytes(data)
    return path


@st.cache_data(max_entries=32, show_spinner=False)
def uploaded_image(digest: str, _data: bytes) -> Image.Image:
    """A checked, RGB version of an upload (keyed by the bytes' digest)."""
    return vc.load_image(_data)


@st.cache_data(max_entries=16, show_spinner=False)
def sample(name: str) -> Image.Image:
    return vc.sample_image(name)


def digest_of(picture: Image.Image) -> str:
    return vc.image_digest(picture)


@st.cache_data(max_entries=64, show_spinner=False)
def predictions(model_key: str, image_key: str, _m: vc.LoadedModel, _image: Image.Image, top_k: int = 5) -> list[vc.Prediction]:
    return _m.predict(_image, top_k=top_k)


# --- attribution ---------------------------------------------------------------------------------
# Targets are frozen dataclasses (`vc.class_logit(k)`, `vc.unit(...)`): hashable, so they key caches.


@st.cache_data(max_entries=16, show_spinner="Backpropagating to the image…")
def backprop_maps(
    model_key: str,
    image_key: str,
    target: vc.Target,
    cam_layer: str | None,
    smooth_samples: int,
    _m: vc.LoadedModel,
    _image: Image.Image,
) -> dict[str, object]:
    """Vanilla, guided and deconvnet gradients (optionally SmoothGrad-averaged), Grad-CAM and guided Grad-CAM.

    Grad-CAM is None with a message under "cam_error" when the layer cannot give a map, so the
    other panels still show.
    """
    x = _m.preprocess(_image)
    out: dict[str, object] = {}
    for rule in vc.RULES:
        if smooth_samples:
            out[rule] = vc.smoothgrad(_m, x, target, samples=smooth_samples, rule=rule)
        else:
            out[rule] = vc.backprop(_m, x, target, rule=rule)
    out["cam"], out["guided_cam"], out["cam_error"] = None, None, None
    if cam_layer:
        try:
            out["cam"] = vc.grad_cam(_m, x, target, layer=cam_layer)
            out["guided_cam"] = vc.guided_grad_cam(_m, x, target, layer=cam_layer)
        except vc.LayerError as error:
            out["cam_error"] = f"{error.message} {error.hint}".strip()
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def channel_map(model_key: str, image_key: str, layer: str, channel: int, _m: vc.LoadedModel, _image: Image.Image) -> np.ndarray:
    """Where one channel fires on the image (for picking a neuron's position)."""
    return vc.channel_map(_m, _image, layer, channel)


@st.cache_data(max_entries=16, show_spinner=False)
def path_attributions(
    model_key: str,
    image_key: str,
    target: vc.Target,
    baseline: str,
    steps: int,
    _m: vc.LoadedModel,
    _image: Image.Image,
    _on_step: vc.OnStep | None = None,
) -> dict[str, vc.Attribution]:
    """Gradient × input and integrated gradients: attributions whose sum explains the score."""
    x = _m.preprocess(_image)
    return {
        "gradient_x_input": vc.gradient_x_input(_m, x, target),
        "integrated_gradients": vc.integrated_gradients(_m, x, target, baseline=baseline, steps=steps, on_step=_on_step),
    }


@st.cache_data(max_entries=8, show_spinner=False)
def occlusion_map(
    model_key: str,
    image_key: str,
    target: vc.Target,
    patch: int,
    stride: int,
    fill: str,
    _m: vc.LoadedModel,
    _image: Image.Image,
    _on_step: vc.OnStep | None = None,
) -> vc.OcclusionMap:
    """Occlusion sensitivity of `target` (cached per settings)."""
    return vc.occlusion(_m, _image, target, patch=patch, stride=stride, fill=fill, on_step=_on_step)


@st.cache_data(max_entries=8, show_spinner="Segmenting…")
def saliency_segmentation(
    model_key: str,
    image_key: str,
    target: vc.Target,
    source: str,
    foreground_quantile: float,
    background_quantile: float,
    iterations: int,
    _m: vc.LoadedModel,
    _image: Image.Image,
) -> tuple[vc.Attribution, vc.Segmentation]:
    """A saliency map of `target` and the GrabCut mask it seeds."""
    if source == "smoothgrad":
        attribution = vc.smoothgrad(_m, _image, target, samples=16)
    else:
        attribution = vc.backprop(_m, _image, target, rule=source)
    segmentation = vc.grabcut_from_saliency(
        attribution.image, attribution.saliency, foreground_quantile=foreground_quantile, background_quantile=background_quantile, iterations=iterations
    )
    return attribution, segmentation


# --- synthesis: each recipe's settings dataclass keys its cache; the progress callback is
# `_`-prefixed, so never part of the key.


@st.cache_data(max_entries=24, show_spinner=False)
def class_model(model_key: str, class_index: int, settings: vc.Ascent, _m: vc.LoadedModel, _on_step: vc.OnStep | None = None) -> vc.Synthesis:
    return vc.class_model(_m, class_index, settings, on_step=_on_step)


@st.cache_data(max_entries=24, show_spinner=False)
def neuron(model_key: str, target: vc.Unit, settings: vc.Ascent, _m: vc.LoadedModel, _on_step: vc.OnStep | None = None) -> vc.Synthesis:
    return vc.neuron(_m, target, settings, on_step=_on_step)


@st.cache_data(max_entries=8, show_spinner=False)
def inversions(model_key: str, image_key: str, layers: tuple[str | None, ...], settings: vc.Inversion, _m: vc.LoadedModel, _image: Image.Image, _on_step: vc.OnStep | None = None) -> list[vc.Synthesis]:
    return vc.invert_depths(_m, _image, list(layers), settings, on_step=_on_step)


@st.cache_data(max_entries=16, show_spinner=False)
def deepdream(model_key: str, image_key: str, layer: str, settings: vc.Dream, _m: vc.LoadedModel, _image: Image.Image, _on_step: vc.OnStep | None = None) -> vc.Synthesis:
    return vc.deepdream(_m, _image, layer, settings, on_step=_on_step)


@st.cache_data(max_entries=64, show_spinner=False)
def channel_mean_over_samples(model_key: str, layer: str, channel: int, _m: vc.LoadedModel) -> float:
    """The channel's mean activation over the sample photos: the yardstick for a neuron picture."""
    return vc.sample_channel_mean(_m, layer, channel)


# --- dataset passes: collections, filters, top patches, embeddings -------------------------------
COLLECTION_CHOICES = {"digits": "Digits (scikit-learn, 1,797)", "photos": "Sample photo crops (300)", "folder": "A folder on this machine", "zip": "Upload a zip of images"}


@st.cache_resource(max_entries=4, show_spinner="Reading the collection…")
def collection(kind: str, key: str, _source: "str | bytes") -> vc.Collection:
    """One shared, immutable collection per source (`key`: the name, folder path, or zip digest)."""
    return vc.collection(_source)


@st.cache_data(max_entries=16, show_spinner=False)
def filters(model_key: str, layer: str, scale: str, _m: vc.LoadedModel) -> vc.Filters:
    return vc.filters(_m, layer, scale=scale)


@st.cache_data(max_entries=8, show_spinner=False)
def top_patches(model_key: str, collection_key: str, layer: str, channels: tuple[int, ...] | None, k: int, n_channels: int, _m: vc.LoadedModel, _c: vc.Collection, _on_step: vc.OnStep | None = None) -> vc.TopPatches:
    return vc.top_patches(_m, _c, layer, channels=list(channels) if channels else None, k=k, n_channels=n_channels, on_step=_on_step)


@st.cache_data(max_entries=64, show_spinner=False)
def collection_view(model_key: str, collection_key: str, index: int, _m: vc.LoadedModel, _c: vc.Collection) -> np.ndarray:
    """Image `index` of a collection as the model sees it (HxWx3 uint8)."""
    return (_m.image01(_c.load(index)) * 255).round().astype("uint8")


@st.cache_data(max_entries=8, show_spinner=False)
def features(model_key: str, collection_key: str, layer: str | None, pool: str, limit: int, seed: int, _m: vc.LoadedModel, _c: vc.Collection, _on_step: vc.OnStep | None = None) -> vc.Features:
    return vc.features(_m, _c, layer, pool=pool, limit=limit, seed=seed, on_step=_on_step)


@st.cache_data(max_entries=16, show_spinner=False)
def projection(features_key: str, method: str, seed: int, perplexity: float, n_neighbors: int, min_dist: float, _f: vc.Features, _on_step: vc.OnStep | None = None) -> vc.Projection:
    return vc.project(_f, method, seed=seed, perplexity=perplexity, n_neighbors=n_neighbors, min_dist=min_dist, on_step=_on_step)


@st.cache_resource(show_spinner=False)
def umap_ready(_on_step: vc.OnStep | None = None) -> float:
    """Pay umap-learn's numba compilation once per server process."""
    return vc.warm_umap(_on_step)


# --- linear fooling toy, adversarial images, neural style ---


@st.cache_data(max_entries=64, show_spinner=False)
def linear_fooling(x: tuple[float, ...], w: tuple[float, ...], eps: float, b: float) -> vc.LinearFooling:
    return vc.linear_fool(list(x), list(w), eps, b)


@st.cache_data(max_entries=128, show_spinner=False)
def digit_fooling(index: int, target: int, eps: float, clip: bool) -> vc.DigitsFooling:
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
def dimension_gain(dims: tuple[int, ...], eps: float) -> vc.DimensionGain:
    return vc.dimension_gain(list(dims), eps, trials=50)


@st.cache_data(max_entries=32, show_spinner=False)
def attack(
    model_key: str, image_key: str, method: str, target: int | None, eps: float, norm: str, steps: int, _m: vc.LoadedModel, _image: Image.Image, _on_step: vc.OnStep | None = None
) -> vc.Adversarial:
    """FGSM (one step) or PGD on the selected image, keyed by the model, the image digest and the settings."""
    if method == "fgsm":
        return vc.fgsm(_m, _image, target, eps=eps, norm=norm, on_step=_on_step)
    return vc.adversarial(_m, _image, target, eps=eps, norm=norm, steps=steps, on_step=_on_step)


@st.cache_data(max_entries=8, show_spinner=False)
def attack_sweep(model_key: str, target: int | None, norm: str, steps: int, epsilons: tuple[float, ...], _m: vc.LoadedModel, _on_step: vc.OnStep | None = None) -> vc.AttackSweep:
    """PGD success against ε over the first sample photos (each (image, ε) its own run)."""
    return vc.attack_sweep(_m, None, target, epsilons=epsilons, norm=norm, steps=steps, on_step=_on_step)


@st.cache_data(max_entries=16, show_spinner=False)
def style_transfer(
    model_key: str,
    content_key: str,
    style_key: str,
    settings: vc.Style,
    _m: vc.LoadedModel,
    _content: Image.Image,
    _style: Image.Image,
    _on_step: vc.OnStep | None = None,
) -> vc.StyleTransfer:
    """Neural style keyed by the model, both images' digests and its settings."""
    return vc.style_transfer(_m, _content, _style, settings, on_step=_on_step)


# --- trust: deletion / insertion and randomisation sanity checks (issue 12) ----------------------
# Randomisation runs on private deep copies inside viz_core; the cached model is never changed.
QUICK_CHECK_METHODS = ("vanilla", "guided", "deconvnet", "saliency")


@st.cache_data(max_entries=16, show_spinner=False)
def faithfulness(
    model_key: str, image_key: str, target: vc.Target, methods: tuple[str, ...], settings: vc.MapSettings, step: float, patch: int, baseline: str,
    _m: vc.LoadedModel, _image: Image.Image, _on_step: vc.OnStep | None = None,
) -> vc.Faithfulness:
    return vc.faithfulness(_m, _image, target, methods=methods, settings=settings, step=step, patch=patch, baseline=baseline, on_step=_on_step)


@st.cache_data(max_entries=8, show_spinner=False)
def faithfulness_summary(
    model_key: str, collection_key: str, images: int, methods: tuple[str, ...], settings: vc.MapSettings, step: float, patch: int, baseline: str,
    _m: vc.LoadedModel, _c: vc.Collection, _on_step: vc.OnStep | None = None,
) -> vc.FaithfulnessSummary:
    """Over a collection: from the results store when it holds this summary, else scored and saved there."""
    return vc.faithfulness_summary(_m, _c, images=images, methods=methods, settings=settings, step=step, patch=patch, baseline=baseline,
                                   store=result_store(), on_step=_on_step)


def known_faithfulness_summary(
    model_key: str, collection_key: str, images: int, methods: tuple[str, ...], settings: vc.MapSettings, step: float, patch: int, baseline: str,
    m: vc.LoadedModel, c: vc.Collection,
) -> vc.FaithfulnessSummary | None:
    """The summary when the store already holds it (one small file read, not cached: a pass may fill it), else None."""
    return vc.stored_faithfulness_summary(m, c, store=result_store(), images=images, methods=methods, settings=settings, step=step, patch=patch, baseline=baseline)


@st.cache_data(max_entries=8, show_spinner=False)
def model_randomisation(
    model_key: str, image_key: str, target: vc.Target, mode: str, methods: tuple[str, ...], settings: vc.MapSettings,
    _m: vc.LoadedModel, _image: Image.Image, _on_step: vc.OnStep | None = None,
) -> vc.Sanity:
    return vc.model_randomisation(_m, _image, target, mode=mode, methods=methods, settings=settings, on_step=_on_step)


@st.cache_data(max_entries=32, show_spinner=False)
def quick_sanity(model_key: str, image_key: str, target: vc.Target, _m: vc.LoadedModel, _image: Image.Image) -> vc.Sanity:
    """The cheap verdict: the backprop rules' maps with the top half of the layer groups random (a few passes)."""
    return vc.model_randomisation(_m, _image, target, mode="top_half", methods=QUICK_CHECK_METHODS)


@st.cache_data(max_entries=8, show_spinner=False)
def data_randomisation(
    image_key: str, target: vc.Target, methods: tuple[str, ...], settings: vc.MapSettings, _trained: vc.LoadedModel, _shuffled: vc.LoadedModel, _image: Image.Image,
) -> vc.Sanity:
    return vc.data_randomisation(_trained, _shuffled, _image, target, methods=methods, settings=settings)


# --- transformer attention: per-head maps, rollout, gradient-weighted attention (zoo) ---


@st.cache_data(max_entries=16, show_spinner=False)
def attention_blocks(model_key: str, _m: vc.LoadedModel) -> list[vc.AttentionBlock]:
    """The model's readable global attention blocks (raises LayerError with the reason when none)."""
    return vc.attention_blocks(_m)


@st.cache_data(max_entries=32, show_spinner="Reading the attention…")
def attention_maps(model_key: str, image_key: str, block: str, _m: vc.LoadedModel, _image: Image.Image) -> vc.AttentionHeads:
    """Every head of one block, from the class token (or the mean query)."""
    return vc.attention_maps(_m, _image, block=block)


@st.cache_data(max_entries=32, show_spinner="Rolling out the attention…")
def attention_rollout(model_key: str, image_key: str, head_fusion: str, discard_ratio: float, _m: vc.LoadedModel, _image: Image.Image) -> vc.AttentionRelevance:
    return vc.attention_rollout(_m, _image, head_fusion=head_fusion, discard_ratio=discard_ratio)


@st.cache_data(max_entries=32, show_spinner="Weighting the attention by the class's gradient…")
def gradient_attention(model_key: str, image_key: str, target: vc.Target, _m: vc.LoadedModel, _image: Image.Image) -> vc.AttentionRelevance:
    return vc.gradient_attention(_m, _image, target)


# --- pictures past the Lucid baseline: accentuation and diversity (issue 15) ---


@st.cache_data(max_entries=16, show_spinner=False)
def accentuate(model_key: str, image_key: str, target: "int | vc.Unit", settings: vc.Accent, _m: vc.LoadedModel, _image: Image.Image, _on_step: vc.OnStep | None = None) -> vc.Synthesis:
    """Feature accentuation keyed by the model, the image's digest, the target and its settings."""
    return vc.accentuate(_m, _image, target, settings, on_step=_on_step)


@st.cache_data(max_entries=16, show_spinner=False)
def diverse(model_key: str, target: vc.Unit, count: int, weight: float, settings: vc.Ascent, _m: vc.LoadedModel, _on_step: vc.OnStep | None = None) -> vc.Synthesis:
    """Several pictures of one unit at once, pushed apart by the diversity term."""
    return vc.diverse(_m, target, count, weight, settings, on_step=_on_step)


# --- compare (handover): models side by side, methods side by side, CKA between layers ----------


@st.cache_resource(max_entries=3, show_spinner="Loading a model to compare…")
def compare_model(name: str, weights: str) -> vc.LoadedModel:
    """The compared models beside the sidebar's (which stays in `model`): three more at most."""
    return vc.load_model(name, weights)


@st.cache_data(max_entries=64, show_spinner=False)
def explained(model_key: str, image_key: str, method: str, target: vc.Target, layer: str | None, _m: vc.LoadedModel, _image: Image.Image) -> object:
    """One attribution by method name (`vc.METHODS`), keyed by the model, the image digest, the target and the layer."""
    return vc.explain(_m, _image, method, target, layer=layer)


@st.cache_data(max_entries=8, show_spinner=False)
def layer_similarity(
    key_a: str, key_b: str, collection_digest: str, limit: int, grid: int, _m_a: vc.LoadedModel, _m_b: vc.LoadedModel, _c: vc.Collection, _on_step: vc.OnStep | None = None
) -> vc.LayerSimilarity:
    """Linear CKA between the stage outputs of two models over a collection."""
    return vc.cka(_m_a, _m_b, _c, limit=limit, grid=grid, on_step=_on_step)


# --- debugging a model on its own data (issue 11): the deployment file, labels, evaluation, the store ---


@st.cache_data(max_entries=4, show_spinner=False)
def _deployment(path: str, stamp: tuple[int, int]) -> vc.Config:
    return vc.load_config(path)


def deployment() -> vc.Config:
    """The deployment file (convlens.toml or CONVLENS_CONFIG), read again when it changes."""
    path = vc.config_path()
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (0, 0)
    return _deployment(str(path), stamp)


def entry_stamp(entry: vc.ModelEntry) -> str:
    """A cache key for a configured model: the entry's fields and its files' sizes and times,
    so an edited checkpoint or labels file loads afresh (the store tells apart by content)."""
    parts = [repr(entry)]
    for path in (entry.checkpoint, entry.labels):
        if path is not None:
            try:
                stat = path.stat()
                parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
            except OSError:
                parts.append(f"{path}:missing")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@st.cache_resource(max_entries=3, show_spinner="Loading the configured model…")
def configured_model(name: str, stamp: str, _entry: vc.ModelEntry) -> vc.LoadedModel:
    """One shared model per configured entry (and version of its files)."""
    return vc.load_entry(_entry, device=DEVICE)


def save_labels(data: bytes) -> Path:
    """An uploaded labels file stored under its digest (never under the name the user gave)."""
    return _store_by_digest(data, "labels-", ".txt")


@st.cache_resource(max_entries=3, show_spinner=False)
def labelled_model(model_key: str, labels_key: str, _m: vc.LoadedModel, _names: tuple[str, ...]) -> vc.LoadedModel:
    """The shared model with the class names of a labels file (same module, so same lock and weights)."""
    return dataclasses.replace(_m, class_names=list(_names))


def result_store() -> vc.Store:
    """The on-disk results store (CONVLENS_CACHE_DIR, default the user's cache folder)."""
    return vc.Store()


@st.cache_data(max_entries=8, show_spinner=False)
def evaluation(model_key: str, collection_key: str, batch_size: int, bins: int, _m: vc.LoadedModel, _c: vc.Collection, _on_step: vc.OnStep | None = None) -> vc.Evaluation:
    """Evaluate `_m` on `_c`: from the store when it holds this pass, else one streaming pass that fills it."""
    return vc.evaluate(_m, _c, batch_size=batch_size, bins=bins, store=result_store(), on_step=_on_step)


@st.cache_data(max_entries=8, show_spinner=False)
def stored_evaluation(model_key: str, collection_key: str, batch_size: int, bins: int, _m: vc.LoadedModel, _c: vc.Collection) -> vc.Evaluation | None:
    """The evaluation when the store already holds it, else None (no pass; a miss is not kept,
    so the page looks again once a pass has filled the store)."""
    found = vc.stored_evaluation(_m, _c, store=result_store(), batch_size=batch_size, bins=bins)
    if found is None:
        raise _NotStored
    return found


class _NotStored(Exception):
    """Raised inside the cached lookup so that a miss is never cached."""


def known_evaluation(model_key: str, collection_key: str, batch_size: int, bins: int, m: vc.LoadedModel, c: vc.Collection) -> vc.Evaluation | None:
    """The stored evaluation (cached in memory after the first read), or None without a pass."""
    try:
        return stored_evaluation(model_key, collection_key, batch_size, bins, m, c)
    except _NotStored:
        return None


@st.cache_data(max_entries=16, show_spinner=False)
def contrast(model_key: str, collection_key: str, index: int, predicted: int, true: int, _m: vc.LoadedModel, _c: vc.Collection, _on_step: vc.OnStep | None = None) -> vc.Contrast:
    """Why image `index` of the collection was predicted `predicted` and not `true`."""
    return vc.contrast(_m, _c.load(index), predicted, true, on_step=_on_step)


@st.cache_data(max_entries=256, show_spinner=False)
def thumbnail(model_key: str, collection_key: str, index: int, _m: vc.LoadedModel, _c: vc.Collection, size: int = 96) -> np.ndarray:
    """Image `index` as the model sees it, enlarged or reduced to about `size` pixels (nearest neighbour for tiny ones)."""
    picture = Image.fromarray((_m.image01(_c.load(index)) * 255).round().astype("uint8"))
    scale = size / max(picture.size)
    resample = Image.NEAREST if scale > 1 else Image.BILINEAR
    return np.asarray(picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))), resample))
