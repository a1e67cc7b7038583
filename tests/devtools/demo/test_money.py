import pytest

from posfleet.devtools.demo import money as demo
from posfleet.money import checks, ledger
from posfleet.money.models import Transaction
from posfleet.registry.choices import MerchantState, TerminalState
from tests import builders

pytestmark = pytest.mark.django_db


def test_demo_load_is_deterministic_and_balanced():
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    builders.terminal(TerminalState.DEACTIVATED, merchant_obj=m)
    closed = builders.merchant(MerchantState.CLOSED)
    out = demo.load([m.pk, closed.pk], days=5)
    assert out["transactions"] > 20
    assert Transaction.objects.filter(tid=t.tid).count() == out["transactions"] - 1
    assert Transaction.objects.filter(flagged=True).count() == 1
    assert ledger.balances(m.pk).deposit_held_fen == 29900
    assert ledger.balances(closed.pk).deposit_held_fen == 0
    first = sorted(Transaction.objects.values_list("switch_id", "amount_fen"))
    again = demo.load([m.pk, closed.pk], days=5)
    assert again["transactions"] == 0 and again["deposits"] == 0
    assert sorted(Transaction.objects.values_list("switch_id", "amount_fen")) == first
    assert checks.check().ok
