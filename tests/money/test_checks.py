"""`posfleet ledger_check`, and the ledger's invariants after random operation sequences (hypothesis)."""

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import given, settings
from hypothesis import strategies as st

from posfleet.core.errors import ValidationFailed
from posfleet.money import checks, ledger
from posfleet.money.fees import signed_fee_and_net
from posfleet.money.ingest import ingest
from posfleet.money.ledger import Entry
from posfleet.money.models import Account, Journal, Posting
from tests import builders
from tests.money.builders import item

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)


def fin():
    return builders.actor("finance")


class TestLedgerCheck:
    def test_ok(self, capsys):
        t = builders.terminal()
        with transaction.atomic():
            ingest(fin(), [item(t.tid), item(t.tid, type="refund", amount_fen=500)])
            ledger.receive_deposit(fin(), t.merchant_id, 29900, ref="dep")
        call_command("ledger_check")
        assert "ledger check OK" in capsys.readouterr().out

    def test_unbalanced_posting_inserted_by_sql_fails(self):
        t = builders.terminal()
        with transaction.atomic():
            j = ledger.receive_deposit(fin(), t.merchant_id, 29900, ref="dep")
        acc = Account.objects.get(merchant=t.merchant, code="deposit_held")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Posting._meta.db_table} (journal_id, account_id, amount_fen, ref, memo, at) "
                "VALUES (%s, %s, %s, '', '', %s)",
                [j.pk, acc.pk, 1, connection.ops.adapt_datetimefield_value(j.at)],
            )
        result = checks.check()
        assert not result.ok
        text = "\n".join(result.problems)
        assert f"journal {j.pk} does not balance" in text
        assert "shows" in text  # the running balance no longer matches the postings
        with pytest.raises(CommandError):
            call_command("ledger_check")

    def test_balance_tampered(self):
        t = builders.terminal()
        with transaction.atomic():
            ingest(fin(), [item(t.tid)])
        Account.objects.filter(merchant=t.merchant, code="unsettled").update(balance_fen=0)
        assert not checks.check().ok

    def test_transaction_net_changed(self):
        from posfleet.money.models import Transaction

        t = builders.terminal()
        with transaction.atomic():
            ingest(fin(), [item(t.tid)])
        Transaction.objects.update(net_fen=1)
        result = checks.check()
        assert any("transactions net" in p for p in result.problems)

    def test_empty_journal(self):
        Journal.objects.create(kind="manual", ref="x")
        assert not checks.check().ok


OPS = st.one_of(
    st.tuples(
        st.just("tx"),
        st.sampled_from(["credit", "debit", "wechat", "alipay", "unionpay_qr"]),
        st.sampled_from(["sale", "sale", "refund", "reversal"]),
        st.integers(1, 5_000_000),
    ),
    st.tuples(st.just("deposit"), st.integers(1, 100_000)),
    st.tuples(st.just("charge"), st.sampled_from(sorted(ledger.CHARGE_KINDS)), st.integers(1, 100_000)),
    st.tuples(st.just("apply"), st.integers(1, 100_000)),
    st.tuples(st.just("refund"), st.integers(1, 100_000)),
    st.tuples(st.just("pay"), st.integers(1, 100_000)),
    st.tuples(st.just("settle"), st.integers(1, 1_000_000)),
)


def test_random_operation_sequences_keep_the_ledger_whole():
    t = builders.terminal()
    m = t.merchant_id
    actor = fin()
    rates = {
        "credit": (60, None),
        "debit": (50, 2500),
        "wechat": (38, None),
        "alipay": (38, None),
        "unionpay_qr": (60, None),
    }

    @settings(max_examples=30, deadline=None)
    @given(st.lists(OPS, max_size=12))
    def run(ops):
        sid = transaction.savepoint()
        try:
            want = {"unsettled": 0, "settled_unpaid": 0, "deposit_held": 0, "amount_due": 0}
            for op in ops:
                try:
                    with transaction.atomic():
                        if op[0] == "tx":
                            _, channel, tx_type, amount = op
                            bp, cap = rates[channel]
                            original = None
                            if tx_type != "sale":  # money goes back only against a sale of at least as much
                                original = f"H{next(_ids)}"
                                [sale] = ingest(
                                    actor,
                                    [item(t.tid, channel=channel, amount_fen=amount, switch_id=original)],
                                )
                                assert sale.status == "created"
                                want["unsettled"] += signed_fee_and_net("sale", amount, bp, cap)[1]
                            [r] = ingest(
                                actor,
                                [
                                    item(
                                        t.tid,
                                        channel=channel,
                                        type=tx_type,
                                        amount_fen=amount,
                                        switch_id=f"H{next(_ids)}",
                                        original_id=original,
                                    )
                                ],
                            )
                            fee, net = signed_fee_and_net(tx_type, amount, bp, cap)
                            assert (r.fee_fen, r.net_fen) == (fee, net)
                            want["unsettled"] += net
                        elif op[0] == "deposit":
                            ledger.receive_deposit(actor, m, op[1], ref="d")
                            want["deposit_held"] += op[1]
                        elif op[0] == "charge":
                            ledger.charge(actor, m, op[1], op[2], ref="c")
                            want["amount_due"] += op[2]
                        elif op[0] == "apply":
                            ledger.apply_deposit(actor, m, op[1], ref="a")
                            want["deposit_held"] -= op[1]
                            want["amount_due"] -= op[1]
                        elif op[0] == "refund":
                            ledger.refund_deposit(actor, m, op[1], ref="r")
                            want["deposit_held"] -= op[1]
                        elif op[0] == "pay":
                            ledger.record_payment(actor, m, op[1], ref="p")
                            want["amount_due"] -= op[1]
                        elif op[0] == "settle":
                            ledger.post(
                                actor,
                                [
                                    Entry.debit(m, "unsettled", op[1]),
                                    Entry.credit(m, "settled_unpaid", op[1]),
                                ],
                                ref="s",
                                kind="settlement",
                            )
                            want["unsettled"] -= op[1]
                            want["settled_unpaid"] += op[1]
                except ValidationFailed:
                    pass  # refused (more than held / due): nothing written
            b = ledger.balances(m)
            assert (b.unsettled_fen, b.settled_unpaid_fen, b.deposit_held_fen, b.amount_due_fen) == (
                want["unsettled"],
                want["settled_unpaid"],
                want["deposit_held"],
                want["amount_due"],
            )
            assert b.deposit_held_fen >= 0 and b.amount_due_fen >= 0
            for jid, total in Posting.objects.values_list("journal_id").annotate(s=Sum("amount_fen")):
                assert total == 0, jid
            for acc in Account.objects.all():
                assert acc.balance_fen == (acc.postings.aggregate(s=Sum("amount_fen"))["s"] or 0)
            assert checks.check().ok
        finally:
            transaction.savepoint_rollback(sid)

    with transaction.atomic():
        run()
