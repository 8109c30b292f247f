"""Blank rows, Excel serial dates, month names and whitespace-aligned text, as shops'
systems and spreadsheets write them (each rendered in the test from a clean log)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clvcli.errors import InputError
from clvcli.io.dates import days_to_iso
from clvcli.io.readers import ReadSettings, Transactions, read_transactions


def rows(tx: Transactions) -> list[tuple[str, str, float]]:
    ids = np.asarray(tx.customer_ids, dtype=object)[tx.customer]
    return [
        (str(c), str(d), float(a))
        for c, d, a in zip(ids, days_to_iso(tx.day), tx.amount.tolist(), strict=True)
    ]


def read(tmp_path: Path, text: str, name: str = "log.csv", **settings) -> Transactions:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_transactions(str(path), ReadSettings(**settings))


# --- rows of only delimiters ----------------------------------------------------------


@pytest.mark.parametrize(
    "blank",
    [";;", ";;\n;;\n;;", " ; ; ", ";", "\t;\t;", ";;\n\n;;"],
    ids=["two", "many", "spaces", "short", "tabs", "with-empty-lines"],
)
def test_a_row_of_only_delimiters_is_a_blank_line(tmp_path, blank):
    text = "customer_id;date;amount\nA;2024-01-01;11\n" + blank + "\nB;2024-01-02;12\n" + blank
    tx = read(tmp_path, text + "\n")
    assert rows(tx) == [("A", "2024-01-01", 11.0), ("B", "2024-01-02", 12.0)]
    assert tx.rows_read == 2 and tx.rows_skipped == 0


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
def test_blank_rows_with_every_delimiter(tmp_path, delimiter):
    text = delimiter.join(["customer_id", "date", "amount", "note"]) + "\n"
    text += delimiter.join(["A", "2024-01-01", "11", "x"]) + "\n" + delimiter * 3 + "\n"
    assert rows(read(tmp_path, text)) == [("A", "2024-01-01", 11.0)]


def test_a_row_with_an_empty_id_but_a_date_is_still_a_bad_row(tmp_path):
    text = "customer_id;date;amount\nA;2024-01-01;11\n;2024-01-02;\n;;\n"
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'customer_id'"):
        read(tmp_path, text)


def test_a_row_whose_only_value_is_in_an_unread_column_is_a_bad_row(tmp_path):
    text = "customer_id;date;amount;note\nA;2024-01-01;11;x\n;;;see next page\n;;;\n"
    with pytest.raises(InputError, match=r"row 2 \(line 3\).*empty customer id$"):
        read(tmp_path, text)


def test_bad_rows_after_blank_rows_keep_their_row_number(tmp_path):
    text = "customer_id,date,amount\nA,2024-01-01,11\n,,\nB,someday,3\n"
    with pytest.raises(InputError, match=r"row 3 \(line 4\), column 'date'"):
        read(tmp_path, text)


def test_a_file_of_blank_rows_has_no_data_rows(tmp_path):
    with pytest.raises(InputError, match="no data rows"):
        read(tmp_path, "customer_id,date,amount\n,,\n,,\n")


def test_a_ragged_row_is_still_reported_past_a_short_blank_row(tmp_path):
    text = "customer_id,date,amount\nA,2024-01-01,11\n,\nB,2024-01-02,3,4\n"
    with pytest.raises(InputError, match="line 4 has 4 fields"):
        read(tmp_path, text)
