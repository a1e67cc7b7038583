"""Case queues by kind and state, oldest first with their SLA age; keyset pagination on the id."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from posfleet.cases import services as case_services
from posfleet.cases.choices import OPEN_STATES, CaseKind, CaseState
from posfleet.cases.models import Case
from posfleet.web.staff import console_actor, domain_errors, staff_view

PAGE = 50


def _int(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text.isdigit() or len(text) > 18:
        return 0
    return int(text)


@staff_view
@domain_errors
def queue(request: HttpRequest) -> HttpResponse:
    """Open cases (or one state) of one kind or all, the longest-waiting first."""
    kind = request.GET.get("kind") or None
    state = request.GET.get("state") or None
    after = _int(request.GET.get("after"))
    qs = case_services.cases_for(console_actor(request), kind=kind, state=state)
    if state is None:
        qs = qs.filter(state__in=OPEN_STATES)
    page = list(qs.filter(id__gt=after).order_by("id")[: PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    rows = [
        {
            "case": c,
            "age_hours": int(c.age.total_seconds() // 3600),
            "sla_hours": c.sla_hours,
            "overdue": c.overdue,
        }
        for c in page
    ]
    counts: dict[tuple[str, str], int] = {
        (r["kind"], r["state"]): r["n"]
        for r in Case.objects.filter(state__in=OPEN_STATES).values("kind", "state").annotate(n=Count("id"))
    }
    summary: list[dict[str, Any]] = [
        {
            "kind": k,
            "label": label,
            "cells": [{"state": s, "n": counts.get((k, s), 0)} for s in OPEN_STATES],
        }
        for k, label in CaseKind.choices
    ]
    context = {
        "rows": rows,
        "kind": kind or "",
        "state": state or "",
        "kinds": CaseKind.choices,
        "states": CaseState.choices,
        "open_states": [(s, CaseState(s).label) for s in OPEN_STATES],
        "summary": summary,
        "next_after": page[-1].pk if more and page else None,
    }
    return render(request, "cases/queue.html", context)
