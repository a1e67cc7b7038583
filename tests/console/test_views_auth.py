import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from posfleet.accounts.models import MerchantUser
from posfleet.accounts.stepup import SESSION_KEY
from tests import builders

pytestmark = pytest.mark.django_db


class TestLogin:
    def test_anonymous_is_sent_to_login(self, en_client):
        r = en_client.get("/console/")
        assert r.status_code == 302
        assert r["Location"].startswith("/console/login/?next=/console/")

    def test_login_page_has_help_and_form(self, en_client):
        r = en_client.get("/console/login/")
        assert r.status_code == 200
        assert b"htmx.min.js" in r.content and b"app.css" in r.content
        assert b'name="username"' in r.content

    def test_good_password_logs_in(self, en_client):
        builders.user("alice", "risk", password="correct-horse-1")
        r = en_client.post("/console/login/", {"username": "alice", "password": "correct-horse-1"})
        assert r.status_code == 302 and r["Location"] == "/console/"
        assert en_client.get("/console/").status_code == 200

    def test_portal_user_cannot_log_in(self, en_client):
        u = User.objects.create_user("shop", password="shop-pass-123")
        MerchantUser.objects.create(user=u, merchant=builders.merchant())
        r = en_client.post("/console/login/", {"username": "shop", "password": "shop-pass-123"})
        assert r.status_code == 200
        assert b"Merchant portal accounts cannot use" in r.content

    def test_portal_user_with_session_is_refused(self, en_client):
        u = User.objects.create_user("shop2", password="shop-pass-123")
        MerchantUser.objects.create(user=u, merchant=builders.merchant())
        en_client.force_login(u)
        assert en_client.get("/console/").status_code == 403

    def test_inactive_user_is_logged_out(self, en_client):
        u = builders.user("gone", "admin")
        en_client.force_login(u)
        User.objects.filter(pk=u.pk).update(is_active=False)
        r = en_client.get("/console/")
        assert r.status_code == 302 and "/console/login/" in r["Location"]

    def test_lockout_after_repeated_failures(self, en_client, settings):
        builders.user("bob", "admin", password="right-password-1")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            en_client.post("/console/login/", {"username": "bob", "password": "wrong"})
        r = en_client.post("/console/login/", {"username": "bob", "password": "right-password-1"})
        assert r.status_code == 429 or r.status_code == 403
        assert "_auth_user_id" not in en_client.session

    def test_logout_is_post_only(self, staff_client):
        assert staff_client.get("/console/logout/").status_code == 405
        r = staff_client.post("/console/logout/")
        assert r.status_code == 302
        assert staff_client.get("/console/").status_code == 302


class TestStepUp:
    def test_password_marks_session_and_returns(self, en_client):
        u = builders.user("carol", "risk", password="carol-pass-1")
        en_client.force_login(u)
        r = en_client.post("/console/step-up/", {"secret": "carol-pass-1", "next": "/console/terminals/"})
        assert r.status_code == 302 and r["Location"] == "/console/terminals/"
        assert en_client.session[SESSION_KEY]

    def test_wrong_secret_is_422(self, en_client):
        u = builders.user("dave", "risk", password="dave-pass-1")
        en_client.force_login(u)
        r = en_client.post("/console/step-up/", {"secret": "nope", "next": "/console/"})
        assert r.status_code == 422
        assert SESSION_KEY not in en_client.session

    def test_totp_code_is_accepted(self, en_client):
        from django_otp.oath import totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        u = builders.user("erin", "risk")
        device = TOTPDevice.objects.create(user=u, name="phone", confirmed=True)
        en_client.force_login(u)
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
        r = en_client.post("/console/step-up/", {"secret": code, "next": "/console/"})
        assert r.status_code == 302

    def test_offsite_next_is_ignored(self, en_client):
        u = builders.user("fay", "risk", password="fay-pass-12")
        en_client.force_login(u)
        r = en_client.post("/console/step-up/", {"secret": "fay-pass-12", "next": "https://evil.example/"})
        assert r["Location"] == "/console/"


class TestConsoleActor:
    def test_actor_carries_session_step_up(self, rf):
        from django.contrib.sessions.backends.db import SessionStore

        from posfleet.accounts.stepup import mark_session
        from posfleet.web.staff import console_actor

        u = builders.user("gil", "risk")
        request = rf.get("/")
        request.user = u
        request.session = SessionStore()
        assert console_actor(request).is_stepped_up is False
        mark_session(request.session)
        a = console_actor(request)
        assert a.channel == "console" and a.role == "risk" and a.is_stepped_up
        assert a.stepped_up_at <= timezone.now()


class TestLanguage:
    def test_chinese_by_default(self, client):
        r = client.get("/console/login/")
        assert "登录".encode() in r.content

    def test_english_after_switching(self, client):
        r = client.post("/i18n/setlang/", {"language": "en", "next": "/console/login/"})
        assert r.status_code == 302
        r = client.get("/console/login/")
        assert b"Log in" in r.content


class TestConsoleLanguage:
    def test_staff_pages_in_chinese_by_default_and_english_after_switch(self, client):
        client.force_login(builders.user("lang1", "admin"))
        body = client.get("/console/terminals/").content.decode()
        assert "设备管理" in body and "全部状态" in body and 'lang="zh-hans"' in body
        r = client.post("/i18n/setlang/", {"language": "en", "next": "/console/terminals/"})
        assert r["Location"] == "/console/terminals/"
        body = client.get("/console/terminals/").content.decode()
        assert "Device management" in body and "设备管理" not in body and 'lang="en"' in body

    def test_domain_error_messages_translated(self, client):
        client.force_login(builders.user("lang2", "technician"))
        builders.terminal(tid="LANG0001")
        r = client.post("/console/terminals/LANG0001/holds/", {"kind": "fault", "reason": " "})
        assert r.status_code == 422
        assert "部分字段无效" in r.content.decode() or "必填" in r.content.decode()


class TestStepUpFinishesTheAction:
    def test_the_refused_post_is_carried_out_after_verifying(self, client):
        from posfleet.registry.models import Terminal

        u = builders.user("stepper", "risk", password="pw-for-tests-1")
        client.force_login(u)
        builders.terminal(tid="RES00001")
        r = client.post("/console/terminals/RES00001/apply/", {"action": "deactivate", "reason": "fraud"})
        assert r.status_code == 302 and r["Location"].startswith("/console/step-up/")
        r = client.post(r["Location"], {"secret": "pw-for-tests-1"})
        body = r.content.decode()
        assert r.status_code == 200 and 'action="/console/terminals/RES00001/apply/"' in body
        assert 'name="reason" value="fraud"' in body and "csrfmiddlewaretoken" in body
        assert Terminal.objects.get(tid="RES00001").state == "active"  # nothing done behind their back
        # The page posts the form itself; here the test client does.
        r = client.post("/console/terminals/RES00001/apply/", {"action": "deactivate", "reason": "fraud"})
        assert Terminal.objects.get(tid="RES00001").state == "deactivated"

    def test_without_a_pending_action_it_goes_back(self, client):
        u = builders.user("stepper2", "risk", password="pw-for-tests-1")
        client.force_login(u)
        r = client.post("/console/step-up/?next=/console/terminals/", {"secret": "pw-for-tests-1"})
        assert r.status_code == 302 and r["Location"] == "/console/terminals/"
