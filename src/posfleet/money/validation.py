"""The rules every ingested transaction meets, apart from how it arrives (API batch, clearing file).

Per-row checks look at one item alone: its text (no NUL, valid UTF-8, no absurd field), its type's
link to an original sale, its time against the terminal and the clock. The set-based check looks at
a whole chunk with the database: a refund or reversal needs its original sale (same merchant, not
earlier, not refunded beyond its amount). Each answers None or an error {code, message, details},
the shape of every ingest refusal, so any ingest path (row by row, batched, COPY) can reuse them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.money.models import Transaction

MAX_FIELD_CHARS = 1_000  # the longest field of a transaction is 64 characters
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no terminal of this system transacted before
ID_MAX = 64
BACK_TYPES = frozenset(("refund", "reversal"))  # money going back to the cardholder: needs its sale
_IN_CHUNK = 5_000


def item_error(code: str, details: dict[str, list[str]]) -> dict[str, Any]:
    first = next(iter(details.values()))[0]
    return {"code": code, "message": first, "details": details}


def clock_skew() -> timedelta:
    """How far ahead of our clock a terminal's clock may run (settings.POSFLEET_CLOCK_SKEW_SECONDS)."""
    return timedelta(seconds=settings.POSFLEET_CLOCK_SKEW_SECONDS)


# --- per row --------------------------------------------------------------------------------------------
def clean_row(row: Sequence[str]) -> bool:
    """True when a clearing-file row needs no closer look at its text (the common case, ~0.3 µs):
    all ASCII (bytes that were not UTF-8 read as surrogates, never ASCII), no NUL, not overlong."""
    joined = "".join(row)
    return joined.isascii() and "\x00" not in joined and len(joined) <= MAX_FIELD_CHARS


def text_error(values: Iterable[Any]) -> dict[str, Any] | None:
    """A NUL, bytes that are not UTF-8 (read with `surrogateescape`, or lone surrogates from JSON) or
    a field over MAX_FIELD_CHARS, in any of `values`. PostgreSQL refuses NUL in text and SQLite
    would store it: refused here, alike on both."""
    for value in values:
        if value.__class__ is not str:
            continue
        if "\x00" in value:
            return item_error("invalid_character", {"item": [_("A field contains a NUL character.")]})
        if len(value) > MAX_FIELD_CHARS:
            return item_error(
                "field_too_long",
                {"item": [_("A field is longer than %(n)s characters.") % {"n": f"{MAX_FIELD_CHARS:,}"}]},
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return item_error("invalid_encoding", {"item": [_("The line is not valid UTF-8.")]})
    return None


def shown(value: Any, limit: int = 40) -> str:
    """`value` safe to print in a message or a terminal: NUL, control characters and undecodable
    bytes escaped, cut to `limit` characters."""
    text = str(value)[:limit]
    if text.isprintable():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8").encode("unicode_escape").decode("ascii")


def original_error(tx_type: str, original: Any) -> dict[str, Any] | None:
    """A refund or reversal names its original sale's switch id (`original_id`); a sale names none."""
    has = isinstance(original, str) and original.strip() != ""
    if tx_type in BACK_TYPES:
        if not has or len(original) > ID_MAX:
            return item_error(
                "missing_original",
                {"original_id": [_("A refund or reversal names its original sale (original_id).")]},
            )
    elif has or (original is not None and not isinstance(original, str)):
        return item_error(
            "invalid_original", {"original_id": [_("Only refunds and reversals name an original sale.")]}
        )
    return None


def time_error(at: datetime, registered_at: datetime | None, latest: datetime) -> dict[str, Any] | None:
    """`at` is within the sane window: not ahead of the clock by more than the skew allowance
    (`latest` = now + skew), not before the terminal was registered (less the skew), not before 2000."""
    if at > latest:
        minutes = int(clock_skew().total_seconds() // 60)
        return item_error(
            "invalid_time",
            {"occurred_at": [_("The time is more than %(m)s minutes in the future.") % {"m": minutes}]},
        )
    if at < EARLIEST:
        return item_error("invalid_time", {"occurred_at": [_("The time is before the year 2000.")]})
    if registered_at is not None and at < registered_at - clock_skew():
        when = timezone.localtime(registered_at).strftime("%Y-%m-%d %H:%M")
        return item_error(
            "before_terminal",
            {"occurred_at": [_("The time is before the terminal was registered (%(at)s).") % {"at": when}]},
        )
    return None


# --- set-based ------------------------------------------------------------------------------------------
_TABLE = Transaction._meta.db_table


class Item(Protocol):
    index: int
    switch_id: str
    type: str
    merchant_id: int
    amount_fen: int
    occurred_at: datetime
    original_id: str


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def refund_errors(items: Sequence[Item]) -> dict[int, dict[str, Any]]:
    """Errors (by item index) of the refunds and reversals among `items`, which are one chunk's valid
    items: each needs its original sale, in the database or earlier in the chunk, of the same
    merchant, not later than itself, and all refunds of a sale stay within its amount.

    Three queries when the chunk has refunds, none otherwise. A refund already recorded (a re-sent
    file) is left to the duplicate check. On PostgreSQL the original sales are locked (FOR UPDATE, in
    id order) before their refunds are summed, so two imports cannot both spend the same sale."""
    backs = [p for p in items if p.type in BACK_TYPES]
    if not backs:
        return {}
    known = _known_ids([p.switch_id for p in backs])
    backs = sorted((p for p in backs if p.switch_id not in known), key=lambda p: p.index)
    originals = sorted({p.original_id for p in backs})
    sales, refunded = _sales_and_refunded(originals)
    wanted = set(originals)
    for p in items:  # sales earlier in the chunk (those the database does not hold yet)
        if p.switch_id in wanted and p.type == "sale" and p.switch_id not in sales:
            sales[p.switch_id] = (p.type, p.merchant_id, p.amount_fen, p.occurred_at)
    errors: dict[int, dict[str, Any]] = {}
    for p in backs:
        sale = sales.get(p.original_id)
        if sale is None or sale[0] != "sale":
            errors[p.index] = item_error(
                "unknown_original",
                {"original_id": [_("No sale %(id)s is recorded to refund.") % {"id": shown(p.original_id)}]},
            )
            continue
        _type, mid, amount, at = sale
        if mid != p.merchant_id:
            errors[p.index] = item_error(
                "original_other_merchant",
                {"original_id": [_("The original sale belongs to another merchant.")]},
            )
        elif p.occurred_at < at:
            errors[p.index] = item_error(
                "refund_before_sale", {"occurred_at": [_("The refund is earlier than its original sale.")]}
            )
        elif refunded[p.original_id] + p.amount_fen > amount:
            errors[p.index] = item_error(
                "refund_exceeds_sale",
                {
                    "amount_fen": [
                        _("Sale %(id)s of %(amount)s fen has %(left)s fen left to refund.")
                        % {"id": p.original_id, "amount": amount, "left": amount - refunded[p.original_id]}
                    ]
                },
            )
        else:
            refunded[p.original_id] += p.amount_fen
    return errors


def _known_ids(switch_ids: Sequence[str]) -> set[str]:
    if connection.vendor == "postgresql":  # one array parameter, not thousands of placeholders
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT switch_id FROM {_TABLE} WHERE switch_id = ANY(%s)", [list(switch_ids)])
            return {sid for (sid,) in cursor.fetchall()}
    known: set[str] = set()
    for part in _chunks(switch_ids):
        known.update(Transaction.objects.filter(switch_id__in=part).values_list("switch_id", flat=True))
    return known


Sale = tuple[str, int, int, datetime]  # type, merchant, amount, time


def _sales_and_refunded(originals: Sequence[str]) -> tuple[dict[str, Sale], defaultdict[str, int]]:
    """The recorded sales among `originals` and how much of each is refunded already.

    On PostgreSQL the sales are locked (FOR UPDATE, in id order) before their refunds are summed, and
    each query takes the ids as one array (the ORM's IN list costs a placeholder, and its quoting, per
    id: a tenth of a second per 50,000-row chunk)."""
    sales: dict[str, Sale] = {}
    refunded: defaultdict[str, int] = defaultdict(int)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT switch_id, type, merchant_id, amount_fen, occurred_at FROM {_TABLE} "
                "WHERE switch_id = ANY(%s) ORDER BY id FOR UPDATE",
                [list(originals)],
            )
            for sid, tx_type, mid, amount, at in cursor.fetchall():
                sales[sid] = (tx_type, mid, amount, at)
            cursor.execute(
                f"SELECT original_switch_id, SUM(amount_fen) FROM {_TABLE} "
                # the partial index's own condition: without it neither database may use the index
                "WHERE original_switch_id = ANY(%s) AND NOT (original_switch_id = '') "
                "GROUP BY original_switch_id",
                [list(originals)],
            )
            for sid, total in cursor.fetchall():
                refunded[sid] = int(total or 0)
        return sales, refunded
    for part in _chunks(originals):
        qs = Transaction.objects.filter(switch_id__in=part)
        for sid, tx_type, mid, amount, at in qs.values_list(
            "switch_id", "type", "merchant_id", "amount_fen", "occurred_at"
        ):
            sales[sid] = (tx_type, mid, amount, at)
        for sid, total in (
            Transaction.objects.filter(original_switch_id__in=part)
            .exclude(original_switch_id="")  # the partial index's condition, as above
            .order_by()
            .values_list("original_switch_id")
            .annotate(total=Sum("amount_fen"))
        ):
            refunded[sid] = int(total or 0)
    return sales, refunded
