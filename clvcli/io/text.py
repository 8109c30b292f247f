"""Normalising the text of Persian and Arabic exports.

Iranian exports write digits as Persian (۰-۹) or Arabic-Indic (٠-٩) characters,
separate thousands with ٬ or ، and sprinkle invisible direction marks into cells.
Everything here maps such text to plain ASCII forms before parsing.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

# Zero-width non-joiner/joiner, left-to-right and right-to-left marks, the
# Arabic letter mark, embeddings and isolates, and the byte-order mark.
INVISIBLE_MARKS = (
    "\u200c\u200d\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)

_DIGITS_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, "0123456789" * 2)
_DROP_MARKS = str.maketrans("", "", INVISIBLE_MARKS)
# Arabic letters Persian keyboards replace: yeh and kaf.
_ARABIC_LETTERS = str.maketrans("يكة", "یکه")


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


def header_key(name: str) -> str:
    """A header reduced to the form column detection compares.

    Lower case, Arabic yeh/kaf as Persian, no marks, and spaces, underscores, dots
    and hyphens as single spaces: ``Order_Date`` and ``order date`` meet.
    """
    text = strip_marks(name).translate(_ARABIC_LETTERS).casefold()
    for separator in "_-.:/":
        text = text.replace(separator, " ")
    return " ".join(text.split())
