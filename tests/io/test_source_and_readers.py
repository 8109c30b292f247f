"""read_transactions end to end: formats, encodings, archives, stdin and errors."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clvcli.errors import InputError, UsageError
from clvcli.io.dates import days_to_iso
from clvcli.io.readers import ReadSettings, Transactions, read_transactions

PLAIN = "customer_id,date,amount\nC1,2024-03-15,100\nC2,2024-03-16,250.5\nC1,2024-03-17,-20\n"
PLAIN_ROWS = [
    ("C1", "2024-03-15", 100.0),
    ("C2", "2024-03-16", 250.5),
    ("C1", "2024-03-17", -20.0),
]


def rows(tx: Transactions) -> list[tuple[str, str, float]]:
    ids = np.asarray(tx.customer_ids, dtype=object)[tx.customer]
    dates = days_to_iso(tx.day)
    return [
        (str(c), str(d), float(a)) for c, d, a in zip(ids, dates, tx.amount.tolist(), strict=True)
    ]


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return str(path)


def read_error(path: str, settings: ReadSettings = ReadSettings(), **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        read_transactions(path, settings, **kwargs)
    return caught.value


# ----------------------------------------------------------------- delimiters


def test_csv(tmp_path):
    tx = read_transactions(write(tmp_path, "tx.csv", PLAIN))
    assert rows(tx) == PLAIN_ROWS
    assert tx.customer_ids.tolist() == ["C1", "C2"]
    assert tx.rows_read == 3
    assert tx.rows_skipped == 0
    assert tx.warnings == []
    assert tx.channel is None


def test_crlf_line_endings(tmp_path):
    tx = read_transactions(write(tmp_path, "tx.csv", PLAIN.replace("\n", "\r\n")))
    assert rows(tx) == PLAIN_ROWS


def test_tsv(tmp_path):
    tx = read_transactions(write(tmp_path, "tx.tsv", PLAIN.replace(",", "\t")))
    assert rows(tx) == PLAIN_ROWS


def test_tsv_with_commas_inside_values(tmp_path):
    text = "customer_id\tdate\tamount\nC1\t2024-03-15\t1,250,000\nC2\t2024-03-16\t2,000\n"
    tx = read_transactions(write(tmp_path, "tx.tsv", text))
    assert rows(tx) == [("C1", "2024-03-15", 1_250_000.0), ("C2", "2024-03-16", 2000.0)]


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [("tx.csv", ";"), ("tx.csv", "|"), ("tx.txt", "\t"), ("tx.txt", ";"), ("tx.txt", ",")],
)
def test_sniffed_delimiters(tmp_path, name, delimiter):
    tx = read_transactions(write(tmp_path, name, PLAIN.replace(",", delimiter)))
    assert rows(tx) == PLAIN_ROWS


def test_semicolon_file_with_thousands_commas_in_quotes(tmp_path):
    text = 'customer_id;date;amount\nC1;2024-03-15;"1,250,000"\nC2;2024-03-16;2,000\n'
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert rows(tx) == [("C1", "2024-03-15", 1_250_000.0), ("C2", "2024-03-16", 2000.0)]


def test_sep_line(tmp_path):
    text = "sep=;\n" + PLAIN.replace(",", ";")
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert rows(tx) == PLAIN_ROWS


@pytest.mark.parametrize("delimiter", ["|", "\t", ","])
def test_sep_line_with_other_delimiters(tmp_path, delimiter):
    text = f"sep={delimiter}\n" + PLAIN.replace(",", delimiter)
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert rows(tx) == PLAIN_ROWS


def test_sep_line_after_bom_with_crlf(tmp_path):
    text = ("sep=;\n" + PLAIN.replace(",", ";")).replace("\n", "\r\n")
    tx = read_transactions(write(tmp_path, "tx.csv", codecs.BOM_UTF8 + text.encode()))
    assert rows(tx) == PLAIN_ROWS


def test_explicit_delimiter(tmp_path):
    tx = read_transactions(
        write(tmp_path, "tx.csv", PLAIN.replace(",", "|")), ReadSettings(delimiter="|")
    )
    assert rows(tx) == PLAIN_ROWS


def test_blank_lines_before_header_and_between_rows(tmp_path):
    text = "\n\ncustomer_id,date,amount\nC1,2024-03-15,100\n\nC2,2024-03-16,250.5\n\n"
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert rows(tx) == PLAIN_ROWS[:2]


def test_channel_column_and_empty_channel(tmp_path):
    text = "customer_id,date,amount,channel\nC1,2024-03-15,100,ads\nC2,2024-03-16,5,\n"
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert tx.channel.tolist() == ["ads", "unknown"]


def test_explicit_columns(tmp_path):
    text = "Ref,When,Paid\nC1,2024-03-15,100\n"
    settings = ReadSettings(customer_col="ref", date_col="WHEN", amount_col="Paid")
    assert rows(read_transactions(write(tmp_path, "tx.csv", text), settings)) == [
        ("C1", "2024-03-15", 100.0)
    ]


# --------------------------------------------------------- compressed and archives


def test_gzip(tmp_path):
    tx = read_transactions(write(tmp_path, "tx.csv.gz", gzip.compress(PLAIN.encode())))
    assert rows(tx) == PLAIN_ROWS


def test_gzip_tsv_takes_the_delimiter_from_the_inner_name(tmp_path):
    data = gzip.compress(PLAIN.replace(",", "\t").encode())
    assert rows(read_transactions(write(tmp_path, "tx.tsv.gz", data))) == PLAIN_ROWS


def test_gzip_semicolon(tmp_path):
    data = gzip.compress(PLAIN.replace(",", ";").encode())
    assert rows(read_transactions(write(tmp_path, "tx.txt.gz", data))) == PLAIN_ROWS


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_with_one_member(tmp_path):
    path = write(tmp_path, "tx.zip", _zip({"export/tx.csv": PLAIN.encode()}))
    assert rows(read_transactions(path)) == PLAIN_ROWS


def test_zip_with_one_tsv_member(tmp_path):
    path = write(tmp_path, "tx.zip", _zip({"tx.tsv": PLAIN.replace(",", "\t").encode()}))
    assert rows(read_transactions(path)) == PLAIN_ROWS


def test_zip_ignores_macos_metadata(tmp_path):
    path = write(tmp_path, "tx.zip", _zip({"tx.csv": PLAIN.encode(), "__MACOSX/._tx.csv": b"x"}))
    assert rows(read_transactions(path)) == PLAIN_ROWS


def test_zip_with_two_members_is_an_error(tmp_path):
    path = write(tmp_path, "two.zip", _zip({"a.csv": PLAIN.encode(), "b.csv": PLAIN.encode()}))
    error = read_error(path)
    assert str(error) == (
        f"{path}: the archive holds 2 files (a.csv, b.csv); clv reads an archive of exactly "
        "one file"
    )


def test_zip_with_a_parquet_member(tmp_path):
    table = pa.table({"customer_id": ["C1"], "date": [dt.date(2024, 3, 15)], "amount": [100.0]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    path = write(tmp_path, "tx.zip", _zip({"tx.parquet": buffer.getvalue()}))
    assert rows(read_transactions(path)) == [("C1", "2024-03-15", 100.0)]


def test_compression_and_format_are_found_by_content_not_name(tmp_path):
    assert rows(read_transactions(write(tmp_path, "a.csv", gzip.compress(PLAIN.encode())))) == (
        PLAIN_ROWS
    )
    assert rows(read_transactions(write(tmp_path, "b.csv", _zip({"x.csv": PLAIN.encode()})))) == (
        PLAIN_ROWS
    )
    buffer = io.BytesIO()
    pq.write_table(pa.table({"customer_id": ["C1"], "date": ["2024-03-15"], "amount": [1]}), buffer)
    assert rows(read_transactions(write(tmp_path, "c.csv", buffer.getvalue()))) == [
        ("C1", "2024-03-15", 1.0)
    ]


def test_broken_gzip_is_an_error(tmp_path):
    path = write(tmp_path, "tx.csv.gz", b"\x1f\x8b\x08\x00garbage")
    assert str(read_error(path)).startswith(f"{path}: is not a valid gzip file")


# ------------------------------------------------------------------------ parquet


def test_parquet_with_typed_columns(tmp_path):
    table = pa.table(
        {
            "customer_id": pa.array([42, 7, 42], type=pa.int64()),
            "created_at": pa.array(
                [
                    dt.datetime(2024, 3, 15, 23, 59),
                    dt.datetime(2024, 3, 16, 0, 1),
                    dt.datetime(2024, 3, 17, 12, 0),
                ],
                type=pa.timestamp("us"),
            ),
            "amount": pa.array([1_250_000, -200, 30], type=pa.int64()),
        }
    )
    path = str(tmp_path / "tx.parquet")
    pq.write_table(table, path)
    tx = read_transactions(path)
    # Integer ids become text; sorted in code-point order "42" < "7".
    assert tx.customer_ids.tolist() == ["42", "7"]
    assert rows(tx) == [
        ("42", "2024-03-15", 1_250_000.0),
        ("7", "2024-03-16", -200.0),
        ("42", "2024-03-17", 30.0),
    ]


def test_parquet_with_string_and_date_columns(tmp_path):
    table = pa.table(
        {
            "کد مشتری": pa.array(["0042", "42"]),
            "تاریخ": pa.array([dt.date(2024, 3, 15), dt.date(2024, 3, 16)], type=pa.date32()),
            "مبلغ (تومان)": pa.array(["۱٬۰۰۰", "2,000,000"]),
        }
    )
    path = str(tmp_path / "tx.parquet")
    pq.write_table(table, path)
    assert rows(read_transactions(path)) == [
        ("0042", "2024-03-15", 1000.0),
        ("42", "2024-03-16", 2_000_000.0),
    ]


def test_parquet_with_utc_timestamps_and_tehran_zone(tmp_path):
    table = pa.table(
        {
            "customer_id": ["C1", "C2"],
            "timestamp": pa.array(
                [dt.datetime(2024, 3, 15, 21, 0), dt.datetime(2024, 3, 15, 20, 0)],
                type=pa.timestamp("ms", tz="UTC"),
            ),
            "amount": [1.0, 2.0],
        }
    )
    path = str(tmp_path / "tx.parquet")
    pq.write_table(table, path)
    tx = read_transactions(path, ReadSettings(timezone="Asia/Tehran"))
    assert [r[1] for r in rows(tx)] == ["2024-03-16", "2024-03-15"]


def test_parquet_with_bad_amount_reports_the_row(tmp_path):
    table = pa.table(
        {"customer_id": ["C1", "C2"], "date": ["2024-03-15", "2024-03-16"], "amount": [1.0, None]}
    )
    path = str(tmp_path / "tx.parquet")
    pq.write_table(table, path)
    message = str(read_error(path))
    assert message.startswith(f"{path}: row 2, column 'amount': cannot read None")


def test_empty_parquet_is_an_error(tmp_path):
    table = pa.table(
        {
            "customer_id": pa.array([], pa.string()),
            "date": pa.array([], pa.string()),
            "amount": pa.array([], pa.float64()),
        }
    )
    path = str(tmp_path / "tx.parquet")
    pq.write_table(table, path)
    assert str(read_error(path)) == f"{path}: has no rows"


def test_fake_parquet_is_an_error(tmp_path):
    path = write(tmp_path, "tx.parquet", PLAIN)
    error = read_error(path)
    assert str(error) == (
        f"{path}: is not a Parquet file (it does not start with the Parquet magic bytes)"
    )


def test_truncated_parquet_is_an_error(tmp_path):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"customer_id": ["C1"], "date": ["2024-03-15"], "amount": [1]}), buffer)
    path = write(tmp_path, "tx.parquet", buffer.getvalue()[:40])
    assert str(read_error(path)).startswith(f"{path}: is not a readable Parquet file")


def _parquet_of_row_groups(path: Path, sizes: list[int]) -> pa.Table:
    """A log written as row groups of ``sizes`` rows, and the table it holds."""
    start = 0
    tables = []
    schema = pa.schema(
        [("customer_id", pa.string()), ("date", pa.date32()), ("amount", pa.float64())]
    )
    for size in sizes:
        rows = range(start, start + size)
        columns = {
            "customer_id": [f"C{i % 7}" for i in rows],
            "date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in rows],
            "amount": [float(i) for i in rows],
        }
        tables.append(pa.table(columns, schema=schema))
        start += size
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for table in tables:
            writer.write_table(table, row_group_size=max(len(table), 1))
    return pa.concat_tables(tables)


@pytest.mark.parametrize("batch_rows", [7, 1 << 18])
def test_parquet_row_groups_read_side_by_side_keep_the_file_order(
    tmp_path, monkeypatch, batch_rows
):
    """Runs of row groups are decoded on several threads, a batch of rows at a time:
    the rows still come in the file's order, uneven and empty row groups and all."""
    from clvcli.io import source

    monkeypatch.setattr(source, "cores", lambda: 3)
    monkeypatch.setattr(source, "_BATCH_ROWS", batch_rows)
    path = tmp_path / "tx.parquet"
    table = _parquet_of_row_groups(path, [1, 50, 7, 0, 300, 20, 3, 120, 9, 1])
    assert pq.ParquetFile(path).metadata.num_row_groups == 10
    tx = read_transactions(str(path))
    expected = [
        (c, d.isoformat(), a)
        for c, d, a in zip(*(table.column(i).to_pylist() for i in range(3)), strict=True)
    ]
    assert sorted(rows(tx)) == sorted(expected)
    assert tx.amount.tolist() == table.column("amount").to_pylist()


def test_a_corrupt_row_group_read_on_another_thread_is_an_error(tmp_path, monkeypatch):
    from clvcli.io import source

    monkeypatch.setattr(source, "cores", lambda: 2)
    path = tmp_path / "tx.parquet"
    _parquet_of_row_groups(path, [100] * 8)
    chunk = pq.ParquetFile(path).metadata.row_group(6).column(2)  # the amounts, late on
    data = bytearray(path.read_bytes())
    start = chunk.data_page_offset
    data[start : start + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    path.write_bytes(bytes(data))
    assert str(read_error(str(path))).startswith(f"{path}: is not a readable Parquet file")


@pytest.mark.parametrize(
    ("sizes", "most"),
    [([10] * 10, 4), ([1, 50, 7, 0, 300, 20], 4), ([5], 4), ([3, 3], 8), ([1000, 1, 1, 1], 2)],
)
def test_runs_of_row_groups_cover_every_group_in_order(sizes, most, tmp_path):
    from clvcli.io.source import _runs_of_row_groups

    path = tmp_path / "tx.parquet"
    _parquet_of_row_groups(path, sizes)
    runs = _runs_of_row_groups(pq.ParquetFile(path).metadata, most)
    assert [group for run in runs for group in run] == list(range(len(sizes)))
    assert 1 <= len(runs) <= most
    assert all(run for run in runs)
    if sizes == [10] * 10:
        assert [len(run) for run in runs] in ([3, 2, 3, 2], [2, 3, 2, 3], [3, 3, 2, 2])


# -------------------------------------------------------------------------- stdin


def test_stdin():
    tx = read_transactions("-", stdin=io.BytesIO(PLAIN.encode()))
    assert tx.source == "<stdin>"
    assert rows(tx) == PLAIN_ROWS


def test_stdin_gzip():
    tx = read_transactions("-", stdin=io.BytesIO(gzip.compress(PLAIN.encode())))
    assert rows(tx) == PLAIN_ROWS


def test_stdin_error_names_stdin():
    text = "customer_id,date,amount\nC1,2024-03-15,100\nC2,never,5\n"
    error = read_error("-", stdin=io.BytesIO(text.encode()))
    assert str(error).startswith("<stdin>: row 2 (line 3), column 'date': cannot read 'never'")


def test_stdin_empty():
    assert str(read_error("-", stdin=io.BytesIO(b""))) == "<stdin>: is empty"


# ---------------------------------------------------------------------- encodings

PERSIAN = (
    'کد مشتری,تاریخ سفارش,مبلغ (تومان)\nC۰۰۴۲,۱۴۰۳/۰۷/۱۹,"۱٬۲۵۰٬۰۰۰"\nعلی,1403-07-20,۳۰۰ تومان\n'
)
PERSIAN_ROWS = [("C0042", "2024-10-10", 1_250_000.0), ("علی", "2024-10-11", 300.0)]


def test_utf8_persian_file(tmp_path):
    assert rows(read_transactions(write(tmp_path, "tx.csv", PERSIAN))) == PERSIAN_ROWS


def test_utf8_bom(tmp_path):
    path = write(tmp_path, "tx.csv", codecs.BOM_UTF8 + PERSIAN.encode("utf-8"))
    tx = read_transactions(path)
    assert rows(tx) == PERSIAN_ROWS


def test_utf8_bom_before_english_header(tmp_path):
    path = write(tmp_path, "tx.csv", codecs.BOM_UTF8 + PLAIN.encode("utf-8"))
    assert rows(read_transactions(path)) == PLAIN_ROWS


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_utf16_with_bom(tmp_path, bom, codec):
    path = write(tmp_path, "tx.csv", bom + PERSIAN.encode(codec))
    assert rows(read_transactions(path)) == PERSIAN_ROWS


def test_utf16_tab_separated_excel_export(tmp_path):
    text = PLAIN.replace(",", "\t").replace("\n", "\r\n")
    path = write(tmp_path, "tx.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert rows(read_transactions(path)) == PLAIN_ROWS


CP1256 = "مشتري,تاريخ,مبلغ\nعلي,2024-03-15,100\nرضا,2024-03-16,200\n"


def test_cp1256_with_encoding(tmp_path):
    path = write(tmp_path, "tx.csv", CP1256.encode("cp1256"))
    tx = read_transactions(path, ReadSettings(encoding="cp1256"))
    # cp1256 has only the Arabic yeh: the id is read with the Persian one.
    assert rows(tx) == [("علی", "2024-03-15", 100.0), ("رضا", "2024-03-16", 200.0)]


def test_cp1256_without_encoding_is_an_error_with_the_line(tmp_path):
    path = write(tmp_path, "tx.csv", CP1256.encode("cp1256"))
    error = read_error(path)
    assert str(error) == f"{path}: line 1: bytes that are not valid UTF-8 text"
    assert "--encoding" in error.hint


def test_invalid_utf8_reports_the_line(tmp_path):
    data = b"customer_id,date,amount\nC1,2024-03-15,100\nC2,2024-03-16,200\nC\xff3,2024-03-17,5\n"
    path = write(tmp_path, "tx.csv", data)
    assert str(read_error(path)) == f"{path}: line 4: bytes that are not valid UTF-8 text"


def test_invalid_bytes_for_the_given_encoding_report_the_line(tmp_path):
    data = b"customer_id,date,amount\nC1,2024-03-15,100\nC\xff3,2024-03-17,5\n"
    path = write(tmp_path, "tx.csv", data)
    error = read_error(path, ReadSettings(encoding="ascii"))
    assert str(error) == f"{path}: line 3: bytes that are not valid ascii"


def test_unknown_encoding_is_a_usage_error(tmp_path):
    path = write(tmp_path, "tx.csv", PLAIN)
    with pytest.raises(UsageError, match="unknown encoding 'klingon'"):
        read_transactions(path, ReadSettings(encoding="klingon"))


def test_nul_bytes_are_an_error(tmp_path):
    data = b"customer_id,date,amount\nC1,2024-03-15,100\x00\n"
    path = write(tmp_path, "tx.csv", data)
    assert str(read_error(path)) == (
        f"{path}: does not look like a text file (it contains NUL bytes)"
    )


def test_utf16_without_bom_is_reported_as_nul_bytes(tmp_path):
    path = write(tmp_path, "tx.csv", PLAIN.encode("utf-16-le"))
    error = read_error(path)
    assert "contains NUL bytes" in str(error)
    assert "utf-16-le" in error.hint


# ------------------------------------------------------------------------- quoting


def test_quoted_fields_with_embedded_newlines_and_delimiters(tmp_path):
    text = (
        "customer_id,date,amount,note\n"
        '"C1","2024-03-15","1,200.50","first line\nsecond, line"\n'
        'C2,2024-03-16,5,"say ""hi"""\n'
    )
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert rows(tx) == [("C1", "2024-03-15", 1200.5), ("C2", "2024-03-16", 5.0)]


def test_line_number_after_a_multiline_record(tmp_path):
    text = 'customer_id,date,amount,note\nC1,2024-03-15,100,"one\ntwo\nthree"\nC2,someday,5,x\n'
    path = write(tmp_path, "tx.csv", text)
    assert str(read_error(path)).startswith(f"{path}: row 2 (line 5), column 'date'")


# ------------------------------------------------------------------- customer ids


def test_customer_ids_are_text(tmp_path):
    text = (
        "customer_id,date,amount\n"
        "0042,2024-03-15,1\n"
        "42,2024-03-15,2\n"
        "C۰۰۴۲,2024-03-15,3\n"
        "C0042,2024-03-16,4\n"
        " C0042 ,2024-03-17,5\n"
        "C٠٠٤٢,2024-03-18,6\n"
    )
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert tx.customer_ids.tolist() == ["0042", "42", "C0042"]
    assert [r[0] for r in rows(tx)] == ["0042", "42", "C0042", "C0042", "C0042", "C0042"]
    assert tx.customer.tolist() == [0, 1, 2, 2, 2, 2]


def test_empty_customer_id_is_a_bad_row(tmp_path):
    text = "customer_id,date,amount\nC1,2024-03-15,1\n  ,2024-03-16,2\n"
    path = write(tmp_path, "tx.csv", text)
    error = read_error(path)
    assert str(error) == f"{path}: row 2 (line 3), column 'customer_id': empty customer id"


# -------------------------------------------------------------- refunds and skips


def test_refunds_are_kept_negative(tmp_path):
    text = (
        "customer_id,date,amount\n"
        "C1,2024-03-15,1000\n"
        "C1,2024-03-16,-1000\n"
        'C1,2024-03-17,"(250)"\n'
        "C1,2024-03-18,۲۰۰-\n"
    )
    tx = read_transactions(write(tmp_path, "tx.csv", text))
    assert tx.amount.tolist() == [1000.0, -1000.0, -250.0, -200.0]
    assert tx.num_rows == 4


def test_skip_invalid_drops_bad_rows_with_one_warning(tmp_path):
    text = (
        "customer_id,date,amount\n"
        "C1,2024-03-15,100\n"
        "C2,not-a-date,5\n"
        ",2024-03-16,5\n"
        "C3,2024-03-16,abc\n"
        "C4,2024-03-16,NaN\n"
        "C1,2024-03-17,7\n"
    )
    path = write(tmp_path, "tx.csv", text)
    tx = read_transactions(path, ReadSettings(skip_invalid=True))
    assert rows(tx) == [("C1", "2024-03-15", 100.0), ("C1", "2024-03-17", 7.0)]
    # Customers of dropped rows only are gone too.
    assert tx.customer_ids.tolist() == ["C1"]
    assert tx.rows_read == 6
    assert tx.rows_skipped == 4
    assert tx.warnings == [f"{path}: skipped 4 rows with bad values (--skip-invalid)"]


def test_skip_invalid_with_ragged_rows(tmp_path):
    text = "customer_id,date,amount\nC1,2024-03-15,100\nC2,2024-03-16,5,extra\nC3,2024-03-17,9\n"
    path = write(tmp_path, "tx.csv", text)
    tx = read_transactions(path, ReadSettings(skip_invalid=True))
    assert rows(tx) == [("C1", "2024-03-15", 100.0), ("C3", "2024-03-17", 9.0)]
    assert tx.rows_read == 3
    assert tx.rows_skipped == 1
    assert tx.warnings == [
        f"{path}: skipped 1 row with the wrong number of fields (--skip-invalid)"
    ]


def test_skip_invalid_with_nothing_left_is_an_error(tmp_path):
    text = "customer_id,date,amount\nC1,never,100\n"
    path = write(tmp_path, "tx.csv", text)
    error = read_error(path, ReadSettings(skip_invalid=True))
    assert str(error) == f"{path}: no valid rows left after skipping bad ones"


# ---------------------------------------------------------------- value errors


def test_unparseable_date_names_row_line_and_column(tmp_path):
    text = "customer_id,order_date,amount\nC1,2024-03-15,100\nC2,2024-02-30,5\n"
    path = write(tmp_path, "tx.csv", text)
    error = read_error(path)
    assert str(error) == (
        f"{path}: row 2 (line 3), column 'order_date': cannot read '2024-02-30' as a date"
    )
    assert "--date-format" in error.hint
    assert error.exit_code == 3


def test_bad_amount_names_row_line_and_column(tmp_path):
    text = "مشتری,تاریخ,مبلغ (تومان)\nC1,2024-03-15,100\nC2,2024-03-16,100\nC3,2024-03-17,zz\n"
    path = write(tmp_path, "tx.csv", text)
    assert str(read_error(path)) == (
        f"{path}: row 3 (line 4), column 'مبلغ (تومان)': cannot read 'zz' as an amount "
        "(need a finite number)"
    )


def test_first_bad_row_is_reported_with_the_count(tmp_path):
    text = "customer_id,date,amount\nC1,2024-03-15,x\nC2,y,5\nC3,2024-03-17,9\n"
    path = write(tmp_path, "tx.csv", text)
    assert str(read_error(path)) == (
        f"{path}: row 1 (line 2), column 'amount': cannot read 'x' as an amount "
        "(need a finite number); 2 bad rows in all"
    )


def test_line_numbers_count_blank_lines_and_sep_line(tmp_path):
    text = "sep=;\ncustomer_id;date;amount\nC1;2024-03-15;1\n\nC2;bad;2\n"
    path = write(tmp_path, "tx.csv", text)
    assert str(read_error(path)).startswith(f"{path}: row 2 (line 5), column 'date'")


def test_ambiguous_dates_are_an_input_error_naming_file_and_column(tmp_path):
    text = "customer_id,date,amount\nC1,01/02/2024,1\nC2,03/04/2024,2\n"
    path = write(tmp_path, "tx.csv", text)
    error = read_error(path)
    assert str(error) == (
        f"{path}, column 'date': dates such as '01/02/2024' could be day-first or month-first"
    )
    assert "--date-format" in error.hint


def test_ambiguous_dates_read_with_a_date_format(tmp_path):
    text = "customer_id,date,amount\nC1,01/02/2024,1\nC2,03/04/2024,2\n"
    tx = read_transactions(write(tmp_path, "tx.csv", text), ReadSettings(date_format="%d/%m/%Y"))
    assert [r[1] for r in rows(tx)] == ["2024-02-01", "2024-04-03"]


def test_jalali_calendar_and_format_through_the_reader(tmp_path):
    text = "customer_id,date,amount\nC1,19/07/1403,1\nC2,۳۰/۱۲/۱۴۰۳,2\n"
    settings = ReadSettings(calendar="jalali", date_format="%d/%m/%Y")
    tx = read_transactions(write(tmp_path, "tx.csv", text), settings)
    assert [r[1] for r in rows(tx)] == ["2024-10-10", "2025-03-20"]


# ------------------------------------------------------------------ file errors


def test_ragged_row_is_an_error_with_the_line(tmp_path):
    text = "customer_id,date,amount\nC1,2024-03-15,100\nC2,2024-03-16,5,extra\n"
    path = write(tmp_path, "tx.csv", text)
    error = read_error(path)
    assert str(error) == f"{path}: line 3 has 4 fields, the header has 3 (1 such row)"


def test_ragged_row_after_a_multiline_record_reports_its_physical_line(tmp_path):
    text = (
        "customer_id,date,amount,note\n"
        'C1,2024-03-15,100,"a\nb"\n'  # lines 2-3
        "\n"  # line 4
        "C2,2024-03-16,5,x,extra\n"  # line 5
    )
    path = write(tmp_path, "tx.csv", text)
    assert str(read_error(path)) == f"{path}: line 5 has 5 fields, the header has 4 (1 such row)"


def test_ragged_row_after_blank_lines_reports_its_physical_line(tmp_path):
    text = "\n\ncustomer_id,date,amount\nC1,2024-03-15,100\n\nC2,2024-03-16,5,extra\n"
    path = write(tmp_path, "tx.csv", text)
    assert str(read_error(path)) == f"{path}: line 6 has 4 fields, the header has 3 (1 such row)"


def test_short_row_is_an_error_with_the_line(tmp_path):
    text = "customer_id,date,amount\nC1,2024-03-15,100\nC2,2024-03-16,5\nC3,2024-03-17\n"
    path = write(tmp_path, "tx.csv", text)
    assert str(read_error(path)) == f"{path}: line 4 has 2 fields, the header has 3 (1 such row)"


def test_empty_file(tmp_path):
    path = write(tmp_path, "tx.csv", b"")
    error = read_error(path)
    assert str(error) == f"{path}: is empty"


def test_whitespace_only_file(tmp_path):
    path = write(tmp_path, "tx.csv", "\n  \n\n")
    assert str(read_error(path)) == f"{path}: is empty"


def test_header_only(tmp_path):
    path = write(tmp_path, "tx.csv", "customer_id,date,amount\n")
    assert str(read_error(path)) == f"{path}: has a header but no data rows"


def test_header_only_without_newline(tmp_path):
    path = write(tmp_path, "tx.csv", "customer_id,date,amount")
    assert str(read_error(path)) == f"{path}: has a header but no data rows"


def test_missing_column_lists_the_columns(tmp_path):
    path = write(tmp_path, "tx.csv", "customer_id,date,qty\nC1,2024-03-15,1\n")
    assert str(read_error(path)) == (
        f"{path}: no amount column found; column 'qty' holds numbers and could be the amount; "
        "columns are: customer_id, date, qty"
    )


def test_duplicated_used_column(tmp_path):
    path = write(tmp_path, "tx.csv", "customer_id,date,amount,amount\nC1,2024-03-15,1,2\n")
    assert str(read_error(path)) == (
        f"{path}: column 'amount' appears more than once in the header (columns 3, 4)"
    )


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.csv")
    assert str(read_error(path)) == f"{path}: no such file"


def test_empty_directory(tmp_path):
    # A directory is a partitioned export; one with nothing to read is an error.
    assert str(read_error(str(tmp_path))) == (
        f"{tmp_path}: is a directory with no CSV or Parquet files"
    )


@pytest.mark.parametrize(
    ("text", "skip", "expected"),
    [
        (b'"customer_id","date","amount"\nA,2024-01-01,5\n', 1, False),
        (b'"customer_id","date","amount"\r\nA,2024-01-01,5\r\n', 1, False),
        (b'"customer_id","date","amount"\nA,2024-01-01,"5"\n', 1, True),
        (b"customer_id,date,amount\nA,2024-01-01,5\n", 1, False),
        (b'"customer\nid",date,amount\nA,2024-01-01,5\n', 1, True),  # odd quotes: all
        (b'"customer_id",date,amount\rA,2024-01-01,5\r', 1, True),  # CR only: all
    ],
)
def test_quotes_are_looked_for_past_the_header(text, skip, expected):
    from clvcli.io.source import _quotes_past

    assert _quotes_past(text, skip) is expected


def test_quoted_header_and_a_quoted_line_break_in_a_row(tmp_path):
    header = '"customer_id","date","amount","channel"\n'
    plain = write(tmp_path, "plain.csv", header + "A,2024-01-01,5,web\nB,2024-01-02,7,ads\n")
    assert rows(read_transactions(plain)) == [
        ("A", "2024-01-01", 5.0),
        ("B", "2024-01-02", 7.0),
    ]
    broken = write(
        tmp_path, "broken.csv", header + 'A,2024-01-01,5,"web\nshop"\nB,2024-01-02,7,ads\n'
    )
    tx = read_transactions(broken)
    assert rows(tx) == [("A", "2024-01-01", 5.0), ("B", "2024-01-02", 7.0)]
    assert list(tx.channel) == ["web\nshop", "ads"]
