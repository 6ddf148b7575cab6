"""Reading, validating and (de)normalising images, and the built-in sample photos.

Why here and nowhere else: every page and engine must see the *same* pixels the model saw
(resize, centre crop, normalisation from the model's data config), and every user upload must be
checked once, with a message instead of a traceback.
"""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError

ImageLike = Union[str, Path, bytes, Image.Image, np.ndarray]

MAX_FILE_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 40_000_000

# Display name -> (skimage.data function, what it shows). Photos, not synthetic test patterns.
SAMPLES: dict[str, str] = {
    "chelsea (cat)": "chelsea",
    "coffee (espresso)": "coffee",
    "astronaut": "astronaut",
    "rocket": "rocket",
    "hubble deep field": "hubble_deep_field",
    "immunohistochemistry": "immunohistochemistry",
    "motorcycle (stereo left)": "stereo_motorcycle",
    "retina": "retina",
}


def sample_names() -> list[str]:
    """Names of the built-in sample photos, as shown in the UI."""
    return list(SAMPLES)


@lru_cache(maxsize=16)
def _sample_array(name: str) -> np.ndarray:
    import skimage.data

    loader = getattr(skimage.data, SAMPLES[name])
    array = loader()
    if isinstance(array, tuple):  # stereo_motorcycle returns (left, right, disparity)
        array = array[0]
    return np.ascontiguousarray(array)


def sample_image(name: str) -> Image.Image:
    """A built-in sample photo (offline: they ship inside scikit-image) as an RGB PIL image."""
    if name not in SAMPLES:
        raise ImageError(f"There is no sample image called '{name}'.", f"Choose one of: {', '.join(SAMPLES)}.")
    return to_rgb(Image.fromarray(_sample_array(name)))


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit RGB: 16-bit and float rescaled, alpha composited on white, CMYK converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        if image.mode == "F" and array.max() <= 1.0:
            top = 1.0
        image = Image.fromarray(np.clip(array / top * 255.0, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def _from_array(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # CHW -> HWC
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(f"An array of shape {array.shape} is not an image.", "Pass HxW, HxWx3 or HxWx4.")
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        if not np.isfinite(values).all():
            raise ImageError("The image array contains NaN or infinite values.")
        top = 1.0 if values.max() <= 1.0 else (255.0 if values.max() <= 255 else 65535.0)
        array = np.clip(values / top * 255.0, 0, 255).round().astype(np.uint8)
    return Image.fromarray(array)


def load_image(source: ImageLike, *, max_bytes: int = MAX_FILE_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Read an image from a path, bytes, PIL image or array into upright 8-bit RGB.

    Refuses non-images, oversized files and decompression bombs with an `ImageError` that says
    what to do; applies the EXIF orientation so phone photos are not sideways.
    """
    if isinstance(source, Image.Image):
        return to_rgb(ImageOps.exif_transpose(source) or source)
    if isinstance(source, np.ndarray):
        return to_rgb(_from_array(source))
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"No image file at '{path}'.", "Check the path.")
        if path.stat().st_size > max_bytes:
            raise ImageError(
                f"'{path.name}' is {path.stat().st_size / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB.",
                "Resize or compress the image first.",
            )
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        raise ImageError(f"Cannot read an image from a {type(source).__name__}.", "Pass a path, bytes, PIL image or array.")
    if len(data) > max_bytes:
        raise ImageError(
            f"The file is {len(data) / 2**20:.0f} MB; the limit is {max_bytes / 2**20:.0f} MB.",
            "Resize or compress the image first.",
        )
    if not data:
        raise ImageError("The file is empty.", "Choose an image file (PNG, JPEG, ...).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} MP); the limit is {max_pixels / 1e6:.0f} MP.",
                    "Downscale it first.",
                )
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError("The image declares an enormous size (a decompression bomb).", "Use a normal-sized image.") from error
    except UnidentifiedImageError as error:
        raise ImageError("The file is not an image that can be read.", "Upload a PNG, JPEG, WebP, BMP or TIFF file.") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"The image file is damaged or truncated ({error}).", "Try another file or re-export it.") from error
    return to_rgb(ImageOps.exif_transpose(image) or image)


@dataclass(frozen=True)
class Preprocessing:
    """How a model wants its input, from its timm data config (resize, crop, mean/std)."""

    input_size: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bicubic"
    crop_pct: float = 0.875

    @classmethod
    def from_data_config(cls, config: dict[str, Any]) -> "Preprocessing":
        return cls(
            input_size=tuple(config.get("input_size", (3, 224, 224))),  # type: ignore[arg-type]
            mean=tuple(config.get("mean", (0.485, 0.456, 0.406))),
            std=tuple(config.get("std", (0.229, 0.224, 0.225))),
            interpolation=str(config.get("interpolation", "bicubic")),
            crop_pct=float(config.get("crop_pct", 0.875) or 1.0),
        )

    @property
    def channels(self) -> int:
        return self.input_size[0]

    def fit(self, image: Image.Image) -> Image.Image:
        """Resize the shorter side to size/crop_pct and centre-crop: the pixels the model sees.

        A picture already at the input size is returned as it is: it is most likely one convlens
        made for this model (an adversarial image, a class model), and cropping it again would
        rescale its pixels and undo what was made (an attack loses its effect).
        """
        _, height, width = self.input_size
        if image.size == (width, height):
            return image
        scale_h, scale_w = math.floor(height / self.crop_pct), math.floor(width / self.crop_pct)
        resample = {
            "bilinear": Image.BILINEAR,
            "nearest": Image.NEAREST,
            "bicubic": Image.BICUBIC,
            "lanczos": Image.LANCZOS,
        }.get(self.interpolation, Image.BICUBIC)
        w, h = image.size
        if height == width:
            short, long = (w, h) if w <= h else (h, w)  # torchvision's Resize(int): truncate the long side
            long = int(scale_h * long / short)
            new_size = (scale_h, long) if w <= h else (long, scale_h)
        else:
            new_size = (scale_w, scale_h)
        image = image.resize(new_size, resample)
        left, top = int(round((new_size[0] - width) / 2.0)), int(round((new_size[1] - height) / 2.0))
        return image.crop((left, top, left + width, top + height))

    def to_tensor(self, image01: np.ndarray | torch.Tensor) -> torch.Tensor:
        """HxWx3 (or Bx3xHxW) values in [0, 1] -> normalised tensor Bx C x H x W."""
        tensor = torch.as_tensor(np.asarray(image01) if isinstance(image01, np.ndarray) else image01, dtype=torch.float32)
        if tensor.ndim == 3 and tensor.shape[-1] in (1, 3):
            tensor = tensor.permute(2, 0, 1).unsqueeze(0)
        if self.channels == 1 and tensor.shape[1] == 3:
            tensor = tensor.mean(dim=1, keepdim=True)
        mean = torch.tensor(self.mean, dtype=tensor.dtype, device=tensor.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=tensor.dtype, device=tensor.device).view(1, -1, 1, 1)
        return (tensor - mean) / std

    def __call__(self, source: ImageLike) -> torch.Tensor:
        """Image -> 1 x C x H x W normalised float tensor."""
        return self.to_tensor(self.image01(source))

    def image01(self, source: ImageLike) -> np.ndarray:
        """Image -> HxWx3 float32 in [0, 1], resized and cropped as the model sees it."""
        return np.asarray(self.fit(load_image(source)), dtype=np.float32) / 255.0

    def deprocess(self, tensor: torch.Tensor) -> np.ndarray:
        """Normalised 1xCxHxW (or CxHxW) tensor -> HxWx3 uint8 picture (clipped to range)."""
        tensor = tensor.detach().float().cpu()
        if tensor.ndim == 4:
            tensor = tensor[0]
        mean = torch.tensor(self.mean).view(-1, 1, 1)
        std = torch.tensor(self.std).view(-1, 1, 1)
        image01 = (tensor * std + mean).clamp(0, 1)
        if image01.shape[0] == 1:
            image01 = image01.expand(3, -1, -1)
        return (image01.permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)

    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised-space per-channel bounds (1xCx1x1) corresponding to pixel values 0 and 1."""
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        return (0 - mean) / std, (1 - mean) / std


def image_digest(source: ImageLike) -> str:
    """Content digest of an image, so caches key on pixels and never on a sampled hash."""
    import hashlib

    image = load_image(source)
    digest = hashlib.sha256(image.tobytes())
    digest.update(repr(image.size).encode())
    return digest.hexdigest()[:20]


_SHIFTED_SUM_MAX_RADIUS = 6


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable, differentiable Gaussian blur of each channel of a (B, C, H, W) tensor.

    One implementation for every user (occlusion fill, blurred IG baseline, synthesis priors):
    reflected borders, or replicated ones when the image is smaller than the kernel's radius.
    """
    if sigma <= 0:
        return image.clone()
    radius = max(1, int(math.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, device=image.device, dtype=image.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    mode = "reflect" if min(image.shape[-2:]) > radius else "replicate"
    if radius <= _SHIFTED_SUM_MAX_RADIUS:
        # a few shifted, weighted copies beat a depthwise conv on CPU for short kernels (≈4× at σ=0.5)
        height, width = image.shape[-2:]
        taps = kernel.tolist()
        rows = F.pad(image, (radius, radius, 0, 0), mode=mode)
        out = sum(weight * rows[..., :, i : i + width] for i, weight in enumerate(taps))
        columns = F.pad(out, (0, 0, radius, radius), mode=mode)
        return sum(weight * columns[..., i : i + height, :] for i, weight in enumerate(taps))  # type: ignore[return-value]
    channels = image.shape[1]
    out = F.pad(image, (radius, radius, 0, 0), mode=mode)
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    out = F.pad(out, (0, 0, radius, radius), mode=mode)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)
