"""Read models for the money pages: daily totals and the chart geometry (no business rules here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from posfleet.money.models import DayTotal, Transaction


@dataclass
class Day:
    day: date
    count: int
    volume_fen: int  # sales minus refunds and reversals
    fee_fen: int
    flagged: int = 0


def daily_totals(days: int = 30, *, merchant_id: int | None = None, today: date | None = None) -> list[Day]:
    """One row per business day (Asia/Shanghai) for the last `days` days, empty days included."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows: Any
    if merchant_id is not None:  # one merchant's range of tx_merchant_day_idx (covering)
        rows = (
            Transaction.objects.filter(merchant_id=merchant_id, business_date__range=(first, today))
            .annotate(day=F("business_date"))
            .values("day")
            .annotate(
                n=Count("id"),
                sales=Sum("amount_fen", filter=Q(type="sale")),
                back=Sum("amount_fen", filter=~Q(type="sale")),
                fees=Sum("fee_fen"),
            )
            .order_by("day")
        )
    else:  # everyone's: the daily rollups, at most days × rollup.BUCKETS rows
        rows = (
            DayTotal.objects.filter(business_date__range=(first, today))
            .annotate(day=F("business_date"))
            .values("day")
            .annotate(
                n=Sum("count"),
                sales=Sum("sales_fen"),
                back=Sum("back_fen"),
                fees=Sum("fee_fen"),
                flagged=Sum("flagged"),
            )
            .order_by("day")
        )
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        r: dict[str, Any] = by_day.get(d) or {}
        volume = (r.get("sales") or 0) - (r.get("back") or 0)
        out.append(Day(d, r.get("n") or 0, volume, r.get("fees") or 0, r.get("flagged") or 0))
    return out


@dataclass
class Bar:
    x: int
    y: int
    height: int
    label: str
    value_fen: int
    tick: bool


def bars(days: list[Day], attr: str, *, height: int = 160, step: int = 22) -> list[Bar]:
    """SVG geometry: one bar per day scaled to the period's maximum (negative days draw as 0)."""
    values = [max(getattr(d, attr), 0) for d in days]
    top = max(values) or 1
    out = []
    for i, (d, v) in enumerate(zip(days, values, strict=True)):
        h = round(v * height / top)
        out.append(
            Bar(40 + i * step, 10 + height - h, h, d.day.strftime("%m-%d"), getattr(d, attr), i % 5 == 0)
        )
    return out
