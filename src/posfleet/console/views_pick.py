"""Pickers: the few merchants or terminals matching what a person typed, as buttons to choose from
(HTMX swaps them under the search box; see console/_picker.html)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from posfleet.registry import pickers
from posfleet.web.staff import staff_view


@staff_view(perm="view_fleet")
def pick_merchants(request: HttpRequest) -> HttpResponse:
    rows = [
        (m.pk, m.name, f"{m.name} · {m.phone} · {m.licence_no}", m.get_state_display())
        for m in pickers.pick_merchants(request.GET.get("pick", ""), states=_states(request))
    ]
    return render(request, "console/_pick_results.html", {"rows": rows})


@staff_view(perm="view_fleet")
def pick_terminals(request: HttpRequest) -> HttpResponse:
    rows = [
        (
            t.tid,
            t.tid,
            " · ".join(x for x in (t.tid, t.model.name, t.merchant.name if t.merchant else "") if x),
            t.get_state_display(),
        )
        for t in pickers.pick_terminals(request.GET.get("pick", ""), states=_states(request))
    ]
    return render(request, "console/_pick_results.html", {"rows": rows})


def _states(request: HttpRequest) -> list[str]:
    return [s for s in request.GET.get("states", "").split(",") if s]
