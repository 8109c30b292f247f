"""The command line: parse options, call one core function, render the result."""

import os

from clvcli.memory import large_blocks_from_heap, one_malloc_arena

# The models' linear algebra is vectors of a few million values: one BLAS thread
# does it as fast as several, and idle BLAS threads that spin, then sleep, cost
# milliseconds per call on a busy machine. Users can still ask for more.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# Arrow's default allocator keeps freed memory for reuse, so every large temporary of
# a run (raw columns, sorted ids) stays in the process's peak. The system allocator
# returns big blocks at once: 10M transactions peak about 150 MB lower, no slower.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# One malloc arena for every thread, large blocks from its heap: see clvcli.memory.
one_malloc_arena()
large_blocks_from_heap()
