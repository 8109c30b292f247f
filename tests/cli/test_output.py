"""Output contract: formats, stable bytes, atomic files, escaping, stdout for data only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clvcli.contract import COMPUTE_COLUMNS
from tests.conftest import SAMPLE

# 150.5550, not 150.555: alone in a column, that could group thousands (150555).
LOG = "customer,date,amount\nA,2024-01-01,100\nA,2024-01-11,150.5550\nB,2024-01-05,80\n"


@pytest.fixture
def log(write) -> Path:
    return write("tx.csv", LOG)


def test_csv_is_the_default_in_a_pipe_with_the_contract_columns(clv, log):
    result = clv("compute", log, "--model", "none")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(COMPUTE_COLUMNS)
    assert lines[1] == "A,2024-01-01,2024-01-11,2,250.56,125.28,0,1,10,10,250.56,,,,,250.56,repeat"
    assert lines[2] == "B,2024-01-05,2024-01-05,1,80.00,80.00,6,0,0,6,80.00,,,,,80.00,new"
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "parquet"])
def test_same_input_gives_byte_identical_output(clv, fmt):
    first = clv("compute", SAMPLE / "shop.csv", "--format", fmt)
    second = clv("compute", SAMPLE / "shop.csv", "--format", fmt)
    assert first.exit_code == 0
    assert first.stdout_bytes == second.stdout_bytes
    assert len(first.stdout_bytes) > 1000


def test_json_is_an_array_of_objects_with_nulls_and_iso_dates(clv, log):
    rows = json.loads(clv("compute", log, "--format", "json").stdout)
    assert list(rows[0]) == COMPUTE_COLUMNS
    assert rows[0]["first_purchase"] == "2024-01-01"
    assert rows[0]["total_spend"] == 250.56
    assert rows[0]["p_alive"] is None


def test_jsonl_is_one_object_per_line(clv, log):
    lines = clv("compute", log, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["customer_id"] for line in lines] == ["A", "B"]


def test_tsv_uses_tabs(clv, log):
    assert clv("compute", log, "--format", "tsv").stdout.splitlines()[0].split("\t")[:2] == [
        "customer_id",
        "first_purchase",
    ]


def test_parquet_keeps_types_and_full_precision(clv, log, tmp_path):
    out = tmp_path / "out.parquet"
    assert clv("compute", log, "-o", out).exit_code == 0
    table = pq.read_table(out)
    assert table.column_names == COMPUTE_COLUMNS
    assert table.schema.field("customer_id").type == pa.string()
    assert table.schema.field("first_purchase").type == pa.date32()
    assert table.column("total_spend").to_pylist()[0] == pytest.approx(250.555)


def test_parquet_to_stdout_in_a_pipe(clv, log):
    result = clv("compute", log, "--format", "parquet")
    assert pq.read_table(io.BytesIO(result.stdout_bytes)).num_rows == 2


def test_output_file_format_comes_from_the_extension_and_stdout_stays_empty(clv, log, tmp_path):
    out = tmp_path / "c.json"
    result = clv("compute", log, "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())[1]["customer_id"] == "B"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_run_leaves_the_previous_output_intact(clv, write, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("previous\n")
    bad = write("bad.csv", "customer,date,amount\nA,notadate,1\n")
    assert clv("compute", bad, "-o", out).exit_code == 3
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv"]


def test_table_escapes_markup_in_data(clv, write):
    path = write(
        "tx.csv", "customer,date,amount\n[/red],2024-01-01,5\n[bold]x[/bold],2024-01-02,5\n"
    )
    result = clv("compute", path, "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert "[/red]" in result.stdout
    assert "[bold]x[/bold]" in result.stdout


def test_table_limit_notes_the_rest_on_stderr(clv):
    result = clv("compute", SAMPLE / "shop.csv", "--format", "table", "--limit", "3")
    assert result.exit_code == 0
    assert "C0001" in result.stdout and "C0004" not in result.stdout
    assert "clv: note: showing 3 of 1,989 customers" in result.stderr


def test_quiet_silences_warnings_and_notes(clv):
    result = clv("compute", SAMPLE / "shop.csv", "--format", "table", "--limit", "3", "-q")
    assert result.exit_code == 0 and result.stderr == ""


def test_customer_ids_keep_leading_zeros(clv, write):
    path = write("tx.csv", "customer_id,date,amount\n0042,2024-01-01,5\n42,2024-01-02,5\n")
    ids = [line.split(",")[0] for line in clv("compute", path).stdout.splitlines()[1:]]
    assert ids == ["0042", "42"]


def test_ids_that_need_quoting_are_quoted(clv, write):
    path = write("tx.csv", 'customer,date,amount\n"a,b",2024-01-01,5\n"q""x",2024-01-01,5\n')
    lines = clv("compute", path).stdout.splitlines()
    assert lines[1].startswith('"a,b",') and lines[2].startswith('"q""x",')


def _frames(count: int, fail_at: int | None = None):
    import pandas as pd

    for i in range(count):
        if i == fail_at:
            raise RuntimeError("piece failed")
        yield pd.DataFrame({"customer_id": [f"c{i}"], "total_spend": [float(i)]})


def _options(output: str | None):
    from clvcli.cli.options import RunOptions

    return RunOptions(values={"output": output, "format": "csv", "quiet": True})


def test_pieces_written_on_a_second_thread_make_the_one_document(tmp_path):
    from clvcli.cli.console import Reporter
    from clvcli.cli.output import write_frames

    target = tmp_path / "out.csv"
    written = write_frames(_frames(5), _options(str(target)), Reporter(True))
    assert written == 5
    assert target.read_text().splitlines() == [
        "customer_id,total_spend",
        *(f"c{i},{i}" for i in range(5)),
    ]


def test_a_piece_that_fails_leaves_no_file_and_its_error(tmp_path):
    from clvcli.cli.console import Reporter
    from clvcli.cli.output import write_frames

    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError, match="piece failed"):
        write_frames(_frames(5, fail_at=3), _options(str(target)), Reporter(True))
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_stops_the_pieces(tmp_path, monkeypatch):
    from clvcli.cli.console import Reporter
    from clvcli.cli.output import write_frames
    from clvcli.errors import OutputError
    from clvcli.io.writers import FrameWriter

    made = []

    def counted():
        for frame in _frames(50):
            made.append(len(made))
            yield frame

    calls = []

    def failing(self, frame):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(FrameWriter, "write", failing)
    target = tmp_path / "out.csv"
    with pytest.raises(OutputError, match="No space"):  # the file's error, as clv tells it
        write_frames(counted(), _options(str(target)), Reporter(True))
    assert len(made) <= 4  # the pieces stop within one of the failed write
    assert list(tmp_path.iterdir()) == []


def test_a_narrow_terminal_keeps_a_fits_estimates():
    """At 30 columns the parameters' table showed the model and parameter names and
    no estimate; the errors and intervals go first now."""
    import fcntl
    import os
    import struct
    import subprocess
    import sys
    import termios

    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 30, 0, 0))  # 30 columns
    env = {**os.environ, "COLUMNS": "30", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "clvcli", "fit", str(SAMPLE / "shop.csv"), "--model", "pnbd"]
    process = subprocess.Popen(command, stdout=child, stderr=subprocess.DEVNULL, env=env)
    os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert process.wait(timeout=120) == 0
    lines = shown.decode("utf-8", "replace").splitlines()
    row = next(line for line in lines if " alpha " in line)
    assert "72." in row  # alpha's estimate, 72.29 on the sample shop
