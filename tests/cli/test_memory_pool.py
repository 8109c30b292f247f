"""The CLI gives Arrow the system allocator, which hands freed memory back, and has
every thread allocate from one malloc arena."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import clvcli.cli, pyarrow as pa; print(pa.default_memory_pool().backend_name)"


def _backend(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_cli_uses_the_system_allocator():
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    assert _backend(env) == "system"


def test_a_user_choice_of_allocator_wins():
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}
    assert _backend(env) == "mimalloc"


# A thread allocates blocks of the size glibc serves from arenas, then glibc prints
# its arenas on stderr.
ARENAS = """
import ctypes, sys, threading
if sys.argv[1] == "cli":
    import clvcli.cli
threading.Thread(target=lambda: [bytearray(200_000) for _ in range(50)]).start()
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def _arenas(kind: str, **extra: str) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")}
    done = subprocess.run(
        [sys.executable, "-c", ARENAS, kind],
        capture_output=True,
        text=True,
        env={**env, **extra},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.count("Arena ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
def test_threads_share_one_malloc_arena_under_the_cli():
    assert _arenas("plain") == 2  # the main thread's and the other thread's, without clv
    assert _arenas("cli") == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
def test_a_user_choice_of_arenas_wins():
    assert _arenas("cli", MALLOC_ARENA_MAX="4") == 2
    assert _arenas("cli", GLIBC_TUNABLES="glibc.malloc.arena_max=4") == 2
