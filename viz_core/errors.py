"""One exception family, so the dashboard can show every expected failure as a message.

Every error says what went wrong *and* what to do about it (`hint`); the dashboard prints both
with `st.error`, a notebook user sees them in the exception text.
"""
from __future__ import annotations


class ConvlensError(Exception):
    """Base of every error a user can cause with their input (not a bug in convlens)."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}".strip())


class ModelNotFoundError(ConvlensError):
    """An unknown model name."""


class ModelTooLargeError(ConvlensError):
    """A model whose parameter count exceeds the configured limit."""


class WeightsError(ConvlensError):
    """Weights that cannot be found, read, trusted or matched to the architecture."""


class ImageError(ConvlensError):
    """An input that is not a readable, reasonably sized image."""


class LayerError(ConvlensError):
    """A layer that does not exist or does not fit the method (e.g. no spatial map)."""


class TargetError(ConvlensError):
    """A class or channel index out of range, or a target that does not fit the model."""


class DatasetError(ConvlensError):
    """A collection of images that cannot be read safely."""


class SettingsError(ConvlensError):
    """A method's setting outside its valid range or set (steps, batch size, rule, norm, ...)."""


def near_matches(name: str, names: list[str], fallback: str, cutoff: float = 0.5) -> str:
    """A hint naming the closest valid names to a mistyped one (or `fallback` when none is close)."""
    import difflib

    close = difflib.get_close_matches(name, [n for n in names if n], n=5, cutoff=cutoff)
    return f"Did you mean: {', '.join(close)}?" if close else fallback
