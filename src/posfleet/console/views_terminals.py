"""Device management: the terminal list (search, filters, keyset pages, selection) and bulk actions.

A bulk action is two steps: the list posts the selection, which is kept in the session under a short key,
and the confirmation page (GET, so it survives the step-up detour) shows exactly what will change and asks
for the reason. Confirming calls the lifecycle services in one transaction; the services decide permission,
step-up and whether each terminal may move, and nothing is written unless every terminal can.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from posfleet.accounts.roles import perm
from posfleet.console import queries
from posfleet.console.forms import BulkConfirmForm, TerminalFilterForm
from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError, ValidationFailed
from posfleet.jobs.models import Job
from posfleet.lifecycle import bulk as bulk_holds
from posfleet.lifecycle import services as lifecycle
from posfleet.lifecycle import transitions
from posfleet.lifecycle.models import SENSITIVE_HOLD_KINDS, HoldKind
from posfleet.registry.filters import TerminalFilters
from posfleet.registry.models import Merchant, Terminal
from posfleet.web.staff import (
    console_actor,
    domain_error_response,
    recall_form,
    remember_form,
    safe_next,
    staff_view,
)

BULK_KEY = "posfleet_bulk"
MAX_SELECTION = 500
# Moves that need more input than a reason (allocate needs a merchant) are done from the detail page.
BULK_EXCLUDED = {"allocate"}


def hold_kinds_for(user: Any) -> list[tuple[str, Any]]:
    return [(k, label) for k, label in HoldKind.choices if user.has_perm(perm(f"hold_{k}"))]


def actions_for(user: Any) -> list[tuple[str, Any]]:
    """Lifecycle actions the user holds a permission for (any source state), with their labels."""
    out: dict[str, Any] = {}
    for move in transitions.TABLE:
        if move.action in BULK_EXCLUDED or move.action in out:
            continue
        if user.has_perm(perm(move.permission)):
            out[move.action] = move.label
    return list(out.items())


def bulk_operations(user: Any) -> list[tuple[str, Any]]:
    ops = [(f"apply:{a}", label) for a, label in actions_for(user)]
    ops += [(f"hold:{k}", _("Suspend: %(kind)s hold") % {"kind": label}) for k, label in hold_kinds_for(user)]
    return ops


def _filters(form: TerminalFilterForm) -> tuple[TerminalFilters, str]:
    """The registry's filters and the hold filter the form asks for (nothing when it is not valid)."""
    data = form.cleaned_data if form.is_valid() else {}
    model = data.get("model")
    wanted = TerminalFilters(
        search=data.get("q") or "",
        state=data.get("state") or "",
        model_id=model.pk if model else None,
        merchant_id=data.get("merchant"),
    )
    return wanted, data.get("hold") or ""


def _query_without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    return params.urlencode()


@staff_view(perm="view_fleet")
def terminal_list(request: HttpRequest) -> HttpResponse:
    form = TerminalFilterForm(request.GET or None)
    filters, hold = _filters(form) if request.GET else (TerminalFilters(), "")
    cleaned = form.cleaned_data if request.GET and form.is_valid() else {}
    matching = queries.matching_terminals(filters, hold=hold)
    page = queries.terminal_page(matching, after=cleaned.get("after"), before=cleaned.get("before"))
    merchant = Merchant.objects.filter(pk=filters.merchant_id).first() if filters.merchant_id else None
    base_query = _query_without_cursor(request)
    if page.next_after is None and page.prev_before is None:
        total, more = len(page.rows), False  # one page: it is the total, no count needed
    else:
        total, more = queries.capped_count(matching)
    context = {
        "form": form,
        "page": page,
        "total": total,
        "total_more": more,
        "filter_query": base_query,
        "max_selection": MAX_SELECTION,
        "rows": [(t, page.holds.get(t.pk, [])) for t in page.rows],
        "merchant": merchant,
        "base_query": base_query,
        "operations": bulk_operations(request.user),
        "return_url": request.get_full_path(),
    }
    template = "console/terminals/_results.html" if request.headers.get("HX-Request") else None
    return render(request, template or "console/terminals/list.html", context)


@require_POST
@staff_view(perm="view_fleet")
def bulk_start(request: HttpRequest) -> HttpResponse:
    """Keep the selection and the chosen operation in the session; go to the confirmation page."""
    back = safe_next(request, request.POST.get("return"), reverse("console:terminals"))
    tids = list(dict.fromkeys(t.strip() for t in request.POST.getlist("tid") if t.strip()))
    if request.POST.get("all_matching"):
        # Everything the list's filters match, on every page (the confirmation shows the count).
        form = TerminalFilterForm(QueryDict(request.POST.get("filter_query", "")))
        filters, hold = _filters(form)
        qs = queries.matching_terminals(filters, hold=hold).order_by("id")
        tids = list(qs.values_list("tid", flat=True)[: MAX_SELECTION + 1])
    op = request.POST.get("op", "")
    if not tids:
        messages.error(request, _("Select at least one terminal."))
        return HttpResponseRedirect(back)
    if len(tids) > MAX_SELECTION:
        messages.error(request, _("Select at most %(n)d terminals at once.") % {"n": MAX_SELECTION})
        return HttpResponseRedirect(back)
    if op not in dict(bulk_operations(request.user)):
        messages.error(request, _("Choose an action you are allowed to carry out."))
        return HttpResponseRedirect(back)
    key = secrets.token_urlsafe(9)
    store = dict(request.session.get(BULK_KEY, {}))
    store[key] = {"op": op, "tids": tids, "return": back}
    request.session[BULK_KEY] = dict(list(store.items())[-5:])
    return HttpResponseRedirect(reverse("console:bulk_confirm", args=[key]))


def _describe(op: str) -> tuple[str, str, Any]:
    kind, _sep, name = op.partition(":")
    if kind == "hold":
        label = _("Suspend: %(kind)s hold") % {"kind": HoldKind(name).label}
    else:
        move = next((t for t in transitions.TABLE if t.action == name), None)
        label = move.label if move else name
    return kind, name, label


@require_http_methods(["GET", "POST"])
@staff_view(perm="view_fleet")
def bulk_confirm(request: HttpRequest, key: str) -> HttpResponse:
    pending = request.session.get(BULK_KEY, {}).get(key)
    if pending is None:
        raise Http404(_("This selection has expired; select the terminals again."))
    op_kind, name, label = _describe(pending["op"])
    terminals = list(
        Terminal.objects.filter(tid__in=pending["tids"]).select_related("model", "merchant").order_by("tid")
    )
    here = reverse("console:bulk_confirm", args=[key])
    remembered = recall_form(request, here) if request.method == "GET" else None
    form = BulkConfirmForm(request.POST if request.method == "POST" else None, initial=remembered or {})
    actor = console_actor(request)
    moves = [transitions.find(t.state, name) if op_kind == "apply" else None for t in terminals]
    rows = [{"terminal": t, "move": move} for t, move in zip(terminals, moves, strict=True)]
    sensitive = (op_kind == "hold" and name in SENSITIVE_HOLD_KINDS) or any(
        m is not None and m.sensitive for m in moves
    )
    context = {
        "key": key,
        "form": form,
        "op_kind": op_kind,
        "action": name,
        "label": label,
        "rows": rows,
        "missing": sorted(set(pending["tids"]) - {t.tid for t in terminals}),
        "impossible": sum(1 for m in moves if m is None) if op_kind == "apply" else 0,
        "needs_step_up": (sensitive or len(terminals) > 1) and not actor.is_stepped_up,
        "return_url": pending["return"],
    }
    if request.method == "GET":
        return render(request, "console/terminals/bulk_confirm.html", context)
    if not form.is_valid():
        return render(request, "console/terminals/bulk_confirm.html", context, status=422)
    remember_form(
        request,
        here,
        {
            "reason": form.cleaned_data["reason"],
            "starts_at": request.POST.get("starts_at", ""),
            "ends_at": request.POST.get("ends_at", ""),
            "reason_category": request.POST.get("reason_category", ""),
            "merchant_message": request.POST.get("merchant_message", ""),
        },
    )
    try:
        if context["missing"]:
            raise ValidationFailed(
                _("Unknown terminals: %(tids)s.") % {"tids": ", ".join(context["missing"])}
            )
        with transaction.atomic():
            placed = _carry_out(actor, op_kind, name, terminals, form.cleaned_data)
    except DomainError as exc:
        return domain_error_response(
            request, exc, "console/terminals/bulk_confirm.html", context, step_up_next=here
        )
    recall_form(request, here)
    store = dict(request.session.get(BULK_KEY, {}))
    store.pop(key, None)
    request.session[BULK_KEY] = store
    count = len(terminals)
    if isinstance(placed, Job):
        messages.success(
            request,
            _("Queued: the worker places %(label)s on %(n)d terminal(s) as job #%(job)d.")
            % {"label": label, "n": count, "job": placed.pk},
        )
        return HttpResponseRedirect(reverse("console:jobs"))
    messages.success(request, _("Done: %(label)s on %(n)d terminal(s).") % {"label": label, "n": count})
    return HttpResponseRedirect(pending["return"])


def _carry_out(actor: Actor, op_kind: str, name: str, terminals: list[Terminal], data: dict[str, Any]) -> Any:
    """One hold on all the terminals (a job when there are many), or the move applied to each."""
    if op_kind == "hold":
        return bulk_holds.place(
            actor,
            kind=name,
            reason=data["reason"],
            terminals=terminals,
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
            reason_category=data.get("reason_category") or None,
            merchant_message=data.get("merchant_message") or "",
        )
    return lifecycle.apply_many(actor, [t.tid for t in terminals], name, reason=data["reason"])


def list_url(**params: Any) -> str:
    return (
        reverse("console:terminals")
        + "?"
        + urlencode({k: v for k, v in params.items() if v not in (None, "")})
    )
