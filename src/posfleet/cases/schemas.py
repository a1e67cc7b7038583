"""Request and response shapes of the cases API, and the builders that render a case.

Shapes other systems script against are kept exactly; fields may be added, never renamed. Times are
rendered as ISO text in Asia/Shanghai by `iso()`, so they stay text here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import BeforeValidator, Field, StrictInt

from posfleet.api.fields import (
    ANY_TEXT,
    MAX_FEN,
    MAX_ID,
    NOTE_MAX,
    Flag,
    IsoDate,
    IsoDateTime,
    Reason,
    Tid,
    optional_text,
    text,
)
from posfleet.cases import services
from posfleet.cases.choices import Carrier, CaseChannel, CaseKind, CommentKind, Decision
from posfleet.cases.choices import Reason as ReasonChoice
from posfleet.cases.models import Application, Case, CaseExport, CaseSettlement
from posfleet.core.actor import Actor
from posfleet.jobs.schemas import JobOut
from posfleet.registry.choices import Condition, MerchantKind
from posfleet.registry.schemas import MerchantFields
from posfleet.registry.services import MerchantInput


def iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    return str(value.isoformat())


def _local_iso(value: Any) -> Any:
    return iso(value) if isinstance(value, date) else value


# A date or time as the case API has always given it: `iso()` (local time, Python's isoformat).
LocalIsoText = Annotated[str, BeforeValidator(_local_iso)]


# --- requests -----------------------------------------------------------------------------------------
class ApplicantIn(MerchantFields):
    """A new merchant applying for its first terminal; its kind decides the materials asked for."""

    def to_input(self) -> MerchantInput:
        return MerchantInput(**self.dict())


class CaseIn(Schema):
    kind: CaseKind
    merchant_id: StrictInt | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="The merchant; an application for a new merchant gives `applicant` instead",
    )
    terminals: list[Tid] = Field(
        default_factory=list, max_length=10_000, description="TIDs of the merchant; a closure takes them all"
    )
    reason: Literal[""] | ReasonChoice = Field(
        "", description="One of the kind's reasons; an application defaults to its own"
    )
    note: str = optional_text(NOTE_MAX)
    channel: CaseChannel = CaseChannel.CONSOLE
    starts_at: IsoDateTime | None = None
    ends_at: IsoDateTime | None = None
    planned_date: IsoDate | None = None
    follow_up_note: str = optional_text(NOTE_MAX)
    hold_id: StrictInt | None = Field(
        None, ge=1, le=MAX_ID, description="Appeal only: the stop (hold) appealed against"
    )
    applicant: ApplicantIn | None = Field(None, description="Application only: the new merchant's data")
    install_address: str = optional_text(300, description="Application only: where to install")
    terminal_model: str = optional_text(
        100, description="Application only: the model asked for (empty: any in stock)"
    )

    def to_input(self) -> services.CaseInput:
        data = self.dict(exclude={"applicant"})
        applicant = self.applicant.to_input() if self.applicant is not None else None
        return services.CaseInput(**data, applicant=applicant)


class ResubmitIn(Schema):
    note: str = optional_text(2000, description="What was corrected (the reviewer reads it)")
    install_address: str | None = optional_text(300, default=None)
    terminal_model: str | None = optional_text(100, default=None)
    applicant: ApplicantIn | None = Field(None, description="Corrected data of a merchant still applying")


class CaseAllocateIn(Schema):
    tid: Tid | None = Field(
        None, description="A terminal in stock; empty: the newest patch level of the model"
    )


class ShipIn(Schema):
    carrier: Carrier
    tracking_no: str = optional_text(40, description="Required unless handed over in person")
    shipped_on: IsoDate


class DeliverIn(Schema):
    delivered_on: IsoDate


class DecisionIn(Schema):
    decision: Decision
    reason: Reason


class StopIn(Schema):
    at: IsoDateTime | None = Field(None, description="ISO 8601 with offset; now if omitted")


class ReturnIn(Schema):
    item: str = Field(
        min_length=1, max_length=40, pattern=ANY_TEXT, description="An item of expected_returns"
    )
    condition: Condition


class ReturnsIn(Schema):
    items: list[ReturnIn] = Field(min_length=1, max_length=1000)


class RefundIn(Schema):
    proof: str = optional_text(NOTE_MAX, description="Receipt or contract reference of the refund")


class PaymentIn(Schema):
    amount_fen: StrictInt = Field(ge=1, le=MAX_FEN, description="At most the amount due")
    ref: str = optional_text(120)


class CommentIn(Schema):
    body: str = text(NOTE_MAX)
    kind: CommentKind = CommentKind.COMMENT
    visible_to_merchant: Flag = True


class CancelIn(Schema):
    reason: Reason


class AssignIn(Schema):
    username: str | None = Field(
        min_length=1, max_length=150, pattern=ANY_TEXT, description="An active user; null unassigns"
    )


# --- responses ----------------------------------------------------------------------------------------
class CaseFiledOut(Schema):
    id: int
    state: str
    missing_materials: list[str]
    kind: str
    version: int
    merchant_id: int = Field(description="For a new applicant: the merchant created in state `applying`")
    required_materials: list[str] = Field(description="By the case's kind and the merchant's kind")


class CaseSummaryOut(Schema):
    id: int
    kind: str
    state: str
    merchant_id: int
    merchant_name: str
    reason: str
    channel: str
    created_at: str | None
    age_seconds: int
    sla_hours: int
    overdue: bool
    assignee: str | None = Field(description="Username of the person working on it")
    version: int
    hold_id: int | None = Field(None, description="Appeals: the stop appealed against")


class CasePage(Schema):
    items: list[CaseSummaryOut]
    next_cursor: str | None


class MaterialOut(Schema):
    id: int
    type: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: LocalIsoText | None


class MaterialAddedOut(MaterialOut):
    case_state: str
    missing_materials: list[str]


class ChecklistItemOut(Schema):
    item: str
    ok: bool
    why: str = Field(description="Why the item does not hold yet, in words people can act on")


class ReturnOut(Schema):
    item: str
    condition: str
    charge_fen: int
    at: str | None


class CaseSettlementOut(Schema):
    penalty_fen: int
    damage_fen: int
    unpaid_fen: int
    deposit_fen: int
    applied_fen: int
    refund_fen: int
    shortfall_fen: int
    paid_fen: int
    proof: str
    state: str


class ExportOut(Schema):
    state: str
    progress: int = Field(description="Percent")
    sha256: str
    rows: int
    error: str
    finished_at: str | None
    job: JobOut | None = Field(None, description="The job building it: attempts, heartbeat, error")


class CommentOut(Schema):
    id: int
    kind: str
    author: str
    body: str
    visible_to_merchant: bool
    at: str | None


class CommentAddedOut(Schema):
    id: int
    kind: str
    body: str
    visible_to_merchant: bool


class ApplicationOut(Schema):
    new_merchant: bool = Field(
        description="The application created its merchant (state `applying` until approval)"
    )
    applicant_kind: MerchantKind
    install_address: str
    terminal_model: str | None = Field(description="The model asked for; null: any permitted model in stock")
    tid: str | None = Field(description="The terminal allocated from stock")
    allocated_at: str | None
    carrier: Carrier | None
    tracking_no: str
    shipped_on: str | None
    delivered_on: str | None
    activated_at: str | None


class AppealedHoldOut(Schema):
    id: int
    kind: str
    on: str = Field(description="terminal, merchant or terminals (a bulk hold)")
    starts_at: str | None
    ends_at: str | None
    in_force: bool
    released_at: str | None


class StillStoppedOut(Schema):
    tid: str
    kind: str = Field(description="A hold kind, or terminal_state / merchant_state")
    hold_id: int | None
    merchant_can_lift: bool = Field(description="True when the merchant can appeal against it")
    how: str = Field(description="What lifts it, in the reader's language")
    until: str | None


class CaseDetailOut(CaseSummaryOut):
    terminals: list[str] = Field(description="TIDs of the case's scope")
    note: str
    follow_up_note: str
    starts_at: str | None
    ends_at: str | None
    planned_date: str | None
    effective_at: str | None
    stopped_at: str | None
    decision_reason: str
    decided_at: str | None
    completed_at: str | None
    missing_materials: list[str]
    required_materials: list[str]
    materials: list[MaterialOut]
    checklist: list[ChecklistItemOut]
    returns: list[ReturnOut]
    expected_returns: list[str]
    settlement: CaseSettlementOut | None
    export: ExportOut | None
    comments: list[CommentOut]
    letter_notice_id: int | None
    statement_notice_id: int | None
    application: ApplicationOut | None = Field(None, description="Applications only")
    hold: AppealedHoldOut | None = Field(None, description="Appeals only: the stop appealed against")
    next_steps: str = Field("", description="A rejected appeal: what the merchant can do next")
    still_stopped: list[StillStoppedOut] = Field(
        default_factory=list,
        description="A reactivation under review: what would still stop each terminal once approved",
    )


class TimelineEntryOut(Schema):
    at: str | None
    source: str = Field(description="audit, comment or notice")
    action: str
    actor: str
    channel: str
    text: str
    after: Any = None


class TimelineOut(Schema):
    items: list[TimelineEntryOut]


# --- builders -----------------------------------------------------------------------------------------
def case_summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "kind": case.kind,
        "state": case.state,
        "merchant_id": case.merchant_id,
        "merchant_name": case.merchant.name,
        "reason": case.reason,
        "channel": case.channel,
        "created_at": iso(case.created_at),
        "age_seconds": int(case.age.total_seconds()),
        "sla_hours": case.sla_hours,
        "overdue": case.overdue,
        "assignee": case.assignee.get_username() if case.assignee_id and case.assignee else None,
        "version": case.version,
        "hold_id": case.hold_id,
    }


def hold_out(case: Case) -> dict[str, Any] | None:
    hold = case.hold
    if hold is None:
        return None
    return {
        "id": hold.pk,
        "kind": hold.kind,
        "on": "terminals" if hold.bulk else "merchant" if hold.on_merchant else "terminal",
        "starts_at": iso(hold.starts_at),
        "ends_at": iso(hold.ends_at),
        "in_force": hold.in_force(),
        "released_at": iso(hold.released_at),
    }


def application_out(case: Case) -> dict[str, Any] | None:
    app = Application.objects.select_related("terminal_model", "terminal").filter(case=case).first()
    if app is None:
        return None
    return {
        "new_merchant": app.new_merchant,
        "applicant_kind": case.merchant.kind,
        "install_address": app.install_address,
        "terminal_model": app.terminal_model.name if app.terminal_model else None,
        "tid": app.terminal.tid if app.terminal else None,
        "allocated_at": iso(app.allocated_at),
        "carrier": app.carrier or None,
        "tracking_no": app.tracking_no,
        "shipped_on": iso(app.shipped_on),
        "delivered_on": iso(app.delivered_on),
        "activated_at": iso(app.activated_at),
    }


def case_filed(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "state": case.state,
        "missing_materials": case.missing_materials(),
        "kind": case.kind,
        "version": case.version,
        "merchant_id": case.merchant_id,
        "required_materials": list(case.required_materials),
    }


def case_detail(actor: Actor, case: Case) -> dict[str, Any]:
    """The case as `actor` may see it: a merchant's portal login reads only comments meant for it."""
    for_merchant = services.portal_merchant_id(actor) is not None
    export = CaseExport.objects.select_related("job").filter(case=case).first()
    settlement = CaseSettlement.objects.filter(case=case).first()
    comments = case.comments.order_by("id")
    if for_merchant:
        comments = comments.filter(visible_to_merchant=True)
    return case_summary(case) | {
        "terminals": list(case.scope.order_by("terminal_id").values_list("terminal__tid", flat=True)),
        "note": case.note,
        "follow_up_note": case.follow_up_note,
        "starts_at": iso(case.starts_at),
        "ends_at": iso(case.ends_at),
        "planned_date": iso(case.planned_date),
        "effective_at": iso(case.effective_at),
        "stopped_at": iso(case.stopped_at),
        "decision_reason": case.decision_reason,
        "decided_at": iso(case.decided_at),
        "completed_at": iso(case.completed_at),
        "missing_materials": case.missing_materials(),
        "required_materials": list(case.required_materials),
        "materials": list(case.materials.order_by("id")),
        "checklist": [i.as_dict() for i in services.checklist(case)],
        "returns": [
            {"item": r.item, "condition": r.condition, "charge_fen": r.charge_fen, "at": iso(r.at)}
            for r in case.returns.order_by("id")
        ],
        "expected_returns": services.expected_returns(case) if case.is_stop else [],
        "settlement": settlement.as_dict() if settlement is not None else None,
        "export": export.as_dict() if export is not None else None,
        "comments": [
            {
                "id": c.pk,
                "kind": c.kind,
                "author": c.author_name,
                "body": c.body,
                "visible_to_merchant": c.visible_to_merchant,
                "at": iso(c.created_at),
            }
            for c in comments
        ],
        "letter_notice_id": case.letter_notice_id,
        "statement_notice_id": case.statement_notice_id,
        "application": application_out(case),
        "hold": hold_out(case),
        "next_steps": services.appeal_next_steps(case),
        "still_stopped": [s.as_dict() for s in services.still_stopped(case)],
    }
