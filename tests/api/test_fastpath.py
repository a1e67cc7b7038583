"""The eligibility fast path (api/fastpath.py) answers exactly as the ninja endpoint does.

Each test asks the same question twice: through Django's test client (URL resolver, full middleware,
ninja: the documented endpoint) and through the fast path's WSGI application, and compares status,
body bytes and header names.
"""

from __future__ import annotations

import io
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.utils import timezone

from posfleet.accounts.models import ApiToken
from posfleet.api import fastpath
from posfleet.lifecycle.models import RefusedAttempt
from tests import builders as b
from tests.api.builders import Api

pytestmark = pytest.mark.django_db


class Response:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = dict(headers)
        self.content = body


class Django:
    """Stands for Django behind the fast path: records what it is handed."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        start_response("299 Django", [("Content-Type", "text/plain")])
        return [b"django"]


def wsgi_get(app: Any, path: str, method: str = "GET", scheme: str = "http", **headers: str) -> Response:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": scheme,
        "HTTP_HOST": "testserver",
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, response_headers

    body = b"".join(app(environ, start_response))
    return Response(seen["status"], seen["headers"], body)


@pytest.fixture
def django_app() -> Django:
    return Django()


@pytest.fixture
def app(django_app: Django) -> fastpath.EligibilityFastPath:
    return fastpath.EligibilityFastPath(django_app)


def both(
    app: fastpath.EligibilityFastPath, tid: str, token: str | None = None, **headers: str
) -> tuple[Any, Any]:
    """(ninja's response, the fast path's response) to the same request."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    path = f"/api/v1/terminals/{tid}/eligibility"
    ninja = Client().get(path, headers=headers)
    fast = wsgi_get(app, path, **headers)
    return ninja, fast


def assert_same(ninja: Any, fast: Response, django_app: Django) -> None:
    assert django_app.calls == 0, "the fast path handed the request to Django"
    assert fast.status_code == ninja.status_code
    assert fast.content == ninja.content  # byte-identical
    assert set(fast.headers) == set(ninja.headers)
    for name, value in ninja.headers.items():
        if name != "X-Request-Id":
            assert fast.headers[name] == value, name


# --- the answer ---------------------------------------------------------------------------------------
def test_allowed_terminal_same_body_and_headers(app, django_app):
    api = Api("admin")
    t = b.terminal("active")
    ninja, fast = both(app, t.tid, api.raw)
    assert fast.status_code == 200
    assert (
        fast.content
        == b'{"tid": "%s", "allowed": true, "reasons": [], "iso_response_code": "00"}' % t.tid.encode()
    )
    assert_same(ninja, fast, django_app)
    assert not RefusedAttempt.objects.exists()


def test_refused_terminals_same_body_and_each_refusal_counted(app, django_app):
    api = Api("admin")
    held = b.terminal("active")
    assert api.post(f"/terminals/{held.tid}/holds", {"kind": "fault", "reason": "broken"}).status_code == 201
    merchant = b.merchant()
    on_held_merchant = b.terminal("active", merchant_obj=merchant)
    r = api.post(f"/merchants/{merchant.pk}/holds", {"kind": "merchant_suspension", "reason": "unpaid"})
    assert r.status_code == 201
    for tid in (held.tid, on_held_merchant.tid, b.terminal("in_repair").tid, b.terminal("deactivated").tid):
        before = RefusedAttempt.objects.filter(tid=tid).count()
        ninja, fast = both(app, tid, api.raw)
        assert ninja.json()["allowed"] is False
        assert_same(ninja, fast, django_app)
        assert RefusedAttempt.objects.filter(tid=tid).count() == before + 2  # one each


def test_allowed_answer_is_one_statement_and_no_write(app):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = Api("admin")
    path = f"/api/v1/terminals/{b.terminal('active').tid}/eligibility"
    wsgi_get(app, path, Authorization=f"Bearer {api.raw}")  # warm-up: last_used_at is written once a minute
    with CaptureQueriesContext(connection) as ctx:
        assert wsgi_get(app, path, Authorization=f"Bearer {api.raw}").status_code == 200
    sqls = [q["sql"].upper() for q in ctx.captured_queries]
    assert len(sqls) == 1 and sqls[0].startswith("WITH BEARER AS"), sqls  # one round trip


def test_refused_answer_is_one_statement_and_the_count(app):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = Api("admin")
    path = f"/api/v1/terminals/{b.terminal('in_repair').tid}/eligibility"
    wsgi_get(app, path, Authorization=f"Bearer {api.raw}")
    with CaptureQueriesContext(connection) as ctx:
        assert wsgi_get(app, path, Authorization=f"Bearer {api.raw}").status_code == 200
    sqls = [q["sql"].upper() for q in ctx.captured_queries]
    assert len(sqls) == 2 and sqls[0].startswith("WITH") and sqls[1].startswith("INSERT"), sqls


def test_unknown_tid_answers_as_the_ninja_endpoint_does(app, django_app):
    api = Api("admin")
    ninja, fast = both(app, "NOPE0001", api.raw)
    assert ninja.status_code == 200 and ninja.json()["iso_response_code"] == "97"
    assert_same(ninja, fast, django_app)
    assert RefusedAttempt.objects.filter(tid="NOPE0001", response_code="97").count() == 2


# --- authentication and permission --------------------------------------------------------------------
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer pf_nonsense", "Basic dXNlcjpwdw==", "Bearer " + "x" * 201],
)
def test_missing_or_bad_token_is_401(app, django_app, authorization):
    t = b.terminal("active")
    headers = {} if authorization is None else {"Authorization": authorization}
    ninja, fast = both(app, t.tid, **headers)
    assert ninja.status_code == 401
    assert (
        fast.content
        == b'{"error": {"code": "unauthenticated", "message": "A valid bearer token is required.", "details": {}}}'
    )
    assert_same(ninja, fast, django_app)


def test_revoked_token_is_refused_by_the_next_request(app, django_app):
    api = Api("admin")
    t = b.terminal("active")
    assert (
        wsgi_get(app, f"/api/v1/terminals/{t.tid}/eligibility", Authorization=f"Bearer {api.raw}").status_code
        == 200
    )
    ApiToken.objects.filter(pk=api.token.pk).update(revoked_at=timezone.now())
    ninja, fast = both(app, t.tid, api.raw)
    assert fast.status_code == 401
    assert_same(ninja, fast, django_app)


def test_token_of_a_deactivated_user_is_401(app, django_app):
    api = Api("admin")
    User.objects.filter(pk=api.user.pk).update(is_active=False)
    ninja, fast = both(app, b.terminal("active").tid, api.raw)
    assert fast.status_code == 401
    assert_same(ninja, fast, django_app)


@pytest.mark.parametrize("language", ["en", "zh-hans", "zh-CN,zh;q=0.9", "fr"])
def test_no_view_permission_is_403_in_the_clients_language(app, django_app, language):
    nobody = User.objects.create_user("nobody")
    _token, raw = ApiToken.issue(nobody, "tests")
    ninja, fast = both(app, b.terminal("active").tid, raw, **{"Accept-Language": language})
    assert fast.status_code == 403
    assert_same(ninja, fast, django_app)
    message = ninja.json()["error"]["message"]
    if language == "en":
        assert message == "You do not have permission to do this."
    else:  # Chinese is the default, also for a language posfleet does not speak
        assert message != "You do not have permission to do this."


def test_language_cookie_wins_over_accept_language(app, django_app):
    api = Api("admin")
    t = b.terminal("active")
    path = f"/api/v1/terminals/{t.tid}/eligibility"
    client = Client()
    client.cookies["django_language"] = "en"
    headers = {"Authorization": f"Bearer {api.raw}", "Accept-Language": "zh-hans"}
    ninja = client.get(path, headers=headers)
    fast = wsgi_get(app, path, Cookie="django_language=en", **headers)
    assert ninja.headers["Content-Language"] == "en"
    assert_same(ninja, fast, django_app)


@pytest.mark.parametrize("how", ["superuser", "group", "direct", "none", "inactive superuser"])
def test_permission_statement_agrees_with_has_perm(how):
    user = User.objects.create_user(f"u-{how.replace(' ', '-')}")
    if "superuser" in how:
        user.is_superuser = True
        user.is_active = how == "superuser"
        user.save()
    elif how == "group":
        user.groups.add(Group.objects.get(name="technician"))
    elif how == "direct":
        user.user_permissions.add(
            Permission.objects.get(codename="view_fleet", content_type__app_label="accounts")
        )
    _token, raw = ApiToken.issue(user, "tests")
    creds = fastpath.credentials(raw, "T0000001")
    assert creds is not None
    assert creds.may_view is User.objects.get(pk=user.pk).has_perm("accounts.view_fleet")
    assert creds.may_view is (how in ("superuser", "group", "direct"))


def test_the_terminal_is_read_only_for_a_user_who_may_see_it():
    t = b.terminal("active")
    api = Api("admin")
    allowed = fastpath.credentials(api.raw, t.tid)
    assert allowed is not None and allowed.may_view and len(allowed.answer_rows) == 1
    nobody = User.objects.create_user("nobody")
    _token, raw = ApiToken.issue(nobody, "tests")
    denied = fastpath.credentials(raw, t.tid)
    assert denied is not None and not denied.may_view
    assert denied.answer_rows == []  # the statement joined no terminal: its columns came back NULL
    User.objects.filter(pk=api.user.pk).update(is_active=False)
    inactive = fastpath.credentials(api.raw, t.tid)
    assert inactive is not None and not inactive.is_active and inactive.answer_rows == []
    assert fastpath.credentials("pf_nonsense", t.tid) is None


def test_the_statement_reads_by_index_on_sqlite():
    """SQLite's plan wording is stable (PostgreSQL's depends on statistics): the token's one row is
    the only thing scanned, the rest are index searches (the answer's as tests/lifecycle pins them)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("plan wording is SQLite's")
    assert fastpath.credentials("pf_nonsense", "T0000001") is None  # builds the statement
    sql = fastpath._STATEMENT.sql
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, ["x"] * sql.count("%s"))
        plan = [str(row[-1]) for row in cursor.fetchall()]
    assert [step for step in plan if "SCAN" in step] == ["SCAN b"], plan
    assert any("hold_terminal_idx" in step for step in plan), plan
    assert any("hold_open_merchant_idx" in step for step in plan), plan


def test_last_used_at_is_refreshed_at_most_once_a_minute(app):
    api = Api("admin")
    path = f"/api/v1/terminals/{b.terminal('active').tid}/eligibility"
    wsgi_get(app, path, Authorization=f"Bearer {api.raw}")
    first = ApiToken.objects.get(pk=api.token.pk).last_used_at
    assert first is not None
    wsgi_get(app, path, Authorization=f"Bearer {api.raw}")
    assert ApiToken.objects.get(pk=api.token.pk).last_used_at == first
    ApiToken.objects.filter(pk=api.token.pk).update(last_used_at=first - timedelta(seconds=61))
    wsgi_get(app, path, Authorization=f"Bearer {api.raw}")
    assert ApiToken.objects.get(pk=api.token.pk).last_used_at > first


# --- headers and what goes to Django ------------------------------------------------------------------
def test_headers_kept_per_status_language_and_scheme_are_the_ones_django_sends(app, django_app):
    """The fast path runs the middleware hooks once per (status, language, scheme) and keeps what they
    add: every later answer, from the kept headers, still matches ninja's."""
    api = Api("admin")
    nobody = User.objects.create_user("nobody")
    _token, nobody_raw = ApiToken.issue(nobody, "tests")
    allowed, refused = b.terminal("active").tid, b.terminal("in_repair").tid
    asks = [
        (tid, token, language, secure)
        for tid, token in [(allowed, api.raw), (refused, api.raw), (allowed, nobody_raw), (allowed, "pf_bad")]
        for language in ("en", "zh-hans")
        for secure in (False, True)
    ]
    for _round in range(2):
        for tid, token, language, secure in asks:
            path = f"/api/v1/terminals/{tid}/eligibility"
            headers = {"Authorization": f"Bearer {token}", "Accept-Language": language}
            ninja = Client().get(path, headers=headers, secure=secure)
            fast = wsgi_get(app, path, scheme="https" if secure else "http", **headers)
            assert_same(ninja, fast, django_app)
    assert len(app.heads) == 3 * 2 * 2  # statuses 200, 403, 401 × languages × schemes


def test_a_request_id_outside_ascii_is_sent_as_django_sends_it(app):
    api = Api("admin")
    path = f"/api/v1/terminals/{b.terminal('active').tid}/eligibility"
    r = wsgi_get(app, path, Authorization=f"Bearer {api.raw}", **{"X-Request-Id": "caf\xe9-1"})
    assert r.headers["X-Request-Id"] == "caf\xe9-1"  # latin-1: sent as it is, as HttpResponse does


def test_request_id_is_echoed_or_made(app, django_app):
    api = Api("admin")
    path = f"/api/v1/terminals/{b.terminal('active').tid}/eligibility"
    auth = f"Bearer {api.raw}"
    assert (
        wsgi_get(app, path, Authorization=auth, **{"X-Request-Id": "abc-123"}).headers["X-Request-Id"]
        == "abc-123"
    )
    made = wsgi_get(app, path, Authorization=auth, **{"X-Request-Id": "x" * 65}).headers["X-Request-Id"]
    assert made != "x" * 65 and len(made) == 32
    assert django_app.calls == 0


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/api/v1/terminals/T0000001/eligibility", {}),
        ("HEAD", "/api/v1/terminals/T0000001/eligibility", {}),
        ("GET", "/api/v1/terminals/T0000001/eligibility/", {}),
        ("GET", "/api/v1/terminals/T00 0001/eligibility", {}),
        ("GET", "/api/v1/terminals/T0000001", {}),
        ("GET", "/api/v1/terminals/T0000001/eligibility", {"X-OTP": "123456"}),
        ("GET", "/api/v1/terminals/T0000001/eligibility", {"Host": "evil.example"}),
        ("GET", "/console/", {}),
    ],
)
def test_everything_else_goes_to_django(app, django_app, method, path, headers):
    r = wsgi_get(app, path, method=method, **headers)
    assert (r.status_code, r.content) == (299, b"django")
    assert django_app.calls == 1


def test_the_served_application_has_the_fast_path_and_ninja_keeps_the_route():
    from posfleet import wsgi
    from posfleet.api.main import api

    served = getattr(wsgi.application, "application", wsgi.application)  # under DEBUG: static files first
    assert isinstance(served, fastpath.EligibilityFastPath)
    assert "/api/v1/terminals/{tid}/eligibility" in api.get_openapi_schema()["paths"]


def test_unexpected_error_hands_the_request_to_django(app, django_app, monkeypatch):
    def broken(tid: str, rows: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(fastpath.eligibility, "answer_of", broken)
    api = Api("admin")
    r = wsgi_get(app, "/api/v1/terminals/T0000001/eligibility", Authorization=f"Bearer {api.raw}")
    assert (r.status_code, django_app.calls) == (299, 1)
