"""One transaction as ingest has read, checked and priced it: what parsing hands the write path
(`ingest_write`) and the daily rollups (`rollup`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Parsed:
    index: int
    switch_id: str
    tid: str
    channel: str
    type: str
    amount_fen: int
    occurred_at: datetime
    merchant_id: int = 0
    fee_fen: int = 0
    net_fen: int = 0
    plan_code: str = ""
    rate_bp: int = 0
    flag_reasons: list[dict[str, Any]] = field(default_factory=list)
    at_db: Any = None  # occurred_at / business_date as text the database takes, when the clearing-file
    day_db: Any = None  # path already has them (None: `ingest_write` adapts occurred_at itself)
    original_id: str = ""  # a refund's or reversal's original sale (its switch id)
    copy_line: str | None = None  # the row in COPY text up to `flag_reasons`, when parsing made it

    def same_content(
        self, tid: str, channel: str, type_: str, amount_fen: int, occurred_at: datetime
    ) -> bool:
        return (tid, channel, type_, amount_fen, occurred_at) == (
            self.tid,
            self.channel,
            self.type,
            self.amount_fen,
            self.occurred_at,
        )
