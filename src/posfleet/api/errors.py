"""The API's one error shape: {"error": {"code", "message", "details"}}, its schema and handlers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from posfleet.core.errors import DomainError


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail


# Every error status an operation may answer, so the OpenAPI document lists them: 400 malformed JSON,
# 401 no valid token, 403 permission or step-up, 404, 409 state or version, 422 validation.
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def error_body(code: str, message: Any, details: Any = None) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": str(message), "details": details if details is not None else {}}
    }


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(request, error_body(exc.code, exc.message, exc.details), status=exc.status)

    @api.exception_handler(NinjaValidationError)
    def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        details = [
            {
                "loc": [str(p) for p in e.get("loc", [])],
                "msg": str(e.get("msg", "")),
                "type": e.get("type", ""),
            }
            for e in exc.errors
        ]
        return api.create_response(
            request,
            error_body("validation_error", "The request body or parameters are not valid.", details),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def _auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, error_body("unauthenticated", "A valid bearer token is required."), status=401
        )

    @api.exception_handler(DataError)
    def _data(request: HttpRequest, exc: DataError) -> HttpResponse:
        # The database refused a value the schema let through (a NUL byte in text on PostgreSQL, an
        # integer beyond 64 bits): bad input, never a 500. The transaction around the write rolled back.
        return api.create_response(
            request,
            error_body("invalid_value", _("A value in the request cannot be stored or searched.")),
            status=422,
        )

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return api.create_response(
            request,
            error_body(
                "request_too_large",
                _("The request body is too large; send large CSV files as multipart/form-data (part file)."),
            ),
            status=413,
        )

    @api.exception_handler(OverflowError)
    def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        return api.create_response(
            request, error_body("invalid_value", _("A number in the request is too large.")), status=422
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}.get(exc.status_code, "error")
        return api.create_response(request, error_body(code, exc.message), status=exc.status_code)
