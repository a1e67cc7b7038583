"""The hold form shared by the terminal's and the merchant's page: what it offers follows the user's
hold kinds, a posted form is shown as posted, and what was typed comes back after a step-up detour."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from posfleet.console import hold_forms
from posfleet.console.forms import HoldForm
from posfleet.web.staff import remember_form
from tests import builders

pytestmark = pytest.mark.django_db


def _request(role: str):  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/console/terminals/T0000001/")
    request.user = builders.user(f"u-{role}", role)
    request.session = SessionStore()
    return request


class TestContext:
    def test_offers_the_kinds_the_user_may_place_and_release(self):
        ctx = hold_forms.context(_request("technician"), "/x/")
        assert ctx["can_hold"] is True
        assert ctx["release_kinds"] == {"fault", "maintenance"}
        assert {k for k, _label in ctx["hold_form"].fields["kind"].choices} == {"fault", "maintenance"}

    def test_nothing_to_offer_without_a_hold_kind(self):
        ctx = hold_forms.context(_request("warehouse"), "/x/")
        assert ctx["can_hold"] is False and ctx["release_kinds"] == set()

    def test_a_posted_form_is_shown_as_posted(self):
        request = _request("technician")
        posted = HoldForm({"kind": "fault"}, kinds=[("fault", "Fault")])
        assert hold_forms.context(request, "/x/", posted)["hold_form"] is posted

    def test_what_was_typed_before_a_step_up_comes_back_once(self):
        request = _request("technician")
        remember_form(request, "/x/:hold", {"kind": "fault", "reason": "screen cracked"})
        assert hold_forms.context(request, "/x/")["hold_form"].initial["reason"] == "screen cracked"
        assert "reason" not in hold_forms.context(request, "/x/")["hold_form"].initial
