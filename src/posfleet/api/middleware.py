"""Errors Django answers itself under /api/, in the API's one shape.

Operations raise into `api.errors`' handlers; but some answers come before any operation runs or
around it: an unknown path (404, Django's debug page with DEBUG on), a method the path does not take
(405 from ninja's path view, plain text), a host Django refuses (400), a failure in a middleware (500).
Clients of the API read JSON, so every error response under /api/ that is not already in the shape
`{"error": {"code", "message", "details"}}` is rewritten into it, keeping the status and the headers
that matter (`Allow`, `WWW-Authenticate`, `Retry-After`, `X-Request-Id`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

from posfleet.api.errors import error_body, server_error_body

PREFIX = "/api/"

CODES: dict[int, tuple[str, Any]] = {
    400: ("malformed_request", _("The request cannot be read.")),
    401: ("unauthenticated", _("A valid bearer token is required.")),
    403: ("permission_denied", _("You do not have permission to do this.")),
    404: ("not_found", _("No such API path.")),
    405: ("method_not_allowed", _("This path does not take this method; see the Allow header.")),
    413: ("request_too_large", _("The request body is too large.")),
    415: ("unsupported_media_type", _("This content type is not accepted here.")),
    429: ("rate_limited", _("Too many requests; try again later.")),
}
_DROPPED_HEADERS = {"content-type", "content-length", "content-disposition", "content-encoding"}


def in_error_shape(response: HttpResponseBase) -> bool:
    if response.streaming or not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)  # type: ignore[attr-defined]
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def as_json_error(response: HttpResponseBase) -> HttpResponse:
    status = response.status_code
    if status >= 500:
        body = server_error_body(response.get("X-Request-Id", ""))
    else:
        code, message = CODES.get(status, ("error", _("The request cannot be carried out.")))
        body = error_body(code, message)
    rewritten = JsonResponse(body, status=status)
    for name, value in response.items():
        if name.lower() not in _DROPPED_HEADERS:
            rewritten[name] = value
    return rewritten


class JsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path_info.startswith(PREFIX):
            return response
        if in_error_shape(response):
            return response
        return as_json_error(response)
