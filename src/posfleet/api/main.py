"""The REST API under /api/v1: mounts each domain's router, token auth and the error mapping."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI

from posfleet.api import errors

api = NinjaAPI(title="posfleet", version="1", urls_namespace="api")
errors.install(api)


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: 200 while the process can answer and reach its database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok"}
