import pytest
from django.conf import settings

from posfleet.devtools.bench import settlement as bench
from posfleet.settlement.models import SettlementBatch
from tests import builders as b

pytestmark = pytest.mark.django_db


def test_generated_day_and_month_match_duckdb():
    merchants = [b.merchant().pk for _ in range(3)]
    figures = {}

    def say(name, value, unit="", target=None, ok=None, **extra):
        figures[name] = (value, ok)

    day = bench._case("day", 1, 300, merchants, say)
    month = bench._case("month", 3, 100, merchants, say)
    assert day["rows"] == 300 and day["differences"] == 0
    assert month["rows"] == 300 and month["differences"] == 0
    assert figures["settlement.day batches differing from DuckDB"] == (0, True)
    assert SettlementBatch.objects.count() == 3 + 9


def test_each_bench_reads_its_own_csv_and_removes_it():
    # Two benches in one directory used one fixed name: the second truncated, then deleted, the first's.
    with bench.scratch_csv("month") as first, bench.scratch_csv("month") as second:
        assert first != second and first.parent == second.parent
        first.write_text("a\n")
        assert second.read_text() == ""
    assert not first.exists() and not second.exists()
    with pytest.raises(RuntimeError), bench.scratch_csv("month") as path:
        raise RuntimeError("DuckDB failed")
    assert not path.exists()


def test_month_reports_each_run_beside_duckdb():
    merchants = [b.merchant().pk for _ in range(2)]
    figures = {}

    def say(name, value, unit="", target=None, ok=None, **extra):
        figures[name] = (value, extra)

    bench._case("day", 1, 50, merchants, say)
    month = bench._case("month", 3, 40, merchants, say)
    assert len(month["runs"]) == 3 and month["seconds"] == pytest.approx(sum(month["runs"]))
    assert month["exported"] == month["rows"] == 120 and month["differences"] == 0
    assert month["unswept"] == 120  # the month's rows arrived after the day's run
    low_median_high, extra = figures["settlement.month per run min/median/max"]
    assert low_median_high.count("/") == 2 and "120 rows ingested since" in extra["note"]
    assert figures["settlement.month settle seconds"][1]["baseline_value"] >= 0
    assert list((settings.VAR_DIR / "bench").glob("*.csv")) == []
