"""Cases API (issue 4 §7): filing, materials, review, the checklist steps, files and completion.

Handlers only translate HTTP to service calls: every write runs inside `transaction.atomic()` and
every rule lives in the services. Shapes other systems script against are kept exactly; extra fields
are added freely.
"""

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, if_match, keyset_page, set_etag
from posfleet.api.idempotency import idempotent
from posfleet.cases import services
from posfleet.cases.models import Case, CaseExport, CaseSettlement, Material
from posfleet.core.actor import Actor

router = Router(tags=["cases"])


class CaseIn(Schema):
    kind: str
    merchant_id: int
    terminals: list[str] = []
    reason: str = ""
    note: str = ""
    channel: str = "console"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    planned_date: date | None = None
    follow_up_note: str = ""


class DecisionIn(Schema):
    decision: str
    reason: str = ""


class StopIn(Schema):
    at: datetime | None = None


class ReturnIn(Schema):
    item: str
    condition: str


class ReturnsIn(Schema):
    items: list[ReturnIn]


class RefundIn(Schema):
    proof: str = ""


class PaymentIn(Schema):
    amount_fen: int
    ref: str = ""


class CommentIn(Schema):
    body: str
    kind: str = "comment"
    visible_to_merchant: bool = True


class CancelIn(Schema):
    reason: str = ""


class AssignIn(Schema):
    username: str | None = None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    return str(value.isoformat())


def summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "kind": case.kind,
        "state": case.state,
        "merchant_id": case.merchant_id,
        "merchant_name": case.merchant.name,
        "reason": case.reason,
        "channel": case.channel,
        "created_at": _iso(case.created_at),
        "age_seconds": int(case.age.total_seconds()),
        "sla_hours": case.sla_hours,
        "overdue": case.overdue,
        "assignee": case.assignee.get_username() if case.assignee_id and case.assignee else None,
        "version": case.version,
    }


def _material(m: Material) -> dict[str, Any]:
    return {
        "id": m.pk,
        "type": m.type,
        "original_name": m.original_name,
        "content_type": m.content_type,
        "size": m.size,
        "sha256": m.sha256,
        "uploaded_at": _iso(m.uploaded_at),
    }


def detail(actor: Actor, case: Case) -> dict[str, Any]:
    for_merchant = services.portal_merchant_id(actor) is not None
    export = CaseExport.objects.filter(case=case).first()
    settlement = CaseSettlement.objects.filter(case=case).first()
    comments = case.comments.order_by("id")
    if for_merchant:
        comments = comments.filter(visible_to_merchant=True)
    return summary(case) | {
        "terminals": list(case.scope.order_by("terminal_id").values_list("terminal__tid", flat=True)),
        "note": case.note,
        "follow_up_note": case.follow_up_note,
        "starts_at": _iso(case.starts_at),
        "ends_at": _iso(case.ends_at),
        "planned_date": _iso(case.planned_date),
        "effective_at": _iso(case.effective_at),
        "stopped_at": _iso(case.stopped_at),
        "decision_reason": case.decision_reason,
        "decided_at": _iso(case.decided_at),
        "completed_at": _iso(case.completed_at),
        "missing_materials": case.missing_materials(),
        "required_materials": list(case.required_materials),
        "materials": [_material(m) for m in case.materials.order_by("id")],
        "checklist": [i.as_dict() for i in services.checklist(case)],
        "returns": [
            {"item": r.item, "condition": r.condition, "charge_fen": r.charge_fen, "at": _iso(r.at)}
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
                "at": _iso(c.created_at),
            }
            for c in comments
        ],
        "letter_notice_id": case.letter_notice_id,
        "statement_notice_id": case.statement_notice_id,
    }


def _reply(actor: Actor, case_id: int) -> HttpResponse | dict[str, Any]:
    case = services.get_case(actor, case_id)
    return detail(actor, case)


@router.post("/cases", response={201: dict})
@idempotent
def file_case(request: HttpRequest, payload: CaseIn) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        case = services.file_case(actor, services.CaseInput(**payload.dict()))
    return Status(
        201,
        {
            "id": case.pk,
            "state": case.state,
            "missing_materials": case.missing_materials(),
            "kind": case.kind,
            "version": case.version,
        },
    )


@router.get("/cases")
def list_cases(
    request: HttpRequest,
    kind: str | None = None,
    state: str | None = None,
    merchant_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    actor = actor_of(request)
    qs = services.cases_for(actor, kind=kind or None, state=state or None, merchant_id=merchant_id)
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    return {"items": [summary(c) for c in rows], "next_cursor": next_cursor}


@router.get("/cases/{case_id}")
def get_case(request: HttpRequest, response: HttpResponse, case_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    case = services.get_case(actor, case_id)
    set_etag(response, case.version)
    return detail(actor, case)


@router.get("/cases/{case_id}/timeline")
def case_timeline(request: HttpRequest, case_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    case = services.get_case(actor, case_id)
    entries = services.timeline(case, for_merchant=services.portal_merchant_id(actor) is not None)
    return {"items": [e | {"at": _iso(e["at"])} for e in entries]}


@router.post("/cases/{case_id}/materials", response={201: dict})
@idempotent
def add_material(request: HttpRequest, case_id: int, type: Form[str], file: File[UploadedFile]) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        material = services.add_material(actor, case_id, type, file)
    case = services.get_case(actor, case_id)
    return Status(
        201,
        _material(material)
        | {
            "case_state": case.state,
            "missing_materials": case.missing_materials(),
        },
    )


@router.post("/cases/{case_id}/decision")
@idempotent
def decide(request: HttpRequest, case_id: int, payload: DecisionIn) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.decide(actor, case_id, payload.decision, payload.reason, expected_version=if_match(request))
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/cancel")
def cancel(request: HttpRequest, case_id: int, payload: CancelIn) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.cancel(actor, case_id, payload.reason, expected_version=if_match(request))
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/assign")
def assign(request: HttpRequest, case_id: int, payload: AssignIn) -> Any:
    from django.contrib.auth import get_user_model

    from posfleet.core.errors import ValidationFailed

    actor = actor_of(request)
    user = None
    if payload.username:
        user = get_user_model().objects.filter(username=payload.username, is_active=True).first()
        if user is None:
            raise ValidationFailed(details={"username": ["No such user."]})
    with transaction.atomic():
        services.assign(actor, case_id, user)
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/stop")
def stop(request: HttpRequest, case_id: int, payload: StopIn | None = None) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.stop_terminals(
            actor, case_id, at=payload.at if payload else None, expected_version=if_match(request)
        )
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/statement")
def statement(request: HttpRequest, case_id: int) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.issue_final_statement(actor, case_id)
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/export", response={202: dict})
def start_export(request: HttpRequest, case_id: int, rebuild: bool = False) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        export = services.start_export(actor, case_id, rebuild=rebuild)
    export.refresh_from_db()
    return Status(202, export.as_dict())


@router.get("/cases/{case_id}/export")
def get_export(request: HttpRequest, case_id: int) -> HttpResponse:
    export, data = services.export_file(actor_of(request), case_id)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="case-{case_id}-transactions.csv"'
    response["X-Content-SHA256"] = export.sha256
    return response


@router.post("/cases/{case_id}/returns")
@idempotent
def returns(request: HttpRequest, case_id: int, payload: ReturnsIn) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.record_returns(
            actor, case_id, [services.ReturnInput(i.item, i.condition) for i in payload.items]
        )
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/refund")
@idempotent
def refund(request: HttpRequest, case_id: int, payload: RefundIn | None = None) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.settle(
            actor, case_id, proof=payload.proof if payload else "", expected_version=if_match(request)
        )
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/payments")
@idempotent
def payments(request: HttpRequest, case_id: int, payload: PaymentIn) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.record_payment(actor, case_id, payload.amount_fen, ref=payload.ref)
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/complete")
def complete(request: HttpRequest, case_id: int) -> Any:
    actor = actor_of(request)
    with transaction.atomic():
        services.complete(actor, case_id, expected_version=if_match(request))
    return _reply(actor, case_id)


@router.post("/cases/{case_id}/comments", response={201: dict})
@idempotent
def comment(request: HttpRequest, case_id: int, payload: CommentIn) -> Status:
    actor = actor_of(request)
    with transaction.atomic():
        c = services.add_comment(
            actor, case_id, payload.body, kind=payload.kind, visible_to_merchant=payload.visible_to_merchant
        )
    return Status(
        201, {"id": c.pk, "kind": c.kind, "body": c.body, "visible_to_merchant": c.visible_to_merchant}
    )


@router.get("/cases/{case_id}/letter.pdf")
def letter(request: HttpRequest, case_id: int) -> HttpResponse:
    notice, data = services.letter_pdf(actor_of(request), case_id)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="case-{case_id}-letter-{notice.pk}.pdf"'
    return response


@router.get("/cases/{case_id}/archive.zip")
def archive(request: HttpRequest, case_id: int) -> HttpResponse:
    name, data = services.case_archive(actor_of(request), case_id)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/cases/{case_id}/materials/{material_id}")
def material_file(request: HttpRequest, case_id: int, material_id: int) -> HttpResponse:
    material, data = services.read_material(actor_of(request), material_id)
    if material.case_id != case_id:
        from posfleet.core.errors import NotFound

        raise NotFound()
    response = HttpResponse(data, content_type=material.content_type)
    response["Content-Disposition"] = f'attachment; filename="material-{material.pk}{material.path.suffix}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Content-SHA256"] = material.sha256
    return response
