"""Names are names: every path a user gives is read as that file, a glob only when
no file has the name, and names that are not UTF-8 are reported, never a crash.
Inputs that would fill memory (devices, endless streams, archive bombs) are refused.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from clvcli.io import bounds
from tests.conftest import SAMPLE

LOG = "customer,date,amount\n{c},2024-01-01,10\n{c},2024-02-01,30\n"


def _log(path, customer: str) -> None:
    path.write_text(LOG.format(c=customer), encoding="utf-8")


def _ids(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [row["customer_id"] for row in csv.DictReader(io.StringIO(result.stdout))]


def _one_error(result, code: int = 3) -> str:
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("hint: ")]
    assert len(lines) == 1 and lines[0].startswith("clv: error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("name", ["sales[1].csv", "what?.csv", "a*b.csv", "[abc].csv"])
def test_an_input_with_glob_characters_is_that_file(clv, tmp_path, name):
    _log(tmp_path / name, "THE_FILE")
    for sibling in ("sales1.csv", "whatX.csv", "aXb.csv", "a.csv"):
        _log(tmp_path / sibling, "A_SIBLING")
    assert _ids(clv("compute", tmp_path / name, "--model", "none", "-q")) == ["THE_FILE"]
    assert _ids(clv("summary", tmp_path / name, "-q")) == ["THE_FILE"]


def test_the_duckdb_engine_reads_that_file_too(clv, tmp_path):
    pytest.importorskip("duckdb")
    _log(tmp_path / "sales[1].csv", "THE_FILE")
    _log(tmp_path / "sales1.csv", "A_SIBLING")
    result = clv("summary", tmp_path / "sales[1].csv", "--engine", "duckdb", "-q")
    assert _ids(result) == ["THE_FILE"]


def test_a_folder_counts_each_part_once(clv, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    _log(folder / "part[0].csv", "BRACKETS")
    _log(folder / "part0.csv", "PLAIN")
    for engine in ("arrow", "duckdb"):
        if engine == "duckdb":
            pytest.importorskip("duckdb")
        result = clv("summary", folder, "--engine", engine, "-q")
        assert sorted(_ids(result)) == ["BRACKETS", "PLAIN"], engine


def test_a_glob_that_names_no_file_is_expanded(clv, tmp_path):
    _log(tmp_path / "sales1.csv", "ONE")
    _log(tmp_path / "sales2.csv", "TWO")
    assert _ids(clv("summary", str(tmp_path / "sales[12].csv"), "-q")) == ["ONE", "TWO"]


def test_a_glob_that_matches_nothing_is_an_input_error(clv, tmp_path):
    pattern = str(tmp_path / "none*.csv")
    line = _one_error(clv("compute", pattern))
    assert line == f"clv: error: {pattern}: matches no CSV or Parquet files"


def test_a_summary_named_with_glob_characters_is_that_file(clv, tmp_path):
    _log(tmp_path / "log.csv", "THE_FILE")
    _log(tmp_path / "other.csv", "A_SIBLING")
    clv("summary", tmp_path / "log.csv", "-o", tmp_path / "summary[1].csv")
    clv("summary", tmp_path / "other.csv", "-o", tmp_path / "summary1.csv")
    result = clv("compute", "--summary", tmp_path / "summary[1].csv", "--model", "none", "-q")
    assert _ids(result) == ["THE_FILE"]


def test_costs_customers_and_params_files_with_glob_characters(clv, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "customer,date,amount,channel\nA,2024-01-10,100,ads\nA,2024-02-10,100,ads\n"
        "B,2024-01-20,50,ads\nB,2024-03-20,50,ads\nC,2024-02-05,200,ads\n"
    )
    (tmp_path / "costs[1].csv").write_text("channel,period,spend\nads,2024-01,150\n")
    (tmp_path / "costs1.csv").write_text("channel,period,spend\nads,2024-01,999\n")
    result = clv("cac", log, "--costs", tmp_path / "costs[1].csv", "--model", "none", "-q")
    assert result.exit_code == 0, result.stderr
    assert "150.00" in result.stdout and "999" not in result.stdout

    (tmp_path / "list[1].csv").write_text("customer\nA\nPROSPECT\n")
    (tmp_path / "list1.csv").write_text("customer\nA\nWRONG_LIST\n")
    listed = clv("compute", log, "--customers", tmp_path / "list[1].csv", "--model", "none")
    assert "PROSPECT" in _ids(listed) and "WRONG_LIST" not in _ids(listed)

    shop = SAMPLE / "shop.csv"
    fitted = clv("fit", shop, "--model", "bgnbd", "--period", "week", "--format", "json", "-q")
    assert fitted.exit_code == 0, fitted.stderr
    (tmp_path / "params[1].json").write_text(fitted.stdout)
    (tmp_path / "params1.json").write_text("not json")
    scored = clv("compute", shop, "--params", tmp_path / "params[1].json", "-q", "--limit", "3")
    assert scored.exit_code == 0, scored.stderr


# -------------------------------------------------------- names that are not UTF-8


@pytest.fixture
def latin1_named(tmp_path):
    """A log in a file named ``caf\\xe9.csv`` (Latin-1 bytes, not UTF-8)."""
    if sys.platform != "linux":
        pytest.skip("file names are bytes on Linux")
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.csv")
    with open(raw, "wb") as handle:
        handle.write(LOG.format(c="A").encode())
    return os.fsdecode(raw)


def test_a_file_whose_name_is_not_utf8_is_read(clv, latin1_named):
    assert _ids(clv("compute", latin1_named, "--model", "none", "-q")) == ["A"]


def test_a_typed_parquet_log_whose_name_is_not_utf8_is_read(clv, tmp_path):
    """DuckDB, which takes a clean Parquet log as it is, opens names as UTF-8 only:
    such a name goes to the reader (it once stopped the run as an internal error)."""
    if sys.platform != "linux":
        pytest.skip("file names are bytes on Linux")
    import datetime

    import pyarrow as pa

    table = pa.table(
        {
            "customer_id": ["A", "A", "B"],
            "date": [datetime.date(2024, 1, d) for d in (1, 20, 5)],
            "amount": [5.0, 6.0, 7.0],
        }
    )
    pq.write_table(table, tmp_path / "plain.parquet")
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.parquet")
    os.rename(os.fsencode(tmp_path / "plain.parquet"), raw)
    assert _ids(clv("compute", os.fsdecode(raw), "--model", "none", "-q")) == ["A", "B"]


def test_an_error_names_it_with_the_byte_escaped(clv, latin1_named):
    with open(latin1_named, "a", encoding="utf-8") as handle:
        handle.write("B,someday,5\n")
    line = _one_error(clv("compute", latin1_named, "--model", "none"))
    assert line.startswith(f"clv: error: {os.path.dirname(latin1_named)}/caf\\xe9.csv: row 3")


def test_a_note_names_it_with_the_byte_escaped(clv, latin1_named):
    with open(latin1_named, "w", encoding="utf-8") as handle:
        handle.write("customer,date\nA,2024-01-01\nA,2024-02-01\n")  # no amounts: a note
    result = clv("compute", latin1_named, "--model", "none")
    assert result.exit_code == 0, result.stderr
    assert "caf\\xe9.csv" in result.stderr


def test_sidecar_and_parquet_metadata_name_it(clv, latin1_named, tmp_path):
    out = tmp_path / "out.parquet"
    result = clv("compute", latin1_named, "--model", "none", "-o", out, "--sidecar", "-q")
    assert result.exit_code == 0, result.stderr
    sidecars = [p for p in tmp_path.iterdir() if p.name.endswith(".json")]
    assert sidecars, list(tmp_path.iterdir())
    sidecar = json.loads(sidecars[0].read_text(encoding="utf-8"))
    assert sidecar["inputs"][0]["path"].endswith("caf\\xe9.csv")
    stored = pq.read_metadata(out).metadata[b"clv"]
    assert json.loads(stored)["inputs"][0]["path"].endswith("caf\\xe9.csv")


def test_a_report_names_it(clv, latin1_named, tmp_path):
    for name in ("report.md", "report.html", "report.xlsx"):
        report = tmp_path / name
        result = clv("report", latin1_named, "--model", "none", "-o", report, "-q")
        assert result.exit_code == 0, result.stderr
    assert "caf\\\\xe9.csv" in (tmp_path / "report.md").read_text(encoding="utf-8")  # md escapes \\
    assert "caf\\xe9.csv" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_json_log_names_it(clv, latin1_named):
    os.remove(latin1_named)
    result = clv("compute", latin1_named, "--log-format", "json")
    assert result.exit_code == 3
    assert "caf\\\\xe9.csv: no such file" in result.stderr


# ------------------------------------------------------------------ resource bounds


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_as_input_is_refused(clv, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    line = _one_error(clv("compute", device))
    assert line == f"clv: error: {device}: is a device, not a file of transactions"


def test_an_endless_device_as_params_is_refused(clv, tmp_path):
    _log(tmp_path / "log.csv", "A")
    line = _one_error(clv("compute", tmp_path / "log.csv", "--params", "/dev/zero"))
    assert line == "clv: error: /dev/zero: is a device, not a file of transactions"


def test_dev_zero_on_stdin_is_refused(tmp_path):
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [sys.executable, "-m", "clvcli", "compute", "-"],
            stdin=zero,
            capture_output=True,
            timeout=120,
        )
    assert done.returncode == 3, done.stderr
    assert done.stderr.decode().splitlines()[0] == (
        "clv: error: <stdin>: is a device, not a file of transactions"
    )


def test_a_gzip_bomb_is_refused(clv, tmp_path, monkeypatch):
    monkeypatch.setattr(bounds, "INFLATE_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"customer,date,amount\n" + b"A" * (16 << 20)))
    line = _one_error(clv("compute", bomb))
    assert line.startswith(f"clv: error: {bomb}: inflates to more than 1.56 MB from 16 KB of gzip")


def test_a_50_mb_field_is_read_or_refused_clearly(clv, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(
        "customer,date,amount\nA,2024-01-01,10\n" + "B" * (50 << 20) + ",2024-01-02,5\n"
    )
    result = clv("summary", path, "-q")
    assert "Traceback" not in result.stderr
    assert result.exit_code == 0, result.stderr[:500]
    assert len(result.stdout) > 50 << 20  # the long id, whole


def test_a_parquet_summary_with_glob_characters_under_duckdb(clv, tmp_path):
    pytest.importorskip("duckdb")
    _log(tmp_path / "log.csv", "THE_FILE")
    _log(tmp_path / "other.csv", "A_SIBLING")
    clv("summary", tmp_path / "log.csv", "-o", tmp_path / "summary[1].parquet")
    clv("summary", tmp_path / "other.csv", "-o", tmp_path / "summary1.parquet")
    summary = tmp_path / "summary[1].parquet"
    result = clv("compute", "--summary", summary, "--engine", "duckdb", "--model", "none", "-q")
    assert _ids(result) == ["THE_FILE"]
