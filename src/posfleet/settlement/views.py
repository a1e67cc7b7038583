"""Console pages of settlement: the run page, a merchant's settlements/disputes/outstanding, the disputes
queue and a dispute's page, and a merchant's money page (its transactions show their settlement, so
its view is here; `posfleet.urls` mounts it among the money pages). Views gather input and render;
every rule is in the services.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.core import labels
from posfleet.core.downloads import CSV, stream_download
from posfleet.core.errors import DomainError, NotFound, ValidationFailed
from posfleet.money import ledger, plans, queries
from posfleet.money.choices import Channel, TxType
from posfleet.money.filters import day, filter_transactions
from posfleet.money.models import Transaction
from posfleet.registry.models import Merchant
from posfleet.registry.services import get_merchant
from posfleet.settlement import disputes, outstanding, profiles, services, settled, statements
from posfleet.settlement.models import (
    BATCH_AMOUNTS,
    OPEN_DISPUTE_STATES,
    AnswerChannel,
    Dispute,
    DisputeDocument,
    DisputeState,
    SettlementBatch,
    SettlementMode,
)
from posfleet.web.lists import list_page
from posfleet.web.staff import (
    console_actor,
    domain_error_response,
    domain_errors,
    staff_view,
)

PAGE = 100
TRANSACTIONS_PAGE = 50


def _date(raw: str | None, default: date | None = None) -> date | None:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(
            _("Dates look like 2026-11-20."), details={"date": [_("Use YYYY-MM-DD.")]}
        ) from None


def _yesterday() -> date:
    return services.business_date_of(timezone.now()) - timedelta(days=1)


@staff_view(perm="view_money")
@domain_errors
def run_page(request: HttpRequest) -> HttpResponse:
    """The settlement run: pick a business day, run (step-up), see the per-merchant result."""
    result = None
    day = _yesterday()
    if request.method == "POST":
        try:
            day = _date(request.POST.get("business_date")) or day
            with transaction.atomic():
                result = services.run_settlement(
                    console_actor(request), request.POST.get("business_date", "")
                )
        except DomainError as exc:
            return domain_error_response(
                request, exc, "settlement/run.html", _run_context(day, None), step_up_next=request.path
            )
        if result.already_settled:
            messages.info(
                request, _("%(day)s was already settled; nothing changed.") % {"day": result.business_date}
            )
        else:
            messages.success(
                request,
                _("%(day)s settled: %(n)d batches, %(p)d payouts.")
                % {"day": result.business_date, "n": len(result.created), "p": len(result.paid)},
            )
    elif request.GET.get("business_date"):
        day = _date(request.GET.get("business_date")) or day
    return render(request, "settlement/run.html", _run_context(day, result))


def _run_context(day: date, result: services.RunResult | None) -> dict[str, Any]:
    batches = (
        result.batches
        if result is not None
        else list(
            SettlementBatch.objects.filter(business_date=day)
            .select_related("merchant")
            .order_by("merchant_id")[:500]
        )
    )
    if result is not None:
        names = dict(
            SettlementBatch.objects.filter(pk__in=[b.pk for b in batches]).values_list("pk", "merchant__name")
        )
        for b in batches:
            b.merchant_name = names.get(b.pk, "")  # type: ignore[attr-defined]
    else:
        for b in batches:
            b.merchant_name = b.merchant.name  # type: ignore[attr-defined]
    totals = {k: sum(getattr(b, k) for b in batches) for k in ("transaction_count", *BATCH_AMOUNTS)}
    recent = (
        SettlementBatch.objects.values("business_date")
        .annotate(
            n=Count("id"),
            net=Sum("net_fen"),
            payout=Sum("payout_fen"),
            held=Count("id", filter=Q(state="held")),
        )
        .order_by("-business_date")[:14]
    )
    return {
        "day": day,
        "result": result,
        "batches": batches,
        "totals": totals,
        "recent": recent,
        "title": _("Settlement"),
    }


@staff_view(perm="view_money")
@domain_errors
def merchant_page(request: HttpRequest, merchant_id: int) -> HttpResponse:
    merchant = get_merchant(merchant_id)
    if request.method == "POST":
        try:
            with transaction.atomic():
                profiles.set_profile(
                    console_actor(request),
                    merchant_id,
                    mode=request.POST.get("mode") or None,
                    delayed=request.POST.get("delayed") == "on",
                    reason=request.POST.get("reason", ""),
                )
        except DomainError as exc:
            return domain_error_response(
                request,
                exc,
                "settlement/merchant.html",
                _merchant_context(merchant),
                step_up_next=request.path,
            )
        messages.success(request, _("Settlement profile saved."))
        return HttpResponseRedirect(request.path)
    return render(request, "settlement/merchant.html", _merchant_context(merchant))


def _merchant_context(merchant: Any) -> dict[str, Any]:
    today = services.business_date_of(timezone.now())
    return {
        "title": _("Settlement of %(name)s") % {"name": merchant.name},
        "merchant": merchant,
        "profile": profiles.profile_of(merchant.pk),
        "modes": SettlementMode.choices,
        "batches": list(SettlementBatch.objects.filter(merchant=merchant).order_by("-business_date")[:60]),
        "disputes": list(Dispute.objects.filter(merchant=merchant).select_related("transaction")[:50]),
        "cleared": outstanding.is_cleared(merchant.pk),
        "balances": ledger.balances(merchant.pk),
        "from": today - timedelta(days=30),
        "to": today,
    }


@staff_view(perm="view_money")
@domain_errors
def statement_csv(request: HttpRequest, merchant_id: int) -> Any:  # a StreamingHttpResponse
    date_from = _date(request.GET.get("from"))
    date_to = _date(request.GET.get("to"))
    filename, lines = statements.statement_stream(console_actor(request), merchant_id, date_from, date_to)
    return stream_download(lines, CSV, filename)


@staff_view(perm="view_money")
@domain_errors
def disputes_queue(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state") or "open"
    qs = Dispute.objects.select_related("transaction", "merchant")
    if state == "open":
        qs = qs.filter(state__in=OPEN_DISPUTE_STATES).order_by("due", "id")
    elif state in DisputeState.values:
        qs = qs.filter(state=state).order_by("-opened_at", "-id")
    else:
        qs = qs.order_by("-opened_at", "-id")
    return render(
        request,
        "settlement/disputes.html",
        {
            "title": _("Disputes"),
            "disputes": list(qs[:PAGE]),
            "state": state,
            "states": [("open", _("Open or answered")), *DisputeState.choices, ("all", _("All"))],
            "today": timezone.localdate(),
        },
    )


@staff_view(perm="view_money")
@domain_errors
def dispute_page(request: HttpRequest, dispute_id: int) -> HttpResponse:
    d = disputes.get_dispute(dispute_id)
    if request.method == "POST":
        actor = console_actor(request)
        action = request.POST.get("action")
        try:
            with transaction.atomic():
                if action == "resolve":
                    disputes.resolve(
                        actor, d.pk, request.POST.get("outcome", ""), request.POST.get("reason", "")
                    )
                    messages.success(request, _("Dispute resolved."))
                elif action == "answer":
                    disputes.answer(
                        actor,
                        d.pk,
                        request.POST.get("answer", ""),
                        request.FILES.getlist("files"),
                        channel=request.POST.get("channel", ""),
                    )
                    messages.success(request, _("Answer recorded."))
                else:
                    raise ValidationFailed(details={"action": [_("Unknown action.")]})
        except DomainError as exc:
            return domain_error_response(
                request, exc, "settlement/dispute.html", _dispute_context(d), step_up_next=request.path
            )
        return HttpResponseRedirect(request.path)
    return render(request, "settlement/dispute.html", _dispute_context(d))


def _dispute_context(d: Dispute) -> dict[str, Any]:
    d = Dispute.objects.select_related("transaction", "merchant", "held_batch", "answered_by").get(pk=d.pk)
    return {
        "title": _("Dispute %(id)s") % {"id": d.pk},
        "d": d,
        "documents": list(d.documents.all()),
        "answer_channels": AnswerChannel.choices,
    }


@staff_view(perm="view_money")
def document(request: HttpRequest, document_id: int) -> FileResponse:
    doc = DisputeDocument.objects.filter(pk=document_id).first()
    if doc is None:
        raise Http404()
    path = disputes.document_path(doc)
    if not path.exists():
        raise Http404()
    return FileResponse(path.open("rb"), content_type=doc.content_type, filename=doc.name)


@staff_view(perm="view_money")
def merchant_money(request: HttpRequest, merchant_id: int) -> HttpResponse:
    """A merchant's balances, plan history and transactions (filters, keyset pages newest first), each
    with its settlement date: a money page, served by settlement, whose rule says what is settled."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return domain_error_response(request, NotFound(_("No merchant %(id)s.") % {"id": merchant_id}))
    g = request.GET
    filters = {
        k: (g.get(k) or "").strip() for k in ("tid", "channel", "type", "date_from", "date_to", "flagged")
    }
    try:
        qs = filter_transactions(
            Transaction.objects.filter(merchant_id=merchant_id),
            tid=filters["tid"] or None,
            channel=filters["channel"] or None,
            type=filters["type"] or None,
            date_from=day("date_from", filters["date_from"], _("Some filters are not valid.")),
            date_to=day("date_to", filters["date_to"], _("Some filters are not valid.")),
            flagged=True if filters["flagged"] == "1" else None,
        )
    except ValidationFailed as exc:
        messages.error(request, " ".join([str(exc.message), *labels.error_details(exc.details)]))
        qs = Transaction.objects.none()
    days = queries.daily_totals(30, merchant_id=merchant_id)
    context = {
        "merchant": merchant,
        "balances": ledger.balances(merchant_id),
        "plan": plans.plan_at(merchant_id),
        "versions": plans.versions(merchant_id),
        **list_page(
            g, qs, key="id", size=TRANSACTIONS_PAGE, descending=True, annotate=settled.with_settlement
        ),
        "filters": filters,
        "channels": Channel.choices,
        "types": TxType.choices,
        "days": days,
        "volume_bars": queries.bars(days, "volume_fen", height=80),
        "chart_width": 40 + 22 * len(days) + 10,
    }
    return render(request, "money/merchant.html", context)
