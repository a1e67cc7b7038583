"""`demo --scale`: set-based generation gives consistent rows (terminal, merchant, fee, rollup)."""

import pytest
from django.db import connection
from django.db.models import Sum

from posfleet.devtools.bench.money import check_fees
from posfleet.devtools.demo import bulk
from posfleet.money.models import DayTotal, Transaction
from posfleet.registry.models import Merchant, Terminal, TerminalModel

pytestmark = pytest.mark.django_db(transaction=True)


def test_tiny_scale_is_consistent():
    TerminalModel.objects.create(manufacturer="T", name="T-1", min_security_patch_level="2025-01-01")
    built = bulk.build(0.0005, say=lambda _m: None)
    assert (built.merchants, built.terminals) == (100, 500)
    assert Merchant.objects.filter(licence_no__startswith="SC").count() == 100
    assert Terminal.objects.filter(tid__gte="20000000").count() == 500
    assert Transaction.objects.count() == built.transactions > 4_900
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM money_transaction t JOIN registry_terminal r ON r.tid = t.tid "
            "WHERE r.merchant_id = t.merchant_id AND r.state = 'active'"
        )
        assert cursor.fetchone()[0] == built.transactions  # every row on an active terminal of its merchant
    assert check_fees("SD") == (built.transactions, 0)
    assert DayTotal.objects.aggregate(n=Sum("count"))["n"] == built.transactions
    biggest = Transaction.objects.values("merchant_id").annotate(n=Sum("amount_fen")).order_by("-n")[0]
    assert biggest["merchant_id"] == Merchant.objects.get(licence_no="SC0000000000").pk
