"""Telling a merchant about a stop or a lift: the one entry point is `tell()`.

Lifecycle calls it inside the transaction of the change it reports (a hold placed or released, a
window's end written by the worker, a deactivation), so the notice exists exactly when the change
does and the API can name it in its answer. Nothing leaves the institution before commit: the
deliveries (SMS, e-mail, call, webhook) are jobs sent to the worker after it (`notices.deliveries`).

One notice per merchant per event: a bulk hold over many merchants' terminals tells each merchant once
about its own terminals. Issuing the same event again (a retried job, a second caller) returns the
notice already issued (`dedupe_key`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from posfleet.core.actor import Actor
from posfleet.core.errors import ValidationFailed
from posfleet.notices import deliveries
from posfleet.notices.choices import (
    APPEALABLE,
    DEFAULT_CATEGORY,
    LIFT_TEMPLATE,
    MATERIALS,
    NoticeEvent,
    ReasonCategory,
    template_for,
)
from posfleet.notices.models import Notice, NoticeKind
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Merchant, Terminal

KIND_OF_EVENT = {
    NoticeEvent.HOLD_PLACED: NoticeKind.STOP,
    NoticeEvent.HOLD_RELEASED: NoticeKind.LIFT,
    NoticeEvent.HOLD_ENDED: NoticeKind.LIFT,
    NoticeEvent.DEACTIVATED: NoticeKind.DEACTIVATION,
}
MESSAGE_MAX = 2000
LANGUAGE = "zh-hans"  # merchants read zh-CN; the portal shows the text as written
_BOUND = (TerminalState.ALLOCATED, TerminalState.ACTIVE, TerminalState.IN_REPAIR)


def check_category(category: str | None, default: str) -> str:
    value = (category or "").strip() or default
    if value not in ReasonCategory.values:
        raise ValidationFailed(
            _("Unknown reason category %(c)s.") % {"c": value},
            details={"reason_category": list(ReasonCategory.values)},
        )
    return value


def check_message(message: str | None) -> str:
    text = (message or "").strip()
    if len(text) > MESSAGE_MAX:
        raise ValidationFailed(
            _("The merchant's text is too long (2000 characters at most)."),
            details={"merchant_message": [_("At most 2000 characters.")]},
        )
    return text


def tell(
    actor: Actor,
    event: str,
    *,
    hold: Any = None,
    terminal: Terminal | None = None,
    category: str | None = None,
    message: str = "",
    tids: list[str] | None = None,
    whole: bool = False,
) -> list[Notice]:
    """Issue the notices of `event` (a `NoticeEvent`) in the caller's transaction: one per merchant
    concerned, each with its terminals, reason category, dates, what to do, the appeal deadline where
    one applies, and a verification code; deliveries go out after commit.

    `hold`: a hold placed, released or ended (`tids`: a bulk hold released for these terminals
    only, or, `whole`, as a whole by a job that released them chunk by chunk). `terminal`: a
    terminal deactivated."""
    if hold is not None:
        return _tell_hold(actor, event, hold, category, message, tids, whole)
    if terminal is not None and event == NoticeEvent.DEACTIVATED:
        return _tell_deactivation(actor, terminal, category, message)
    raise ValueError(f"nothing to tell for {event!r}")


def _targets(hold: Any, tids: list[str] | None) -> dict[int, list[str]]:
    """merchant id → the TIDs of that merchant the hold event concerns."""
    from posfleet.lifecycle.models import HoldTerminal

    rows: list[tuple[int | None, str]]
    if hold.on_merchant:
        merchant_tids = list(
            Terminal.objects.filter(merchant_id=hold.merchant_id, state__in=_BOUND)
            .order_by("tid")
            .values_list("tid", flat=True)
        )
        return {hold.merchant_id: merchant_tids}
    if not hold.bulk:
        t = hold.terminal
        rows = [(t.merchant_id, t.tid)] if t is not None else []
    elif tids is not None:
        rows = list(Terminal.objects.filter(tid__in=tids).values_list("merchant_id", "tid"))
    else:
        rows = list(
            HoldTerminal.objects.filter(hold_id=hold.pk, released_at__isnull=True).values_list(
                "terminal__merchant_id", "terminal__tid"
            )
        )
    by_merchant: dict[int, list[str]] = defaultdict(list)
    for merchant_id, tid in rows:
        if merchant_id is not None:  # a terminal in stock has nobody to tell
            by_merchant[merchant_id].append(tid)
    return {m: sorted(ts) for m, ts in by_merchant.items()}


def _placed_notice(hold_id: int) -> Notice | None:
    return Notice.objects.filter(hold_id=hold_id, kind=NoticeKind.STOP).order_by("id").first()


def _publish_at(hold: Any, event: str, now: datetime) -> datetime:
    """A maintenance window scheduled further ahead than the lead time is announced the lead time
    before it starts; every other stop (a retirement on a date, a freeze) is told at once."""
    if event != NoticeEvent.HOLD_PLACED or hold.kind != "maintenance":
        return now
    lead = timedelta(hours=settings.POSFLEET_NOTICE_LEAD_HOURS)
    return max(now, hold.starts_at - lead)


def _tell_hold(
    actor: Actor,
    event: str,
    hold: Any,
    category: str | None,
    message: str,
    tids: list[str] | None,
    whole: bool,
) -> list[Notice]:
    now = timezone.now()
    placed = _placed_notice(hold.pk) if event != NoticeEvent.HOLD_PLACED else None
    default = placed.reason_category if placed is not None and placed.reason_category else None
    category = check_category(category, default or DEFAULT_CATEGORY.get(hold.kind, ReasonCategory.POLICY))
    message = check_message(message)
    targets = _targets(hold, tids)
    suffix = f":{','.join(tids)}" if tids is not None and hold.bulk and not whole else ""
    keys = {m: f"hold:{hold.pk}:{event}:{m}{suffix}"[:120] for m in targets}
    existing = {n.dedupe_key: n for n in Notice.objects.filter(dedupe_key__in=list(keys.values()))}
    merchants = Merchant.objects.in_bulk(list(targets))
    out: list[Notice] = []
    for merchant_id, merchant_tids in sorted(targets.items()):
        known = existing.get(keys[merchant_id])
        if known is not None:
            out.append(known)
            continue
        out.append(
            _issue(
                actor,
                merchants[merchant_id],
                event,
                category=category,
                message=message,
                tids=merchant_tids,
                since=hold.starts_at,
                until=hold.released_at or hold.ends_at if event == NoticeEvent.HOLD_PLACED else now,
                hold_id=hold.pk,
                dedupe_key=keys[merchant_id],
                publish_at=_publish_at(hold, event, now),
            )
        )
    return out


def _batch() -> dict[Any, tuple[int, str]]:
    """Deactivation notices issued in the current transaction, by merchant: several terminals of one
    merchant deactivated together are told in one notice. Kept on the outermost atomic block."""
    conn = transaction.get_connection()
    if not conn.atomic_blocks:
        return {}
    block = conn.atomic_blocks[0]
    batch: dict[Any, tuple[int, str]] | None = getattr(block, "_posfleet_notice_batch", None)
    if batch is None:
        batch = {}
        block._posfleet_notice_batch = batch
        transaction.on_commit(batch.clear)
    return batch


def _tell_deactivation(actor: Actor, terminal: Terminal, category: str | None, message: str) -> list[Notice]:
    if terminal.merchant_id is None:
        return []
    category = check_category(category, ReasonCategory.POLICY)
    message = check_message(message)
    batch = _batch()
    key = (terminal.merchant_id, category, message, actor.name)
    known = batch.get(key)
    if known is not None:  # same transaction, same merchant: add the terminal to its notice
        notice = Notice.objects.filter(pk=known[0], code_hash=known[1]).first()
        if notice is not None:
            notice.terminals = sorted({*notice.terminals, terminal.tid})
            notice.facts = {**notice.facts, "terminals": notice.terminals}
            notice.save(update_fields=["terminals", "facts"])
            return [notice]
    merchant = Merchant.objects.get(pk=terminal.merchant_id)
    now = timezone.now()
    notice = _issue(
        actor,
        merchant,
        NoticeEvent.DEACTIVATED,
        category=category,
        message=message,
        tids=[terminal.tid],
        since=now,
        until=None,
        hold_id=None,
        dedupe_key=None,
        publish_at=now,
    )
    batch[key] = (notice.pk, notice.code_hash)
    return [notice]


def _title(event: str, category: str) -> str:
    label = str(ReasonCategory(category).label)
    if event == NoticeEvent.HOLD_PLACED:
        return _("Your POS terminals are stopped: %(reason)s") % {"reason": label}
    if event == NoticeEvent.HOLD_ENDED:
        return _("The stop is over: your POS terminals can take payments again")
    if event == NoticeEvent.HOLD_RELEASED:
        return _("The stop is lifted: your POS terminals can take payments again")
    return _("Your POS terminals are deactivated: %(reason)s") % {"reason": label}


def _issue(
    actor: Actor,
    merchant: Merchant,
    event: str,
    *,
    category: str,
    message: str,
    tids: list[str],
    since: datetime | None,
    until: datetime | None,
    hold_id: int | None,
    dedupe_key: str | None,
    publish_at: datetime,
) -> Notice:
    from posfleet.notices.services import _audit_and_announce, _new_notice

    stop = event in (NoticeEvent.HOLD_PLACED, NoticeEvent.DEACTIVATED)
    with translation.override(LANGUAGE):
        text = message or (template_for(category) if stop else str(LIFT_TEMPLATE))
        title = _title(event, category)
        materials = [str(m) for m in MATERIALS.get(category, [])] if stop else []
    appeal_by = None
    if stop and category in APPEALABLE:
        appeal_by = timezone.localdate(publish_at) + timedelta(days=settings.POSFLEET_APPEAL_DAYS)
    facts = {
        "event": event,
        "reason_category": category,
        "terminals": tids,
        "since": since,
        "until": until,
        "hotline": settings.POSFLEET_HOTLINE,
        "materials": materials,
        "appeal_deadline": appeal_by,
    }
    notice = _new_notice(
        actor,
        merchant=merchant,
        kind=KIND_OF_EVENT[NoticeEvent(event)],
        title=title,
        body=text,
        facts=facts,
        case_id=None,
        language=LANGUAGE,
        reason_category=category,
        terminals=tids,
        hold_id=hold_id,
        dedupe_key=dedupe_key,
        publish_at=publish_at,
    )
    code: str = notice.code  # type: ignore[attr-defined]
    _audit_and_announce(actor, notice, code)
    deliveries.plan(notice)
    return notice
