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
    at_text: str | None = None  # occurred_at as ISO text with its offset (as a clearing file wrote it)

    def packed(self) -> tuple[Any, ...]:
        """Plain values (`marshal` carries them from the import's reader process); `unpacked` inverts it.
        The time goes as ISO text, which keeps its offset."""
        at_db = self.at_db if self.at_db.__class__ is str else None  # None: the write path adapts the time
        at = self.at_text or self.occurred_at.isoformat()
        return (
            self.index, self.switch_id, self.tid, self.channel, self.type, self.amount_fen, at,
            self.merchant_id, self.fee_fen, self.net_fen, self.plan_code, self.rate_bp, self.flag_reasons,
            at_db, self.day_db, self.original_id, self.copy_line,
        )  # fmt: skip

    @classmethod
    def unpacked(cls, v: tuple[Any, ...]) -> Parsed:
        return cls(
            v[0], v[1], v[2], v[3], v[4], v[5], datetime.fromisoformat(v[6]), v[7], v[8], v[9], v[10],
            v[11], v[12], v[13], v[14], v[15], v[16], v[6],
        )  # fmt: skip

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
