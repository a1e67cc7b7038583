"""Cases API: filing, materials, review, the checklist steps, an application's way to the merchant,
files and completion.

Handlers only translate HTTP to service calls: every write runs inside `transaction.atomic()` and
every rule lives in the services. Shapes other systems script against are kept exactly (see
`cases.schemas`); extra fields are added freely.
"""

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any, Concatenate

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, Cursor, Limit, file_response, if_match, keyset_page, set_etag
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import IdFilter, ObjectId, QueryBool
from posfleet.api.idempotency import idempotent
from posfleet.cases import schemas as s
from posfleet.cases import services
from posfleet.cases.choices import CaseKind, CaseState, MaterialType
from posfleet.core.actor import Actor
from posfleet.core.downloads import CSV, download
from posfleet.core.errors import NotFound, ValidationFailed

router = Router(tags=["cases"])
DETAIL = {200: s.CaseDetailOut, **ERRORS}
DETAIL_FROM_BODY = {200: s.CaseDetailOut, **BODY_ERRORS}


def _act(
    request: HttpRequest,
    case_id: int,
    service: Callable[Concatenate[Actor, int, ...], object],
    payload: Schema | None = None,
    /,
    **converted: Any,
) -> dict[str, Any]:
    """`service(actor, case_id, **fields)` as the request's actor in one transaction; answer with the case as
    it is now.

    The fields are the payload's, named as the service's parameters (no payload: the service's defaults),
    with `converted` in place of those the service takes in another type. A service that checks the
    case's version gets the one `If-Match` names.
    """
    fields = payload.model_dump(exclude=set(converted)) if payload is not None else {}
    fields |= converted
    if _checks_version(service):
        fields["expected_version"] = if_match(request)
    actor = actor_of(request)
    with transaction.atomic():
        service(actor, case_id, **fields)
    return s.case_detail(actor, services.get_case(actor, case_id))


@cache
def _checks_version(service: Callable[..., object]) -> bool:
    return "expected_version" in inspect.signature(service).parameters


@router.post("/cases", response={201: s.CaseFiledOut, **BODY_ERRORS})
@idempotent
def file_case(request: HttpRequest, payload: s.CaseIn) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        case = services.file_case(actor, payload.to_input())
    return Status(201, s.case_filed(case))


@router.get("/cases", response={200: s.CasePage, **ERRORS})
def list_cases(
    request: HttpRequest,
    kind: CaseKind | None = None,
    state: CaseState | None = None,
    merchant_id: IdFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    actor = actor_of(request)
    qs = services.cases_for(actor, kind=kind or None, state=state or None, merchant_id=merchant_id)
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    return {"items": [s.case_summary(c) for c in rows], "next_cursor": next_cursor}


@router.get("/cases/{case_id}", response=DETAIL)
def get_case(request: HttpRequest, response: HttpResponse, case_id: ObjectId) -> dict[str, Any]:
    actor = actor_of(request)
    case = services.get_case(actor, case_id)
    set_etag(response, case.version)
    return s.case_detail(actor, case)


@router.get("/cases/{case_id}/timeline", response={200: s.TimelineOut, **ERRORS})
def case_timeline(request: HttpRequest, case_id: ObjectId) -> dict[str, Any]:
    actor = actor_of(request)
    case = services.get_case(actor, case_id)
    entries = services.timeline(case, for_merchant=services.portal_merchant_id(actor) is not None)
    return {"items": [e | {"at": s.iso(e["at"])} for e in entries]}


@router.post("/cases/{case_id}/materials", response={201: s.MaterialAddedOut, **BODY_ERRORS})
@idempotent
def add_material(
    request: HttpRequest, case_id: ObjectId, type: Form[MaterialType], file: File[UploadedFile]
) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        material = services.add_material(actor, case_id, type, file)
    case = services.get_case(actor, case_id)
    added = s.MaterialAddedOut(
        **s.MaterialOut.from_orm(material).dict(),
        case_state=case.state,
        missing_materials=case.missing_materials(),
    )
    return Status(201, added)


@router.post("/cases/{case_id}/decision", response=DETAIL_FROM_BODY)
@idempotent
def decide(request: HttpRequest, case_id: ObjectId, payload: s.DecisionIn) -> Any:
    return _act(request, case_id, services.decide, payload)


@router.post("/cases/{case_id}/resubmit", response=DETAIL_FROM_BODY)
@idempotent
def resubmit(request: HttpRequest, case_id: ObjectId, payload: s.ResubmitIn) -> Any:
    """A rejected application, corrected, back to review."""
    return _act(
        request,
        case_id,
        services.resubmit,
        payload,
        applicant=payload.applicant.to_input() if payload.applicant is not None else None,
    )


@router.post("/cases/{case_id}/allocate", response=DETAIL_FROM_BODY)
@idempotent
def allocate(request: HttpRequest, case_id: ObjectId, payload: s.CaseAllocateIn | None = None) -> Any:
    """Warehouse: a terminal from stock for an approved application (409 `no_stock` when none)."""
    return _act(request, case_id, services.allocate, payload)


@router.post("/cases/{case_id}/ship", response=DETAIL_FROM_BODY)
@idempotent
def ship(request: HttpRequest, case_id: ObjectId, payload: s.ShipIn) -> Any:
    return _act(request, case_id, services.ship, payload)


@router.post("/cases/{case_id}/deliver", response=DETAIL_FROM_BODY)
@idempotent
def deliver(request: HttpRequest, case_id: ObjectId, payload: s.DeliverIn) -> Any:
    return _act(request, case_id, services.deliver, payload)


@router.post("/cases/{case_id}/activate", response=DETAIL)
@idempotent
def activate(request: HttpRequest, case_id: ObjectId) -> Any:
    """Technician: the delivered terminal installed and activated (409 `not_delivered` before)."""
    return _act(request, case_id, services.activate)


@router.post("/cases/{case_id}/cancel", response=DETAIL_FROM_BODY)
def cancel(request: HttpRequest, case_id: ObjectId, payload: s.CancelIn) -> Any:
    return _act(request, case_id, services.cancel, payload)


@router.post("/cases/{case_id}/assign", response=DETAIL_FROM_BODY)
def assign(request: HttpRequest, case_id: ObjectId, payload: s.AssignIn) -> Any:
    user = None
    if payload.username:
        user = get_user_model().objects.filter(username=payload.username, is_active=True).first()
        if user is None:
            raise ValidationFailed(details={"username": ["No such user."]})
    return _act(request, case_id, services.assign, user=user)


@router.post("/cases/{case_id}/stop", response=DETAIL_FROM_BODY)
def stop(request: HttpRequest, case_id: ObjectId, payload: s.StopIn | None = None) -> Any:
    return _act(request, case_id, services.stop_terminals, payload)


@router.post("/cases/{case_id}/statement", response=DETAIL)
def statement(request: HttpRequest, case_id: ObjectId) -> Any:
    return _act(request, case_id, services.issue_final_statement)


@router.post("/cases/{case_id}/export", response={202: s.ExportOut, **ERRORS})
def start_export(request: HttpRequest, case_id: ObjectId, rebuild: QueryBool = False) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        export = services.start_export(actor, case_id, rebuild=rebuild)
    export.refresh_from_db()
    return Status(202, export.as_dict())


@router.get(
    "/cases/{case_id}/export",
    response={200: None, **ERRORS},
    openapi_extra=file_response("text/csv", "The merchant's transaction history (CSV; X-Content-SHA256)"),
)
def get_export(request: HttpRequest, case_id: ObjectId) -> HttpResponse:
    export, data = services.export_file(actor_of(request), case_id)
    return download(data, CSV, export.filename, sha256=export.sha256)


@router.post("/cases/{case_id}/returns", response=DETAIL_FROM_BODY)
@idempotent
def returns(request: HttpRequest, case_id: ObjectId, payload: s.ReturnsIn) -> Any:
    return _act(
        request,
        case_id,
        services.record_returns,
        payload,
        items=[services.ReturnInput(i.item, i.condition) for i in payload.items],
    )


@router.post("/cases/{case_id}/refund", response=DETAIL_FROM_BODY)
@idempotent
def refund(request: HttpRequest, case_id: ObjectId, payload: s.RefundIn | None = None) -> Any:
    return _act(request, case_id, services.settle, payload)


@router.post("/cases/{case_id}/payments", response=DETAIL_FROM_BODY)
@idempotent
def payments(request: HttpRequest, case_id: ObjectId, payload: s.PaymentIn) -> Any:
    return _act(request, case_id, services.record_payment, payload)


@router.post("/cases/{case_id}/complete", response=DETAIL)
def complete(request: HttpRequest, case_id: ObjectId) -> Any:
    return _act(request, case_id, services.complete)


@router.post("/cases/{case_id}/comments", response={201: s.CommentAddedOut, **BODY_ERRORS})
@idempotent
def comment(request: HttpRequest, case_id: ObjectId, payload: s.CommentIn) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        c = services.add_comment(
            actor, case_id, payload.body, kind=payload.kind, visible_to_merchant=payload.visible_to_merchant
        )
    return Status(
        201, {"id": c.pk, "kind": c.kind, "body": c.body, "visible_to_merchant": c.visible_to_merchant}
    )


@router.get(
    "/cases/{case_id}/letter.pdf",
    response={200: None, **ERRORS},
    openapi_extra=file_response("application/pdf", "The confirmation letter (PDF)"),
)
def letter(request: HttpRequest, case_id: ObjectId) -> HttpResponse:
    notice, data = services.letter_pdf(actor_of(request), case_id)
    return download(data, "application/pdf", f"case-{case_id}-letter-{notice.pk}.pdf", inline=True)


@router.get(
    "/cases/{case_id}/archive.zip",
    response={200: None, **ERRORS},
    openapi_extra=file_response("application/zip", "The case's evidence archive (ZIP)"),
)
def archive(request: HttpRequest, case_id: ObjectId) -> HttpResponse:
    name, data = services.case_archive(actor_of(request), case_id)
    return download(data, "application/zip", name)


@router.get(
    "/cases/{case_id}/materials/{material_id}",
    response={200: None, **ERRORS},
    openapi_extra=file_response(
        ("application/pdf", "image/jpeg", "image/png"), "The material as uploaded (X-Content-SHA256)"
    ),
)
def material_file(request: HttpRequest, case_id: ObjectId, material_id: ObjectId) -> HttpResponse:
    material, data = services.read_material(actor_of(request), material_id)
    if material.case_id != case_id:
        raise NotFound()
    filename = f"material-{material.pk}{material.path.suffix}"
    response = download(data, material.content_type, filename, sha256=material.sha256)
    response["X-Content-Type-Options"] = "nosniff"
    return response
