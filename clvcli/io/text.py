"""Normalising the text of Persian and Arabic exports.

Iranian exports write digits as Persian (۰-۹) or Arabic-Indic (٠-٩) characters,
separate thousands with ٬ or ، and sprinkle invisible direction marks into cells.
Everything here maps such text to plain ASCII forms before parsing.

Customer ids and channel labels are compared as people read them, so
:func:`normalise_ids` also makes one of the spellings that look the same: Arabic
yeh, alef maksura and kaf as the Persian yeh and kaf keyboards in Iran type, and
composed and decomposed accents as one (NFC, the form output ids take).
"""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

# Zero-width non-joiner/joiner, left-to-right and right-to-left marks, the
# Arabic letter mark, embeddings and isolates, the byte-order mark, and the
# zero-width space, soft hyphen and word joiner that copying from web pages and
# word processors leaves in cells.
INVISIBLE_MARKS = (
    "\u200c\u200d\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
    "\u200b\u00ad\u2060"
)

_DIGITS_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, "0123456789" * 2)
_DROP_MARKS = str.maketrans("", "", INVISIBLE_MARKS)
# Arabic letters Persian keyboards replace: yeh and kaf.
_ARABIC_LETTERS = str.maketrans("يكة", "یکه")
# The Arabic letters an id may hold where a Persian keyboard types another: yeh
# (U+064A), alef maksura (U+0649, the dotless final yeh Arabic keyboards give) and
# kaf (U+0643) as Persian yeh (U+06CC) and kaf (U+06A9). Teh marbuta is not heh
# here: in a name the two are different letters.
ARABIC_ID_LETTERS = "يىك"
PERSIAN_ID_LETTERS = "ییک"
_ID_LETTERS = str.maketrans(ARABIC_ID_LETTERS, PERSIAN_ID_LETTERS)
# Marks dropped and digits made ASCII in one pass (digits never compose in NFC).
_MARKS_AND_DIGITS = str.maketrans(
    PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, "0123456789" * 2, INVISIBLE_MARKS
)


def to_ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as ASCII digits."""
    return text.translate(_DIGITS_TO_ASCII)


def strip_marks(text: str) -> str:
    """Text without invisible direction marks and BOMs."""
    return text.translate(_DROP_MARKS)


def normalise_cells(values: pa.Array) -> pa.Array:
    """ASCII digits, no invisible marks, no surrounding spaces, for each cell.

    Meant for the distinct values of a column. All-ASCII cells (most of any export)
    go through pyarrow kernels; only the others are translated one by one.
    """
    values = values.cast(pa.string())
    is_ascii = pc.fill_null(pc.string_is_ascii(values), True)
    if not pc.all(is_ascii).as_py():
        others = pc.invert(is_ascii)
        translated = [
            None if cell is None else to_ascii_digits(strip_marks(cell))
            for cell in pc.filter(values, others).to_pylist()
        ]
        values = pc.replace_with_mask(values, others, pa.array(translated, type=pa.string()))
    return pc.utf8_trim_whitespace(values)


def normalise_id(text: str) -> str:
    """One id in normal form: no invisible marks, NFC, ASCII digits, Persian yeh
    and kaf, no blanks at the ends.

    NFC comes before the letters: the decomposed Arabic yeh with hamza above
    (U+064A U+0654) composes to U+0626 as the precomposed one is, where making it
    Persian yeh first would leave a pair NFC cannot compose.
    """
    text = unicodedata.normalize("NFC", text.translate(_MARKS_AND_DIGITS))
    return text.translate(_ID_LETTERS).strip()


def normalise_ids(values: pa.Array) -> pa.Array:
    """Customer ids (or channel labels) in normal form, see :func:`normalise_id`.

    Meant for the distinct values of a column: all-ASCII cells (most of any export)
    are only trimmed, in a pyarrow kernel; the others are normalised one by one.
    """
    values = values.cast(pa.string())
    is_ascii = pc.fill_null(pc.string_is_ascii(values), True)
    if not pc.all(is_ascii).as_py():
        others = pc.invert(is_ascii)
        normal = [
            None if cell is None else normalise_id(cell)
            for cell in pc.filter(values, others).to_pylist()
        ]
        values = pc.replace_with_mask(values, others, pa.array(normal, type=pa.string()))
    return pc.utf8_trim_whitespace(values)


def normalise_id_column(column: pa.Array) -> pa.Array:
    """Every cell of a column of ids or labels in normal form, normalising each
    distinct value once (a channel column repeats a few labels over all rows)."""
    column = column.cast(pa.string())
    if pc.all(pc.fill_null(pc.string_is_ascii(column), True)).as_py():
        return pc.utf8_trim_whitespace(column)
    encoded = pc.dictionary_encode(column)
    return normalise_ids(encoded.dictionary).take(encoded.indices)


def header_key(name: str) -> str:
    """A header reduced to the form column detection compares.

    Lower case, Arabic yeh/kaf as Persian, no marks, and spaces, underscores, dots
    and hyphens as single spaces: ``Order_Date`` and ``order date`` meet.
    """
    text = strip_marks(name).translate(_ARABIC_LETTERS).casefold()
    for separator in "_-.:/":
        text = text.replace(separator, " ")
    return " ".join(text.split())
