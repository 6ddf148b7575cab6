"""Image parameterisations: what the optimiser changes, and how it becomes a picture in [0, 1].

Why several: raw pixels are the textbook definition (Simonyan et al. 2014) and what adversarial
examples need; a decorrelated Fourier basis (Olah et al. 2017, "Feature Visualization") makes
every frequency and colour equally easy to change, so pictures come out without the
high-frequency noise that plain pixel ascent produces; a perturbation inside an epsilon ball keeps
an existing photo recognisable. All of them render 1x3xHxW images in [0, 1].
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from ..errors import ConvlensError, ImageError

# Square root of the colour covariance of ImageNet photos (Olah et al. 2017): mixing three
# decorrelated channels through it gives natural colour statistics.
_COLOR_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
_COLOR_SQRT = _COLOR_SQRT / _COLOR_SQRT.norm(dim=0).max()
_LOGIT_EPS = 1e-3  # photos are clipped to [eps, 1 - eps] before the inverse sigmoid


@runtime_checkable
class Param(Protocol):
    """A differentiable picture: leaf tensors to optimise and a render to 1x3xHxW in [0, 1]."""

    def tensors(self) -> list[torch.Tensor]:
        """The leaf tensors the optimiser updates (never the model's)."""

    def render(self) -> torch.Tensor:
        """The current picture, 1x3xHxW in [0, 1], differentiable w.r.t. `tensors()`."""

    def project(self) -> None:
        """Restore the constraints after an optimiser step (called under no_grad)."""

    def describe(self) -> dict[str, object]:
        """Parameters for the result record (JSON-friendly)."""


def image_tensor(image01: np.ndarray | torch.Tensor) -> torch.Tensor:
    """HxWx3 array / 3xHxW / 1x3xHxW values in [0, 1] -> 1x3xHxW float32 tensor (a copy)."""
    tensor = torch.as_tensor(np.asarray(image01) if isinstance(image01, np.ndarray) else image01).float()
    if tensor.ndim == 3 and tensor.shape[-1] == 3 and tensor.shape[0] != 3:
        tensor = tensor.permute(2, 0, 1)
    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 4 or tensor.shape[:2] != (1, 3):
        raise ImageError(f"Expected an HxWx3 image in [0, 1]; got shape {tuple(tensor.shape)}.", "Pass m.image01(picture).")
    if tensor.numel() and (float(tensor.min()) < -1e-6 or float(tensor.max()) > 1 + 1e-6):
        raise ImageError("Image values must lie in [0, 1].", "Divide uint8 pictures by 255, or use m.image01(picture).")
    return tensor.detach().clone(memory_format=torch.contiguous_format).clamp(0, 1)  # L-BFGS views it flat


def _normal(shape: tuple[int, ...], generator: torch.Generator | None, sd: float) -> torch.Tensor:
    return torch.randn(shape, generator=generator) * sd


class Pixels:
    """Raw pixels in [0, 1], clipped back into range after every step.

    Starts from `init` (an image to modify: inversion, DeepDream) or grey plus small noise.
    `pixels` is the tensor that in-place regularisers (blur, norm clipping) act on.
    """

    def __init__(self, size: tuple[int, int], init: np.ndarray | torch.Tensor | None = None, sd: float = 0.01, generator: torch.Generator | None = None) -> None:
        if init is not None:
            start = image_tensor(init)
        else:
            start = (0.5 + _normal((1, 3, *size), generator, sd)).clamp(0, 1)
        self.pixels = start.requires_grad_(True)
        self._from_image = init is not None
        self._sd = sd

    def tensors(self) -> list[torch.Tensor]:
        return [self.pixels]

    def render(self) -> torch.Tensor:
        """The pixels in [0, 1], with the gradient passed straight through the clip.

        Why: `clamp`'s gradient is 0 at its bounds, so a pixel that starts at exactly 0 or 1 (black
        or white in a photo, every pixel of a binary picture) would never move; `project` keeps
        the values in range after each step instead.
        """
        return self.pixels + (self.pixels.clamp(0, 1) - self.pixels).detach()

    def project(self) -> None:
        self.pixels.clamp_(0, 1)

    def describe(self) -> dict[str, object]:
        return {"param": "pixels", "init": "image" if self._from_image else f"grey + N(0, {self._sd})"}


def _frequencies(height: int, width: int) -> torch.Tensor:
    """|f| of the rfft2 grid (H x W//2+1), in cycles per pixel."""
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


class Fourier:
    """A decorrelated Fourier parameterisation (Olah et al. 2017).

    The spectrum is scaled by 1/|f|^decay so that every frequency learns at the same speed, the
    three channels are mixed through the ImageNet colour covariance, and a sigmoid maps to [0, 1].
    """

    def __init__(self, size: tuple[int, int], sd: float = 0.01, decay: float = 1.0, decorrelate: bool = True, generator: torch.Generator | None = None, count: int = 1, init: np.ndarray | torch.Tensor | None = None) -> None:
        height, width = size
        self.size = (int(height), int(width))
        freqs = _frequencies(height, width)
        self._scale = 1.0 / torch.clamp(freqs, min=1.0 / max(height, width)) ** decay
        self._scale = self._scale * math.sqrt(height * width)
        if init is not None:  # the spectrum that renders `init` (HxWx3 in [0, 1]) exactly
            start = torch.view_as_real(4.0 * to_spectrum(init, decorrelate) / self._scale).expand(count, -1, -1, -1, -1)
        else:
            start = _normal((count, 3, height, width // 2 + 1, 2), generator, sd)
        self.spectrum = start.clone().contiguous().requires_grad_(True)
        self._decorrelate = decorrelate
        self._desc = {"param": "fourier", "sd": sd, "decay": decay, "decorrelate": decorrelate, **({"init": "image"} if init is not None else {})}

    def tensors(self) -> list[torch.Tensor]:
        return [self.spectrum]

    def render(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.spectrum) * self._scale
        image = torch.fft.irfft2(spectrum, s=self.size) / 4.0
        if self._decorrelate:
            image = torch.einsum("bchw,dc->bdhw", image, _COLOR_SQRT)
        return torch.sigmoid(image)

    def project(self) -> None:
        return None

    def describe(self) -> dict[str, object]:
        return dict(self._desc)


def _hermitian_phase(phase: torch.Tensor, width: int) -> torch.Tensor:
    """Make an rfft2 phase grid (..., H, W//2+1) that of a real picture, so that irfft2 keeps
    every magnitude exactly: on the columns that are their own mirror (0 and, for even W, the
    last) the phase must be odd in y, phase[y] = -phase[-y]; where y = -y (rows 0 and H/2) the
    coefficient is real, so its phase is 0 or π (the nearer one; a sign has no gradient)."""
    height = phase.shape[-2]
    columns = [0] + ([phase.shape[-1] - 1] if width % 2 == 0 else [])
    rows = [0] + ([height // 2] if height % 2 == 0 else [])
    fixed = phase.clone()
    for c in columns:
        column = phase[..., :, c]
        mirrored = torch.roll(torch.flip(column, dims=[-1]), 1, dims=-1)  # index y -> (-y) mod H
        odd = (column - mirrored) / 2
        for r in rows:
            odd[..., r] = torch.where(torch.cos(column[..., r].detach()) < 0, math.pi, 0.0)
        fixed[..., :, c] = odd
    return fixed


def to_spectrum(image01: np.ndarray | torch.Tensor, decorrelate: bool = True) -> torch.Tensor:
    """A picture (HxWx3 in [0, 1]) -> the rfft2 (1x3xHxW//2+1, complex) of the field that `Maco`
    and `Fourier` render it from: its inverse sigmoid, in the decorrelated colour basis."""
    image = image_tensor(image01).clamp(_LOGIT_EPS, 1 - _LOGIT_EPS)
    field = torch.logit(image)
    if decorrelate:
        field = torch.einsum("bdhw,dc->bchw", field, torch.linalg.inv(_COLOR_SQRT).T)
    return torch.fft.rfft2(field)


@lru_cache(maxsize=8)
def _natural_magnitude(height: int, width: int) -> torch.Tensor:
    from PIL import Image

    from ..images import sample_image, sample_names

    spectra = []
    for name in sample_names():
        picture = sample_image(name)
        scale = max(height / picture.height, width / picture.width)
        resized = picture.resize((max(width, round(picture.width * scale)), max(height, round(picture.height * scale))), Image.BICUBIC)
        left, top = (resized.width - width) // 2, (resized.height - height) // 2
        crop = np.asarray(resized.crop((left, top, left + width, top + height)), dtype=np.float32) / 255.0
        spectra.append(to_spectrum(crop).abs())
    return torch.stack(spectra).mean(dim=0)


def natural_magnitude(size: tuple[int, int]) -> torch.Tensor:
    """The mean magnitude spectrum (1x3xHxW//2+1) of the bundled sample photos at `size`: what
    natural pictures' amplitudes look like, frequency by frequency and colour by colour. The
    photos' mean is taken as it is, so rendered pictures keep their average colour too."""
    return _natural_magnitude(int(size[0]), int(size[1])).clone()


class Maco:
    """MAgnitude-Constrained Optimisation (Fel et al. 2023): only the Fourier *phase* is optimised.

    The magnitude spectrum is fixed, by default to that of natural photos (`natural_magnitude`),
    so every rendered picture has natural-image amplitudes at every frequency and colour; the
    optimiser can only move structure around. Rendering: magnitude · e^{iφ} -> irfft2 ->
    ImageNet colour mixing -> sigmoid, the inverse of `to_spectrum` (a photo's own magnitude and
    phase render that photo). Why: free magnitudes let deep networks' gradients pile energy into
    high frequencies that only the generating network reads; a fixed natural spectrum forbids it.
    """

    def __init__(self, size: tuple[int, int], magnitude: torch.Tensor | None = None, phase: torch.Tensor | None = None, decorrelate: bool = True, generator: torch.Generator | None = None, count: int = 1) -> None:
        height, width = int(size[0]), int(size[1])
        self.size = (height, width)
        shape = (count, 3, height, width // 2 + 1)
        self.magnitude = (natural_magnitude(self.size) if magnitude is None else torch.as_tensor(magnitude).float().reshape(1, *shape[1:])).clone()
        if float(self.magnitude.min()) < 0:
            raise ConvlensError("A magnitude spectrum cannot be negative.")
        if phase is None:  # uniform phases; the mean colour (DC) keeps the photos' sign
            start = (torch.rand(shape, generator=generator) * 2 - 1) * math.pi
            start[..., 0, 0] = 0.0
        else:
            start = torch.as_tensor(phase).float().reshape(shape)
        self.phase = start.clone().requires_grad_(True)
        self._decorrelate = decorrelate
        self._given = magnitude is not None

    def tensors(self) -> list[torch.Tensor]:
        return [self.phase]

    def field(self) -> torch.Tensor:
        """The real picture before colour mixing and sigmoid (1x3xHxW); its rfft2 magnitude is `magnitude`."""
        phase = _hermitian_phase(self.phase, self.size[1])
        return torch.fft.irfft2(torch.polar(self.magnitude, phase), s=self.size)

    def render(self) -> torch.Tensor:
        image = self.field()
        if self._decorrelate:
            image = torch.einsum("bchw,dc->bdhw", image, _COLOR_SQRT)
        return torch.sigmoid(image)

    def project(self) -> None:
        return None

    def describe(self) -> dict[str, object]:
        return {"param": "maco", "magnitude": "given" if self._given else "sample photos", "decorrelate": self._decorrelate}


class Perturbation:
    """An existing image plus a change bounded in L∞ or L2 (pixel units of [0, 1]).

    After every step the change is projected back onto the epsilon ball and the sum is clipped to
    [0, 1], so each rendered picture is a valid image within budget (Madry et al. 2018, PGD).
    """

    def __init__(self, image01: np.ndarray | torch.Tensor, eps: float, norm: str = "linf", random_start: bool = False, generator: torch.Generator | None = None) -> None:
        if norm not in ("linf", "l2"):
            raise ConvlensError(f"Unknown norm {norm!r} for the perturbation budget.", "Use 'linf' or 'l2'.")
        if not eps >= 0:
            raise ConvlensError(f"The perturbation budget must be >= 0 (got {eps}).", "8/255 ≈ 0.031 is a common L∞ budget.")
        self.base = image_tensor(image01)
        self.eps, self.norm = float(eps), norm
        start = torch.zeros_like(self.base)
        if random_start and eps > 0:
            start = (torch.rand(self.base.shape, generator=generator) * 2 - 1) * eps
        self.delta = start.requires_grad_(True)
        with torch.no_grad():
            self.project()
        self._random_start = random_start

    def tensors(self) -> list[torch.Tensor]:
        return [self.delta]

    def render(self) -> torch.Tensor:
        return (self.base + self.delta).clamp(0, 1)

    def project(self) -> None:
        delta = self.delta.data
        if self.norm == "linf":
            delta.clamp_(-self.eps, self.eps)
        else:
            length = float(delta.norm())
            if length > self.eps:
                delta.mul_(self.eps / length)
        # stay a valid picture: base + delta in [0, 1]
        delta.copy_((self.base + delta).clamp(0, 1) - self.base)

    def describe(self) -> dict[str, object]:
        return {"param": "perturbation", "eps": self.eps, "norm": self.norm, "random_start": self._random_start}


def pixels(size: tuple[int, int], init: np.ndarray | torch.Tensor | None = None, sd: float = 0.01, generator: torch.Generator | None = None) -> Pixels:
    """Raw pixels of an HxW picture, from `init` (HxWx3 in [0, 1]) or grey with N(0, sd) noise."""
    return Pixels(size, init, sd, generator)


def fourier(size: tuple[int, int], sd: float = 0.01, decay: float = 1.0, decorrelate: bool = True, generator: torch.Generator | None = None, count: int = 1, init: np.ndarray | torch.Tensor | None = None) -> Fourier:
    """Decorrelated Fourier parameterisation of an HxW picture (Olah et al. 2017); `count` pictures
    at once; `init` (HxWx3 in [0, 1]) starts from that picture instead of near-grey noise."""
    return Fourier(size, sd, decay, decorrelate, generator, count, init)


def perturbation(image01: np.ndarray | torch.Tensor, eps: float, norm: str = "linf", random_start: bool = False, generator: torch.Generator | None = None) -> Perturbation:
    """A change to `image01` (HxWx3 in [0, 1]) bounded by `eps` in L∞ or L2, in pixel units."""
    return Perturbation(image01, eps, norm, random_start, generator)


def maco(size: tuple[int, int], magnitude: torch.Tensor | None = None, phase: torch.Tensor | None = None, decorrelate: bool = True, generator: torch.Generator | None = None, count: int = 1) -> Maco:
    """Phase-only Fourier parameterisation with a fixed (default: natural-photo) magnitude spectrum (Fel et al. 2023); `count` pictures at once."""
    return Maco(size, magnitude, phase, decorrelate, generator, count)


class Accent:
    """An existing image plus a smooth change of bounded size: feature accentuation's picture.

    The change is a decorrelated Fourier field (1/|f| scaled, as in `Fourier`, so it comes out
    smooth rather than adversarial noise) in pixel units, rendered as clamp(image + change). After
    each step the change is scaled back into the budget: its root-mean-square over pixels and
    colours is at most `budget` (0.1 = a tenth of the [0, 1] range). Why a budget: Hamblin et al.
    (2024) accentuate a feature *in* a given image, which must stay that image.
    """

    def __init__(self, image01: np.ndarray | torch.Tensor, budget: float, decay: float = 1.0, generator: torch.Generator | None = None) -> None:
        if not budget > 0:
            raise ConvlensError(f"The change budget must be positive (got {budget}).", "0.1 lets the picture change by a tenth of its range on average.")
        self.base = image_tensor(image01)
        height, width = self.base.shape[-2:]
        self.size = (int(height), int(width))
        self.budget = float(budget)
        freqs = _frequencies(height, width)
        self._scale = 1.0 / torch.clamp(freqs, min=1.0 / max(height, width)) ** decay
        self.spectrum = _normal((1, 3, height, width // 2 + 1, 2), generator, 1e-3).requires_grad_(True)
        self._decay = decay

    def tensors(self) -> list[torch.Tensor]:
        return [self.spectrum]

    def change(self) -> torch.Tensor:
        """The change in pixel units (1x3xHxW), before clamping to a valid picture."""
        field = torch.fft.irfft2(torch.view_as_complex(self.spectrum) * self._scale, s=self.size)
        return torch.einsum("bchw,dc->bdhw", field, _COLOR_SQRT)

    def render(self) -> torch.Tensor:
        return (self.base + self.change()).clamp(0, 1)

    def project(self) -> None:
        rms = float(self.change().pow(2).mean().sqrt())  # linear in the spectrum: scaling it scales the change
        if rms > self.budget:
            self.spectrum.data.mul_(self.budget / rms)

    def describe(self) -> dict[str, object]:
        return {"param": "accent", "budget": self.budget, "decay": self._decay}


def accent(image01: np.ndarray | torch.Tensor, budget: float = 0.1, decay: float = 1.0, generator: torch.Generator | None = None) -> Accent:
    """A smooth change of `image01` (HxWx3 in [0, 1]) whose RMS is at most `budget` (feature accentuation)."""
    return Accent(image01, budget, decay, generator)
