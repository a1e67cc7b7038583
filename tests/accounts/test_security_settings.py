from datetime import timedelta

import pytest
from django.utils import timezone

import posfleet.settings as project_settings
from posfleet.accounts.stepup import SESSION_KEY
from tests import builders


def test_argon2_is_the_production_hasher():
    # tests/conftest.py swaps in MD5 for speed; the project's own setting must be Argon2 first.
    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_lockout_is_configured():
    assert "axes.backends.AxesStandaloneBackend" in project_settings.AUTHENTICATION_BACKENDS
    assert project_settings.AXES_FAILURE_LIMIT >= 3


@pytest.mark.django_db
def test_step_up_expires_after_five_minutes(client):
    client.force_login(builders.user("old", "risk"))
    builders.terminal(tid="EXP00001")
    session = client.session
    session[SESSION_KEY] = (timezone.now() - timedelta(minutes=6)).isoformat()
    session.save()
    r = client.post("/console/terminals/EXP00001/apply/", {"action": "deactivate", "reason": "x"})
    assert r.status_code == 302 and r["Location"].startswith("/console/step-up/")
    session = client.session
    session[SESSION_KEY] = (timezone.now() - timedelta(minutes=4)).isoformat()
    session.save()
    r = client.post("/console/terminals/EXP00001/apply/", {"action": "deactivate", "reason": "x"})
    assert r.status_code == 302 and r["Location"] == "/console/terminals/EXP00001/"
