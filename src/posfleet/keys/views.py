"""Key custodian screens: pending destruction requests, request/confirm forms, destruction records.

The page shows metadata only (KCV, state, dates, custodians); services decide everything, and a
missing step-up sends the custodian to the step-up page (console:step_up) and back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.accounts.roles import is_custodian
from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError, NotFound
from posfleet.keys import services
from posfleet.keys.models import TerminalKey
from posfleet.web.staff import console_actor, domain_errors, staff_view

T = TypeVar("T")


def _clean(value: str | None) -> str:
    """Form text without NUL bytes (PostgreSQL refuses them in text; that must not be a 500)."""
    return (value or "").replace("\x00", "")


def _back(tid: str = "") -> HttpResponseRedirect:
    url = reverse("keys:index")
    if tid:
        url += "?" + urlencode({"tid": tid})
    return HttpResponseRedirect(url)


@staff_view(perm="view_fleet")
def index(request: HttpRequest) -> HttpResponse:
    tid = _clean(request.GET.get("tid")).strip().upper()[:8]
    status = None
    current = None
    if tid:
        try:
            status = services.key_status(tid)
        except NotFound as exc:
            messages.error(request, str(exc.message))
        else:
            current = TerminalKey.objects.filter(terminal__tid=tid).order_by("-id").first()
    context = {
        "tid": tid,
        "status": status,
        "current": current,
        "pending": services.pending_requests(),
        "records": services.recent_records(),
        "is_custodian": is_custodian(request.user),
        "me": request.user.pk,
    }
    return render(request, "keys/index.html", context)


def _form(request: HttpRequest) -> tuple[str, str]:
    return _clean(request.POST.get("tid")).strip().upper()[:8], _clean(request.POST.get("reason"))


def _key_action(
    service: Callable[[Actor, str, str], T], said: Callable[[str, T], str]
) -> Callable[[HttpRequest], HttpResponse]:
    """A custodian's POST on the key of the form's terminal: `service(actor, tid, reason)` in one
    transaction, then back to the page saying what it did (`said(tid, result)`), or why not; a missing
    step-up goes on to domain_errors, which sends the custodian to verify and back."""

    @require_POST
    @staff_view(perm="destroy_keys")
    @domain_errors
    def view(request: HttpRequest) -> HttpResponse:
        tid, reason = _form(request)
        try:
            with transaction.atomic():
                result = service(console_actor(request), tid, reason)
        except DomainError as exc:
            if exc.code == "step_up_required":
                raise
            messages.error(request, str(exc.message))
        else:
            messages.success(request, said(tid, result))
        return _back(tid)

    return view


def _destroy_said(tid: str, outcome: services.DestroyOutcome) -> str:
    if outcome.record is None:
        return _("Destruction of %(tid)s's key requested; a second custodian must confirm.") % {"tid": tid}
    return _("The key of %(tid)s (KCV %(kcv)s) is destroyed.") % {"tid": tid, "kcv": outcome.kcv}


destroy = _key_action(services.destroy, _destroy_said)
cancel = _key_action(
    services.cancel_destruction,
    lambda tid, _req: _("The destruction request for %(tid)s is withdrawn.") % {"tid": tid},
)
rekey = _key_action(
    services.rekey, lambda tid, key: _("%(tid)s has a new key (KCV %(kcv)s).") % {"tid": tid, "kcv": key.kcv}
)
