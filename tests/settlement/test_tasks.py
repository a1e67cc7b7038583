import pytest

from posfleet.settlement.models import SettlementBatch
from posfleet.settlement.tasks import daily_settlement, settle_day
from tests import builders as b
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db


def test_daily_job_settles_yesterday_once():
    m = b.merchant()
    tx(m, 1000, at(days_ago(1)))
    first = daily_settlement.call_local()
    assert first["created"] == 1
    assert settle_day()["created"] == 0
    assert SettlementBatch.objects.get().business_date == days_ago(1)


def test_named_day():
    m = b.merchant()
    tx(m, 1000, at(days_ago(4)))
    assert settle_day(days_ago(4).isoformat())["created"] == 1


def test_command():
    from io import StringIO

    from django.core.management import CommandError, call_command

    m = b.merchant()
    tx(m, 1000, at(days_ago(2)))
    out = StringIO()
    call_command("run_settlement", days_ago(2).isoformat(), stdout=out)
    assert "1 batches created" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("run_settlement", "not-a-date")
