"""One streaming pass over a collection: each batch preprocessed once, one forward, many consumers.

Why one pass: top-k patches and feature collection both need every image through the model;
doing it once (inference mode, hooks only on the layers asked for, the next batch decoded while
the model runs) keeps the pass at the speed of the model's own batched forward.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import torch

from ..errors import ConvlensError, DatasetError, LayerError, SettingsError
from ..hooks import capture
from ..results import OnStep, report
from .sources import Collection, CollectionSource, collection as as_collection

if TYPE_CHECKING:
    from ..hub import LoadedModel


@dataclass
class Batch:
    """What consumers see for one batch (tensors live only during `update`)."""

    indices: np.ndarray  # (B,) positions in the collection
    inputs: torch.Tensor  # (B, C, H, W) normalised, as the model saw them
    images01: np.ndarray  # (B, H, W, 3) float32 in [0, 1]: the pixels the model saw
    logits: torch.Tensor  # (B, classes)
    activations: dict[str, torch.Tensor]  # layer -> (B, ...)
    pre_logits: torch.Tensor | None  # (B, D) penultimate code when a consumer asked for it


@runtime_checkable
class Consumer(Protocol):
    """Something fed by `scan`: it names the layers it needs and updates its state per batch."""

    wants_pre_logits: bool

    def layers(self) -> tuple[str, ...]:
        """Layers whose outputs must be captured."""

    def update(self, batch: Batch) -> None:
        """Fold one batch into the consumer's (bounded) state."""


@dataclass(frozen=True)
class ScanInfo:
    """What a pass saw: images fed to the model, and the ones that could not be decoded."""

    images: int
    skipped: tuple[str, ...]


def check_head(m: "LoadedModel") -> None:
    """Penultimate features need timm's forward_features / forward_head split."""
    model = m.model
    if not (hasattr(model, "forward_features") and hasattr(model, "forward_head")):
        raise LayerError(
            f"{m.name} has no forward_features/forward_head, so convlens cannot find its penultimate code.",
            "Pick a layer for the features instead (they are then average-pooled).",
        )


def _decode(m: "LoadedModel", c: Collection, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images at `indices` as the model sees them (N, H, W, 3); undecodable ones are dropped and named."""
    pictures, kept, failed = [], [], []
    for i in indices:
        try:
            pictures.append(m.preprocessing.image01(c.load(int(i))))
            kept.append(int(i))
        except ConvlensError as error:
            failed.append(f"{c.names[int(i)]}: {error.message}")
    _, height, width = m.input_size
    stack = np.stack(pictures) if pictures else np.zeros((0, height, width, 3), np.float32)
    return stack, np.asarray(kept, dtype=np.int64), failed


def scan(
    m: "LoadedModel",
    source: CollectionSource,
    consumers: Sequence[Consumer],
    *,
    batch_size: int = 32,
    on_step: OnStep | None = None,
) -> ScanInfo:
    """Feed every image of `source` through the model once, in batches, to every consumer.

    Progress goes to `on_step` after each batch; raising `Cancelled` there stops the pass (hooks
    are removed either way). Returns how many images were seen and which were skipped.
    """
    c = as_collection(source)
    if batch_size < 1:
        raise SettingsError("The batch size must be at least 1.")
    layers = sorted({name for consumer in consumers for name in consumer.layers()})
    wants_pre_logits = any(consumer.wants_pre_logits for consumer in consumers)
    if wants_pre_logits:
        check_head(m)
    starts = list(range(0, len(c), batch_size))
    chunks = [np.arange(s, min(s + batch_size, len(c))) for s in starts]
    skipped: list[str] = list(c.skipped)
    seen = 0
    report(on_step, 0.0, f"0 of {len(c)} images")
    with ThreadPoolExecutor(max_workers=1) as pool, capture(m.model, layers) as store, torch.inference_mode():
        pending = pool.submit(_decode, m, c, chunks[0]) if chunks else None
        for number, _ in enumerate(chunks):
            assert pending is not None
            images01, kept, failed = pending.result()
            pending = pool.submit(_decode, m, c, chunks[number + 1]) if number + 1 < len(chunks) else None
            skipped.extend(failed)
            if kept.size:
                x = m.preprocessing.to_tensor(torch.from_numpy(images01).permute(0, 3, 1, 2)).to(m.device)
                store.clear()
                if wants_pre_logits:
                    trunk = m.model.forward_features(x)
                    pre_logits = m.model.forward_head(trunk, pre_logits=True)
                    logits = m.model.forward_head(trunk)
                else:
                    pre_logits, logits = None, m.model(x)
                missing = [name for name in layers if name not in store]
                if missing:
                    raise LayerError(f"Layer '{missing[0]}' produced no tensor during the forward pass.", "Pick a layer that outputs a tensor (see the Layers page).")
                batch = Batch(kept, x, images01, logits, dict(store), pre_logits)
                for consumer in consumers:
                    consumer.update(batch)
                seen += int(kept.size)
            done = int(chunks[number][-1]) + 1
            report(on_step, done / len(c), f"{done} of {len(c)} images")
    if seen == 0:
        raise DatasetError("None of the images in the collection could be read.", "; ".join(skipped[:3]))
    return ScanInfo(seen, tuple(skipped))
