import pytest
from django_otp.oath import totp as oath_totp

from posfleet.accounts import stepup, totp
from posfleet.audit.models import AuditEvent
from posfleet.core.errors import PermissionDenied, ValidationFailed
from tests import builders

pytestmark = pytest.mark.django_db


def current_code(device):
    return f"{oath_totp(device.bin_key, device.step, device.t0, device.digits):06d}"


class TestEnrolment:
    def test_start_confirm(self):
        u = builders.user("tt1", "risk")
        a = builders.actor(u=u)
        device = totp.start(a, u)
        assert not device.confirmed and totp.pending(u) == device
        totp.confirm(a, u, device.pk, current_code(device))
        device.refresh_from_db()
        assert device.confirmed and totp.pending(u) is None
        event = AuditEvent.objects.get(action="totp.enrol")
        assert totp.secret_b32(device) not in str(event.after)

    def test_wrong_code_refused(self):
        u = builders.user("tt0", "risk")
        a = builders.actor(u=u)
        device = totp.start(a, u)
        with pytest.raises(ValidationFailed):
            totp.confirm(a, u, device.pk, "000000" if current_code(device) != "000000" else "111111")
        device.refresh_from_db()
        assert not device.confirmed

    def test_restart_replaces_pending(self):
        u = builders.user("tt2", "risk")
        a = builders.actor(u=u)
        first = totp.start(a, u)
        second = totp.start(a, u)
        assert totp.pending(u) == second and first.pk != second.pk

    def test_only_for_oneself(self):
        u, other = builders.user("tt3", "risk"), builders.user("tt4", "risk")
        with pytest.raises(PermissionDenied):
            totp.start(builders.actor(u=other), u)

    def test_uri_secret_and_qr(self):
        u = builders.user("tt5", "risk")
        device = totp.start(builders.actor(u=u), u)
        uri = totp.otpauth_uri(device)
        assert uri.startswith("otpauth://totp/") and f"secret={totp.secret_b32(device)}" in uri
        svg = totp.qr_svg(uri)
        assert svg.startswith("<svg") and "path" in svg

    def test_enrolled_code_steps_up_once(self):
        u = builders.user("tt6", "risk")
        from posfleet.core.actor import Actor

        device = totp.enrol_now(Actor.system("cli"), u)
        code = current_code(device)
        assert stepup.verify_totp(u, code)
        assert not stepup.verify_totp(u, code)  # replay refused
