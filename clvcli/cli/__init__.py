"""The command line: parse options, call one core function, render the result."""

import contextlib
import ctypes
import os

# The models' linear algebra is vectors of a few million values: one BLAS thread
# does it as fast as several, and idle BLAS threads that spin, then sleep, cost
# milliseconds per call on a busy machine. Users can still ask for more.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# Arrow's default allocator keeps freed memory for reuse, so every large temporary of
# a run (raw columns, sorted ids) stays in the process's peak. The system allocator
# returns big blocks at once: 10M transactions peak about 150 MB lower, no slower.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# Every thread allocates from glibc's main arena (mallopt M_ARENA_MAX = 1), unless the
# user chose (MALLOC_ARENA_MAX, or arena_max in GLIBC_TUNABLES): a thread's own arena
# keeps what it frees from everyone else. Measured on the reader's path without it: a
# 1M-transaction Parquet log peaked at 350 MB instead of 265 MB, a 10M CSV at 1.45 GB
# instead of 1.27 GB (what DuckDB reads as it is, it holds in its own allocator).
if "MALLOC_ARENA_MAX" not in os.environ and "arena_max" not in os.environ.get("GLIBC_TUNABLES", ""):
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").mallopt(-8, 1)
