"""Key endpoints: metadata only (never key material), and the dual-control destruction call.

`POST /terminals/{tid}/keys/destroy` is the same call for both custodians: with nothing pending it
records the first custodian's request (202), with a request pending it is the second custodian's
confirmation (200). Both need step-up (an elevated token, `X-OTP`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from posfleet.api.auth import actor_of
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import PathTid
from posfleet.keys import schemas as s
from posfleet.keys import services

router = Router(tags=["keys"])


@router.get("/terminals/{tid}/keys", response={200: s.KeyStatusOut, **ERRORS})
def get_keys(request: HttpRequest, tid: PathTid) -> dict[str, Any]:
    """Key metadata: state, KCV, dates, pending request and destruction records."""
    return services.view_keys(actor_of(request), tid)


@router.post(
    "/terminals/{tid}/keys/destroy",
    response={200: s.DestroyedOut, 202: s.DestructionRequestedOut, **BODY_ERRORS},
)
def destroy(request: HttpRequest, tid: PathTid, payload: s.KeyReasonIn) -> Any:
    """First custodian → 202 pending_second_custodian; a different second custodian → 200 destroyed."""
    with transaction.atomic():
        outcome = services.destroy(actor_of(request), tid, payload.reason)
    body: dict[str, Any] = {"tid": tid, "state": outcome.state, "kcv": outcome.kcv}
    if outcome.record is None:
        body["requested_by"] = outcome.request.requested_by.get_username()
        return Status(202, body)
    body["record"] = services.record_dict(outcome.record)
    return Status(200, body)


@router.post("/terminals/{tid}/keys/destroy/cancel", response={200: s.CancelOut, **BODY_ERRORS})
def cancel(request: HttpRequest, tid: PathTid, payload: s.KeyReasonIn) -> dict[str, Any]:
    with transaction.atomic():
        req = services.cancel_destruction(actor_of(request), tid, payload.reason)
    return {"tid": tid, "state": req.state}


@router.post("/terminals/{tid}/keys/rekey", response={201: s.RekeyOut, **BODY_ERRORS})
def rekey(request: HttpRequest, tid: PathTid, payload: s.KeyReasonIn) -> Any:
    """A custodian re-keys a refurbished terminal (in stock or allocated) after destruction."""
    with transaction.atomic():
        key = services.rekey(actor_of(request), tid, payload.reason)
    return Status(
        201, {"tid": tid, "state": key.state, "kcv": key.kcv, "created_at": key.created_at.isoformat()}
    )
