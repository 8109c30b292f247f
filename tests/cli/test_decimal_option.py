"""Decimal marks end to end: inferred, refused in one line, or forced with --decimal.

The CDNOW master log (69,659 purchases, 2,500,315.63 in all) is rendered the ways
European spreadsheets and accounting systems write it, and each rendering must give
the clean file's summary to the cent.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.conftest import assert_same_csv

DATA = Path(__file__).parent.parent / "data"
CDNOW_TOTAL = 2_500_315.63

EUROPEAN = (
    "customer_id;date;amount\r\nA;2024-01-01;11,77\r\nA;2024-02-01;1.286,01\r\n"
    "B;2024-01-05;3,50\r\n"
)
AMBIGUOUS = "customer_id,date,amount\nA,2024-01-01,1.286\nA,2024-02-01,2.500\nB,2024-01-05,1.000\n"
ONE_COMMA = 'customer_id,date,amount\nA,2024-01-01,11.77\nA,2024-02-01,"12,50"\nB,2024-01-05,3.50\n'


def summary(clv, path, *options: str) -> dict[str, dict[str, str]]:
    result = clv("summary", path, "--format", "csv", "--quiet", *options)
    assert result.exit_code == 0, result.stderr
    return {row["customer_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}


def test_european_export_is_read_with_no_option(clv, write):
    rows = summary(clv, write("eu.csv", EUROPEAN))
    assert rows["A"]["total_spend"] == "1297.78"
    assert rows["A"]["monetary_value"] == "1286.01"
    assert rows["B"]["total_spend"] == "3.50"


def test_ambiguous_column_is_refused_in_one_line(clv, write):
    result = clv("summary", write("tx.csv", AMBIGUOUS), "--format", "csv", "--quiet")
    assert result.exit_code == 3
    assert result.stdout == ""
    error, hint = result.stderr_lines
    assert error == (
        f"clv: error: {write('tx.csv', AMBIGUOUS)}, column 'amount': amounts such as "
        "'1.286', '2.500', '1.000' could use '.' as the decimal mark or to group thousands"
    )
    assert hint == (
        "hint: say which mark is the decimal one: --decimal . reads '1.286' as 1.286, "
        "--decimal , as 1286"
    )


@pytest.mark.parametrize(("mark", "total"), [(",", "3786.00"), (".", "3.79")])
def test_decimal_option_settles_an_ambiguous_column(clv, write, mark, total):
    rows = summary(clv, write("tx.csv", AMBIGUOUS), "--decimal", mark)
    assert rows["A"]["total_spend"] == total


def test_one_decimal_comma_in_a_point_file_is_refused(clv, write):
    result = clv("summary", write("tx.csv", ONE_COMMA), "--format", "csv", "--quiet")
    assert result.exit_code == 3
    assert result.stderr_lines[0].endswith(
        "column 'amount': amounts mix decimal marks: '11.77' has a decimal point, "
        "'12,50' a decimal comma"
    )
    assert "--decimal" in result.stderr_lines[1]


def test_value_contradicting_the_forced_mark_is_a_bad_row(clv, write):
    path = write("tx.csv", ONE_COMMA)
    result = clv("summary", path, "--format", "csv", "--quiet", "--decimal", ".")
    assert result.exit_code == 3
    assert result.stderr_lines[0] == (
        f"clv: error: {path}: row 2 (line 3), column 'amount': cannot read '12,50' as an "
        "amount (need a finite number with the decimal mark '.' of --decimal)"
    )
    rows = summary(clv, path, "--decimal", ".", "--skip-invalid")
    assert rows["A"]["total_spend"] == "11.77"


def test_forced_comma_rejects_a_point_export(clv, write):
    path = write("eu.csv", EUROPEAN.replace("11,77", "11.77"))
    result = clv("summary", path, "--format", "csv", "--quiet", "--decimal", ",")
    assert result.exit_code == 3
    assert "column 'amount': cannot read '11.77'" in result.stderr_lines[0]


@pytest.mark.parametrize("mark", [";", "comma", ",,", ""])
def test_other_marks_are_a_usage_error(clv, write, mark):
    result = clv("summary", write("eu.csv", EUROPEAN), "--decimal", mark)
    assert result.exit_code == 2
    assert result.stderr_lines[0] == f"clv: error: --decimal must be ',' or '.', not '{mark}'"


def test_decimal_from_the_config_file(clv, write):
    config = write("clv.toml", 'decimal = ","\n')
    rows = summary(clv, write("tx.csv", AMBIGUOUS), "--config", config)
    assert rows["B"]["total_spend"] == "1000.00"


def test_decimal_is_an_input_option_of_every_reading_command(clv):
    for command in ("compute", "segment", "summary", "fit", "validate", "stages", "cohorts"):
        result = clv(command, "--help")
        assert "--decimal" in result.stdout, command
    for command in ("cac", "report"):
        assert "--decimal" in clv(command, "--help").stdout, command


def test_costs_file_with_decimal_commas(clv, write):
    log = write("tx.csv", "customer,date,amount,channel\nA,2024-01-10,100,ads\n")
    costs = write("costs.csv", "channel;period;spend\nads;2024-01;1.286,50\nads;2024-02;12,50\n")
    result = clv("cac", log, "--costs", costs, "--model", "none", "--by", "channel", "-q")
    assert result.exit_code == 0, result.stderr
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert row["spend"] == "1299.00"


def test_ambiguous_costs_are_refused(clv, write):
    log = write("tx.csv", "customer,date,amount,channel\nA,2024-01-10,100,ads\n")
    costs = write("costs.csv", "channel;period;spend\nads;2024-01;1.500\n")
    result = clv("cac", log, "--costs", costs, "--model", "none", "-q")
    assert result.exit_code == 3
    assert result.stderr_lines[0] == (
        f"clv: error: {costs}, column 'spend': amounts such as '1.500' could use '.' as the "
        "decimal mark or to group thousands"
    )
    forced = clv("cac", log, "--costs", costs, "--model", "none", "-q", "--decimal", ",")
    assert forced.exit_code == 0, forced.stderr
    assert next(csv.DictReader(io.StringIO(forced.stdout)))["spend"] == "1500.00"


def test_customer_list_costs_with_decimal_commas(clv, write):
    from clvcli.io.customers import read_customer_list

    path = write("list.csv", "customer_id;acquisition_cost\nA;12,50\nB;1.200,00\nC;\n")
    assert read_customer_list(str(path)).acquisition_cost[:2].tolist() == [12.5, 1200.0]
    ambiguous = write("list2.csv", "customer_id;acquisition_cost\nA;1.200\n")
    result = clv("compute", write("tx.csv", EUROPEAN), "--customers", ambiguous, "-q")
    assert result.exit_code == 3
    assert "list2.csv, column 'acquisition_cost': amounts such as '1.200'" in result.stderr


# The CDNOW master log, as exports write it.


@pytest.fixture(scope="module")
def cdnow_rows() -> list[tuple[str, str, float]]:
    with open(DATA / "cdnow_master.csv", newline="") as handle:
        return [(r["customer_id"], r["date"], float(r["amount"])) for r in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def clean_summary(tmp_path_factory, cdnow_rows) -> str:
    from clvcli.cli.main import main

    out = tmp_path_factory.mktemp("clean") / "summary.csv"
    code = main(
        ["summary", str(DATA / "cdnow_master.csv"), "--format", "csv", "-q", "-o", str(out)]
    )
    assert code == 0
    return out.read_text()


def _european(amount: float) -> str:
    return f"{amount:,.2f}".translate(str.maketrans(",.", ".,"))


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(_european, id="1.286,01"),
        pytest.param(lambda amount: f"{amount:.2f}".replace(".", ","), id="1286,01"),
        pytest.param(lambda amount: _european(amount).replace(".", " "), id="1 286,01"),
        pytest.param(lambda amount: _european(amount).replace(".", "\u202f"), id="1\u202f286,01"),
    ],
)
def test_cdnow_rendered_as_european_spreadsheets_write_it(
    clv, tmp_path, cdnow_rows, clean_summary, render
):
    lines = ["customer_id;date;amount"]
    lines += [f"{customer};{date};{render(amount)}" for customer, date, amount in cdnow_rows]
    path = tmp_path / "cdnow_eu.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    result = clv("summary", path, "--format", "csv", "--quiet")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 23_570
    assert round(sum(float(row["total_spend"]) for row in rows), 2) == CDNOW_TOTAL
    # The plain log is DuckDB's, which adds in another order: a half cent may round apart.
    assert_same_csv(result.stdout, clean_summary)


def test_cdnow_clean_total(clean_summary):
    rows = list(csv.DictReader(io.StringIO(clean_summary)))
    assert round(sum(float(row["total_spend"]) for row in rows), 2) == CDNOW_TOTAL


# --engine duckdb: a text log is read by the reader, decimal marks and all.


def test_duckdb_reads_decimal_commas(clv, write):
    path = write("eu.csv", EUROPEAN.replace("1.286,01", "1286,01"))
    assert summary(clv, path, "--engine", "duckdb")["A"]["total_spend"] == "1297.78"


@pytest.mark.parametrize(
    ("log", "options"),
    [
        (AMBIGUOUS, ()),
        (AMBIGUOUS, ("--decimal", ".")),
        (ONE_COMMA, ()),
        (EUROPEAN, ()),
        (EUROPEAN, ("--decimal", ",")),
        (EUROPEAN, ("--decimal", ".")),
    ],
)
def test_duckdb_reads_every_mark_as_the_reader(clv, write, log, options):
    """A text log is the reader's on every engine: the same answer or the same error."""
    path = write("tx.csv", log)
    default = clv("summary", path, "-q", *options)
    duck = clv("summary", path, "--engine", "duckdb", "-q", *options)
    assert (duck.exit_code, duck.stdout, duck.stderr) == (
        default.exit_code,
        default.stdout,
        default.stderr,
    )


def test_cdnow_with_decimal_commas_through_duckdb(clv, tmp_path, cdnow_rows):
    lines = ["customer_id;date;amount"]
    lines += [f"{c};{d};{a:.2f}".replace(".", ",") for c, d, a in cdnow_rows]
    path = tmp_path / "cdnow_eu.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    options = ("--engine", "duckdb", "--format", "csv", "--quiet")
    result = clv("summary", path, *options)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert round(sum(float(row["total_spend"]) for row in rows), 2) == CDNOW_TOTAL
    # The same engine on the clean file, money to the cent.
    assert_same_csv(result.stdout, clv("summary", DATA / "cdnow_master.csv", *options).stdout)


def test_formula_amounts_with_either_mark(clv):
    for total in ("1.000.000", "1,000,000", "1.000.000,00", "۱٬۰۰۰٬۰۰۰"):
        result = clv("formula", "historical", "--total", total, "--margin", "0.3")
        assert result.exit_code == 0, result.stderr
        assert result.stdout.splitlines()[1] == "1000000.00,0.3,300000.00"


def test_formula_refuses_a_lone_ambiguous_amount(clv):
    result = clv("formula", "simple", "--spend", "400,000", "--per", "month", "--years", "30")
    assert result.exit_code == 2
    assert result.stderr_lines[0] == (
        "clv: error: clv formula simple: invalid value for '--spend': '400,000' could be "
        "400000 or 400; write it without the separator, or with its decimals"
    )


def test_parquet_amounts_stored_as_text_are_the_readers(clv, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    def parquet(name: str, amounts: list) -> Path:
        path = tmp_path / name
        days = ["2024-01-01", "2024-02-01", "2024-01-05"]
        pq.write_table(
            pa.table({"customer_id": ["A", "A", "B"], "date": days, "amount": amounts}), path
        )
        return path

    for name, amounts in (
        ("amb.parquet", ["1.286", "2.500", "1.000"]),
        ("eu.parquet", ["11,77", "2,50", "1"]),
    ):
        path = parquet(name, amounts)
        default, duck = clv("summary", path, "-q"), clv("summary", path, "--engine", "duckdb", "-q")
        assert (duck.exit_code, duck.stdout, duck.stderr) == (
            default.exit_code,
            default.stdout,
            default.stderr,
        )
    typed = summary(clv, parquet("num.parquet", [1.286, 2.5, 1.0]), "--engine", "duckdb")
    assert typed["A"]["total_spend"] == "3.79"
