"""Who may read a merchant's money: staff with view_money, or that merchant's own portal login."""

import pytest

from posfleet.accounts.models import MerchantUser
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied
from posfleet.money.access import money_scope, require_money_reader
from tests import builders as b

pytestmark = pytest.mark.django_db


def _portal(merchant):
    u = b.user(role="agent")
    u.groups.clear()
    MerchantUser.objects.create(user=u, merchant=merchant)
    return Actor.for_user(u, "portal")


def test_staff_with_view_money_read_every_merchant():
    finance = b.actor("finance")
    assert money_scope(finance) is None
    require_money_reader(finance, b.merchant().pk)


def test_staff_without_view_money_are_refused():
    technician = b.actor("technician")
    with pytest.raises(PermissionDenied):
        money_scope(technician)
    with pytest.raises(PermissionDenied):
        require_money_reader(technician, b.merchant().pk)


def test_a_portal_login_reads_only_its_own_merchant():
    mine, other = b.merchant(), b.merchant()
    shop = _portal(mine)
    assert money_scope(shop) == mine.pk
    require_money_reader(shop, mine.pk)
    with pytest.raises(NotFound):  # another merchant's money reads as not found, not forbidden
        require_money_reader(shop, other.pk)


def test_the_system_reads_everything():
    assert money_scope(Actor.system()) is None
