"""TOTP enrolment (django-otp TOTPDevice), from the console (scan a QR code, confirm with a code) or the
CLI (`posfleet totp USERNAME`, confirmed at once, prints the otpauth URI and secret once).

The secret is shown only at enrolment; audit events record that a device was enrolled, never its key.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed

CONSOLE_DEVICE = "authenticator"


def _own(actor: Actor, user: Any) -> None:
    if actor.kind != "system" and actor.user_id != user.pk:
        raise PermissionDenied()


def secret_b32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def otpauth_uri(device: TOTPDevice) -> str:
    return str(device.config_url)


def qr_svg(data: str) -> str:
    """An inline SVG QR code (no image files, no JavaScript)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buf = io.BytesIO()
    image.save(buf)
    svg = buf.getvalue().decode()
    return svg[svg.index("<svg") :]


def start(actor: Actor, user: Any) -> TOTPDevice:
    """A fresh unconfirmed device (an earlier unconfirmed one is dropped); confirm it with `confirm()`."""
    _own(actor, user)
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=CONSOLE_DEVICE, confirmed=False)


def pending(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def confirmed_devices(user: Any) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id"))


def confirm(actor: Actor, user: Any, device_id: int, code: str) -> TOTPDevice:
    _own(actor, user)
    device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        raise NotFound(_("No pending authenticator; start again."))
    code = (code or "").strip()
    if not code.isdigit() or not device.verify_token(code):
        raise ValidationFailed(
            details={"code": [_("That code is not correct; check the time on your phone.")]}
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(actor, Change("user", str(user.pk), "totp.enrol", None, {"device": device.pk}, "enrolled"))
    return device


def enrol_now(actor: Actor, user: Any, name: str = "cli") -> TOTPDevice:
    """CLI enrolment: the device is confirmed at once (the operator hands the secret over)."""
    device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
    record(actor, Change("user", str(user.pk), "totp.enrol", None, {"device": device.pk}, "enrolled (cli)"))
    return device


def remove(actor: Actor, user: Any, device_id: int) -> None:
    _own(actor, user)
    deleted, _rows = TOTPDevice.objects.filter(pk=device_id, user=user).delete()
    if not deleted:
        raise NotFound(_("No such authenticator."))
    record(actor, Change("user", str(user.pk), "totp.remove", {"device": device_id}, None, "removed"))
