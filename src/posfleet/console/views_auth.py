"""Login, logout and step-up (re-verify identity) for the console.

Login goes through Django's AuthenticationForm, which passes the request to `authenticate()`, so
django-axes counts failures and locks the username+IP out after AXES_FAILURE_LIMIT attempts.
Merchant portal accounts are refused here: they log in at the portal.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from posfleet.accounts.stepup import mark_session, verify_secret
from posfleet.web.staff import PENDING_KEY, is_portal_user, safe_next, staff_view


class ConsoleLoginForm(AuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if is_portal_user(user):
            raise forms.ValidationError(
                gettext_lazy("Merchant portal accounts cannot use the operations console."),
                code="portal_user",
            )


class ConsoleLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    form_class = ConsoleLoginForm
    redirect_authenticated_user = False


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout

    logout(request)
    messages.info(request, _("You have logged out."))
    return HttpResponseRedirect(reverse("console:login"))


class StepUpForm(forms.Form):
    secret = forms.CharField(
        label=gettext_lazy("Password or one-time code"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        strip=True,
    )


@staff_view
def step_up(request: HttpRequest) -> HttpResponse:
    """Re-ask the password or a TOTP code; on success remember the time in the session and go back."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = StepUpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and verify_secret(request.user, form.cleaned_data["secret"], request):
            mark_session(request.session)
            messages.success(
                request, _("Identity verified. You can carry out sensitive actions for 5 minutes.")
            )
            pending = request.session.pop(PENDING_KEY, None)
            if pending and str(pending.get("url", "")).startswith("/console/"):
                # Finish what was asked: the same POST again, now verified (the browser sends it).
                context = {"pending": pending, "next": next_url}
                return render(request, "console/step_up_resume.html", context)
            return HttpResponseRedirect(next_url)
        form.add_error(None, _("That password or code is not correct."))
        status = 422
    return render(request, "console/step_up.html", {"form": form, "next": next_url}, status=status)
