"""Production mode refuses to start with DEBUG on or the development secret key or KEK."""

import base64
import os
import subprocess
import sys

import pytest

GOOD = {
    "POSFLEET_PRODUCTION": "1",
    "DEBUG": "0",
    "SECRET_KEY": "x" * 50,
    "POSFLEET_KEK": base64.b64encode(os.urandom(32)).decode(),
}


def _start(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in GOOD and k != "DATABASE_URL"}
    env.update(GOOD)
    env.update(overrides)
    env["POSFLEET_VAR_DIR"] = str(tmp_path)
    env = {k: v for k, v in env.items() if v is not None}
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='posfleet.settings'; django.setup()"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


class TestProductionMode:
    def test_starts_when_everything_is_set(self, tmp_path):
        assert _start(tmp_path).returncode == 0

    @pytest.mark.parametrize(
        ("override", "message"),
        [
            ({"DEBUG": "1"}, "DEBUG must be off"),
            ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
            ({"POSFLEET_KEK": None}, "POSFLEET_KEK must be set"),
            ({"POSFLEET_KEK": "c2hvcnQ="}, "POSFLEET_KEK must be 16, 24 or 32 bytes"),
        ],
    )
    def test_refuses_unsafe_settings(self, tmp_path, override, message):
        result = _start(tmp_path, **override)
        assert result.returncode != 0
        assert message in result.stderr


def _debug_of(tmp_path, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "POSFLEET_PRODUCTION", "DATABASE_URL"}}
    env.update(env_overrides)
    env["POSFLEET_VAR_DIR"] = str(tmp_path)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='posfleet.settings'; django.setup();"
        "from django.conf import settings; print(settings.DEBUG)"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_debug_is_off_unless_a_developer_turns_it_on(tmp_path):
    assert _debug_of(tmp_path) == "False"
    assert _debug_of(tmp_path, DEBUG="1") == "True"
