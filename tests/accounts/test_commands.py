import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from posfleet.accounts.models import ApiToken
from tests import builders

pytestmark = pytest.mark.django_db


class TestCreateToken:
    def test_prints_token_once(self):
        u = builders.user("cli1", "finance")
        out, err = io.StringIO(), io.StringIO()
        call_command("createtoken", "cli1", "--name", "batch", stdout=out, stderr=err)
        raw = out.getvalue().strip()
        token = ApiToken.objects.get(user=u)
        assert token.name == "batch" and token.key_hash == ApiToken.hash_key(raw)

    def test_unknown_user(self):
        with pytest.raises(CommandError):
            call_command("createtoken", "ghost", stdout=io.StringIO(), stderr=io.StringIO())


class TestTotp:
    def test_prints_uri_and_secret(self):
        u = builders.user("cli2", "risk")
        out = io.StringIO()
        call_command("totp", "cli2", stdout=out, stderr=io.StringIO())
        text = out.getvalue()
        assert "otpauth://totp/" in text
        secret = re.search(r"secret \(base32\): ([A-Z2-7]+)", text).group(1)
        device = TOTPDevice.objects.get(user=u)
        assert device.confirmed and f"secret={secret}" in text

    def test_unknown_user(self):
        with pytest.raises(CommandError):
            call_command("totp", "ghost", stdout=io.StringIO(), stderr=io.StringIO())
