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
    "/api/v1/device-alerts",
    "/api/v1/audit",
    "/api/v1/jobs",
    "/api/v1/jobs/{job_id}",
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
        "/api/v1/device-alerts/{alert_id}/acknowledge",
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


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref", "")
    return components[ref.rsplit("/", 1)[-1]] if ref else schema


def _untyped(schema: dict, components: dict) -> bool:
    """No schema, or an object that names no properties (what ninja renders for `dict`)."""
    schema = _resolve(schema, components)
    if schema.get("type") == "array":
        return _untyped(schema.get("items", {}), components)
    return not schema or (schema.get("type") == "object" and not schema.get("properties"))


def test_every_success_response_is_typed(client):
    """Each operation says what it returns: a JSON schema with named fields, or a file's media type."""
    doc = client.get("/api/v1/openapi.json").json()
    components = doc["components"]["schemas"]
    operations = [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    assert len(operations) > 70
    for method, path, op in operations:
        success = {status: r for status, r in op["responses"].items() if status.startswith("2")}
        assert success, (method, path)
        for status, response in success.items():
            content = response.get("content")
            assert content, (method, path, status, "no body described")
            for media_type, body in content.items():
                schema = body.get("schema", {})
                if media_type == "application/json":
                    assert not _untyped(schema, components), (method, path, status, schema)
                else:
                    assert schema == {"type": "string", "format": "binary"}, (method, path, media_type)


def test_each_schema_name_names_one_shape():
    """The document keys shapes by class name: two classes with one name would overwrite each other."""
    from ninja import Schema

    import posfleet.api.main  # noqa: F401  (every app's schemas, through its router)

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    by_name: dict[str, set[str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("posfleet."):
            by_name.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: where for name, where in by_name.items() if len(where) > 1} == {}


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
