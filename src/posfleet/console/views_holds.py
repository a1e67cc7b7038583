"""Bulk holds (a maintenance window on many terminals, say): each in force or scheduled, with how many
terminals it still stops, released as a whole in one step (step-up) instead of terminal by terminal."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from posfleet.console.views_terminals import hold_kinds_for
from posfleet.lifecycle.models import Hold
from posfleet.web.staff import staff_view


@staff_view(perm="view_fleet")
def bulk_holds(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = (
        Hold.objects.filter(bulk=True, released_at__isnull=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("placed_by")
        .annotate(under=Count("links", filter=Q(links__released_at__isnull=True)))
        .order_by("starts_at", "id")[:200]
    )
    return render(
        request,
        "console/holds.html",
        {"rows": rows, "release_kinds": {k for k, _label in hold_kinds_for(request.user)}, "now": now},
    )
