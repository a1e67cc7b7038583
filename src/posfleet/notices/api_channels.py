"""Endpoints of the notice channels people work: fraud reports, phone-call tasks, webhook endpoints."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StrictInt

from posfleet.api.auth import actor_of
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import MAX_ID, IsoDateTime, IsoText, ObjectId, optional_text, text
from posfleet.notices import calls, fraud, webhooks
from posfleet.notices.choices import CallOutcome, CallState, FraudChannel
from posfleet.notices.models import CallTask

router = Router(tags=["notices"])


# --- fraud reports ----------------------------------------------------------------------------------
class FraudReportIn(Schema):
    merchant_id: StrictInt | None = Field(
        None, ge=1, le=MAX_ID, description="Omitted: the caller's own merchant"
    )
    caller_number: str = text(30, "The number that called or texted")
    channel: FraudChannel
    claimed: str = text(4000, "What the caller claimed")
    asked_for: str = optional_text(4000, description="What they asked for (card number, a code, a payment…)")
    occurred_at: IsoDateTime | None = None


class FraudReportOut(Schema):
    id: int
    merchant_id: int | None
    caller_number: str
    channel: str
    claimed: str
    asked_for: str
    occurred_at: IsoText
    state: str
    source: str
    created_at: IsoText


class FraudReportList(Schema):
    items: list[FraudReportOut]


@router.post("/fraud-reports", response={201: FraudReportOut, **BODY_ERRORS})
def file_fraud_report(request: HttpRequest, payload: FraudReportIn) -> Any:
    """Report a suspicious call or SMS that claimed to come from us; a merchant's own token files for itself."""
    with transaction.atomic():
        report = fraud.file_report(actor_of(request), **payload.dict())
    return Status(201, report)


@router.get("/fraud-reports", response={200: FraudReportList, **ERRORS})
def list_fraud_reports(request: HttpRequest, state: str | None = "open") -> Any:
    """The risk officers' queue (open by default; `state=` empty for all)."""
    qs = fraud.queue(actor_of(request), state if state in ("open", "reviewed") else None)
    return {"items": qs[:200]}


# --- call tasks -------------------------------------------------------------------------------------
class CallTaskOut(Schema):
    id: int
    notice_id: int
    merchant_id: int
    merchant_name: str = Field(alias="merchant.name")
    phone: str
    script: str
    state: str
    outcome: str
    note: str
    callback_at: IsoText | None
    attempts: int
    version: int


class CallTaskList(Schema):
    items: list[CallTaskOut]


class OutcomeIn(Schema):
    outcome: CallOutcome
    note: str = optional_text(2000)
    callback_at: IsoDateTime | None = Field(None, description="When to call back (no answer)")


@router.get("/call-tasks", response={200: CallTaskList, **ERRORS})
def list_call_tasks(request: HttpRequest, state: CallState | None = None) -> Any:
    """Calls agents make about notices, oldest first."""
    return {"items": calls.open_tasks(actor_of(request), state)}


@router.post("/call-tasks/{task_id}/outcome", response={200: CallTaskOut, **BODY_ERRORS})
def call_outcome(request: HttpRequest, task_id: ObjectId, payload: OutcomeIn) -> Any:
    """Record a call: reached, no_answer (with a callback time), wrong_number or refused."""
    with transaction.atomic():
        task = calls.record_outcome(
            actor_of(request),
            task_id,
            outcome=payload.outcome,
            note=payload.note,
            callback_at=payload.callback_at,
        )
    return CallTask.objects.select_related("merchant").get(pk=task.pk)


# --- webhook endpoints ------------------------------------------------------------------------------
class EndpointIn(Schema):
    merchant_id: StrictInt | None = Field(None, ge=1, le=MAX_ID, description="Omitted: a service provider's")
    url: str = text(500, "Where to POST (http or https)")
    events: list[str] = Field(
        min_length=1, max_length=10, description="notice.stop, notice.lift, notice.deactivation or *"
    )


class EndpointOut(Schema):
    id: int
    merchant_id: int | None
    url: str
    events: list[str]
    active: bool
    consecutive_failures: int
    disabled_reason: str


class EndpointCreated(EndpointOut):
    secret: str = Field(description="whsec_…: shown this once; verify signatures with it")


class EndpointList(Schema):
    items: list[EndpointOut]


@router.post("/webhook-endpoints", response={201: EndpointCreated, **BODY_ERRORS})
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Any:
    """Register a webhook; the answer carries its signing secret, never shown again."""
    with transaction.atomic():
        endpoint, secret = webhooks.create_endpoint(
            actor_of(request), url=payload.url, events=payload.events, merchant_id=payload.merchant_id
        )
    return Status(201, EndpointCreated(**EndpointOut.from_orm(endpoint).dict(), secret=secret))


@router.get("/webhook-endpoints", response={200: EndpointList, **ERRORS})
def list_endpoints(request: HttpRequest) -> Any:
    return {"items": webhooks.endpoints(actor_of(request))}
