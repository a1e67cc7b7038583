"""Placing a hold from a console form: the terminal's page and the merchant's page post the same form."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from posfleet.console.forms import HoldForm
from posfleet.console.views_terminals import hold_kinds_for
from posfleet.core.errors import DomainError
from posfleet.settlement import freezes as settlement_freezes
from posfleet.web.staff import DetailPage, console_actor, form_refused, recall_form, remember_form

K = TypeVar("K")
FIELDS = ("kind", "reason", "starts_at", "ends_at", "hold_settlement", "reason_category", "merchant_message")


def context(request: HttpRequest, url: str, form: HoldForm | None = None) -> dict[str, Any]:
    """What the shared form needs on the page at `url`: `form` as posted, else a fresh one with what was
    typed before a step-up detour."""
    kinds = hold_kinds_for(request.user)
    return {
        "hold_form": form or HoldForm(initial=recall_form(request, f"{url}:hold") or {}, kinds=kinds),
        "can_hold": bool(kinds),
        # Releasing needs the same per-kind permission as placing: offer the form only where it would work.
        "release_kinds": {kind for kind, _label in kinds},
    }


def place(request: HttpRequest, page: DetailPage[K], key: K, **target: Any) -> HttpResponse:
    """The hold form posted on the `page` of `key`: its hold placed on `target` (tid= or merchant_id=),
    then back to the page; a refusal shows the page again with the form as typed."""
    form = HoldForm(request.POST, kinds=hold_kinds_for(request.user))
    if not form.is_valid():
        return page.refuse(request, key, form_refused(form), hold_form=form)
    url = page.url(key)
    remember_form(request, f"{url}:hold", {k: request.POST.get(k, "") for k in FIELDS})
    data = form.cleaned_data
    try:
        with transaction.atomic():
            settlement_freezes.place_hold(
                console_actor(request),
                settlement=bool(data.get("hold_settlement")),
                kind=data["kind"],
                reason=data["reason"],
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
                reason_category=data.get("reason_category") or None,
                merchant_message=data.get("merchant_message") or "",
                **target,
            )
    except DomainError as exc:
        return page.refuse(request, key, exc, hold_form=form)
    recall_form(request, f"{url}:hold")
    messages.success(request, _("Hold placed."))
    return HttpResponseRedirect(url)
