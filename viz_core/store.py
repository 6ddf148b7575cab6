"""The on-disk results store: scan results keyed by what made them, never stale, never half-read.

Key = digest(weights) x digest(collection) x digest(settings): a changed checkpoint (one byte
is enough), another folder content or other settings give another key, so a stale result is
never found; the same inputs after a restart, in another session or on another page are.

Layout under the root (CONVLENS_CACHE_DIR, default the user's cache folder + /convlens):

    entries/<key>/manifest.json            written last; lists every shard with rows and bytes
    entries/<key>/part-000000000000.parquet one shard per batch or group of batches
    staging/<key>.<run>/                    a pass in progress (or one that crashed)

A pass writes its shards into a private staging folder, writes the manifest there last, then
renames the folder into `entries/` (one atomic rename). A crash or a Stop before that leaves
only a staging folder, which no reader looks at and eviction removes once it is stale; readers
also check every listed shard's size, so a truncated copy is not read as complete either.

Why Parquet (pyarrow) for shards: the rows are per-image records (index, true class, top-k
classes and probabilities) of mixed types, and a dense matrix (features, N x D) fits as a
fixed-size-list column that converts back to one NumPy array. One columnar, compressed,
self-describing format that pandas, DuckDB and Ray Data read natively, and pyarrow is already
installed with Streamlit. NumPy files would need our own schema file and a second format.

Distributed passes: each shard depends on its batch only, so the same pass can run as Ray Data
`map_batches` workers (`ray.data.read_images(...).map_batches(rows_fn)`), each writing its
part into the staging folder (`ShardWriter.write`, named by its first image index), with the
driver calling `commit` after the last one finished. Size limit: least recently used entries
are evicted after each commit (CONVLENS_CACHE_MAX_MB, default 2048).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import ConvlensError

FORMAT = 1
CACHE_ENV = "CONVLENS_CACHE_DIR"
LIMIT_ENV = "CONVLENS_CACHE_MAX_MB"
DEFAULT_LIMIT_MB = 2048
STALE_SECONDS = 3600.0  # a staging folder untouched this long belongs to a pass that died
MANIFEST = "manifest.json"

_weights_digests: "weakref.WeakKeyDictionary[nn.Module, str]" = weakref.WeakKeyDictionary()
_weights_lock = threading.Lock()


class StoreError(ConvlensError):
    """The store's folder cannot be used (not writable, not a folder)."""


def default_root() -> Path:
    """CONVLENS_CACHE_DIR, else the platform's per-user cache folder + /convlens."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "convlens"


def _limit_bytes() -> int:
    text = os.environ.get(LIMIT_ENV, "")
    try:
        return int(float(text) * 2**20) if text else DEFAULT_LIMIT_MB * 2**20
    except ValueError as error:
        raise StoreError(f"{LIMIT_ENV}={text!r} is not a number of megabytes.", f"Set e.g. {LIMIT_ENV}=2048.") from error


def weights_digest(model: nn.Module) -> str:
    """Digest of a module's class and every state-dict tensor's name, dtype, shape and bytes.

    Cached per module object (weakly, so the cache never keeps a model alive): engines never
    change weights, and hashing a large model takes a second or more.
    """
    with _weights_lock:
        known = _weights_digests.get(model)
    if known is not None:
        return known
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{type(model).__module__}.{type(model).__qualname__}".encode())
    for name, tensor in model.state_dict().items():
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(memoryview(flat.view(torch.uint8).numpy()))
    text = digest.hexdigest()
    with _weights_lock:
        _weights_digests[model] = text
    return text


def _plain(value: Any) -> Any:
    """JSON-ready form of settings (NumPy arrays and scalars, tuples, paths)."""
    if isinstance(value, np.ndarray):
        return {"array": hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).hexdigest(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def entry_key(kind: str, *, weights: str, collection: str, settings: Mapping[str, Any]) -> str:
    """The store key of a result: its kind, the weights and collection digests, the settings."""
    text = json.dumps({"format": FORMAT, "kind": kind, "weights": weights, "collection": collection, "settings": _plain(settings)}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Stored:
    """A complete entry read back: its columns (shards concatenated in part order) and metadata."""

    key: str
    kind: str
    columns: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0


@dataclass(frozen=True)
class EntryInfo:
    """One complete entry as listed (no data read): for the page's "the store holds ..." line."""

    key: str
    kind: str
    rows: int
    bytes: int
    created: float
    last_used: float


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _to_arrow(columns: Mapping[str, np.ndarray]) -> Any:
    import pyarrow as pa

    arrays, names, rows = [], [], None
    for name, values in columns.items():
        values = np.ascontiguousarray(values)
        if values.ndim not in (1, 2):
            raise StoreError(f"Column '{name}' has {values.ndim} dimensions; the store keeps 1-D or 2-D columns.")
        if rows is not None and len(values) != rows:
            raise StoreError(f"Column '{name}' has {len(values)} rows, the others {rows}.")
        rows = len(values)
        if values.ndim == 2:
            arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1]))
        else:
            arrays.append(pa.array(values))
        names.append(name)
    return pa.table(arrays, names=names)


def _from_arrow(table: Any) -> dict[str, np.ndarray]:
    import pyarrow as pa

    columns: dict[str, np.ndarray] = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(column.type):
            width = column.type.list_size
            columns[name] = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        else:
            columns[name] = column.to_numpy(zero_copy_only=False)
    return columns


class ShardWriter:
    """One pass writing one entry: shards into a private staging folder, then `commit`.

    Use it as a context manager: leaving the block without `commit` (an exception, a Stop)
    removes the staging folder, so nothing of the pass can ever be read.
    """

    def __init__(self, store: "Store", key: str, kind: str) -> None:
        self.store, self.key, self.kind = store, key, kind
        self.staging = store.root / "staging" / f"{key}.{uuid.uuid4().hex[:12]}"
        self.shards: list[dict[str, Any]] = []

    def write(self, part: int, columns: Mapping[str, np.ndarray]) -> None:
        """Write one shard; `part` orders the shards on reading (e.g. its first image's index)."""
        import pyarrow.parquet as pq

        table = _to_arrow(columns)
        self.staging.mkdir(parents=True, exist_ok=True)
        path = self.staging / f"part-{int(part):012d}.parquet"
        pq.write_table(table, path)
        _fsync(path)
        self.shards.append({"file": path.name, "rows": table.num_rows, "bytes": path.stat().st_size})

    def commit(self, meta: Mapping[str, Any] | None = None) -> bool:
        """Write the manifest last and publish the entry in one rename; False if it could not be.

        It cannot be when the store was cleared meanwhile (a shard is gone); when another
        process published the same key first, theirs is kept (same inputs, same result).
        """
        if not all((self.staging / s["file"]).is_file() and (self.staging / s["file"]).stat().st_size == s["bytes"] for s in self.shards):
            self.abort()
            return False
        shards = sorted(self.shards, key=lambda s: s["file"])
        manifest = {
            "format": FORMAT,
            "key": self.key,
            "kind": self.kind,
            "created": time.time(),
            "rows": sum(s["rows"] for s in shards),
            "bytes": sum(s["bytes"] for s in shards),
            "shards": shards,
            "meta": dict(meta or {}),
        }
        self.staging.mkdir(parents=True, exist_ok=True)
        partial = self.staging / (MANIFEST + ".partial")
        partial.write_text(json.dumps(manifest))
        _fsync(partial)
        os.replace(partial, self.staging / MANIFEST)
        target = self.store.root / "entries" / self.key
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self.staging, target)
        except OSError:
            self.abort()
            return target.joinpath(MANIFEST).is_file()
        self.store.evict(keep=(self.key,))
        return True

    def abort(self) -> None:
        """Remove everything this pass wrote (no-op once published)."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.abort()  # after a commit the staging folder is gone: nothing to remove


class Store:
    """Content-addressed results on disk, bounded in size (least recently used go first)."""

    def __init__(self, root: str | Path | None = None, *, max_bytes: int | None = None, stale_seconds: float = STALE_SECONDS) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.max_bytes = _limit_bytes() if max_bytes is None else int(max_bytes)
        self.stale_seconds = float(stale_seconds)
        try:
            (self.root / "entries").mkdir(parents=True, exist_ok=True)
            (self.root / "staging").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"The results store cannot use '{self.root}' ({error}).", f"Set {CACHE_ENV} to a writable folder.") from error

    def writer(self, key: str, kind: str) -> ShardWriter:
        """A writer for one pass producing entry `key` (see ShardWriter)."""
        return ShardWriter(self, key, kind)

    def _manifest(self, key: str) -> dict[str, Any] | None:
        folder = self.root / "entries" / key
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            shutil.rmtree(folder, ignore_errors=True)  # a broken manifest never becomes valid
            return None
        complete = manifest.get("format") == FORMAT and all(
            (folder / s["file"]).is_file() and (folder / s["file"]).stat().st_size == s["bytes"] for s in manifest.get("shards", [])
        )
        if not complete:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return manifest

    def get(self, key: str) -> Stored | None:
        """The complete entry `key`, or None; reading it marks it as recently used."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        manifest = self._manifest(key)
        if manifest is None:
            return None
        folder = self.root / "entries" / key
        try:
            tables = [pq.read_table(folder / s["file"]) for s in manifest["shards"]]
            os.utime(folder / MANIFEST)
        except (OSError, pa.ArrowException):
            return None  # evicted or cleared by another process between the check and the read
        columns = _from_arrow(pa.concat_tables(tables)) if tables else {}
        return Stored(key, manifest["kind"], columns, manifest.get("meta", {}), float(manifest.get("created", 0.0)))

    def entries(self) -> list[EntryInfo]:
        """Every complete entry, least recently used first."""
        found = []
        for folder in (self.root / "entries").iterdir():
            manifest = self._manifest(folder.name)
            if manifest is None:
                continue
            try:
                last_used = (folder / MANIFEST).stat().st_mtime
            except OSError:
                continue
            size = int(manifest["bytes"]) + (folder / MANIFEST).stat().st_size
            found.append(EntryInfo(folder.name, manifest["kind"], int(manifest["rows"]), size, float(manifest["created"]), last_used))
        return sorted(found, key=lambda e: e.last_used)

    def size(self) -> int:
        """Bytes held by complete entries."""
        return sum(e.bytes for e in self.entries())

    def evict(self, max_bytes: int | None = None, keep: tuple[str, ...] = ()) -> list[str]:
        """Remove stale staging folders, then least recently used entries until under the limit.

        Entries in `keep` stay (the one just written, even when it alone is over the limit).
        Returns the keys removed.
        """
        limit = self.max_bytes if max_bytes is None else int(max_bytes)
        now = time.time()
        for folder in (self.root / "staging").iterdir():
            try:
                if now - folder.stat().st_mtime > self.stale_seconds:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue
        entries = self.entries()
        total = sum(e.bytes for e in entries)
        removed = []
        for entry in entries:
            if total <= limit:
                break
            if entry.key in keep:
                continue
            shutil.rmtree(self.root / "entries" / entry.key, ignore_errors=True)
            total -= entry.bytes
            removed.append(entry.key)
        return removed

    def clear(self) -> None:
        """Remove every entry and every staging folder (a pass in flight then publishes nothing)."""
        for name in ("entries", "staging"):
            shutil.rmtree(self.root / name, ignore_errors=True)
            (self.root / name).mkdir(parents=True, exist_ok=True)
