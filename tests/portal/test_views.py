"""Portal shell: sign-in (merchants only), my terminals with the live eligibility answer, holds."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from posfleet.core.actor import Actor
from posfleet.lifecycle.holds import place_hold
from posfleet.registry.choices import TerminalState
from tests import builders
from tests.portal.builders import PASSWORD, merchant_user

pytestmark = pytest.mark.django_db


class TestLogin:
    def test_merchant_user_signs_in_and_lands_on_home(self, client):
        u = merchant_user()
        response = client.post("/portal/login/", {"username": u.username, "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/portal/"

    def test_staff_user_is_refused_with_a_clear_message(self, client):
        staff = builders.user("reviewer1", role="reviewer")
        response = client.post("/portal/login/", {"username": staff.username, "password": PASSWORD})
        assert response.status_code == 400
        assert response.context["form"].has_error("__all__", code="not_merchant")
        client.cookies["django_language"] = "en"
        english = client.post("/portal/login/", {"username": staff.username, "password": PASSWORD})
        assert b"This sign-in is for merchants" in english.content
        assert "_auth_user_id" not in client.session

    def test_wrong_password_is_refused(self, client):
        u = merchant_user()
        response = client.post("/portal/login/", {"username": u.username, "password": "nope-nope"})
        assert response.status_code == 400
        assert "_auth_user_id" not in client.session

    def test_lockout_after_repeated_failures(self, client, settings):
        u = merchant_user()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/portal/login/", {"username": u.username, "password": "wrong-wrong"})
        response = client.post("/portal/login/", {"username": u.username, "password": PASSWORD})
        assert response.status_code in (403, 429)
        assert "_auth_user_id" not in client.session

    def test_next_outside_the_portal_is_ignored(self, client):
        u = merchant_user()
        response = client.post(
            "/portal/login/", {"username": u.username, "password": PASSWORD, "next": "https://evil.example/"}
        )
        assert response["Location"] == "/portal/"

    def test_logout(self, client):
        client.force_login(merchant_user())
        response = client.post("/portal/logout/")
        assert response.status_code == 302
        assert client.get("/portal/").status_code == 302


class TestGate:
    def test_anonymous_goes_to_portal_login(self, client):
        response = client.get("/portal/")
        assert response.status_code == 302
        assert response["Location"].startswith("/portal/login/?next=")

    def test_staff_session_is_not_a_portal_session(self, client):
        client.force_login(builders.user(role="admin"))
        response = client.get("/portal/")
        assert response.status_code == 302
        assert response["Location"].startswith("/portal/login/")


class TestHome:
    def test_lists_only_my_terminals_with_eligibility(self, client, django_assert_max_num_queries):
        m = builders.merchant()
        mine = [builders.terminal(merchant_obj=m) for _ in range(3)]
        other = builders.terminal()
        held = mine[0]
        place_hold(Actor.system("cli"), kind="merchant_suspension", reason="shop closed", tid=held.tid)
        client.force_login(merchant_user(m))
        with django_assert_max_num_queries(20):
            response = client.get("/portal/")
        assert response.status_code == 200
        body = response.content.decode()
        for t in mine:
            assert t.tid in body
        assert other.tid not in body
        rows = {row["terminal"].tid: row["answer"] for row in response.context["rows"]}
        assert rows[held.tid].iso_response_code == "58"
        assert rows[mine[1].tid].allowed
        assert len(response.context["holds"]) == 1

    def test_a_bulk_hold_lists_my_terminals_under_it(self, client):
        from django.db import transaction

        from posfleet.lifecycle.holds import place_bulk

        m = builders.merchant()
        mine = [builders.terminal(merchant_obj=m) for _ in range(2)]
        others = [builders.terminal() for _ in range(2)]
        with transaction.atomic():
            place_bulk(Actor.system("cli"), kind="maintenance", reason="upgrade", terminals=[*mine, *others])
        client.force_login(merchant_user(m))
        response = client.get("/portal/")
        [entry] = response.context["holds"]
        assert entry["hold"].bulk and entry["tids"] == sorted(t.tid for t in mine)
        body = response.content.decode()
        assert ", ".join(sorted(t.tid for t in mine)) in body and others[0].tid not in body

    def test_upcoming_hold_is_shown_not_in_force(self, client):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        start = timezone.now() + timedelta(days=1)
        place_hold(
            Actor.system("cli"),
            kind="merchant_suspension",
            reason="renovation",
            tid=t.tid,
            starts_at=start,
            ends_at=start + timedelta(days=2),
        )
        client.force_login(merchant_user(m))
        response = client.get("/portal/")
        assert response.context["holds"][0]["in_force"] is False
        assert response.context["rows"][0]["answer"].allowed

    def test_deactivated_terminal_may_not_transact(self, client):
        m = builders.merchant()
        builders.terminal(TerminalState.DEACTIVATED, merchant_obj=m)
        client.force_login(merchant_user(m))
        response = client.get("/portal/")
        assert not response.context["rows"][0]["answer"].allowed

    def test_chinese_page(self, client):
        from django.utils import translation

        client.force_login(merchant_user())
        with translation.override("zh-hans"):
            response = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200
        body = response.content.decode()
        assert "我的终端" in body and "商户服务平台" in body

    def test_a_hold_in_force_reads_yes_not_may_transact(self, client):
        from django.db import transaction

        m = builders.merchant()
        t = builders.terminal(TerminalState.ACTIVE, merchant_obj=m)
        with transaction.atomic():
            place_hold(Actor.system("cli"), kind="maintenance", reason="test", tid=t.tid)
        client.force_login(merchant_user(m))
        body = client.get("/portal/").content.decode()
        assert "<td>是</td>" in body


def _letter(merchant_obj, settings, name="letter.pdf"):
    from pathlib import Path

    from posfleet.notices.models import Notice

    folder = Path(settings.VAR_DIR) / "files" / "letters"
    folder.mkdir(parents=True, exist_ok=True)
    data = b"%PDF-1.4 test letter"
    (folder / name).write_bytes(data)
    n = Notice.objects.count() + 1
    return Notice.objects.create(
        merchant=merchant_obj,
        kind="letter",
        title="确认函",
        code_hash=f"{n:064d}",
        code_hint="AB",
        phone_last4="8000",
        pdf_path=name,
        pdf_sha256=hashlib.sha256(data).hexdigest(),
    )


class TestNotices:
    def test_lists_only_my_notices(self, client, settings, django_assert_max_num_queries):
        m = builders.merchant()
        mine = _letter(m, settings, "a.pdf")
        theirs = _letter(builders.merchant(), settings, "b.pdf")
        client.force_login(merchant_user(m))
        with django_assert_max_num_queries(8):
            response = client.get("/portal/notices/")
        assert response.status_code == 200
        assert [n.pk for n in response.context["notices"]] == [mine.pk]
        assert theirs.pk not in [n.pk for n in response.context["notices"]]

    def test_download_my_letter(self, client, settings):
        m = builders.merchant()
        letter = _letter(m, settings)
        client.force_login(merchant_user(m))
        response = client.get(f"/portal/notices/{letter.pk}/pdf/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")

    def test_another_merchants_letter_is_not_found(self, client, settings):
        letter = _letter(builders.merchant(), settings)
        client.force_login(merchant_user())
        assert client.get(f"/portal/notices/{letter.pk}/pdf/").status_code == 404

    def test_path_outside_the_letters_folder_is_refused(self, client, settings):
        m = builders.merchant()
        letter = _letter(m, settings)
        type(letter).objects.filter(pk=letter.pk).update(pdf_path="../../../etc/passwd")
        client.force_login(merchant_user(m))
        assert client.get(f"/portal/notices/{letter.pk}/pdf/").status_code == 404

    def test_statement_bad_dates(self, client):
        client.force_login(merchant_user())
        response = client.get("/portal/statement.csv?from=x&to=y")
        assert response.status_code == 302

    def test_verify_help_page(self, client):
        client.force_login(merchant_user())
        assert client.get("/portal/verify/").status_code == 200


@pytest.mark.django_db
def test_statement_period_is_checked_by_the_service(client):
    from django.contrib.messages import get_messages

    client.force_login(merchant_user())
    client.cookies["django_language"] = "en"
    response = client.get("/portal/statement.csv?from=2026-11-20&to=2026-11-10")
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["The end must not be before the start."]
