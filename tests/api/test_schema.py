"""The OpenAPI document builds, and schemathesis finds no 5xx and no response outside the schema.

Generated requests go in-process through Django's WSGI handler (same thread, same test transaction), with
a real admin token. GET endpoints and a few POSTs are exercised with few examples each to stay fast.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from posfleet.accounts.models import ApiToken
from tests import builders as b

pytestmark = pytest.mark.django_db

GETS = (
    "/api/v1/health",
    "/api/v1/merchants",
    "/api/v1/merchants/{merchant_id}",
    "/api/v1/terminal-models",
    "/api/v1/terminals",
    "/api/v1/terminals/{tid}",
    "/api/v1/terminals/{tid}/eligibility",
    "/api/v1/holds",
    "/api/v1/holds/{hold_id}",
    "/api/v1/refused-attempts",
    "/api/v1/audit",
)
# What "conforms" means here; positive_data_acceptance is left out on purpose: business validation
# (a TID of exactly 8 capitals, a known model, a Luhn-valid card) is stricter than the JSON schema says.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
]
POSTS = (
    "/api/v1/merchants",
    "/api/v1/terminals",
    "/api/v1/terminals/{tid}/holds",
    "/api/v1/holds/{hold_id}/release",
    "/api/v1/terminals/{tid}/start_repair",
)


def test_openapi_document_builds(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    paths = doc["paths"]
    for path in (
        "/api/v1/merchants",
        "/api/v1/merchants/{merchant_id}",
        "/api/v1/terminals",
        "/api/v1/terminals/import",
        "/api/v1/terminals/{tid}",
        "/api/v1/terminals/{tid}/allocate",
        "/api/v1/terminals/{tid}/activate",
        "/api/v1/terminals/{tid}/deactivate",
        "/api/v1/terminals/{tid}/holds",
        "/api/v1/merchants/{merchant_id}/holds",
        "/api/v1/holds/{hold_id}/release",
        "/api/v1/terminals/{tid}/eligibility",
        "/api/v1/audit",
        "/api/v1/terminal-models",
        "/api/v1/health",
    ):
        assert path in paths, path
    assert "text/csv" in paths["/api/v1/terminals/import"]["post"]["requestBody"]["content"]
    merchant_in = doc["components"]["schemas"]["MerchantIn"]["properties"]
    assert {"kind", "name", "contact_name", "phone", "email", "licence_no", "legal_representative"} <= set(
        merchant_in
    )
    assert "settlement_card" in merchant_in


# Loaded at import: serving the OpenAPI document needs no database. (schemathesis' lazy
# `from_fixture` loader does not work with pytest 9, hence no fixture.) A document that does not build
# must fail these tests, not stop the collection of the whole suite.
try:
    _all = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    LOAD_ERROR = ""
except Exception as exc:  # schemathesis' LoaderError, or anything a broken router raises
    _all = None
    LOAD_ERROR = f"{type(exc).__name__}: {exc}"


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Django's WSGI handler closes "obsolete" connections after each request, which on PostgreSQL
    would close the test transaction's connection; the test client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db):
    m = b.merchant()
    b.terminal("active", merchant_obj=m, tid="S0000001")
    b.terminal("in_stock", tid="S0000002")
    _t, raw = ApiToken.issue(b.user("schema-admin", "admin"), "schemathesis")
    return raw


if _all is None:

    def test_schema_loads_for_schemathesis():
        pytest.fail(f"/api/v1/openapi.json does not load: {LOAD_ERROR}")

else:
    # The coverage phase ignores max_examples (it enumerates every boundary); examples + fuzzing are
    # enough here and keep this fast.
    _all.config.phases.coverage.enabled = False
    get_schema = _all.include(method="GET", path=list(GETS))
    post_only = _all.include(method="POST", path=list(POSTS))
    FAST = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    FEW = settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

    @get_schema.parametrize()
    @FAST
    def test_get_endpoints_conform(case, token):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    @post_only.parametrize()
    @FEW
    def test_some_posts_conform(case, token):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
