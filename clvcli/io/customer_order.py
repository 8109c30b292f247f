"""Transactions put in customer order by sorting, on every core.

Every summary needs the rows grouped by customer and day. Hashing ten million ids
with Arrow takes one core about 2.5 s, and ordering the (customer, day) pairs is a
second pass. Sorting the rows by (id, day, row) on every core takes about half that
with DuckDB, and a quarter with numpy where each id fits one 64-bit number past the
prefix all ids share (most ids do: eight bytes, or sixteen digits such as a mobile
number's); the sorted ids give each row's customer code
where the id changes. The row number breaks ties, so same-day amounts are always
added in file order and the same file always gives the same sums.

Only plain ASCII ids come here (their normal form is a trim); ids with Persian
digits or marks are hashed and normalised per distinct value by the reader.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.io.scratch import ScratchFolder
from clvcli.parallel import in_parallel, row_blocks

# Below this many rows, hashing in one thread costs less than cutting and sorting.
SORT_MIN_ROWS = 200_000
# What DuckDB may hold before it spills to disk; CLV_DUCKDB_MEMORY (say 4GB) overrides.
DUCKDB_MEMORY = os.environ.get("CLV_DUCKDB_MEMORY", "1GB")
# Rows sorted at once (see _id_ranges).
RANGE_ROWS = 1_250_000


@dataclass(frozen=True)
class CustomerOrder:
    """Rows sorted by customer id, then day, then position in the file."""

    ids: pa.Array  # distinct ids, sorted by code point
    codes: np.ndarray  # each sorted row's index into ``ids``
    rows: np.ndarray  # each sorted row's position in the input
    starts: np.ndarray  # where each id's sorted rows begin


def plain_ids(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """The ids trimmed, if all are ASCII; else None, for the normalising path.

    Trimming is the whole normal form of an ASCII id (no invisible mark, accent,
    Persian digit or Arabic letter is ASCII: see :func:`clvcli.io.text.normalise_id`),
    so these ids are those the hashing path would give. Integer ids (as warehouses
    export them) are plain ids once written as text, which is done here, a slice at a
    time on every core: sorted, they group their rows by customer as text ids do,
    which the summary needs (hashing them left the rows in file order, and grouping
    those cost more than the cast).
    """
    if pa.types.is_integer(column.type):
        return _as_text(column)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    # Slices of every chunk: a Parquet column comes joined into one.
    pieces = [piece for piece, _ in _slices(column)]
    edges: list[bool | None] = [False] * len(pieces)

    def look(index: int) -> None:
        edges[index] = _ascii_edges(pieces[index])

    in_parallel(look, range(len(pieces)))  # numpy lets go of the GIL: pieces side by side
    if any(edge is None for edge in edges):
        return None
    # Most logs have nothing to trim: then keep the column itself, not a copy of it.
    return pc.utf8_trim_whitespace(column) if any(edges) else column


def _as_text(column: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """Integer ids as text, slice by slice on every core."""
    pieces = [piece for piece, _ in _slices(column)]
    texts: list[pa.Array | None] = [None] * len(pieces)

    def cast(index: int) -> None:
        texts[index] = pieces[index].cast(pa.string())

    in_parallel(cast, range(len(pieces)))
    return pa.chunked_array(texts, type=pa.string())


def _slices(column: pa.Array | pa.ChunkedArray) -> list[tuple[pa.Array, int]]:
    """Slices of at most _CHECK_ROWS ids of every chunk, each with the row it starts
    at in the column, for work spread over the cores."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    pieces: list[tuple[pa.Array, int]] = []
    position = 0
    for chunk in chunks:
        pieces += [
            (chunk.slice(rows.start, rows.stop - rows.start), position + rows.start)
            for rows in row_blocks(len(chunk), _CHECK_ROWS)
        ]
        position += len(chunk)
    return pieces


# Ids checked at a time.
_CHECK_ROWS = 1 << 20
# The ASCII characters Arrow's utf8_trim_whitespace trims.
_TRIMMED = np.zeros(256, dtype=bool)
_TRIMMED[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True


def _string_buffers(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's offsets (one more than its rows, slice and all) and the bytes
    they point into, as numpy views of Arrow's buffers."""
    wide = pa.types.is_large_string(strings.type)
    _, offset_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int64 if wide else np.int32)
    offsets = offsets[strings.offset : strings.offset + len(strings) + 1]
    if data_buffer is None:
        return offsets, np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(data_buffer, dtype=np.uint8)


def _ascii_edges(chunk: pa.Array) -> bool | None:
    """None if a string of ``chunk`` is not ASCII, else whether one starts or ends
    with whitespace. Read off the bytes and offsets: Arrow's kernels would build a
    trimmed copy of every id to find out (a fifth of a second at ten million)."""
    if len(chunk) == 0:
        return False
    offsets, data = _string_buffers(chunk)
    if offsets[-1] == offsets[0]:
        return False
    if data[offsets[0] : offsets[-1]].max() >= 0x80:
        return None
    filled = offsets[1:] > offsets[:-1]
    if chunk.null_count:  # a null's slot may span bytes, which are no id's
        filled &= chunk.is_valid().to_numpy(zero_copy_only=False)
    starts, ends = offsets[:-1][filled], offsets[1:][filled] - 1
    return bool(_TRIMMED[data[starts]].any() or _TRIMMED[data[ends]].any())


def contiguous(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The ids as one array: Arrow takes rows out of one array six times faster than
    out of the many chunks a Parquet file or a CSV is read in (0.12 s against 0.74 s
    for ten million ids), for a copy that costs 0.06 s."""
    return _one_array(ids) if isinstance(ids, pa.ChunkedArray) else ids


def sort_by_customer(
    ids: pa.Array | pa.ChunkedArray | list[pa.Array], day: np.ndarray
) -> CustomerOrder | None:
    """The customer order of rows with non-empty ``ids``; None if DuckDB, which
    sorts ids too long for numpy's numbers, cannot sort.

    The caller falls back to hashing when this returns None, so a missing or failing
    DuckDB costs speed, never an answer. Pass :func:`contiguous` ids, and hold no
    chunked copy meanwhile: the ranges are taken out of them. Ids handed over in a
    one-item list, held nowhere else, are let go once every range is sorted: the
    joined order is then made beside the distinct ids only (at ten million rows of
    e-mail ids, 270 MB less at that moment).
    """
    handed = ids if isinstance(ids, list) else None
    ids = contiguous(handed[0] if handed is not None else ids)
    # 32-bit days and row numbers keep the sorted rows small (and DuckDB's from
    # spilling).
    small = len(ids) < 2**31 and (len(day) == 0 or -(2**31) < day.min() <= day.max() < 2**31)
    width = np.int32 if small else np.int64
    # Most logs are in date order: then a customer's rows in file order are in day
    # order too, and (id, row) is the order of (id, day, row) with a sixth less
    # sorting and no day column to gather.
    days = None if _in_day_order(day) else day.astype(width)
    shared = _shared_prefix_bytes(ids)
    numbering = _numbering(ids, shared)
    if numbering is not None:
        parts = _sorted_by_numbers(ids, shared, days, width, numbering)
        del ids
        _let_go(handed)
        return _joined(parts)
    try:
        import duckdb
    except ImportError:
        return None
    sorted_parts = []
    try:
        with ScratchFolder("sort") as spill:
            connection = duckdb.connect()
            try:
                connection.execute("SET enable_progress_bar = false")
                connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
                connection.execute(f"SET temp_directory = '{_sql_text(spill)}'")
                for rows in _id_ranges(ids, width, shared, _duckdb_range_rows()):
                    if days is None:
                        part = pa.table({"c": ids.take(rows), "i": rows})
                        relation = connection.from_arrow(part).order("c, i")
                    else:
                        part = pa.table({"c": ids.take(rows), "d": days[rows], "i": rows})
                        relation = connection.from_arrow(part).order("c, d, i").select("c, i")
                    del part
                    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
                    sorted_parts.append(_grouped(fetch()))
                    del relation
            finally:
                connection.close()
    except duckdb.Error:
        return None
    del ids
    _let_go(handed)
    return _joined(sorted_parts)


def _duckdb_range_rows() -> int:
    """Rows DuckDB sorts at a time: a third of numpy's ranges. A range of long ids
    (e-mails) takes DuckDB about 160 bytes a row above everything else the run
    holds: 1.25 million rows at a time put the peak of a 10M-row log of e-mail ids
    at 1.2 GiB, a third of that at 0.95 GiB, in the same time."""
    return max(RANGE_ROWS // 3, 1)


def _let_go(handed: list[pa.Array] | None) -> None:
    """Empty the list the ids were handed over in, so that nothing holds them."""
    if handed is not None:
        handed.clear()


def _in_day_order(day: np.ndarray) -> bool:
    """Whether no day comes before the day above it. Looked at a slice at a time: no
    temporary as long as the log, and the first slice out of order ends the look."""
    for rows in row_blocks(max(len(day) - 1, 0), _CHECK_ROWS):
        if not np.all(day[rows.start + 1 : rows.stop + 1] >= day[rows]):
            return False
    return True


def empty_ids(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where an id is empty or missing, read off the offsets a slice at a time on
    every core. Arrow's kernels would first make the length of every id, 40 MB of
    fresh memory at ten million rows."""
    empty = np.empty(len(ids), dtype=bool)

    def look(piece: tuple[pa.Array, int]) -> None:
        strings, at = piece
        offsets, _ = _string_buffers(strings)
        found = empty[at : at + len(strings)]
        np.equal(offsets[1:], offsets[:-1], out=found)
        if strings.null_count:  # a null's slot may span bytes all the same
            found |= ~strings.is_valid().to_numpy(zero_copy_only=False)

    in_parallel(look, _slices(ids))  # numpy lets go of the GIL: pieces side by side
    return empty


# How a range's ids become numbers that sort as they do: (ids, shared, rows) -> uint64.
Numbering = Callable[[pa.Array, int, np.ndarray], np.ndarray]


def _numbering(ids: pa.Array, shared: int) -> Numbering | None:
    """How numpy can sort the ids, or None when only DuckDB's string sort can.

    Ids of at most eight bytes past the shared prefix, none of them NUL, are their
    next eight bytes as one number (:func:`_eight_bytes_of_rows`): equal where the
    ids are, and ordered as they are. Ids of at most sixteen ASCII digits past it
    (mobile numbers, national ids) are those digits as one number
    (:func:`_digits_of_rows`), one to one and in order too.
    """
    if len(ids) == 0 or ids.null_count:
        return None
    offsets, data = _string_buffers(ids)
    past_prefix = _longest(offsets) - shared
    text = data[offsets[0] : offsets[-1]]
    if past_prefix <= 8 and (len(text) == 0 or text.min() > 0):
        return _eight_bytes_of_rows
    if past_prefix <= _MOST_DIGITS:
        # Every id starts with the prefix: what is not a digit must all be in prefixes.
        in_prefixes = int(np.count_nonzero(_NOT_DIGIT[text[:shared]]))
        if _count_in_slices(text, _NOT_DIGIT) == in_prefixes * len(ids):
            return _digits_of_rows
    return None


def _longest(offsets: np.ndarray) -> int:
    """The longest string's length, from its offsets, a slice at a time on every core."""
    found = [0]

    def look(rows: slice) -> None:
        lengths = offsets[rows.start + 1 : rows.stop + 1] - offsets[rows]
        found.append(int(lengths.max()))

    in_parallel(look, row_blocks(len(offsets) - 1, _CHECK_ROWS))
    return max(found)


def _count_in_slices(text: np.ndarray, marked: np.ndarray) -> int:
    """How many bytes of ``text`` the 256-entry table ``marked`` marks, a slice at a
    time on every core (one mask as long as the text would be 100 MB at 10M ids)."""
    counts = [0]

    def count(rows: slice) -> None:
        counts.append(int(np.count_nonzero(marked[text[rows]])))

    in_parallel(count, row_blocks(len(text), _CHECK_ROWS))
    return sum(counts)


_NOT_DIGIT = np.ones(256, dtype=bool)
_NOT_DIGIT[ord("0") : ord("9") + 1] = False


def _sorted_by_numbers(
    ids: pa.Array, shared: int, days: np.ndarray | None, width: type, numbering: Numbering
) -> list[tuple[pa.Array, np.ndarray, np.ndarray]]:
    """Ids that ``numbering`` turns into numbers put in order by numpy: each range of
    ids sorted by its numbers, ranges side by side on every core (numpy's sort lets
    go of the GIL).

    A stable sort of one 64-bit number a row takes ten million rows about 0.7 s on
    two cores, where DuckDB sorting the strings takes 1.3-1.8 s; ids no one number
    tells apart keep DuckDB's sort, as two numbers a row are no faster than it.
    """
    ranges = _IdRanges.of(ids, shared)
    parts: list[tuple[pa.Array, np.ndarray, np.ndarray] | None] = [None] * ranges.count

    def sort_range(part: int) -> None:
        rows = ranges.rows(part, width)  # made here, not every range's beforehand
        if len(rows):
            parts[part] = _range_sorted_by_numbers(ids, shared, rows, days, numbering)

    in_parallel(sort_range, range(ranges.count))
    return [part for part in parts if part is not None]


def _range_sorted_by_numbers(
    ids: pa.Array,
    shared: int,
    rows: np.ndarray,
    days: np.ndarray | None,
    numbering: Numbering,
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """A range's distinct ids, where each starts, and its rows in (id, day, row)
    order, as :func:`_grouped` gives them from DuckDB's sort. The numbers are read
    straight out of the ids' bytes: only the distinct ids are copied."""
    numbers = numbering(ids, shared, rows)
    if days is None:
        order = np.argsort(numbers, kind="stable")
    else:
        order = np.lexsort((days[rows], numbers))
    numbers = numbers[order]
    changes = np.ones(len(numbers), dtype=bool)
    np.not_equal(numbers[1:], numbers[:-1], out=changes[1:])
    starts = np.flatnonzero(changes)
    ordered = rows[order]
    distinct = ids.take(pa.array(ordered[starts]))
    return _one_array(pa.chunked_array([distinct])), starts, ordered


def _id_ranges(
    ids: pa.Array, width: type, shared: int | None = None, range_rows: int | None = None
) -> Iterator[np.ndarray]:
    """Row numbers of the ids in each of consecutive id ranges of about ``range_rows``
    rows (RANGE_ROWS by default), lowest range first.

    DuckDB's sort holds about 70 bytes a row: ten million rows sorted at once would
    add 700 MB to the peak. Sorted range by range, the rows' ranges already in id
    order, the sort holds one range and the whole order is the ranges end to end.
    """
    ranges = _IdRanges.of(ids, shared, range_rows)
    # One look over every row's range finds the rows of as many ranges as make up
    # RANGE_ROWS rows: small ranges cost no more looks than large ones.
    per_look = max(RANGE_ROWS // (range_rows or RANGE_ROWS), 1)
    for first in range(0, ranges.count, per_look):
        for rows in ranges.rows_of(first, min(first + per_look, ranges.count), width):
            if len(rows):
                yield rows


@dataclass(frozen=True)
class _IdRanges:
    """Consecutive ranges of ids, about RANGE_ROWS rows each: which range each row is
    in, and the rows of a range when asked (so that all of them are never held)."""

    count: int
    rows_total: int
    of_row: np.ndarray | None  # each row's range (int16); None: one range

    @classmethod
    def of(
        cls, ids: pa.Array, shared: int | None = None, range_rows: int | None = None
    ) -> _IdRanges:
        """The bounds are ids of an even sample of the rows, so ranges come out about
        equal, of ``range_rows`` rows (RANGE_ROWS by default)."""
        parts = -(-len(ids) // (range_rows or RANGE_ROWS))
        if parts <= 1:
            return cls(1, len(ids), None)
        step = max(len(ids) // (parts * 64), 1)
        picked = ids.take(pa.array(np.arange(0, len(ids), step)))
        ordered = picked.take(pc.sort_indices(picked))
        at = pa.array([len(ordered) * k // parts for k in range(1, parts)])
        bounds = pc.unique(ordered.take(at))
        return cls(len(bounds) + 1, len(ids), bounds_reached(ids, bounds, shared))

    def rows(self, part: int, width: type) -> np.ndarray:
        """The rows of range ``part``, in file order."""
        if self.of_row is None:
            return np.arange(self.rows_total, dtype=width)
        return np.flatnonzero(self.of_row == part).astype(width)

    def rows_of(self, first: int, stop: int, width: type) -> list[np.ndarray]:
        """The rows of ranges ``first`` to ``stop`` (excluded), each in file order,
        found in one look over every row's range."""
        if self.of_row is None or stop - first == 1:
            return [self.rows(first, width)]
        inside = self.of_row >= first
        inside &= self.of_row < stop
        taken = np.flatnonzero(inside)
        del inside
        parts = self.of_row[taken]
        order = np.argsort(parts, kind="stable")  # file order within each range
        counts = np.bincount(parts - first, minlength=stop - first)
        return np.split(taken[order].astype(width), np.cumsum(counts)[:-1])


def bounds_reached(ids: pa.Array, bounds: pa.Array, shared: int | None = None) -> np.ndarray:
    """How many of the sorted, distinct ``bounds`` each id is at or past (int16; a
    null id, none).

    Each id is placed among the bounds by binary search on a number: the eight bytes
    that follow the prefix every id shares, read big-endian, zero past the id's end.
    Where an id's number and a bound's differ, they order the two strings the same
    way; only ids whose number equals a bound's are compared with it as strings. So
    the ids are gone through once however many bounds there are: comparing each id
    with every bound took eighty passes over a hundred million ids.
    """
    if shared is None:  # the ids' own, when the bounds are some of the ids
        shared = _shared_prefix_bytes(ids, bounds)
    bound_keys = _eight_bytes_after(bounds, shared, slice(0, len(bounds)))
    reached = np.empty(len(ids), dtype=np.int16)
    tied: list[np.ndarray] = []

    def place(rows: slice) -> None:
        keys = _eight_bytes_after(ids, shared, rows)
        low = np.searchsorted(bound_keys, keys, side="left")
        reached[rows] = low
        ties = np.flatnonzero(low != np.searchsorted(bound_keys, keys, side="right"))
        if len(ties):
            tied.append(ties + rows.start)

    # numpy lets go of the GIL: slices of the ids on every core.
    in_parallel(place, row_blocks(len(ids), _COMPARE_ROWS))
    if tied:
        rows = np.concatenate(tied)
        tied_ids = ids.take(pa.array(rows))
        keys = _eight_bytes_after(tied_ids, shared, slice(0, len(rows)))
        counts = reached[rows]
        for index, key in enumerate(bound_keys):
            same = keys == key
            if same.any():
                at_or_past = pc.greater_equal(tied_ids, bounds[index])
                counts += same & pc.fill_null(at_or_past, False).to_numpy(zero_copy_only=False)
        reached[rows] = counts
    if ids.null_count:
        reached[~ids.is_valid().to_numpy(zero_copy_only=False)] = 0
    return reached


def _shared_prefix_bytes(*arrays: pa.Array) -> int:
    """How many leading bytes all the strings of ``arrays`` share: those of the lowest
    and highest (byte order is code point order, and every string between shares them)."""
    extremes: list[str] = []

    def look(piece: pa.Array) -> None:
        found = pc.min_max(piece)
        extremes.extend(v for v in (found["min"].as_py(), found["max"].as_py()) if v is not None)

    pieces = [
        array.slice(rows.start, rows.stop - rows.start)
        for array in arrays
        for rows in row_blocks(len(array), _COMPARE_ROWS)
    ]
    in_parallel(look, pieces)  # Arrow lets go of the GIL: slices on every core
    if not extremes:
        return 0
    low, high = min(extremes).encode("utf-8"), max(extremes).encode("utf-8")
    differ = (i for i, (a, b) in enumerate(zip(low, high, strict=False)) if a != b)
    return next(differ, min(len(low), len(high)))


def _eight_bytes_after(strings: pa.Array, skip: int, rows: slice) -> np.ndarray:
    """The eight bytes of each string of ``rows`` after its first ``skip``, as
    big-endian uint64 numbers, zero where the string ends sooner."""
    if rows.stop <= rows.start:
        return np.zeros(0, dtype=np.uint64)
    offsets, data = _string_buffers(strings)
    return _eight_bytes_at(
        data, offsets[rows.start : rows.stop] + skip, offsets[rows.start + 1 : rows.stop + 1]
    )


def _eight_bytes_of_rows(strings: pa.Array, skip: int, rows: np.ndarray) -> np.ndarray:
    """:func:`_eight_bytes_after` of the strings at the positions ``rows``."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets, data = _string_buffers(strings)
    return _eight_bytes_at(data, offsets[rows] + skip, offsets[rows + 1])


def _digits_of_rows(strings: pa.Array, skip: int, rows: np.ndarray) -> np.ndarray:
    """The digits after the first ``skip`` bytes of the strings at ``rows`` (at most
    sixteen, see :func:`_numbering`) as one number each: digit d counts as
    d + 1 and a digit past the string's end as 0, in base 11. Strings that differ get
    different numbers, ordered as the strings are (a string before its extensions).

    Eight digits at a time, by arithmetic on the bytes within a 64-bit word, so that
    a row costs a dozen whole-array steps however long its id.
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets, data = _string_buffers(strings)
    starts, ends = offsets[rows] + skip, offsets[rows + 1]
    high = _base_eleven(_eight_bytes_at(data, starts, ends), ends - starts)
    low = _base_eleven(_eight_bytes_at(data, starts + 8, ends), ends - starts - 8)
    high *= np.uint64(11**8)
    high += low
    return high


def _base_eleven(word: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Words of up to eight ASCII digits (big-endian, zero bytes past the end) as base-11
    numbers of eight places, digit d counting d + 1 and a missing one 0."""
    kept = _KEPT_BITS[np.clip(lengths, 0, 8)]
    word -= kept & np.uint64(0x2F2F2F2F2F2F2F2F)  # '0'..'9' to 1..10, byte by byte
    # Neighbouring places merge, two, four, then eight at a time.
    for width, lanes, scale in _BASE_ELEVEN_STEPS:
        high = word >> np.uint64(width)
        high &= lanes
        word &= lanes
        high *= scale
        word += high
    return word


_BASE_ELEVEN_STEPS = [
    (8, np.uint64(0x00FF00FF00FF00FF), np.uint64(11)),
    (16, np.uint64(0x0000FFFF0000FFFF), np.uint64(11**2)),
    (32, np.uint64(0x00000000FFFFFFFF), np.uint64(11**4)),
]
# The most digits past the shared prefix that _digits_of_rows numbers (11**16 < 2**63).
_MOST_DIGITS = 16


def _eight_bytes_at(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The bytes from each start (up to eight, and not past its end) as big-endian
    uint64 numbers, zero past the end."""
    lengths = ends - starts
    np.clip(lengths, 0, 8, out=lengths)
    if len(data) < 8:
        data = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
    # A big-endian number starting at every byte of the data.
    numbers = np.ndarray((len(data) - 7,), dtype=">u8", buffer=data, strides=(1,))
    last = len(data) - 8
    keys = numbers[np.minimum(starts, last)].astype(np.uint64)
    # The last strings' eight bytes run past the data: they were read from eight bytes
    # before its end, and are shifted left past the bytes before their start.
    late = np.flatnonzero(starts > last)
    if len(late):
        shift = np.minimum((starts[late] - last) * 8, 56).astype(np.uint64)
        keys[late] <<= shift
    return keys & _KEPT_BITS[lengths]


# For a string of n (0 to 8) bytes, the bits of its eight-byte number that are its own.
_KEPT_BITS = np.array(
    [0] + [((1 << (8 * n)) - 1) << (8 * (8 - n)) for n in range(1, 9)], dtype=np.uint64
)
# Ids placed among the bounds at a time: small enough that the slices spread over the
# cores and their temporaries stay small.
_COMPARE_ROWS = 1 << 18


def _grouped(result: pa.Table) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """A sorted range's distinct ids, where each starts, and its rows in order."""
    rows = result.column("i").to_numpy()
    sorted_ids = result.column("c")
    del result
    starts = np.flatnonzero(changes(sorted_ids))
    distinct = _one_array(sorted_ids.take(pa.array(starts)))
    return distinct, starts, rows


def _joined(parts: list[tuple[pa.Array, np.ndarray, np.ndarray]]) -> CustomerOrder:
    """The ranges end to end: no id is in two ranges, so every range starts a new id."""
    rows = np.concatenate([part[2] for part in parts]) if parts else np.zeros(0, np.int64)
    offsets = np.cumsum([0] + [len(part[2]) for part in parts])[:-1]
    starts = np.concatenate(
        [part[1] + offset for part, offset in zip(parts, offsets, strict=True)]
        or [np.zeros(0, np.int64)]
    )
    codes = np.zeros(len(rows), dtype=np.int64)
    codes[starts[1:]] = 1
    np.cumsum(codes, out=codes)
    ids = [part[0] for part in parts]
    if len({part.type for part in ids}) > 1:  # a range past 2 GB of text is large_string
        ids = [part.cast(pa.large_string()) for part in ids]
    joined = pa.chunked_array(ids, type=ids[0].type if ids else pa.string())
    return CustomerOrder(_one_array(joined), codes, rows, starts)


def changes(values: pa.ChunkedArray) -> np.ndarray:
    """Where each value differs from the one before (the first is a change).

    Compared chunk by chunk: joining the chunks first would copy every id once more.
    """
    changes = np.empty(len(values), dtype=bool)
    position = 0
    last = None
    for chunk in values.chunks:
        n = len(chunk)
        if n == 0:
            continue
        changes[position] = last is None or pc.not_equal(chunk[0], last).as_py()
        if n > 1:
            changes[position + 1 : position + n] = pc.not_equal(
                chunk.slice(1), chunk.slice(0, n - 1)
            ).to_numpy(zero_copy_only=False)
        last = chunk[n - 1]
        position += n
    return changes


def _one_array(values: pa.ChunkedArray) -> pa.Array:
    """Ids as one string array (64-bit offsets past 2 GB of text)."""
    if sum(chunk.nbytes for chunk in values.chunks) >= 2**31 - 1:
        return values.cast(pa.large_string()).combine_chunks()
    return values.cast(pa.string()).combine_chunks()


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
