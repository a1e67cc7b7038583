"""Prevention: terminals due for inspection (interval per model), a terminal's repair history, and the
fleet figures a manager reads (faults per model per month, mean time to repair).

The figures are aggregate queries over the repair tables, grouped in the database: one query each,
whatever the fleet's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal, TerminalModel
from posfleet.repair.choices import RepairState
from posfleet.repair.models import Fault, RepairOrder, Swap

INSPECTED_STATES = (TerminalState.ACTIVE,)


def due_for_inspection(now: datetime | None = None) -> QuerySet[Terminal]:
    """Active terminals whose last inspection (or, never inspected, registration) is older than their
    model's interval, the longest overdue first."""
    now = now or timezone.now()
    due = Q(pk__in=[])
    for model_id, days in TerminalModel.objects.values_list("id", "inspection_interval_days"):
        due |= Q(model_id=model_id, since__lte=now - timedelta(days=days))
    return (
        Terminal.objects.filter(state__in=INSPECTED_STATES)
        .annotate(since=Coalesce("last_inspected_at", "created_at"))
        .filter(due)
        .select_related("model", "merchant")
        .order_by("since", "id")
    )


def history(terminal: Terminal) -> dict[str, Any]:
    """The repair orders of a TID's devices and its swaps, newest first."""
    orders = list(
        RepairOrder.objects.filter(Q(terminal=terminal) | Q(fault__tid=terminal.tid))
        .select_related("fault")
        .order_by("-id")
    )
    swaps = list(
        Swap.objects.filter(Q(tid=terminal.tid) | Q(terminal=terminal) | Q(old_terminal=terminal)).order_by(
            "-id"
        )
    )
    return {"orders": orders, "swaps": swaps}


@dataclass(frozen=True)
class ModelMonth:
    model: str
    month: str
    faults: int


def faults_per_model_month(months: int = 12, now: datetime | None = None) -> list[ModelMonth]:
    """Faults reported per terminal model per month, over the last `months` months."""
    now = now or timezone.now()
    start = (now - timedelta(days=31 * months)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = (
        Fault.objects.filter(created_at__gte=start)
        .annotate(month=TruncMonth("created_at"))
        .values("terminal__model__name", "month")
        .annotate(n=Count("id"))
        .order_by("month", "terminal__model__name")
    )
    return [ModelMonth(r["terminal__model__name"], r["month"].strftime("%Y-%m"), r["n"]) for r in rows]


@dataclass(frozen=True)
class Mttr:
    model: str
    repairs: int
    mean_hours: float


def mean_time_to_repair() -> list[Mttr]:
    """Per model: repairs ended (done or fixed remotely) and the mean hours from report to end."""
    span = ExpressionWrapper(F("finished_at") - F("created_at"), output_field=DurationField())
    rows = (
        RepairOrder.objects.filter(
            state__in=(RepairState.DONE, RepairState.REMOTE_FIX), finished_at__isnull=False
        )
        .values("terminal__model__name")
        .annotate(n=Count("id"), total=Sum(span, output_field=DurationField()))
        .order_by("terminal__model__name")
    )
    out = []
    for r in rows:
        total: timedelta = r["total"] or timedelta(0)
        out.append(Mttr(r["terminal__model__name"], r["n"], round(total.total_seconds() / 3600 / r["n"], 1)))
    return out
