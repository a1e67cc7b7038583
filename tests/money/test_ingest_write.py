"""The write path: the same rows stored the same way on either database, twice in one transaction too."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.money.ingest import ingest
from posfleet.money.models import Transaction
from posfleet.registry.choices import TerminalState
from tests import builders
from tests.money.builders import item

pytestmark = pytest.mark.django_db


def fin():
    return builders.actor("finance")


def test_two_chunks_in_one_transaction_each_store_only_their_own_rows():
    t = builders.terminal()
    with transaction.atomic():
        first = ingest(fin(), [item(t.tid), item(t.tid)])
        second = ingest(fin(), [item(t.tid)])
    assert [r.status for r in first + second] == ["created"] * 3
    assert Transaction.objects.filter(tid=t.tid).count() == 3
    journals = Transaction.objects.filter(tid=t.tid).values_list("journal_id", flat=True)
    assert len(set(journals)) == 2


def test_odd_switch_ids_and_flag_reasons_round_trip():
    """COPY's text format escapes tabs, backslashes and newlines; the reasons are stored as JSON."""
    t = builders.terminal(TerminalState.DEACTIVATED)
    at = timezone.now() - timedelta(hours=1)
    odd = ["A\tB", "C\\D", "E\nF", "引号'\""]
    with transaction.atomic():
        results = ingest(fin(), [item(t.tid, switch_id=s, occurred_at=at) for s in odd])
    assert [r.status for r in results] == ["created"] * 4
    stored = {tx.switch_id: tx for tx in Transaction.objects.filter(tid=t.tid)}
    assert sorted(stored) == sorted(odd)
    tx = stored["C\\D"]
    assert tx.flagged and tx.flag_reasons[0]["code"] == "terminal_not_active"
    assert tx.occurred_at == at
    assert tx.business_date == timezone.localtime(at).date()


def test_a_known_id_is_not_stored_twice_and_is_reported():
    t = builders.terminal()
    first = item(t.tid)
    with transaction.atomic():
        ingest(fin(), [first])
    with transaction.atomic():
        [again, conflict, fresh] = ingest(
            fin(), [first, item(t.tid, switch_id=first["id"], amount_fen=5), item(t.tid)]
        )
    assert (again.status, conflict.error["code"], fresh.status) == (
        "duplicate",
        "duplicate_conflict",
        "created",
    )
    assert Transaction.objects.filter(tid=t.tid).count() == 2
