"""Freed heap handed back between phases (clvcli.memory)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A heap of small blocks is freed, leaving its pages resident, until they are
# handed back: the script prints the resident anonymous kB before and after.
SCRIPT = """
import clvcli.memory as memory

def anonymous_kb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon"):
            return int(line.split()[1])

blocks = [bytearray(100_000) for _ in range(2_000)]  # 200 MB under the mmap threshold
keep = blocks[-1]  # the heap's top stays in use, so only a trim can return the rest
del blocks
before = anonymous_kb()
memory.hand_back_free_memory()
print(before, anonymous_kb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap")
def test_free_heap_goes_back_to_the_system():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before - after > 150_000, (before, after)
