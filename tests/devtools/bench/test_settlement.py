import pytest

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
