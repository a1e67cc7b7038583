"""Ingesting transactions from the switch: API batches and clearing files share this code.

Per item: validate (`validation`), find the merchant from the TID's binding, price it with the plan in
force at `occurred_at`, insert it unless its switch id is known (`duplicate`, or `duplicate_conflict`
when the content differs). An item with an error writes nothing. A transaction from a terminal that
could not transact then (the hold rule) is recorded, since money moved, but flagged, audited and told.
`IngestContext` preloads terminals, hold windows and plans once; a chunk is one set-based write
(`ingest_write`) and one journal.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import PermissionDenied, ValidationFailed
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold, HoldTerminal, in_force_at
from posfleet.money import ingest_write, ledger, rollup
from posfleet.money.choices import CHANNELS, TX_TYPES
from posfleet.money.fees import signed_fee_and_net
from posfleet.money.models import Journal, Transaction
from posfleet.money.parsed import Parsed
from posfleet.money.plans import PlanIndex
from posfleet.money.validation import (
    BACK_TYPES,
    ID_MAX,
    clock_skew,
    item_error,
    original_error,
    refund_errors,
    shown,
    text_error,
    time_error,
)
from posfleet.notices.tell import tell_merchant
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Merchant, Terminal

log = structlog.get_logger("posfleet.money.ingest")

MAX_ITEMS = 10_000
MAX_AMOUNT_FEN = 10**13  # 1,000 亿 CNY: anything above is a data error, not a payment
# Holds that ended longer ago are not preloaded: a transaction older than this asks `may_transact`.
HOLD_LOOKBACK = timedelta(days=45)
_AMOUNT_RE = re.compile(r"^[0-9]{1,16}$")
_ID_MAX = ID_MAX
_CHANNEL_SET = frozenset(CHANNELS)
_TYPE_SET = frozenset(TX_TYPES)


@dataclass
class ItemResult:
    id: str
    status: str  # created | duplicate | error
    fee_fen: int | None = None
    net_fen: int | None = None
    error: dict[str, Any] | None = None
    transaction_id: int | None = None
    flagged: bool = False
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "fee_fen": self.fee_fen,
            "net_fen": self.net_fen,
            "error": self.error,
            "transaction_id": self.transaction_id,
            "flagged": self.flagged,
        }


Window = tuple[datetime, datetime | None, datetime | None]  # a hold's start, end and release


@dataclass(frozen=True)
class TerminalInfo:
    terminal_id: int
    merchant_id: int | None
    state: str
    merchant_state: str | None
    registered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FastTid:
    """What the clearing-file path needs per row of a TID, worked out once per TID."""

    info: TerminalInfo
    merchant_id: int
    rates: tuple[str, dict[str, tuple[int, int | None]]] | None  # None: plan history, ask per row
    clean: bool  # active terminal of an active merchant with no hold since `IngestContext.since`
    earliest: datetime  # the earliest time a transaction of it may carry (registration less clock skew)
    earliest_text: str  # the same as the fast path's text (`IngestContext.fixed_text`, rounded up)


class IngestContext:
    """What ingest needs to know about terminals, holds and plans, loaded once (per call or per file)."""

    def __init__(self, tids: Iterable[str] | None = None) -> None:
        self.now = timezone.now()
        self.since = self.now - HOLD_LOOKBACK

        qs = Terminal.objects.all()
        if tids is not None:
            qs = qs.filter(tid__in=list(set(tids)))
        self.terminals: dict[str, TerminalInfo] = {
            tid: TerminalInfo(pk, mid, state, mstate, created)
            for tid, pk, mid, state, mstate, created in qs.values_list(
                "tid", "pk", "merchant_id", "state", "merchant__state", "created_at"
            )
        }
        merchant_ids = {t.merchant_id for t in self.terminals.values() if t.merchant_id is not None}
        # Hold windows (start, end, released) that may cover a time since `since`.
        self.terminal_holds: dict[int, list[Window]] = defaultdict(list)
        self.merchant_holds: dict[int, list[Window]] = defaultdict(list)
        live = Hold.objects.live_since(self.since)
        for terminal_id, merchant_id, on_merchant, starts, ends, released in live.filter(
            bulk=False
        ).values_list("terminal_id", "merchant_id", "on_merchant", "starts_at", "ends_at", "released_at"):
            if on_merchant:
                self.merchant_holds[merchant_id].append((starts, ends, released))
            else:
                self.terminal_holds[terminal_id].append((starts, ends, released))
        links = HoldTerminal.objects.filter(hold__in=live.filter(bulk=True)).exclude(
            released_at__lte=self.since
        )
        for terminal_id, starts, ends, released, link_released in links.values_list(
            "terminal_id", "hold__starts_at", "hold__ends_at", "hold__released_at", "released_at"
        ):  # a bulk hold ends for a terminal when released as a whole or for it alone
            ended = min((t for t in (released, link_released) if t is not None), default=None)
            self.terminal_holds[terminal_id].append((starts, ends, ended))
        self.plans = PlanIndex(merchant_ids)
        self.latest = self.now + clock_skew()
        self.fast: dict[str, FastTid | None] = {}
        self.fast_offset = _fixed_offset(self.now)
        # the bounds as the clearing file writes times: a time written with the fixed offset in plain
        # ISO form (`YYYY-MM-DDTHH:MM:SS+08:00`, whole seconds) compares with them as text
        self.latest_text = self.fixed_text(self.latest, up=False)
        self.since_text = self.fixed_text(self.since, up=True)

    def fixed_text(self, at: datetime, *, up: bool) -> str:
        """`at` in the fast path's plain ISO form, to whole seconds (rounded up when `up`), so that
        for a time `t` of whole seconds, `t >= at` is `text(t) >= fixed_text(at, up=True)` and
        `t <= at` is `text(t) <= fixed_text(at, up=False)`; "" when there is no fixed offset."""
        if self.fast_offset is None:
            return ""
        suffix, offset = self.fast_offset
        if up and at.microsecond:
            at += timedelta(seconds=1)
        local = at.astimezone(UTC).replace(tzinfo=None) + offset
        return f"{local:%Y-%m-%dT%H:%M:%S}{suffix}"

    def fast_tid(self, tid: str) -> FastTid | None:
        """The per-TID facts of the clearing-file path (cached); None for an unknown or unbound TID."""
        if tid in self.fast:
            return self.fast[tid]
        info = self.terminals.get(tid)
        out = None
        if info is not None and info.merchant_id is not None:
            mid = info.merchant_id
            starts = self.plans.starts.get(mid)
            # with at most one plan version the plan does not depend on the time (plans.PlanIndex)
            rates = self.plans.rates_at(mid, self.now) if not starts or len(starts) == 1 else None
            clean = (
                info.state == TerminalState.ACTIVE
                and info.merchant_state == MerchantState.ACTIVE
                and not self.terminal_holds.get(info.terminal_id)
                and not self.merchant_holds.get(mid)
            )
            registered = info.registered_at or self.now
            earliest = max(registered - clock_skew(), EARLIEST_FAST)
            out = FastTid(info, mid, rates, clean, earliest, self.fixed_text(earliest, up=True))
        self.fast[tid] = out
        return out

    def eligibility(self, p: Parsed, info: TerminalInfo) -> list[dict[str, Any]]:
        """Reasons the terminal could not transact at p.occurred_at ([] = allowed).

        The allowed case (both active, no hold in force at the time, by `in_force_at`, the hold rule)
        is answered from the preloaded holds; every possible refusal, and any time before `since`,
        asks `may_transact(tid, at=occurred_at)`, so reasons always come from it.
        """
        at = p.occurred_at
        if (
            at >= self.since
            and info.state == TerminalState.ACTIVE
            and info.merchant_state == MerchantState.ACTIVE
        ):
            windows = self.terminal_holds.get(info.terminal_id, [])
            if info.merchant_id is not None:
                windows = windows + self.merchant_holds.get(info.merchant_id, [])
            if not any(in_force_at(start, end, released, at) for start, end, released in windows):
                return []
        answer = may_transact(p.tid, at=p.occurred_at)
        if answer.allowed:
            return []
        return [r.as_dict() for r in answer.reasons]


_error = item_error
EARLIEST_FAST = datetime(2000, 1, 1, tzinfo=UTC)


def _fixed_offset(now: datetime) -> tuple[str, timedelta] | None:
    """("+08:00", 8 h) when the institution's time zone keeps one whole-hour UTC offset all year (no
    daylight saving): then a time written with that offset gives its business day and UTC text
    without conversion (the clearing file's fast path). None: every time goes the slow way."""
    zone = timezone.get_current_timezone()
    offsets = {(now + timedelta(days=d)).astimezone(zone).utcoffset() for d in (-365, -182, 0, 182)}
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    if offset is None or offset % timedelta(hours=1):
        return None
    hours = int(offset / timedelta(hours=1))
    return f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:00", offset


def duplicate_conflict(switch_id: str) -> dict[str, Any]:
    """The same switch id twice in one batch or chunk, with different content."""
    message = _("Switch id %(id)s appears twice with different content.") % {"id": switch_id}
    return _error("duplicate_conflict", {"id": [message]})


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        dt = value
    elif value.__class__ is str and 10 <= len(value) <= 40:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            try:
                dt = datetime.fromisoformat(value.strip())
            except ValueError:
                return None
    else:
        return None
    if dt.tzinfo is None:
        dt = timezone.make_aware(dt)  # naive times are Asia/Shanghai (settings.TIME_ZONE)
    return dt


def _parse_amount(value: Any) -> int | None:
    cls = value.__class__
    if cls is int:
        amount = value
    elif cls is str and 0 < len(value) <= 16 and value.isascii() and value.isdigit():
        amount = int(value)
    elif cls is str and _AMOUNT_RE.match(value.strip()):
        amount = int(value.strip())
    else:
        return None  # bool, float, None, "10.5", "-3" …
    return amount if 0 < amount <= MAX_AMOUNT_FEN else None


def parse_item(index: int, raw: Any, ctx: IngestContext) -> Parsed | dict[str, Any]:
    """A valid, priced `Parsed`, or an error dict {code, message, details} naming every bad field
    (the code is the first field's)."""
    if not isinstance(raw, dict):
        return _error("invalid_item", {"item": [_("Each item is an object.")]})
    details: dict[str, list[str]] = {}
    codes: list[str] = []

    def bad(code: str, name: str, message: str) -> None:
        codes.append(code)
        details.setdefault(name, []).append(message)

    problem = text_error(raw.values())
    if problem is not None:  # NUL, not UTF-8, overlong: say so, and echo none of it
        return problem
    switch_id = raw.get("id")
    if not isinstance(switch_id, str) or not switch_id.strip() or len(switch_id) > _ID_MAX:
        bad("invalid_id", "id", _("A switch id of 1 to 64 characters is required."))
    tid = raw.get("tid")
    info = ctx.terminals.get(tid) if isinstance(tid, str) else None
    if info is None:
        bad("unknown_terminal", "tid", _("Unknown TID %(tid)s.") % {"tid": shown(tid, 20)})
    elif info.merchant_id is None:
        bad("unbound_terminal", "tid", _("TID %(tid)s is not bound to a merchant.") % {"tid": tid})
    channel = raw.get("channel")
    if not isinstance(channel, str) or channel not in _CHANNEL_SET:
        bad(
            "unknown_channel",
            "channel",
            _("Unknown channel; use one of: %(c)s.") % {"c": ", ".join(CHANNELS)},
        )
    tx_type = raw.get("type")
    if not isinstance(tx_type, str) or tx_type not in _TYPE_SET:
        bad("unknown_type", "type", _("Unknown type; use one of: %(t)s.") % {"t": ", ".join(TX_TYPES)})
    amount = _parse_amount(raw.get("amount_fen"))
    if amount is None:
        bad("invalid_amount", "amount_fen", _("The amount is a positive whole number of fen."))
    occurred_at = _parse_time(raw.get("occurred_at"))
    if occurred_at is None:
        bad("invalid_time", "occurred_at", _("Use an ISO 8601 time such as 2026-11-20T10:00:00+08:00."))
    else:
        window = time_error(occurred_at, info.registered_at if info is not None else None, ctx.latest)
        if window is not None:
            bad(window["code"], "occurred_at", window["message"])
    original = raw.get("original_id")
    if isinstance(tx_type, str) and tx_type in _TYPE_SET:
        link = original_error(tx_type, original)
        if link is not None:
            bad(link["code"], "original_id", link["message"])
    if codes:
        return _error(codes[0], details)
    assert isinstance(switch_id, str) and isinstance(channel, str) and isinstance(tx_type, str)
    assert (
        info is not None and info.merchant_id is not None and amount is not None and occurred_at is not None
    )
    p = Parsed(index, switch_id.strip(), str(tid), channel, tx_type, amount, occurred_at, info.merchant_id)
    if tx_type in BACK_TYPES:
        assert isinstance(original, str)
        p.original_id = original.strip()
    return _price(ctx, p, info)


def _price(ctx: IngestContext, p: Parsed, info: TerminalInfo) -> Parsed | dict[str, Any]:
    rates = ctx.plans.rates_at(p.merchant_id, p.occurred_at)
    if rates is None:
        return _error("no_rate_plan", {"tid": [_("The merchant has no rate plan.")]})
    p.plan_code, by_channel = rates
    p.rate_bp, cap = by_channel[p.channel]
    p.fee_fen, p.net_fen = signed_fee_and_net(p.type, p.amount_fen, p.rate_bp, cap)
    p.flag_reasons = ctx.eligibility(p, info)
    return p


_INSERT_ORDER = operator.attrgetter("merchant_id", "tid")


def _existing(switch_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(switch_ids), 5000):
        part = switch_ids[start : start + 5000]
        for row in Transaction.objects.filter(switch_id__in=part).values_list(
            "switch_id",
            "id",
            "journal_id",
            "tid",
            "channel",
            "type",
            "amount_fen",
            "occurred_at",
            "fee_fen",
            "net_fen",
            "flagged",
        ):
            found[row[0]] = row
    return found


def classify_known(p: Parsed, row: tuple[Any, ...], result: ItemResult) -> None:
    _sid, tx_id, _j, tid, channel, type_, amount, occurred_at, fee, net, flagged = row
    if p.same_content(tid, channel, type_, amount, occurred_at):
        result.status, result.fee_fen, result.net_fen = "duplicate", fee, net
        result.transaction_id, result.flagged = tx_id, flagged
    else:
        result.status = "error"
        result.error = _error(
            "duplicate_conflict",
            {"id": [_("Switch id %(id)s is already recorded with different content.") % {"id": p.switch_id}]},
        )


def ingest_chunk(
    actor: Actor, items: Sequence[Any], ctx: IngestContext, *, ref: str, need_ids: bool = True
) -> list[ItemResult]:
    """Ingest up to a few ten thousand items inside the caller's transaction; one result per item."""
    results: list[ItemResult] = []
    parsed: dict[str, Parsed] = {}
    repeats: list[tuple[int, int]] = []  # (item index, index of the first item with that id)
    for i, raw in enumerate(items):
        out = parse_item(i, raw, ctx)
        sid = str(raw.get("id", "")) if isinstance(raw, dict) else ""
        result = ItemResult(id=sid, status="error")
        results.append(result)
        if isinstance(out, dict):
            result.error = out
            continue
        earlier = parsed.get(out.switch_id)
        if earlier is not None:  # the same id twice in one batch
            if earlier.same_content(out.tid, out.channel, out.type, out.amount_fen, out.occurred_at):
                result.status, result.fee_fen, result.net_fen = "duplicate", earlier.fee_fen, earlier.net_fen
                result.flagged = bool(earlier.flag_reasons)
                repeats.append((i, earlier.index))
            else:
                result.error = duplicate_conflict(out.switch_id)
            continue
        parsed[out.switch_id] = out
    refused = refund_errors(list(parsed.values()))
    for p in [p for p in parsed.values() if p.index in refused]:
        results[p.index].error = refused[p.index]
        del parsed[p.switch_id]
    for i, first in repeats:
        if first in refused:
            results[i].status, results[i].error = "error", refused[first]
    fresh = list(parsed.values())
    if fresh:
        created, known, ids = store(actor, fresh, ref=ref, need_ids=need_ids)
        for p in known:
            classify_known(p, ids[p.switch_id], results[p.index])
        for p in created:
            r = results[p.index]
            r.status, r.fee_fen, r.net_fen, r.flagged = "created", p.fee_fen, p.net_fen, bool(p.flag_reasons)
            if ids:
                r.transaction_id = ids[p.switch_id][1]
    for i, first in repeats:  # in-batch duplicates point at the first item's transaction
        results[i].transaction_id = results[first].transaction_id
    return results


def store(
    actor: Actor, fresh: Sequence[Parsed], *, ref: str, need_ids: bool
) -> tuple[list[Parsed], list[Parsed], dict[str, tuple[Any, ...]]]:
    """Insert, book and alert the valid items of a chunk: (created, already known, stored rows by id).

    Insert first (ON CONFLICT DO NOTHING): a fresh file costs no look-up. When fewer rows went in than
    were sent (known ids, or a concurrent ingest), rows carrying another journal id are the known ones
    (the caller tells a duplicate from a duplicate_conflict by their content)."""
    now = timezone.now()
    journal = ledger.new_journal(actor, kind="ingest", ref=ref, memo=f"{len(fresh)} transactions", at=now)
    # SQLite: in merchant (then TID) order, consecutive rows land next to each other in
    # tx_merchant_day_idx and tx_tid_idx: ~8 % less CPU per row (400k-row A/B); ids follow this order.
    # PostgreSQL: the same backend CPU either way (100k-row A/B), so the rows go in file order and
    # the sort's quarter second per 100,000 rows is saved.
    rows = sorted(fresh, key=_INSERT_ORDER) if connection.vendor == "sqlite" else fresh
    inserted = ingest_write.write(rows, journal.pk, now)
    created = list(fresh)
    known: list[Parsed] = []
    ids: dict[str, tuple[Any, ...]] = {}
    if inserted != len(fresh) or need_ids:
        ids = _existing([p.switch_id for p in fresh])
        created = [p for p in fresh if ids[p.switch_id][2] == journal.pk]
        known = [p for p in fresh if ids[p.switch_id][2] != journal.pk]
    if created:
        _book(actor, journal, created)
        rollup.add(created)
        _alert(actor, [p for p in created if p.flag_reasons])
    else:
        Journal.objects.filter(pk=journal.pk).delete()
    return created, known, ids


def _book(actor: Actor, journal: Journal, created: Sequence[Parsed]) -> None:
    """One journal per chunk: clearing gross, each merchant's net to unsettled, fees to income."""
    gross = 0
    fees = 0
    net_by_merchant: dict[int, int] = defaultdict(int)
    for p in created:
        gross += p.amount_fen if p.type == "sale" else -p.amount_fen
        fees += p.fee_fen
        net_by_merchant[p.merchant_id] += p.net_fen
    entries = [
        ledger.Entry.debit(None, ledger.SCHEME_CLEARING, gross),
        ledger.Entry.credit(None, ledger.FEE_INCOME, fees),
    ]
    entries += [
        ledger.Entry.credit(mid, ledger.UNSETTLED, net) for mid, net in sorted(net_by_merchant.items())
    ]
    if all(e.amount_fen == 0 for e in entries):
        return
    ledger.post(actor, entries, ref=journal.ref, memo=journal.memo, journal=journal)


def _alert(actor: Actor, flagged: Sequence[Parsed]) -> None:
    if not flagged:
        return
    record(
        actor,
        [
            Change(
                "transaction",
                p.switch_id,
                "transaction.flagged",
                None,
                {
                    "tid": p.tid,
                    "merchant_id": p.merchant_id,
                    "channel": p.channel,
                    "type": p.type,
                    "amount_fen": p.amount_fen,
                    "occurred_at": p.occurred_at.isoformat(),
                    "reasons": p.flag_reasons,
                },
                "transaction from a terminal not allowed to transact",
            )
            for p in flagged
        ],
    )
    by_merchant: dict[int, list[Parsed]] = defaultdict(list)
    for p in flagged:
        log.warning(
            "money.flagged_transaction",
            switch_id=p.switch_id,
            tid=p.tid,
            merchant_id=p.merchant_id,
            amount_fen=p.amount_fen,
            reasons=[r["code"] for r in p.flag_reasons],
        )
        by_merchant[p.merchant_id].append(p)
    for merchant_id, rows in by_merchant.items():
        summary = [(p.tid, p.amount_fen, p.occurred_at) for p in rows[:20]]
        transaction.on_commit(functools.partial(_notify, merchant_id, summary, len(rows)))


def _notify(merchant_id: int, summary: list[tuple[str, int, datetime]], count: int) -> None:
    """After commit: tell the merchant over its channels that a stopped terminal transacted."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return
    with translation.override("zh-hans"):
        lines = "; ".join(
            f"{tid} {amount / 100:.2f} {timezone.localtime(at):%Y-%m-%d %H:%M}" for tid, amount, at in summary
        )
        title = _("Transactions from a terminal that may not transact")
        body = _("%(count)s transactions came from terminals that were stopped: %(lines)s") % {
            "count": count,
            "lines": lines,
        }
    try:
        with transaction.atomic():
            tell_merchant(Actor.system("worker"), merchant, title, body)
    except Exception:  # the alert must never undo or break the ingest that committed
        log.exception("money.flag_notice_failed", merchant_id=merchant_id)


def ingest(actor: Actor, items: Sequence[Any], *, ref: str = "") -> list[ItemResult]:
    """The API's batch ingest (≤ 10,000 items), inside the caller's transaction."""
    if not actor.has_perm(perm("ingest_transactions")):
        raise PermissionDenied()
    if not isinstance(items, list | tuple) or not items:
        raise ValidationFailed(details={"items": [_("Send a non-empty list of items.")]})
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(details={"items": [_("At most %(n)s items per call.") % {"n": MAX_ITEMS}]})
    tids = [  # only text a database can be asked about (no NUL, valid UTF-8): the rest is refused per item
        raw["tid"]
        for raw in items
        if isinstance(raw, dict) and isinstance(raw.get("tid"), str) and text_error([raw["tid"]]) is None
    ]
    ctx = IngestContext(tids)
    ref = ref or f"api:{timezone.now():%Y%m%dT%H%M%S.%f}"
    return ingest_chunk(actor, items, ctx, ref=ref, need_ids=True)


def results_json(results: Sequence[ItemResult]) -> str:
    return json.dumps({"results": [r.as_dict() for r in results]}, ensure_ascii=False)
