"""Process-level settings that make CPU timings stable and fast.

Why: on CPU the memory allocator, not the model, sets the floor for batched forwards. glibc
returns freed blocks to the OS and re-faults them on the next batch; keeping them (mallopt) made
batch-32 forwards ≈2.5× faster in a fresh process. Benchmarks and the dashboard call this once.
"""
from __future__ import annotations

import ctypes
import ctypes.util

import torch

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = False


def keep_freed_memory(limit_bytes: int = 1 << 30) -> bool:
    """Ask glibc to keep up to `limit_bytes` of freed memory; returns False where glibc is absent."""
    global _applied
    if _applied:
        return True
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, limit_bytes // 2)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, limit_bytes))
    except (OSError, AttributeError):
        return False
    _applied = ok
    return ok


def runtime_summary() -> str:
    """The torch build and thread count, for a footer that says where the numbers come from."""
    return f"torch {torch.__version__} · {torch.get_num_threads()} threads"
