"""Request and response shapes of the lifecycle API: actions, holds, a terminal's detail (with the
holds standing on it), the eligibility answer, refused attempts and device alerts.

Field names other systems script against are fixed; fields may be added, never renamed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import Field, StrictInt

from posfleet.api.fields import ANY_TEXT, MAX_ID, NONBLANK_TEXT, Flag, IsoDateTime, Reason, Tid
from posfleet.lifecycle.models import DeviceAlert, DeviceAlertReason, Hold, HoldKind
from posfleet.lifecycle.refusals import Refusals, refusals_since_stop
from posfleet.notices.choices import ReasonCategory
from posfleet.registry.models import Terminal
from posfleet.registry.schemas import AccessoryOut, TerminalOut

CATEGORY_DOC = (
    "Why, in the merchant's words (the notice names it); by default the one of the hold's kind "
    "(risk_freeze: account_anomaly, compliance: compliance, maintenance: maintenance, fault: "
    "hardware_fault, merchant_suspension: merchant_request)"
)
MerchantMessage = Annotated[
    str,
    Field(
        max_length=2000,
        pattern=ANY_TEXT,
        description="The text the merchant reads; the category's template if empty. The internal "
        "`reason` never reaches the merchant.",
    ),
]


# --- holds --------------------------------------------------------------------------------------------
class HoldOut(Schema):
    id: int
    kind: str
    reason: str
    on_merchant: bool
    bulk: bool = Field(description="Placed on many terminals at once (`tid` is then null)")
    tid: str | None
    merchant_id: int | None
    placed_by: str | None
    placed_at: datetime
    starts_at: datetime
    ends_at: datetime | None
    released_at: datetime | None
    release_reason: str
    in_force: bool
    version: int
    notice_id: int | None = Field(
        None,
        description="After placing or releasing: the notice that told the merchant (the first, for a "
        "bulk hold over several merchants; all of them in `notice_ids`)",
    )
    notice_ids: list[int] = Field(default_factory=list, description="Every notice this change issued")


class HoldPage(Schema):
    items: list[HoldOut]
    next_cursor: str | None


def hold_out(h: Hold, now: datetime | None = None) -> dict[str, Any]:
    """Needs `terminal` and `placed_by` selected (select_related) to stay one query per page."""
    return {
        "id": h.pk,
        "kind": h.kind,
        "reason": h.reason,
        "on_merchant": h.on_merchant,
        "bulk": h.bulk,
        "tid": h.terminal.tid if h.terminal_id is not None and h.terminal is not None else None,
        "merchant_id": h.merchant_id,
        "placed_by": h.placed_by.get_username() if h.placed_by_id is not None and h.placed_by else None,
        "placed_at": h.placed_at,
        "starts_at": h.starts_at,
        "ends_at": h.ends_at,
        "released_at": h.released_at,
        "release_reason": h.release_reason,
        "in_force": h.in_force(now or timezone.now()),
        "version": h.version,
    }


# --- terminals ----------------------------------------------------------------------------------------
class RefusalsOut(Schema):
    since: datetime = Field(description="When the terminal's current stop began")
    count: int = Field(description="Attempts refused since then")
    last_at: datetime | None


# A terminal with its merchant's name, its accessories and the holds in force or scheduled on it or its
# merchant. Needs `model` and `merchant` selected.
class TerminalDetailOut(TerminalOut):
    merchant_name: str | None
    accessories: list[AccessoryOut]
    holds: list[HoldOut] = Field(description="Holds in force or scheduled, on the terminal or its merchant")
    refused_since_stop: RefusalsOut | None = Field(
        None, description="A stopped terminal: attempts refused since the stop; null while it may transact"
    )

    @staticmethod
    def resolve_merchant_name(t: Terminal) -> str | None:
        return t.merchant.name if t.merchant is not None else None

    @staticmethod
    def resolve_holds(t: Terminal) -> list[dict[str, Any]]:
        now = timezone.now()
        holds = (
            Hold.objects.standing_on(t.pk, t.merchant_id)
            .not_ended(now)
            .select_related("terminal", "placed_by")
            .order_by("starts_at", "id")
        )
        return [hold_out(h, now) for h in holds]

    @staticmethod
    def resolve_refused_since_stop(t: Terminal) -> Refusals | None:
        return refusals_since_stop(t)


# --- requests -----------------------------------------------------------------------------------------
class ReasonIn(Schema):
    reason: Reason


class AllocateIn(Schema):
    merchant_id: StrictInt = Field(ge=1, le=MAX_ID, description="An existing merchant")
    reason: Reason


class BulkHoldIn(Schema):
    tids: list[Tid] = Field(
        min_length=1, max_length=100_000, description="1 to 100000 TIDs; more than one needs step-up"
    )
    kind: HoldKind
    reason: Reason
    starts_at: IsoDateTime | None = None
    ends_at: IsoDateTime | None = None
    reason_category: ReasonCategory | None = Field(None, description=CATEGORY_DOC)
    merchant_message: MerchantMessage = ""


class BulkHoldOut(Schema):
    placed: int = Field(description="Terminals under the hold")
    hold_id: int = Field(description="The hold: one for all of them (an ordinary terminal hold for one)")
    notice_ids: list[int] = Field(description="One notice per merchant concerned")


class ReleaseIn(Schema):
    reason: Reason
    tid: Tid | None = Field(None, description="Release a bulk hold for this terminal only")
    merchant_message: MerchantMessage = ""


class HoldIn(Schema):
    kind: HoldKind
    reason: Reason
    reason_category: ReasonCategory | None = Field(None, description=CATEGORY_DOC)
    merchant_message: MerchantMessage = ""
    starts_at: IsoDateTime | None = Field(None, description="ISO 8601 with offset; now if omitted")
    ends_at: IsoDateTime | None = Field(
        None, description="ISO 8601 with offset, after starts_at; open-ended if omitted"
    )
    hold_settlement: Flag = Field(
        False, description="A risk freeze only: also hold the merchant's settlement while it is in force"
    )


# --- the answer ---------------------------------------------------------------------------------------
class EligibilityReason(Schema):
    code: str
    iso_response_code: str
    kind: str | None = None
    hold_id: int | None = None


class EligibilityOut(Schema):
    tid: str
    allowed: bool
    reasons: list[EligibilityReason]
    iso_response_code: str


class RefusedAttemptOut(Schema):
    id: int
    tid: str
    at: datetime
    response_code: str
    reasons: list[dict[str, Any]]


class RefusedAttemptPage(Schema):
    items: list[RefusedAttemptOut]
    next_cursor: str | None


# --- device alerts -----------------------------------------------------------------------------------
class DeviceAlertOut(Schema):  # needs `terminal` and `acknowledged_by` selected
    id: int
    tid: str = Field(alias="terminal.tid")
    merchant_id: int | None = Field(alias="terminal.merchant_id")
    day: date
    reason: DeviceAlertReason
    reason_label: str
    attempts: int
    first_at: datetime
    last_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str

    @staticmethod
    def resolve_reason_label(a: DeviceAlert) -> str:
        return str(a.get_reason_display())

    @staticmethod
    def resolve_acknowledged_by(a: DeviceAlert) -> str | None:
        return a.acknowledged_by.get_username() if a.acknowledged_by is not None else None


class DeviceAlertPage(Schema):
    items: list[DeviceAlertOut]
    next_cursor: str | None


# --- retiring a model ---------------------------------------------------------------------------------
class RetirementMerchantOut(Schema):
    merchant_id: int
    name: str
    tids: list[str]


class RetirementPlanOut(Schema):
    model: str
    terminals: int
    merchants: list[RetirementMerchantOut]


class RetirementIn(Schema):
    stop_on: IsoDateTime = Field(description="When the terminals stop (ISO 8601 with offset, in the future)")
    offer: str = Field(
        min_length=1, max_length=1000, pattern=NONBLANK_TEXT, description="The replacement offered"
    )
    reason: Reason
