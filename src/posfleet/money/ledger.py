"""The double-entry ledger: every money movement is one balanced journal.

A posting's `amount_fen` is positive for a debit and negative for a credit; a journal's postings sum
to zero (`post()` refuses anything else). Merchant accounts (unsettled, settled_unpaid, deposit_held,
amount_due) and institution accounts, the sign each balance is shown with, and how settlement posts
are in docs/money.md. `post()` checks no permission: the calling service does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core import labels
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from posfleet.money.models import Account, Journal, Posting
from posfleet.registry.models import Merchant

# merchant accounts
UNSETTLED = "unsettled"
MERCHANT_PAYABLE = UNSETTLED  # alias used in the brief
SETTLED_UNPAID = "settled_unpaid"
DEPOSIT_HELD = "deposit_held"
AMOUNT_DUE = "amount_due"
MERCHANT_CODES = frozenset({UNSETTLED, SETTLED_UNPAID, DEPOSIT_HELD, AMOUNT_DUE})
# institution accounts
SCHEME_CLEARING = "scheme_clearing"
BANK = "bank"
FEE_INCOME = "fee_income"
SERVICE_FEE_INCOME = "service_fee_income"
PENALTY_INCOME = "penalty_income"
DAMAGE_INCOME = "damage_income"
INSTITUTION_CODES = frozenset(
    {SCHEME_CLEARING, BANK, FEE_INCOME, SERVICE_FEE_INCOME, PENALTY_INCOME, DAMAGE_INCOME}
)
# What each account is called where people read it (ledger pages, audit history).
ACCOUNT_LABELS: dict[str, Any] = {
    UNSETTLED: gettext_lazy("Merchant: not yet settled"),
    SETTLED_UNPAID: gettext_lazy("Merchant: settled, not yet paid out"),
    DEPOSIT_HELD: gettext_lazy("Merchant: deposit held"),
    AMOUNT_DUE: gettext_lazy("Merchant: amount due"),
    SCHEME_CLEARING: gettext_lazy("Card scheme clearing"),
    BANK: gettext_lazy("Bank"),
    FEE_INCOME: gettext_lazy("Transaction fee income"),
    SERVICE_FEE_INCOME: gettext_lazy("Service fee income"),
    PENALTY_INCOME: gettext_lazy("Penalty income"),
    DAMAGE_INCOME: gettext_lazy("Damage income"),
}


labels.register(ACCOUNT_LABELS)
labels.register(
    {
        "monthly_fee": gettext_lazy("Monthly service fee"),
        "suspension_fee": gettext_lazy("Suspension fee"),
        "reactivation_fee": gettext_lazy("Reactivation fee"),
        "early_termination_penalty": gettext_lazy("Early-termination penalty"),
        "damage_charge": gettext_lazy("Damage charges"),
    }
)


def account_label(code: str) -> str:
    label = ACCOUNT_LABELS.get(code)
    return str(label) if label is not None else code


CHARGE_KINDS: dict[str, str] = {
    "monthly_fee": SERVICE_FEE_INCOME,
    "suspension_fee": SERVICE_FEE_INCOME,
    "reactivation_fee": SERVICE_FEE_INCOME,
    "early_termination_penalty": PENALTY_INCOME,
    "damage_charge": DAMAGE_INCOME,
    "repair_charge": SERVICE_FEE_INCOME,
}


@dataclass(frozen=True)
class Entry:
    merchant_id: int | None
    code: str
    amount_fen: int  # debit > 0, credit < 0

    @classmethod
    def debit(cls, merchant_id: int | None, code: str, amount_fen: int) -> Entry:
        return cls(merchant_id, code, amount_fen)

    @classmethod
    def credit(cls, merchant_id: int | None, code: str, amount_fen: int) -> Entry:
        return cls(merchant_id, code, -amount_fen)


@dataclass(frozen=True)
class Balances:
    unsettled_fen: int = 0
    settled_unpaid_fen: int = 0
    deposit_held_fen: int = 0
    amount_due_fen: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "unsettled_fen": self.unsettled_fen,
            "settled_unpaid_fen": self.settled_unpaid_fen,
            "deposit_held_fen": self.deposit_held_fen,
            "amount_due_fen": self.amount_due_fen,
        }


def _check_entries(entries: Sequence[Entry]) -> None:
    problems: list[str] = []
    if not entries:
        problems.append(_("A journal needs at least two postings."))
    for e in entries:
        if isinstance(e.amount_fen, bool) or not isinstance(e.amount_fen, int):
            problems.append(_("Amounts are integer fen."))
        elif e.merchant_id is None and e.code not in INSTITUTION_CODES:
            problems.append(_("Unknown institution account %(code)s.") % {"code": e.code})
        elif e.merchant_id is not None and e.code not in MERCHANT_CODES:
            problems.append(_("Unknown merchant account %(code)s.") % {"code": e.code})
    if not problems and sum(e.amount_fen for e in entries) != 0:
        problems.append(_("The postings of a journal must sum to zero."))
    if problems:
        raise ValidationFailed(details={"entries": problems})


def accounts_for(keys: Iterable[tuple[int | None, str]]) -> dict[tuple[int | None, str], int]:
    """The account ids for (merchant_id, code) keys, creating the missing ones (ids only: a settlement
    run posts to hundreds of accounts, and building model instances for them was most of its cost)."""
    wanted = set(keys)
    merchant_ids = {m for m, _c in wanted if m is not None}
    codes = {c for _m, c in wanted}

    def fetch() -> dict[tuple[int | None, str], int]:
        found: dict[tuple[int | None, str], int] = {}
        if merchant_ids:
            for pk, mid, code in Account.objects.filter(
                merchant_id__in=merchant_ids, code__in=codes
            ).values_list("pk", "merchant_id", "code"):
                found[(mid, code)] = pk
        if any(m is None for m, _c in wanted):
            for pk, code in Account.objects.filter(merchant__isnull=True, code__in=codes).values_list(
                "pk", "code"
            ):
                found[(None, code)] = pk
        return found

    found = fetch()
    missing = wanted - set(found)
    if missing:
        Account.objects.bulk_create(
            [Account(merchant_id=m, code=c) for m, c in sorted(missing, key=lambda k: (k[0] or 0, k[1]))],
            ignore_conflicts=True,
        )
        found = fetch()
    return found


def _apply_balances(deltas: dict[int, int]) -> None:
    """Add `deltas` {account id: fen} to the running balances in one UPDATE (ids in order)."""
    items = sorted((k, v) for k, v in deltas.items() if v)
    table = Account._meta.db_table
    if connection.vendor == "postgresql" and items:
        # one statement over two arrays: the CASE below is a branch per account, tried for each row
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS a SET balance_fen = a.balance_fen + d.delta "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS d(id, delta) WHERE a.id = d.id",
                [[k for k, _v in items], [v for _k, v in items]],
            )
        return
    for start in range(0, len(items), 500):
        part = items[start : start + 500]
        cases = " ".join("WHEN %s THEN %s" for _ in part)
        params: list[int] = []
        for acc_id, delta in part:
            params.extend([acc_id, delta])
        ids = [acc_id for acc_id, _d in part]
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET balance_fen = balance_fen + CASE id {cases} ELSE 0 END "
                f"WHERE id IN ({placeholders})",
                [*params, *ids],
            )


def _insert_postings(
    journal_id: int, rows: Sequence[tuple[int, int]], ref: str, memo: str, at: datetime
) -> None:
    """The postings (account id, amount) of one journal in one statement on PostgreSQL (unnest of two
    arrays: executemany there is a round trip per row), with one executemany elsewhere; no model
    instances either way."""
    table = Posting._meta.db_table
    at_db = connection.ops.adapt_datetimefield_value(at)
    ref, memo = ref[:120], memo[:300]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (journal_id, account_id, amount_fen, ref, memo, at) "
                "SELECT %s, a, b, %s, %s, %s FROM unnest(%s::bigint[], %s::bigint[]) AS t(a, b)",
                [journal_id, ref, memo, at_db, [a for a, _b in rows], [b for _a, b in rows]],
            )
            return
        cursor.executemany(
            f"INSERT INTO {table} (journal_id, account_id, amount_fen, ref, memo, at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(journal_id, account_id, amount, ref, memo, at_db) for account_id, amount in rows],
        )


def new_journal(actor: Actor, *, kind: str, ref: str, memo: str = "", at: datetime | None = None) -> Journal:
    """An empty journal header; book into it with `post(..., journal=...)` in the same transaction."""
    return Journal.objects.create(
        kind=kind, ref=ref[:120], memo=memo[:300], at=at or timezone.now(), actor_name=actor.name
    )


def post(
    actor: Actor,
    entries: Sequence[Entry],
    *,
    ref: str,
    memo: str = "",
    kind: str = "manual",
    at: datetime | None = None,
    audit: bool = True,
    journal: Journal | None = None,
) -> Journal:
    """Book one balanced journal inside the caller's transaction; audit it (amounts only).

    `journal` lets a caller that must stamp rows with the journal id first (ingest) create it with
    `new_journal()` and book into it; anything else lets `post()` create it.
    """
    entries = [e for e in entries if e.amount_fen != 0] or list(entries)
    _check_entries(entries)
    at = at or (journal.at if journal is not None else timezone.now())
    accounts = accounts_for((e.merchant_id, e.code) for e in entries)
    if journal is None:
        journal = new_journal(actor, kind=kind, ref=ref, memo=memo, at=at)
    _insert_postings(
        journal.pk, [(accounts[(e.merchant_id, e.code)], e.amount_fen) for e in entries], ref, memo, at
    )
    deltas: dict[int, int] = defaultdict(int)
    for e in entries:
        deltas[accounts[(e.merchant_id, e.code)]] += e.amount_fen
    _apply_balances(deltas)
    if audit:
        record(
            actor,
            Change(
                "journal",
                str(journal.pk),
                f"ledger.{journal.kind}",
                None,
                {
                    "ref": ref,
                    "postings": [
                        {"merchant_id": e.merchant_id, "account": e.code, "amount_fen": e.amount_fen}
                        for e in entries
                    ],
                },
                memo,
            ),
            at=None,
        )
    return journal


def balances(merchant_id: int) -> Balances:
    rows = dict(
        Account.objects.filter(merchant_id=merchant_id, code__in=MERCHANT_CODES).values_list(
            "code", "balance_fen"
        )
    )
    return Balances(
        unsettled_fen=-rows.get(UNSETTLED, 0),
        settled_unpaid_fen=-rows.get(SETTLED_UNPAID, 0),
        deposit_held_fen=-rows.get(DEPOSIT_HELD, 0),
        amount_due_fen=rows.get(AMOUNT_DUE, 0),
    )


def balances_many(merchant_ids: Iterable[int]) -> dict[int, Balances]:
    """Balances of many merchants in one query (list pages)."""
    raw: dict[int, dict[str, int]] = defaultdict(dict)
    for mid, code, bal in Account.objects.filter(
        merchant_id__in=list(merchant_ids), code__in=MERCHANT_CODES
    ).values_list("merchant_id", "code", "balance_fen"):
        raw[mid][code] = bal
    return {
        mid: Balances(
            -r.get(UNSETTLED, 0), -r.get(SETTLED_UNPAID, 0), -r.get(DEPOSIT_HELD, 0), r.get(AMOUNT_DUE, 0)
        )
        for mid, r in raw.items()
    }


# --- convenience movements (cases and settlement call these) --------------------------------------------


def _require_charge(actor: Actor) -> None:
    if not actor.has_perm(perm("post_charge")):
        raise PermissionDenied()


def _positive(amount_fen: Any) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationFailed(details={"amount_fen": [_("A positive whole number of fen is required.")]})
    return amount_fen


def _merchant_exists(merchant_id: int) -> None:
    if not Merchant.objects.filter(pk=merchant_id).exists():
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})


def _locked_balances(merchant_id: int) -> Balances:
    """Lock the merchant's accounts (creating them) so a check-then-post cannot race."""
    accounts_for((merchant_id, c) for c in sorted(MERCHANT_CODES))
    list(
        Account.objects.select_for_update(no_key=True)
        .filter(merchant_id=merchant_id, code__in=MERCHANT_CODES)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return balances(merchant_id)


def charge(
    actor: Actor, merchant_id: int, kind: str, amount_fen: int, *, ref: str, memo: str = ""
) -> Journal:
    """Raise the merchant's amount due by a fee, penalty or damage charge."""
    _require_charge(actor)
    if kind not in CHARGE_KINDS:
        raise ValidationFailed(
            details={"kind": [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(CHARGE_KINDS)}]}
        )
    amount_fen = _positive(amount_fen)
    _merchant_exists(merchant_id)
    return post(
        actor,
        [
            Entry.debit(merchant_id, AMOUNT_DUE, amount_fen),
            Entry.credit(None, CHARGE_KINDS[kind], amount_fen),
        ],
        ref=ref,
        memo=memo or kind,
        kind=kind,
    )


def _at_most(merchant_id: int, amount_fen: int, *, held: bool = False, due: bool = False) -> None:
    """Refuse an amount above the deposit held and/or the amount due (balances read locked)."""
    bal = _locked_balances(merchant_id)
    if held and amount_fen > bal.deposit_held_fen:
        raise ValidationFailed(
            details={
                "amount_fen": [_("Only %(held)s fen of deposit is held.") % {"held": bal.deposit_held_fen}]
            }
        )
    if due and amount_fen > bal.amount_due_fen:
        raise ValidationFailed(
            details={"amount_fen": [_("Only %(due)s fen is due.") % {"due": bal.amount_due_fen}]}
        )


@dataclass(frozen=True)
class _Movement:
    debit: str  # an account code; the merchant's own account when the code is a merchant's
    credit: str
    memo: str
    up_to_held: bool = False  # never more than the deposit held
    up_to_due: bool = False  # never more than the amount due


_MOVEMENTS = {
    "deposit_received": _Movement(BANK, DEPOSIT_HELD, "deposit received"),
    "deposit_applied": _Movement(
        DEPOSIT_HELD, AMOUNT_DUE, "deposit applied to amount due", up_to_held=True, up_to_due=True
    ),
    "deposit_refunded": _Movement(DEPOSIT_HELD, BANK, "deposit refunded", up_to_held=True),
    "payment_received": _Movement(BANK, AMOUNT_DUE, "payment received", up_to_due=True),
}


def _move(actor: Actor, kind: str, merchant_id: int, amount_fen: int, *, ref: str, note: str = "") -> Journal:
    """The deposit and payment movements: the same checks, then one debit and one credit."""
    move = _MOVEMENTS[kind]
    _require_charge(actor)
    amount_fen = _positive(amount_fen)
    _merchant_exists(merchant_id)
    if move.up_to_held or move.up_to_due:
        _at_most(merchant_id, amount_fen, held=move.up_to_held, due=move.up_to_due)

    def owner(code: str) -> int | None:
        return merchant_id if code in MERCHANT_CODES else None

    entries = [
        Entry.debit(owner(move.debit), move.debit, amount_fen),
        Entry.credit(owner(move.credit), move.credit, amount_fen),
    ]
    return post(actor, entries, ref=ref, memo=f"{move.memo} {note}".strip(), kind=kind)


def receive_deposit(actor: Actor, merchant_id: int, amount_fen: int, *, ref: str) -> Journal:
    return _move(actor, "deposit_received", merchant_id, amount_fen, ref=ref)


def apply_deposit(actor: Actor, merchant_id: int, amount_fen: int, *, ref: str) -> Journal:
    """Pay part of the amount due from the deposit held (never more than either)."""
    return _move(actor, "deposit_applied", merchant_id, amount_fen, ref=ref)


def refund_deposit(actor: Actor, merchant_id: int, amount_fen: int, *, ref: str, proof: str = "") -> Journal:
    """Pay (part of) the deposit held back to the merchant; `proof` (receipt no., contract) goes in the memo."""
    return _move(actor, "deposit_refunded", merchant_id, amount_fen, ref=ref, note=proof)


def record_payment(actor: Actor, merchant_id: int, amount_fen: int, *, ref: str) -> Journal:
    """The merchant paid (part of) its amount due."""
    return _move(actor, "payment_received", merchant_id, amount_fen, ref=ref)
