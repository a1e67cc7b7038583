"""Request and response shapes of the repair API (faults, repair orders, loaners, swaps, prevention).

Field names other systems script against are fixed (`id`, `repair_order_id`, `tid`, `state`, `where`,
`quotes`, `steps`, `qc`, `warranty_months`, `due_on`, `old_sn`, `new_sn`, `security_patch_level`);
fields may be added, never renamed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from posfleet.api.fields import MAX_FEN, MAX_ID, IsoDate, IsoDateTime, Reason, Tid, optional_text, text
from posfleet.registry.choices import Condition
from posfleet.repair.choices import FaultCategory, Frequency, QcCheck, SwapKind, Symptom, Where
from posfleet.repair.models import Loaner, QcResult, RepairOrder
from posfleet.repair.services.loaners import is_overdue
from posfleet.repair.services.orders import qc_checks
from posfleet.repair.transitions import Action, available


class FaultIn(Schema):
    tid: Tid
    category: FaultCategory
    symptom: Symptom = Field(description="Belongs to the category (hardware: screen, keypad, …)")
    started_at: IsoDateTime = Field(description="When it started; not in the future")
    frequency: Frequency
    trigger: str = optional_text(500, description="What triggers it")
    customer_feedback: str = optional_text(4000)
    description: str = optional_text(4000)
    stop_terminal: StrictBool = Field(False, description="Stop the terminal meanwhile (a fault hold)")


class EvidenceOut(Schema):
    id: int
    content_type: str
    size: int
    sha256: str
    note: str
    uploaded_by: str = Field(alias="uploaded_by_name")
    uploaded_at: datetime


class FaultOut(Schema):
    id: int
    repair_order_id: int = Field(alias="order.pk")
    tid: str
    sn: str
    merchant_id: int
    category: str
    symptom: str
    started_at: datetime
    frequency: str
    trigger: str
    customer_feedback: str
    stop_terminal: bool
    hold_id: int | None
    evidence: list[EvidenceOut]
    created_at: datetime


class QuoteOut(Schema):
    id: int
    where: str
    provider: str
    amount_fen: int
    days: int
    warranty_months: int
    state: str
    decided_by: str = Field(alias="decided_by_name")
    decided_at: datetime | None


class PartOut(Schema):
    part: str
    serial: str


class StepOut(Schema):
    id: int
    done: str
    parts: list[PartOut]
    firmware_before: str
    firmware_after: str
    patch_before: str
    patch_after: str
    test_results: str
    by: str = Field(alias="by_name")
    at: datetime


class QcOut(Schema):
    check: str = Field(alias="item")
    passed: bool
    round: int
    note: str
    by: str = Field(alias="by_name")
    at: datetime


class LoanerOut(Schema):  # needs `terminal` selected
    id: int
    tid: str = Field(alias="terminal.tid")
    merchant_id: int
    repair_order_id: int = Field(alias="order_id")
    state: str
    lent_at: datetime
    due_on: date
    overdue: bool
    returned_at: datetime | None
    condition: str
    charge_fen: int

    @staticmethod
    def resolve_overdue(loan: Loaner) -> bool:
        return is_overdue(loan)


# Needs `fault` selected and `quotes`, `steps__parts` and `qc_results` prefetched.
class RepairOrderOut(Schema):
    id: int
    fault_id: int
    tid: str = Field(alias="fault.tid")
    sn: str = Field(alias="fault.sn")
    merchant_id: int
    state: str
    where: str
    provider: str
    diagnosis: str
    under_warranty: bool
    warranty_months: int
    charged_fen: int
    quotes: list[QuoteOut]
    steps: list[StepOut]
    qc: list[QcOut] = Field(description="The latest QC round's results")
    qc_checklist: list[str]
    actions: list[str] = Field(description="Actions open from the current state")
    loaners: list[LoanerOut]
    version: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_qc(o: RepairOrder) -> list[QcResult]:
        qc = list(o.qc_results.all())
        last = max((r.round for r in qc), default=0)
        return [r for r in qc if r.round == last]

    @staticmethod
    def resolve_qc_checklist(o: RepairOrder) -> list[str]:
        return list(qc_checks(o))

    @staticmethod
    def resolve_actions(o: RepairOrder) -> list[str]:
        return available(o.state)

    @staticmethod
    def resolve_loaners(o: RepairOrder) -> QuerySet[Loaner]:
        return o.loaners.select_related("terminal")


class RepairOrderSummary(Schema):  # needs `fault` selected
    id: int
    tid: str = Field(alias="fault.tid")
    merchant_id: int
    state: str
    where: str
    created_at: datetime


class RepairOrderPage(Schema):
    items: list[RepairOrderSummary]
    next_cursor: str | None


class PartIn(Schema):
    part: str = text(100)
    serial: str = optional_text(100)


class QcIn(Schema):
    check: QcCheck
    passed: StrictBool
    note: str = optional_text(500)


RepairAction = Action
PATCH_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"


class RepairActionIn(Schema):
    """One body for every action; each action reads its own fields (see the operation's description)."""

    note: str = optional_text(
        2000, description="remote_fix, await_parts, unrepairable, cancel (required there)"
    )
    diagnosis: str = optional_text(4000, description="diagnose (required)")
    where: Where | None = None
    provider: str = optional_text(200, description="quote (required), diagnose")
    under_warranty: StrictBool | None = Field(None, description="diagnose")
    amount_fen: StrictInt | None = Field(None, ge=0, le=MAX_FEN, description="quote (required)")
    days: StrictInt | None = Field(None, ge=0, le=365, description="quote (required)")
    warranty_months: StrictInt | None = Field(None, ge=0, le=120, description="quote (required), finish")
    quote_id: StrictInt | None = Field(None, ge=1, le=MAX_ID, description="accept_quote, decline_quote")
    done: str = optional_text(4000, description="step (required): what was done")
    parts: list[PartIn] = Field(default_factory=list, max_length=50, description="step")
    firmware_before: str = optional_text(40)
    firmware_after: str = optional_text(40)
    patch_before: str = Field("", pattern=PATCH_PATTERN, description="YYYY-MM-DD")
    patch_after: str = Field("", pattern=PATCH_PATTERN, description="YYYY-MM-DD")
    test_results: str = optional_text(4000)
    results: list[QcIn] = Field(
        default_factory=list, max_length=20, description="qc: every check of the model's list"
    )

    def to_data(self) -> dict[str, Any]:
        data = self.dict(exclude_none=True)
        data["results"] = [
            {"check": str(r["check"]), "passed": r["passed"], "note": r["note"]} for r in data["results"]
        ]
        if "where" in data:
            data["where"] = str(data["where"])
        return data


class LoanerIn(Schema):
    merchant_id: StrictInt = Field(ge=1, le=MAX_ID)
    repair_order_id: StrictInt = Field(ge=1, le=MAX_ID)
    due_on: IsoDate | None = Field(None, description="Default: in 14 days")
    tid: Tid | None = Field(None, description="A particular loaner; default the best in the pool")


class LoanerReturnIn(Schema):
    condition: Condition
    note: str = optional_text(2000)


class LoanerPage(Schema):
    items: list[LoanerOut]


class SwapIn(Schema):
    reason: Reason
    new_sn: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[^\x00\s]+$")
    kind: SwapKind | None = None
    repair_order_id: StrictInt | None = Field(None, ge=1, le=MAX_ID)


class SwapOut(Schema):
    tid: str
    old_sn: str
    new_sn: str
    security_patch_level: str
    old_device_tid: str = Field(description="The TID the old device now carries on its way back")
    kind: str
    repair_order_id: int | None
    at: datetime


class InspectionDue(Schema):  # needs `model` selected; `since` is annotated by the query
    tid: str
    sn: str
    model: str = Field(alias="model.name")
    merchant_id: int | None
    last_inspected_at: datetime | None
    since: datetime


class InspectionPage(Schema):
    items: list[InspectionDue]


class ModelMonthOut(Schema):
    model: str
    month: str
    faults: int


class MttrOut(Schema):
    model: str
    repairs: int
    mean_hours: float


class RepairStatsOut(Schema):
    faults_per_model_month: list[ModelMonthOut]
    mean_time_to_repair: list[MttrOut]


class TerminalRepairsOut(Schema):
    tid: str
    orders: list[RepairOrderSummary]
    swaps: list[SwapOut]
