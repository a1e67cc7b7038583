"""After a stop: a stopped terminal's refused attempts, and alerts for a device that keeps trying.

The answer's path only inserts one `RefusedAttempt` row per refusal (`eligibility.answer_and_count`)
and reads nothing more; everything here reads those rows later. A terminal's page shows how many
attempts were refused since it stopped and when the last one came. A periodic scan walks the new
rows by id and raises a `DeviceAlert` in the risk queue for a terminal stopped for good (deactivated,
returned or retired, or its merchant closed) that still asks: once per terminal per day, counting
attempts, however many it makes. Running the scan twice, late or concurrently is harmless: it reads
from a locked watermark and adds each attempt once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, PermissionDenied
from posfleet.lifecycle.models import DeviceAlert, DeviceAlertReason, Hold, RefusalScan, RefusedAttempt
from posfleet.lifecycle.services import require_reason
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Terminal

GONE_STATES = (TerminalState.DEACTIVATED, TerminalState.RETURNED, TerminalState.RETIRED)
SCAN_BATCH = 5000
ALERT_PERM = "hold_risk_freeze"  # the risk officer's queue


@dataclass(frozen=True)
class Refusals:
    since: datetime
    count: int
    last_at: datetime | None


def stopped_since(terminal: Terminal, now: datetime | None = None) -> datetime | None:
    """When the terminal's current stop began (None if it may transact): the earliest of the holds in
    force on it or its merchant, its leaving `active`, its merchant's leaving `active`."""
    now = now or timezone.now()
    starts: list[datetime] = []
    if terminal.state != TerminalState.ACTIVE:
        starts.append(terminal.updated_at)
    merchant = terminal.merchant if terminal.merchant_id else None
    if merchant is not None and merchant.state != MerchantState.ACTIVE:
        starts.append(merchant.updated_at)
    held = (
        Hold.objects.standing_on(terminal.pk, terminal.merchant_id)
        .in_force(now)
        .aggregate(first=Min("starts_at"))["first"]
    )
    if held is not None:
        starts.append(held)
    return min(starts) if starts else None


def refusals_since_stop(terminal: Terminal, now: datetime | None = None) -> Refusals | None:
    """Attempts refused since the terminal stopped (count, last time); None while it may transact."""
    since = stopped_since(terminal, now)
    if since is None:
        return None
    agg = RefusedAttempt.objects.filter(tid=terminal.tid, at__gte=since).aggregate(
        n=Count("id"), last=Max("at")
    )
    return Refusals(since, int(agg["n"] or 0), agg["last"])


def _reason(terminal: Terminal) -> str | None:
    if terminal.state in GONE_STATES:
        return DeviceAlertReason.TERMINAL_STOPPED_FOR_GOOD
    if terminal.merchant is not None and terminal.merchant.state == MerchantState.CLOSED:
        return DeviceAlertReason.MERCHANT_CLOSED
    return None


def scan_refusals(batch: int = SCAN_BATCH) -> int:
    """Read the refusals since the last scan; raise or update alerts. Returns alerts raised."""
    raised = 0
    while True:
        with transaction.atomic():
            scan = RefusalScan.objects.select_for_update().filter(pk=1).first()
            if scan is None:
                RefusalScan.objects.get_or_create(pk=1)
                scan = RefusalScan.objects.select_for_update().get(pk=1)
            rows = list(
                RefusedAttempt.objects.filter(pk__gt=scan.last_attempt_id)
                .order_by("pk")
                .values_list("pk", "tid", "at")[:batch]
            )
            if not rows:
                return raised
            raised += _alert(rows)
            scan.last_attempt_id = rows[-1][0]
            scan.scanned_at = timezone.now()
            scan.save(update_fields=["last_attempt_id", "scanned_at"])
            if len(rows) < batch:
                return raised


def _alert(rows: list[tuple[int, str, datetime]]) -> int:
    by_key: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    for _pk, tid, at in rows:
        by_key[(tid, timezone.localdate(at))].append(at)
    terminals = {
        t.tid: t
        for t in Terminal.objects.select_related("merchant").filter(tid__in={tid for tid, _day in by_key})
    }
    system = Actor.system("worker", name="refusal scan")
    raised = 0
    for (tid, day), times in sorted(by_key.items()):
        terminal = terminals.get(tid)
        reason = _reason(terminal) if terminal is not None else None
        if terminal is None or reason is None:
            continue
        alert = DeviceAlert.objects.select_for_update().filter(terminal=terminal, day=day).first()
        if alert is None:
            alert = DeviceAlert.objects.create(
                terminal=terminal,
                day=day,
                reason=reason,
                attempts=len(times),
                first_at=min(times),
                last_at=max(times),
            )
            after = {"alert_id": alert.pk, "reason": reason, "day": day.isoformat(), "state": terminal.state}
            record(
                system, Change("terminal", tid, "alert.raise", None, after, str(alert.get_reason_display()))
            )
            raised += 1
        else:
            alert.attempts += len(times)
            alert.last_at = max(alert.last_at, *times)
            alert.save(update_fields=["attempts", "last_at"])
    return raised


def open_alerts() -> Any:
    return DeviceAlert.objects.filter(acknowledged_at__isnull=True).select_related(
        "terminal", "terminal__merchant"
    )


def acknowledge(actor: Actor, alert_id: int, note: str) -> DeviceAlert:
    """A risk officer has looked at the alert (what was done goes in the note); it leaves the queue."""
    if not actor.has_perm(perm(ALERT_PERM)):
        raise PermissionDenied()
    text = require_reason(note)
    alert = DeviceAlert.objects.select_for_update().select_related("terminal").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(_("No alert %(id)s.") % {"id": alert_id})
    if alert.acknowledged_at is not None:
        raise Conflict(_("This alert was already acknowledged."), code="alert_acknowledged")
    now = timezone.now()
    alert.acknowledged_at, alert.acknowledged_by, alert.note = now, actor.user, text
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    after = {"alert_id": alert.pk, "acknowledged": True, "attempts": alert.attempts}
    record(actor, Change("terminal", alert.terminal.tid, "alert.acknowledge", None, after, text), at=now)
    return alert
