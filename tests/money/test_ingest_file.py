"""The clearing file's path: rows priced ahead (as the reader process does), then checked and written."""

import dataclasses
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from posfleet.money import ingest_write
from posfleet.money.ingest import IngestContext
from posfleet.money.ingest_file import ingest_rows, prepare
from posfleet.money.models import Transaction
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from tests import builders
from tests.money.builders import system

pytestmark = pytest.mark.django_db

HEADER = ["id", "tid", "channel", "type", "amount_fen", "occurred_at"]


def row(sid, tid, amount="1000000", minute=0, channel="credit"):
    return [sid, tid, channel, "sale", amount, f"2026-11-20T10:{minute:02d}:00+08:00"]


def run(rows, *, ahead=True):
    """One chunk as the import runs it: priced in the reader's way (`ask=False`), then ingested."""
    ctx = IngestContext()
    sqlite = connection.vendor == "sqlite"
    ready = prepare(rows, HEADER, ctx, sqlite=sqlite, ask=False) if ahead else None
    with transaction.atomic():
        return ingest_rows(system(), rows, HEADER, ctx, ref="file:test", prepared=ready)


def codes(out):
    return [(index, sid, err["code"]) for index, sid, err in out.errors]


def test_a_bad_row_a_repeat_and_a_conflict_in_one_chunk_are_reported_per_row():
    t = builders.terminal()
    rows = [
        row("K1", t.tid),
        row("K2", t.tid, amount="10.5"),
        row("K1", t.tid),  # the same content again: a duplicate
        row("K1", t.tid, amount="5"),  # the same id, other content
        row("K3", t.tid, minute=1),
    ]
    out = run(rows)
    assert (out.created, out.duplicate) == (2, 1)
    assert codes(out) == [(1, "K2", "invalid_amount"), (3, "K1", "duplicate_conflict")]
    assert sorted(Transaction.objects.values_list("switch_id", flat=True)) == ["K1", "K3"]

    again = run(rows)  # a re-sent chunk: the straight COPY meets a known id and the staging path takes it
    assert (again.created, again.duplicate) == (0, 3)
    assert codes(again) == codes(out)
    assert Transaction.objects.count() == 2


def test_a_known_id_at_the_end_of_a_chunk_stores_the_rest_once():
    t = builders.terminal()
    run([row("L9", t.tid, minute=9)])
    out = run([row(f"L{n}", t.tid, minute=n) for n in range(10)])
    assert (out.created, out.duplicate, out.errors) == (9, 1, [])
    stored = Transaction.objects.filter(tid=t.tid)
    assert stored.count() == 10
    assert len(set(stored.exclude(switch_id="L9").values_list("journal_id", flat=True))) == 1


def test_a_row_that_needs_the_eligibility_rule_is_left_to_ingest_rows_and_flagged():
    t = builders.terminal(TerminalState.DEACTIVATED)
    ok = builders.terminal()
    rows = [row("M1", t.tid), row("M2", ok.tid)]
    ready = prepare(rows, HEADER, IngestContext(), sqlite=connection.vendor == "sqlite", ask=False)
    assert ready[0] is None and ready[1] is not None
    out = run(rows)
    assert (out.created, out.flagged) == (2, 1)
    flagged = Transaction.objects.get(switch_id="M1")
    assert flagged.flagged and flagged.flag_reasons[0]["code"] == "terminal_not_active"


@pytest.mark.parametrize("ahead", [True, False])
def test_both_ways_store_the_same_row(ahead):
    t = builders.terminal()
    run([row("N1", t.tid, channel="wechat")], ahead=ahead)
    tx = Transaction.objects.get(switch_id="N1")
    assert (tx.fee_fen, tx.net_fen, tx.flagged, tx.original_switch_id) == (3800, 1_000_000 - 3800, False, "")


def test_the_line_made_while_parsing_is_the_write_paths_line():
    t = builders.terminal()
    [p] = prepare([row("P1", t.tid)], HEADER, IngestContext(), sqlite=False, ask=False)
    assert p is not None and p.copy_line is not None
    assert ingest_write.copy_line(dataclasses.replace(p, copy_line=None)) == p.copy_line
    [odd] = prepare([row("P\\2", t.tid)], HEADER, IngestContext(), sqlite=False, ask=False)
    assert odd is not None and odd.copy_line is None  # a backslash to escape: the write path does it
    assert ingest_write.copy_line(odd).startswith("P\\\\2\t")


def test_a_bound_with_a_fraction_of_a_second_is_rounded_the_strict_way():
    ctx = IngestContext()
    at = datetime(2026, 11, 20, 2, 0, 0, 500_000, tzinfo=UTC)  # 10:00:00.5 at +08:00
    assert ctx.fixed_text(at, up=True) == "2026-11-20T10:00:01+08:00"  # t >= 10:00:00.5 from 10:00:01
    assert ctx.fixed_text(at, up=False) == "2026-11-20T10:00:00+08:00"  # t <= 10:00:00.5 up to 10:00:00
    assert ctx.fixed_text(at.replace(microsecond=0), up=True) == "2026-11-20T10:00:00+08:00"


def test_the_registration_bound_holds_to_the_second_on_the_fast_path():
    t = builders.terminal()
    registered = datetime(2026, 11, 20, 2, 5, 0, 500_000, tzinfo=UTC)  # 10:05:00.5 at +08:00
    Terminal.objects.filter(pk=t.pk).update(created_at=registered)  # earliest: 10:00:00.5 (5 min skew)
    rows = [row("R0", t.tid, minute=0), row("R1", t.tid, minute=0)]
    rows[1][5] = "2026-11-20T10:00:01+08:00"
    ready = prepare(rows, HEADER, IngestContext(), sqlite=connection.vendor == "sqlite", ask=False)
    assert ready[0] is None and ready[1] is not None  # the early one is left to the full rules
    out = run(rows)
    assert out.created == 1 and codes(out) == [(0, "R0", "before_terminal")]


def test_a_time_with_a_space_for_the_t_is_compared_as_a_time():
    t = builders.terminal()
    rows = [row("S1", t.tid)]
    rows[0][5] = "2026-11-20 10:00:00+08:00"
    [p] = prepare(rows, HEADER, IngestContext(), sqlite=connection.vendor == "sqlite", ask=False)
    assert p is not None and p.occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert run(rows).created == 1
    assert Transaction.objects.get(switch_id="S1").occurred_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
