"""Console and API at production scale: server time (p50/p95) and query count of each list and page.

`run(report)` needs the scale data (`posfleet demo --scale F`; it generates F = POSFLEET_BENCH_SCALE,
default 0.1, when the database has none). Each page is requested ROUNDS times
in-process through Django's test client as an administrator (the whole stack: middleware, view,
queries, template), after one warm-up request; the server time is the wall time of each request.
Beside each figure, the baseline measured in the same run: the same client requesting a console page
that reads nothing but the session and the user (`/console/totp/`), i.e. the framework's floor.
Target: p95 < 200 ms on each page.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from posfleet.accounts.models import ApiToken
from posfleet.audit.models import AuditEvent
from posfleet.core.startup import freeze_startup_objects
from posfleet.devtools.demo import bulk
from posfleet.money.models import Transaction
from posfleet.registry.models import Merchant, Terminal, TerminalModel

ROUNDS = 20
TARGET_MS = 200.0
Report = Callable[..., Any]


def _admin() -> Any:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username="bench-console", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def _timed(client: Client, url: str, rounds: int, **headers: Any) -> tuple[list[float], int, int]:
    """(milliseconds per request, queries of the last request, last status)."""
    client.get(url, **headers)  # warm-up: caches, prepared plans, page cache
    times = []
    queries = status = 0
    for _i in range(rounds):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, **headers)
            if hasattr(response, "streaming_content"):
                for _chunk in response.streaming_content:
                    pass
            times.append((time.perf_counter() - started) * 1000)
        queries, status = len(ctx.captured_queries), response.status_code
    return times, queries, status


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]


def pages() -> list[tuple[str, str]]:
    """(name, URL) of every page measured, on the scale data."""
    biggest = bulk_merchant(0)
    some = bulk_merchant(12_345 % max(Merchant.objects.count() - 100, 1))
    terminal = Terminal.objects.filter(merchant_id=some).order_by("id").values_list("tid", flat=True).first()
    model = TerminalModel.objects.order_by("id").values_list("id", flat=True).first()
    today = timezone.localdate()
    month = (today - timedelta(days=30)).isoformat(), (today - timedelta(days=1)).isoformat()
    return [
        ("terminal list, state active", "/console/terminals/?state=active"),
        ("terminal list, state in_repair", "/console/terminals/?state=in_repair"),
        ("terminal list, model", f"/console/terminals/?model={model}"),
        ("terminal list, merchant", f"/console/terminals/?merchant={some}"),
        ("terminal list, TID prefix", "/console/terminals/?q=2001"),
        ("terminal list, search by name", "/console/terminals/?q=%E4%BE%BF%E5%88%A9%E5%BA%97"),
        ("merchant search by name", "/console/merchants/?q=%E4%BE%BF%E5%88%A9%E5%BA%97%20000123"),
        ("merchant search, no match", "/console/merchants/?q=nobody-is-called-this"),
        ("terminal page", f"/console/terminals/{terminal}/"),
        ("merchant page", f"/console/merchants/{some}/"),
        ("merchant money page (its transactions)", f"/console/money/merchants/{some}/"),
        ("biggest merchant's money page", f"/console/money/merchants/{biggest}/"),
        ("biggest merchant's settlement page", f"/console/settlement/merchants/{biggest}/"),
        ("cases queue", "/console/cases/"),
        ("audit list by object", f"/console/audit/?object_type=terminal&object_id={terminal}"),
        ("dashboard", "/console/"),
        ("money page (30-day charts)", "/console/money/"),
        ("settlement page", "/console/settlement/"),
        (
            "biggest merchant's month statement CSV",
            f"/console/settlement/merchants/{biggest}/statement.csv?from={month[0]}&to={month[1]}",
        ),
        ("API terminals, state active", "/api/v1/terminals?state=active"),
        ("API terminals, TID prefix", "/api/v1/terminals?q=2001"),
        ("API merchants, name", "/api/v1/merchants?q=%E4%BE%BF%E5%88%A9%E5%BA%97"),
        ("API audit by object", f"/api/v1/audit?object_type=terminal&object_id={terminal}"),
        ("API cases", "/api/v1/cases"),
    ]


def bulk_merchant(k: int) -> int:
    pk = Merchant.objects.filter(licence_no=f"SC{k:010d}").values_list("pk", flat=True).first()
    return int(pk or Merchant.objects.order_by("id").values_list("pk", flat=True)[0])


def run(report: Report | None = None, *, rounds: int | None = None) -> dict[str, Any]:
    rounds = rounds or int(os.environ.get("POSFLEET_BENCH_CONSOLE_ROUNDS", ROUNDS))
    out: dict[str, Any] = {"database": connection.vendor, "pages": {}}
    if not Merchant.objects.filter(licence_no="SC0000000000").exists():
        bulk.build(float(os.environ.get("POSFLEET_BENCH_SCALE", "0.1")), say=lambda _m: None)
    out["scale"] = {
        "merchants": Merchant.objects.count(),
        "terminals": Terminal.objects.count(),
        "transactions (estimate)": estimate(Transaction._meta.db_table),
        "audit events (estimate)": estimate(AuditEvent._meta.db_table),
    }
    call_command("collectstatic", "--no-input", "-v", "0")  # the pages name hashed static files
    user = _admin()
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    token = ApiToken.issue(user, name="bench-console")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    freeze_startup_objects()  # as the served application does once loaded (posfleet/wsgi.py)
    try:
        floor, _q, _s = _timed(client, "/console/totp/", rounds)
        floor_p95 = p95(floor)
        for name, url in pages():
            headers = auth if url.startswith("/api/") else {}
            times, queries, status = _timed(client, url, rounds, **headers)
            p50_ms, p95_ms = statistics.median(times), p95(times)
            out["pages"][name] = {
                "url": url,
                "p50_ms": p50_ms,
                "p95_ms": p95_ms,
                "queries": queries,
                "status": status,
            }
            if report is not None:
                report(
                    f"{name}: p95 server time ({queries} queries, {status})",
                    round(p95_ms, 1),
                    unit="ms",
                    target=f"< {TARGET_MS:g} ms",
                    ok=p95_ms < TARGET_MS and status == 200,
                    baseline="the framework floor: /console/totp/ p95",
                    baseline_value=round(floor_p95, 1),
                    higher_is_better=False,
                    note=f"p50 {p50_ms:.1f} ms; {url}",
                )
            else:
                print(
                    f"{name}: p95 {p95_ms:.1f} ms (p50 {p50_ms:.1f}; floor {floor_p95:.1f}), {queries} queries, {status}"
                )
    finally:
        gc.unfreeze()  # what runs after this section measures its own process
    return out


def estimate(table: str) -> int:
    """The planner's row estimate (PostgreSQL) or the exact count (SQLite, where it is cheap enough)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        cursor.execute(f"SELECT MAX(rowid) FROM {table}")
        return int(cursor.fetchone()[0] or 0)
