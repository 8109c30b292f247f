"""Work on millions of rows spread over the cores: blocks of rows on threads.

numpy lets go of the GIL inside each operation, so threads that each take their own
consecutive block of rows run side by side, and a block's temporaries stay in the
cache. Each block writes only its own rows: the result is that of one pass over all
rows, bit for bit, however many threads ran.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

# Rows per block of a blockwise evaluation: a block's temporaries stay in the cache.
BLOCK_ROWS = 1 << 15
# Threads for blocks at most: beyond a few, memory bandwidth and the GIL give nothing.
MAX_THREADS = 8


def in_blocks(work: Callable[[slice], None], n: int) -> None:
    """``work`` on consecutive slices of ``n`` rows, on every core the process may use."""
    in_parallel(work, row_blocks(n))


def gather(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]``, block by block on every core.

    A gather at random places waits on memory: two threads wait side by side, and
    32-bit ``rows`` are widened a block at a time instead of into a whole 64-bit
    copy first. Ten million days and amounts: 0.15 s instead of 0.45 s.
    """
    out = np.empty(len(rows), dtype=values.dtype)

    def work(block: slice) -> None:
        np.take(values, rows[block], out=out[block])

    in_blocks(work, len(rows))
    return out


def in_parallel(work: Callable[[Any], None], items: Iterable[Any]) -> None:
    """``work(item)`` for every item, on every core the process may use.

    The calling thread and one helper per further core take items from a shared queue
    until it is empty, so a core that another process holds up slows no one else. Each
    thread runs in a copy of the caller's context, which carries numpy's error state
    (np.errstate); exceptions reach the caller.
    """
    items = list(items)
    workers = min(cores(), len(items))
    if workers <= 1:
        for item in items:
            work(item)
        return
    queue = iter(items)  # taking the next item holds the GIL: each item is taken once

    def drain(context: contextvars.Context) -> None:
        for item in queue:
            context.run(work, item)

    with ThreadPoolExecutor(workers - 1, thread_name_prefix="clv") as pool:
        helpers = [pool.submit(drain, contextvars.copy_context()) for _ in range(workers - 1)]
        drain(contextvars.copy_context())
        for helper in helpers:
            helper.result()


def row_blocks(n: int, size: int | None = None) -> list[slice]:
    """Consecutive slices of ``size`` rows (BLOCK_ROWS by default) covering ``n`` rows."""
    size = size or BLOCK_ROWS
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def cores() -> int:
    """The CPUs this process may run on (its affinity mask, where the OS has one), at
    most MAX_THREADS."""
    if hasattr(os, "sched_getaffinity"):
        return min(max(len(os.sched_getaffinity(0)), 1), MAX_THREADS)
    return min(os.cpu_count() or 1, MAX_THREADS)
