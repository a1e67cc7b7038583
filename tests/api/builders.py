"""API test builders: a user with a role and a bearer token, and a client that sends it."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from posfleet.accounts.models import ApiToken
from tests import builders as b

TOTP_KEY = "3132333435363738393031323334353637383930"  # hex of "12345678901234567890" (RFC 6238)


class Api:
    """A test client that talks JSON to /api/v1 with one user's token."""

    def __init__(self, role: str = "admin", *, username: str = "") -> None:
        self.user = b.user(username, role)
        self.token, self.raw = ApiToken.issue(self.user, "tests")
        self.client = Client()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw}", **(extra or {})}

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(f"/api/v1{path}", params or {}, headers=self.headers(headers))

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self.headers(headers),
        )

    def post_raw(self, path: str, data: Any, content_type: str, **headers: str) -> Any:
        return self.client.post(
            f"/api/v1{path}", data, content_type=content_type, headers=self.headers(headers)
        )

    def enrol_totp(self) -> TOTPDevice:
        return TOTPDevice.objects.create(user=self.user, name="tests", key=TOTP_KEY, confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The current code of `device`, as an authenticator app would show it."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def merchant_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "enterprise",
        "name": "Shanghai Noodles Ltd",
        "contact_name": "Li Si",
        "phone": "13900139000",
        "email": "li@example.com",
        "licence_no": "91310000MA1FL1234X",
        "legal_representative": "Li Si",
        "settlement_card": b.VALID_CARD,
    }
    body.update(overrides)
    return body


def terminal_body(tid: str = "A0000001", **overrides: Any) -> dict[str, Any]:
    body = {
        "tid": tid,
        "sn": f"SN-{tid}",
        "model": b.terminal_model().name,
        "firmware_version": "1.2.3",
        "security_patch_level": "2026-01-01",
        "install_address": "Shanghai",
    }
    body.update(overrides)
    return body
