"""A lean path for `GET /api/v1/terminals/{tid}/eligibility`, in front of Django's full request path.

Terminals ask "may this terminal transact?" hundreds of times a second (target: p99 < 10 ms at 500
req/s on two cores); through Django's middleware, URL resolver and ninja one answer cost ~7 ms of
CPU, here ~0.13 ms (SQLite) to ~0.25 ms (PostgreSQL) with one fixed statement. It does what
`api.auth.BearerAuth` and the ninja endpoint do (token read on every request, no cache;
`accounts.view_fleet`; the one answer, refusals counted; the same schema and renderer, so the body is
byte-identical) and what the middleware adds to this response; anything else goes to Django
unchanged. docs/decisions/0002-wsgi-server.md says what is skipped and why.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils import timezone, translation
from prometheus_client import Counter

from posfleet.accounts.models import ApiToken
from posfleet.api.errors import error_body
from posfleet.api.main import api
from posfleet.core import context
from posfleet.core.errors import PermissionDenied
from posfleet.core.middleware import LanguageMiddleware
from posfleet.core.sql import Statement, db_datetime, open_cursor
from posfleet.lifecycle import eligibility
from posfleet.lifecycle.schemas import EligibilityOut

logger = logging.getLogger(__name__)

PATH = re.compile(r"/api/v1/terminals/([0-9A-Z]{8})/eligibility")  # a TID (fields.TID_PATTERN)
PERMISSION = ("accounts", "view_fleet")  # accounts.view_fleet, what the ninja endpoint checks
TOUCH_AFTER = timedelta(seconds=60)  # as api.auth.BearerAuth refreshes last_used_at
RESPONSES = Counter(
    "posfleet_eligibility_fastpath_responses",
    "Eligibility answers served by the WSGI fast path, by HTTP status.",
    ["status"],
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _statement_sql() -> str:
    """The token check and the answer in one statement: one round trip per answer.

    No row: the token is unknown or revoked. Else one row per combination of holds in force: the token's
    id, its user's `is_active`, whether `last_used_at` is due a refresh, whether the user holds
    `accounts.view_fleet` (ModelBackend's rule: an active superuser, or the permission held directly or
    through a group), then `eligibility.ANSWER_COLUMNS`. The terminal joins only when that permission is
    held, so a caller that may not see it learns nothing (NULLs, as for an unknown terminal). The token's
    row is MATERIALIZED: inlined, PostgreSQL evaluated the permission twice.
    """
    user_model = get_user_model()
    user_perms = user_model.user_permissions.through._meta.db_table
    user_groups = user_model.groups.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    perm = Permission._meta.db_table
    ctype = ContentType._meta.db_table
    return (
        "WITH bearer AS MATERIALIZED ("
        "SELECT k.id AS token_id, u.is_active AS active, "
        "(k.last_used_at IS NULL OR k.last_used_at < %s) AS stale, "
        "(u.is_active AND (u.is_superuser "
        f"OR EXISTS (SELECT 1 FROM {user_perms} up JOIN {perm} p ON p.id = up.permission_id "
        f"JOIN {ctype} ct ON ct.id = p.content_type_id "
        "WHERE up.user_id = u.id AND p.codename = %s AND ct.app_label = %s) "
        f"OR EXISTS (SELECT 1 FROM {user_groups} ug JOIN {group_perms} gp ON gp.group_id = ug.group_id "
        f"JOIN {perm} p ON p.id = gp.permission_id JOIN {ctype} ct ON ct.id = p.content_type_id "
        "WHERE ug.user_id = u.id AND p.codename = %s AND ct.app_label = %s))) AS may_view "
        f"FROM {ApiToken._meta.db_table} k JOIN {user_model._meta.db_table} u ON u.id = k.user_id "
        "WHERE k.key_hash = %s AND k.revoked_at IS NULL) "
        f"SELECT b.token_id, b.active, b.stale, b.may_view, {eligibility.ANSWER_COLUMNS} "
        "FROM bearer b "
        "LEFT JOIN registry_terminal t ON b.may_view AND t.tid = %s "
        f"{eligibility.answer_joins(past=False)}"
    )


_STATEMENT: Statement | None = None  # built on first use: the user model's tables are known then
_AUTH_COLUMNS = 4  # the bearer's columns, before the answer's
_STAMPS = eligibility.answer_joins(past=False).count("%s")  # the answer's placeholders: the time


class Credentials:
    """What the statement says about a bearer token that exists and is not revoked, and the answer's
    rows (`eligibility.ANSWER_COLUMNS`) when its user may see them."""

    __slots__ = ("answer_rows", "is_active", "may_view", "stale", "token_id")

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        first = rows[0]
        self.token_id = int(first[0])
        self.is_active = bool(first[1])
        self.stale = bool(first[2])  # last_used_at missing or older than TOUCH_AFTER
        self.may_view = bool(first[3])  # is_active included, as ModelBackend
        known = first[_AUTH_COLUMNS] is not None  # the terminal's id: NULL when unknown or not joined
        self.answer_rows = [row[_AUTH_COLUMNS:] for row in rows] if known else []


def credentials(token: str, tid: str) -> Credentials | None:
    """The token's user and its `accounts.view_fleet`, read now (no cache), with the answer for `tid`
    when the user may see it; None: the token is unknown or revoked."""
    global _STATEMENT
    if _STATEMENT is None:
        _STATEMENT = Statement(_statement_sql())
    conn = connections[DEFAULT_DB_ALIAS]  # looked up once: each proxy access costs a context lookup
    now = datetime.now(UTC)  # timezone.now() with USE_TZ (always on), without a settings read
    stamp = db_datetime(conn, now)
    app_label, codename = PERMISSION
    params = [db_datetime(conn, now - TOUCH_AFTER), codename, app_label, codename, app_label]
    params += [ApiToken.hash_key(token), tid, *[stamp] * _STAMPS]
    cursor = open_cursor(conn, prepared=True)  # a fixed statement, prepared on PostgreSQL (core.sql)
    try:
        rows = _STATEMENT.run(cursor, conn.vendor, params).fetchall()
    finally:
        cursor.close()
    return Credentials(rows) if rows else None


def bearer_token(request: HttpRequest) -> str | None:
    """The token as ninja's HttpBearer reads it: `Authorization: Bearer <token>`, scheme in any case.
    Headers are read from META: `request.headers` would copy every header first."""
    value = request.META.get("HTTP_AUTHORIZATION")
    if not value:
        return None
    parts = value.split(" ")
    if parts[0].lower() != "bearer":
        return None
    return " ".join(parts[1:])


def eligibility_view(request: HttpRequest, tid: str) -> tuple[int, Any]:
    """What `BearerAuth` + `lifecycle.api.terminal_eligibility` answer (status, data), with one fixed
    statement."""
    token = bearer_token(request)
    creds = credentials(token, tid) if token and len(token) <= 200 else None
    if creds is None or not creds.is_active:
        return 401, error_body("unauthenticated", "A valid bearer token is required.")
    if creds.stale:
        ApiToken.objects.filter(pk=creds.token_id).update(last_used_at=timezone.now())
    if not creds.may_view:
        denied = PermissionDenied()
        return denied.status, error_body(denied.code, denied.message, denied.details)
    answer = eligibility.counted(eligibility.answer_of(tid, creds.answer_rows))
    return 200, answer_data(answer)


_SHAPES: dict[tuple[Any, ...], dict[str, Any]] = {}  # the answer's schema output by everything but the TID
_SHAPES_MAX = 1024


def answer_data(answer: eligibility.Answer) -> dict[str, Any]:
    """`EligibilityOut`'s output for the answer, as ninja makes it. Validation depends on the answer's
    content, and most answers differ only in the TID (a plain string the schema passes through): the
    output is kept by the rest (allowed, the reasons, the ISO code) and the TID put in, which costs a
    dict copy instead of a validation."""
    data = answer.as_dict()
    key = (data["allowed"], data["iso_response_code"], *(tuple(r.items()) for r in data["reasons"]))
    shape = _SHAPES.get(key)
    if shape is None:
        shape = EligibilityOut.model_validate(data).model_dump()
        if len(_SHAPES) >= _SHAPES_MAX:  # held terminals differ by hold id: keep the memory bounded
            _SHAPES.clear()
        _SHAPES[key] = shape
    return {**shape, "tid": answer.tid}


def request_id(request: HttpRequest) -> str:
    """RequestIdMiddleware's rule: the client's X-Request-Id when short and printable, else a new one."""
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    return incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex


def route(environ: dict[str, Any]) -> str | None:
    """The TID when the fast path answers this request, else None (Django answers it)."""
    if environ.get("REQUEST_METHOD") != "GET" or "HTTP_X_OTP" in environ:
        return None
    match = PATH.fullmatch(environ.get("PATH_INFO", ""))
    return match.group(1) if match else None


def _check_connection() -> None:
    """Close this thread's connection when an error left it unusable (Django checks at request start)."""
    conn = connections[DEFAULT_DB_ALIAS]  # looked up once: each proxy access costs a context lookup
    if conn.connection is not None and conn.errors_occurred:
        if conn.is_usable():
            conn.errors_occurred = False
        else:
            conn.close()


_COUNTERS: dict[int, Any] = {}


def _counter(status: int) -> Any:
    """The status's child of RESPONSES (`labels()` costs more than the increment)."""
    found = _COUNTERS.get(status)
    if found is None:
        found = _COUNTERS[status] = RESPONSES.labels(str(status))
    return found


def _unused(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the fast path calls the middleware hooks itself")


class Head:
    """A response's status line, headers, cookies and charset, as `HttpResponse` would send them."""

    __slots__ = ("charset", "cookies", "headers", "status")

    def __init__(
        self, status: str, headers: list[tuple[str, str]], cookies: list[tuple[str, str]], charset: str
    ):
        self.status = status
        self.headers = headers
        self.cookies = cookies
        self.charset = charset


class EligibilityFastPath:
    """WSGI application: the eligibility answer here, every other request to `django_app`."""

    def __init__(self, django_app: WSGIApp) -> None:
        self.django_app = django_app
        self.language = LanguageMiddleware(_unused)
        self.security = SecurityMiddleware(_unused)
        self.xframe = XFrameOptionsMiddleware(_unused)
        self.languages: dict[str | None, str] = {}  # Accept-Language → the language chosen
        self.heads: dict[tuple[int, str, bool], Head] = {}  # (status, language, secure) → what to send

    def choose_language(self, request: HttpRequest) -> None:
        """`LanguageMiddleware.process_request`. For a request without cookies its choice depends on
        Accept-Language alone (the path is always this one), so it is kept by that header's value."""
        if "HTTP_COOKIE" in request.META:
            self.language.process_request(request)
            return
        accept = request.META.get("HTTP_ACCEPT_LANGUAGE")
        chosen = self.languages.get(accept)
        if chosen is None:
            self.language.process_request(request)
            if len(self.languages) >= 256:  # headers are free text: keep the memory bounded
                self.languages.clear()
            self.languages[accept] = request.LANGUAGE_CODE
            return
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen

    def head(self, request: HttpRequest, status: int) -> Head:
        """The response's status line and headers but its length and request id: a JSON `HttpResponse`
        through the middleware hooks that add headers (language, X-Frame-Options, security). What the
        hooks add depends only on the status, the language chosen and whether the request is secure
        (the path is always this one, the settings fixed), so it is made once per such key and kept:
        the response and the hooks cost the server more than the answer's JSON."""
        key = (status, request.LANGUAGE_CODE, request.is_secure())  # LANGUAGE_CODE: the one active
        found = self.heads.get(key)
        if found is None:
            response = HttpResponse(status=status, content_type=api.get_content_type())
            self.language.process_response(request, response)  # these hooks add headers in place
            self.xframe.process_response(request, response)
            self.security.process_response(request, response)
            found = Head(
                f"{response.status_code} {response.reason_phrase}",
                list(response.items()),
                [("Set-Cookie", c.output(header="")) for c in response.cookies.values()],
                response.charset,
            )
            if len(self.heads) >= 64:  # a few statuses × languages × schemes; bounded all the same
                self.heads.clear()
            self.heads[key] = found
        return found

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        tid = route(environ)
        if tid is None:
            return self.django_app(environ, start_response)
        request = WSGIRequest(environ)
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
        except DisallowedHost:
            return self.django_app(environ, start_response)
        if self.security.process_request(request) is not None:  # the HTTPS redirect
            return self.django_app(environ, start_response)
        rid = request_id(request)
        reset = context.request_id.set(rid)
        try:
            self.choose_language(request)
            _check_connection()
            status, data = eligibility_view(request, tid)
            head = self.head(request, status)
            content = api.renderer.render(request, data, response_status=status)
            body = content if isinstance(content, bytes) else content.encode(head.charset)
        except Exception:
            logger.exception("eligibility fast path failed; Django answers the request")
            _check_connection()
            return self.django_app(environ, start_response)
        finally:
            context.request_id.reset(reset)
        _counter(status).inc()
        start_response(
            head.status,
            [
                *head.headers,
                ("X-Request-Id", header_value(rid)),
                ("Content-Length", str(len(body))),
                *head.cookies,
            ],
        )
        return [body]


def header_value(value: str) -> str:
    """`value` as `HttpResponse` sends a header: ASCII as it is, else latin-1 or MIME-encoded."""
    if value.isascii():
        return value
    response = HttpResponse()
    response["X-Request-Id"] = value
    return str(response["X-Request-Id"])
