"""The demo loader builds cases in several states through the services."""

import pytest
from django.db import transaction

from posfleet.cases.models import Application, Case
from posfleet.devtools.demo import cases as demo
from posfleet.devtools.demo import people
from tests import builders


@pytest.mark.django_db
def test_demo_cases_in_various_states():
    people.create_staff()
    merchants = []
    for i in range(7):
        m = builders.merchant(kind="individual" if i == 0 else "enterprise")
        builders.terminal(merchant_obj=m)
        builders.terminal(merchant_obj=m)
        merchants.append(m)
    stock = builders.terminal("in_stock")
    with transaction.atomic():
        made = demo.load([m.pk for m in merchants])
    assert set(made) == {
        "needs_materials",
        "suspension_approved",
        "deactivation_in_progress",
        "closure_in_progress",
        "rejected",
        "application_shipped",
        "application_new_merchant",
    }
    states = sorted(Case.objects.values_list("kind", "state"))
    assert ("suspension", "needs_materials") in states
    assert ("suspension", "approved") in states
    assert ("deactivation", "in_progress") in states
    assert ("closure", "in_progress") in states
    assert ("deactivation", "rejected") in states
    assert ("application", "in_progress") in states and ("application", "submitted") in states

    waiting = Case.objects.get(state="needs_materials")
    assert waiting.merchant.kind == "individual" and "营业执照" not in waiting.decision_reason
    shipped = Application.objects.get(case__state="in_progress")
    assert shipped.terminal_id == stock.pk and shipped.tracking_no and shipped.delivered_on is None
    new = Case.objects.get(kind="application", state="submitted")
    assert new.merchant.state == "applying"
    assert new.missing_materials() == [
        "corporate_account_proof",
        "shop_photo_storefront",
        "shop_photo_interior",
        "shop_photo_cashier",
    ]

    with transaction.atomic():
        again = demo.load([m.pk for m in merchants])
    assert list(again.values()) == [merchants[6].pk]  # only merchants without cases are used
