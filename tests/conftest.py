"""Shared fixtures: an in-process `clv` runner and paths to test data.

The runner replaces stdin/stdout/stderr with byte buffers (not terminals, as in a
pipe or cron), calls ``clvcli.cli.main.main`` and returns the exit code and both
streams, so tests assert on exactly what a user's script would see.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from clvcli.cli.main import main

# No per-example deadline anywhere, also when a test file runs alone (tests/fuzz sets its
# own profiles): a loaded machine makes an example slow, not wrong.
settings.register_profile("clv-unit", deadline=None)
settings.load_profile("clv-unit")

TESTS = Path(__file__).parent
DATA = TESTS / "data"
SAMPLE = TESTS.parent / "sample_data"
# Money columns of a summary or compute CSV: sums of doubles added in another order
# (another engine, or DuckDB's threads) may round a half cent apart.
MONEY_COLUMNS = ("monetary_value", "total_spend", "avg_order_value", "historical_clv")


def assert_same_csv(
    ours: str, theirs: str, *, cents: float = 0.0101, relative: float = 1e-7
) -> None:
    """Two CSV outputs with the same rows, text alike, money within a cent, and the
    models' numbers within ``relative``: two runs whose fits start from other points
    (another engine's sample for --model auto) stop within the optimiser's tolerance,
    not on the same last digit."""
    import csv

    mine = list(csv.DictReader(io.StringIO(ours)))
    other = list(csv.DictReader(io.StringIO(theirs)))
    assert len(mine) == len(other)
    for row, twin in zip(mine, other, strict=True):
        assert row.keys() == twin.keys()
        for column, value in row.items():
            if column in MONEY_COLUMNS and value and twin[column]:
                assert float(value) == pytest.approx(float(twin[column]), abs=cents), column
            elif value != twin[column] and _number(value) and _number(twin[column]):
                assert float(value) == pytest.approx(float(twin[column]), rel=relative), (
                    column,
                    row,
                    twin,
                )
            else:
                assert value == twin[column], (column, row, twin)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "." in text or "e" in text


@dataclass
class Result:
    exit_code: int
    stdout_bytes: bytes
    stderr: str

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8")

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line]


class _Stream(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def _text_stream(data: bytes = b"") -> _Stream:
    return _Stream(io.BytesIO(data), encoding="utf-8", newline="")


@pytest.fixture(autouse=True)
def duckdb_takes_small_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB takes a clean log as it is from 25 million transactions on; the suite's
    logs are small, so it takes them from one on, and every test that reads one runs
    DuckDB's path (tests/cli/test_engine_rules.py checks the limit)."""
    monkeypatch.setenv("CLV_DIRECT_ROWS", "1")


@pytest.fixture
def clv(monkeypatch: pytest.MonkeyPatch):
    """Run clv in process: ``clv("compute", path, input=b"...")`` -> Result."""

    def run(*args: str | Path, input: bytes | str = b"") -> Result:
        data = input.encode("utf-8") if isinstance(input, str) else input
        stdin, stdout, stderr = _text_stream(data), _text_stream(), _text_stream()
        monkeypatch.setattr(sys, "stdin", stdin)
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", stderr)
        monkeypatch.setenv("COLUMNS", "200")
        code = main([str(a) for a in args])
        stdout.flush()
        stderr.flush()
        out = stdout.buffer.getvalue()
        err = stderr.buffer.getvalue().decode("utf-8")
        return Result(code, out, err)

    return run


@pytest.fixture
def write(tmp_path: Path):
    """Write a test file: ``write("tx.csv", "a,b\\n1,2\\n")`` -> its path."""

    def make(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return make


@pytest.fixture(scope="session")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CDNOW sample as a CSV export (sample id, date, dollars)."""
    import pandas as pd

    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        dtype=str,
        names=["master", "customer_id", "date", "cds", "amount"],
    )
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    raw[["customer_id", "date", "amount"]].to_csv(path, index=False)
    return path
