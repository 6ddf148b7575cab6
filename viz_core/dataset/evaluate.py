"""Evaluate a classifier on a labelled collection: accuracy, confusions, calibration, mistakes.

Why here: a user who brings a fine-tuned model and a validation folder first asks where the
model fails; the explanation pages then show why. The pass is the existing `scan` with one
consumer that keeps, per image, only the top-k classes and probabilities and the probability of
the true class, so memory grows with the number of images, never with images x classes. Metrics
come from scikit-learn on those rows; with a `Store`, the rows are written as shards during the
pass and a second call with the same weights, collection and settings reads them back instead.

Collection labels (folder names) are matched to the model's classes by exact or normalised
name, by ImageNet WordNet id (`n01443537` is goldfish), or by index for folders named 0...K-1;
images of unmatched folders are left out of the metrics and counted.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import DatasetError, TargetError
from ..results import OnStep, report
from ..store import Store, entry_key, weights_digest
from .scan import Batch, scan
from .sources import UNLABELLED, Collection, CollectionSource, collection as as_collection

if TYPE_CHECKING:
    from ..hub import LoadedModel

TOP_K = 5
SHARD_ROWS = 4096  # rows per stored shard: a 5,000-image pass reads back as two files
MAX_PAIRS = 50
ROWS_SCHEMA = 1  # bump when prediction_rows changes, so old store entries are not reused
WORDNET_ID = re.compile(r"^n\d{8}$")
INDEX = re.compile(r"^\s*[0-9]+\s*$")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class LabelMatch:
    """How each collection label maps to a model class (-1: unmatched) and by which rule."""

    label_names: tuple[str, ...]
    classes: np.ndarray  # (L,) int64 model class per collection label, -1 when unmatched
    methods: tuple[str, ...]  # "name" | "normalised name" | "WordNet id" | "index" | "" (unmatched)
    reasons: tuple[str, ...]  # why a label is unmatched ("" when matched)

    @property
    def unmatched(self) -> tuple[str, ...]:
        return tuple(name for name, c in zip(self.label_names, self.classes) if c < 0)

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """(N,) model class of each image from its collection label (-1 when unmatched)."""
        return self.classes[np.asarray(labels, dtype=np.int64)]


def normalise(name: str) -> str:
    """Case, width, underscores and dashes ignored: 'Tabby_Cat' and 'tabby cat' are one name."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(re.sub(r"[_\-]+", " ", text).split())


def _wordnet_ids() -> list[str]:
    """ImageNet-1k WordNet ids in class order (from timm, offline)."""
    from ..hub import _timm  # imports timm the hub's way, so an offline hub still fails fast

    return list(_timm().data.ImageNetInfo().label_names())


def match_labels(label_names: Sequence[str], class_names: Sequence[str]) -> LabelMatch:
    """Match collection labels to model classes: exact name, normalised name or any of its
    comma-separated synonyms ('tabby' for 'tabby, tabby cat'), WordNet id for 1000-class models,
    or index when every labelled folder is a number below the class count."""
    exact: dict[str, list[int]] = {}
    aliases: dict[str, list[int]] = {}
    for k, name in enumerate(class_names):
        exact.setdefault(name, []).append(k)
        for alias in {normalise(name), *(normalise(part) for part in name.split(",") if part.strip())}:
            aliases.setdefault(alias, []).append(k)
    labelled = [n for n in label_names if n != UNLABELLED]
    by_index = bool(labelled) and all(INDEX.match(n) and int(n) < len(class_names) for n in labelled)
    wordnet = _wordnet_ids() if len(class_names) == 1000 and any(WORDNET_ID.match(n) for n in labelled) else []
    classes, methods, reasons = [], [], []
    for name in label_names:
        found, method, reason = -1, "", ""
        candidates = exact.get(name) or aliases.get(normalise(name), [])
        if name == UNLABELLED:
            reason = "images at the top of the collection, in no class folder"
        elif len(candidates) == 1:
            found, method = candidates[0], "name" if name in exact else "normalised name"
        elif len(candidates) > 1:
            shown = " and ".join(f"{k} '{class_names[k]}'" for k in candidates[:3])
            reason = f"ambiguous: could be class {shown}"
        elif wordnet and WORDNET_ID.match(name) and name in wordnet:
            found, method = wordnet.index(name), "WordNet id"
        elif by_index:
            found, method = int(name), "index"
        else:
            close = difflib.get_close_matches(name, list(class_names), n=1, cutoff=0.6)
            reason = f"no class is called '{name}'" + (f" (closest: '{close[0]}')" if close else "")
        classes.append(found)
        methods.append(method)
        reasons.append(reason)
    return LabelMatch(tuple(label_names), np.asarray(classes, dtype=np.int64), tuple(methods), tuple(reasons))


def prediction_rows(logits: torch.Tensor, indices: np.ndarray, targets: np.ndarray, top_k: int) -> dict[str, np.ndarray]:
    """One batch's rows: image index, true class, its probability, top-k classes and probabilities.

    A pure function of one batch, so it is also what a distributed worker would run per batch.
    logits (B, K); indices (B,) collection positions; targets (N,) true class per image or -1.
    """
    if logits.ndim != 2:
        raise TargetError(f"The model outputs shape {tuple(logits.shape)}; evaluation needs (batch, classes) scores.", "Evaluate a classifier.")
    probabilities = torch.softmax(logits.float(), dim=-1)
    values, classes = probabilities.topk(top_k, dim=-1)
    true = np.asarray(targets, dtype=np.int64)[indices]
    picked = probabilities.gather(1, torch.as_tensor(np.maximum(true, 0), device=probabilities.device)[:, None])[:, 0].cpu().numpy()
    return {
        "index": np.asarray(indices, dtype=np.int64),
        "true": true.astype(np.int32),
        "true_probability": np.where(true >= 0, picked, np.nan).astype(np.float32),
        "top_classes": classes.cpu().numpy().astype(np.int32),
        "top_probabilities": values.cpu().numpy().astype(np.float32),
    }


def _concat(parts: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


class Predictions:
    """Consumer of `scan`: per-image prediction rows (bounded: top-k, not all probabilities).

    With a `sink(part, columns)` (a store writer), rows go out in groups of `shard_rows` as the
    pass runs; `flush()` sends the last group.
    """

    wants_pre_logits = False

    def __init__(self, targets: np.ndarray, top_k: int = TOP_K, *, shard_rows: int = SHARD_ROWS, sink: Callable[[int, dict[str, np.ndarray]], None] | None = None) -> None:
        self.targets = np.asarray(targets, dtype=np.int64)
        self.top_k, self.shard_rows, self.sink = int(top_k), int(shard_rows), sink
        self.parts: list[dict[str, np.ndarray]] = []
        self._sent = 0  # parts already handed to the sink
        self._pending_rows = 0

    def layers(self) -> tuple[str, ...]:
        return ()

    def update(self, batch: Batch) -> None:
        rows = prediction_rows(batch.logits, batch.indices, self.targets, self.top_k)
        self.parts.append(rows)
        self._pending_rows += len(rows["index"])
        if self._pending_rows >= self.shard_rows:
            self.flush()

    def flush(self) -> None:
        pending = self.parts[self._sent :]
        if self.sink is not None and pending:
            self.sink(int(pending[0]["index"][0]), _concat(pending))
        self._sent, self._pending_rows = len(self.parts), 0

    def columns(self) -> dict[str, np.ndarray]:
        return _concat(self.parts)


@dataclass(frozen=True)
class Accuracy:
    """A proportion with its 95% Wilson interval (sound at 0 %, 100 % and small n)."""

    value: float
    low: float
    high: float
    n: int


def wilson(successes: int, n: int, z: float = Z95) -> Accuracy:
    """Wilson score interval (Wilson, 1927) for `successes` out of `n`."""
    if n <= 0:
        return Accuracy(float("nan"), float("nan"), float("nan"), 0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, where rounding
    high = 1.0 if successes == n else min(1.0, centre + half)  # would leave 1 - 1e-16
    return Accuracy(float(p), float(low), float(high), int(n))


@dataclass(frozen=True)
class Evaluation:
    """A model on a labelled collection: per-image rows, metrics, calibration, and what made them.

    Per image (N evaluated images, matched or not): `indices` into the collection, `true` (-1 for
    images whose folder matched no class), `predicted`, `confidence` (top-1 probability),
    `true_probability`, `top_classes` / `top_probabilities` (N, k). Metrics use matched images:
    `classes` (C,) are the model classes that occur as true or predicted; `support`, `precision`,
    `recall`, `f1` (C,) and `confusion` (C, C; rows true, columns predicted) follow that order.
    """

    model: str
    weights: str
    collection: str
    collection_digest: str
    class_names: tuple[str, ...]
    matching: LabelMatch
    indices: np.ndarray
    names: tuple[str, ...]
    true: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    true_probability: np.ndarray
    top_classes: np.ndarray
    top_probabilities: np.ndarray
    top1: Accuracy
    top5: Accuracy
    classes: np.ndarray
    support: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    confusion: np.ndarray
    confused_pairs: np.ndarray  # (P, 3) int64: true class, predicted class, count; most first
    bin_edges: np.ndarray  # (B + 1,) confidence bins of the reliability diagram
    bin_count: np.ndarray  # (B,)
    bin_confidence: np.ndarray  # (B,) mean confidence per bin (nan when empty)
    bin_accuracy: np.ndarray  # (B,) accuracy per bin (nan when empty)
    ece: float  # expected calibration error: sum over bins of n_b / n * |accuracy_b - confidence_b|
    unmatched_images: int
    skipped: tuple[str, ...] = ()
    from_store: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def matched(self) -> np.ndarray:
        """(N,) bool: the image's folder matched a model class (it counts in the metrics)."""
        return self.true >= 0

    @property
    def correct(self) -> np.ndarray:
        """(N,) bool: matched and predicted right."""
        return self.matched & (self.predicted == self.true)


def _reliability(confidence: np.ndarray, correct: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Equal-width confidence bins and the expected calibration error (Guo et al., 2017)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
        accuracy = np.bincount(which, weights=correct.astype(np.float64), minlength=bins) / count
    filled = count > 0
    ece = float(np.sum(count[filled] / max(len(confidence), 1) * np.abs(accuracy[filled] - mean_confidence[filled])))
    return edges, count, mean_confidence, accuracy, ece


def _evaluation(m: "LoadedModel", c: Collection, matching: LabelMatch, rows: Mapping[str, np.ndarray], skipped: tuple[str, ...], params: dict[str, Any], bins: int, from_store: bool) -> Evaluation:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    indices = rows["index"].astype(np.int64)
    true = rows["true"].astype(np.int64)
    top_classes = rows["top_classes"].astype(np.int64)
    top_probabilities = rows["top_probabilities"].astype(np.float32)
    predicted, confidence = top_classes[:, 0], top_probabilities[:, 0]
    matched = true >= 0
    if not matched.any():
        raise DatasetError("None of the images whose folder matches a model class could be read.", "; ".join(skipped[:3]))
    t, p = true[matched], predicted[matched]
    classes = np.union1d(t, p)
    precision, recall, f1, support = precision_recall_fscore_support(t, p, labels=classes, zero_division=0)
    confusion = confusion_matrix(t, p, labels=classes).astype(np.int64)
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:MAX_PAIRS]
    order = order[off.flat[order] > 0]
    pairs = np.stack([classes[order // len(classes)], classes[order % len(classes)], off.flat[order]], axis=1) if order.size else np.zeros((0, 3), np.int64)
    right = t == p
    edges, count, mean_confidence, accuracy, ece = _reliability(confidence[matched].astype(np.float64), right, bins)
    unmatched_images = int((~matched).sum())
    notes = []
    if unmatched_images:
        notes.append(f"{unmatched_images} images in {len(matching.unmatched)} folders that match no class are left out of the metrics: {', '.join(matching.unmatched[:5])}.")
    if skipped:
        notes.append(f"{len(skipped)} files could not be read and were skipped.")
    if top_classes.shape[1] < TOP_K:
        notes.append(f"The model has {m.num_classes} classes, so top-5 accuracy counts the top {top_classes.shape[1]}.")
    return Evaluation(
        model=m.name,
        weights=m.weights,
        collection=c.title,
        collection_digest=c.digest,
        class_names=tuple(m.class_names),
        matching=matching,
        indices=indices,
        names=tuple(c.names[int(i)] for i in indices),
        true=true,
        predicted=predicted,
        confidence=confidence,
        true_probability=rows["true_probability"].astype(np.float32),
        top_classes=top_classes,
        top_probabilities=top_probabilities,
        top1=wilson(int(right.sum()), int(matched.sum())),
        top5=wilson(int((top_classes[matched] == t[:, None]).any(axis=1).sum()), int(matched.sum())),
        classes=classes.astype(np.int64),
        support=support.astype(np.int64),
        precision=precision.astype(np.float64),
        recall=recall.astype(np.float64),
        f1=f1.astype(np.float64),
        confusion=confusion,
        confused_pairs=pairs.astype(np.int64),
        bin_edges=edges,
        bin_count=count.astype(np.int64),
        bin_confidence=mean_confidence,
        bin_accuracy=accuracy,
        ece=ece,
        unmatched_images=unmatched_images,
        skipped=skipped,
        from_store=from_store,
        params=params,
        notes=tuple(notes),
    )


def _prepare(m: "LoadedModel", collection: CollectionSource, batch_size: int, bins: int) -> tuple[Collection, LabelMatch, np.ndarray, dict[str, Any]]:
    """The collection, its label matching, each image's true class and the result's params."""
    c = as_collection(collection)
    if bins < 1:
        raise DatasetError("The reliability diagram needs at least 1 bin.")
    matching = match_labels(c.label_names, m.class_names)
    if not (matching.classes >= 0).any():
        raise DatasetError(
            f"None of the collection's labels ({', '.join(c.label_names[:5])}) match a class of {m.name}.",
            "Name the class folders like the model's classes, by ImageNet WordNet id, or 0...K-1; or give the model a labels file.",
        )
    top_k = min(TOP_K, m.num_classes)
    params = {"model": m.name, "weights": m.weights, "collection": c.title, "batch_size": batch_size, "top_k": top_k, "bins": bins}
    return c, matching, matching.targets(c.labels), params


def _store_key(m: "LoadedModel", c: Collection, targets: np.ndarray, top_k: int) -> str:
    """Weights digest x collection digest x what the rows depend on (not the batch size)."""
    settings = {"schema": ROWS_SCHEMA, "top_k": top_k, "data_config": m.data_config, "targets": targets}
    return entry_key("predictions", weights=weights_digest(m.model), collection=c.digest, settings=settings)


def stored_evaluation(m: "LoadedModel", collection: CollectionSource, *, store: Store, batch_size: int = 32, bins: int = 15) -> Evaluation | None:
    """The evaluation `evaluate` would give, when the store already holds its rows; else None (no pass).

    Why: a page can show a known result at once, and start a long pass only when asked.
    """
    c, matching, targets, params = _prepare(m, collection, batch_size, bins)
    stored = store.get(_store_key(m, c, targets, params["top_k"]))
    if stored is None:
        return None
    return _evaluation(m, c, matching, stored.columns, tuple(stored.meta.get("skipped", ())), params, bins, from_store=True)


def evaluate(
    m: "LoadedModel",
    collection: CollectionSource,
    *,
    batch_size: int = 32,
    bins: int = 15,
    store: Store | None = None,
    on_step: OnStep | None = None,
) -> Evaluation:
    """Top-1/top-5 accuracy, per-class precision/recall/F1, confusions and calibration of `m`.

    One streaming pass (`scan`); raising `Cancelled` in `on_step` stops it and stores nothing.
    With `store`, the per-image rows are read back when this model's weights, this collection
    and these settings were evaluated before (no pass at all), and written otherwise.
    """
    c, matching, targets, params = _prepare(m, collection, batch_size, bins)
    if store is None:
        consumer = Predictions(targets, params["top_k"])
        info = scan(m, c, [consumer], batch_size=batch_size, on_step=on_step)
        return _evaluation(m, c, matching, consumer.columns(), info.skipped, params, bins, from_store=False)
    key = _store_key(m, c, targets, params["top_k"])
    stored = store.get(key)
    if stored is not None:
        report(on_step, 1.0, f"{len(stored.columns['index'])} predictions read from the store")
        return _evaluation(m, c, matching, stored.columns, tuple(stored.meta.get("skipped", ())), params, bins, from_store=True)
    top_k = params["top_k"]
    with store.writer(key, "predictions") as writer:
        consumer = Predictions(targets, top_k, sink=writer.write)
        info = scan(m, c, [consumer], batch_size=batch_size, on_step=on_step)
        consumer.flush()
        saved = writer.commit({"skipped": list(info.skipped), "model": m.name, "collection": c.title})
    result = _evaluation(m, c, matching, consumer.columns(), info.skipped, params, bins, from_store=False)
    if not saved:
        result = replace(result, notes=(*result.notes, "The store was cleared during the pass, so this result was not saved."))
    return result


def select(
    ev: Evaluation,
    *,
    true: int | None = None,
    predicted: int | None = None,
    correct: bool | None = None,
    confidence: tuple[float, float] | None = None,
    order: str = "confidence",
    descending: bool = True,
    limit: int | None = None,
) -> np.ndarray:
    """Rows (positions in the per-image arrays) of matched images that fit every given filter.

    A confusion cell is `true=a, predicted=b`; a class row `true=k` (its recall) or `predicted=k`
    (its precision); a histogram bar `correct=..., confidence=(low, high)` (low inclusive).
    `order`: "confidence", "true_probability" or "index". `ev.indices[rows]` are collection positions.
    """
    keys = {"confidence": ev.confidence, "true_probability": ev.true_probability, "index": ev.indices}
    if order not in keys:
        raise DatasetError(f"Cannot order images by '{order}'.", f"Use one of {', '.join(keys)}.")
    keep = ev.matched.copy()
    if true is not None:
        keep &= ev.true == true
    if predicted is not None:
        keep &= ev.predicted == predicted
    if correct is not None:
        keep &= ev.correct == correct
    if confidence is not None:
        low, high = confidence
        keep &= (ev.confidence >= low) & ((ev.confidence < high) | (high >= 1.0))
    rows = np.flatnonzero(keep)
    ranked = rows[np.argsort(keys[order][rows], kind="stable")]
    ranked = ranked[::-1] if descending else ranked
    return ranked if limit is None else ranked[: int(limit)]


def most_confident_mistakes(ev: Evaluation, limit: int = 24) -> np.ndarray:
    """Rows of the wrong answers the model was surest of: the first place to look for label noise."""
    return select(ev, correct=False, order="confidence", descending=True, limit=limit)


def image_table(ev: Evaluation, rows: np.ndarray | None = None) -> dict[str, list[Any]]:
    """Columns for a gallery or table of images (all evaluated images when `rows` is None)."""
    chosen = np.arange(len(ev.indices)) if rows is None else np.asarray(rows, dtype=np.int64)

    def name(k: int) -> str:
        return ev.class_names[k] if k >= 0 else "(unmatched)"

    return {
        "row": chosen.tolist(),
        "index": ev.indices[chosen].tolist(),
        "name": [ev.names[i] for i in chosen],
        "true": [name(int(ev.true[i])) for i in chosen],
        "predicted": [name(int(ev.predicted[i])) for i in chosen],
        "confidence": ev.confidence[chosen].astype(float).tolist(),
        "correct": ev.correct[chosen].tolist(),
    }


def class_table(ev: Evaluation) -> dict[str, list[Any]]:
    """The per-class table (support, precision, recall, F1), one row per class in `ev.classes`."""
    return {
        "class": ev.classes.tolist(),
        "name": [ev.class_names[k] for k in ev.classes],
        "support": ev.support.tolist(),
        "precision": ev.precision.tolist(),
        "recall": ev.recall.tolist(),
        "f1": ev.f1.tolist(),
    }


def confused_classes(ev: Evaluation, pairs: int = 10) -> np.ndarray:
    """Model classes in the `pairs` most-confused (true, predicted) pairs, most confused first.

    Why: a 1000-class confusion matrix is unreadable; the matrix of just these classes shows
    the model's worst confusions and what else those classes are mistaken for.
    """
    involved = ev.confused_pairs[: max(int(pairs), 0), :2].reshape(-1)
    return np.asarray(list(dict.fromkeys(int(k) for k in involved)), dtype=np.int64)
