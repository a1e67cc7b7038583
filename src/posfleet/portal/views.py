"""Merchant portal pages: sign-in, my terminals and holds, notices and letters, statements.

Views only gather input and render; every rule (may a terminal transact, whose notice is this) is
answered by a service or by a query scoped to `request.merchant_id` (see web.merchant.merchant_view).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from posfleet.accounts.models import merchant_id_of
from posfleet.cases.choices import OPEN_STATES, CaseKind, ExportState
from posfleet.cases.models import Case, CaseExport
from posfleet.cases.services.appeals import APPEALABLE_KINDS
from posfleet.core.downloads import CSV, download, stream_download
from posfleet.core.errors import DomainError
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold, HoldTerminal
from posfleet.notices import services as notice_services
from posfleet.portal.forms import PortalLoginForm
from posfleet.registry.models import Merchant, Terminal
from posfleet.settlement.disputes import disputes_for
from posfleet.settlement.freezes import held_money
from posfleet.settlement.models import DisputeState
from posfleet.settlement.statements import statement_stream as build_statement
from posfleet.web.merchant import merchant_view, or_404, portal_actor

TERMINALS_SHOWN = 100


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The merchants' own sign-in. Failed attempts count towards the axes lockout like the console's."""
    if request.user.is_authenticated and merchant_id_of(request.user) is not None:
        return HttpResponseRedirect(reverse("portal:home"))
    form = PortalLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        target = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = ""
        if not target.startswith(reverse("portal:home")):
            target = reverse("portal:home")
        return HttpResponseRedirect(target)
    status = 200 if request.method == "GET" or form.is_valid() else 400
    return render(
        request, "portal/login.html", {"form": form, "next": request.GET.get("next", "")}, status=status
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("portal:login"))


def _merchant(request: HttpRequest) -> Merchant:
    return Merchant.objects.get(pk=request.merchant_id)  # type: ignore[attr-defined]


@merchant_view
def home(request: HttpRequest) -> HttpResponse:
    """My terminals with their state and the live answer to "may it transact?", and holds in force."""
    merchant = _merchant(request)
    terminals = list(
        Terminal.objects.filter(merchant_id=merchant.pk)
        .select_related("model")
        .order_by("tid")[:TERMINALS_SHOWN]
    )
    now = timezone.now()
    rows = [{"terminal": t, "answer": may_transact(t.tid, at=now)} for t in terminals]
    # Its own holds and the bulk holds over some of its terminals (a maintenance window, say).
    under_bulk = HoldTerminal.objects.filter(terminal__merchant_id=merchant.pk, released_at__isnull=True)
    holds = list(
        Hold.objects.not_ended(now)
        .filter(Q(merchant_id=merchant.pk) | Q(bulk=True, pk__in=under_bulk.values("hold_id")))
        .select_related("terminal")
        .order_by("starts_at", "id")[:50]
    )
    tids: dict[int, list[str]] = {}
    for hold_id, tid in under_bulk.filter(hold_id__in=[h.pk for h in holds if h.bulk]).values_list(
        "hold_id", "terminal__tid"
    ):
        tids.setdefault(hold_id, []).append(tid)
    appeals = dict(
        Case.objects.filter(
            merchant_id=merchant.pk,
            kind=CaseKind.APPEAL,
            state__in=OPEN_STATES,
            hold_id__in=[h.pk for h in holds],
        ).values_list("hold_id", "id")
    )
    context: dict[str, Any] = {
        "merchant": merchant,
        "rows": rows,
        "holds": [
            {
                "hold": h,
                "in_force": h.in_force(now),
                "tids": sorted(tids.get(h.pk, [])),
                "appealable": h.kind in APPEALABLE_KINDS,
                "appeal_id": appeals.get(h.pk),
            }
            for h in holds
        ],
        "cases": _recent_cases(request),
        "open_disputes": disputes_for(portal_actor(request), state=DisputeState.OPEN).count(),
        "held_money": held_money(merchant.pk, now),
    }
    return render(request, "portal/home.html", context)


def _recent_cases(request: HttpRequest) -> list[Case]:
    merchant_id = request.merchant_id  # type: ignore[attr-defined]
    return list(Case.objects.filter(merchant_id=merchant_id).order_by("-id")[:5])


@merchant_view
def notices(request: HttpRequest) -> HttpResponse:
    """Every notice and letter the institution sent me, newest first, with downloads."""
    items = notice_services.list_notices(portal_actor(request))
    merchant_id = request.merchant_id  # type: ignore[attr-defined]
    exports = list(
        CaseExport.objects.filter(case__merchant_id=merchant_id, state=ExportState.DONE)
        .select_related("case")
        .order_by("-finished_at")[:50]
    )
    today = timezone.localdate()
    context = {
        "notices": items,
        "exports": exports,
        "date_from": today - timedelta(days=30),
        "date_to": today,
    }
    return render(request, "portal/notices.html", context)


@merchant_view
def notice_pdf(request: HttpRequest, notice_id: int) -> HttpResponse:
    """A letter's PDF; another merchant's notice is not found (404), whatever its id."""
    notice, pdf = or_404(lambda: notice_services.notice_pdf(portal_actor(request), notice_id))
    return download(pdf, "application/pdf", f"letter-{notice.pk}.pdf")


@merchant_view
def statement_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """My reconciliation statement for a date range (at most a year), as CSV."""
    try:
        date_from = date.fromisoformat(request.GET.get("from", ""))
        date_to = date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        messages.error(request, _("Give both dates as YYYY-MM-DD."))
        return HttpResponseRedirect(reverse("portal:notices"))
    try:
        filename, lines = build_statement(
            portal_actor(request),
            request.merchant_id,  # type: ignore[attr-defined]
            date_from,
            date_to,
        )
    except DomainError as exc:
        reasons = [str(m) for msgs in (exc.details or {}).values() for m in msgs]
        messages.error(request, " ".join(reasons) or str(exc.message))
        return HttpResponseRedirect(reverse("portal:notices"))
    return stream_download(lines, CSV, filename)


@merchant_view
def verify_help(request: HttpRequest) -> HttpResponse:
    """How to check that a call or SMS really came from us: the public verification page."""
    return render(request, "portal/verify.html", {})
