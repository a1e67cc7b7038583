"""Daily settlement (issue 3 §4): one batch per merchant per business day, in SQL, idempotent.

`run_settlement(actor, D)` settles every transaction that occurred on business day D (00:00 to 24:00
Asia/Shanghai) and is not settled yet:

- per merchant it aggregates in one GROUP BY query: gross (sales), refunds (refunds + reversals, as
  positive amounts), fees (signed: a reversal returns its fee) and net (= gross - refunds - fees, the
  sum of the transactions' `net_fen`);
- open disputes of the merchant hold back their amount (`held_fen`, never more than the net);
- one UPDATE stamps `settlement_batch_id`/`settled_at` on the day's rows (a correlated sub-select finds
  each merchant's batch), so 1M rows are settled without a Python loop over transactions;
- ledger: the net moves from the merchant's `unsettled` to `settled_unpaid` account.

T+1 vs D0 (the semantic chosen): both kinds of merchant get their day-D batch when the run for D is
made. A **D0** batch is paid in that same run (payout_date = D). A **T+1** batch is due on D+1
(payout_date = D+1) and is paid by the run for D+1 (every run pays the batches due on or before its
business day). So with the daily 02:00 job for "yesterday", a T+1 merchant's Monday sales are settled
early Tuesday and paid early Wednesday; a D0 merchant's are paid early Tuesday. Payouts depend on the
business dates only, never on the wall clock, so re-running any day is reproducible.

A **delayed** merchant (risk flag) gets a `held` batch and no payout; lifting the flag turns its held
batches back to `settled`, and the next run pays them.

Running twice for the same day changes nothing: merchants that already have a batch for D are skipped,
and the second run returns the existing batches. Transactions of D that arrive after D was settled stay
unsettled (they show in `outstanding.is_cleared`) until finance settles them by hand; they are never
slipped silently into another day's batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record_many
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, PermissionDenied, ValidationFailed
from posfleet.money.models import Transaction
from posfleet.registry.models import Merchant
from posfleet.settlement import ledger_bridge
from posfleet.settlement.models import (
    OPEN_DISPUTE_STATES,
    BatchState,
    Dispute,
    DisputeHold,
    SettlementBatch,
    SettlementMode,
    SettlementProfile,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def day_range(business_date: date) -> tuple[datetime, datetime]:
    """[start, end) of a business day in Asia/Shanghai, as aware datetimes."""
    start = datetime.combine(business_date, time.min, tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def business_date_of(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def parse_business_date(raw: Any) -> date:
    """A business date from `YYYY-MM-DD` (or a date); 422 otherwise, and never in the future."""
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
    if value > business_date_of(timezone.now()):
        raise ValidationFailed(
            _("A business day in the future cannot be settled."),
            details={"business_date": [_("Must not be in the future.")]},
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
    }


def _unsettled_of_day() -> str:
    """The WHERE clause for the day's unsettled rows. On SQLite the `+` keeps the planner off the index
    on settlement_batch_id (without ANALYZE it would pick it and scan every unsettled row of all days)."""
    plus = "+" if connection.vendor == "sqlite" else ""
    return f"occurred_at >= %s AND occurred_at < %s AND {plus}settlement_batch_id IS NULL"


def _aggregate(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per-merchant totals of the day's unsettled transactions: one GROUP BY in the database."""
    sql = (
        "SELECT merchant_id, COUNT(*), "
        "SUM(CASE WHEN type = 'sale' THEN amount_fen ELSE 0 END), "
        "SUM(CASE WHEN type = 'sale' THEN 0 ELSE amount_fen END), "
        "SUM(fee_fen), SUM(net_fen), MAX(id) "
        f"FROM {Transaction._meta.db_table} WHERE {_unsettled_of_day()} GROUP BY merchant_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(end)],
        )
        keys = ("merchant_id", "count", "gross", "refund", "fee", "net", "max_id")
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


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


def _stamp_transactions(
    business_date: date, start: datetime, end: datetime, max_id: int, skip_merchants: set[int], now: datetime
) -> int:
    """One UPDATE for the whole day: each row gets its merchant's batch id (correlated sub-select)."""
    tx = Transaction._meta.db_table
    bt = SettlementBatch._meta.db_table
    qn = connection.ops.quote_name
    skip = ""
    if skip_merchants:
        skip = f" AND {qn('merchant_id')} NOT IN ({','.join(str(int(m)) for m in sorted(skip_merchants))})"
    sql = (
        f"UPDATE {qn(tx)} SET {qn('settlement_batch_id')} = ("
        f"SELECT b.{qn('id')} FROM {qn(bt)} b WHERE b.{qn('merchant_id')} = {qn(tx)}.{qn('merchant_id')}"
        f" AND b.{qn('business_date')} = %s), {qn('settled_at')} = %s"
        f" WHERE {_unsettled_of_day()} AND {qn('id')} <= %s{skip}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                connection.ops.adapt_datefield_value(business_date),
                connection.ops.adapt_datetimefield_value(now),
                connection.ops.adapt_datetimefield_value(start),
                connection.ops.adapt_datetimefield_value(end),
                max_id,
            ],
        )
        return int(cursor.rowcount)


def run_settlement(actor: Actor, business_date: Any) -> RunResult:
    """Settle business day `business_date` for every merchant (see the module docstring).

    Sensitive (step-up) and needs `run_settlement`. Must run inside the caller's transaction.
    """
    if not actor.has_perm(perm("run_settlement")):
        raise PermissionDenied()
    require_step_up(actor)
    day = parse_business_date(business_date)
    start, end = day_range(day)
    now = timezone.now()
    result = RunResult(business_date=day)

    rows = _aggregate(start, end)
    existing = {b.merchant_id: b for b in SettlementBatch.objects.filter(business_date=day)}
    result.existing = list(existing.values())
    new_rows = [r for r in rows if r["merchant_id"] not in existing]

    if new_rows:
        merchant_ids = [r["merchant_id"] for r in new_rows]
        profiles = {
            p.merchant_id: p
            for p in SettlementProfile.objects.filter(merchant_id__in=merchant_ids).only(
                "merchant_id", "mode", "delayed"
            )
        }
        cards = dict(Merchant.objects.filter(pk__in=merchant_ids).values_list("pk", "settlement_card_last4"))
        open_disputes: dict[int, list[Dispute]] = {}
        for d in (
            Dispute.objects.select_for_update(no_key=True)
            .filter(merchant_id__in=merchant_ids, state__in=OPEN_DISPUTE_STATES)
            .order_by("opened_at", "id")
        ):
            if d.held_fen < d.amount_fen:
                open_disputes.setdefault(d.merchant_id, []).append(d)

        batches: list[SettlementBatch] = []
        dispute_holds: list[tuple[SettlementBatch, list[tuple[Dispute, int]]]] = []
        for r in new_rows:
            mid = r["merchant_id"]
            profile = profiles.get(mid)
            mode = profile.mode if profile else SettlementMode.T1
            delayed = bool(profile and profile.delayed)
            net = int(r["net"] or 0)
            held, touched = _hold_disputes(mid, max(net, 0), open_disputes.get(mid, []))
            batch = SettlementBatch(
                merchant_id=mid,
                business_date=day,
                mode=mode,
                payout_date=day if mode == SettlementMode.D0 else day + timedelta(days=1),
                transaction_count=r["count"],
                gross_fen=int(r["gross"] or 0),
                refund_fen=int(r["refund"] or 0),
                fee_fen=int(r["fee"] or 0),
                held_fen=held,
                net_fen=net,
                payout_fen=max(net - held, 0),
                card_last4=cards.get(mid, ""),
                state=BatchState.HELD if delayed else BatchState.SETTLED,
                created_at=now,
            )
            batches.append(batch)
            if touched:
                dispute_holds.append((batch, touched))
        try:
            with transaction.atomic():
                SettlementBatch.objects.bulk_create(batches)
        except IntegrityError:
            raise Conflict(
                _("Settlement of %(day)s is running elsewhere; try again in a moment.") % {"day": day},
                code="settlement_running",
            ) from None
        if any(b.pk is None for b in batches):  # backends without RETURNING
            by_mid = {
                b.merchant_id: b
                for b in SettlementBatch.objects.filter(business_date=day, merchant_id__in=merchant_ids)
            }
            batches = [by_mid[b.merchant_id] for b in batches]
            dispute_holds = [(by_mid[b.merchant_id], ds) for b, ds in dispute_holds]

        max_id = max(int(r["max_id"]) for r in new_rows)
        expected = sum(int(r["count"]) for r in new_rows)
        stamped = _stamp_transactions(day, start, end, max_id, set(existing), now)
        if stamped != expected:
            raise Conflict(
                _("Transactions of %(day)s changed while settling; run the settlement again.") % {"day": day},
                code="settlement_changed",
            )
        holds = []
        for batch, parts in dispute_holds:
            for d, part in parts:
                d.held_batch = batch
                d.version += 1
                holds.append(DisputeHold(dispute=d, batch=batch, amount_fen=part))
        DisputeHold.objects.bulk_create(holds)
        Dispute.objects.bulk_update(
            [d for _b, parts in dispute_holds for d, _part in parts], ["held_fen", "held_batch", "version"]
        )
        ledger_bridge.settle_batches(actor, batches)
        result.created = batches

    result.paid = pay_due(actor, day, now=now)
    paid_ids = {b.pk for b in result.paid}
    for b in result.created + result.existing:
        if b.pk in paid_ids:
            b.state, b.paid_at = BatchState.PAID, now
    changes = [
        Change("settlement_batch", str(b.pk), "settlement.batch", None, batch_dict(b), f"business day {day}")
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
        record_many(actor, changes, at=now)
    return result


def pay_due(actor: Actor, business_date: date, *, now: datetime | None = None) -> list[SettlementBatch]:
    """Pay every `settled` batch whose payout date is on or before `business_date` (not held ones)."""
    now = now or timezone.now()
    due = list(
        SettlementBatch.objects.select_for_update(no_key=True, of=("self",))
        .filter(state=BatchState.SETTLED, payout_date__lte=business_date)
        .exclude(merchant__settlement_profile__delayed=True)
        .order_by("id")
    )
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
