"""Placing and releasing holds (DESIGN.md §3). Holds stack; releasing one never touches another.

Permission is per kind (`hold_<kind>`); risk freezes and compliance holds are sensitive (step-up).
A hold on many terminals at once is one bulk hold linked to each (`HoldTerminal`), with one audit
event per terminal, in one transaction; it is released as a whole or for one terminal.

Every placing, release and end tells the merchants concerned (`notices.stops.tell`, in the same
transaction; the channels send after commit): the category and merchant-facing text staff chose, never
the internal reason. The notices are on the returned hold as `hold.notices`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record, record_bulk
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from posfleet.core.sql import Statement
from posfleet.lifecycle.models import SENSITIVE_HOLD_KINDS, Hold, HoldKind, HoldTerminal
from posfleet.lifecycle.services import get_terminal, require_reason
from posfleet.notices import stops
from posfleet.notices.choices import NoticeEvent
from posfleet.registry.models import Merchant, Terminal


def _tell(actor: Actor, hold: Hold, event: str, **kwargs: Any) -> Hold:
    hold.notices = stops.tell(actor, event, hold=hold, **kwargs)  # type: ignore[attr-defined]
    return hold


def _check_kind(actor: Actor, kind: str) -> None:
    if kind not in HoldKind.values:
        raise ValidationFailed(
            _("Unknown hold kind %(kind)s.") % {"kind": kind}, details={"kind": list(HoldKind.values)}
        )
    if not actor.has_perm(perm(f"hold_{kind}")):
        raise PermissionDenied()
    if kind in SENSITIVE_HOLD_KINDS:
        require_step_up(actor)


def _window(
    starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> tuple[datetime, datetime | None]:
    start = starts_at or now
    for value in (start, ends_at):
        if value is not None and timezone.is_naive(value):
            raise ValidationFailed(_("Times must carry a time zone offset (ISO 8601)."))
    if ends_at is not None and ends_at <= start:
        raise ValidationFailed(
            _("The end must be after the start."), details={"ends_at": [_("Must be after the start.")]}
        )
    if ends_at is not None and ends_at <= now:
        raise ValidationFailed(
            _("The end must be in the future."), details={"ends_at": [_("Must be in the future.")]}
        )
    return start, ends_at


def snapshot(hold: Hold) -> dict[str, Any]:
    return {
        "kind": hold.kind,
        "target": hold.target_label,
        "starts_at": hold.starts_at.isoformat(),
        "ends_at": hold.ends_at.isoformat() if hold.ends_at else None,
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "version": hold.version,
    }


def _tid(hold: Hold) -> str:
    return hold.terminal.tid if hold.terminal is not None else ""


def _after_commit(hold_id: int, action: str) -> None:
    from posfleet.lifecycle import signals

    transaction.on_commit(lambda: signals.hold_changed.send(sender=Hold, hold_id=hold_id, action=action))


def place_hold(
    actor: Actor,
    *,
    kind: str,
    reason: str,
    tid: str | None = None,
    merchant_id: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    reason_category: str | None = None,
    merchant_message: str = "",
) -> Hold:
    """Put a hold on one terminal (`tid`) or one merchant (`merchant_id`); its merchant is told."""
    _check_kind(actor, kind)
    text = require_reason(reason)
    stops.check_category(reason_category, "policy")
    stops.check_message(merchant_message)
    now = timezone.now()
    start, end = _window(starts_at, ends_at, now)
    if (tid is None) == (merchant_id is None):
        raise ValidationFailed(_("Name either a terminal or a merchant."))
    if tid is not None:
        terminal = get_terminal(tid)
        hold = Hold(terminal=terminal, merchant_id=terminal.merchant_id, on_merchant=False)
        object_type, object_id = "terminal", terminal.tid
    else:
        merchant = Merchant.objects.filter(pk=merchant_id or 0).first()
        if merchant is None:
            raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
        hold = Hold(merchant=merchant, on_merchant=True)
        object_type, object_id = "merchant", str(merchant.pk)
    hold.kind, hold.reason, hold.placed_at, hold.starts_at, hold.ends_at = kind, text, now, start, end
    hold.placed_by = actor.user
    hold.save()
    after = snapshot(hold) | {"hold_id": hold.pk}
    record(actor, Change(object_type, object_id, "hold.place", None, after, text), at=now)
    _after_commit(hold.pk, "place")
    return _tell(actor, hold, NoticeEvent.HOLD_PLACED, category=reason_category, message=merchant_message)


class BulkTerms(TypedDict):
    """What `place_bulk` takes besides the terminals, for `bulk.place` to hand on as it is."""

    kind: str
    reason: str
    starts_at: NotRequired[datetime | None]
    ends_at: NotRequired[datetime | None]
    reason_category: NotRequired[str | None]
    merchant_message: NotRequired[str]


# The links come from the terminal table itself, driven by the list of ids (SQLite walks a JSON
# array, PostgreSQL unnests an array), so a terminal that vanished since it was selected is missed
# and counted. One INSERT … SELECT: the ORM's per-value preparation (and SQLite's 999-parameter cap)
# made a 100k-terminal hold take minutes, and even executemany spent more time binding parameters
# in Python than SQLite spent writing the rows.
_LINK = Statement(
    "INSERT INTO lifecycle_holdterminal (terminal_id, hold_id, released_at) "
    "SELECT t.id, %s, NULL FROM json_each(%s) AS j JOIN registry_terminal t ON t.id = j.value"
)
_LINK_PG = Statement(
    "INSERT INTO lifecycle_holdterminal (terminal_id, hold_id, released_at) "
    "SELECT t.id, %s, NULL FROM unnest(%s::bigint[]) AS u(id) JOIN registry_terminal t ON t.id = u.id"
)


def place_bulk(
    actor: Actor,
    *,
    kind: str,
    reason: str,
    terminals: Sequence[Terminal],
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    reason_category: str | None = None,
    merchant_message: str = "",
) -> Hold:
    """One hold on all `terminals` at once and one audit event on each, in the caller's transaction;
    step-up as for any bulk change. Several terminals get one bulk hold linked to each of them
    (`HoldTerminal`); a single terminal gets an ordinary terminal hold. Each merchant is told once."""
    _check_kind(actor, kind)
    text = require_reason(reason)
    stops.check_category(reason_category, "policy")
    stops.check_message(merchant_message)
    if not terminals:
        raise ValidationFailed(_("Select at least one terminal."))
    tid_of = {t.id: t.tid for t in terminals}  # once each, in the caller's order
    if len(tid_of) == 1:
        return place_hold(
            actor,
            kind=kind,
            reason=text,
            tid=next(iter(tid_of.values())),
            starts_at=starts_at,
            ends_at=ends_at,
            reason_category=reason_category,
            merchant_message=merchant_message,
        )
    require_step_up(actor)
    now = timezone.now()
    start, end = _window(starts_at, ends_at, now)
    hold = Hold(
        bulk=True, on_merchant=False, kind=kind, reason=text, placed_at=now, starts_at=start, ends_at=end
    )
    hold.placed_by = actor.user
    hold.save()
    conn = transaction.get_connection()
    vendor = conn.vendor
    ids = list(tid_of)
    params = [hold.pk, ids] if vendor == "postgresql" else [hold.pk, json.dumps(ids)]

    def link() -> None:  # run by record_bulk, beside the hashing of the events (SQLite)
        statement = _LINK_PG if vendor == "postgresql" else _LINK
        with conn.cursor() as cursor:
            if statement.run(cursor, vendor, params).rowcount != len(ids):
                raise NotFound(_("Some of the selected terminals no longer exist."))

    after = snapshot(hold) | {"hold_id": hold.pk}
    record_bulk(
        actor,
        "terminal",
        list(tid_of.values()),
        "hold.place",
        after=after,
        reason=text,
        at=now,
        alongside=link,
    )
    _after_commit(hold.pk, "place")
    return _tell(actor, hold, NoticeEvent.HOLD_PLACED, category=reason_category, message=merchant_message)


def get_hold(hold_id: int, *, for_update: bool = False) -> Hold:
    qs = Hold.objects.select_related("terminal")
    if for_update:
        qs = qs.select_for_update(of=("self",), no_key=True)
    hold = qs.filter(pk=hold_id).first()
    if hold is None:
        raise NotFound(_("No hold %(id)s.") % {"id": hold_id})
    return hold


def release_hold(
    actor: Actor,
    hold_id: int,
    *,
    reason: str,
    expected_version: int | None = None,
    tid: str | None = None,
    merchant_message: str = "",
) -> Hold:
    """End one hold now; other holds on the same terminal or merchant stay. With `tid`, a bulk hold
    ends for that terminal alone (the others stay under it); releasing a bulk hold as a whole is a
    bulk change (step-up) and writes one event on each terminal still under it. The merchants
    concerned are told of the lift."""
    hold = get_hold(hold_id, for_update=True)
    _check_kind(actor, hold.kind)
    text = require_reason(reason)
    stops.check_message(merchant_message)
    if expected_version is not None and expected_version != hold.version:
        raise StaleVersion(details={"current_version": hold.version})
    now = timezone.now()
    if hold.released_at is not None or (hold.ends_at is not None and hold.ends_at <= now):
        raise Conflict(_("This hold has already ended."), code="hold_ended")
    if tid is not None and hold.bulk:
        hold = _release_link(actor, hold, tid, text, now)
        return _tell(actor, hold, NoticeEvent.HOLD_RELEASED, message=merchant_message, tids=[tid])
    if tid is not None and _tid(hold) != tid:
        raise NotFound(_("Hold %(id)s does not stand on terminal %(tid)s.") % {"id": hold.pk, "tid": tid})
    if hold.bulk:
        require_step_up(actor)
    before = snapshot(hold)
    updated = Hold.objects.filter(pk=hold.pk, version=hold.version).update(
        released_at=now, released_by=actor.user, release_reason=text, closed=True, version=hold.version + 1
    )
    if updated != 1:
        raise StaleVersion()
    hold.refresh_from_db()
    after = snapshot(hold) | {"hold_id": hold.pk}
    if hold.bulk:
        tids = _linked_tids(hold.pk)
        record_bulk(actor, "terminal", tids, "hold.release", before=before, after=after, reason=text, at=now)
    else:
        object_type, object_id = (
            ("merchant", str(hold.merchant_id)) if hold.on_merchant else ("terminal", _tid(hold))
        )
        record(actor, Change(object_type, object_id, "hold.release", before, after, text), at=now)
    _after_commit(hold.pk, "release")
    return _tell(actor, hold, NoticeEvent.HOLD_RELEASED, message=merchant_message)


def _linked_tids(hold_id: int) -> list[str]:
    """The TIDs still under a bulk hold (not released for them alone), in terminal order."""
    return list(
        HoldTerminal.objects.filter(hold_id=hold_id, released_at__isnull=True)
        .order_by("terminal_id")
        .values_list("terminal__tid", flat=True)
    )


def _release_link(actor: Actor, hold: Hold, tid: str, text: str, now: datetime) -> Hold:
    """A bulk hold ends for one terminal: its link gets `released_at`, the hold its next version."""
    link = (
        HoldTerminal.objects.select_for_update(no_key=True).filter(hold_id=hold.pk, terminal__tid=tid).first()
    )
    if link is None:
        raise NotFound(_("Hold %(id)s does not stand on terminal %(tid)s.") % {"id": hold.pk, "tid": tid})
    if link.released_at is not None:
        raise Conflict(_("This hold has already ended."), code="hold_ended")
    before = snapshot(hold)
    HoldTerminal.objects.filter(hold_id=hold.pk, terminal_id=link.terminal_id).update(released_at=now)
    if Hold.objects.filter(pk=hold.pk, version=hold.version).update(version=hold.version + 1) != 1:
        raise StaleVersion()
    hold.refresh_from_db()
    after = snapshot(hold) | {"hold_id": hold.pk, "released_at": now.isoformat(), "terminal_only": True}
    record(actor, Change("terminal", tid, "hold.release", before, after, text), at=now)
    _after_commit(hold.pk, "release")
    return hold


def close_ended_holds(now: datetime | None = None, batch: int = 1000) -> int:
    """Worker: write the end of holds whose `ends_at` has passed. The answer never waits for this.
    A bulk hold's end is written on each terminal still under it."""
    now = now or timezone.now()
    actor = Actor.system()
    closed = 0
    while True:
        with transaction.atomic():
            due = list(
                Hold.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
                .select_related("terminal")
                .filter(closed=False, released_at__isnull=True, ends_at__lte=now)
                .order_by("ends_at", "id")[:batch]  # hold_to_close_idx
            )
            if not due:
                return closed
            Hold.objects.filter(pk__in=[h.pk for h in due]).update(closed=True)
            record(
                actor,
                [
                    Change(
                        "merchant" if h.on_merchant else "terminal",
                        str(h.merchant_id) if h.on_merchant else _tid(h),
                        "hold.expire",
                        snapshot(h),
                        snapshot(h) | {"closed": True, "hold_id": h.pk},
                        "scheduled end reached",
                    )
                    for h in due
                    if not h.bulk
                ],
            )
            for h in due:
                if h.bulk:
                    after = snapshot(h) | {"closed": True, "hold_id": h.pk}
                    record_bulk(
                        actor, "terminal", _linked_tids(h.pk), "hold.expire",
                        before=snapshot(h), after=after, reason="scheduled end reached",
                    )  # fmt: skip
            for h in due:
                stops.tell(actor, NoticeEvent.HOLD_ENDED, hold=h)
            closed += len(due)
