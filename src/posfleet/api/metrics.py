"""`/metrics` for Prometheus, behind a bearer token.

The series name every view, model and database of the deployment and count its traffic: useful to an
attacker mapping the system, so they are not public. A scraper sends `Authorization: Bearer <token>`
with either the configured scrape token (`POSFLEET_METRICS_TOKEN`, compared in constant time) or the
API token of an active staff user. No token or an unknown one is 401, a valid token of someone who is
not staff (a merchant's portal login) is 403; both in the API's error shape.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from posfleet.accounts.models import ApiToken
from posfleet.api.errors import error_body


def _bearer(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _refused(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = _bearer(request)
    if not token or len(token) > 200:
        return _refused(401, "unauthenticated", _("A valid bearer token is required."))
    scrape_token = getattr(settings, "POSFLEET_METRICS_TOKEN", "")
    if scrape_token and hmac.compare_digest(token.encode(), scrape_token.encode()):
        return ExportToDjangoView(request)
    api_token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(token), revoked_at__isnull=True)
        .first()
    )
    if api_token is None or not api_token.user.is_active:
        return _refused(401, "unauthenticated", _("A valid bearer token is required."))
    if not api_token.user.is_staff:
        return _refused(403, "permission_denied", _("Only staff may read the metrics."))
    return ExportToDjangoView(request)
