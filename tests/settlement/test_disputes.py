from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from posfleet.accounts.models import MerchantUser
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from posfleet.money.ledger import balances
from posfleet.settlement import disputes
from posfleet.settlement.disputes import DisputeInput
from posfleet.settlement.models import BatchState, DisputeState
from posfleet.settlement.services import run_settlement
from tests import builders as b
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def run(day):
    with transaction.atomic():
        return run_settlement(b.actor("finance"), day)


def open_(t, kind="chargeback", amount=None, actor=None):
    with transaction.atomic():
        return disputes.open_dispute(
            actor or b.actor("risk"),
            DisputeInput(transaction=t.pk, kind=kind, reason="cardholder", amount_fen=amount),
        )


def portal_actor(merchant):
    u = b.user(role="agent")
    u.groups.clear()
    MerchantUser.objects.create(user=u, merchant=merchant)
    return Actor.for_user(u, "portal")


class TestOpen:
    def test_open_and_audit(self):
        from posfleet.audit.models import AuditEvent

        m = b.merchant()
        t = tx(m, 10_000, at(days_ago(1)))
        d = open_(t)
        assert d.state == DisputeState.OPEN and d.amount_fen == 10_000 and d.merchant_id == m.pk
        assert AuditEvent.objects.filter(object_type="dispute", action="dispute.open").exists()

    def test_by_switch_id(self):
        m = b.merchant()
        t = tx(m, 10_000, at(days_ago(1)))
        with transaction.atomic():
            d = disputes.open_dispute(
                b.actor("finance"), DisputeInput(t.switch_id, "retrieval_request", "copy")
            )
        assert d.transaction_id == t.pk

    def test_errors(self):
        m = b.merchant()
        t = tx(m, 10_000, at(days_ago(1)))
        with pytest.raises(PermissionDenied):
            open_(t, actor=b.actor("agent"))
        with pytest.raises(ValidationFailed):
            open_(t, amount=10_001)
        with pytest.raises(ValidationFailed):
            open_(t, kind="fraud")
        open_(t)
        with pytest.raises(Conflict):
            open_(t)


class TestHold:
    def test_open_dispute_is_held_from_settlement(self):
        m = b.merchant()
        day = days_ago(3)
        t = tx(m, 100_000, at(day))
        tx(m, 50_000, at(day))
        d = open_(t, amount=30_000)
        [batch] = run(day).created
        assert batch.held_fen == 30_000
        assert batch.payout_fen == batch.net_fen - 30_000
        d.refresh_from_db()
        assert d.held_fen == 30_000 and d.held_batch_id == batch.pk
        run(day + timedelta(days=1))
        assert balances(m.pk).settled_unpaid_fen == 30_000

    def test_hold_never_exceeds_net(self):
        m = b.merchant()
        day = days_ago(3)
        t = tx(m, 100_000, at(day - timedelta(days=1)))
        tx(m, 1_000, at(day))
        open_(t)
        [batch] = run(day).created
        assert batch.held_fen == batch.net_fen and batch.payout_fen == 0

    def test_won_releases_into_payout(self):
        m = b.merchant()
        day = days_ago(3)
        t = tx(m, 100_000, at(day))
        d = open_(t)
        [batch] = run(day).created
        with transaction.atomic():
            disputes.resolve(b.actor("finance"), d.pk, "won", "receipt signed")
        batch.refresh_from_db()
        assert batch.held_fen == 0 and batch.payout_fen == batch.net_fen
        run(day + timedelta(days=1))
        assert balances(m.pk).settled_unpaid_fen == 0

    def test_won_after_payout_pays_released_amount(self):
        m = b.merchant()
        day = days_ago(3)
        t = tx(m, 100_000, at(day))
        d = open_(t)
        run(day)
        run(day + timedelta(days=1))
        assert balances(m.pk).settled_unpaid_fen == 99_400  # held up to the net
        with transaction.atomic():
            disputes.resolve(b.actor("finance"), d.pk, "won", "ok")
        assert balances(m.pk).settled_unpaid_fen == 0

    def test_lost_chargeback_takes_held_money(self):
        m = b.merchant()
        day = days_ago(3)
        t = tx(m, 100_000, at(day))
        tx(m, 100_000, at(day))
        d = open_(t)
        run(day)
        run(day + timedelta(days=1))
        with transaction.atomic():
            disputes.resolve(b.actor("finance"), d.pk, "lost", "no receipt")
        bal = balances(m.pk)
        assert bal.settled_unpaid_fen == 0 and bal.amount_due_fen == 0
        d.refresh_from_db()
        assert d.state == DisputeState.LOST

    def test_lost_chargeback_not_held_debits_amount_due(self):
        m = b.merchant()
        day = days_ago(3)
        t = tx(m, 100_000, at(day))
        run(day)
        run(day + timedelta(days=1))
        d = open_(t, amount=40_000)
        with transaction.atomic():
            disputes.resolve(b.actor("finance"), d.pk, "lost", "no receipt")
        assert balances(m.pk).amount_due_fen == 40_000

    def test_lost_retrieval_request_moves_no_money(self):
        m = b.merchant()
        day = days_ago(3)
        t = tx(m, 100_000, at(day))
        d = open_(t, kind="retrieval_request")
        [batch] = run(day).created
        with transaction.atomic():
            disputes.resolve(b.actor("finance"), d.pk, "lost", "no answer")
        batch.refresh_from_db()
        assert batch.held_fen == 0 and batch.state == BatchState.SETTLED
        assert balances(m.pk).amount_due_fen == 0

    def test_resolve_twice_refused(self):
        m = b.merchant()
        d = open_(tx(m, 100, at(days_ago(1))))
        with transaction.atomic():
            disputes.resolve(b.actor("finance"), d.pk, "won", "ok")
        with pytest.raises(InvalidTransition):
            disputes.resolve(b.actor("finance"), d.pk, "lost", "again")
        with pytest.raises(ValidationFailed):
            disputes.resolve(b.actor("finance"), d.pk, "maybe", "x")


class TestAnswer:
    def test_merchant_answers_with_document(self, settings):
        m = b.merchant()
        d = open_(tx(m, 100, at(days_ago(1))))
        f = SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")
        with transaction.atomic():
            disputes.answer(portal_actor(m), d.pk, "Signed receipt attached", [f])
        d.refresh_from_db()
        assert d.state == DisputeState.ANSWERED
        [doc] = d.documents.all()
        assert doc.content_type == "application/pdf" and len(doc.sha256) == 64
        path = disputes.document_path(doc)
        assert path.read_bytes() == PDF
        assert str(path).startswith(str(settings.VAR_DIR / "files" / "disputes"))

    def test_a_refused_file_refuses_the_whole_answer_before_anything_is_stored(self, settings):
        m = b.merchant()
        d = open_(tx(m, 100, at(days_ago(1))))
        good = SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")
        bad = SimpleUploadedFile("photo.gif", b"GIF89a\x01\x00", content_type="image/gif")
        with pytest.raises(ValidationFailed), transaction.atomic():
            disputes.answer(portal_actor(m), d.pk, "two files", [good, bad])
        d.refresh_from_db()
        assert d.state == DisputeState.OPEN and not d.documents.exists()
        assert not (settings.VAR_DIR / "files" / "disputes" / str(d.pk)).exists()  # no orphan file

    def test_other_merchant_cannot_answer(self):
        m, other = b.merchant(), b.merchant()
        d = open_(tx(m, 100, at(days_ago(1))))
        with pytest.raises(NotFound):
            disputes.answer(portal_actor(other), d.pk, "mine?")

    def test_agent_answers_for_merchant(self):
        m = b.merchant()
        d = open_(tx(m, 100, at(days_ago(1))))
        with transaction.atomic():
            disputes.add_document(b.actor("agent"), d.pk, SimpleUploadedFile("photo.png", PNG))

    def test_content_checked_not_name(self):
        m = b.merchant()
        d = open_(tx(m, 100, at(days_ago(1))))
        with pytest.raises(ValidationFailed):
            disputes.add_document(b.actor("agent"), d.pk, SimpleUploadedFile("evil.pdf", b"MZ\x90\x00exe"))

    def test_size_limited(self, monkeypatch):
        monkeypatch.setattr(disputes, "MAX_DOCUMENT_BYTES", 10)
        m = b.merchant()
        d = open_(tx(m, 100, at(days_ago(1))))
        with pytest.raises(ValidationFailed):
            disputes.add_document(b.actor("agent"), d.pk, SimpleUploadedFile("big.pdf", PDF))


class TestHeldAcrossDays:
    def test_won_releases_every_part(self):
        m = b.merchant()
        day = days_ago(4)
        t = tx(m, 100_000, at(day - timedelta(days=1)))
        tx(m, 30_000, at(day))
        tx(m, 90_000, at(day + timedelta(days=1)))
        d = open_(t)
        [b1] = run(day).created
        [b2] = run(day + timedelta(days=1)).created  # pays b1 (T+1)
        assert b1.held_fen == b1.net_fen and b2.held_fen == 100_000 - b1.net_fen
        with transaction.atomic():
            disputes.resolve(b.actor("finance"), d.pk, "won", "ok")
        b1.refresh_from_db()
        b2.refresh_from_db()
        assert b1.held_fen == 0 and b1.payout_fen == b1.net_fen
        assert b2.held_fen == 0 and b2.payout_fen == b2.net_fen
        run(day + timedelta(days=2))
        assert balances(m.pk).settled_unpaid_fen == 0


class TestAnswerOnTheMerchantsBehalf:
    """Staff may record a merchant's answer only on its behalf, naming the channel; those who resolve
    disputes do not answer them, and whoever recorded the answer may not resolve it."""

    def test_risk_and_finance_cannot_answer_as_the_merchant(self):
        m = b.merchant()
        d = open_(tx(m, 10_000, at(days_ago(1))))
        for role in ("risk", "finance"):
            with pytest.raises(PermissionDenied), transaction.atomic():
                disputes.answer(b.actor(role), d.pk, "receipt attached", channel="phone")
            f = SimpleUploadedFile("r.pdf", PDF, content_type="application/pdf")
            with pytest.raises(PermissionDenied), transaction.atomic():
                disputes.add_document(b.actor(role), d.pk, f)
        d.refresh_from_db()
        assert d.state == DisputeState.OPEN

    def test_an_agent_records_it_with_the_channel_and_it_shows_so(self):
        m = b.merchant()
        d = open_(tx(m, 10_000, at(days_ago(1))))
        agent = b.actor("agent")
        with pytest.raises(ValidationFailed) as info, transaction.atomic():
            disputes.answer(agent, d.pk, "the owner phoned: receipt is signed")
        assert "channel" in info.value.details
        with transaction.atomic():
            disputes.answer(agent, d.pk, "the owner phoned: receipt is signed", channel="phone")
        d.refresh_from_db()
        assert d.answered_on_behalf and d.answer_channel == "phone" and d.answered_by_id == agent.user.pk
        with transaction.atomic():
            disputes.answer(portal_actor(m), d.pk, "and here is my own word", channel="phone")
        d.refresh_from_db()
        assert not d.answered_on_behalf  # the merchant's own answer is not "on its behalf"

    def test_whoever_recorded_the_answer_may_not_resolve(self):
        m = b.merchant()
        d = open_(tx(m, 10_000, at(days_ago(1))))
        both = b.user(role="agent")
        both.groups.add(*b.user(role="risk").groups.all())
        actor = b.actor(u=both)
        with transaction.atomic():
            disputes.answer(actor, d.pk, "recorded from a call", channel="phone")
        with pytest.raises(PermissionDenied) as info, transaction.atomic():
            disputes.resolve(actor, d.pk, "won", "receipt ok")
        assert info.value.code == "separation_of_duties"
        with transaction.atomic():
            disputes.resolve(b.actor("risk"), d.pk, "won", "receipt ok")
        d.refresh_from_db()
        assert d.state == DisputeState.WON
