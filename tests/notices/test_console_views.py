"""Console and portal pages of the notices: deliveries on a notice, the call queue, fraud reports."""

from __future__ import annotations

import pytest
from django.db import transaction

from posfleet.lifecycle import holds
from posfleet.notices.models import FraudReport
from tests import builders


@pytest.mark.django_db
def test_a_notice_shows_its_deliveries_and_the_dashboard_counts_fraud_reports(
    client, login, django_capture_on_commit_callbacks
):
    t = builders.terminal()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        hold = holds.place_hold(
            builders.actor("admin"), kind="risk_freeze", reason="internal R1", tid=t.tid,
            reason_category="account_anomaly",
        )  # fmt: skip
    notice = hold.notices[0]
    login("admin")
    page = client.get(f"/console/notices/{notice.pk}/").content.decode()
    assert 'id="deliveries"' in page and "13800138000" in page and "Account anomaly" in page
    assert "internal R1" not in page
    assert client.get("/console/notices/").status_code == 200
    calls = client.get("/console/notices/calls/").content.decode()
    assert "never ask for card numbers" in calls  # the page's rule
    assert "切勿索要卡号、密码或PIN" in calls  # the script, in the merchant's language
    r = client.post(
        "/console/notices/fraud/new/", {"caller_number": "110", "channel": "sms", "claimed": "fee due"}
    )
    assert r.status_code == 302 and FraudReport.objects.count() == 1
    assert 'id="fraud-count"' in client.get("/console/").content.decode()


@pytest.mark.django_db
def test_the_portal_lists_the_stop_with_reason_and_code_and_files_a_fraud_report(client):
    from posfleet.accounts.models import MerchantUser

    t = builders.terminal()
    with transaction.atomic():
        hold = holds.place_hold(
            builders.actor("admin"), kind="risk_freeze", reason="internal R1", tid=t.tid,
            reason_category="account_anomaly",
        )  # fmt: skip
    u = builders.user(role="agent")
    u.groups.clear()
    MerchantUser.objects.create(user=u, merchant_id=t.merchant_id)
    client.force_login(u)
    page = client.get("/portal/notices/").content.decode()
    assert hold.notices[0].clear_code in page and "Account anomaly" in page and t.tid in page
    assert "internal R1" not in page
    r = client.post(
        "/portal/verify/report/", {"caller_number": "95xxx", "channel": "phone", "claimed": "stop"}
    )
    assert r.status_code == 302
    assert FraudReport.objects.get().merchant_id == t.merchant_id


@pytest.mark.django_db
def test_the_notice_lists_take_as_many_queries_for_many_notices_as_for_one(client, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.api.builders import Api

    def freeze():
        t = builders.terminal()
        with transaction.atomic():
            holds.place_hold(builders.actor("admin"), kind="fault", reason="x", tid=t.tid)

    api = Api("admin")
    login("admin")
    freeze()
    api.get("/notices"), client.get("/console/notices/")  # first requests warm the session and token
    with CaptureQueriesContext(connection) as one_api:
        assert api.get("/notices").status_code == 200
    with CaptureQueriesContext(connection) as one_page:
        assert client.get("/console/notices/").status_code == 200
    for _ in range(4):
        freeze()
    with CaptureQueriesContext(connection) as many_api:
        assert len(api.get("/notices").json()["items"]) == 5
    with CaptureQueriesContext(connection) as many_page:
        client.get("/console/notices/")
    assert len(many_api) == len(one_api)
    assert len(many_page) == len(one_page)
