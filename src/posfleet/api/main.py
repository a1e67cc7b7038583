"""The REST API under /api/v1: mounts each domain's router, token auth and the error mapping.

Each domain app owns its endpoints in `<app>/api.py` (a ninja Router named `router`) and its shapes in
`<app>/schemas.py`; this module only mounts them, so domain rules stay next to their services. The
registry's router is mounted before lifecycle's (`/terminals/import` before `/terminals/{tid}`), and an
app's module is imported before any router is mounted: an app built on another may add operations to
the lower app's router where they share a path (see `lifecycle.api`, `settlement.api`).
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest
from ninja import Schema

from posfleet.api import errors
from posfleet.api.auth import BearerAuth
from posfleet.api.openapi import PosfleetAPI
from posfleet.audit import api as audit_api
from posfleet.cases import api as cases_api
from posfleet.jobs import api as jobs_api
from posfleet.keys import api as keys_api
from posfleet.lifecycle import api as lifecycle_api
from posfleet.money import api as money_api
from posfleet.notices import api as notices_api
from posfleet.notices import api_channels as notices_channels_api
from posfleet.registry import api as registry_api
from posfleet.repair import api as repair_api
from posfleet.settlement import api as settlement_api

api = PosfleetAPI(title="posfleet", version="1", urls_namespace="api", auth=BearerAuth())
errors.install(api)

api.add_router("", registry_api.router)
api.add_router("", lifecycle_api.router)
api.add_router("", audit_api.router)
api.add_router("", money_api.router)
api.add_router("", settlement_api.router)
api.add_router("", keys_api.router)
api.add_router("", notices_api.router)
api.add_router("", notices_channels_api.router)
api.add_router("", cases_api.router)
api.add_router("", jobs_api.router)
api.add_router("", repair_api.router)


class HealthOut(Schema):
    status: str


@api.get("/health", auth=None, tags=["system"], response={200: HealthOut})
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: 200 while the process can answer and reach its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok"}
