import pytest
from django.db import transaction

from posfleet.devtools.demo import keys as demo
from posfleet.keys import services
from posfleet.keys.models import DestructionRequest, TerminalKey
from posfleet.registry.choices import TerminalState
from tests import builders as b

pytestmark = pytest.mark.django_db


def test_demo_keys_active_terminals_once_and_leaves_a_pending_request():
    m = b.merchant()
    active = b.terminal(TerminalState.ACTIVE, merchant_obj=m)
    stock = b.terminal(TerminalState.ALLOCATED, merchant_obj=m)
    gone = b.terminal(TerminalState.DEACTIVATED, merchant_obj=m)
    b.user("custodian1", "custodian")
    with transaction.atomic():
        assert demo.load([m.pk]) == 2
    with transaction.atomic():
        assert demo.load([m.pk]) == 0
    assert not services.keys_destroyed(active.tid)
    assert services.keys_destroyed(stock.tid)
    assert TerminalKey.objects.count() == 2
    assert DestructionRequest.objects.get().terminal_id == gone.pk
