"""A fixed-window counter per client address in Django's cache: enough to stop guessing codes."""

from __future__ import annotations

import os
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from posfleet.notices.errors import RateLimited


def client_ip(request: Any) -> str:
    """REMOTE_ADDR only: a forwarded-for header is whatever the client says it is."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def hit(scope: str, ident: str, *, limit: int | None = None, window: int = 60) -> None:
    """Count one attempt; raise RateLimited once `limit` attempts were made in the current window."""
    if limit is None:
        limit = int(
            getattr(settings, "POSFLEET_VERIFY_RATE_PER_MINUTE", 0)
            or os.environ.get("POSFLEET_VERIFY_RATE_PER_MINUTE", "")
            or 10
        )
    bucket = int(time.time() // window)
    key = f"posfleet:rl:{scope}:{ident}:{bucket}"
    cache.add(key, 0, timeout=window * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window * 2)
        count = 1
    if count > limit:
        raise RateLimited(details={"retry_after_seconds": window - int(time.time()) % window})
