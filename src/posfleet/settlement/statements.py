"""A merchant's reconciliation statement for a period: the CSV finance and merchants check.

Rows in date order: the opening balance (a book balance from the ledger postings), per business day
the transactions' totals, the settlement batches, payouts, disputes, and the closing balance; amounts
in integer fen, summed in the database. docs/money.md describes each row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, Value, When
from django.utils.translation import gettext as _

from posfleet.core.actor import Actor
from posfleet.core.errors import ValidationFailed
from posfleet.money.access import require_money_reader
from posfleet.money.ledger import AMOUNT_DUE, SETTLED_UNPAID, UNSETTLED
from posfleet.money.models import Posting, Transaction
from posfleet.registry.services import get_merchant
from posfleet.settlement.models import BATCH_AMOUNTS, Dispute, SettlementBatch
from posfleet.settlement.outstanding import yuan
from posfleet.settlement.services import INSTITUTION_TZ, day_range

COLUMNS = ("date", "kind", "reference", "count", *BATCH_AMOUNTS, "balance_fen", "state", "memo")
MAX_DAYS = 366
BIG: Any = BigIntegerField()


def _owed_at(merchant_id: int, moment: Any) -> int:
    """Institution's debt to the merchant at `moment`: -(unsettled + settled_unpaid) - amount_due balances."""
    agg = Posting.objects.filter(account__merchant_id=merchant_id, at__lt=moment).aggregate(
        owed=Sum("amount_fen", filter=Q(account__code__in=[UNSETTLED, SETTLED_UNPAID])),
        due=Sum("amount_fen", filter=Q(account__code=AMOUNT_DUE)),
    )
    return -int(agg["owed"] or 0) - int(agg["due"] or 0)


def _check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise ValidationFailed(details={"to": [_("The end must not be before the start.")]})
    if (date_to - date_from).days >= MAX_DAYS:
        raise ValidationFailed(details={"to": [_("At most %(n)d days at a time.") % {"n": MAX_DAYS}]})


Dated = tuple[date, int, dict[str, Any]]  # a row of a day, its order among that day's kinds, the row


def _row(**values: Any) -> dict[str, Any]:
    return {c: values.get(c, "") for c in COLUMNS}


def _dated(on: date, order: int, **values: Any) -> Dated:
    """A row of the day `on`; `order` places it among that day's rows."""
    return on, order, _row(date=on.isoformat(), **values)


def _transaction_days(merchant_id: int, date_from: date, date_to: date) -> Iterator[Dated]:
    # the covering tx_merchant_day_idx answers this without reading the table
    days = (
        Transaction.objects.filter(merchant_id=merchant_id, business_date__range=(date_from, date_to))
        .annotate(day=F("business_date"))
        .order_by()
        .values("day")
        .annotate(
            n=Count("id"),
            gross=Sum(Case(When(type="sale", then=F("amount_fen")), default=Value(0), output_field=BIG)),
            refund=Sum(Case(When(type="sale", then=Value(0)), default=F("amount_fen"), output_field=BIG)),
            fee=Sum("fee_fen"),
            net=Sum("net_fen"),
        )
    )
    for d in days:
        yield _dated(
            d["day"],
            0,
            kind="transactions",
            count=d["n"],
            gross_fen=d["gross"] or 0,
            refund_fen=d["refund"] or 0,
            fee_fen=d["fee"] or 0,
            net_fen=d["net"] or 0,
        )


def _settlements(merchant_id: int, date_from: date, date_to: date) -> Iterator[Dated]:
    for batch in SettlementBatch.objects.filter(
        merchant_id=merchant_id, business_date__gte=date_from, business_date__lte=date_to
    ):
        yield _dated(
            batch.business_date,
            1,
            kind="late_settlement" if batch.late else "settlement",
            reference=f"batch:{batch.pk}",
            count=batch.transaction_count,
            **{k: getattr(batch, k) for k in BATCH_AMOUNTS},
            state=batch.state,
            memo=(f"late, run of {batch.run_date} " if batch.late else "")
            + f"{batch.mode} payout {batch.payout_date.isoformat()}",
        )


def _payouts(merchant_id: int, start: datetime, end: datetime) -> Iterator[Dated]:
    for batch in SettlementBatch.objects.filter(merchant_id=merchant_id, paid_at__gte=start, paid_at__lt=end):
        assert batch.paid_at is not None
        yield _dated(
            batch.paid_at.astimezone(INSTITUTION_TZ).date(),
            2,
            kind="payout",
            reference=f"batch:{batch.pk}",
            payout_fen=batch.payout_fen,
            state=batch.state,
            memo=f"{_('to card')} {batch.card_masked}".strip(),
        )


def _disputes(merchant_id: int, start: datetime, end: datetime) -> Iterator[Dated]:
    """A dispute on the day it was resolved within the period, else on the day it was opened."""
    for dispute in Dispute.objects.filter(merchant_id=merchant_id).filter(
        Q(opened_at__gte=start, opened_at__lt=end) | Q(resolved_at__gte=start, resolved_at__lt=end)
    ):
        on = (
            (dispute.resolved_at if dispute.resolved_at and dispute.resolved_at < end else dispute.opened_at)
            .astimezone(INSTITUTION_TZ)
            .date()
        )
        yield _dated(
            on,
            3,
            kind="dispute",
            reference=f"dispute:{dispute.pk}",
            held_fen=dispute.held_fen,
            net_fen=-dispute.amount_fen if dispute.state == "lost" and dispute.kind == "chargeback" else 0,
            state=dispute.state,
            memo=f"{dispute.kind} {dispute.amount_fen} fen",
        )


def statement_rows(merchant_id: int, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """The opening balance, each day's transactions, settlements, payouts and disputes in day order,
    and the closing balance."""
    get_merchant(merchant_id)
    _check_period(date_from, date_to)
    start, _e = day_range(date_from)
    _s, end = day_range(date_to)
    dated = [
        *_transaction_days(merchant_id, date_from, date_to),
        *_settlements(merchant_id, date_from, date_to),
        *_payouts(merchant_id, start, end),
        *_disputes(merchant_id, start, end),
    ]
    return [
        _row(date=date_from.isoformat(), kind="opening_balance", balance_fen=_owed_at(merchant_id, start)),
        *(r for _d, _o, r in sorted(dated, key=lambda x: (x[0], x[1], x[2]["reference"]))),
        _row(date=date_to.isoformat(), kind="closing_balance", balance_fen=_owed_at(merchant_id, end)),
    ]


def _checked(
    actor: Actor, merchant_id: int, date_from: date | None, date_to: date | None
) -> tuple[date, date]:
    """Who may read it (staff with view_money, or the merchant's own portal login; another merchant's
    reads as not found) and a valid period, checked before anything is read or sent."""
    require_money_reader(actor, merchant_id)
    if date_from is None or date_to is None:
        raise ValidationFailed(
            _("Give both dates of the period."), details={"from": [_("from and to are required.")]}
        )
    get_merchant(merchant_id)
    _check_period(date_from, date_to)
    return date_from, date_to


def statement_for(
    actor: Actor, merchant_id: int, date_from: date | None, date_to: date | None
) -> tuple[str, str]:
    """(file name, CSV) of a merchant's reconciliation statement, for whoever may read it. The API
    answers with the whole text; the console and the portal stream it (`statement_stream`)."""
    date_from, date_to = _checked(actor, merchant_id, date_from, date_to)
    return _filename(merchant_id, date_from, date_to), statement_csv(merchant_id, date_from, date_to)


def statement_stream(
    actor: Actor, merchant_id: int, date_from: date | None, date_to: date | None
) -> tuple[str, Iterator[str]]:
    """(file name, CSV lines): every check is done before the first line, so a refusal is an error
    page, never a broken download; the lines are produced as they are sent (a line per day and per
    settlement, payout or dispute: the memory does not grow with the merchant's transactions)."""
    date_from, date_to = _checked(actor, merchant_id, date_from, date_to)
    return _filename(merchant_id, date_from, date_to), statement_lines(merchant_id, date_from, date_to)


def _filename(merchant_id: int, date_from: date, date_to: date) -> str:
    return f"statement-{merchant_id}-{date_from}-{date_to}.csv"


def statement_lines(merchant_id: int, date_from: date, date_to: date) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, "amount_yuan"], lineterminator="\n")
    writer.writeheader()
    for r in statement_rows(merchant_id, date_from, date_to):
        amount = (
            r["balance_fen"]
            if r["kind"] in ("opening_balance", "closing_balance")
            else (r["payout_fen"] if r["kind"] == "payout" else r["net_fen"])
        )
        writer.writerow({**r, "amount_yuan": yuan(int(amount)) if amount != "" else ""})
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def statement_csv(merchant_id: int, date_from: date, date_to: date) -> str:
    return "".join(statement_lines(merchant_id, date_from, date_to))


def period_days(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]
