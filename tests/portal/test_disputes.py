"""Portal disputes: my disputes only, answering with text and documents, refusals in my language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from posfleet.audit.models import AuditEvent
from posfleet.core.actor import Actor
from posfleet.settlement import disputes
from posfleet.settlement.disputes import DisputeInput
from posfleet.settlement.models import Dispute, DisputeDocument, DisputeState
from tests import builders as b
from tests.portal.builders import merchant_user
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def dispute(merchant, *, kind="chargeback", amount_fen=10_000, due=None, state=DisputeState.OPEN):
    """An open dispute on a fresh sale of `merchant`, answered or resolved when `state` says so."""
    t = tx(merchant, amount_fen, at(days_ago(2)), tid="T0000042")
    system = Actor.system("cli")
    with transaction.atomic():
        d = disputes.open_dispute(
            b.actor("risk"), DisputeInput(t.pk, kind, "持卡人否认交易", due=due or timezone.localdate())
        )
        if state == DisputeState.ANSWERED:
            disputes.answer(system, d.pk, "签购单已提供")
        elif state in (DisputeState.WON, DisputeState.LOST):
            disputes.resolve(b.actor("risk"), d.pk, state, "发卡行撤回")
    return Dispute.objects.get(pk=d.pk)


@pytest.fixture
def shop(client):
    m = b.merchant()
    client.force_login(merchant_user(m))
    client.cookies["django_language"] = "en"  # the UI's default is Chinese; TestChinese switches back
    return m


def _events(d):
    return AuditEvent.objects.filter(object_type="dispute", object_id=str(d.pk))


class TestList:
    def test_only_my_disputes_newest_first(self, client, shop):
        older = dispute(shop)
        newer = dispute(shop, kind="retrieval_request")
        other = dispute(b.merchant())
        response = client.get("/portal/disputes/")
        assert response.status_code == 200
        ids = [row["d"].pk for row in response.context["rows"]]
        assert ids == [newer.pk, older.pk]
        body = response.content.decode()
        assert newer.transaction.switch_id in body and "T0000042" in body
        assert "100.00" in body
        assert other.transaction.switch_id not in body

    def test_state_filter_and_bad_state(self, client, shop):
        open_one = dispute(shop)
        won = dispute(shop, state=DisputeState.WON)
        response = client.get("/portal/disputes/?state=won")
        assert [row["d"].pk for row in response.context["rows"]] == [won.pk]
        assert open_one.transaction.switch_id not in response.content.decode()
        response = client.get("/portal/disputes/?state=nonsense")
        assert response.status_code == 422
        assert response.context["rows"] == []
        assert "Choose one of: open, answered, won, lost." in response.content.decode()

    def test_overdue_and_due_soon_are_marked(self, client, shop):
        overdue = dispute(shop)
        Dispute.objects.filter(pk=overdue.pk).update(due=timezone.localdate() - timedelta(days=1))
        soon = dispute(shop, due=timezone.localdate() + timedelta(days=1))
        later = dispute(shop, due=timezone.localdate() + timedelta(days=20))
        answered = dispute(shop, state=DisputeState.ANSWERED)
        Dispute.objects.filter(pk=answered.pk).update(due=timezone.localdate() - timedelta(days=1))
        response = client.get("/portal/disputes/")
        flags = {row["d"].pk: row["flag"] for row in response.context["rows"]}
        assert flags == {overdue.pk: "overdue", soon.pk: "due_soon", later.pk: "", answered.pk: ""}
        assert 'data-flag="overdue"' in response.content.decode()

    def test_query_count_does_not_grow(self, client, shop, django_assert_max_num_queries):
        for _ in range(3):
            dispute(shop)
        with django_assert_max_num_queries(8):
            response = client.get("/portal/disputes/")
        assert len(response.context["rows"]) == 3
        for _ in range(5):
            dispute(shop)
        with django_assert_max_num_queries(8):
            response = client.get("/portal/disputes/")
        assert len(response.context["rows"]) == 8

    def test_home_points_to_open_disputes(self, client, shop):
        assert b"open-disputes" not in client.get("/portal/").content
        dispute(shop)
        body = client.get("/portal/").content.decode()
        assert 'id="open-disputes"' in body and "/portal/disputes/?state=open" in body


class TestDetail:
    def test_my_dispute_shows_facts_and_form(self, client, shop):
        d = dispute(shop, amount_fen=12_345)
        response = client.get(f"/portal/disputes/{d.pk}/")
        assert response.status_code == 200
        body = response.content.decode()
        assert d.transaction.switch_id in body and "123.45" in body and "持卡人否认交易" in body
        assert 'id="answer-form"' in body and 'enctype="multipart/form-data"' in body

    def test_another_merchants_dispute_is_404(self, client, shop):
        other = dispute(b.merchant())
        assert client.get(f"/portal/disputes/{other.pk}/").status_code == 404
        response = client.post(f"/portal/disputes/{other.pk}/answer/", {"answer": "不是我的"})
        assert response.status_code == 404
        other.refresh_from_db()
        assert other.state == DisputeState.OPEN and other.answer == ""
        assert not _events(other).filter(action="dispute.answer").exists()

    def test_unknown_dispute_is_404(self, client, shop):
        assert client.get("/portal/disputes/999999/").status_code == 404

    def test_resolved_dispute_has_no_form_and_refuses_an_answer(self, client, shop):
        d = dispute(shop, state=DisputeState.WON)
        body = client.get(f"/portal/disputes/{d.pk}/").content.decode()
        assert 'id="answer-form"' not in body and 'id="resolution"' in body and "发卡行撤回" in body
        before = _events(d).count()
        response = client.post(f"/portal/disputes/{d.pk}/answer/", {"answer": "迟到的答复"})
        assert response.status_code == 409
        assert "The dispute is already resolved." in response.content.decode()
        d.refresh_from_db()
        assert d.state == DisputeState.WON and d.answer == ""
        assert _events(d).count() == before


class TestAnswer:
    def test_text_answer_moves_to_answered_and_is_audited(self, client, shop):
        d = dispute(shop)
        response = client.post(f"/portal/disputes/{d.pk}/answer/", {"answer": "  商品已签收，附物流单号  "})
        assert response.status_code == 302
        assert response["Location"] == f"/portal/disputes/{d.pk}/"
        d.refresh_from_db()
        assert d.state == DisputeState.ANSWERED and d.answer == "商品已签收，附物流单号"
        event = _events(d).get(action="dispute.answer")
        assert event.channel == "portal"
        body = client.get(response["Location"]).content.decode()
        assert "商品已签收" in body and "Your answer was sent." in body

    def test_document_is_stored(self, client, shop):
        d = dispute(shop)
        response = client.post(
            f"/portal/disputes/{d.pk}/answer/",
            {
                "answer": "",
                "files": [
                    SimpleUploadedFile("签购单.pdf", PDF, content_type="application/pdf"),
                    SimpleUploadedFile("receipt.pdf", PDF + b"2", content_type="application/pdf"),
                ],
            },
        )
        assert response.status_code == 302
        d.refresh_from_db()
        assert d.state == DisputeState.ANSWERED
        docs = list(DisputeDocument.objects.filter(dispute=d).order_by("id"))
        assert [(doc.name, doc.size, doc.content_type) for doc in docs] == [
            ("签购单.pdf", len(PDF), "application/pdf"),
            ("receipt.pdf", len(PDF) + 1, "application/pdf"),
        ]
        assert all(disputes.document_path(doc).read_bytes().startswith(b"%PDF-") for doc in docs)
        assert _events(d).filter(action="dispute.document", channel="portal").count() == 2
        body = client.get(f"/portal/disputes/{d.pk}/").content.decode()
        assert "签购单.pdf" in body and "receipt.pdf" in body

    def test_empty_answer_is_refused_and_nothing_written(self, client, shop):
        d = dispute(shop)
        before = _events(d).count()
        response = client.post(f"/portal/disputes/{d.pk}/answer/", {"answer": "   "})
        assert response.status_code == 422
        assert "Write an answer or attach a document." in response.content.decode()
        assert 'id="answer-form"' in response.content.decode()
        d.refresh_from_db()
        assert d.state == DisputeState.OPEN and d.answered_at is None
        assert _events(d).count() == before

    def test_wrong_file_type_is_refused_in_chinese_and_nothing_written(self, client, shop):
        d = dispute(shop)
        before = _events(d).count()
        client.cookies["django_language"] = "zh-hans"
        with translation.override("zh-hans"):
            response = client.post(
                f"/portal/disputes/{d.pk}/answer/",
                {
                    "answer": "见附件",
                    "files": [
                        SimpleUploadedFile("slip.pdf", b"GIF89a not a pdf", content_type="application/pdf")
                    ],
                },
                HTTP_ACCEPT_LANGUAGE="zh-hans",
            )
        assert response.status_code == 422
        body = response.content.decode()
        assert "PDF、JPEG" in body and "见附件" in body  # the message, and my text kept in the form
        d.refresh_from_db()
        assert d.state == DisputeState.OPEN and d.answer == ""
        assert not DisputeDocument.objects.filter(dispute=d).exists()
        assert _events(d).count() == before

    def test_oversize_file_is_refused(self, client, shop, monkeypatch):
        monkeypatch.setattr(disputes, "MAX_DOCUMENT_BYTES", 100)
        d = dispute(shop)
        response = client.post(
            f"/portal/disputes/{d.pk}/answer/",
            {"files": [SimpleUploadedFile("big.pdf", PDF + b"x" * 200, content_type="application/pdf")]},
        )
        assert response.status_code == 422
        assert "The file is too large." in response.content.decode()
        assert not DisputeDocument.objects.filter(dispute=d).exists()

    def test_get_on_answer_is_not_allowed(self, client, shop):
        d = dispute(shop)
        assert client.get(f"/portal/disputes/{d.pk}/answer/").status_code == 405


class TestAccess:
    @pytest.mark.parametrize("path", ["/portal/disputes/", "/portal/disputes/{pk}/"])
    def test_staff_and_anonymous_go_to_the_portal_login(self, path):
        d = dispute(b.merchant())
        url = path.format(pk=d.pk)
        staff = Client()
        staff.force_login(b.user(role="risk"))
        for c in (staff, Client()):
            c.cookies["django_language"] = "en"
            response = c.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/portal/login/")

    def test_staff_post_is_redirected_and_writes_nothing(self):
        d = dispute(b.merchant())
        staff = Client()
        staff.force_login(b.user(role="risk"))
        response = staff.post(f"/portal/disputes/{d.pk}/answer/", {"answer": "staff"})
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/")
        d.refresh_from_db()
        assert d.state == DisputeState.OPEN


class TestChinese:
    def test_pages_render_in_chinese(self, client, shop):
        d = dispute(shop)
        client.cookies["django_language"] = "zh-hans"
        with translation.override("zh-hans"):
            listing = client.get("/portal/disputes/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
            detail = client.get(f"/portal/disputes/{d.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
            home = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "拒付" in listing and "截止日期" in listing and "Disputes" not in listing
        assert "提交答复" in detail and "暂扣" in detail
        assert "待答复" in home

    def test_refusals_in_chinese(self, client, shop):
        d = dispute(shop)
        won = dispute(shop, state=DisputeState.WON)
        client.cookies["django_language"] = "zh-hans"
        with translation.override("zh-hans"):
            empty = client.post(f"/portal/disputes/{d.pk}/answer/", {"answer": ""})
            late = client.post(f"/portal/disputes/{won.pk}/answer/", {"answer": "迟到的应答"})
        assert empty.status_code == 422 and "请填写答复或上传材料。" in empty.content.decode()
        assert late.status_code == 409 and "该争议已处理完毕。" in late.content.decode()
