"""Frozen result types shared by every engine: numpy arrays in, the parameters that made them kept.

Why numpy and frozen: results go into Streamlit's data cache (pickled, copied) and into
downloads; they must not hold tensors, graphs or references to the model. Every result carries
`params` (everything that made it, JSON-able: enough to recompute it) and `notes` (what a reader
must know, e.g. a rule that applied to nothing). Where a result names what it explains or aims
at, `target` is that target's description (str); the target itself is `params["target"]`, a
`Target.spec()` dict.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StepInfo:
    """Progress of a long run: `fraction` in [0, 1], a message, and optionally the current image."""

    fraction: float
    message: str = ""
    step: int | None = None
    score: float | None = None
    image: np.ndarray | None = None  # HxWx3 uint8 preview


OnStep = Callable[[StepInfo], None]


class Cancelled(Exception):
    """Raised by an `on_step` callback to stop a long run early."""


def report(on_step: OnStep | None, fraction: float, message: str = "", **extra: Any) -> None:
    """Call the progress callback if there is one (engines never check for None themselves)."""
    if on_step is not None:
        on_step(StepInfo(float(min(max(fraction, 0.0), 1.0)), message, **extra))


@dataclass(frozen=True)
class Attribution:
    """A signed attribution of one target to every input value, and what made it.

    `attribution` is (C, H, W) in the model's normalised input space (the gradient, or a method
    built from it); `image` is the HxWx3 uint8 picture the model saw. `rule_applied` counts the
    activation calls a backprop rule replaced: 0 with a rule other than vanilla means the rule
    had nothing to act on, and the result equals the plain gradient.
    """

    method: str
    attribution: np.ndarray
    image: np.ndarray
    target: str
    score: float
    rule: str = "vanilla"
    rule_applied: int = 0
    rule_modules: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    baseline_score: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def saliency(self) -> np.ndarray:
        """(H, W) max over colour channels of |attribution| (Simonyan et al., 2014)."""
        return np.abs(self.attribution).max(axis=0)

    @property
    def map(self) -> np.ndarray:
        """(H, W) signed sum over colour channels."""
        return self.attribution.sum(axis=0)

    @property
    def completeness_gap(self) -> float | None:
        """sum(attribution) - (score - baseline score): ~0 for integrated gradients."""
        if self.baseline_score is None:
            return None
        return float(self.attribution.sum(dtype=np.float64) - (self.score - self.baseline_score))


@dataclass(frozen=True)
class GradCam:
    """Grad-CAM of one target at one layer: `map` (h, w) at the layer's grid, `upsampled` (H, W).

    `weights` (K,) are the channel weights (spatially averaged gradients); `map` is
    ReLU(sum_k weights_k * A_k), so only evidence *for* the target shows.
    """

    map: np.ndarray
    upsampled: np.ndarray
    weights: np.ndarray
    image: np.ndarray
    layer: str
    target: str
    score: float
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OcclusionMap:
    """Scores with a patch occluded at each grid position (Zeiler & Fergus, 2014).

    Grids are (ny, nx); `centers_y`/`centers_x` give each position's patch centre in pixels of
    `image`. `score` is the target's score (the class probability for a class target), `winner`
    the most probable class with its probability.
    """

    score: np.ndarray
    winner: np.ndarray
    winner_probability: np.ndarray
    centers_y: np.ndarray
    centers_x: np.ndarray
    base_score: float
    base_winner: int
    class_names: dict[int, str]
    image: np.ndarray
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def drop(self) -> np.ndarray:
        """How much the score falls when each position is hidden (positive = the region mattered)."""
        return self.base_score - self.score


@dataclass(frozen=True)
class Segmentation:
    """A GrabCut foreground mask seeded by a saliency map (Simonyan et al., 2014, §6).

    `seeds` holds OpenCV's GrabCut codes: 0 sure background, 1 sure foreground, 2 probable
    background, 3 probable foreground.
    """

    mask: np.ndarray
    seeds: np.ndarray
    saliency: np.ndarray
    image: np.ndarray
    foreground_share: float
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Faithfulness:
    """Deletion and insertion curves of several maps on one image (Petsiuk et al., 2018).

    Curves are (M, S) for the M `methods` at the S `fractions` of units switched: deletion
    replaces the units a map ranks first by a baseline (lower area = more faithful); insertion
    reveals them on a blurred copy (higher area = more faithful). `random_*` (S,) follow a seeded
    random order, the floor. `maps` (M, H, W) are the maps that gave the orders; `score` is the
    curve target's value on the image (deletion at 0 = insertion at 1 = `score`).
    """

    methods: tuple[str, ...]
    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    random_deletion: np.ndarray
    random_insertion: np.ndarray
    maps: np.ndarray
    image: np.ndarray
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return float(self.deletion[0, 0])

    @property
    def deletion_area(self) -> np.ndarray:
        """(M,) area under each deletion curve: lower is better."""
        return np.trapezoid(self.deletion, self.fractions, axis=-1)

    @property
    def insertion_area(self) -> np.ndarray:
        """(M,) area under each insertion curve: higher is better."""
        return np.trapezoid(self.insertion, self.fractions, axis=-1)

    @property
    def random_deletion_area(self) -> float:
        return float(np.trapezoid(self.random_deletion, self.fractions))

    @property
    def random_insertion_area(self) -> float:
        return float(np.trapezoid(self.random_insertion, self.fractions))

    def table(self) -> list[dict[str, Any]]:
        """One row per method, best first by insertion − deletion area, with the random floor's row."""
        rows = [
            {"method": name, "deletion": float(d), "insertion": float(i), "insertion − deletion": float(i - d),
             "beats random (deletion)": bool(d < self.random_deletion_area), "beats random (insertion)": bool(i > self.random_insertion_area)}
            for name, d, i in zip(self.methods, self.deletion_area, self.insertion_area)
        ]
        rows.sort(key=lambda row: -row["insertion − deletion"] if np.isfinite(row["insertion − deletion"]) else np.inf)
        for rank, row in enumerate(rows, 1):
            row["rank"] = rank
        d, i = self.random_deletion_area, self.random_insertion_area
        rows.append({"method": "random order", "deletion": d, "insertion": i, "insertion − deletion": i - d, "beats random (deletion)": False, "beats random (insertion)": False, "rank": None})
        return rows


@dataclass(frozen=True)
class FaithfulnessSummary:
    """Deletion and insertion areas over N images of a collection, per method (each image's top-1 class).

    Areas are (N, M) (nan where a method did not apply); `random_*_area` (N,); `mean_*` (M, S)
    the mean curves. `interval(...)` gives a mean with its 95 % t-interval. `from_store`: read
    back from the results store (no picture scored).
    """

    methods: tuple[str, ...]
    names: tuple[str, ...]
    targets: tuple[str, ...]
    fractions: np.ndarray
    deletion_area: np.ndarray
    insertion_area: np.ndarray
    random_deletion_area: np.ndarray
    random_insertion_area: np.ndarray
    mean_deletion: np.ndarray
    mean_insertion: np.ndarray
    collection: str
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    from_store: bool = False

    @staticmethod
    def interval(values: np.ndarray) -> tuple[float, float, float]:
        """(mean, low, high) over the finite values: the 95 % t-interval (nan bounds for < 2 values)."""
        from scipy import stats

        finite = np.asarray(values, np.float64)
        finite = finite[np.isfinite(finite)]
        if finite.size == 0:
            return float("nan"), float("nan"), float("nan")
        mean = float(finite.mean())
        if finite.size < 2:
            return mean, float("nan"), float("nan")
        half = float(stats.t.ppf(0.975, finite.size - 1) * finite.std(ddof=1) / np.sqrt(finite.size))
        return mean, mean - half, mean + half

    def table(self) -> list[dict[str, Any]]:
        """One row per method (best first by mean insertion − deletion), then the random order."""
        rows = []
        for j, name in enumerate(self.methods):
            d, dl, dh = self.interval(self.deletion_area[:, j])
            i, il, ih = self.interval(self.insertion_area[:, j])
            g, _, _ = self.interval(self.insertion_area[:, j] - self.deletion_area[:, j])
            rows.append({"method": name, "deletion": d, "deletion 95% low": dl, "deletion 95% high": dh, "insertion": i,
                         "insertion 95% low": il, "insertion 95% high": ih, "insertion − deletion": g,
                         "images": int(np.isfinite(self.deletion_area[:, j]).sum())})
        rows.sort(key=lambda row: -row["insertion − deletion"] if np.isfinite(row["insertion − deletion"]) else np.inf)
        for rank, row in enumerate(rows, 1):
            row["rank"] = rank
        d, dl, dh = self.interval(self.random_deletion_area)
        i, il, ih = self.interval(self.random_insertion_area)
        rows.append({"method": "random order", "deletion": d, "deletion 95% low": dl, "deletion 95% high": dh, "insertion": i,
                     "insertion 95% low": il, "insertion 95% high": ih, "insertion − deletion": i - d,
                     "images": int(np.isfinite(self.random_deletion_area).sum()), "rank": None})
        return rows


@dataclass(frozen=True)
class Sanity:
    """Maps of the same image and target while the model is randomised (Adebayo et al., 2018).

    mode: "cascading" (stage s randomises the top s layer groups), "independent" (stage s
    randomises group s alone), "full" (everything at once) or "data" (a model trained on
    shuffled labels). `stages` (S,) name what was randomised; stage 0 is the original.
    `maps` (S, M, h, w) are the signed maps, reduced for display; the similarities (S, M) are
    computed on the full maps against stage 0: Spearman rank correlation and SSIM, of absolute
    and of signed maps. `insensitive` lists the methods whose |map| rank correlation with the
    original is still >= `threshold` at `verdict_stage` (cascading: where the top half of the
    layer groups is random; None: no verdict): their picture barely depends on what the model
    learned.
    """

    mode: str
    methods: tuple[str, ...]
    stages: tuple[str, ...]
    maps: np.ndarray
    spearman_abs: np.ndarray
    spearman_signed: np.ndarray
    ssim_abs: np.ndarray
    ssim_signed: np.ndarray
    threshold: float
    insensitive: tuple[str, ...]
    image: np.ndarray
    target: str
    verdict_stage: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def table(self) -> list[dict[str, Any]]:
        """One row per method: its similarities at the verdict stage (else the last), at the last stage, and the mark."""
        at = self.verdict_stage if self.verdict_stage is not None else -1
        return [
            {"method": name, "stage": self.stages[at], "spearman |map|": float(self.spearman_abs[at, j]), "spearman signed": float(self.spearman_signed[at, j]),
             "SSIM |map|": float(self.ssim_abs[at, j]), "SSIM signed": float(self.ssim_signed[at, j]),
             "spearman |map|, last stage": float(self.spearman_abs[-1, j]), "insensitive": name in self.insensitive}
            for j, name in enumerate(self.methods)
        ]


@dataclass(frozen=True, kw_only=True)
class Synthesis:
    """A picture made by gradient ascent (`optimize_image` and its recipes, style and attacks).

    image: the best-scoring picture seen (HxWx3 uint8); final_image: the picture after the last
    step; scores: the objective at every step run; metrics: method-specific checks (e.g. the
    class probability of a class model, the relative code distance of an inversion).
    importance: HxW in [0, 1], where the objective's gradient fell over the run (MACO's map),
    when asked for; images: (N, H, W, 3) uint8 when one run made several pictures (diversity).
    """

    image: np.ndarray
    final_image: np.ndarray
    scores: np.ndarray
    best_step: int
    stopped_early: bool
    seconds: float
    params: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    importance: np.ndarray | None = None
    images: np.ndarray | None = None


@dataclass(frozen=True)
class TopPatches:
    """Max-activating patches: for each of C channels, the k best images (rows sorted, best first).

    `boxes` are (top, left, bottom, right) of each crop in the model-input picture of that image;
    `positions` the (y, x) of the unit on the layer's grid (-1 for vector layers).
    """

    layer: str
    channels: np.ndarray  # (C,)
    values: np.ndarray  # (C, k) maximal response
    image_indices: np.ndarray  # (C, k) index in the collection
    positions: np.ndarray  # (C, k, 2)
    boxes: np.ndarray  # (C, k, 4)
    patches: np.ndarray  # (C, k, h, w, 3) uint8
    image_names: np.ndarray  # (C, k) str
    image_labels: np.ndarray  # (C, k) str
    channel_variance: np.ndarray  # (C,) variance over images of the channel's maximum
    rf_size: tuple[int, int]
    rf_box: tuple[int, int, int, int]  # the centre unit's field
    rf_gradient: np.ndarray  # (H, W) |gradient| of the centre unit, max 1
    rf_global: bool
    layout: str  # map | tokens | vector
    grid: tuple[int, int]
    k: int
    collection: str
    collection_digest: str
    images_seen: int
    skipped: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # how to read the crops (field size, global fields)


@dataclass(frozen=True)
class Features:
    """One feature vector per image of a collection, with what is needed to show and compare them."""

    values: np.ndarray  # (N, D) float32 or float16
    labels: np.ndarray  # (N,) index into label_names
    label_names: tuple[str, ...]
    predicted: np.ndarray  # (N,) the model's top-1 class
    class_names: tuple[str, ...]
    indices: np.ndarray  # (N,) positions in the collection
    names: tuple[str, ...]
    thumbnails: np.ndarray  # (N, t, t, 3) uint8: the model's view, small (also the pixel space)
    layer: str  # "pre_logits" or a layer path
    pool: str  # avg | flatten | none
    collection: str
    collection_digest: str
    skipped: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Projection:
    """2-D coordinates of a feature set and how they were made."""

    coords: np.ndarray  # (N, 2) float32
    method: str  # pca | tsne | umap
    params: dict[str, Any]
    seconds: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Neighbours:
    """The k nearest images to one query in feature or pixel space (query excluded)."""

    query: int  # row in Features
    indices: np.ndarray  # (k,) rows in Features, nearest first
    distances: np.ndarray  # (k,)
    space: str  # features | pixels
    metric: str  # cosine | euclidean
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    """A layer's weights as pictures.

    mode "rgb": `tiles` (N, kh, kw, 3) uint8, one per filter (first layers and ViT patch embeddings);
    mode "kernels": `kernels` (F, I, kh, kw) float, each output filter's slices per input channel.
    """

    layer: str
    mode: str  # rgb | kernels
    tiles: np.ndarray
    kernels: np.ndarray
    weight_shape: tuple[int, ...]
    scale: str  # filter | shared
    shown: tuple[int, int]  # (filters, input channels) shown of the layer's total
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # how to read the tiles


@dataclass(frozen=True)
class LinearFooling:
    """A binary linear (logistic) classifier before and after the step x + ε·sign(w).

    `predicted_gain` is ε‖w‖₁, the linear explanation's claim; `score_after - score_before`
    equals it exactly because nothing is clipped here.
    """

    x: np.ndarray  # (d,)
    w: np.ndarray  # (d,)
    b: float
    eps: float
    delta: np.ndarray  # (d,) = eps * sign(w)
    x_adv: np.ndarray  # (d,)
    score_before: float
    score_after: float
    prob_before: float
    prob_after: float
    predicted_gain: float
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigitsFooling:
    """One digit pushed towards a target class along sign(w_target − w_source).

    The margin logit_target − logit_source grows by `predicted_gain` = ε‖w_t − w_s‖₁ when no pixel
    hits the [0, 1] range (`clip=False`); with clipping it grows by `margin_gain` ≤ that.
    Images are (8, 8) in [0, 1] for the clean and adversarial digit, signed for the perturbation.
    """

    image: np.ndarray
    adversarial: np.ndarray
    perturbation: np.ndarray
    label: int
    source: int
    target_class: int
    eps: float
    clip: bool
    probs_before: np.ndarray  # (10,)
    probs_after: np.ndarray  # (10,)
    predicted_gain: float
    margin_gain: float
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def fooled(self) -> bool:
        """True when the adversarial digit is classified as the target class."""
        return int(np.argmax(self.probs_after)) == self.target_class


@dataclass(frozen=True)
class DimensionGain:
    """How a per-element change of size ε moves a linear score, against the input dimension d.

    `aligned` is ε‖w‖₁ (all elements moved along sign(w)): it grows like d. `random` is the
    root-mean-square change when the signs are random (measured; ≈ ε‖w‖₂): it grows only like √d.
    """

    dims: np.ndarray
    eps: float
    aligned: np.ndarray
    random: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Adversarial(Synthesis):
    """An attacked picture (`image`, rounded to 8 bits) with what the model thought before and after.

    original: HxWx3 uint8, the model's view of the input; perturbation: HxWx3 float32, the exact
    change in pixel units of [0, 1] (within the budget); probs_before/probs_after: softmax of the
    clean and the exact attacked picture; probs_8bit: of the rounded one (rounding can undo a
    small L2 change). `linear_gain` is ε‖∇‖₁ (L∞) or ε‖∇‖₂ (L2) at the clean picture: the
    first-order prediction of what one full step adds to the objective. `scores` hold the
    objective before each step (log p_target, or −log p_label).
    """

    original: np.ndarray
    perturbation: np.ndarray
    probs_before: np.ndarray
    probs_after: np.ndarray
    probs_8bit: np.ndarray
    label: int  # class predicted for the original
    target_class: int | None  # None: untargeted
    target: str
    method: str  # fgsm | pgd
    norm: str  # linf | l2
    eps: float  # budget in pixel units of [0, 1]
    step_size: float
    linear_gain: float
    success: bool

    @property
    def steps_run(self) -> int:
        return int(self.scores.size)

    @property
    def linf(self) -> float:
        """Largest change of any pixel value, in pixel units of [0, 1]."""
        return float(np.abs(self.perturbation).max(initial=0))

    @property
    def l2(self) -> float:
        """Length of the whole change, in pixel units of [0, 1]."""
        return float(np.sqrt(np.sum(self.perturbation.astype(np.float64) ** 2)))


@dataclass(frozen=True)
class AttackSweep:
    """Attack success against the budget ε over several images.

    success, goal_prob (probability of the target, or of the clean class when untargeted) and
    predicted are (images, epsilons); labels are the clean predictions.
    """

    epsilons: np.ndarray
    names: tuple[str, ...]
    success: np.ndarray
    goal_prob: np.ndarray
    predicted: np.ndarray
    labels: np.ndarray
    target_class: int | None
    target: str
    norm: str
    steps: int
    seconds: float
    params: dict[str, Any]
    notes: tuple[str, ...] = ()

    @property
    def success_rate(self) -> np.ndarray:
        """Fraction of images attacked successfully at each ε."""
        return self.success.mean(axis=0)


@dataclass(frozen=True, kw_only=True)
class StyleTransfer(Synthesis):
    """A picture (`image`) with the content of one image and the texture statistics of another.

    content/style: HxWx3 uint8 (the inputs as the model saw them). content_loss, style_loss
    (weighted mean over the style layers) and tv_loss: per step, relative (each ~1 at a bad start).
    metrics: the losses of the start and of the returned picture, and `style_drop`, the fraction
    of the style loss removed.
    """

    content: np.ndarray
    style: np.ndarray
    content_loss: np.ndarray
    style_loss: np.ndarray
    tv_loss: np.ndarray
    content_layer: str
    style_layers: tuple[str, ...]


@dataclass(frozen=True)
class AttentionHeads:
    """The attention of one block, head by head, from the class token (or the mean query).

    `attention` (heads, queries, tokens) holds the softmax probabilities of the shown heads (rows
    sum to 1); `maps` (heads, h, w) is the query's attention to each patch, `upsampled`
    (heads, H, W) the same bilinearly resized to the input, and `prefix_share` (heads,) what the
    query gives to the prefix tokens instead of to patches.
    """

    attention: np.ndarray
    maps: np.ndarray
    upsampled: np.ndarray
    prefix_share: np.ndarray
    heads: tuple[int, ...]
    image: np.ndarray
    block: str
    query: str
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttentionRelevance:
    """Relevance of each patch for the query, carried through every block of the chain.

    `matrix` (tokens, tokens) is the rollout (or Chefer relevance) over all tokens; `map` (h, w)
    is the query's row over the patch tokens and `upsampled` (H, W) its bilinear resize.
    `target` (the target's description; its spec is `params["target"]`) and `score` are set for
    the class-specific (gradient-weighted) method only; rollout is class-agnostic (`target` "").
    """

    method: str
    matrix: np.ndarray
    map: np.ndarray
    upsampled: np.ndarray
    image: np.ndarray
    blocks: tuple[str, ...]
    query: str
    target: str = ""
    score: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
