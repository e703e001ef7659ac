"""Giving freed memory back to the operating system between the stages of a large run.

glibc's allocator keeps what a stage freed in its heaps (one per thread that allocated), so a
process's resident memory only grows: after the underserved areas of 1.5 M raster cells, 0.4 GB
freed but still held. :func:`give_back` asks it to return what it can (``malloc_trim``); elsewhere
(macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():
    """glibc's ``malloc_trim``, or None where there is none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


def give_back() -> None:
    """Return the memory freed so far to the operating system, where the C library can."""
    fn = _trim()
    if fn is not None:
        fn(0)
