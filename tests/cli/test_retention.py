"""`clv retention` end to end: both inputs, every format, bad input and help."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pyarrow.parquet as pq
import pytest

# Fader & Hardie (2007), Table 1, regular segment: years 0-7 of 1,000 customers.
TABLE1 = "year,active\n0,1000\n1,631\n2,468\n3,382\n4,326\n5,289\n6,262\n7,241\n"
# Monthly subscriptions, as of 2024-06-20 (the last date): a pays 3 months (ends on a
# renewal date), b 4 (ends between two), c 1, f 4; d, e and g are still subscribed
# after 4, 5 and 3 renewals.
LOG = """customer_id,start,end,price,plan
a,2024-01-15,2024-04-15,10,basic
b,2024-01-15,2024-04-20,10,basic
c,2024-01-15,2024-01-16,10,pro
d,2024-02-10,,30,pro
e,2024-01-20,,10,basic
f,2024-03-05,2024-06-20,10,basic
g,2024-03-01,,10,pro
"""


@pytest.fixture
def table1(write):
    return write("table1.csv", TABLE1)


@pytest.fixture
def log(write):
    return write("subscriptions.csv", LOG)


def rows(result) -> list[dict[str, str]]:
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_cohort_table_fitted_and_projected(clv, table1):
    result = clv("retention", table1, "--horizon", "12")
    out = rows(result)
    assert list(out[0]) == [
        "cohort",
        "period",
        "active",
        "survival",
        "fitted_survival",
        "retention",
        "fitted_retention",
        "projected",
    ]
    assert [r["period"] for r in out] == [str(t) for t in range(13)]
    assert [r["projected"] for r in out[7:9]] == ["false", "true"]
    assert out[8]["active"] == "" and out[8]["survival"] == ""
    projected = [100 * float(r["fitted_survival"]) for r in out[8:]]
    assert projected == pytest.approx([22.0, 20.4, 19.1, 18.0, 17.0], abs=0.1)
    assert "alpha 0.7041, beta 1.182" in result.stderr


def test_json_has_params_errors_likelihood_and_rows(clv, table1):
    result = clv("retention", table1, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["params"]["alpha"] == pytest.approx(0.704, rel=5e-3)
    assert document["params"]["beta"] == pytest.approx(1.182, rel=5e-3)
    assert set(document["std_errors"]) == {"alpha", "beta"}
    assert document["log_likelihood"] == pytest.approx(-1680.27, abs=0.01)
    assert document["period"] == "year" and document["model"] == "sbg"
    assert len(document["survival"]) == 13  # years 0-12 by default
    assert document["survival"][8]["projected"] is True


def test_bdw_json_gives_c(clv, table1):
    document = json.loads(clv("retention", table1, "--model", "bdw", "--format", "json").stdout)
    assert set(document["params"]) == {"alpha", "beta", "c"}


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "table"])
def test_text_formats(clv, table1, fmt):
    result = clv("retention", table1, "--format", fmt, "-q")
    assert result.exit_code == 0, result.stderr
    if fmt == "jsonl":
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(lines) == 13 and lines[0]["period"] == 0
    elif fmt == "tsv":
        assert result.stdout.splitlines()[0].split("\t")[:2] == ["cohort", "period"]
    else:
        assert "Retention by year" in result.stdout and "63.1%" in result.stdout


def test_parquet_and_csv_files_written(clv, table1, tmp_path):
    target = tmp_path / "curve.parquet"
    assert clv("retention", table1, "-o", target, "-q").exit_code == 0
    table = pq.read_table(target)
    assert table.num_rows == 13 and table.column_names[0] == "cohort"
    target = tmp_path / "curve.csv"
    assert clv("retention", table1, "-o", target, "-q").exit_code == 0
    assert target.read_text().startswith("cohort,period,active")
    target = tmp_path / "curve.xlsx"
    assert clv("retention", table1, "-o", target, "-q").exit_code == 0
    sheet = openpyxl.load_workbook(target).active
    assert sheet.max_row == 14 and sheet.cell(1, 4).value == "survival"


def test_stdin(clv):
    result = clv("retention", "-", "-q", input=TABLE1)
    assert len(rows(result)) == 13


def test_subscription_log_curve(clv, log):
    result = clv("retention", log)
    out = rows(result)
    assert [r["active"] for r in out[:5]] == ["7", "6", "6", "5", "2"]
    assert "renewal period: month" in result.stderr


def test_per_subscriber_values_and_base(clv, log):
    result = clv("retention", log, "--per-subscriber", "--margin", "0.5")
    out = rows(result)
    assert [r["customer_id"] for r in out] == ["d", "e", "g"]
    assert list(out[0]) == [
        "customer_id",
        "plan",
        "cohort",
        "start",
        "tenure",
        "price",
        "p_renew",
        "erl",
        "derl",
        "clv",
    ]
    d = out[0]
    assert d["tenure"] == "4" and d["start"] == "2024-02-10"
    assert float(d["clv"]) == pytest.approx(30 * 0.5 * float(d["derl"]), abs=0.01)
    assert "base: 3 active subscribers worth" in result.stderr


def test_per_subscriber_json_has_the_base(clv, log):
    document = json.loads(clv("retention", log, "--per-subscriber", "--format", "json").stdout)
    assert document["base"]["active_subscribers"] == 3
    assert len(document["active_subscribers"]) == 3
    assert document["as_of"] == "2024-06-20"


def test_by_plan(clv, log):
    out = rows(clv("retention", log, "--by", "plan", "-q", "--horizon", "6"))
    assert list(out[0])[:2] == ["plan", "cohort"]
    assert {r["plan"] for r in out} == {"basic", "pro"}


def test_overlap_merged_with_a_warning(clv, write):
    path = write("subs.csv", LOG + "a,2024-04-01,2024-05-15,10,basic\n")
    result = clv("retention", path, "--format", "csv")
    assert result.exit_code == 0
    assert "1 subscription overlaps an earlier one" in result.stderr
    assert "merged into one spell" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (LOG + "h,2024-05-01,2024-04-01,10,basic\n", "row 8 (line 9), column 'end'"),
        (LOG + "h,,,10,basic\n", "row 8 (line 9), column 'start'"),
        (LOG + "h,someday,,10,basic\n", "cannot read 'someday' as a date"),
        ("period,active\n0,100\n1,80\n2,90\n", "rises from 80 at period 1 to 90 at period 2"),
        ("customer_id,start\nA,2024-01-01\n", "no end column"),
        ("customer_id,amount\nA,5\n", "neither a subscription log"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(clv, write, text, message):
    result = clv("retention", write("bad.csv", text))
    assert result.exit_code == 3
    assert message in result.stderr_lines[0]
    assert result.stderr_lines[0].startswith("clv: error: ")
    assert "Traceback" not in result.stderr


def test_missing_file_is_exit_3(clv, tmp_path):
    assert clv("retention", tmp_path / "none.csv").exit_code == 3


@pytest.mark.parametrize(
    "options",
    [
        ["--model", "pnbd"],
        ["--period", "week"],
        ["--cohort", "year"],
        ["--by", "plan"],
        ["--per-subscriber"],
        ["--margin", "2"],
    ],
)
def test_bad_options_are_exit_2(clv, table1, options):
    result = clv("retention", table1, *options)
    assert result.exit_code == 2, result.stderr
    assert result.stderr_lines[0].startswith("clv: error: ")


def test_too_little_data_is_exit_4(clv, write):
    result = clv("retention", write("s.csv", "customer_id,start,end\nA,2024-01-01,\n"))
    assert result.exit_code == 4


def test_help(clv):
    result = clv("retention", "--help")
    assert result.exit_code == 0
    for words in ("--per-subscriber", "--discount-rate", "merged", "cohort table", "--horizon"):
        assert words in result.stdout


def test_config_file_gives_defaults(clv, table1, write):
    config = write("clv.toml", '[retention]\nhorizon = 9\nmodel = "sbg"\n')
    out = rows(clv("retention", table1, "--config", config, "-q"))
    assert len(out) == 10
