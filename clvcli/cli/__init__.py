"""The command line: parse options, call one core function, render the result."""

import contextlib
import ctypes
import os
import sys

# The models' linear algebra is vectors of a few million values: one BLAS thread
# does it as fast as several, and idle BLAS threads that spin, then sleep, cost
# milliseconds per call on a busy machine. Users can still ask for more.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# Arrow's default allocator keeps freed memory for reuse, so every large temporary of
# a run (raw columns, sorted ids) stays in the process's peak. The system allocator
# returns big blocks at once: 10M transactions peak about 150 MB lower, no slower.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# glibc gives each thread that allocates its own arena and keeps what is freed in an
# arena for that arena. The thread that reads INPUT ahead (cli/reading.py) would
# leave about 100 MB of a 10M-row log's temporaries where the rest of the run never
# reuses them. One arena serves every thread (DuckDB's threads have an allocator of
# their own). A user's MALLOC_ARENA_MAX or GLIBC_TUNABLES still wins.
_M_ARENA_MAX = -8


def _one_malloc_arena() -> None:
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return
    if "arena_max" in os.environ.get("GLIBC_TUNABLES", ""):
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 1)


_one_malloc_arena()
