"""A plain CSV log goes to DuckDB as it is; any other CSV gives the reader's answer.

Each case is run twice, by the default engine and by the reader alone, and must give
the same table, the same messages and the same exit code: DuckDB takes a CSV only when
every row meets the rules it checks, and hands the others to the reader.
"""

from __future__ import annotations

import pytest

from clvcli.engines import csv_log as csv_engine
from tests.conftest import DATA, assert_same_csv

HEAD = "customer_id,date,amount\n"
CASES = {
    # Taken as it is.
    "plain": HEAD + "A,2024-01-01,5\nA,2024-02-01,6.5\nB,2024-01-03,7.25\n",
    "quoted": '"customer_id","date","amount"\n"A","2024-01-01","5"\n"B","2024-01-03","7.5"\n',
    "crlf": HEAD.replace("\n", "\r\n") + "A,2024-01-01,5\r\nA,2024-02-01,6\r\nB,2024-01-03,7\r\n",
    "refund": HEAD + "A,2024-01-01,5\nA,2024-01-01,-5\nA,2024-02-01,6\nB,2024-01-03,7\n",
    "blank line at the end": HEAD + "A,2024-01-01,5\nB,2024-01-03,7\n\n",
    "long decimals": HEAD + "A,2024-01-01,5.1234\nA,2024-03-01,2.5\nB,2024-01-03,7\n",
    # The reader's.
    "decimal commas": HEAD + 'A,2024-01-01,"12,50"\nA,2024-02-01,"3,75"\nB,2024-01-03,"7,00"\n',
    "thousands": HEAD + 'A,2024-01-01,"1,234.50"\nA,2024-02-01,"12.50"\nB,2024-01-03,7\n',
    "three decimals": HEAD + "A,2024-01-01,1.234\nA,2024-02-01,2.500\nB,2024-01-03,7.125\n",
    "three decimals, groups": HEAD + "A,2024-01-01,1.234\nA,2024-02-01,2.500\nB,2024-01-03,7\n",
    "currency": HEAD + "A,2024-01-01,$12.50\nA,2024-02-01,$3\nB,2024-01-03,$7\n",
    "parenthesised refund": HEAD + "A,2024-01-01,12\nA,2024-01-01,(2)\nB,2024-01-03,7\n",
    "persian digits": HEAD + "A,2024-01-01,۱۲\nA,2024-02-01,3\nB,2024-01-03,7\n",
    "jalali": HEAD + "A,1403/01/05,5\nA,1403/02/01,6\nB,1403/01/07,7\n",
    "jalali iso": HEAD + "A,1403-01-05,5\nA,1403-02-01,6\nB,1403-01-07,7\n",
    "day or month": HEAD + "A,03/04/2024,5\nA,05/04/2024,6\nB,07/04/2024,7\n",
    "date and time": HEAD
    + "A,2024-01-01 10:30:00,5\nA,2024-02-01 09:00:00,6\nB,2024-01-03 08:00:00,7\n",
    "no such day": HEAD + "A,2024-02-30,5\nB,2024-01-03,7\n",
    "empty id": HEAD + "A,2024-01-01,5\n,2024-01-02,6\nB,2024-01-03,7\n",
    "empty date": HEAD + "A,2024-01-01,5\nA,,6\nB,2024-01-03,7\n",
    "empty amount": HEAD + "A,2024-01-01,5\nA,2024-01-02,\nB,2024-01-03,7\n",
    "spelled ids": HEAD + "A,2024-01-01,5\nA\t,2024-02-01,6\n\u200bA,2024-03-01,7\n"
    "B ,2024-01-03,7\n\u00a0B,2024-02-03,8\nC۱,2024-02-03,8\n",
    "quoted blank id": HEAD + 'A,2024-01-01,5\n" ",2024-01-02,6\nB,2024-01-03,7\n',
    "ragged": HEAD + "A,2024-01-01,5\nA,2024-02-01,6,9\nB,2024-01-03,7\n",
    "unclosed quote": HEAD + 'A,2024-01-01,5\n"A,2024-02-01,6\nB,2024-01-03,7\n',
    "byte-order mark": "\ufeff" + HEAD + "A,2024-01-01,5\nB,2024-01-03,7\n",
    "semicolons": "customer_id;date;amount\nA;2024-01-01;5\nB;2024-01-03;7\n",
    "sep line": "sep=,\n" + HEAD + "A,2024-01-01,5\nB,2024-01-03,7\n",
    "blank lines first": "\n\n" + HEAD + "A,2024-01-01,5\nB,2024-01-03,7\n",
    "channel": "customer_id,date,amount,channel\nA,2024-01-01,5,ads\nB,2024-01-03,7,seo\n",
    "order lines": "order_id,customer_id,date,amount\n"
    "1,A,2024-01-01,5\n1,A,2024-01-01,2\n2,B,2024-01-03,7\n",
    "persian header": "مشتری,تاریخ,مبلغ\nA,2024-01-01,5\nB,2024-01-03,7\n",
    "header only": HEAD,
    "total row": HEAD + "A,2024-01-01,5\nB,2024-01-03,7\nTotal,,12\n",
}
TAKEN = {"plain", "quoted", "crlf", "refund", "blank line at the end", "long decimals"}
TAKEN |= {"persian header", "order lines"}


def _reader_only(monkeypatch) -> None:
    monkeypatch.setattr(csv_engine, "csv_log", lambda *args: None)


def _typed(monkeypatch) -> list[str]:
    """The CSV logs DuckDB read through to the end, filled as runs go."""
    typed: list[str] = []
    original = csv_engine.CsvLog._convert

    def counted(self):
        log = original(self)
        typed.append(self.path)
        return log

    monkeypatch.setattr(csv_engine.CsvLog, "_convert", counted)
    return typed


@pytest.mark.parametrize("command", ["summary", "compute"])
@pytest.mark.parametrize("case", CASES)
def test_a_csv_log_gives_the_readers_answer(clv, tmp_path, monkeypatch, case, command):
    log = tmp_path / "log.csv"
    log.write_bytes(CASES[case].encode("utf-8"))
    options = ("-q",) if command == "summary" else ("-q", "--model", "none")
    typed = _typed(monkeypatch)
    direct = clv(command, log, *options)
    if case in TAKEN:
        assert typed == [str(log)], direct.stderr
    _reader_only(monkeypatch)
    read = clv(command, log, *options)
    assert direct.exit_code == read.exit_code, direct.stderr + read.stderr
    assert direct.stderr == read.stderr
    assert direct.stdout == read.stdout


def test_cdnow_as_csv_goes_to_duckdb_and_gives_the_readers_table(clv, tmp_path, monkeypatch):
    """CDNOW's 69,659 transactions (amounts with two decimals and none), auto model."""
    import pandas as pd

    frame = pd.read_csv(DATA / "cdnow_master.csv", dtype={"customer_id": str})
    log = tmp_path / "cdnow.csv"
    frame.to_csv(log, index=False)
    typed = _typed(monkeypatch)
    direct = clv("compute", log, "-q")
    assert typed == [str(log)]
    _reader_only(monkeypatch)
    read = clv("compute", log, "-q")
    assert direct.exit_code == read.exit_code == 0, direct.stderr + read.stderr
    assert_same_csv(direct.stdout, read.stdout)


def test_csv_parts_in_a_folder_go_to_duckdb_together(clv, tmp_path, monkeypatch):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text(HEAD + "A,2024-01-01,5\nB,2024-01-03,7\n")
    (folder / "b.csv").write_text(HEAD + "A,2024-03-01,6\nC,2024-03-03,9\n")
    typed = _typed(monkeypatch)
    direct = clv("summary", folder, "-q")
    assert typed == [str(folder)]
    _reader_only(monkeypatch)
    read = clv("summary", folder, "-q")
    assert direct.exit_code == read.exit_code == 0
    assert direct.stdout == read.stdout


def test_the_typed_copy_is_removed(clv, tmp_path, monkeypatch):
    import tempfile

    spill = tmp_path / "spill"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    log = tmp_path / "log.csv"
    log.write_text(CASES["plain"])
    typed = _typed(monkeypatch)
    assert clv("compute", log, "-q", "--model", "none").exit_code == 0
    assert typed == [str(log)]
    import gc

    gc.collect()
    assert not list(spill.iterdir())


def test_the_same_log_gives_the_same_bytes(clv, tmp_path):
    """DuckDB's threads add a customer's amounts in an order that varies run to run;
    its compensated sums do not let that reach the output's last bit."""
    import pandas as pd

    frame = pd.read_csv(DATA / "cdnow_master.csv", dtype={"customer_id": str})
    log = tmp_path / "cdnow.csv"
    frame.to_csv(log, index=False)
    outputs = []
    out = tmp_path / "summary.parquet"  # the same name: the file's metadata holds it
    for _ in range(3):
        assert clv("summary", log, "-q", "-o", out).exit_code == 0
        outputs.append(out.read_bytes())
        out.unlink()
    assert outputs[0] == outputs[1] == outputs[2]
