"""A manager's morning on one page: what waits on people today, each a number with the list behind it,
and 30-day trends where a number alone says little. One cheap query per number (indexed filters or a
GROUP BY over 30 days); each card only for a role that may open its list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.cases.choices import CaseState
from posfleet.cases.models import Case
from posfleet.core.amounts import money
from posfleet.keys.models import DestructionRequest, RequestState
from posfleet.lifecycle.models import RefusedAttempt
from posfleet.money import queries as money_queries
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from posfleet.settlement.models import OPEN_DISPUTE_STATES, BatchState, Dispute, SettlementBatch

OVERDUE_AFTER = timedelta(days=2)  # a case waiting for review longer than this is overdue
TREND_DAYS = 30


@dataclass
class Card:
    key: str
    label: str
    value: str
    url: str
    note: str = ""
    trend: list[int] = field(default_factory=list)
    alert: bool = False

    @property
    def points(self) -> str:
        """The trend as SVG polyline points in a 120×28 box."""
        if not self.trend:
            return ""
        top = max(self.trend) or 1
        step = 120 / max(1, len(self.trend) - 1)
        return " ".join(f"{i * step:.1f},{28 - 26 * v / top:.1f}" for i, v in enumerate(self.trend))


def _midnight(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))


def _review_cards(now: datetime) -> list[Card]:
    waiting = Case.objects.filter(state=CaseState.SUBMITTED).aggregate(n=Count("id"), first=Min("created_at"))
    overdue = Case.objects.filter(state=CaseState.SUBMITTED, created_at__lt=now - OVERDUE_AFTER).count()
    queue = reverse("cases:queue") + "?state=submitted"
    return [
        Card("cases_waiting", _("Cases awaiting review"), str(waiting["n"]), queue),
        Card(
            "cases_overdue",
            _("Overdue (waiting more than 2 days)"),
            str(overdue),
            queue,
            alert=overdue > 0,
        ),
    ]


def _money_cards(now: datetime) -> list[Card]:
    disputes = Dispute.objects.filter(state__in=OPEN_DISPUTE_STATES).aggregate(n=Count("id"), due=Min("due"))
    days = money_queries.daily_totals(TREND_DAYS)
    held = SettlementBatch.objects.filter(state=BatchState.HELD).aggregate(n=Count("id"), fen=Sum("net_fen"))
    return [
        Card(
            "disputes_open",
            _("Open disputes"),
            str(disputes["n"]),
            reverse("settlement:disputes"),
            _("next deadline %(date)s") % {"date": disputes["due"].isoformat()} if disputes["due"] else "",
            alert=bool(disputes["due"] and disputes["due"] <= timezone.localdate(now) + timedelta(days=2)),
        ),
        Card(
            "volume_today",
            _("Today's volume"),
            money(days[-1].volume_fen if days else 0),
            reverse("money:overview"),
            trend=[d.volume_fen for d in days],
        ),
        Card(
            "settlement_held",
            _("Held settlement"),
            money(held["fen"] or 0),
            reverse("settlement:run"),
            _("%(n)d batches") % {"n": held["n"]},
        ),
    ]


def _fleet_cards(now: datetime) -> list[Card]:
    start = _midnight(now) - timedelta(days=TREND_DAYS - 1)
    per_day = dict(
        RefusedAttempt.objects.filter(at__gte=start)
        .annotate(day=TruncDate("at"))
        .order_by()
        .values_list("day")
        .annotate(n=Count("id"))
    )
    trend = [per_day.get((start + timedelta(days=i)).date(), 0) for i in range(TREND_DAYS)]
    returns = Terminal.objects.filter(state=TerminalState.DEACTIVATED).count()
    return [
        Card(
            "refused_today",
            _("Refused attempts today"),
            str(trend[-1]),
            reverse("money:overview") + "#flagged",
            trend=trend,
            alert=trend[-1] > 0,
        ),
        Card(
            "returns_waiting",
            _("Stopped terminals awaiting return and inspection"),
            str(returns),
            reverse("console:terminals") + "?state=deactivated",
        ),
    ]


def _keys_cards(now: datetime) -> list[Card]:
    pending = DestructionRequest.objects.filter(state=RequestState.PENDING).count()
    return [
        Card(
            "keys_waiting",
            _("Key destructions awaiting a second custodian"),
            str(pending),
            reverse("keys:index"),
            alert=pending > 0,
        )
    ]


# Each capability brings its own cards, in this order.
CARDS: tuple[tuple[str, Callable[[datetime], list[Card]]], ...] = (
    ("accounts.review_case", _review_cards),
    ("accounts.view_money", _money_cards),
    ("accounts.view_fleet", _fleet_cards),
    ("accounts.destroy_keys", _keys_cards),
)


def cards(user: Any, now: datetime | None = None) -> list[Card]:
    """The cards of the morning page that the user's capabilities allow."""
    at = now or timezone.now()
    return [card for perm, build in CARDS if user.has_perm(perm) for card in build(at)]
