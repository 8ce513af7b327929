"""Keep freed tensor memory in the process heap while a network trains on the CPU (glibc only).

PyTorch's CPU allocator hands every tensor to ``malloc`` and back to ``free``.
With glibc's defaults the multi-megabyte activations and gradients of a
training step go back to the kernel when they are freed (heap trimming, or
``munmap`` of chunks above the mmap threshold) and are fetched again at the
next step, so every step pays a page fault per 4 KiB page of them: Light-SERNet
took about 310,000 faults per epoch of 17 batches, and the kernel's share of
its CPU time fell from 7 % to 2 % with this module
(``benchmarks/bench_models.py --heap-ab``). :func:`retained_heap` keeps that
memory in the heap while training runs and gives it back at the end. TensorFlow's CPU allocator keeps its memory the same
way.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["ENV_VAR", "heap_tuning_active", "retained_heap"]

#: ``SKSER_RETAIN_HEAP=0`` (or false/no/off) turns :func:`retained_heap` off.
ENV_VAR = "SKSER_RETAIN_HEAP"

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's ceiling for the mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): chunks
# up to this size come from the heap, which is where glibc's dynamic threshold ends up
# anyway once tensors of tens of megabytes have been freed.
_MMAP_THRESHOLD = 32 * 1024 * 1024
# While training: never trim the heap top (the largest int mallopt takes).
_TRIM_WHILE_TRAINING = 2**31 - 1
# After training: what glibc's dynamic rule gives for that mmap threshold (2x).
_TRIM_AFTER = 2 * _MMAP_THRESHOLD

# Settings a user makes for glibc's malloc, or another allocator preloaded: left alone.
_USER_MALLOC_ENV = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)
_OTHER_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")

_lock = threading.Lock()
_depth = 0  # retained_heap blocks open in this process (threads may train concurrently)


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (``mallopt``, ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: not glibc's malloc
            return None
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def heap_tuning_active() -> bool:
    """True when :func:`retained_heap` would change glibc's settings in this process.

    False off glibc, with ``SKSER_RETAIN_HEAP=0``, when the user tuned glibc's
    malloc through its ``MALLOC_*_`` environment variables or
    ``GLIBC_TUNABLES=glibc.malloc...``, or when ``LD_PRELOAD`` brings jemalloc,
    tcmalloc or mimalloc (then ``malloc`` is not glibc's).
    """
    if _LIBC is None:
        return False
    if os.environ.get(ENV_VAR, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if any(name in os.environ for name in _USER_MALLOC_ENV):
        return False
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    preload = os.environ.get("LD_PRELOAD", "")
    return not any(name in preload for name in _OTHER_ALLOCATORS)


@contextlib.contextmanager
def retained_heap() -> Iterator[None]:
    """Keep freed memory in the heap inside the block; give it back on exit.

    On glibc (see :func:`heap_tuning_active`): the mmap threshold becomes
    32 MiB (allocations below it come from the heap) and heap trimming is off
    while any block is open in the process; when the last one exits, the trim
    threshold becomes 64 MiB (glibc's own rule for that mmap threshold) and
    ``malloc_trim(0)`` returns the retained memory to the system. Numbers are
    unaffected: only where ``malloc`` finds memory changes.

    Notes
    -----
    ``mallopt`` settings are process-wide, and setting either threshold turns
    off glibc's dynamic adjustment of both for the rest of the process; the
    values left behind are the ones that adjustment converges to once tensors
    of tens of megabytes have been freed.
    """
    global _depth
    libc = _LIBC if heap_tuning_active() else None
    if libc is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
            libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_WHILE_TRAINING)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_AFTER)
                libc.malloc_trim(0)
