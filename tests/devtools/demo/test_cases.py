"""The demo loader builds cases in several states through the services."""

import pytest
from django.db import transaction

from posfleet.cases.models import Case
from posfleet.devtools.demo import cases as demo
from posfleet.devtools.demo import people
from tests import builders


@pytest.mark.django_db
def test_demo_cases_in_various_states():
    people.create_staff()
    merchants = []
    for _ in range(6):
        m = builders.merchant()
        builders.terminal(merchant_obj=m)
        builders.terminal(merchant_obj=m)
        merchants.append(m)
    with transaction.atomic():
        made = demo.load([m.pk for m in merchants])
    assert set(made) == {
        "needs_materials",
        "suspension_approved",
        "deactivation_in_progress",
        "closure_in_progress",
        "rejected",
    }
    states = sorted(Case.objects.values_list("kind", "state"))
    assert ("suspension", "needs_materials") in states
    assert ("suspension", "approved") in states
    assert ("deactivation", "in_progress") in states
    assert ("closure", "in_progress") in states
    assert ("deactivation", "rejected") in states
    with transaction.atomic():
        again = demo.load([m.pk for m in merchants])
    assert list(again.values()) == [merchants[5].pk]  # only merchants without cases are used
