"""What a filing carries in: one shape for the console's, the portal's, the API's and the CLI's forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from posfleet.cases.choices import CaseChannel
from posfleet.registry.services import MerchantInput


@dataclass
class CaseInput:
    kind: str
    merchant_id: int | None = None
    terminals: list[str] = field(default_factory=list)
    reason: str = ""
    note: str = ""
    channel: str = CaseChannel.CONSOLE
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    planned_date: date | None = None
    follow_up_note: str = ""
    hold_id: int | None = None  # appeals only: the stop appealed against
    # applications only
    applicant: MerchantInput | None = None  # a new merchant (instead of merchant_id)
    install_address: str = ""
    terminal_model: str = ""  # the model asked for; empty: whatever permitted model is in stock
