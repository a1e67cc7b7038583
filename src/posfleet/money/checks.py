"""Proofs that the ledger is whole (`posfleet ledger_check`).

1. every journal's postings sum to zero, and no journal is empty;
2. all postings together sum to zero;
3. every account's running balance (what `balances()` and the pages show) equals the sum of its postings;
4. per merchant, the net of its ingested transactions equals what the ingest journals credited to its
   `unsettled` account (the ledger matches the transaction table);
5. no posting sits on a merchant account of an unknown code.
Each check runs as one aggregate query, so it scales with the ledger, not with Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from posfleet.money import ledger
from posfleet.money.models import Account, Journal, Posting, Transaction


@dataclass
class CheckResult:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    journals: int = 0
    postings: int = 0
    accounts: int = 0

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def check(limit: int = 20) -> CheckResult:
    result = CheckResult()
    p, j, a, t = (m._meta.db_table for m in (Posting, Journal, Account, Transaction))
    result.journals = Journal.objects.count()
    result.postings = Posting.objects.count()
    result.accounts = Account.objects.count()
    for jid, total in _rows(
        f"SELECT journal_id, SUM(amount_fen) FROM {p} GROUP BY journal_id HAVING SUM(amount_fen) <> 0 "
        f"ORDER BY journal_id LIMIT {int(limit)}"
    ):
        result.fail(f"journal {jid} does not balance: its postings sum to {total} fen")
    for (jid,) in _rows(
        f"SELECT id FROM {j} WHERE NOT EXISTS (SELECT 1 FROM {p} WHERE {p}.journal_id = {j}.id) "
        f"ORDER BY id LIMIT {int(limit)}"
    ):
        result.fail(f"journal {jid} has no postings")
    [(grand,)] = _rows(f"SELECT COALESCE(SUM(amount_fen), 0) FROM {p}")
    if grand != 0:
        result.fail(f"all postings sum to {grand} fen, not 0")
    for acc_id, code, merchant_id, shown, actual in _rows(
        f"SELECT a.id, a.code, a.merchant_id, a.balance_fen, COALESCE(s.total, 0) FROM {a} a "
        f"LEFT JOIN (SELECT account_id, SUM(amount_fen) AS total FROM {p} GROUP BY account_id) s "
        f"ON s.account_id = a.id WHERE a.balance_fen <> COALESCE(s.total, 0) ORDER BY a.id LIMIT {int(limit)}"
    ):
        who = f"merchant {merchant_id}" if merchant_id else "institution"
        result.fail(f"account {acc_id} ({who} {code}) shows {shown} fen but its postings sum to {actual} fen")
    codes = ", ".join(f"'{c}'" for c in sorted(ledger.MERCHANT_CODES))
    for acc_id, code in _rows(
        f"SELECT id, code FROM {a} WHERE merchant_id IS NOT NULL AND code NOT IN ({codes}) LIMIT {int(limit)}"
    ):
        result.fail(f"account {acc_id} has an unknown merchant account code {code}")
    booked: dict[int, int] = dict(
        _rows(
            f"SELECT a.merchant_id, -SUM(p.amount_fen) FROM {p} p JOIN {a} a ON a.id = p.account_id "
            f"JOIN {j} j ON j.id = p.journal_id WHERE j.kind = 'ingest' AND a.code = %s GROUP BY a.merchant_id",
            [ledger.UNSETTLED],
        )
    )
    ingested: dict[int, int] = dict(_rows(f"SELECT merchant_id, SUM(net_fen) FROM {t} GROUP BY merchant_id"))
    mismatched = [
        m for m in sorted(set(booked) | set(ingested), key=int) if booked.get(m, 0) != ingested.get(m, 0)
    ]
    for m in mismatched[:limit]:
        result.fail(
            f"merchant {m}: transactions net {ingested.get(m, 0)} fen but ingest booked {booked.get(m, 0)} fen"
        )
    return result
