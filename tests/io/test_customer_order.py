"""Large logs are grouped by DuckDB's sort instead of hashing: same answers either way.

The sort path starts at SORT_MIN_ROWS rows; these tests lower the threshold so that
small, hand-made logs take it, and compare with the hashing path row for row.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvcli.core.compute import ComputeSettings, compute_clv
from clvcli.io import customer_order
from clvcli.io.readers import ReadSettings, Transactions, read_transactions
from tests.fuzz.budget import examples

SAMPLE = Path(__file__).parents[2] / "sample_data"
# How numpy numbers ids, as it is before the fixture below makes every test run
# under DuckDB's sort too.
NUMBERING = customer_order._numbering

MESSY = (
    "customer,date,amount,channel\n"
    "  B7 ,2024-01-03,10.10,ads\n"
    "A1,2024-01-02,0.1,\n"
    "A1,2024-01-02,0.2,search\n"
    "A1,2024-01-02,0.3,ads\n"
    "B7,2024-01-03,-10.10,\n"
    "A1,2024-01-09,5,\n"
    ",2024-01-10,4,ads\n"
    "A10,2024-01-05,7,ads\n"
    "A10,2024-01-05,0,\n"
    "a1,2024-01-06,3,social\n"
    "B7,2024-02-01,12,\n"
    "A1,2024-01-02,2,late\n"
    "Z,2024-02-02,1,\n"
)


@pytest.fixture(autouse=True, params=["numbers", "duckdb"])
def sorter(request, monkeypatch):
    """Every test twice: ids sorted by numpy where their numbers tell them apart (at
    most eight bytes, or sixteen digits, past their shared prefix), and sorted by
    DuckDB as longer ids are."""
    if request.param == "duckdb":
        monkeypatch.setattr(customer_order, "_numbering", lambda *_: None)
    return request.param


@pytest.fixture
def sort_everything(monkeypatch):
    monkeypatch.setattr(customer_order, "SORT_MIN_ROWS", 0)


def both_paths(monkeypatch, path: str, settings: ReadSettings) -> tuple[Transactions, Transactions]:
    monkeypatch.setattr(customer_order, "SORT_MIN_ROWS", 10**12)
    hashed = read_transactions(path, settings)
    monkeypatch.setattr(customer_order, "SORT_MIN_ROWS", 0)
    ordered = read_transactions(path, settings)
    return hashed, ordered


def row_set(tx: Transactions) -> list[tuple]:
    ids = np.asarray(tx.customer_ids, dtype=object)[tx.customer]
    channel = [None] * tx.num_rows if tx.channel is None else list(tx.channel)
    rows = zip(ids, tx.day.tolist(), tx.amount.tolist(), channel, strict=True)
    return sorted(rows, key=repr)


@pytest.mark.parametrize("name", ["shop.csv", "shop.parquet"])
def test_sample_shop_gives_the_same_customers_and_values(monkeypatch, name):
    hashed, ordered = both_paths(monkeypatch, str(SAMPLE / name), ReadSettings())
    assert not hashed.by_customer and ordered.by_customer
    assert list(ordered.customer_ids) == list(hashed.customer_ids)
    assert row_set(ordered) == row_set(hashed)
    settings = ComputeSettings(period="week")
    expected = compute_clv(hashed, settings).frame
    got = compute_clv(ordered, settings).frame
    pd.testing.assert_frame_equal(got, expected, rtol=1e-12)


def test_messy_log_same_day_refunds_channels_and_skipped_rows(monkeypatch, tmp_path):
    path = tmp_path / "messy.csv"
    path.write_text(MESSY)
    settings = ReadSettings(skip_invalid=True)
    hashed, ordered = both_paths(monkeypatch, str(path), settings)
    assert ordered.customer_ids.to_pylist() == ["A1", "A10", "B7", "Z", "a1"]
    assert list(ordered.customer_ids) == list(hashed.customer_ids)
    assert row_set(ordered) == row_set(hashed)
    assert ordered.rows_skipped == hashed.rows_skipped == 1
    assert ordered.warnings == hashed.warnings
    expected = compute_clv(hashed, ComputeSettings(model="none")).frame
    got = compute_clv(ordered, ComputeSettings(model="none")).frame
    pd.testing.assert_frame_equal(got, expected)
    # The channel of the first row of the first day, in file order.
    assert dict(zip(got["customer_id"], got["channel"], strict=True))["A1"] == "unknown"
    assert dict(zip(got["customer_id"], got["channel"], strict=True))["B7"] == "ads"


def test_rows_come_sorted_by_customer_day_then_file_order(sort_everything, tmp_path):
    path = tmp_path / "messy.csv"
    path.write_text(MESSY)
    tx = read_transactions(str(path), ReadSettings(skip_invalid=True))
    keys = list(zip(tx.customer.tolist(), tx.day.tolist(), strict=True))
    assert keys == sorted(keys)
    a1_first_day = tx.amount[(tx.customer == 0) & (tx.day == tx.day.min())]
    assert a1_first_day.tolist() == [0.1, 0.2, 0.3, 2.0]


def test_same_day_amounts_add_in_file_order(sort_everything, tmp_path):
    path = tmp_path / "sums.csv"
    path.write_text(
        "customer_id,date,amount\nA,2024-01-01,5\nA,2024-01-02,0.1\nA,2024-01-02,0.2\n"
        "A,2024-01-02,0.3\nB,2024-01-02,1\n"
    )
    frame = compute_clv(read_transactions(str(path)), ComputeSettings(model="none")).frame
    spend = dict(zip(frame["customer_id"], frame["total_spend"], strict=True))
    assert spend["A"] == 5 + (0.1 + 0.2 + 0.3)


def test_an_empty_id_is_still_a_bad_row(sort_everything, tmp_path):
    from clvcli.errors import InputError

    path = tmp_path / "empty.csv"
    path.write_text("customer_id,date,amount\nA,2024-01-01,5\n   ,2024-01-02,3\n")
    with pytest.raises(InputError, match=r"row 2.*column 'customer_id': empty customer id"):
        read_transactions(str(path))


def test_persian_ids_are_hashed_and_normalised(sort_everything, tmp_path):
    path = tmp_path / "fa.csv"
    path.write_text("customer_id,date,amount\nC۰۰۴۲,2024-01-01,5\nC0042,2024-01-02,3\n")
    tx = read_transactions(str(path))
    assert not tx.by_customer
    assert tx.customer_ids.to_pylist() == ["C0042"]


def test_a_failing_duckdb_falls_back_to_hashing(sort_everything, monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise duckdb.IOException("no space left on device")

    monkeypatch.setattr(customer_order, "_numbering", lambda *_: None)
    monkeypatch.setattr(duckdb, "connect", broken)
    path = tmp_path / "messy.csv"
    path.write_text(MESSY)
    tx = read_transactions(str(path), ReadSettings(skip_invalid=True))
    assert not tx.by_customer
    assert tx.customer_ids.to_pylist() == ["A1", "A10", "B7", "Z", "a1"]


def test_ids_sort_by_code_point_as_hashing_does(monkeypatch):
    ids = pa.array(["b", "B", "a~", "a", "A0", "_", "a", "0", "ab", "b"])
    order = customer_order.sort_by_customer(ids, np.arange(len(ids)))
    assert order is not None
    assert order.ids.to_pylist() == sorted(set(ids.to_pylist()))
    assert np.asarray(order.ids)[order.codes].tolist() == np.asarray(ids)[order.rows].tolist()
    assert order.codes.tolist() == sorted(order.codes.tolist())


@pytest.mark.parametrize("compare_rows", [7, 1 << 18])
@pytest.mark.parametrize("range_rows", [1, 2, 3, 5, 1000])
def test_sorting_in_id_ranges_gives_the_one_sort(monkeypatch, range_rows, compare_rows):
    """However many ranges the ids are cut into, and however many slices of them are
    compared with the bounds on how many threads, the order is that of one sort."""
    from clvcli import parallel

    rng = np.random.default_rng(7)
    names = np.array(["b", "B", "a~", "a", "A0", "_", "0", "ab", "zz", "b9", "b10"])
    ids = pa.array(names[rng.integers(0, len(names), 200)].tolist())
    day = rng.integers(0, 5, 200)
    monkeypatch.setattr(customer_order, "RANGE_ROWS", range_rows)
    monkeypatch.setattr(customer_order, "_COMPARE_ROWS", compare_rows)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    order = customer_order.sort_by_customer(ids, day)
    assert order is not None
    assert order.ids.to_pylist() == sorted(set(ids.to_pylist()))
    expected = sorted(range(200), key=lambda row: (ids[row].as_py(), int(day[row]), row))
    assert order.rows.tolist() == expected
    assert np.asarray(order.ids)[order.codes].tolist() == np.asarray(ids)[order.rows].tolist()
    changes = np.flatnonzero(np.diff(order.codes, prepend=-1))
    assert order.starts.tolist() == changes.tolist()


@pytest.mark.parametrize("range_rows", [3, 1000])
@pytest.mark.parametrize("in_date_order", [True, False])
def test_a_log_in_date_order_sorts_as_any_other(monkeypatch, range_rows, in_date_order):
    """A log in date order is sorted by (id, row) alone: the same order, ties and all."""
    rng = np.random.default_rng(11)
    names = np.array(["b", "B", "a", "A0", "0", "ab", "zz"])
    ids = pa.array(names[rng.integers(0, len(names), 300)].tolist())
    day = np.sort(rng.integers(0, 20, 300))  # many rows share a day
    if not in_date_order:
        day[[10, 250]] = day[[250, 10]]  # one pair out of order is enough to sort by day
    monkeypatch.setattr(customer_order, "RANGE_ROWS", range_rows)
    order = customer_order.sort_by_customer(ids, day)
    assert order is not None
    expected = sorted(range(300), key=lambda row: (ids[row].as_py(), int(day[row]), row))
    assert order.rows.tolist() == expected


def test_one_id_on_every_row_is_one_range(monkeypatch):
    monkeypatch.setattr(customer_order, "RANGE_ROWS", 2)
    order = customer_order.sort_by_customer(pa.array(["same"] * 9), np.arange(9)[::-1].copy())
    assert order is not None
    assert order.ids.to_pylist() == ["same"]
    assert order.codes.tolist() == [0] * 9
    assert order.rows.tolist() == list(range(9))[::-1]


@pytest.mark.parametrize(
    ("cells", "trimmed"),
    [
        (["a", "b", ""], None),
        ([" a", "b"], ["a", "b"]),
        (["a", "b\t"], ["a", "b"]),
        (["a", "\x1fb"], ["a", "b"]),
        (["a", None, "c "], ["a", None, "c"]),
    ],
)
def test_plain_ids_trim_only_what_needs_it(cells, trimmed):
    for column in (pa.array(cells), pa.array(cells, pa.large_string())):
        got = customer_order.plain_ids(column)
        if trimmed is None:
            assert got is column  # nothing to trim: no copy
        else:
            assert got.to_pylist() == trimmed


def test_plain_ids_look_at_every_chunk_and_only_inside_a_slice():
    chunked = pa.chunked_array([["a", "b"], [], ["c", "d "]])
    assert customer_order.plain_ids(chunked).to_pylist() == ["a", "b", "c", "d"]
    assert customer_order.plain_ids(pa.chunked_array([["a"], ["é"]])) is None
    # The slice leaves the padded and the Persian ids out: its own cells are plain.
    sliced = pa.array([" x", "۱", "a", "b", "y "]).slice(2, 2)
    assert customer_order.plain_ids(sliced) is sliced
    assert customer_order.plain_ids(pa.array([1.0, 2.0])) is None


def test_integer_ids_are_plain_as_their_text():
    # Integer ids are cast to text slice by slice (across chunks), nulls kept, so that
    # they are sorted into customer order as text ids are: 10 before 9.
    column = pa.chunked_array([pa.array([10, None], pa.int64()), pa.array([9, -3], pa.int64())])
    got = customer_order.plain_ids(column)
    assert got.type == pa.string()
    assert got.to_pylist() == ["10", None, "9", "-3"]
    assert customer_order.empty_ids(got).tolist() == [False, True, False, False]
    order = customer_order.sort_by_customer([customer_order.contiguous(got)], np.zeros(4, np.int64))
    assert order is not None and order.ids.to_pylist() == ["-3", "10", "9"]


def test_plain_ids_read_past_bytes_held_by_a_null():
    # Arrow lets a null's slot span bytes; a space there must not count as an edge.
    offsets = pa.array([0, 1, 3, 4], pa.int32())
    values = pa.StringArray.from_buffers(
        3, offsets.buffers()[1], pa.py_buffer(b"a  b"), pa.array([True, False, True]).buffers()[1]
    )
    assert values.to_pylist() == ["a", None, "b"]
    assert customer_order.plain_ids(values) is values


def test_plain_ids_of_many_chunks_on_two_threads(monkeypatch):
    from clvcli import parallel

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    plain = [[f"c{i}-{j}" for j in range(5)] for i in range(40)]
    column = pa.chunked_array(plain)
    assert customer_order.plain_ids(column) is column
    padded = pa.chunked_array([*plain[:30], [" c-x", "c-y "], *plain[30:]])
    assert customer_order.plain_ids(padded).to_pylist()[150:152] == ["c-x", "c-y"]
    assert customer_order.plain_ids(pa.chunked_array([*plain, ["ی"]])) is None


@settings(max_examples=examples(200))
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "bc", " "])), max_size=9),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
    st.integers(0, 3),
)
def test_empty_ids_are_those_of_no_length_or_none(chunks, wide, skip):
    """Chunked or not, sliced, string or large_string, read a slice at a time on
    several threads: what Arrow's lengths say."""
    kind = pa.large_string() if wide else pa.string()
    column = pa.chunked_array([pa.array(chunk, kind) for chunk in chunks], type=kind)
    for ids in (column, column.combine_chunks(), column.combine_chunks().slice(skip)):
        expected = pc.fill_null(pc.equal(pc.binary_length(ids), 0), True)
        assert customer_order.empty_ids(ids).tolist() == expected.to_pylist()


def test_empty_ids_look_past_bytes_held_by_a_null(monkeypatch):
    monkeypatch.setattr(customer_order, "_CHECK_ROWS", 2)
    offsets = pa.array([0, 1, 3, 3, 4], pa.int32())
    valid = pa.array([True, False, True, True]).buffers()[1]
    values = pa.StringArray.from_buffers(4, offsets.buffers()[1], pa.py_buffer(b"a  b"), valid)
    assert values.to_pylist() == ["a", None, "", "b"]
    assert customer_order.empty_ids(values).tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    "day",
    [
        [],
        [5],
        [1, 1, 2, 3, 3, 9],
        [1, 2, 3, 2],  # out of order at the last row
        [1, 2, 3, 4, 5, 4, 6, 7],  # out of order where two slices meet
        [3, 1, 2, 3, 4, 5, 6, 7],  # out of order in the first slice
    ],
)
def test_day_order_is_seen_across_slices(monkeypatch, day):
    monkeypatch.setattr(customer_order, "_CHECK_ROWS", 2)
    days = np.array(day, dtype=np.int64)
    assert customer_order._in_day_order(days) == bool(np.all(days[1:] >= days[:-1]))


_PIECES_OF_IDS = ["", "a", "é", "ی", "0000000", "99999999", "zz"]


@settings(max_examples=examples(200))
@given(
    st.lists(st.lists(st.sampled_from(_PIECES_OF_IDS), max_size=5).map("".join), min_size=1),
    st.booleans(),
    st.integers(0, 3),
    st.integers(0, 10),
    st.data(),
)
def test_numbers_of_rows_are_those_of_the_rows_taken_out(words, wide, skip, start, data):
    """Read in place at any rows (repeated, out of order, at the end of the bytes),
    the numbers are those of the same ids copied out first."""
    kind = pa.large_string() if wide else pa.string()
    ids = pa.array(words, kind).slice(min(start, len(words) - 1))
    rows = np.array(data.draw(st.lists(st.integers(0, len(ids) - 1), max_size=12)), dtype=np.int32)
    taken = ids.take(pa.array(rows, pa.int32()))
    expected = customer_order._eight_bytes_after(taken, skip, slice(0, len(rows)))
    found = customer_order._eight_bytes_of_rows(ids, skip, rows)
    assert found.tolist() == expected.tolist()


def _bounds_reached_one_by_one(ids: pa.Array, bounds: pa.Array) -> list[int]:
    """The definition: for each id, how many bounds it is at or past (a null: none)."""
    values = ids.to_pylist()
    edges = [bound.encode("utf-8") for bound in bounds.to_pylist()]
    return [0 if v is None else sum(v.encode("utf-8") >= edge for edge in edges) for v in values]


_PIECES = ["", "a", "b", "~", "\x00", "é", "ی", "ab", "zz", "0000000", "99999999"]


@settings(
    max_examples=examples(300),
    # The autouse sorter fixture does not change between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.one_of(st.none(), st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from(["", "C0", "customer_", "x" * 9]),
    st.integers(0, 8),
    st.data(),
)
def test_each_id_is_placed_among_the_bounds_as_comparing_with_each_would(
    words, prefix, bound_count, data
):
    """Ids sharing a long prefix, ending before or inside their eight bytes, equal to
    a bound, holding NUL or non-ASCII bytes, or null; bounds found among the ids or
    not; string and large_string arrays, sliced or whole."""
    ids_list = [None if w is None else prefix + w for w in words]
    pool = sorted({w for w in ids_list if w is not None} | {prefix + "a", prefix + "\x00b"})
    bounds = sorted(set(data.draw(st.lists(st.sampled_from(pool), max_size=bound_count))))
    wide = data.draw(st.booleans())
    kind = pa.large_string() if wide else pa.string()
    start = data.draw(st.integers(0, len(ids_list) - 1))
    ids = pa.array(["pad"] * start + ids_list, type=kind).slice(start)
    bound_array = pa.array(bounds, type=kind)
    got = customer_order.bounds_reached(ids, bound_array)
    assert got.tolist() == _bounds_reached_one_by_one(ids, bound_array)


@pytest.mark.parametrize("compare_rows", [1, 3, 1 << 18])
def test_ids_at_the_end_of_the_text_and_shorter_than_eight_bytes(monkeypatch, compare_rows):
    """The last ids' eight bytes would run past the text: they are read from before
    its end and shifted, in every slice of rows."""
    monkeypatch.setattr(customer_order, "_COMPARE_ROWS", compare_rows)
    ids = pa.array(["q", "abcdefghij", "abcdefghi", "b", "ab", "a", "abcdefgh"])
    bounds = pa.array(["a", "abcdefgh", "abcdefghi", "b"])
    got = customer_order.bounds_reached(ids, bounds)
    assert got.tolist() == _bounds_reached_one_by_one(ids, bounds) == [4, 3, 3, 4, 1, 1, 2]


@settings(
    max_examples=examples(200),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.lists(st.sampled_from(["", "a", "b", "~", "\x00", "ab", "zz", "0000000"]), max_size=4)
        .map("".join)
        .filter(bool),
        min_size=1,
        max_size=80,
    ),
    st.sampled_from(["", "C0", "customer_"]),
    st.booleans(),
    st.integers(1, 30),
    st.data(),
)
def test_numpy_and_duckdb_sort_the_same(words, prefix, in_date_order, range_rows, data):
    """Whichever sorts them (numpy for short ids, DuckDB for the rest, or when a NUL
    byte could make two ids' numbers equal), the ids come out in the same order,
    ties in day then file order, in however many ranges."""
    ids = pa.array([prefix + w for w in words])
    _assert_sorted_as_strings(ids, in_date_order, range_rows, data)


def _assert_sorted_as_strings(ids: pa.Array, in_date_order: bool, range_rows: int, data) -> None:
    """sort_by_customer puts the rows in (id as bytes, day, row) order, in ranges of
    ``range_rows``, and numbers the distinct ids in that order."""
    count = len(ids)
    day = np.array(data.draw(st.lists(st.integers(0, 4), min_size=count, max_size=count)))
    if in_date_order:
        day = np.sort(day)
    expected = sorted(range(count), key=lambda row: (ids[row].as_py().encode(), day[row], row))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(customer_order, "RANGE_ROWS", range_rows)
        order = customer_order.sort_by_customer(ids, day)
    assert order is not None
    assert order.rows.tolist() == expected
    assert order.ids.to_pylist() == sorted(set(ids.to_pylist()), key=lambda v: v.encode())
    assert np.asarray(order.ids)[order.codes].tolist() == np.asarray(ids)[order.rows].tolist()


def test_ids_that_differ_past_their_first_eight_bytes_stay_apart():
    """Two ids alike in the eight bytes after the shared prefix are not one id: such
    logs are sorted as strings."""
    ids = pa.array(["x", "abcdefghij2", "abcdefghij1", "x", "abcdefghij2"])
    order = customer_order.sort_by_customer(ids, np.zeros(5, dtype=np.int64))
    assert order is not None
    assert order.ids.to_pylist() == ["abcdefghij1", "abcdefghij2", "x"]
    assert order.rows.tolist() == [2, 1, 4, 0, 3]
    assert order.codes.tolist() == [0, 1, 1, 2, 2]


_DIGITS = st.text(alphabet="0123456789", max_size=16)


@settings(max_examples=examples(300))
@given(st.lists(_DIGITS, min_size=1, max_size=40), st.sampled_from(["", "0", "09", "C", "+98"]))
def test_digit_numbers_are_one_to_one_and_in_the_ids_order(digits, prefix):
    """Digits of any length up to sixteen (none at all, leading zeros, one id the
    start of another) get numbers that compare as the ids do."""
    ids = pa.array([prefix + d for d in digits])
    rows = np.arange(len(ids), dtype=np.int32)
    numbers = customer_order._digits_of_rows(ids, len(prefix), rows).tolist()
    for i, a in enumerate(digits):
        for j, b in enumerate(digits):
            assert (numbers[i] < numbers[j]) == (a.encode() < b.encode())
            assert (numbers[i] == numbers[j]) == (a == b)


@settings(
    max_examples=examples(200),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.text(alphabet="0123456789", min_size=0, max_size=16), min_size=1, max_size=80),
    st.sampled_from(["", "09", "C", "+98"]),
    st.booleans(),
    st.integers(1, 30),
    st.data(),
)
def test_ids_of_up_to_sixteen_digits_sort_as_strings(
    sorter, words, prefix, in_date_order, range_rows, data
):
    """Mobile numbers and other long numeric ids are sorted by numpy too, in the order
    DuckDB would give them, ties in day then file order, in however many ranges."""
    words = [*words, "1234567890123"]  # at least one past eight digits
    ids = pa.array([prefix + w for w in words])
    if sorter == "numbers":
        assert customer_order._numbering(ids, len(prefix)) is customer_order._digits_of_rows
    _assert_sorted_as_strings(ids, in_date_order, range_rows, data)


@pytest.mark.parametrize(
    "ids",
    [
        ["0912123456789", "0912x23456789"],  # a letter past the prefix
        ["09" + "1" * 17, "09" + "2" * 17],  # seventeen digits past it
        ["0912123456789", None],
        ["0912123456789", "0912١٢٣٤٥٦٧٨٩"],  # Persian digits are not ASCII digits
    ],
)
def test_ids_that_are_not_sixteen_ascii_digits_are_not_numbered_as_digits(ids):
    array = pa.array(ids)
    shared = customer_order._shared_prefix_bytes(array)
    assert NUMBERING(array, shared) is None


def test_ids_handed_over_are_let_go_once_sorted(monkeypatch):
    """Handed over in a list, the ids are let go when every range is sorted (the
    joined order needs only the distinct ids); a sort that fails keeps them for the
    hashing that follows."""
    monkeypatch.setattr(customer_order, "RANGE_ROWS", 2)
    ids = pa.array(["b", "a", "c", "a", "b"])
    day = np.zeros(5, dtype=np.int64)
    handed = [ids]
    order = customer_order.sort_by_customer(handed, day)
    assert handed == []
    assert order is not None and order.ids.to_pylist() == ["a", "b", "c"]
    assert order.rows.tolist() == customer_order.sort_by_customer(ids, day).rows.tolist()

    def broken(*args, **kwargs):
        raise duckdb.IOException("no space left on device")

    monkeypatch.setattr(customer_order, "_numbering", lambda *_: None)
    monkeypatch.setattr(duckdb, "connect", broken)
    handed = [ids]
    assert customer_order.sort_by_customer(handed, day) is None
    assert handed == [ids]


@pytest.mark.parametrize("range_rows", [1, 2, 3, 7, 100])
def test_small_ranges_found_several_at_a_look_are_each_ranges_rows(monkeypatch, range_rows):
    """However many ranges one look finds, each comes out whole, in file order, and
    the ranges in id order: the rows as one range at a time would give them."""
    monkeypatch.setattr(customer_order, "RANGE_ROWS", 10)
    ids = pa.array([f"c{(i * 7919) % 53:02d}" for i in range(60)])
    ranges = customer_order._IdRanges.of(ids, None, range_rows)
    one_at_a_time = [ranges.rows(part, np.int32) for part in range(ranges.count)]
    expected = [rows.tolist() for rows in one_at_a_time if len(rows)]
    found = [rows.tolist() for rows in customer_order._id_ranges(ids, np.int32, None, range_rows)]
    assert found == expected
    assert sorted(row for rows in found for row in rows) == list(range(60))
    assert ranges.count > 1 or range_rows >= 60
