"""The verification rate limit counts in one place for every server process: the database unless Redis
is configured. Two database connections stand for two server workers."""

from __future__ import annotations

import time

import pytest
from django.db import connections

from posfleet.notices import ratelimit
from posfleet.notices.errors import RateLimited
from posfleet.notices.models import RateCounter


@pytest.fixture
def second_connection():
    """A connection of its own, as another process would have."""
    conn = connections.create_connection("default")
    yield conn
    conn.close()


@pytest.mark.django_db(transaction=True)
def test_two_connections_share_one_counter(second_connection):
    bucket = int(time.time() // 60)
    counts = [
        ratelimit.count_in_database("verify:10.0.0.1", bucket, 60, conn=conn)
        for _ in range(20)
        for conn in (None, second_connection)
    ]
    assert counts == list(range(1, 41))
    assert RateCounter.objects.get(key="verify:10.0.0.1", bucket=bucket).count == 40


@pytest.mark.django_db(transaction=True)
def test_ten_of_forty_attempts_pass_across_two_workers(settings, monkeypatch, second_connection):
    settings.POSFLEET_VERIFY_RATE_PER_MINUTE = 10
    monkeypatch.setattr(time, "time", lambda: 1_800_000_010.0)  # well inside one window
    real = ratelimit.count_in_database
    allowed = 0
    for i in range(40):
        conn = second_connection if i % 2 else None
        monkeypatch.setattr(ratelimit, "count_in_database", lambda *a, c=conn, **k: real(*a, conn=c))
        try:
            ratelimit.hit("verify", "10.0.0.2")
        except RateLimited:
            continue
        allowed += 1
    assert allowed == 10


@pytest.mark.django_db
def test_windows_are_separate_and_ended_ones_are_purged(settings, monkeypatch):
    settings.POSFLEET_VERIFY_RATE_PER_MINUTE = 2
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    ratelimit.hit("verify", "10.0.0.3")
    ratelimit.hit("verify", "10.0.0.3")
    with pytest.raises(RateLimited):
        ratelimit.hit("verify", "10.0.0.3")
    ratelimit.hit("verify", "10.0.0.4")  # another address has its own count
    now[0] += 60  # the next window
    ratelimit.hit("verify", "10.0.0.3")
    assert RateCounter.objects.count() == 3
    assert ratelimit.purge(now[0]) == 0  # kept a window longer than needed
    assert ratelimit.purge(now[0] + 61) == 2  # the first window's rows ended
    assert RateCounter.objects.count() == 1
