"""Id normalisation under random ids: a variant is one customer, different ids stay two.

A variant of an id is what another export makes of it: invisible marks inserted
anywhere, the decomposed (NFD) form, Arabic yeh, alef maksura and kaf for the
Persian letters, blanks and Unicode spaces at the ends. Ids are drawn already in
normal form, from an alphabet with Latin, accented, Persian and Arabic letters,
digits, punctuation and inner spaces.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from clvcli.io.text import INVISIBLE_MARKS, normalise_id
from tests.fuzz.budget import examples
from tests.fuzz.checks import run

# Characters of ids in normal form: no invisible marks, Persian yeh and kaf only,
# composed letters, teh marbuta beside heh (two letters, never merged).
_ALPHABET = "AaBbZz019-_.@'=+ éèçñüåøÉعلیکمحسنرضاهةئآؤأپچژگ"
_EDGES = " \t\u00a0\u202f\u2009\u2002\u3000\u2028"
_TO_ARABIC = str.maketrans("یک", "يك")


@st.composite
def normal_ids(draw) -> str:
    text = draw(st.text(alphabet=_ALPHABET, min_size=1, max_size=12)).strip()
    return text or "x"


@st.composite
def variants(draw, normal: str) -> str:
    text = normal
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    if draw(st.booleans()):
        arabic = draw(st.sampled_from(["يك", "ىك"]))
        text = text.translate(str.maketrans("یک", arabic))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(INVISIBLE_MARKS)) + text[at:]
    lead = draw(st.text(alphabet=_EDGES, max_size=3))
    trail = draw(st.text(alphabet=_EDGES, max_size=3))
    return lead + text + trail


@settings(max_examples=examples(400))
@given(st.data())
def test_a_variant_of_an_id_is_the_same_id(data):
    normal = data.draw(normal_ids())
    variant = data.draw(variants(normal))
    assert normalise_id(normal) == normal
    assert normalise_id(variant) == normal
    assert unicodedata.is_normalized("NFC", normalise_id(variant))
    assert normalise_id(normalise_id(variant)) == normalise_id(variant)


@settings(max_examples=examples(400))
@given(normal_ids(), normal_ids())
def test_two_different_ids_never_merge(one, other):
    if one != other:
        assert normalise_id(one) != normalise_id(other)


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@settings(max_examples=examples(25))
@given(st.data())
def test_a_log_counts_each_customer_once_whatever_its_spelling(clv, data):
    normal = data.draw(st.lists(normal_ids(), min_size=1, max_size=4, unique=True))
    rows = []
    for n, customer in enumerate(normal):
        for day in range(1, 4):
            spelled = data.draw(variants(customer))
            rows.append(f"{_csv_cell(spelled)},2024-01-0{day},{10 + n}")
    log = "customer_id,date,amount\n" + "\n".join(rows) + "\n"
    result = run(clv, "summary", "-", "--quiet", input=log.encode("utf-8"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()[1:]
    assert len(lines) == len(normal)


@settings(max_examples=examples(300))
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=12))
def test_the_normal_form_of_an_ascii_id_is_the_id_trimmed(text):
    """What the fast path for large logs (customer_order.plain_ids) relies on."""
    import pyarrow as pa

    from clvcli.io import customer_order

    assert normalise_id(text) == text.strip()
    assert customer_order.plain_ids(pa.array([text])).to_pylist() == [text.strip()]
