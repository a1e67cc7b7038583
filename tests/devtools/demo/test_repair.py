import pytest
from django.db import transaction

from posfleet.devtools.demo import repair as demo
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal, TerminalModel
from posfleet.repair.models import Loaner, RepairOrder
from posfleet.repair.services import prevention
from tests import builders as b

pytestmark = pytest.mark.django_db


def test_demo_repairs_in_several_states_with_a_loaner_and_chart_data():
    merchants = [b.merchant() for _ in range(8)]
    for m in merchants:
        b.terminal(TerminalState.ACTIVE, merchant_obj=m)
    for _ in range(4):
        b.terminal(TerminalState.IN_STOCK, patch="2026-06-01")
    with transaction.atomic():
        assert demo.load([m.pk for m in merchants]) == len(demo.STORIES)
    with transaction.atomic():
        assert demo.load([m.pk for m in merchants]) == 0
    states = set(RepairOrder.objects.values_list("state", flat=True))
    assert {"done", "remote_fix", "awaiting_quote", "diagnosing", "reported"} <= states
    assert Loaner.objects.filter(state="lent").count() == 1
    assert Terminal.objects.filter(is_loaner=True).count() == 3
    assert TerminalModel.objects.exclude(operating_guide="").exists()
    assert len({r.month for r in prevention.faults_per_model_month()}) >= 4
    assert prevention.mean_time_to_repair()[0].repairs >= 1
