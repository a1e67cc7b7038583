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


nested_payloads = st.none() | st.dictionaries(
    st.text(max_size=8),
    json_scalars
    | st.lists(json_scalars, max_size=3)
    | st.dictionaries(st.text(max_size=4), json_scalars, max_size=3),
    max_size=4,
)


@given(
    seq=st.integers(min_value=1, max_value=10**12),
    actor_id=st.none() | st.integers(min_value=0, max_value=10**9),
    texts=st.lists(st.text(max_size=12), min_size=9, max_size=9),
    before=nested_payloads,
    after=nested_payloads,
    at=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)),
)
def test_link_one_is_link_of_the_canonical_form(seq, actor_id, texts, before, after, at):
    actor_type, actor_name, role, channel, object_type, object_id, action, reason, request_id = texts
    values = {
        "seq": seq, "occurred_at": at, "actor_type": actor_type, "actor_id": actor_id,
        "actor_name": actor_name, "role": role, "channel": channel, "object_type": object_type,
        "object_id": object_id, "action": action, "before": before, "after": after, "reason": reason,
        "request_id": request_id,
    }  # fmt: skip
    digest = chain.link_one(
        "ef" * 32, seq, chain.stamp(at), actor_type, actor_id, actor_name, role, channel, object_type,
        object_id, action, chain.dump_payload(before), chain.dump_payload(after), reason, request_id,
    )  # fmt: skip
    assert digest == chain.link("ef" * 32, values)


@given(at=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)))
def test_stamp_is_the_strftime_form(at):
    assert chain.stamp(at) == at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_link_one_refuses_what_is_not_a_plain_str_or_int():
    from django.utils.functional import lazy

    lazy_text = lazy(lambda: "x", str)()
    args = ["0" * 64, 1, "2026-11-27T10:00:00.000000Z", "user", 1, "n", "r", "api", "terminal", "B1", "a"]
    assert chain.link_one(*args, "null", "null", lazy_text, "") is None
    args[4] = True  # a bool is an int subclass: json writes it as true, not 1
    assert chain.link_one(*args, "null", "null", "reason", "") is None
