"""Registry endpoints: merchants, terminal models, terminals (CSV import, search).

Handlers only translate HTTP to service calls: permissions, validation and audit live in
`posfleet.registry.services` and `posfleet.registry.importer`. Lists use keyset pagination
(see posfleet.api.common) so they stay fast on a million terminals. A terminal's detail shows the holds
standing on it, lifecycle's rule: `lifecycle.api` adds `POST /terminals` and `GET /terminals/{tid}` to
this router (one path, one router), as lifecycle stands on the registry and not the reverse.
"""

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, Cursor, Limit, keyset_page, require_perm, set_etag
from posfleet.api.errors import BODY_ERRORS, ERRORS
from posfleet.api.fields import IdFilter, ObjectId, QueryBool, QueryFlag, Search
from posfleet.api.idempotency import idempotent
from posfleet.core.errors import NotFound, ValidationFailed
from posfleet.registry import filters, importer, services
from posfleet.registry import schemas as s
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Terminal, TerminalModel

router = Router(tags=["registry"])


# --- merchants ----------------------------------------------------------------------------------------
@router.post("/merchants", response={201: s.MerchantOut, **BODY_ERRORS})
@idempotent
def create_merchant(request: HttpRequest, payload: s.MerchantIn, response: HttpResponse) -> Any:
    """Create a merchant (state `applying`) with its contract from a template (the default if none)."""
    actor = actor_of(request)
    with transaction.atomic():
        merchant = services.create_merchant(actor, services.MerchantInput(**payload.dict()))
    merchant = s.merchant_queryset().get(pk=merchant.pk)
    set_etag(response, merchant.version)
    response["Location"] = f"{request.path.rstrip('/')}/{merchant.pk}"
    return Status(201, merchant)


@router.get("/merchants", response={200: s.MerchantPage, **ERRORS})
def list_merchants(
    request: HttpRequest,
    q: Search = None,
    state: MerchantState | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Merchants by id; `q` matches name (contains), phone or licence number (exact or prefix)."""
    require_perm(request, "view_fleet")
    qs = filters.filter_merchants(s.merchant_queryset(), state=state or "", lookup=q or "")
    rows, next_cursor = keyset_page(qs, cursor, limit)
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/merchants/{merchant_id}", response={200: s.MerchantOut, **ERRORS})
def get_merchant(request: HttpRequest, merchant_id: ObjectId, response: HttpResponse) -> Any:
    require_perm(request, "view_fleet")
    merchant = s.merchant_queryset().filter(pk=merchant_id).first()
    if merchant is None:
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
    set_etag(response, merchant.version)
    return merchant


# --- terminal models ----------------------------------------------------------------------------------
@router.get("/terminal-models", response={200: s.TerminalModelPage, **ERRORS})
def list_models(request: HttpRequest, permitted: QueryFlag = None) -> Any:
    """All terminal models (a short list, one page)."""
    require_perm(request, "view_fleet")
    qs = TerminalModel.objects.order_by("manufacturer", "name")
    if permitted is not None:
        qs = qs.filter(permitted=permitted)
    return {"items": list(qs), "next_cursor": None}


# --- terminals ----------------------------------------------------------------------------------------
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


def _csv_text(request: HttpRequest) -> str:
    content_type = (request.content_type or "").lower()
    if content_type.startswith("multipart/"):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed(
                _("Send the CSV as the part named file."), details={"file": [_("This field is required.")]}
            )
        raw = upload.read()
    else:
        raw = request.body
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("The CSV must be UTF-8 encoded."), details={"file": [_("Not UTF-8.")]}
        ) from None


@router.post("/terminals/import", response={201: s.ImportOut, **BODY_ERRORS}, openapi_extra=IMPORT_BODY)
@idempotent
def import_terminals(request: HttpRequest, good_only: QueryBool = False) -> Any:
    """Import a warehouse receipt (CSV: tid, sn, model, firmware_version, security_patch_level,
    install_address, accessories). Every bad row is reported by line; nothing is imported when any row
    is bad, unless `good_only=true` (then the good rows are, and the bad ones reported)."""
    actor = actor_of(request)
    text = _csv_text(request)
    with transaction.atomic():
        report = importer.import_terminals(actor, text, good_only=good_only)
    return Status(201, report.as_dict())


@router.get("/terminals", response={200: s.TerminalPage, **ERRORS})
def list_terminals(
    request: HttpRequest,
    state: TerminalState | None = None,
    merchant_id: IdFilter = None,
    model: Search = None,
    q: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Terminals by id. `q` is a TID prefix or an exact SN. No totals are counted (1M rows)."""
    require_perm(request, "view_fleet")
    wanted = filters.TerminalFilters(
        state=state or "", merchant_id=merchant_id, model=model or "", lookup=q or ""
    )
    qs = filters.filter_terminals(Terminal.objects.select_related("model"), wanted)
    rows, next_cursor = keyset_page(qs, cursor, limit)
    return {"items": rows, "next_cursor": next_cursor}
