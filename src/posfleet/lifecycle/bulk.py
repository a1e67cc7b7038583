"""Bulk holds as jobs: a hold placed on, or released from, more terminals than BULK_INLINE_MAX.

Smaller selections are done inside the request, all or nothing. Bigger ones are checked there the same
way (permission, step-up, reason, window), then carried out by the worker CHUNK terminals at a time,
each chunk's links, audit events and the job's checkpoint in one transaction. A worker killed half-way
loses only the uncommitted chunk; the next attempt goes on after the last committed one, so no
terminal is linked, released or audited twice. While placing, the hold is in force on the terminals
linked so far (the jobs page shows how many); the last released chunk ends the hold. The events name
the person who asked, through their channel.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Unpack

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import record_bulk
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, StaleVersion
from posfleet.jobs import files, registry
from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job
from posfleet.jobs.runner import Context
from posfleet.lifecycle import holds
from posfleet.lifecycle.models import Hold, HoldTerminal
from posfleet.lifecycle.services import require_reason
from posfleet.notices import stops
from posfleet.notices.choices import DEFAULT_CATEGORY, NoticeEvent
from posfleet.notices.models import Notice
from posfleet.registry.models import Terminal

PLACE_JOB = "lifecycle.bulk_hold"
RELEASE_JOB = "lifecycle.bulk_release"
CHUNK = 5000


def inline_max() -> int:
    return int(settings.BULK_INLINE_MAX)


def place(actor: Actor, *, terminals: Sequence[Terminal], **terms: Unpack[holds.BulkTerms]) -> Hold | Job:
    """One hold on all `terminals`: placed now (a Hold) up to BULK_INLINE_MAX of them, else by a job.
    Either way each merchant concerned gets one notice."""
    ids = list(dict.fromkeys(t.id for t in terminals))
    if len(ids) <= inline_max():
        return holds.place_bulk(actor, terminals=terminals, **terms)
    kind = terms["kind"]
    holds._check_kind(actor, kind)
    text = require_reason(terms["reason"])
    category = stops.check_category(terms.get("reason_category"), DEFAULT_CATEGORY[kind])
    message = stops.check_message(terms.get("merchant_message", ""))
    require_step_up(actor)
    now = timezone.now()
    start, end = holds._window(terms.get("starts_at"), terms.get("ends_at"), now)
    payload = {
        "kind": kind,
        "reason": text,
        "placed_at": now.isoformat(),
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat() if end else None,
        "channel": actor.channel,
        "terminal_ids": ids,
        "reason_category": category,
        "merchant_message": message,
    }
    return jobs.enqueue(PLACE_JOB, payload, actor=actor, perm=perm(f"hold_{kind}"), total=len(ids))


def release(
    actor: Actor,
    hold_id: int,
    *,
    reason: str,
    expected_version: int | None = None,
    merchant_message: str = "",
) -> Hold | Job:
    """End a hold as a whole: now (a Hold), or by a job for a bulk hold on more than
    BULK_INLINE_MAX terminals still under it. Asking again while that job runs returns it.
    Releasing a bulk hold as a whole is a bulk change: it asks for a fresh identity check."""
    hold = holds.get_hold(hold_id, for_update=True)
    under = HoldTerminal.objects.filter(hold_id=hold.pk, released_at__isnull=True)
    if hold.bulk:
        holds._check_kind(actor, hold.kind)
        require_step_up(actor)  # a bulk change, like placing it
    if not hold.bulk or under.count() <= inline_max():
        return holds.release_hold(
            actor,
            hold_id,
            reason=reason,
            expected_version=expected_version,
            merchant_message=merchant_message,
        )
    holds._check_kind(actor, hold.kind)
    text = require_reason(reason)
    if expected_version is not None and expected_version != hold.version:
        raise StaleVersion(details={"current_version": hold.version})
    now = timezone.now()
    if hold.released_at is not None or (hold.ends_at is not None and hold.ends_at <= now):
        raise Conflict(_("This hold has already ended."), code="hold_ended")
    require_step_up(actor)
    return jobs.enqueue(
        RELEASE_JOB,
        {
            "hold_id": hold.pk,
            "reason": text,
            "channel": actor.channel,
            "merchant_message": stops.check_message(merchant_message),
        },
        key=f"{RELEASE_JOB}:{hold.pk}",
        actor=actor,
        perm=perm(f"hold_{hold.kind}"),
        object_type="hold",
        object_id=str(hold.pk),
        total=under.count(),
    )


def _actor(job: Job) -> Actor:
    """The person who asked, through their channel (their rights were checked when they asked)."""
    user = job.created_by
    if user is None:
        return Actor.system("worker", name=job.created_by_name or "system")
    return Actor.for_user(user, str(job.payload.get("channel") or "worker"))


def _when(raw: Any) -> datetime:
    return datetime.fromisoformat(str(raw))


def _link(hold_id: int, ids: list[int]) -> None:
    conn = transaction.get_connection()
    vendor = conn.vendor
    statement = holds._LINK_PG if vendor == "postgresql" else holds._LINK
    params = [hold_id, ids] if vendor == "postgresql" else [hold_id, json.dumps(ids)]
    with conn.cursor() as cursor:
        statement.run(cursor, vendor, params)


@registry.register(PLACE_JOB, label=_("Bulk hold"))
def _place(job: Job, ctx: Context) -> dict[str, Any]:
    p = job.payload
    ids: list[int] = [int(i) for i in p["terminal_ids"]]
    actor = _actor(job)
    if "hold_id" not in ctx.checkpoint:
        with transaction.atomic():
            hold = Hold(
                bulk=True,
                on_merchant=False,
                kind=p["kind"],
                reason=p["reason"],
                placed_at=_when(p["placed_at"]),
                starts_at=_when(p["starts_at"]),
                ends_at=_when(p["ends_at"]) if p["ends_at"] else None,
            )
            hold.placed_by_id = job.created_by_id
            hold.save()
            ctx.save({"hold_id": hold.pk, "done": 0, "linked": 0}, progress=0, about=("hold", str(hold.pk)))
    hold_id, done, linked = (int(ctx.checkpoint[k]) for k in ("hold_id", "done", "linked"))
    while done < len(ids):
        chunk = ids[done : done + CHUNK]
        with transaction.atomic():
            hold = holds.get_hold(hold_id, for_update=True)
            if hold.released_at is not None:  # released while it was being placed: link no more
                break
            tid_of = dict(Terminal.objects.filter(pk__in=chunk).values_list("id", "tid"))
            present = [i for i in chunk if i in tid_of]  # a terminal gone since it was chosen is skipped
            record_bulk(
                actor,
                "terminal",
                [tid_of[i] for i in present],
                "hold.place",
                after=holds.snapshot(hold) | {"hold_id": hold.pk},
                reason=hold.reason,
                alongside=functools.partial(_link, hold_id, present),
            )
            done, linked = done + len(chunk), linked + len(present)
            ctx.save({"hold_id": hold_id, "done": done, "linked": linked}, progress=done)
    with transaction.atomic():  # one notice per merchant, once all are linked (issuing again is a no-op)
        hold = holds.get_hold(hold_id, for_update=True)
        told = stops.tell(
            actor,
            NoticeEvent.HOLD_PLACED,
            hold=hold,
            category=p.get("reason_category"),
            message=str(p.get("merchant_message") or ""),
        )
        holds._after_commit(hold_id, "place")
    result: dict[str, Any] = {
        "hold_id": hold_id,
        "placed": linked,
        "skipped": done - linked,
        "notices": len(told),
    }
    if p.get("report"):  # a retirement: the per-item report, rebuilt whole if a worker died writing it
        result["report"] = write_report(str(p["report"]), hold_id)
    return result


@registry.register(RELEASE_JOB, label=_("Bulk hold release"))
def _release(job: Job, ctx: Context) -> dict[str, Any]:
    p = job.payload
    hold_id, reason = int(p["hold_id"]), str(p["reason"])
    actor = _actor(job)
    done = int(ctx.checkpoint.get("done", 0))
    since = str(ctx.checkpoint.get("since") or timezone.now().isoformat())
    while True:
        with transaction.atomic():
            hold = holds.get_hold(hold_id, for_update=True)
            if hold.released_at is not None:
                break
            now = timezone.now()
            before = holds.snapshot(hold)
            chunk = list(
                HoldTerminal.objects.filter(hold_id=hold_id, released_at__isnull=True)
                .order_by("terminal_id")
                .values_list("terminal_id", "terminal__tid")[:CHUNK]
            )
            ids = [terminal_id for terminal_id, _tid in chunk]
            if chunk:
                HoldTerminal.objects.filter(hold_id=hold_id, terminal_id__in=ids).update(released_at=now)
                record_bulk(
                    actor,
                    "terminal",
                    [tid for _id, tid in chunk],
                    "hold.release",
                    before=before,
                    after=before | {"hold_id": hold_id, "released_at": now.isoformat()},
                    reason=reason,
                    at=now,
                )
                done += len(chunk)
            last = len(chunk) < CHUNK
            if last:  # nothing left under it: the hold itself ends, with the last chunk
                Hold.objects.filter(pk=hold_id).update(
                    released_at=now,
                    released_by_id=job.created_by_id,
                    release_reason=reason,
                    closed=True,
                    version=hold.version + 1,
                )
                holds._after_commit(hold_id, "release")
                released_tids = list(
                    HoldTerminal.objects.filter(hold_id=hold_id, released_at__gte=_when(since)).values_list(
                        "terminal__tid", flat=True
                    )
                )
                hold.refresh_from_db()
                stops.tell(
                    actor,
                    NoticeEvent.HOLD_RELEASED,
                    hold=hold,
                    tids=released_tids,
                    whole=True,
                    message=str(p.get("merchant_message") or ""),
                )
            ctx.save({"done": done, "since": since}, progress=done)
        if last:
            break
    return {"hold_id": hold_id, "released": done}


def write_report(name: str, hold_id: int) -> str:
    """The per-item report of a bulk placement (a retirement asks for one): a row per terminal under
    the hold, with the notice that told its merchant. Written whole under a temporary name, then renamed."""
    directory = Path(settings.VAR_DIR) / "files" / "reports"
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{name}-hold-{hold_id}.csv"
    tmp = files.partial(final)
    notices = {n.merchant_id: n.pk for n in Notice.objects.filter(hold_id=hold_id).only("id", "merchant_id")}
    rows = (
        HoldTerminal.objects.filter(hold_id=hold_id)
        .order_by("terminal_id")
        .values_list("terminal__tid", "terminal__merchant_id")
    )
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["tid", "merchant_id", "notice_id", "outcome"])
        for tid, merchant_id in rows.iterator():
            out.writerow([tid, merchant_id, notices.get(merchant_id, ""), "stop scheduled, told"])
    files.promote(tmp, final)
    return final.name
