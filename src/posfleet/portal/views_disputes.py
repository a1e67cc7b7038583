"""Portal disputes (调单 retrieval requests / 拒付 chargebacks): see mine, answer with text and documents.

The list and every lookup go through `disputes.disputes_for` with the portal Actor, which keeps a portal
user to its own merchant, so another merchant's dispute id is a 404. Answering goes through
`disputes.answer`, which decides the rest (open or not, an answer or a document required, each file's
type and size); a refusal re-renders the page with the service's message and status, nothing written.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.core.errors import DomainError
from posfleet.settlement import disputes
from posfleet.settlement.models import Dispute, DisputeState
from posfleet.web.merchant import merchant_view, portal_actor, show_error

PAGE = 50
DUE_SOON_DAYS = 2  # an open dispute due within this many days is marked "due soon"
DETAIL_TEMPLATE = "portal/disputes/detail.html"


def _due_flag(d: Dispute, today: date) -> str:
    """ "overdue", "due_soon" or "" — a reading aid for an open dispute still waiting for my answer."""
    if d.state != DisputeState.OPEN:
        return ""
    if d.due < today:
        return "overdue"
    if d.due <= today + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return ""


def _my_dispute(request: HttpRequest, dispute_id: int) -> Dispute:
    """The dispute if it is my merchant's (the service scopes the query); anyone else's is a 404."""
    try:
        qs = disputes.disputes_for(portal_actor(request))
    except DomainError:
        raise Http404 from None
    d = qs.select_related("held_batch").filter(pk=dispute_id).first()
    if d is None:
        raise Http404
    return d


@merchant_view
def dispute_list(request: HttpRequest) -> HttpResponse:
    """My disputes, newest first, optionally of one state, 50 a page."""
    state = request.GET.get("state", "")
    context: dict[str, Any] = {
        "state": state,
        "states": DisputeState.choices,
        "today": timezone.localdate(),
    }
    try:
        qs = disputes.disputes_for(portal_actor(request), state=state or None)
    except DomainError as exc:
        return show_error(request, exc, "portal/disputes/list.html", context | {"rows": [], "page": None})
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    today = context["today"]
    rows = [{"d": d, "flag": _due_flag(d, today)} for d in page.object_list]
    return render(request, "portal/disputes/list.html", context | {"rows": rows, "page": page})


def _detail_context(d: Dispute) -> dict[str, Any]:
    return {
        "d": d,
        "flag": _due_flag(d, timezone.localdate()),
        "documents": list(d.documents.order_by("uploaded_at", "id")),
        "answer_text": "",
        "max_mb": disputes.MAX_DOCUMENT_BYTES // (1024 * 1024),
    }


@merchant_view
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    d = _my_dispute(request, dispute_id)
    return render(request, DETAIL_TEMPLATE, _detail_context(d))


@merchant_view
@require_POST
def dispute_answer(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """My answer: text and/or documents (PDF, JPEG, PNG); refused files are explained in my language."""
    d = _my_dispute(request, dispute_id)
    text = request.POST.get("answer", "")
    files = request.FILES.getlist("files")
    try:
        with transaction.atomic():
            disputes.answer(portal_actor(request), d.pk, text, files)
    except DomainError as exc:
        return show_error(request, exc, DETAIL_TEMPLATE, _detail_context(d) | {"answer_text": text})
    messages.success(request, _("Your answer was sent. We will let you know the outcome."))
    return HttpResponseRedirect(reverse("portal:dispute", args=[d.pk]))
