"""Portal login form: only merchant users may sign in here; staff are sent to the console."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from posfleet.accounts.models import merchant_id_of


class PortalLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "not_merchant": _(
            "This sign-in is for merchants. Staff of the institution sign in at the console (%(url)s)."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if merchant_id_of(user) is None:
            raise forms.ValidationError(
                self.error_messages["not_merchant"],
                code="not_merchant",
                params={"url": reverse("console:login")},
            )
