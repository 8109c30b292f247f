"""How much an input may take before clv refuses it, rather than run out of memory.

clv holds an input's bytes in memory while it parses them. Three kinds of input
have no size to check beforehand and could take all of it: a compressed file (a
"gzip bomb" of a few kilobytes inflates to gigabytes), a stream with no end
(``/dev/zero``, ``/dev/urandom``, a FIFO or pipe whose writer never stops) and
devices. So:

* a device (``/dev/zero``, ``/dev/urandom``, a disk) named as INPUT, or behind
  stdin, is refused at once: transactions come from files and pipes;
* a pipe, FIFO or socket is read up to :func:`memory_bound` (a third of the memory
  available), and refused past it;
* a gzip or zip member is inflated up to :func:`inflate_bound`: past 100 times its
  compressed size *and* past 512 MB (real exports compress 5 to 20 times), or past
  the memory bound, it is refused.

Each refusal is an InputError (exit 3) naming the file, raised before memory runs
out. The bounds are module constants, so a test can make them small.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from clvcli.errors import InputError

# A compressed member may inflate to this many times its compressed size...
INFLATE_RATIO = 100
# ...or to this many bytes, whichever is more (below the memory bound).
INFLATE_FLOOR = 512 << 20
# The share of the available memory an input's bytes may take.
MEMORY_SHARE = 3
_CHUNK = 1 << 20
_FALLBACK_MEMORY = 4 << 30


def available_memory() -> int:
    """The memory the system can give this process now (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo", "rb") as info:
            for line in info:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return _FALLBACK_MEMORY


def memory_bound() -> int:
    """The most bytes an input read from a stream, or inflated, may come to."""
    return max(available_memory() // MEMORY_SHARE, 64 << 20)


def inflate_bound(compressed: int) -> int:
    """The most bytes ``compressed`` bytes of gzip or zip may inflate to."""
    return min(max(INFLATE_RATIO * compressed, INFLATE_FLOOR), memory_bound())


def refuse_device(mode: int, name: str) -> None:
    """Refuse a character or block device: it is not a file and may never end."""
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise InputError(
            f"{name}: is a device, not a file of transactions",
            "give a CSV or Parquet file, or pipe one in",
        )


def read_bounded(stream: BinaryIO, name: str, bound: int | None = None) -> bytes:
    """All of a stream's bytes, refused once they pass ``bound`` (default:
    :func:`memory_bound`) instead of filling memory."""
    limit = memory_bound() if bound is None else bound
    chunks = []
    total = 0
    while chunk := stream.read(min(_CHUNK, limit + 1 - total)):
        total += len(chunk)
        if total > limit:
            raise InputError(
                f"{name}: is a stream of more than {_size(limit)} (or one that never "
                "ends); clv holds its input in memory and stopped reading",
                "write it to a file first, or split it into parts in a folder",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def read_inflated(stream: BinaryIO, name: str, compressed: int, kind: str) -> bytes:
    """A decompressing stream's bytes, refused past :func:`inflate_bound`."""
    limit = inflate_bound(compressed)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(
            f"{name}: inflates to more than {_size(limit)} from {_size(compressed)} of "
            f"{kind}; clv refuses it rather than run out of memory",
            "decompress it yourself if it is a real export, and give the file",
        )
    return data


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"
