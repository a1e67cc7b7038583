import pytest
from django.db import connection, transaction

from posfleet.core.errors import PermissionDenied, ValidationFailed
from posfleet.money import ledger
from posfleet.money.ledger import Entry
from posfleet.money.models import Journal, Posting
from tests import builders

pytestmark = pytest.mark.django_db


def fin():
    return builders.actor("finance")


class TestPost:
    def test_balanced_journal_updates_balances(self):
        m = builders.merchant()
        with transaction.atomic():
            j = ledger.post(
                fin(),
                [
                    Entry.debit(None, ledger.SCHEME_CLEARING, 1000),
                    Entry.credit(m.pk, ledger.UNSETTLED, 994),
                    Entry.credit(None, ledger.FEE_INCOME, 6),
                ],
                ref="t1",
            )
        assert sum(Posting.objects.filter(journal=j).values_list("amount_fen", flat=True)) == 0
        assert ledger.balances(m.pk).unsettled_fen == 994

    def test_unbalanced_refused(self):
        m = builders.merchant()
        with pytest.raises(ValidationFailed) as exc, transaction.atomic():
            ledger.post(
                fin(), [Entry.debit(None, ledger.BANK, 5), Entry.credit(m.pk, ledger.UNSETTLED, 4)], ref="x"
            )
        assert "sum to zero" in str(exc.value.details)
        assert not Journal.objects.exists()

    def test_unknown_account_refused(self):
        with pytest.raises(ValidationFailed), transaction.atomic():
            ledger.post(fin(), [Entry.debit(None, "cash", 5), Entry.credit(None, ledger.BANK, 5)], ref="x")


class TestConvenience:
    def test_deposit_charge_apply_refund(self):
        m = builders.merchant()
        a = fin()
        with transaction.atomic():
            ledger.receive_deposit(a, m.pk, 29900, ref="dep")
            ledger.charge(a, m.pk, "early_termination_penalty", 20000, ref="pen")
            ledger.charge(a, m.pk, "damage_charge", 15000, ref="dmg")
            ledger.apply_deposit(a, m.pk, 29900, ref="apply")
        b = ledger.balances(m.pk)
        assert (b.deposit_held_fen, b.amount_due_fen) == (0, 5100)
        with transaction.atomic():
            ledger.record_payment(a, m.pk, 5100, ref="pay")
        assert ledger.balances(m.pk).amount_due_fen == 0

    def test_refund_more_than_held_refused(self):
        m = builders.merchant()
        a = fin()
        with transaction.atomic():
            ledger.receive_deposit(a, m.pk, 100, ref="dep")
        with pytest.raises(ValidationFailed), transaction.atomic():
            ledger.refund_deposit(a, m.pk, 101, ref="r")
        with transaction.atomic():
            ledger.refund_deposit(a, m.pk, 100, ref="r", proof="receipt 7")
        assert ledger.balances(m.pk).deposit_held_fen == 0

    def test_apply_more_than_due_refused(self):
        m = builders.merchant()
        a = fin()
        with transaction.atomic():
            ledger.receive_deposit(a, m.pk, 1000, ref="dep")
            ledger.charge(a, m.pk, "monthly_fee", 300, ref="fee")
        with pytest.raises(ValidationFailed), transaction.atomic():
            ledger.apply_deposit(a, m.pk, 301, ref="a")

    @pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True])
    def test_bad_amount(self, amount):
        m = builders.merchant()
        with pytest.raises(ValidationFailed), transaction.atomic():
            ledger.charge(fin(), m.pk, "monthly_fee", amount, ref="x")

    def test_unknown_kind(self):
        m = builders.merchant()
        with pytest.raises(ValidationFailed), transaction.atomic():
            ledger.charge(fin(), m.pk, "tip", 100, ref="x")

    def test_needs_permission(self):
        m = builders.merchant()
        with pytest.raises(PermissionDenied), transaction.atomic():
            ledger.charge(builders.actor("agent"), m.pk, "monthly_fee", 100, ref="x")

    def test_audited_without_card_numbers(self):
        from posfleet.audit.models import AuditEvent

        m = builders.merchant()
        with transaction.atomic():
            ledger.receive_deposit(fin(), m.pk, 29900, ref="dep")
        event = AuditEvent.objects.filter(action="ledger.deposit_received").get()
        assert event.after["postings"][1] == {
            "merchant_id": m.pk,
            "account": "deposit_held",
            "amount_fen": -29900,
        }
        assert builders.VALID_CARD not in str(event.after)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL storage parameter")
def test_accounts_leave_room_on_their_pages_for_balance_updates():
    """Balance updates stay on their page (no new index entries) only if the page has room."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'money_account'")
        assert "fillfactor=20" in cursor.fetchone()[0]


def test_one_journal_moves_many_balances_each_by_its_own_amount():
    merchants = [builders.merchant() for _ in range(3)]
    entries = [Entry.credit(m.pk, ledger.UNSETTLED, 100 * (i + 1)) for i, m in enumerate(merchants)]
    with transaction.atomic():
        ledger.post(fin(), [*entries, Entry.debit(None, ledger.SCHEME_CLEARING, 600)], ref="many")
        ledger.post(
            fin(),
            [Entry.credit(merchants[0].pk, ledger.UNSETTLED, 1), Entry.debit(None, ledger.BANK, 1)],
            ref="x",
        )
    assert [ledger.balances(m.pk).unsettled_fen for m in merchants] == [101, 200, 300]
