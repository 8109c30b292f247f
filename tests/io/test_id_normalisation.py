"""One customer is one customer: ids that look the same are the same id.

Persian and Arabic text varies in ways a reader cannot see (Arabic or Persian yeh
and kaf, composed or decomposed accents, invisible marks, Unicode blanks at the
ends); each pair here must be one customer, in every path that reads ids.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clvcli.io import customer_order, readers
from clvcli.io.customers import read_customer_list
from clvcli.io.readers import channel_labels, read_transactions
from clvcli.io.text import INVISIBLE_MARKS, normalise_id, normalise_ids

NFD_CAFE = unicodedata.normalize("NFD", "café")
# (variant, its normal form): each variant is one customer with its normal form.
PAIRS = [
    ("C\u200b12", "C12"),  # zero-width space
    ("C\u00ad12", "C12"),  # soft hyphen
    ("C\u200c12", "C12"),  # zero-width non-joiner
    ("C\u200d12", "C12"),  # zero-width joiner
    ("C\u206012", "C12"),  # word joiner
    ("\ufeffC12", "C12"),  # byte-order mark
    ("\u200fC12\u200e", "C12"),  # direction marks
    ("\u202bC12\u202c", "C12"),  # embedding
    ("\u2067C12\u2069", "C12"),  # isolate
    ("C\u061c12", "C12"),  # Arabic letter mark
    ("\u00a0C12\u202f", "C12"),  # non-breaking and narrow non-breaking spaces
    ("\u2009C12\t", "C12"),  # thin space, tab
    ("\u3000C12\u2028", "C12"),  # ideographic space, line separator
    ("C۱۲", "C12"),  # Persian digits
    ("C١٢", "C12"),  # Arabic-Indic digits
    ("علي", "علی"),  # Arabic yeh
    ("علی\u200c", "علی"),
    ("مصطفى", "مصطفی"),  # alef maksura
    ("كريم", "کریم"),  # Arabic kaf and yeh
    (NFD_CAFE, "café"),  # decomposed accent
    ("\u064a\u0654", "\u0626"),  # yeh with hamza above, decomposed
    ("e\u200b\u0301", "é"),  # a mark between a letter and its accent
]
# Different ids that must stay different.
DIFFERENT = [
    ("C12", "C 12"),
    ("C12", "c12"),
    ("=x", "'=x"),
    ("فاطمه", "فاطمة"),  # teh marbuta is its own letter
    ("cafe", "café"),
    ("C12", "C120"),
]


@pytest.mark.parametrize(("variant", "normal"), PAIRS)
def test_each_variant_is_its_normal_form(variant, normal):
    assert normalise_id(variant) == normal
    assert normalise_id(normal) == normal
    assert normalise_ids(pa.array([variant, normal])).to_pylist() == [normal, normal]


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_ids_stay_different(one, other):
    assert normalise_id(one) != normalise_id(other)


def test_output_ids_are_nfc():
    for variant, _ in PAIRS:
        assert unicodedata.is_normalized("NFC", normalise_id(variant))
    assert normalise_id(NFD_CAFE) == "caf\u00e9"


def test_invisible_marks_anywhere_in_an_id_go():
    for mark in INVISIBLE_MARKS:
        assert normalise_id(f"{mark}A{mark}1{mark}") == "A1"


def _log(path: Path, ids: list[str], repeat: int = 1) -> Path:
    days = [f"2024-01-{1 + i % 28:02d}" for i in range(len(ids) * repeat)]
    rows = [f"{ids[i % len(ids)]},{days[i]},{10 + i % 7}" for i in range(len(ids) * repeat)]
    path.write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _customers(path: Path) -> dict[str, int]:
    """Each customer's number of rows."""
    read = read_transactions(str(path))
    counts = np.bincount(read.customer, minlength=len(read.customer_ids))
    return dict(zip(pa.array(read.customer_ids).to_pylist(), counts.tolist(), strict=True))


def test_a_log_reads_each_pair_as_one_customer(tmp_path):
    ids = [v for pair in PAIRS for v in pair]
    customers = _customers(_log(tmp_path / "log.csv", ids))
    normals = {normal for _, normal in PAIRS}
    assert set(customers) == normals
    assert sum(customers.values()) == len(ids)
    assert customers["C12"] == 2 * sum(1 for _, n in PAIRS if n == "C12")


def test_channel_labels_are_normalised_as_ids():
    labels = channel_labels(pa.array(["تلگرام\u200c", "تلگرام", "ك", None, "\u200b"]))
    assert labels.tolist() == ["تلگرام", "تلگرام", "ک", "unknown", "unknown"]


def test_a_customer_list_with_one_customer_twice_is_refused(tmp_path):
    from clvcli.errors import InputError

    listed = tmp_path / "customers.csv"
    listed.write_text("customer_id\nعلي\nعلی\n", encoding="utf-8")
    with pytest.raises(InputError, match="'علی' is listed twice"):
        read_customer_list(str(listed))
    listed.write_text(f"customer_id\n{NFD_CAFE}\nC\u200b12\n", encoding="utf-8")
    assert read_customer_list(str(listed)).ids.tolist() == ["C12", "café"]


# A log large enough for the sort path (customer_order.plain_ids): ASCII ids with
# blanks at the ends take the fast path, ids with invisible marks the hashing path.
_CUSTOMERS = 2_000


def _large_ids(kind: str) -> list[str]:
    ids = [f"C{i:05d}" for i in range(_CUSTOMERS)]
    if kind == "plain":
        return ids
    if kind == "ascii edges":
        return [
            f" {i}\t" if n % 3 == 0 else (f"{i} " if n % 3 == 1 else i) for n, i in enumerate(ids)
        ]
    marks = "\u200b\u00ad\u200c\ufeff\u2060"
    return [
        i[:2] + marks[n % len(marks)] + i[2:] if n % 2 else f"\u00a0{i}\u2009"
        for n, i in enumerate(ids)
    ]


def test_the_fast_path_and_the_hashing_path_give_the_same_customers(tmp_path):
    repeat = -(-customer_order.SORT_MIN_ROWS // _CUSTOMERS)
    expected = {i: repeat for i in _large_ids("plain")}
    for kind in ("plain", "ascii edges", "invisible"):
        ids = _large_ids(kind)
        plain = customer_order.plain_ids(pa.array(ids))
        assert (plain is not None) == (kind != "invisible")
        assert _customers(_log(tmp_path / f"{kind}.csv", ids, repeat)) == expected, kind


def test_a_large_log_and_a_small_log_agree(tmp_path, monkeypatch):
    ids = _large_ids("invisible") + _large_ids("ascii edges")
    path = _log(tmp_path / "log.csv", ids, 2)
    monkeypatch.setattr(customer_order, "SORT_MIN_ROWS", 0)
    large = _customers(path)
    monkeypatch.setattr(customer_order, "SORT_MIN_ROWS", 10**12)
    assert _customers(path) == large == {i: 4 for i in _large_ids("plain")}


def test_the_duckdb_engine_normalises_as_the_default_engine(tmp_path):
    """Ids that need normalising in a clean Parquet log: DuckDB hands them to the
    reader, so the customers are the default engine's."""
    from clvcli.cli.main import main

    ids = [v for pair in PAIRS for v in pair] + _large_ids("invisible")
    path = _log(tmp_path / "log.csv", ids, 3)
    rows = len(ids) * 3
    log = pa.table(
        {
            "customer_id": [ids[i % len(ids)] for i in range(rows)],
            "date": pa.array(
                np.array([f"2024-01-{1 + i % 28:02d}" for i in range(rows)], "datetime64[D]"),
                pa.date32(),
            ),
            "amount": [float(10 + i % 7) for i in range(rows)],
        }
    )
    pq.write_table(log, tmp_path / "log.parquet")
    out = tmp_path / "summary.parquet"
    assert main(["summary", str(tmp_path / "log.parquet"), "-o", str(out), "-q"]) == 0
    default = _customers(path)
    assert len(default) == len({n for _, n in PAIRS}) + _CUSTOMERS
    assert sorted(pq.read_table(out).column("customer_id").to_pylist()) == sorted(default)


def test_a_costs_file_names_channels_as_the_log_does(tmp_path):
    from clvcli.io.costs import read_costs

    costs = tmp_path / "costs.csv"
    costs.write_text(
        "channel,period,spend\nتبليغات\u200c,2024-01,10\nتبلیغات,2024-02,20\n\u00a0ads\t,2024-01,5\n",
        encoding="utf-8",
    )
    frame, _ = read_costs(str(costs))
    assert frame["channel"].tolist() == ["تبلیغات", "تبلیغات", "ads"]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([10, 9, None, -3, 10, 0, 9, 123, -30], pa.int64()),
        pa.array([2**64 - 1, 7, 2**63, 7], pa.uint64()),
        pa.array([-128, 127, 0, None, 5], pa.int8()),
        pa.array([None, None], pa.int32()),
        pa.array([], pa.int16()),
    ],
)
def test_integer_ids_are_coded_as_their_text_is(column):
    # A small log's integer ids are coded as their text is: the ids and each row's code
    # (-1 where empty) are those of the same ids read as text (a large log's are cast to
    # text and sorted: see test_customer_order.py).
    ids, codes = readers._customer_codes(column)
    text_ids, text_codes = readers._customer_codes(column.cast(pa.string()))
    assert ids.to_pylist() == text_ids.to_pylist()
    assert codes.tolist() == text_codes.tolist()


def test_float_ids_past_2_to_the_53_are_refused(tmp_path):
    """1e16 and 1e16 + 1 are one double: a file of such ids has lost digits already."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from clvcli.errors import InputError
    from clvcli.io.readers import ReadSettings, read_transactions

    days = [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 15)]
    path = tmp_path / "ids.parquet"
    pq.write_table(
        pa.table({"customer_id": [17850.0, 1e16, 1e16 + 2], "date": days, "amount": [1.0] * 3}),
        path,
    )
    with pytest.raises(InputError, match=r"row 2, column 'customer_id': the id 10000000000000000"):
        read_transactions(str(path), ReadSettings())
    pq.write_table(
        pa.table(
            {"customer_id": [17850.0, 17851.0, 2.0**53 - 1], "date": days, "amount": [1.0] * 3}
        ),
        path,
    )
    assert sorted(read_transactions(str(path), ReadSettings()).customer_ids.to_pylist()) == [
        "17850",
        "17851",
        str(2**53 - 1),
    ]
