"""One set of input rules, whatever engine runs the pass.

Each adversarial log once made the DuckDB path disagree with the reader: rows with
an empty id, date or amount dropped in silence, ``1403/01/05`` read as Gregorian,
``03/04/2024`` taken as day-first, ids with a trailing tab or a zero-width space
counted apart. Every engine name must now give the reader's answer, error or table;
and a typed Parquet log DuckDB takes as it is must give what the reader gives for
the same rows written as CSV.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clvcli.engines import csv_log as csv_engine
from clvcli.engines import duckdb as engine
from clvcli.engines import engine_names
from tests.conftest import DATA, assert_same_csv

# Spark's cases run where pyspark is installed, as `make test` installs it (and
# must there: CI sets CLV_REQUIRE_SPARK).
ENGINES = tuple(
    name
    for name in engine_names()
    if name != "spark"
    or importlib.util.find_spec("pyspark") is not None
    or os.environ.get("CLV_REQUIRE_SPARK")
)
# The engines of this machine, which hand what they cannot take to the reader; Spark,
# on a cluster, has no reader to hand to: it gives the reader's answer or refuses.
LOCAL = tuple(name for name in ENGINES if name != "spark")

LOGS = {
    "empty id": "customer_id,date,amount\nA,2024-01-01,5\n,2024-01-02,6\nB,2024-01-03,7\n",
    "empty date": "customer_id,date,amount\nA,2024-01-01,5\nA,,6\nB,2024-01-03,7\n",
    "empty amount": "customer_id,date,amount\nA,2024-01-01,5\nA,2024-01-02,\nB,2024-01-03,7\n",
    "jalali": "customer_id,date,amount\nA,1403/01/05,5\nA,1403/02/01,6\nB,1403/01/07,7\n",
    "day or month": "customer_id,date,amount\nA,03/04/2024,5\nA,05/04/2024,6\nB,07/04/2024,7\n",
    "spelled ids": "customer_id,date,amount\nA,2024-01-01,5\nA\t,2024-02-01,6\n"
    "\u200bA,2024-03-01,7\n\ufeffB,2024-01-03,7\n\u00a0B ,2024-02-03,8\n",
}


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("case", LOGS)
def test_every_engine_reads_a_log_as_the_reader(clv, tmp_path, case, engine_name):
    log = tmp_path / "log.csv"
    log.write_text(LOGS[case], encoding="utf-8")
    default = clv("summary", log, "-q")
    other = clv("summary", log, "-q", "--engine", engine_name)
    if engine_name not in LOCAL and (other.stdout, other.stderr) != (
        default.stdout,
        default.stderr,
    ):
        # Never a different table: one line that says why, and the input error's code.
        assert other.exit_code == 3 and other.stdout == "", other.stderr
        assert other.stderr.startswith("clv: error: ") and len(other.stderr.splitlines()) <= 2
        return
    assert other.exit_code == default.exit_code
    assert other.stderr == default.stderr
    assert other.stdout == default.stdout
    if case.startswith("empty"):
        assert default.exit_code == 3 and ": row 2 (line 3)" in default.stderr


def _parquet(tmp_path, frame: pd.DataFrame, name: str = "log.parquet"):
    path = tmp_path / name
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def _cdnow() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "cdnow_master.csv", dtype={"customer_id": str})
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def _taken(monkeypatch) -> list[str]:
    """The logs DuckDB summarised as they are, filled as the runs go; the CSV twins
    the Parquet logs are compared with are left to the reader."""
    monkeypatch.setattr(csv_engine, "csv_log", lambda *args: None)
    taken: list[str] = []
    original = engine.log_pieces

    def counted(log, **kwargs):
        taken.append(log.path)
        return original(log, **kwargs)

    monkeypatch.setattr(engine, "log_pieces", counted)
    return taken


@pytest.mark.parametrize("engine_name", LOCAL)
def test_a_clean_parquet_log_gives_what_the_reader_gives(clv, tmp_path, monkeypatch, engine_name):
    taken = _taken(monkeypatch)
    frame = _cdnow()
    parquet = _parquet(tmp_path, frame)
    text = tmp_path / "log.csv"
    frame.to_csv(text, index=False)
    for command in ("summary", "compute"):
        direct = clv(command, parquet, "--engine", engine_name, "-q")
        read = clv(command, text, "-q")
        assert direct.exit_code == read.exit_code == 0, direct.stderr + read.stderr
        assert_same_csv(direct.stdout, read.stdout)
    assert taken == [str(parquet)] * 2


def test_customers_with_only_refunds_are_left_out_with_the_readers_warning(
    clv, tmp_path, monkeypatch
):
    """DuckDB's summary drops them as the reader does; it must say so as the reader
    does, on every command that summarises the log."""
    taken = _taken(monkeypatch)
    refunds = pd.DataFrame(
        {
            "customer_id": ["R1", "R2", "R2"],
            "date": pd.to_datetime(["1997-02-01", "1998-05-01", "1998-05-01"]).date,
            "amount": [-5.0, 10.0, -10.0],
        }
    )
    frame = pd.concat([_cdnow(), refunds], ignore_index=True)
    parquet = _parquet(tmp_path, frame)
    text = tmp_path / "log.csv"
    frame.to_csv(text, index=False)
    runs = (
        ("summary",),
        ("compute", "--model", "pnbd"),
        ("fit", "--model", "bgnbd"),
        ("segment", "--summary", "--model", "pnbd"),
        ("stages", "--model", "pnbd"),
    )
    for command, *options in runs:
        direct = clv(command, parquet, *options)
        read = clv(command, text, *options)
        assert direct.exit_code == read.exit_code == 0, direct.stderr + read.stderr
        warning = f"clv: warning: {parquet}: left out 2 customers with refunds but no purchase"
        assert warning in direct.stderr_lines, (command, direct.stderr)
        assert direct.stderr == read.stderr.replace("log.csv", "log.parquet"), command
    assert taken == [str(parquet)] * len(runs)


def test_a_fit_that_fails_says_what_the_reader_says(clv, tmp_path, monkeypatch):
    """DuckDB's summary said of the refund-only customers at once, so a fit that then
    failed printed one line more than the reader, which says it with the fit's own."""
    _taken(monkeypatch)
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "R1"],
            "date": pd.to_datetime(["2023-01-02", "2023-02-02", "2023-01-05", "2023-01-10"]).date,
            "amount": [10.0, 20.0, 5.0, -10.0],
        }
    )
    parquet = _parquet(tmp_path, frame)
    text = tmp_path / "log.csv"
    frame.to_csv(text, index=False)
    direct = clv("fit", parquet, "--model", "bgnbd")
    read = clv("fit", text, "--model", "bgnbd")
    assert direct.exit_code == read.exit_code == 4
    assert direct.stderr == read.stderr.replace("log.csv", "log.parquet")


# Logs a differential run of the two paths found a cent apart.
APART = {
    "totals past exact cents": "customer_id,date,amount\nA,2023-01-02,36063718908910.52\n"
    "A,2023-01-09,41548934045420.53\nA,2023-02-11,13754383470969.39\n",
    "a sub-cent refund beside huge amounts": "customer_id,date,amount\nA,2023-01-02,100.00\n"
    "A,2023-01-09,11914799306.52\nA,2023-02-11,10350143891.53\nB,2023-01-05,10.00\n"
    "B,2023-01-20,-0.000001\n",
    "a day of two huge amounts": "customer_id,date,amount\nC,2018-09-20,33987179051170.0117\n"
    "C,2018-09-20,28189047470439.0000\nC,2018-10-11,21688697510087.9297\n"
    "C,2019-06-05,1575765472603.1599\n",
}


@pytest.mark.parametrize("case", APART)
def test_money_in_no_scale_is_the_same_on_both_paths(clv, tmp_path, monkeypatch, case):
    log = tmp_path / "log.csv"
    log.write_text(APART[case], encoding="utf-8")
    outputs = []
    for direct in ("1", str(10**12)):
        monkeypatch.setenv("CLV_DIRECT_ROWS", direct)
        result = clv("summary", log, "-q")
        assert result.exit_code == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


# Commands that want some customers of the table, or a few of its columns.
CUT_DOWN = (
    ("segment", "--stage", "loyal,repeat"),
    ("segment", "--summary"),
    ("segment", "--top", "7", "--sort", "orders"),
    ("segment", "--min-clv", "150", "--stage", "at_risk,churned", "--sort", "customer_id"),
    ("stages",),
    ("stages", "--compare-to", "1997-09-30"),
)


def test_segment_and_stages_run_on_the_engine_a_piece_at_a_time(clv, tmp_path, monkeypatch):
    """Their table is computed in pieces (here of 997 customers, so that customers
    asked for fall in every piece) and cut down piece by piece, and gives the
    reader's answer."""
    taken = _taken(monkeypatch)
    cut = engine.log_pieces

    def small_pieces(log, **kwargs):
        pieces = cut(log, **kwargs)
        pieces.piece_rows = 997
        return pieces

    monkeypatch.setattr(engine, "log_pieces", small_pieces)
    frame = _cdnow()
    parquet = _parquet(tmp_path, frame)
    text = tmp_path / "log.csv"
    frame.to_csv(text, index=False)
    for command, *options in CUT_DOWN:
        direct = clv(command, parquet, *options, "-q")
        read = clv(command, text, *options, "-q")
        assert direct.exit_code == read.exit_code == 0, direct.stderr + read.stderr
        assert direct.stdout.count("\n") > 2
        assert_same_csv(direct.stdout, read.stdout)
    # --compare-to summarises the log as of each of its two dates.
    assert taken == [str(parquet)] * (len(CUT_DOWN) + 1)


def _float_ids(folder):
    path = folder / "log.csv"
    path.write_text(
        "customer_id,date,amount\n17850.0,2024-01-01,10.5\n17850.0,2024-02-01,20\n"
        "17851.0,2024-01-15,5\n17850,2024-01-20,1\n",
        encoding="utf-8",
    )
    return path


def _float_id_parquet(folder):
    frame = pd.read_csv(_float_ids(folder), dtype=str)
    frame = frame.assign(
        date=pd.to_datetime(frame["date"]).dt.date, amount=frame["amount"].astype(float)
    )
    return _parquet(folder, frame)


def _amounts(*values):
    def make(folder):
        frame = pd.DataFrame(
            {
                "customer_id": ["A", "A", "B", "C"],
                "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05", "2024-01-06"]),
                "amount": [10.0, 12.0, *values],
            }
        )
        return _parquet(folder, frame.assign(date=frame["date"].dt.date))

    return make


def _parts(first: dict, second: dict):
    def make(folder):
        parts = folder / "parts"
        parts.mkdir()
        for name, columns in (("a.parquet", first), ("b.parquet", second)):
            table = pa.table(
                {
                    "customer_id": columns["customer_id"],
                    "date": pa.array(pd.to_datetime(columns["date"]).date, pa.date32()),
                    "amount": columns["amount"],
                }
            )
            pq.write_table(table, parts / name)
        return parts

    return make


ONLY_THE_READER = {
    # Ids written as floats are whole numbers to the reader (17850.0 is 17850).
    "float ids in csv": (_float_ids, 0),
    "float ids in parquet": (_float_id_parquet, 0),
    # The footers count empty cells, not NaN or infinities: the reader refuses them.
    "nan amount": (_amounts(float("nan"), 5.0), 3),
    "infinite amount": (_amounts(5.0, float("-inf")), 3),
    # Parts that type a column differently: DuckDB would read all with the first's types.
    "parts of integer and decimal amounts": (
        _parts(
            {"customer_id": ["A", "B"], "date": ["2024-01-01", "2024-01-15"], "amount": [10, 4]},
            {
                "customer_id": ["A", "B"],
                "date": ["2024-03-01", "2024-03-02"],
                "amount": [10.75, 3.4],
            },
        ),
        0,
    ),
    "parts of integer and text ids": (
        _parts(
            {"customer_id": [7, 8], "date": ["2024-01-01", "2024-01-15"], "amount": [10, 4]},
            {"customer_id": ["007", "8"], "date": ["2024-03-01", "2024-03-02"], "amount": [1, 4]},
        ),
        0,
    ),
}


@pytest.mark.parametrize("case", ONLY_THE_READER)
def test_what_only_the_reader_reads_right_goes_to_it(clv, tmp_path, monkeypatch, case):
    """Each of these logs once gave another table, or no error, on DuckDB's path than
    the reader's: merged or split customers, amounts rounded, NaN taken for money."""
    make, code = ONLY_THE_READER[case]
    log = make(tmp_path)
    for command in ("compute", "summary"):
        monkeypatch.setenv("CLV_DIRECT_ROWS", "1")
        direct = clv(command, log, "--model", "none", "-q")
        monkeypatch.setenv("CLV_DIRECT_ROWS", str(10**12))
        read = clv(command, log, "--model", "none", "-q")
        assert (direct.exit_code, direct.stderr, direct.stdout) == (
            read.exit_code,
            read.stderr,
            read.stdout,
        )
        assert read.exit_code == code, read.stderr
    if case.startswith("float ids"):
        assert [row.split(",")[0] for row in read.stdout.splitlines()] == [
            "customer_id",
            "17850",
            "17851",
        ]
    if case == "parts of integer and decimal amounts":
        assert "20.75" in read.stdout and "7.40" in read.stdout
    if case == "parts of integer and text ids":
        assert read.stdout.splitlines()[1].startswith("007,")


def test_integer_ids_are_grouped_as_integers_and_shown_as_text(clv, tmp_path, monkeypatch):
    taken = _taken(monkeypatch)
    frame = _cdnow().assign(customer_id=lambda f: f["customer_id"].astype("int64"))
    parquet = _parquet(tmp_path, frame)
    text = tmp_path / "log.csv"
    frame.to_csv(text, index=False)
    direct, read = clv("summary", parquet, "-q"), clv("summary", text, "-q")
    assert direct.exit_code == 0, direct.stderr
    assert_same_csv(direct.stdout, read.stdout)
    assert taken == [str(parquet)]


UNCLEAN = {
    # The footers count the empty cells: the reader refuses the row by its number.
    "empty id": lambda f: f.assign(customer_id=f["customer_id"].where(f.index != 2, None)),
    "empty amount": lambda f: f.assign(amount=f["amount"].where(f.index != 2, None)),
    # Ids that need normalising: seen on the rows, handed back to the reader.
    "spelled ids": lambda f: f.assign(
        customer_id=[c + ("\t" if n % 2 else "\u200b") for n, c in enumerate(f["customer_id"])]
    ),
    "blank id": lambda f: f.assign(customer_id=f["customer_id"].where(f.index != 2, "")),
    # A DATE column of Jalali years is the reader's to tell.
    "jalali years": lambda f: f.assign(
        date=pd.to_datetime(f["date"]).map(lambda d: d.replace(year=d.year - 621).date())
    ),
}


@pytest.mark.parametrize("engine_name", LOCAL)
@pytest.mark.parametrize("case", UNCLEAN)
def test_a_parquet_log_duckdb_cannot_take_as_it_is_goes_to_the_reader(
    clv, tmp_path, monkeypatch, case, engine_name
):
    frame = UNCLEAN[case](_cdnow().head(3000))
    parquet = _parquet(tmp_path, frame)
    taken = _taken(monkeypatch)
    direct = clv("summary", parquet, "--engine", engine_name, "-q")
    assert taken in ([], [str(parquet)])  # the ids are checked on the rows, then handed back
    monkeypatch.setattr(engine, "parquet_log", lambda *args: None)  # the reader alone
    read = clv("summary", parquet, "-q")
    assert direct.exit_code == read.exit_code
    assert direct.stderr == read.stderr
    assert direct.stdout == read.stdout
    if case.startswith("empty"):
        assert read.exit_code == 3 and ": row 3," in read.stderr


@pytest.mark.parametrize(
    ("ids", "model"), [("text", "pnbd"), ("integer", "pnbd"), ("text", "bgcnbd")]
)
def test_duckdb_summarises_a_large_log_range_by_range_on_disk(
    clv, tmp_path, monkeypatch, ids, model
):
    """Past IN_MEMORY_ROWS transactions the summary is computed one range of ids at a
    time into a temporary file, read in pieces: the same table as in memory (the
    litt of the CNBD-k models too), and the file gone after the run. The temporary
    folder's name has glob characters and a quote, which DuckDB must take as they are."""
    frame = _cdnow()  # 69,659 transactions
    if ids == "integer":
        frame["customer_id"] = frame["customer_id"].astype("int64")
    parquet = _parquet(tmp_path, frame)
    options = ("-q", "--model", model)
    in_memory = clv("compute", parquet, *options)
    summary_in_memory = clv("summary", parquet, "-q")
    monkeypatch.setattr(engine, "IN_MEMORY_ROWS", 69_658)
    monkeypatch.setattr(engine, "RANGE_ROWS", 10_000)
    spill = tmp_path / "spill [1]*'?"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    bounds = []
    original = engine._id_bounds
    monkeypatch.setattr(engine, "_id_bounds", lambda *a: bounds.append(original(*a)) or bounds[-1])
    on_disk = clv("compute", parquet, *options)
    summary_on_disk = clv("summary", parquet, "-q")
    assert in_memory.exit_code == on_disk.exit_code == summary_on_disk.exit_code == 0, (
        on_disk.stderr
    )
    assert len(bounds) == 2 and 4 <= len(bounds[0]) <= 6  # up to seven ranges
    assert all(type(b) is str for b in bounds[0])  # integer ids are ordered as text
    assert summary_on_disk.stdout == summary_in_memory.stdout
    assert_same_csv(on_disk.stdout, in_memory.stdout)
    assert not list(spill.iterdir())


@pytest.mark.parametrize("ids", ["text", "integer"])
def test_the_ranges_summary_file_is_in_the_order_of_the_ids_as_text(tmp_path, monkeypatch, ids):
    """The ranges are cut in the summary's order of the ids, text (10 before 9, integer
    ids too), so their summaries appended one after another are the whole summary in
    that order, each customer once."""
    from clvcli.io.readers import ReadSettings

    frame = _cdnow()
    if ids == "integer":
        frame["customer_id"] = frame["customer_id"].astype("int64")
    log = engine.parquet_log(str(_parquet(tmp_path, frame)), ReadSettings())
    monkeypatch.setattr(engine, "IN_MEMORY_ROWS", 10)
    monkeypatch.setattr(engine, "RANGE_ROWS", 10_000)
    with engine.log_pieces(log, period="day", as_of=None) as pieces:
        written = pq.read_table(pieces.file).column("customer_id").to_pylist()
    expected = sorted({str(i) for i in frame["customer_id"]})
    assert written == expected


def test_clv_direct_rows_sends_smaller_logs_to_the_reader(clv, tmp_path, monkeypatch):
    """CLV_DIRECT_ROWS: below it a clean log is the reader's, from it on DuckDB's
    (a CSV log's rows estimated from its size); a value that is no number is refused."""
    frame = _cdnow()  # 69,659 transactions
    parquet = _parquet(tmp_path, frame)
    for limit, taken_by_duckdb in ((None, False), ("69660", False), ("69659", True)):
        if limit is None:  # the default: 25 million
            monkeypatch.delenv("CLV_DIRECT_ROWS")
        else:
            monkeypatch.setenv("CLV_DIRECT_ROWS", limit)
        taken = _taken(monkeypatch)
        result = clv("summary", parquet, "-q")
        assert result.exit_code == 0, result.stderr
        assert taken == ([str(parquet)] if taken_by_duckdb else [])
    monkeypatch.setenv("CLV_DIRECT_ROWS", "many")
    result = clv("summary", parquet, "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("clv: error: CLV_DIRECT_ROWS must be a whole number")


def test_a_csv_logs_rows_are_estimated_from_its_size(tmp_path):
    from clvcli.engines.csv_log import csv_log
    from clvcli.io.readers import ReadSettings

    log = tmp_path / "log.csv"
    _cdnow().to_csv(log, index=False)
    found = csv_log(str(log), ReadSettings())
    assert found is not None and found.rows == pytest.approx(69_659, rel=0.05)


@pytest.mark.parametrize("decimals", [2, 4])
def test_money_is_the_same_to_the_bit_on_every_path_and_in_every_row_order(
    clv, tmp_path, monkeypatch, decimals
):
    """The reader added a customer's amounts in the rows' order: the same rows in
    another order moved a total or an average by a cent; and DuckDB's compensated
    sums of doubles put about one mean of repeat purchases in a hundred that ends in
    half a cent on the other side of it. Amounts in whole cents (a price times a
    quantity too, such as 59.970000000000006) are now added as whole numbers of cents
    on every path: the same bytes in every order and on either path, in CSV and in
    Parquet's raw doubles. So are amounts with four decimals (whole ten-thousandths),
    which a compensated sum and a plain one put a cent apart."""
    rng = np.random.default_rng(11)
    rows = 20_000
    price = rng.integers(-20_000, 30_000, rows) / 100
    if decimals == 4:
        price = rng.integers(-2_000_000, 3_000_000, rows) / 10_000
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{c:04d}" for c in rng.integers(0, 3000, rows)],
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), "D"),
            "amount": price * rng.integers(1, 4, rows),
        }
    )
    frame["date"] = frame["date"].dt.date
    assert (frame["amount"] != np.round(frame["amount"], 2)).any()  # a few bits off
    logs = []
    for name, order in (("a.parquet", np.arange(rows)), ("b.parquet", rng.permutation(rows))):
        logs.append(_parquet(tmp_path, frame.iloc[order], name))
    for command in ("summary", "compute"):
        by_path = {}
        for direct in ("1", str(10**12)):
            monkeypatch.setenv("CLV_DIRECT_ROWS", direct)
            outputs = [clv(command, log, "--model", "none", "-q") for log in logs]
            assert all(result.exit_code == 0 for result in outputs)
            assert outputs[0].stdout == outputs[1].stdout
            by_path[direct] = outputs[0].stdout
            written = tmp_path / f"{command}-{direct}.parquet"
            assert clv(command, logs[1], "--model", "none", "-q", "-o", written).exit_code == 0
        assert by_path["1"] == by_path[str(10**12)], command
        raw = [pq.read_table(tmp_path / f"{command}-{d}.parquet") for d in by_path]
        assert raw[0].equals(raw[1]), command
