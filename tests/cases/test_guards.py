"""The closure rule on the merchant lifecycle: the bare merchant actions cannot skip the closure checklist.

A service agent once closed a merchant with active terminals, live keys, money outstanding and no
closure case through `start_closing` then `close`. Only an approved closure case puts a merchant into
closing, and only that case's completion closes it; the bare actions answer 409 with the reasons.
"""

import pytest
from django.db import transaction

from posfleet.cases import services
from posfleet.core.errors import InvalidTransition
from posfleet.lifecycle.services import apply_merchant
from posfleet.registry.models import Merchant
from tests import builders
from tests.api.builders import Api, totp_code
from tests.cases import builders as cb

pytestmark = pytest.mark.django_db


def _approved_closure(m):
    case = cb.file(kind="closure", merchant_id=m.pk, terminals=[], reason="business_change")
    cb.upload_required(case)
    return cb.decide(case)


def _stepped_up_agent():
    api = Api("agent")
    device = api.enrol_totp()
    return api, lambda: {"X-OTP": totp_code(device), "Accept-Language": "en"}


def test_the_agent_cannot_close_a_merchant_without_a_closure_case():
    fleet = cb.lent_fleet()
    m = fleet["merchant"]
    api, otp = _stepped_up_agent()
    r = api.post(f"/merchants/{m.pk}/start_closing", {"reason": "asked by phone"}, **otp())
    assert r.status_code == 409, r.content
    error = r.json()["error"]
    assert error["code"] == "guard_failed"
    assert "closure case" in error["message"]
    m.refresh_from_db()
    assert m.state == "active"
    # nor close it outright once someone forced it into closing: no closure case, no close
    Merchant.objects.filter(pk=m.pk).update(state="closing")
    r = api.post(f"/merchants/{m.pk}/close", {"reason": "asked by phone"}, **otp())
    assert r.status_code == 409, r.content
    assert r.json()["error"]["code"] == "guard_failed"
    assert Merchant.objects.get(pk=m.pk).state == "closing"


def test_under_an_approved_closure_the_bare_close_answers_the_checklist():
    fleet = cb.lent_fleet()
    m = fleet["merchant"]
    case = _approved_closure(m)
    api, otp = _stepped_up_agent()
    r = api.post(f"/merchants/{m.pk}/start_closing", {"reason": "closure approved"}, **otp())
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "closing"
    r = api.post(f"/merchants/{m.pk}/close", {"reason": "done, I think"}, **otp())
    assert r.status_code == 409, r.content
    error = r.json()["error"]
    assert error["code"] == "guard_failed"
    assert f"#{case.pk}" in error["message"]
    reasons = error["details"]["guards"][1:]
    assert {r.split(":", 1)[0] for r in reasons} >= {
        "terminals_stopped",
        "money_cleared",
        "data_exported",
        "equipment_returned",
        "keys_destroyed",
        "money_settled",
    }
    assert fleet["t1"].tid in " ".join(reasons)
    assert Merchant.objects.get(pk=m.pk).state == "closing"
    # and it cannot be taken back out of closing while the case runs
    r = api.post(f"/merchants/{m.pk}/cancel_closing", {"reason": "oops"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "guard_failed"


def test_the_rule_holds_for_every_caller_even_the_administrator():
    m = builders.merchant()
    admin = builders.actor("admin")
    with pytest.raises(InvalidTransition) as info, transaction.atomic():
        apply_merchant(admin, m.pk, "start_closing", reason="console")
    assert info.value.code == "guard_failed"
    assert Merchant.objects.get(pk=m.pk).state == "active"


def test_a_closing_merchant_whose_closure_never_ran_may_be_taken_back():
    m = builders.merchant("closing")
    with transaction.atomic():
        apply_merchant(builders.actor("agent"), m.pk, "cancel_closing", reason="closure withdrawn")
    assert Merchant.objects.get(pk=m.pk).state == "active"


def test_the_case_stop_puts_the_merchant_into_closing():
    fleet = cb.lent_fleet()
    m = fleet["merchant"]
    case = _approved_closure(m)
    with transaction.atomic():
        services.stop_terminals(builders.actor("reviewer"), case.pk)
    assert Merchant.objects.get(pk=m.pk).state == "closing"
