"""Daily settlement: one batch per merchant per business day, in SQL; late items in the next run.

`run_settlement(actor, D)` may run once D has ended (the cut-off, in the institution's time zone). It
aggregates the merchants' unsettled transactions of D in one GROUP BY, and the late items — ingested
after their own day was settled — of every day in one more; holds back open disputes, writes one batch
per merchant and day (a late one for late items; never touching the transactions: a transaction is
settled when a batch's id range covers its id) and moves the net from `unsettled` to
`settled_unpaid`; it pays the batches due. Ingest is locked out while the mark is read, so
"id <= mark" means "counted". docs/money.md has the locking argument and the T+1 / D0 rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, PermissionDenied, ValidationFailed
from posfleet.core.sql import insert_returning_ids
from posfleet.money.models import INSTITUTION_TZ, Transaction
from posfleet.money.models import business_date_of as business_date_of  # re-exported for callers
from posfleet.registry.models import Merchant
from posfleet.settlement import freezes, ledger_bridge
from posfleet.settlement.models import (
    OPEN_DISPUTE_STATES,
    BatchState,
    Dispute,
    DisputeHold,
    SettlementBatch,
    SettlementMode,
    SettlementRun,
)


def day_range(business_date: date) -> tuple[datetime, datetime]:
    """[start, end) of a business day in Asia/Shanghai, as aware datetimes."""
    start = datetime.combine(business_date, time.min, tzinfo=INSTITUTION_TZ)
    return start, start + timedelta(days=1)


def cutoff() -> time:
    """The time of the next day from which a business day may be settled (POSFLEET_SETTLEMENT_CUTOFF)."""
    return time.fromisoformat(settings.POSFLEET_SETTLEMENT_CUTOFF)


def settles_from(business_date: date) -> datetime:
    """When `business_date` may be settled: it has ended, and the cut-off of the next day has come."""
    return datetime.combine(business_date + timedelta(days=1), cutoff(), tzinfo=INSTITUTION_TZ)


def parse_business_date(raw: Any) -> date:
    """A business date from `YYYY-MM-DD` (or a date) that has ended (past its cut-off); 422 otherwise:
    today's transactions still arrive, so today (or a later day) cannot be settled."""
    if isinstance(raw, date) and not isinstance(raw, datetime):
        value = raw
    else:
        try:
            value = date.fromisoformat(str(raw or "").strip())
        except ValueError:
            raise ValidationFailed(
                _("The business date must look like 2026-11-20."),
                details={"business_date": [_("Use YYYY-MM-DD.")]},
            ) from None
    opens = settles_from(value)
    if timezone.now() < opens:
        when = opens.strftime("%Y-%m-%d %H:%M")
        raise ValidationFailed(
            _("Business day %(day)s has not ended: it can be settled from %(at)s (%(tz)s).")
            % {"day": value, "at": when, "tz": settings.TIME_ZONE},
            details={"business_date": [_("Only a day that has ended can be settled.")]},
            code="day_not_ended",
        )
    return value


@dataclass
class RunResult:
    business_date: date
    created: list[SettlementBatch] = field(default_factory=list)
    existing: list[SettlementBatch] = field(default_factory=list)
    paid: list[SettlementBatch] = field(default_factory=list)

    @property
    def batches(self) -> list[SettlementBatch]:
        return sorted(self.created + self.existing, key=lambda b: b.merchant_id)

    @property
    def already_settled(self) -> bool:
        return not self.created and bool(self.existing)


def batch_dict(batch: SettlementBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "merchant_id": batch.merchant_id,
        "business_date": batch.business_date.isoformat(),
        "mode": batch.mode,
        "payout_date": batch.payout_date.isoformat(),
        "transaction_count": batch.transaction_count,
        "gross_fen": batch.gross_fen,
        "refund_fen": batch.refund_fen,
        "fee_fen": batch.fee_fen,
        "held_fen": batch.held_fen,
        "net_fen": batch.net_fen,
        "payout_fen": batch.payout_fen,
        "card": batch.card_masked,
        "state": batch.state,
        "paid_at": batch.paid_at.isoformat() if batch.paid_at else None,
        "late": batch.late,
        "run_date": (batch.run_date or batch.business_date).isoformat(),
    }


def _lock_out_ingest() -> int:
    """Hold off ingest until the caller's transaction ends; the high-water mark (see the docstring)."""
    table = connection.ops.quote_name(Transaction._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def _aggregate(business_date: date) -> list[dict[str, Any]]:
    """Per-merchant totals of the day: one GROUP BY that reads only the covering tx_merchant_day_idx.

    The index leads with merchant_id, so the day is reached as one index range per merchant
    (`merchant_id IN (all merchants)`). Grouping by (merchant, type) and folding the types here keeps
    the SQL to plain sums (no CASE per row), in index order."""
    qn = connection.ops.quote_name
    sql = (
        "SELECT merchant_id, type, COUNT(*), SUM(amount_fen), SUM(fee_fen), SUM(net_fen) "
        f"FROM {qn(Transaction._meta.db_table)} "
        f"WHERE merchant_id IN (SELECT id FROM {qn(Merchant._meta.db_table)}) AND business_date = %s "
        "GROUP BY merchant_id, type"
    )
    totals: dict[int, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datefield_value(business_date)])
        for mid, tx_type, count, amount, fee, net in cursor.fetchall():
            t = totals.setdefault(
                mid, {"merchant_id": mid, "count": 0, "gross": 0, "refund": 0, "fee": 0, "net": 0}
            )
            t["count"] += int(count)
            t["gross" if tx_type == "sale" else "refund"] += int(amount or 0)
            t["fee"] += int(fee or 0)
            t["net"] += int(net or 0)
    return [totals[mid] for mid in sorted(totals)]


def _fold(rows: list[tuple[Any, ...]]) -> dict[tuple[int, date, int], dict[str, Any]]:
    """(merchant, day, after, type, count, amount, fee, net) rows folded per (merchant, day, after)."""
    totals: dict[tuple[int, date, int], dict[str, Any]] = {}
    for mid, day, after, tx_type, count, amount, fee, net in rows:
        if not isinstance(day, date):
            day = date.fromisoformat(str(day))
        t = totals.setdefault(
            (mid, day, int(after or 0)),
            {"merchant_id": mid, "count": 0, "gross": 0, "refund": 0, "fee": 0, "net": 0},
        )
        t["count"] += int(count)
        t["gross" if tx_type == "sale" else "refund"] += int(amount or 0)
        t["fee"] += int(fee or 0)
        t["net"] += int(net or 0)
    return totals


def _uncovered_of_day(business_date: date) -> dict[tuple[int, date, int], dict[str, Any]]:
    """A day run again: per merchant, its transactions of the day above its last batch's mark (every
    transaction below it is covered: each run covers all of a run day's transactions up to its mark)."""
    qn = connection.ops.quote_name
    tx, batch = qn(Transaction._meta.db_table), qn(SettlementBatch._meta.db_table)
    sql = (
        "SELECT t.merchant_id, t.business_date, COALESCE(b.mark, 0), t.type, COUNT(*), SUM(t.amount_fen), "
        f"SUM(t.fee_fen), SUM(t.net_fen) FROM {tx} t LEFT JOIN (SELECT merchant_id, "
        f"MAX(max_transaction_id) AS mark FROM {batch} WHERE business_date = %s GROUP BY merchant_id) b "
        f"ON b.merchant_id = t.merchant_id WHERE t.merchant_id IN (SELECT id FROM {qn(Merchant._meta.db_table)}) "
        "AND t.business_date = %s AND t.id > COALESCE(b.mark, 0) "
        "GROUP BY t.merchant_id, t.business_date, b.mark, t.type"
    )
    day = connection.ops.adapt_datefield_value(business_date)
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, day])
        return _fold(cursor.fetchall())


def _late_items(
    swept: int, high_water: int, business_date: date
) -> dict[tuple[int, date, int], dict[str, Any]]:
    """Late items of other days: transactions ingested since the last run (id in (swept, high_water],
    a primary-key range) whose day had been settled before. Every earlier run took those up to its own
    mark, so none is missed and none is counted twice.

    On PostgreSQL the settled days are given as values and the merchants' index is offered as well, so
    the planner weighs, on its statistics, the id range (a nightly run: one day's ingest) against the
    covering tx_merchant_day_idx over the settled days (the first run after a bulk load or a pause:
    millions of new ids, few or none of them on a settled day), instead of always reading the range."""
    qn = connection.ops.quote_name
    tx, run = qn(Transaction._meta.db_table), qn(SettlementRun._meta.db_table)
    head = (
        f"SELECT t.merchant_id, t.business_date, {int(swept)}, t.type, COUNT(*), SUM(t.amount_fen), "
        f"SUM(t.fee_fen), SUM(t.net_fen) FROM {tx} t WHERE t.id > %s AND t.id <= %s "
    )
    tail = " GROUP BY t.merchant_id, t.business_date, t.type"
    if connection.vendor == "postgresql":
        days = list(
            SettlementRun.objects.exclude(business_date=business_date)
            .order_by()
            .values_list("business_date", flat=True)
            .distinct()
        )
        if not days:
            return {}
        sql = (
            f"{head}AND t.merchant_id IN (SELECT id FROM {qn(Merchant._meta.db_table)}) "
            f"AND t.business_date = ANY(%s){tail}"
        )
        params: list[Any] = [swept, high_water, days]
    else:
        sql = (
            f"{head}AND t.business_date <> %s AND t.business_date IN (SELECT business_date FROM {run}){tail}"
        )
        params = [swept, high_water, connection.ops.adapt_datefield_value(business_date)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _fold(cursor.fetchall())


def _hold_disputes(
    merchant_id: int, available: int, disputes: list[Dispute]
) -> tuple[int, list[tuple[Dispute, int]]]:
    """Keep back the not-yet-held part of open disputes, oldest first, up to `available`."""
    held = 0
    parts: list[tuple[Dispute, int]] = []
    for dispute in disputes:
        if available - held <= 0:
            break
        part = min(dispute.amount_fen - dispute.held_fen, available - held)
        if part <= 0:
            continue
        dispute.held_fen += part
        held += part
        parts.append((dispute, part))
    return held, parts


def run_settlement(actor: Actor, business_date: Any) -> RunResult:
    """Settle business day `business_date` for every merchant (see the module docstring).

    Sensitive (step-up) and needs `run_settlement`. Must run inside the caller's transaction.
    Every step works on all merchants of the run at once: a run's cost is a fixed number of
    statements, whatever the number of merchants (tests pin it).
    """
    if not actor.has_perm(perm("run_settlement")):
        raise PermissionDenied()
    require_step_up(actor)
    day = parse_business_date(business_date)
    now = timezone.now()
    result = RunResult(business_date=day)

    high_water = _lock_out_ingest()
    first_run, groups = _gather(actor, day, high_water, now, result)
    frozen = freezes.frozen_merchant_ids(None, now)  # in force now: this run's batches and payouts
    if groups:
        batches, holds = _new_batches(day, first_run, groups, high_water, frozen, now)
        batches, holds = _insert_batches(day, batches, holds, high_water)
        _hold_back(holds)
        ledger_bridge.settle_batches(actor, batches, day)
        result.created = batches

    result.paid = pay_due(actor, day, now=now, frozen=frozen)
    paid_ids = {b.pk for b in result.paid}
    for b in result.created + result.existing:
        if b.pk in paid_ids:
            b.state, b.paid_at = BatchState.PAID, now
    _audit_run(actor, day, result, now)
    return result


_Groups = dict[tuple[int, date, int], dict[str, Any]]
_Holds = list[tuple[SettlementBatch, list[tuple[Dispute, int]]]]


def _gather(
    actor: Actor, day: date, high_water: int, now: datetime, result: RunResult
) -> tuple[bool, _Groups]:
    """What the run settles, per (merchant, business day, mark it starts after), and the run's own
    record. Ingest is locked out (`high_water` read), so every transaction of `day` is here."""
    runs = SettlementRun.objects.order_by().aggregate(
        last_mark=Max("max_transaction_id"),  # None: the first run ever
        of_day=Count("id", filter=Q(business_date=day)),
    )
    first_run = not runs["of_day"]
    last_mark = runs["last_mark"]
    result.existing = list(SettlementBatch.objects.filter(business_date=day))
    if first_run:  # all on time
        done = {b.merchant_id for b in result.existing}  # none, unless written outside a run
        groups = {(r["merchant_id"], day, 0): r for r in _aggregate(day) if r["merchant_id"] not in done}
    else:  # run again: what arrived since its runs is late
        groups = _uncovered_of_day(day)
    if last_mark is not None and last_mark < high_water:  # late items need an earlier run and new rows
        groups.update(_late_items(int(last_mark), high_water, day))
    SettlementRun.objects.create(
        business_date=day, max_transaction_id=high_water, created_at=now, actor_name=actor.name[:150]
    )
    return first_run, groups


def _new_batches(
    day: date, first_run: bool, groups: _Groups, high_water: int, frozen: set[int], now: datetime
) -> tuple[list[SettlementBatch], _Holds]:
    """One unsaved batch per group, with what open disputes keep back of it (disputes locked)."""
    keys = sorted(groups, key=lambda k: (k[0], k[1], k[2]))
    merchant_ids = sorted({k[0] for k in keys})
    # mode, delay and card of every merchant of the run in one query (no profile: T+1, not delayed)
    merchants = {
        mid: (card, mode or SettlementMode.T1, bool(delayed))
        for mid, card, mode, delayed in Merchant.objects.filter(pk__in=merchant_ids).values_list(
            "pk", "settlement_card_last4", "settlement_profile__mode", "settlement_profile__delayed"
        )
    }
    open_disputes: dict[int, list[Dispute]] = {}
    for d in (
        Dispute.objects.select_for_update(no_key=True)
        .filter(merchant_id__in=merchant_ids, state__in=OPEN_DISPUTE_STATES)
        .order_by("opened_at", "id")
    ):
        if d.held_fen < d.amount_fen:
            open_disputes.setdefault(d.merchant_id, []).append(d)

    batches: list[SettlementBatch] = []
    holds: _Holds = []
    for key in keys:
        mid, business_day, after = key
        r = groups[key]
        card, mode, delayed = merchants.get(mid, ("", SettlementMode.T1, False))
        net = int(r["net"] or 0)
        held, touched = _hold_disputes(mid, max(net, 0), open_disputes.get(mid, []))
        batch = SettlementBatch(
            merchant_id=mid,
            business_date=business_day,
            run_date=day,
            late=not first_run or business_day != day,
            after_transaction_id=after,
            mode=mode,
            # payouts follow the run's day: a late item is paid with the run that settled it
            payout_date=day if mode == SettlementMode.D0 else day + timedelta(days=1),
            transaction_count=r["count"],
            gross_fen=int(r["gross"] or 0),
            refund_fen=int(r["refund"] or 0),
            fee_fen=int(r["fee"] or 0),
            held_fen=held,
            net_fen=net,
            payout_fen=max(net - held, 0),
            card_last4=card or "",
            state=BatchState.HELD if delayed or mid in frozen else BatchState.SETTLED,
            created_at=now,
            max_transaction_id=high_water,
        )
        batches.append(batch)
        if touched:
            holds.append((batch, touched))
    return batches, holds


def _insert_batches(
    day: date, batches: list[SettlementBatch], holds: _Holds, high_water: int
) -> tuple[list[SettlementBatch], _Holds]:
    """Insert the batches (one statement); a concurrent run of the same day is a Conflict."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                insert_returning_ids(connection, batches)
            else:
                SettlementBatch.objects.bulk_create(batches)
    except IntegrityError:
        raise Conflict(
            _("Settlement of %(day)s is running elsewhere; try again in a moment.") % {"day": day},
            code="settlement_running",
        ) from None
    if all(b.pk is not None for b in batches):
        return batches, holds
    by_key = {  # backends without RETURNING
        (b.merchant_id, b.business_date): b
        for b in SettlementBatch.objects.filter(
            max_transaction_id=high_water, merchant_id__in={b.merchant_id for b in batches}
        )
    }
    return (
        [by_key[(b.merchant_id, b.business_date)] for b in batches],
        [(by_key[(b.merchant_id, b.business_date)], ds) for b, ds in holds],
    )


def _hold_back(holds: _Holds) -> None:
    """Record what each batch keeps back for open disputes, and move the disputes' versions."""
    rows = []
    for batch, parts in holds:
        for d, part in parts:
            d.held_batch = batch
            d.version += 1
            rows.append(DisputeHold(dispute=d, batch=batch, amount_fen=part))
    if rows:
        DisputeHold.objects.bulk_create(rows)
        Dispute.objects.bulk_update(
            [d for _b, parts in holds for d, _part in parts], ["held_fen", "held_batch", "version"]
        )


def _audit_run(actor: Actor, day: date, result: RunResult, now: datetime) -> None:
    """The run's batches and payouts, one event each, appended to the chain in one call."""
    changes = [
        Change(
            "settlement_batch",
            str(b.pk),
            "settlement.batch",
            None,
            batch_dict(b),
            f"late items of {b.business_date}, run of {day}" if b.late else f"business day {day}",
        )
        for b in result.created
    ]
    changes += [
        Change(
            "settlement_batch",
            str(b.pk),
            "settlement.payout",
            {"state": BatchState.SETTLED},
            {"state": BatchState.PAID, "payout_fen": b.payout_fen, "card": b.card_masked},
            f"run for {day}",
        )
        for b in result.paid
    ]
    if changes:
        record(actor, changes, at=now)


def pay_due(
    actor: Actor, business_date: date, *, now: datetime | None = None, frozen: set[int] | None = None
) -> list[SettlementBatch]:
    """Pay every `settled` batch whose payout date is on or before `business_date` (not held ones),
    after releasing the held batches of merchants nothing holds any more (freezes.release_lifted).
    `frozen`: the merchants a freeze holds at `now`, when the caller has read them already."""
    now = now or timezone.now()
    freezes.release_lifted(actor, now, frozen=frozen)
    due = list(
        SettlementBatch.objects.select_for_update(no_key=True, of=("self",))
        .filter(state=BatchState.SETTLED, payout_date__lte=business_date)
        .exclude(merchant__settlement_profile__delayed=True)
        .order_by("id")
    )
    if due and frozen is None:
        frozen = freezes.frozen_merchant_ids({b.merchant_id for b in due}, now)
    due = [b for b in due if b.merchant_id not in (frozen or set())]
    if not due:
        return []
    ledger_bridge.pay_batches(actor, due)
    SettlementBatch.objects.filter(pk__in=[b.pk for b in due]).update(state=BatchState.PAID, paid_at=now)
    for b in due:
        b.state, b.paid_at = BatchState.PAID, now
    return due


def settlements_of(merchant_id: int, business_date: date | None = None) -> list[SettlementBatch]:
    qs = SettlementBatch.objects.filter(merchant_id=merchant_id)
    if business_date is not None:
        qs = qs.filter(business_date=business_date)
    return list(qs.order_by("-business_date"))
