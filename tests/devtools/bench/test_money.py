import pytest

from posfleet.devtools.bench import money as bench
from posfleet.money.models import Transaction

pytestmark = pytest.mark.django_db


def test_bench_small_run_reports_zero_fee_differences(settings, tmp_path):
    figures = []

    def report(name, value, unit="", target=None, ok=None):
        figures.append((name, value, ok))

    out = bench.run(report, rows=2000)
    assert out["created"] == 2000 and out["rejected"] == 0
    assert out["reimport_created"] == 0
    assert out["bare_rows"] == 2000 and out["bare_rows_per_s"] > 0  # the baseline wrote the same rows
    assert out["fees_checked"] == 2000 and out["fee_differences"] == 0
    assert Transaction.objects.count() == 2000
    assert ("money.fee differences", 0, True) in figures


def test_decimal_fee_is_independent_and_agrees():
    from posfleet.money.fees import fee_fen

    for amount in range(0, 5000, 7):
        for bp, cap in ((38, None), (50, 2500), (55, 2000), (60, None)):
            assert bench.decimal_fee(amount, bp, cap) == fee_fen(amount, bp, cap)
