"""Keep freed tensor memory in the process heap while a network trains (glibc only).

PyTorch's CPU allocator hands every tensor to ``malloc`` and back to ``free``.
With glibc's defaults, the multi-megabyte activations and gradients of a
training step are returned to the kernel at the end of the step (heap
trimming, or ``munmap`` of chunks above the mmap threshold) and fetched again
at the next one, so every step pays a page fault per 4 KiB of them: a quarter
of Light-SERNet's CPU time per step was kernel time (``sys``) before this.
:func:`retained_heap` raises the two thresholds for the duration of training
and gives the memory back afterwards.
"""

# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator

__all__ = ["retained_heap"]

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's ceiling for the mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): chunks
# up to this size come from the heap, which is where the dynamic threshold ends up anyway.
_MMAP_THRESHOLD = 32 * 1024 * 1024
# While training: never trim the heap top (the largest int mallopt takes).
_TRIM_WHILE_TRAINING = 2**31 - 1
# After training: what glibc's dynamic rule gives for that mmap threshold (2x).
_TRIM_AFTER = 2 * _MMAP_THRESHOLD

#: False turns :func:`retained_heap` into a no-op (A/B benchmarks, equality tests).
ENABLED = True


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (``mallopt``, ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only (not musl)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


@contextlib.contextmanager
def retained_heap() -> Iterator[None]:
    """Keep freed memory in the heap inside the block; release it on exit.

    On glibc: the mmap threshold is set to 32 MiB (allocations below it come
    from the heap) and heap trimming is off inside the block; on exit the trim
    threshold becomes 64 MiB (glibc's own rule for that mmap threshold) and
    ``malloc_trim(0)`` returns the retained memory to the system. Elsewhere,
    or with :data:`ENABLED` False, it does nothing. Numbers are unaffected:
    only where ``malloc`` finds memory changes.

    Notes
    -----
    ``mallopt`` settings are process-wide, and setting either threshold turns
    off glibc's dynamic adjustment of both for the rest of the process; the
    values left behind are the ones that adjustment converges to for tensors
    of tens of megabytes.
    """
    libc = _LIBC if ENABLED else None
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_WHILE_TRAINING)
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_AFTER)
        libc.malloc_trim(0)
