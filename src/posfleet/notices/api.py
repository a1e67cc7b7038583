"""Notice endpoints: the public verification check (rate-limited, no auth) and staff reads."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from posfleet.api.auth import actor_of
from posfleet.api.common import file_response
from posfleet.api.errors import ERRORS, ErrorOut
from posfleet.api.fields import ANY_TEXT, IdFilter, ObjectId
from posfleet.core.downloads import download
from posfleet.notices import ratelimit, services
from posfleet.notices import schemas as s
from posfleet.notices.models import Notice

router = Router(tags=["notices"])


@router.get(
    "/notices/verify", auth=None, response={200: s.VerifyOut, 429: ErrorOut, **ERRORS}, exclude_unset=True
)
def verify(
    request: HttpRequest,
    code: Annotated[str, Query(max_length=64, pattern=ANY_TEXT)] = "",
    phone_last4: Annotated[str, Query(max_length=16, pattern=ANY_TEXT)] = "",
) -> dict[str, Any]:
    """Did the institution issue a notice with this code to the merchant whose phone ends so? (no login)"""
    ratelimit.hit("verify", ratelimit.client_ip(request))
    return services.verify(code[:64], phone_last4[:16])


@router.get("/notices", response={200: s.NoticeList, **ERRORS})
def list_notices(request: HttpRequest, merchant_id: IdFilter = None) -> dict[str, Any]:
    items = services.list_notices(actor_of(request), merchant_id)
    return {"items": items}


@router.get("/notices/{notice_id}", response={200: s.NoticeOut, **ERRORS})
def get_notice(request: HttpRequest, notice_id: ObjectId) -> Notice:
    return services.get_notice(actor_of(request), notice_id)


@router.get(
    "/notices/{notice_id}/pdf",
    response={200: None, **ERRORS},
    openapi_extra=file_response("application/pdf", "The notice or letter as issued (PDF)"),
)
def notice_pdf(request: HttpRequest, notice_id: ObjectId) -> HttpResponse:
    notice, data = services.notice_pdf(actor_of(request), notice_id)
    return download(data, "application/pdf", f"notice-{notice.pk}.pdf", sha256=notice.pdf_sha256)
