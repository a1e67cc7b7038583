"""Appeals in the portal (file one from a hold, see why it was rejected) and the console (file, review)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from posfleet.cases.models import Case
from posfleet.lifecycle.models import Hold
from tests import builders
from tests.cases import builders as cb
from tests.cases.test_appeals import appeal, freeze, with_materials
from tests.portal.builders import merchant_user

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes = cb.PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


class TestPortal:
    def test_the_home_page_offers_an_appeal_for_a_freeze_only(self, client):
        m = builders.merchant(kind="individual")
        t = builders.terminal(merchant_obj=m)
        hold = freeze(tid=t.tid)
        fault = freeze(tid=t.tid, kind="fault")
        client.force_login(merchant_user(m))
        page = client.get("/portal/").content.decode()
        assert f'?kind=appeal&amp;hold={hold.pk}"' in page
        assert f"hold={fault.pk}" not in page

    def test_file_an_appeal_with_its_materials_in_one_go(self, client):
        m = builders.merchant(kind="individual")
        t = builders.terminal(merchant_obj=m)
        hold = freeze(tid=t.tid)
        client.force_login(merchant_user(m))
        form = client.get(f"/portal/requests/new/?kind=appeal&hold={hold.pk}")
        assert form.status_code == 200 and form.context["form"]["hold"].value() == str(hold.pk)
        r = client.post(
            "/portal/requests/new/",
            {
                "kind": "appeal",
                "hold": hold.pk,
                "reason": "transactions_genuine",
                "note": "这些是正常的批发交易",
                "file_proof_of_identity": upload("id.pdf"),
                "file_transaction_evidence": upload("receipt.pdf"),
            },
        )
        assert r.status_code == 302, r.content.decode()[:2000]
        case = Case.objects.get(kind="appeal")
        assert case.hold_id == hold.pk and case.channel == "portal" and case.missing_materials() == []
        again = client.post("/portal/requests/new/", {"kind": "appeal", "hold": hold.pk, "reason": "other"})
        assert again.status_code == 409
        assert f"#{case.pk}" in again.content.decode()
        home = client.get("/portal/").content.decode()
        assert f'href="/portal/requests/{case.pk}/"' in home

    def test_nothing_to_appeal_says_so(self, client):
        m = builders.merchant()
        client.force_login(merchant_user(m))
        page = client.get("/portal/requests/new/?kind=appeal")
        assert page.status_code == 200 and b'id="no-appealable"' in page.content

    def test_a_rejected_appeal_shows_why_and_what_next(self, client):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        case = appeal(hold, m)
        cb.decide(case, "reject", builders.actor("risk"), reason="收据与交易不符")
        client.force_login(merchant_user(m))
        page = client.get(f"/portal/requests/{case.pk}/").content.decode()
        assert "收据与交易不符" in page and 'id="next-steps"' in page
        assert "internal" not in page.lower() and "account anomaly" not in page  # the internal note stays in


class TestConsole:
    def test_an_agent_files_an_appeal_for_a_caller(self, client, login):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        hold = freeze(tid=t.tid)
        login("agent")
        form = client.get(f"/console/cases/new/?merchant={m.pk}&kind=appeal")
        assert [c[0] for c in form.context["form"].fields["hold"].choices] == [hold.pk]
        r = client.post(
            "/console/cases/new/",
            {
                "merchant": m.pk,
                "kind": "appeal",
                "hold": hold.pk,
                "reason": "dispute_resolved",
                "channel": "phone",
            },
        )
        assert r.status_code == 302
        assert Case.objects.get(kind="appeal").channel == "phone"

    def test_the_queue_shows_appeals_with_their_sla(self, client, login):
        m = builders.merchant()
        case = appeal(freeze(merchant_id=m.pk), m)
        login("risk")
        page = client.get("/console/cases/?kind=appeal")
        assert [r["case"].pk for r in page.context["rows"]] == [case.pk]
        assert page.context["rows"][0]["sla_hours"] == 48

    def test_risk_reviews_and_approves_with_step_up(self, client, login):
        m = builders.merchant()
        hold = freeze(merchant_id=m.pk)
        case = with_materials(appeal(hold, m))
        login("reviewer")
        assert client.get(f"/console/cases/{case.pk}/").context["can_review"] is False
        login("risk")
        page = client.get(f"/console/cases/{case.pk}/")
        assert page.context["can_review"] is True and b'id="appealed-hold"' in page.content
        r = client.post(
            f"/console/cases/{case.pk}/decide/",
            {"decision": "approve", "reason": "ok", "version": case.version},
        )
        assert r.status_code == 302 and "/console/step-up/" in r["Location"]
        login("risk", stepped_up=True)
        r = client.post(
            f"/console/cases/{case.pk}/decide/",
            {"decision": "approve", "reason": "ok", "version": case.version},
        )
        assert r.status_code == 302
        assert Hold.objects.get(pk=hold.pk).released_at is not None
