"""The REST API under /api/v1: mounts each domain's router, token auth and the error mapping.

Each domain app owns its endpoints in `<app>/api.py` (a ninja Router named `router`); this module
only mounts them, so domain rules stay next to their services.
"""

from __future__ import annotations

import importlib

from django.http import HttpRequest
from ninja import NinjaAPI

from posfleet.api import errors
from posfleet.api.auth import BearerAuth

api = NinjaAPI(title="posfleet", version="1", urls_namespace="api", auth=BearerAuth())
errors.install(api)

# (module with `router`, tag). Modules that do not exist yet are skipped.
ROUTERS = (
    "posfleet.registry.api",
    "posfleet.lifecycle.api",
    "posfleet.audit.api",
    "posfleet.money.api",
    "posfleet.settlement.api",
    "posfleet.keys.api",
    "posfleet.notices.api",
    "posfleet.cases.api",
)

for dotted in ROUTERS:
    try:
        module = importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name != dotted:
            raise
        continue
    api.add_router("", module.router)


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: 200 while the process can answer and reach its database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok"}
