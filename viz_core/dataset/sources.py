"""Image collections: a folder, an uploaded zip (read in memory), or a built-in offline demo.

Why one type: the scan, the patches and the embeddings only need "image i, its label, its name",
plus a content digest so results can be cached per (model, collection, layer). Images are
decoded lazily, one batch at a time, so a large folder never sits in memory.
"""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Union

import numpy as np
from PIL import Image

from ..errors import DatasetError, ImageError
from ..images import SAMPLES, load_image, sample_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_IMAGES = 20_000
MAX_IMAGE_BYTES = 20 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20
MAX_RATIO = 200  # uncompressed / compressed: above this a member is treated as a zip bomb
UNLABELLED = "(no label)"

CollectionSource = Union[str, Path, bytes, "Collection"]


@dataclass(frozen=True)
class Collection:
    """A fixed, ordered set of images with integer labels.

    `load(i)` decodes image i as RGB; `skipped` lists what was left out and why (shown to users).
    """

    title: str
    names: tuple[str, ...]
    labels: np.ndarray  # (N,) int64 index into label_names
    label_names: tuple[str, ...]
    digest: str
    loader: Callable[[int], Image.Image] = field(repr=False, compare=False)
    skipped: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.names)

    def load(self, index: int) -> Image.Image:
        """Image `index` as upright 8-bit RGB."""
        return self.loader(int(index))

    def subset(self, indices: Sequence[int] | np.ndarray) -> "Collection":
        """The images at `indices` (in that order), e.g. a sample of a big collection."""
        chosen = np.asarray(indices, dtype=np.int64)
        if chosen.size and (chosen.min() < 0 or chosen.max() >= len(self)):
            raise DatasetError(f"Indices out of range for a collection of {len(self)} images.")
        digest = hashlib.sha256(self.digest.encode() + chosen.tobytes()).hexdigest()[:20]
        return Collection(
            f"{self.title} ({chosen.size} of {len(self)})",
            tuple(self.names[i] for i in chosen),
            self.labels[chosen],
            self.label_names,
            digest,
            lambda i, _load=self.loader, _idx=chosen: _load(int(_idx[i])),
            self.skipped,
        )

    def sample(self, limit: int | None, seed: int = 0) -> tuple["Collection", np.ndarray]:
        """At most `limit` images drawn without replacement (sorted), and their original indices."""
        if limit is None or limit >= len(self):
            return self, np.arange(len(self))
        chosen = np.sort(np.random.default_rng(seed).choice(len(self), size=int(limit), replace=False))
        return self.subset(chosen), chosen


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:20]


@lru_cache(maxsize=1)
def _digits_data() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    pixels = np.round(data.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)  # (1797, 8, 8), ink is bright
    return pixels, data.target.astype(np.int64)


def digits() -> Collection:
    """scikit-learn's 1,797 handwritten digits (8×8, white ink on black), labelled 0-9. Offline."""
    pixels, labels = _digits_data()
    return Collection(
        "scikit-learn digits",
        tuple(f"digit {i} (a {labels[i]})" for i in range(len(labels))),
        labels,
        tuple(str(d) for d in range(10)),
        "digits-" + _digest(pixels.tobytes(), labels.tobytes()),
        lambda i: Image.fromarray(pixels[i]).convert("RGB"),
    )


def _sklearn_photos() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return {Path(name).stem: np.asarray(img) for name, img in zip(bunch.filenames, bunch.images)}


@lru_cache(maxsize=1)
def _photo_sources() -> dict[str, np.ndarray]:
    photos = {name.split(" (")[0]: np.asarray(sample_image(name)) for name in SAMPLES}
    photos.update(_sklearn_photos())
    return photos


def photos(crops_per_photo: int = 30, seed: int = 0) -> Collection:
    """The bundled sample photos (scikit-image, scikit-learn) cut into labelled square crops.

    Why crops: ten photos are too few for top-k or a map; random crops at several scales (some
    mirrored) give a few hundred images whose label is the photo they come from. Offline.
    """
    sources = _photo_sources()
    rng = np.random.default_rng(seed)
    names, labels, boxes = [], [], []
    label_names = tuple(sorted(sources))
    for label, photo_name in enumerate(label_names):
        height, width = sources[photo_name].shape[:2]
        short = min(height, width)
        for j in range(crops_per_photo):
            side = int(short * rng.uniform(0.3, 0.8))
            top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
            flip = bool(rng.integers(0, 2))
            names.append(f"{photo_name} crop {j}")
            labels.append(label)
            boxes.append((photo_name, top, left, side, flip))

    def load(i: int) -> Image.Image:
        photo_name, top, left, side, flip = boxes[i]
        crop = sources[photo_name][top : top + side, left : left + side]
        return Image.fromarray(np.ascontiguousarray(crop[:, ::-1] if flip else crop)).convert("RGB")

    digest = _digest(repr(boxes).encode(), *(sources[n][::7, ::7].tobytes() for n in label_names))
    return Collection("sample photo crops", tuple(names), np.asarray(labels, dtype=np.int64), label_names, "photos-" + digest, load)


def _labelled(paths: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels from each path's parent folder ('cat/1.png' -> 'cat'); files at the top are unlabelled."""
    parents = [str(PurePosixPath(p).parent) if "/" in p else UNLABELLED for p in paths]
    label_names = tuple(sorted(set(parents)))
    index = {name: i for i, name in enumerate(label_names)}
    return np.asarray([index[p] for p in parents], dtype=np.int64), label_names


def folder_within(path: str | Path, roots: Sequence[str | Path]) -> Path:
    """`path` resolved (links, `..`, `~`) if it lies inside one of `roots`, else a DatasetError.

    Why: a dashboard shared on a network must not let a visitor read images from any folder of
    the server; the deployer names the folders that may be scanned.
    """
    if not str(path).strip():
        raise DatasetError("No folder given.", "Type the path of a folder of images.")
    target = Path(path).expanduser().resolve()
    allowed = [Path(root).expanduser().resolve() for root in roots]
    if not any(target.is_relative_to(root) for root in allowed):
        listed = ", ".join(str(root) for root in allowed) or "(none)"
        raise DatasetError(
            f"'{target}' is outside the folders this dashboard may read ({listed}).",
            "Copy the images under one of them, or start the dashboard with CONVLENS_DATA_ROOTS set to the folders to allow.",
        )
    return target


def _listing(root: Path) -> list[tuple[tuple[str, ...], os.DirEntry[str]]]:
    """Every non-hidden file under `root` (links to folders are not followed), in path order.

    Why os.scandir: its entries carry the file type from the directory read itself, so a
    5,000-file folder is listed with one stat per file instead of several (a page's second
    visit must answer in under a second, and listing is part of it).
    """
    found: list[tuple[tuple[str, ...], os.DirEntry[str]]] = []
    pending: list[tuple[str, tuple[str, ...]]] = [(str(root), ())]
    while pending:
        where, parts = pending.pop()
        try:
            with os.scandir(where) as entries:
                listed = list(entries)
        except OSError:
            continue
        for entry in listed:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, (*parts, entry.name)))
            elif not entry.is_dir():  # a link to a folder is left out, as pathlib's rglob does
                found.append(((*parts, entry.name), entry))
    found.sort(key=lambda item: item[0])
    return found


def folder(path: str | Path, *, max_images: int = MAX_IMAGES, max_image_bytes: int = MAX_IMAGE_BYTES) -> Collection:
    """Images in a folder, flat or one subfolder per class (the subfolder names become labels).

    Files that are not images (by suffix), too large, or hidden are skipped and counted.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"There is no folder at '{root}'.", "Give the path of a folder of images on this machine.")
    real_root = root.resolve()
    kept: list[str] = []
    sizes: list[str] = []
    skipped: list[str] = []
    for parts, entry in _listing(root):
        relative = "/".join(parts)
        if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(real_root):
            skipped.append(f"{relative}: a link to a file outside the folder")
            continue
        if Path(entry.name).suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(f"{relative}: not an image file")
            continue
        try:
            stat = entry.stat()
        except OSError:
            skipped.append(f"{relative}: cannot be read")
            continue
        if stat.st_size > max_image_bytes:
            skipped.append(f"{relative}: larger than {max_image_bytes // 2**20} MB")
        elif len(kept) >= max_images:
            skipped.append(f"{relative}: over the limit of {max_images} images")
        else:
            kept.append(relative)
            sizes.append(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}")
    if not kept:
        raise DatasetError(f"No images found in '{root}' ({len(skipped)} other files).", f"Supported: {', '.join(IMAGE_SUFFIXES)}.")
    labels, label_names = _labelled(kept)
    return Collection(
        root.name or str(root),
        tuple(kept),
        labels,
        label_names,
        "folder-" + _digest(str(root.resolve()).encode(), "\n".join(sizes).encode()),
        lambda i: load_image(root / kept[i], max_bytes=max_image_bytes),
        tuple(skipped),
    )


def _unsafe_name(name: str) -> str | None:
    """Why a member name must not be used (absolute, drive letter, '..'), or None when it is safe."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "absolute path refused"
    if ".." in PurePosixPath(posix).parts:
        return "'..' in the path refused"
    return None


def zip_archive(
    data: bytes,
    *,
    title: str = "uploaded zip",
    max_images: int = MAX_IMAGES,
    max_image_bytes: int = MAX_IMAGE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Collection:
    """Images inside a zip, read in memory (nothing is ever written to disk).

    Members with unsafe paths, non-images, oversized or bomb-like members (declared or actual size
    over the limits, or a compression ratio over MAX_RATIO) and corrupt members are skipped and
    counted; folder names inside the zip become labels.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DatasetError(f"The upload is not a readable zip file ({error}).", "Create it with a standard zip tool.") from error
    blobs: list[bytes] = []
    kept: list[str] = []
    skipped: list[str] = []
    total = 0
    for info in members:
        name = info.filename
        if info.is_dir():
            continue
        reason = _unsafe_name(name)
        posix = name.replace("\\", "/")
        if reason is None and any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(posix).parts):
            continue  # macOS resource forks and hidden files: not content
        if reason is None and PurePosixPath(posix).suffix.lower() not in IMAGE_SUFFIXES:
            reason = "not an image file"
        if reason is None and info.file_size > max_image_bytes:
            reason = f"larger than {max_image_bytes // 2**20} MB"
        if reason is None and info.compress_size > 0 and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 2**20:
            reason = f"compression ratio {info.file_size // info.compress_size}:1 looks like a zip bomb"
        if reason is None and total + info.file_size > max_total_bytes:
            reason = f"the archive holds more than {max_total_bytes // 2**20} MB of images"
        if reason is None and len(kept) >= max_images:
            reason = f"over the limit of {max_images} images"
        if reason is None:
            try:
                with archive.open(info) as member:
                    blob = member.read(max_image_bytes + 1)  # never trust the declared size
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError, NotImplementedError) as error:
                blob, reason = b"", f"corrupt member ({str(error)[:80]})"
            if not reason and len(blob) > max_image_bytes:
                reason = f"larger than {max_image_bytes // 2**20} MB once decompressed"
            if not reason:
                try:
                    with Image.open(io.BytesIO(blob)) as probe:
                        probe.verify()
                except Exception as error:  # noqa: BLE001 - any decoder failure means "not a readable image"
                    reason = f"not a readable image ({type(error).__name__})"
        if reason is not None:
            skipped.append(f"{name}: {reason}")
            continue
        total += len(blob)
        kept.append(posix)
        blobs.append(blob)
    if not kept:
        detail = f" Skipped: {'; '.join(skipped[:5])}" if skipped else ""
        raise DatasetError(f"The zip holds no readable images ({len(skipped)} members skipped).{detail}", f"Supported: {', '.join(IMAGE_SUFFIXES)}.")
    labels, label_names = _labelled(kept)

    def load(i: int) -> Image.Image:
        try:
            return load_image(blobs[i], max_bytes=max_image_bytes)
        except ImageError as error:
            raise DatasetError(f"'{kept[i]}' in the zip could not be decoded: {error.message}") from error

    return Collection(title, tuple(kept), labels, label_names, "zip-" + _digest(data), load, tuple(skipped))


BUILT_IN: dict[str, Callable[[], Collection]] = {"digits": digits, "photos": photos}


def collection(source: CollectionSource) -> Collection:
    """A collection from "digits", "photos", a folder path, or the bytes of a zip file."""
    if isinstance(source, Collection):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return zip_archive(bytes(source))
    if isinstance(source, str) and source in BUILT_IN:
        return BUILT_IN[source]()
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if path.is_file() and path.suffix.lower() == ".zip":
            return zip_archive(path.read_bytes(), title=path.name)
        if path.is_dir():
            return folder(path)
        raise DatasetError(f"'{source}' is neither a built-in collection nor a folder.", f"Use {', '.join(repr(k) for k in BUILT_IN)}, a folder path, or zip bytes.")
    raise DatasetError(f"Cannot make a collection from a {type(source).__name__}.", "Pass 'digits', 'photos', a folder path or zip bytes.")
