import pytest
from django_otp.oath import totp as oath_totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from posfleet.accounts.models import ApiToken
from tests import builders

pytestmark = pytest.mark.django_db


class TestTokens:
    def test_create_shows_once_and_revoke(self, en_client):
        u = builders.user("tk1", "technician")
        en_client.force_login(u)
        r = en_client.post("/console/tokens/", {"name": "script"})
        assert r.status_code == 200
        raw = r.context["raw"]
        assert raw.encode() in r.content
        token = ApiToken.objects.get(user=u)
        r = en_client.get("/console/tokens/")
        assert raw.encode() not in r.content and b"script" in r.content
        r = en_client.post(f"/console/tokens/{token.pk}/revoke/")
        assert r.status_code == 302
        token.refresh_from_db()
        assert token.revoked_at is not None

    def test_others_tokens_hidden_and_not_revocable(self, en_client):
        owner = builders.user("tk2", "risk")
        token, _raw = ApiToken.issue(owner, "secret-one")
        en_client.force_login(builders.user("tk3", "technician"))
        assert b"secret-one" not in en_client.get("/console/tokens/").content
        assert en_client.post(f"/console/tokens/{token.pk}/revoke/").status_code == 403

    def test_admin_sees_all_and_issues_for_others(self, en_client):
        owner = builders.user("tk4", "risk")
        ApiToken.issue(owner, "theirs")
        en_client.force_login(builders.user("tk5", "admin"))
        assert b"theirs" in en_client.get("/console/tokens/").content
        r = en_client.post("/console/tokens/", {"name": "for-them", "username": "tk4"})
        assert r.status_code == 200
        assert ApiToken.objects.filter(user=owner, name="for-them").exists()

    def test_empty_name_is_422(self, en_client):
        en_client.force_login(builders.user("tk6", "technician"))
        assert en_client.post("/console/tokens/", {"name": ""}).status_code == 422


class TestTotpPage:
    def test_enrol_flow(self, en_client):
        u = builders.user("tp1", "risk")
        en_client.force_login(u)
        assert en_client.get("/console/totp/").status_code == 200
        en_client.post("/console/totp/", {"op": "start"})
        r = en_client.get("/console/totp/")
        assert b"<svg" in r.content and r.context["secret"].encode() in r.content
        device = TOTPDevice.objects.get(user=u)
        code = f"{oath_totp(device.bin_key, device.step, device.t0, device.digits):06d}"
        r = en_client.post("/console/totp/", {"op": "confirm", "device": device.pk, "code": code})
        assert r.status_code == 302
        device.refresh_from_db()
        assert device.confirmed

    def test_wrong_code_is_422(self, en_client):
        u = builders.user("tp2", "risk")
        en_client.force_login(u)
        en_client.post("/console/totp/", {"op": "start"})
        device = TOTPDevice.objects.get(user=u)
        good = f"{oath_totp(device.bin_key, device.step, device.t0, device.digits):06d}"
        bad = "123456" if good != "123456" else "654321"
        r = en_client.post("/console/totp/", {"op": "confirm", "device": device.pk, "code": bad})
        assert r.status_code == 422
