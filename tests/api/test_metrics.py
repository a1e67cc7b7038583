"""/metrics answers a staff user's API token or the configured scrape token, nobody else."""

from __future__ import annotations

import pytest
from django.utils import timezone

from posfleet.accounts.models import ApiToken
from tests import builders as b

pytestmark = pytest.mark.django_db


def _get(client, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get("/metrics", headers=headers)


def test_without_a_token_it_is_401(client):
    r = _get(client)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert _get(client, "pf_not-a-token").status_code == 401


def test_a_staff_users_token_reads_the_series(client):
    user = b.user(role="risk")
    user.is_staff = True
    user.save()
    _token, raw = ApiToken.issue(user, "prometheus")
    r = _get(client, raw)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    assert b"django_http_requests" in r.content


def test_a_token_of_someone_who_is_not_staff_is_403(client):
    _token, raw = ApiToken.issue(b.user(role="risk"), "not staff")
    r = _get(client, raw)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


def test_a_revoked_token_or_an_inactive_user_is_401(client):
    user = b.user(role="admin")
    user.is_staff = True
    user.save()
    token, raw = ApiToken.issue(user, "prometheus")
    assert _get(client, raw).status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    assert _get(client, raw).status_code == 401
    _token, raw = ApiToken.issue(user, "prometheus 2")
    user.is_active = False
    user.save()
    assert _get(client, raw).status_code == 401


def test_the_configured_scrape_token(client, settings):
    settings.POSFLEET_METRICS_TOKEN = "scrape-secret-123"
    assert _get(client, "scrape-secret-123").status_code == 200
    assert _get(client, "scrape-secret-124").status_code == 401
    settings.POSFLEET_METRICS_TOKEN = ""
    assert _get(client, "").status_code == 401
