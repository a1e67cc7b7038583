"""A fixed-window counter per client address: enough to stop guessing codes.

The counter must be one for every server process (the server runs several; a per-process count lets
through the limit times the number of processes). With Redis configured it lives in Redis, through
Django's cache; otherwise in the database, one `RateCounter` row per key and window, incremented by a
single `INSERT … ON CONFLICT … DO UPDATE … RETURNING` statement, atomic on SQLite and PostgreSQL
(callers count before they open a transaction of their own). The worker purges old rows.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from posfleet.notices.errors import RateLimited
from posfleet.notices.models import RateCounter


def client_ip(request: Any) -> str:
    """REMOTE_ADDR only: a forwarded-for header is whatever the client says it is."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _limit() -> int:
    return int(
        getattr(settings, "POSFLEET_VERIFY_RATE_PER_MINUTE", 0)
        or os.environ.get("POSFLEET_VERIFY_RATE_PER_MINUTE", "")
        or 10
    )


def count_in_cache(key: str, bucket: int, window: int) -> int:
    name = f"posfleet:rl:{key}:{bucket}"
    cache.add(name, 0, timeout=window * 2)
    try:
        return int(cache.incr(name))
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window * 2)
        return 1


def count_in_database(key: str, bucket: int, window: int, *, conn: BaseDatabaseWrapper | None = None) -> int:
    """One more attempt for (key, bucket); the count after it. One statement, atomic on its own."""
    conn = conn or connection
    q = conn.ops.quote_name
    table = q(RateCounter._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({q('key')}, {q('bucket')}, {q('count')}, {q('expires_at')}) "
        f"VALUES (%s, %s, 1, %s) "
        f"ON CONFLICT ({q('key')}, {q('bucket')}) DO UPDATE SET {q('count')} = {table}.{q('count')} + 1 "
        f"RETURNING {q('count')}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, [key, bucket, (bucket + 2) * window])
        row = cursor.fetchone()
    return int(row[0])


def hit(scope: str, ident: str, *, limit: int | None = None, window: int = 60) -> None:
    """Count one attempt; raise RateLimited once `limit` attempts were made in the current window."""
    limit = _limit() if limit is None else limit
    bucket = int(time.time() // window)
    key = f"{scope}:{ident}"[:200]
    counter = count_in_cache if getattr(settings, "REDIS_URL", "") else count_in_database
    if counter(key, bucket, window) > limit:
        raise RateLimited(details={"retry_after_seconds": window - int(time.time()) % window})


def purge(now: float | None = None) -> int:
    """Delete the counters of windows that ended; returns how many."""
    deleted, _by_model = RateCounter.objects.filter(expires_at__lt=int(now or time.time())).delete()
    return deleted
