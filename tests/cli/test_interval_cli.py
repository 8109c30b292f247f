"""`clv compute --interval`: the interval columns end to end, and `clv fit`'s covariance."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pyarrow.parquet as pq
import pytest

from clvcli.contract import COMPUTE_COLUMNS, INTERVAL_COLUMNS

WEEKS = ("--period", "week", "--as-of", "1997-09-30", "-q")


def rows(text: bytes | str) -> list[dict[str, str]]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def header(text: bytes | str) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return text.splitlines()[0].split(",")


@pytest.fixture(scope="module")
def with_intervals(cdnow) -> bytes:
    """CDNOW's compute table with 90% intervals, BG/NBD, as CSV."""
    from clvcli.cli.main import main

    path = cdnow.parent / "intervals.csv"
    code = main(
        ["compute", str(cdnow), "--model", "bgnbd", "--interval", "0.9", "-o", str(path), *WEEKS]
    )
    assert code == 0
    return path.read_bytes()


def test_intervals_are_off_by_default(clv, cdnow):
    result = clv("compute", cdnow, "--model", "bgnbd", *WEEKS)
    assert result.exit_code == 0, result.stderr
    assert header(result.stdout) == COMPUTE_COLUMNS
    zero = clv("compute", cdnow, "--model", "bgnbd", "--interval", "0", *WEEKS)
    assert zero.stdout == result.stdout


def test_the_interval_columns_come_after_the_compute_columns(with_intervals):
    assert header(with_intervals) == COMPUTE_COLUMNS + INTERVAL_COLUMNS
    assert INTERVAL_COLUMNS == [
        "expected_purchases_lower",
        "expected_purchases_upper",
        "predicted_clv_lower",
        "predicted_clv_upper",
    ]


def test_each_interval_holds_its_estimate(with_intervals):
    table = rows(with_intervals)
    assert len(table) == 2357
    for row in table:
        low, mid, high = (float(row[f"expected_purchases{s}"]) for s in ("_lower", "", "_upper"))
        assert 0 <= low <= mid <= high
        # Money is rounded to cents: the bounds may meet the estimate there.
        low, mid, high = (float(row[f"predicted_clv{s}"]) for s in ("_lower", "", "_upper"))
        assert 0 <= low <= mid + 0.005 and mid - 0.005 <= high
    widths = [
        float(r["expected_purchases_upper"]) - float(r["expected_purchases_lower"]) for r in table
    ]
    assert max(widths) > 0


def test_a_repeat_run_is_byte_identical(clv, cdnow, with_intervals, tmp_path):
    again = tmp_path / "again.csv"
    result = clv("compute", cdnow, "--model", "bgnbd", "--interval", "90%", "-o", again, *WEEKS)
    assert result.exit_code == 0, result.stderr
    assert again.read_bytes() == with_intervals


def test_both_engines_give_the_same_intervals(clv, cdnow, with_intervals):
    result = clv(
        "compute", cdnow, "--model", "bgnbd", "--interval", "0.9", "--engine", "arrow", *WEEKS
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == with_intervals.decode("utf-8")


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_json_and_parquet_carry_the_intervals(clv, cdnow, tmp_path, with_intervals, fmt):
    out = tmp_path / f"customers.{fmt}"
    result = clv("compute", cdnow, "--model", "bgnbd", "--interval", "0.9", "-o", out, *WEEKS)
    assert result.exit_code == 0, result.stderr
    if fmt == "parquet":
        table = pq.read_table(out)
        assert table.column_names == COMPUTE_COLUMNS + INTERVAL_COLUMNS
        found = table.column("predicted_clv_upper").to_pylist()
    else:
        records = json.loads(out.read_text())
        assert list(records[0]) == COMPUTE_COLUMNS + INTERVAL_COLUMNS
        found = [r["predicted_clv_upper"] for r in records]
    expected = [float(r["predicted_clv_upper"]) for r in rows(with_intervals)]
    assert found == pytest.approx(expected, abs=0.006)


def test_saved_params_give_the_same_intervals(clv, cdnow, tmp_path, with_intervals):
    params = tmp_path / "params.json"
    made = clv("fit", cdnow, "--model", "bgnbd", "-o", params, *WEEKS)
    assert made.exit_code == 0, made.stderr
    saved = json.loads(params.read_text())
    assert set(saved["covariance"]) == {"r", "alpha", "a", "b"}
    assert set(saved["spend_model"]["correlation"]["p"]) == {"p", "q", "v"}
    result = clv(
        "compute", cdnow, "--params", params, "--interval", "0.9", "--as-of", "1997-09-30", "-q"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == with_intervals.decode("utf-8")


def test_a_params_file_without_a_covariance_is_refused_for_intervals(clv, cdnow, tmp_path):
    params = tmp_path / "params.json"
    assert clv("fit", cdnow, "--model", "bgnbd", "-o", params, *WEEKS).exit_code == 0
    saved = json.loads(params.read_text())
    del saved["covariance"], saved["correlation"]
    params.write_text(json.dumps(saved))
    args = ("compute", cdnow, "--params", params, "--as-of", "1997-09-30", "-q")
    refused = clv(*args, "--interval", "0.9")
    assert refused.exit_code == 3
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("clv: error: ") and "covariance" in lines[0]
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert clv(*args).exit_code == 0  # without --interval an older file still scores


def test_a_fit_at_a_limit_leaves_the_intervals_empty_with_a_warning(clv, write):
    """Daily buyers for a year who never left, and one-time buyers of long ago:
    Pareto/NBD runs off to its no-dropout limit, where it has no covariance."""
    end = dt.date(2024, 12, 31)
    lines = ["customer_id,date,amount"]
    for c in range(20):
        lines += [f"daily{c},{end - dt.timedelta(days=d)},{10 + c}" for d in range(365)]
    for c in range(30):
        lines.append(f"old{c},{end - dt.timedelta(days=int(365.25 * 30) - c)},50")
    path = write("steady.csv", "\n".join(lines) + "\n")
    result = clv("compute", path, "--model", "pnbd", "--period", "week", "--interval", "0.9")
    assert result.exit_code == 0, result.stderr
    assert "pnbd: no covariance of its parameters" in result.stderr
    table = rows(result.stdout)
    assert header(result.stdout) == COMPUTE_COLUMNS + INTERVAL_COLUMNS
    assert all(r["expected_purchases"] != "" for r in table)
    assert all(r[column] == "" for r in table for column in INTERVAL_COLUMNS)


@pytest.mark.parametrize("value", ["1", "1.5", "-0.1", "90", "abc"])
def test_a_bad_interval_is_a_usage_error_in_one_line(clv, cdnow, value):
    result = clv("compute", cdnow, "--interval", value, *WEEKS)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("clv: error:")]
    assert len(errors) == 1 and "--interval" in errors[0]


def test_fit_shows_the_correlation_of_the_estimates(clv, cdnow):
    result = clv("fit", cdnow, "--model", "bgnbd", "--format", "table", *WEEKS)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "bgnbd: correlation" in text and "gamma-gamma: correlation" in text
    report = json.loads(clv("fit", cdnow, "--model", "bgnbd", "--format", "json", *WEEKS).stdout)
    correlation = report["correlation"]
    assert correlation["r"]["r"] == pytest.approx(1.0)
    assert correlation["a"]["b"] == correlation["b"]["a"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["r"].update(alpha="x"), "key 'covariance.r.alpha': 'x' is not a number"),
        (lambda c: c["a"].update(a=-1.0), "key 'covariance.a.a': a variance must be positive"),
        (lambda c: c["r"].update(b=1.0), "key 'covariance': not symmetric (r, b)"),
        (lambda c: c.pop("b"), "key 'covariance.b': not a set of named numbers"),
    ],
)
def test_a_bad_covariance_in_a_params_file_is_an_input_error(clv, cdnow, tmp_path, change, message):
    params = tmp_path / "params.json"
    assert clv("fit", cdnow, "--model", "bgnbd", "-o", params, *WEEKS).exit_code == 0
    saved = json.loads(params.read_text())
    change(saved["covariance"])
    params.write_text(json.dumps(saved))
    result = clv("compute", cdnow, "--params", params, "--as-of", "1997-09-30", "-q")
    assert result.exit_code == 3
    assert message in result.stderr.splitlines()[0]
