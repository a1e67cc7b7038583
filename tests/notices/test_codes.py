from hypothesis import given
from hypothesis import strategies as st

from posfleet.notices import codes


@given(st.text(alphabet=codes.ALPHABET, min_size=12, max_size=12), st.sampled_from(["", "-", " ", " - "]))
def test_typing_variants_hash_the_same(raw, sep):
    grouped = sep.join(raw[i : i + 4] for i in range(0, 12, 4))
    assert codes.code_hash(grouped.lower()) == codes.code_hash(raw)
    assert codes.well_formed(grouped)


@given(st.text(max_size=40))
def test_normalize_never_fails_and_ambiguous_letters_are_not_well_formed(text):
    codes.normalize(text)
    if any(ch in codes.normalize(text) for ch in "01OIL"):
        assert not codes.well_formed(text)
