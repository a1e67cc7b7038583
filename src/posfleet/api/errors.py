"""The API's one error shape: {"error": {"code", "message", "details"}}, its schema and handlers.

Every exception an operation lets out ends here, whatever DEBUG says: a request Django cannot parse
(multipart without a boundary, too many fields) is a 400, and anything unexpected a 500 in the same
shape, naming the request id; the traceback goes to the log, never to the client. Errors Django
answers before an operation runs (an unknown path, a method the path does not take) are rewritten
into this shape by `api.middleware.JsonErrorsMiddleware`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from posfleet.core import context
from posfleet.core.errors import DomainError, NotFound

logger = logging.getLogger(__name__)


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail


# Every error status an operation may answer, so the OpenAPI document lists them: 400 malformed JSON
# or multipart, 401 no valid token, 403 permission or step-up, 404, 409 state or version, 422
# validation; an operation that reads a body also 413, a body over the size limit.
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
BODY_ERRORS: dict[int, Any] = {**ERRORS, 413: ErrorOut}


def error_body(code: str, message: Any, details: Any = None) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": str(message), "details": details if details is not None else {}}
    }


# Exceptions answered with a fixed status, code and message.
_UNREADABLE = (400, "malformed_request", _("The request body cannot be read."))
_FIXED: dict[type[Exception], tuple[int, str, Any]] = {
    AuthenticationError: (401, "unauthenticated", "A valid bearer token is required."),
    # The database refused a value the schema let through (a NUL byte in text on PostgreSQL, an
    # integer beyond 64 bits): bad input, never a 500. The transaction around the write rolled back.
    DataError: (422, "invalid_value", _("A value in the request cannot be stored or searched.")),
    OverflowError: (422, "invalid_value", _("A number in the request is too large.")),
    RequestDataTooBig: (
        413,
        "request_too_large",
        _("The request body is too large; send large CSV files as multipart/form-data (part file)."),
    ),
    MultiPartParserError: (
        400,
        "malformed_request",
        _("The multipart/form-data body cannot be read (is its boundary missing?)."),
    ),
    # Too many fields or files, a body cut short: Django refused to read the request.
    SuspiciousOperation: _UNREADABLE,
    BadRequest: _UNREADABLE,
    UnreadablePostError: _UNREADABLE,
    Http404: (404, "not_found", _("No such object.")),
    DjangoPermissionDenied: (403, "permission_denied", _("You do not have permission to do this.")),
}


def _fixed_answer(api: NinjaAPI, status: int, code: str, message: Any) -> Callable[..., HttpResponse]:
    def answer(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, error_body(code, message), status=status)

    return answer


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(request, error_body(exc.code, exc.message, exc.details), status=exc.status)

    @api.exception_handler(NinjaValidationError)
    def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        if any(e.get("loc", [None])[0] == "path" for e in exc.errors):
            # `/merchants/None/close` names no merchant: there is no such resource, as for an unknown id
            return _domain(request, NotFound())
        return api.create_response(
            request,
            error_body("validation_error", _("Some fields are not valid."), field_errors(exc.errors)),
            status=422,
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}.get(exc.status_code, "error")
        return api.create_response(request, error_body(code, exc.message), status=exc.status_code)

    for exc_type, (status, code, message) in _FIXED.items():
        api.exception_handler(exc_type)(_fixed_answer(api, status, code, message))

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("api.unexpected_error", extra={"path": request.path})
        return api.create_response(request, server_error_body(), status=500)


# Where a parameter comes from and the name ninja gives a body: not part of the field's name.
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie", "payload"}


def field_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Schema validation errors as the services report theirs: `{field: [message, ...]}`, the field
    dotted (`rates.credit.rate_bp`, `tids.3`), each message in the caller's language."""
    details: dict[str, list[str]] = {}
    for e in errors:
        loc = [str(part) for part in e.get("loc", [])]
        while loc and loc[0] in _SOURCES:
            loc.pop(0)
        if len(loc) > 1 and loc[-1].isdigit():  # an item of a list of values: the list is the field
            loc.pop()
        details.setdefault(".".join(loc) or "body", []).append(str(_message(e)))
    return details


def _message(e: dict[str, Any]) -> Any:
    kind, ctx = e.get("type", ""), e.get("ctx") or {}
    if kind == "value_error":  # a validator's own message (already translated)
        return str(ctx.get("error", e.get("msg", "")))
    if kind == "missing":
        return _("This field is required.")
    if kind in {"enum", "literal_error"}:
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("At least %(n)s characters.") % {"n": ctx.get("min_length")}
    if kind == "string_pattern_mismatch":
        return _("Not in the expected form (%(pattern)s).") % {"pattern": ctx.get("pattern")}
    if kind in {"too_long", "too_short"}:
        return _("Between %(min)s and %(max)s items.") % {
            "min": ctx.get("min_length", 0),
            "max": ctx.get("max_length", "…"),
        }
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        return _("Out of range (%(rule)s).") % {"rule": e.get("msg", "")}
    if kind.startswith(("int_", "float_", "bool_", "date_", "datetime_", "string_type", "model_", "list_")):
        return _("Not a valid value of this field (%(reason)s).") % {"reason": e.get("msg", "")}
    return str(e.get("msg", "")) or _("Not valid.")


def server_error_body(request_id: str = "") -> dict[str, Any]:
    """A 500 in the one shape: no traceback, the request id to find it in the log."""
    return error_body(
        "server_error",
        _(
            "Something went wrong on our side; the error was logged. Quote the request id if you ask about it."
        ),
        {"request_id": request_id or context.request_id.get()},
    )
