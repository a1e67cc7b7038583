"""The bulk template hashes exactly what `canonical()` hashes, whatever the values hold."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from posfleet.audit import chain

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
payloads = st.none() | st.dictionaries(st.text(max_size=8), json_scalars, max_size=4)


def _shared(**overrides):
    values = {
        "occurred_at": datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC),
        "actor_type": "user",
        "actor_id": 7,
        "actor_name": "risk",
        "role": "risk",
        "channel": "console",
        "object_type": "terminal",
        "action": "hold.place",
        "before": None,
        "after": {"kind": "maintenance", "bulk": True},
        "reason": "维护",
        "request_id": "r-1",
    }
    return values | overrides


@given(
    seq=st.integers(min_value=1, max_value=10**12),
    object_id=st.text(max_size=20),
    reason=st.text(max_size=20),
    after=payloads,
    actor_name=st.text(max_size=10),
)
def test_template_body_is_the_canonical_form(seq, object_id, reason, after, actor_name):
    shared = _shared(reason=reason, after=after, actor_name=actor_name)
    template = chain.Template(shared)
    assert template.body(seq, object_id) == chain.canonical(shared | {"seq": seq, "object_id": object_id})


def test_template_link_matches_link():
    shared = _shared()
    template = chain.Template(shared)
    prev = "ab" * 32
    for seq, object_id in ((1, "B0000001"), (99, "12345678"), (100, 'quote"d'), (7, "终端")):
        assert template.link(prev, seq, object_id) == chain.link(
            prev, shared | {"seq": seq, "object_id": object_id}
        )


def test_a_stamped_time_hashes_like_the_datetime():
    values = _shared() | {"seq": 1, "object_id": "B0000001"}
    stamped = values | {"occurred_at": chain.stamp(values["occurred_at"])}
    assert chain.canonical(stamped) == chain.canonical(values)


def test_values_holding_the_marker_are_refused():
    import pytest

    with pytest.raises(chain.NotTemplatable):
        chain.Template(_shared(reason=chain._SENTINEL))


@given(
    first_seq=st.integers(min_value=1, max_value=10**9), object_ids=st.lists(st.text(max_size=10), max_size=6)
)
def test_template_chain_is_link_in_a_loop(first_seq, object_ids):
    template = chain.Template(_shared())
    prev, expected = "cd" * 32, []
    for seq, object_id in enumerate(object_ids, first_seq):
        prev = template.link(prev, seq, object_id)
        expected.append(prev)
    assert template.chain("cd" * 32, first_seq, object_ids) == expected
