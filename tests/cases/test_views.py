"""Console case screens: queues with SLA age, detail, review, comments, filing for a merchant, files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from posfleet.cases.models import Case
from posfleet.cases.views.actions import parse_yuan
from tests import builders
from tests.cases import builders as cb
from tests.portal.builders import merchant_user

pytestmark = pytest.mark.django_db


def suspension(m=None):
    m = m or builders.merchant()
    t = builders.terminal(merchant_obj=m)
    return cb.file(kind="suspension", merchant_id=m.pk, terminals=[t.tid])


class TestQueue:
    def test_oldest_first_with_sla_age(self, client, django_assert_max_num_queries, login):
        first, second = suspension(), suspension()
        Case.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=30))
        login("reviewer")
        with django_assert_max_num_queries(10):
            response = client.get("/console/cases/")
        assert response.status_code == 200
        rows = response.context["rows"]
        assert [r["case"].pk for r in rows] == [first.pk, second.pk]
        assert rows[0]["overdue"] and rows[0]["age_hours"] >= 30
        assert not rows[1]["overdue"]

    def test_query_count_does_not_grow_with_rows(self, client, django_assert_max_num_queries, login):
        for _ in range(12):
            suspension()
        login("reviewer")
        with django_assert_max_num_queries(10):
            response = client.get("/console/cases/?kind=suspension")
        assert len(response.context["rows"]) == 12

    def test_keyset_pagination(self, client, monkeypatch, login):
        from posfleet.cases.views import queue

        monkeypatch.setattr(queue, "PAGE", 2)
        cases = [suspension() for _ in range(3)]
        login("reviewer")
        page1 = client.get("/console/cases/")
        assert [r["case"].pk for r in page1.context["rows"]] == [c.pk for c in cases[:2]]
        after = page1.context["next_after"]
        page2 = client.get(f"/console/cases/?after={after}")
        assert [r["case"].pk for r in page2.context["rows"]] == [cases[2].pk]
        assert page2.context["next_after"] is None

    def test_filter_by_kind_and_state(self, client, login):
        suspension()
        login("reviewer")
        assert client.get("/console/cases/?kind=closure").context["rows"] == []
        assert len(client.get("/console/cases/?state=submitted").context["rows"]) == 1

    def test_bad_filter_is_a_clear_error(self, client, login):
        login("reviewer")
        assert client.get("/console/cases/?kind=bogus").status_code == 422

    def test_anonymous_and_portal_users_are_kept_out(self, client):
        assert client.get("/console/cases/").status_code == 302
        client.force_login(merchant_user())
        assert client.get("/console/cases/").status_code == 403


class TestDetailAndReview:
    def test_detail(self, client, django_assert_max_num_queries, login):
        case = suspension()
        cb.upload_required(case)
        login("reviewer")
        with django_assert_max_num_queries(40):
            response = client.get(f"/console/cases/{case.pk}/")
        assert response.status_code == 200
        assert response.context["can_review"]
        assert len(response.context["materials"]) == 3

    def test_unknown_case_is_404(self, client, login):
        login("reviewer")
        assert client.get("/console/cases/999999/").status_code == 404

    def test_approve(self, client, login):
        case = suspension()
        cb.upload_required(case)
        login("reviewer")
        response = client.post(
            f"/console/cases/{case.pk}/decide/",
            {"decision": "approve", "reason": "材料齐全", "version": case.version},
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.state == "approved"

    def test_need_materials(self, client, login):
        case = suspension()
        login("reviewer")
        response = client.post(
            f"/console/cases/{case.pk}/decide/", {"decision": "need_materials", "reason": "请补充营业执照"}
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.state == "needs_materials" and case.decision_reason == "请补充营业执照"

    def test_decision_without_reason_changes_nothing(self, client, login):
        case = suspension()
        login("reviewer")
        response = client.post(f"/console/cases/{case.pk}/decide/", {"decision": "reject", "reason": ""})
        assert response.status_code == 422
        case.refresh_from_db()
        assert case.state == "submitted"

    def test_agent_cannot_decide(self, client, login):
        case = suspension()
        login("agent")
        response = client.post(f"/console/cases/{case.pk}/decide/", {"decision": "reject", "reason": "no"})
        assert response.status_code == 403
        case.refresh_from_db()
        assert case.state == "submitted"

    def test_stale_version_is_a_conflict(self, client, login):
        case = suspension()
        cb.upload_required(case)
        login("reviewer")
        response = client.post(
            f"/console/cases/{case.pk}/decide/",
            {"decision": "approve", "reason": "ok", "version": case.version - 1 or 999},
        )
        assert response.status_code == 409

    def test_log_a_call(self, client, login):
        case = suspension()
        login("agent")
        response = client.post(
            f"/console/cases/{case.pk}/comment/", {"kind": "call", "text": "商户来电确认装修日期"}
        )
        assert response.status_code == 302
        comment = case.comments.get()
        assert comment.kind == "call" and not comment.visible_to_merchant

    def test_material_preview_and_archive(self, client, login):
        case = suspension()
        cb.upload_required(case)
        login("reviewer")
        material = case.materials.first()
        response = client.get(f"/console/cases/materials/{material.pk}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline")
        archive = client.get(f"/console/cases/{case.pk}/archive.zip")
        assert archive.status_code == 200 and archive.content[:2] == b"PK"


class TestFileForMerchant:
    def test_agent_files_a_phone_request(self, client, login):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        login("agent")
        assert client.get(f"/console/cases/new/?merchant={m.pk}&kind=deactivation").status_code == 200
        response = client.post(
            "/console/cases/new/",
            {
                "merchant": m.pk,
                "kind": "deactivation",
                "terminals": [t.tid],
                "reason": "technology_upgrade",
                "planned_date": timezone.localdate().isoformat(),
                "channel": "phone",
                "note": "电话申请",
            },
        )
        assert response.status_code == 302
        case = Case.objects.get()
        assert case.channel == "phone" and case.kind == "deactivation"

    def test_past_planned_date_is_refused(self, client, login):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        login("agent")
        response = client.post(
            "/console/cases/new/",
            {
                "merchant": m.pk,
                "kind": "deactivation",
                "terminals": [t.tid],
                "reason": "technology_upgrade",
                "planned_date": (timezone.localdate() - timedelta(days=3)).isoformat(),
                "channel": "fax",
            },
        )
        assert response.status_code == 422
        assert Case.objects.count() == 0

    def test_warehouse_may_not_file(self, client, login):
        login("warehouse")
        assert client.get("/console/cases/new/").status_code == 403


class TestParseYuan:
    @pytest.mark.parametrize(("raw", "fen"), [("1", 100), ("12.3", 1230), ("1,234.56", 123456), ("0.01", 1)])
    def test_ok(self, raw, fen):
        assert parse_yuan(raw) == fen

    @pytest.mark.parametrize("raw", ["", "0", "-1", "1.234", "abc", "1e3", "1.2.3"])
    def test_bad(self, raw):
        with pytest.raises(ValueError):
            parse_yuan(raw)


class TestTake:
    def test_reviewer_takes_a_case(self, client, login):
        case = suspension()
        me = login("reviewer")
        assert client.get(f"/console/cases/{case.pk}/").context["can_take"]
        assert client.post(f"/console/cases/{case.pk}/take/").status_code == 302
        case.refresh_from_db()
        assert case.assignee_id == me.pk
        assert not client.get(f"/console/cases/{case.pk}/").context["can_take"]

    def test_warehouse_cannot_take(self, client, login):
        case = suspension()
        login("warehouse")
        assert client.post(f"/console/cases/{case.pk}/take/").status_code == 403


class TestExportStatus:
    def test_partial_for_htmx_polling(self, client, login):
        case = suspension()
        login("reviewer")
        response = client.get(f"/console/cases/{case.pk}/export/status/", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert b"<html" not in response.content


class TestBadInput:
    @pytest.mark.parametrize("after", ["abc", "-5", "9" * 40])
    def test_queue_after(self, client, after, login):
        login("reviewer")
        assert client.get(f"/console/cases/?after={after}").status_code == 200

    def test_unknown_merchant_number(self, client, login):
        login("agent")
        response = client.get(f"/console/cases/new/?merchant={'9' * 30}&kind=closure")
        assert response.status_code == 200
        assert response.context.get("merchant") is None
