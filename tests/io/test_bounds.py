"""Inputs that would take all the memory are refused first (clvcli.io.bounds)."""

from __future__ import annotations

import gzip
import io
import os
import threading
import time
import zipfile

import pytest

from clvcli.errors import InputError
from clvcli.io import bounds
from clvcli.io.source import load_input, read_columns

GIVEN = {"customer": None, "date": None, "amount": None}
ROW = b"C0001,2024-01-01,10.00\n"


def test_a_stream_past_the_bound_is_refused():
    stream = io.BytesIO(b"x" * 5000)
    with pytest.raises(InputError, match=r"is a stream of more than 4\.88 KB"):
        bounds.read_bounded(stream, "<stdin>", 4999)
    assert bounds.read_bounded(io.BytesIO(b"x" * 5000), "<stdin>", 5000) == b"x" * 5000


def test_the_inflate_bound_is_a_ratio_above_a_floor_below_memory(monkeypatch):
    monkeypatch.setattr(bounds, "memory_bound", lambda: 10 << 30)
    assert bounds.inflate_bound(1000) == bounds.INFLATE_FLOOR
    assert bounds.inflate_bound(100 << 20) == 100 * (100 << 20)
    monkeypatch.setattr(bounds, "memory_bound", lambda: 1 << 30)
    assert bounds.inflate_bound(100 << 20) == 1 << 30


def test_memory_bound_is_a_share_of_what_is_available():
    assert 64 << 20 <= bounds.memory_bound() <= max(bounds.available_memory(), 64 << 20)


def _small_bounds(monkeypatch, floor: int = 1 << 20) -> None:
    monkeypatch.setattr(bounds, "INFLATE_FLOOR", floor)


def test_a_gzip_bomb_is_refused(tmp_path, monkeypatch):
    _small_bounds(monkeypatch)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"customer,date,amount\n" + b"\0" * (8 << 20)))
    with pytest.raises(InputError) as caught:
        load_input(str(bomb))
    assert str(caught.value).startswith(f"{bomb}: inflates to more than 1 MB from ")
    assert "of gzip" in str(caught.value)


def test_a_zip_bomb_is_refused(tmp_path, monkeypatch):
    _small_bounds(monkeypatch)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("log.csv", b"customer,date,amount\n" + b"\0" * (8 << 20))
    with pytest.raises(InputError, match=r"bomb.zip: inflates to more than 1 MB from .* of zip"):
        load_input(str(bomb))


def test_a_real_export_compressed_well_is_read(tmp_path, monkeypatch):
    """Many identical rows inflate past 100x, but under the floor they are read."""
    _small_bounds(monkeypatch, floor=16 << 20)
    path = tmp_path / "log.csv.gz"
    text = b"customer,date,amount\n" + ROW * 100_000
    path.write_bytes(gzip.compress(text))
    assert len(text) > 100 * path.stat().st_size
    assert load_input(str(path)).data == text


def test_a_multi_member_gzip_is_read_whole(tmp_path):
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(b"customer,date,amount\n") + gzip.compress(ROW))
    assert read_columns(str(path), GIVEN).num_rows == 1


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_at_once(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    started = time.monotonic()
    with pytest.raises(InputError, match=f"^{device}: is a device, not a file"):
        load_input(device)
    assert time.monotonic() - started < 5


def test_a_fifo_that_never_ends_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(bounds, "memory_bound", lambda: 4 << 20)
    fifo = tmp_path / "endless.csv"
    os.mkfifo(fifo)

    def write_forever() -> None:
        try:
            with open(fifo, "wb") as out:
                out.write(b"customer,date,amount\n")
                while True:
                    out.write(ROW * 10_000)
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    with pytest.raises(InputError, match=r"endless\.csv: is a stream of more than 4 MB"):
        load_input(str(fifo))
    writer.join(10)
    assert not writer.is_alive()


def test_a_fifo_that_ends_is_read(tmp_path):
    fifo = tmp_path / "piped.csv"
    os.mkfifo(fifo)
    text = b"customer,date,amount\n" + ROW * 3

    def write() -> None:
        with open(fifo, "wb") as out:
            out.write(text)

    threading.Thread(target=write, daemon=True).start()
    assert load_input(str(fifo)).data == text


def test_a_field_longer_than_arrows_block_is_read(tmp_path):
    long_id = "C" * (3 << 20)
    path = tmp_path / "long.csv"
    path.write_text(f"customer,date,amount\nA,2024-01-01,1\n{long_id},2024-01-02,2\n")
    columns = read_columns(str(path), GIVEN).columns
    assert columns["customer"].to_pylist() == ["A", long_id]


def test_a_field_longer_than_the_largest_block_is_refused_clearly(tmp_path, monkeypatch):
    from clvcli.io import source

    monkeypatch.setattr(source, "_LARGEST_BLOCK", 1 << 20)  # Arrow's own block
    path = tmp_path / "long.csv"
    path.write_text(f'customer,date,amount\nA,2024-01-01,1\n"{"C" * (3 << 20)}",2024-01-02,2\n')
    with pytest.raises(InputError, match=r"long\.csv: has a field longer than 1 MB"):
        read_columns(str(path), GIVEN)
