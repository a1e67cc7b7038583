"""The cases API: the exact shapes of issue 4 §7, errors in the one error shape, and a closure by API."""

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from posfleet.accounts.models import ApiToken
from posfleet.cases.models import Case, Material
from tests import builders
from tests.cases import builders as cb

CHECKLIST = [
    "terminals_stopped",
    "money_cleared",
    "data_exported",
    "equipment_returned",
    "keys_destroyed",
    "money_settled",
    "account_closed",
]


class Api:
    def __init__(self, client, user, *, elevated=True):
        token, raw = ApiToken.issue(user, "test")
        if elevated:
            token.elevated_until = timezone.now() + timedelta(minutes=5)
            token.save()
        self.client, self.auth = client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path, **kw):
        return self.client.get(f"/api/v1{path}", **self.auth, **kw)

    def post(self, path, data=None, **kw):
        if "files" in kw:
            return self.client.post(f"/api/v1{path}", kw.pop("files"), **self.auth, **kw)
        return self.client.post(
            f"/api/v1{path}", data or {}, content_type="application/json", **self.auth, **kw
        )


def api(client, role="admin", **kw):
    return Api(client, builders.user(role=role), **kw)


def _closure(client):
    fleet = cb.lent_fleet(deposit_fen=50_000)
    m = fleet["merchant"]
    agent = api(client, "agent")
    r = agent.post(
        "/cases",
        {
            "kind": "closure",
            "merchant_id": m.pk,
            "terminals": [],
            "reason": "business_change",
            "channel": "branch",
        },
    )
    assert r.status_code == 201, r.content
    return fleet, r.json()["id"], agent


@pytest.mark.django_db
class TestFile:
    def test_201_shape(self, client):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        start = timezone.now() + timedelta(hours=1)
        r = api(client, "agent").post(
            "/cases",
            {
                "kind": "suspension",
                "merchant_id": m.pk,
                "terminals": [t.tid],
                "reason": "renovation_or_relocation",
                "note": "装修",
                "channel": "phone",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(days=3)).isoformat(),
                "planned_date": None,
            },
        )
        assert r.status_code == 201, r.content
        body = r.json()
        assert {"id", "state", "missing_materials"} <= set(body)
        assert body["state"] == "submitted"
        assert body["missing_materials"] == ["application_form", "business_licence_copy", "proof_of_identity"]
        assert Case.objects.get(pk=body["id"]).channel == "phone"

    def test_another_merchants_terminal_is_422(self, client):
        m, other = builders.merchant(), builders.merchant()
        t = builders.terminal(merchant_obj=other)
        r = api(client, "agent").post(
            "/cases", {"kind": "deactivation", "merchant_id": m.pk, "terminals": [t.tid], "reason": "fault"}
        )
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"
        assert "terminals" in r.json()["error"]["details"]
        assert Case.objects.count() == 0

    def test_past_dates_are_422(self, client):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        now = timezone.now()
        r = api(client, "agent").post(
            "/cases",
            {
                "kind": "suspension",
                "merchant_id": m.pk,
                "terminals": [t.tid],
                "reason": "maintenance",
                "starts_at": (now - timedelta(days=2)).isoformat(),
                "ends_at": (now - timedelta(days=1)).isoformat(),
            },
        )
        assert r.status_code == 422
        assert {"starts_at", "ends_at"} <= set(r.json()["error"]["details"])

    def test_no_token_is_401(self, client):
        assert client.post("/api/v1/cases", {}, content_type="application/json").status_code == 401


@pytest.mark.django_db
class TestMaterialsAndDecision:
    def test_upload_then_approve(self, client):
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        case = cb.file(kind="deactivation", merchant_id=m.pk, terminals=[t.tid])
        agent = api(client, "agent")
        for kind in ("application_form", "proof_of_identity"):
            r = agent.post(
                f"/cases/{case.pk}/materials",
                files={"type": kind, "file": SimpleUploadedFile("a.pdf", cb.PDF)},
            )
            assert r.status_code == 201, r.content
        assert r.json()["missing_materials"] == []
        assert r.json()["sha256"] == hashlib.sha256(cb.PDF).hexdigest()
        reviewer = api(client, "reviewer")
        assert reviewer.post(f"/cases/{case.pk}/decision", {"decision": "approve"}).status_code == 422
        r = reviewer.post(f"/cases/{case.pk}/decision", {"decision": "approve", "reason": "complete"})
        assert r.status_code == 200, r.content
        assert r.json()["state"] == "in_progress"
        assert [i["item"] for i in r.json()["checklist"]] == CHECKLIST[:-1]

    def test_wrong_type_and_oversize_are_422(self, client, settings):
        settings.CASE_MATERIAL_MAX_BYTES = 2048
        m = builders.merchant()
        case = cb.file(
            kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid]
        )
        agent = api(client, "agent")
        r = agent.post(
            f"/cases/{case.pk}/materials",
            files={"type": "photos", "file": SimpleUploadedFile("evil.png", b"<?php echo 1; ?>")},
        )
        assert r.status_code == 422 and "file" in r.json()["error"]["details"]
        r = agent.post(
            f"/cases/{case.pk}/materials",
            files={"type": "photos", "file": SimpleUploadedFile("big.png", cb.PNG + b"\x00" * 4096)},
        )
        assert r.status_code == 422
        assert Material.objects.count() == 0

    def test_portal_token_sees_only_own_cases(self, client):
        m, other = builders.merchant(), builders.merchant()
        theirs = cb.file(
            kind="deactivation", merchant_id=other.pk, terminals=[builders.terminal(merchant_obj=other).tid]
        )
        mine = cb.file(
            kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid]
        )
        portal = Api(client, cb.portal_actor(m).user)
        assert portal.get(f"/cases/{theirs.pk}").status_code == 404
        assert portal.get(f"/cases/{mine.pk}").status_code == 200
        assert [c["id"] for c in portal.get("/cases").json()["items"]] == [mine.pk]


@pytest.mark.django_db
class TestList:
    def test_filters_and_cursor(self, client):
        m = builders.merchant()
        ids = [
            cb.file(
                kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid]
            ).pk
            for _ in range(3)
        ]
        reviewer = api(client, "reviewer")
        page1 = reviewer.get(
            "/cases", data={"kind": "deactivation", "state": "submitted", "merchant_id": m.pk, "limit": 2}
        ).json()
        assert [c["id"] for c in page1["items"]] == ids[::-1][:2]
        page2 = reviewer.get(
            "/cases", data={"kind": "deactivation", "limit": 2, "cursor": page1["next_cursor"]}
        ).json()
        assert [c["id"] for c in page2["items"]] == [ids[0]] and page2["next_cursor"] is None
        assert reviewer.get("/cases", data={"state": "nope"}).status_code == 422


@pytest.mark.django_db
def test_closure_by_api(client, django_capture_on_commit_callbacks):
    fleet, case_id, agent = _closure(client)
    m, t1, t2, printer = fleet["merchant"], fleet["t1"], fleet["t2"], fleet["printer"]
    for kind in ("application_form", "business_licence_copy", "proof_of_identity", "settlement_card"):
        agent.post(
            f"/cases/{case_id}/materials", files={"type": kind, "file": SimpleUploadedFile("a.png", cb.PNG)}
        )
    reviewer = api(client, "reviewer")
    r = reviewer.post(f"/cases/{case_id}/decision", {"decision": "approve", "reason": "ok"})
    assert r.status_code == 200
    body = reviewer.get(f"/cases/{case_id}").json()
    assert {"id", "kind", "state", "checklist"} <= set(body)
    assert [i["item"] for i in body["checklist"]] == CHECKLIST
    assert all(set(i) == {"item", "ok", "why"} and not i["ok"] for i in body["checklist"])

    r = reviewer.post(f"/cases/{case_id}/complete")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "checklist_incomplete"
    assert [d["item"] for d in err["details"]] == CHECKLIST  # the deposit is still held

    assert (
        api(client, "reviewer", elevated=False).post(f"/cases/{case_id}/stop").json()["error"]["code"]
        == "step_up_required"
    )
    assert reviewer.post(f"/cases/{case_id}/stop").status_code == 200
    cb.settle_transactions(fleet["sale_day"])
    assert reviewer.post(f"/cases/{case_id}/statement").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        r = reviewer.post(f"/cases/{case_id}/export")
    assert r.status_code == 202
    r = reviewer.get(f"/cases/{case_id}/export")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["X-Content-SHA256"] == hashlib.sha256(r.content).hexdigest()

    warehouse = api(client, "warehouse")
    r = warehouse.post(
        f"/cases/{case_id}/returns",
        {
            "items": [
                {"item": f"terminal:{t1.tid}", "condition": "good"},
                {"item": "terminal:ZZZZ9999", "condition": "good"},
            ]
        },
    )
    assert r.status_code == 422
    r = warehouse.post(
        f"/cases/{case_id}/returns",
        {
            "items": [
                {"item": f"terminal:{t1.tid}", "condition": "good"},
                {"item": f"terminal:{t2.tid}", "condition": "good"},
                {"item": f"accessory:{printer.pk}", "condition": "damaged"},
            ]
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["returns"][2]["charge_fen"] == m.contract.damage_prices["printer"]

    cb.destroy_keys(t1.tid)
    cb.destroy_keys(t2.tid)
    finance = api(client, "finance")
    r = finance.post(f"/cases/{case_id}/refund", {"proof": "receipt 42"})
    assert r.status_code == 200, r.content
    assert r.json()["settlement"]["refund_fen"] > 0

    r = reviewer.post(f"/cases/{case_id}/complete")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "completed"
    assert all(i["ok"] for i in r.json()["checklist"])

    r = reviewer.get(f"/cases/{case_id}/letter.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = reviewer.get(f"/cases/{case_id}/archive.zip")
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert {"case.json", "timeline.json", "comments.json", "notices.json", "materials.json"} <= set(names)
    assert any(n.startswith("letters/") for n in names) and any(n.startswith("materials/") for n in names)


@pytest.mark.django_db
def test_comments_and_timeline(client):
    m = builders.merchant()
    case = cb.file(kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
    agent = api(client, "agent")
    r = agent.post(f"/cases/{case.pk}/comments", {"body": "merchant called", "kind": "call"})
    assert r.status_code == 201
    assert agent.post(f"/cases/{case.pk}/comments", {"body": " "}).status_code == 422
    items = agent.get(f"/cases/{case.pk}/timeline").json()["items"]
    assert [i["source"] for i in items] == ["audit", "comment"]


@pytest.mark.django_db
def test_filing_with_idempotency_key_is_not_repeated(client):
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    agent = api(client, "agent")
    body = {"kind": "deactivation", "merchant_id": m.pk, "terminals": [t.tid], "reason": "fault"}
    first = agent.post("/cases", body, HTTP_IDEMPOTENCY_KEY="file-1")
    again = agent.post("/cases", body, HTTP_IDEMPOTENCY_KEY="file-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"  # the handler takes no `response`; the replay says so
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_assign(client):
    m = builders.merchant()
    case = cb.file(kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
    reviewer_user = builders.user(role="reviewer")
    r = api(client, "reviewer").post(f"/cases/{case.pk}/assign", {"username": reviewer_user.username})
    assert r.status_code == 200 and r.json()["assignee"] == reviewer_user.username
    assert api(client, "reviewer").post(f"/cases/{case.pk}/assign", {"username": "ghost"}).status_code == 422
    assert api(client, "agent").post(f"/cases/{case.pk}/assign", {"username": None}).status_code == 403


@pytest.mark.django_db
def test_list_query_count_does_not_grow(client, django_assert_max_num_queries):
    m = builders.merchant()
    for _ in range(12):
        cb.file(kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid])
    reviewer = api(client, "reviewer")
    with django_assert_max_num_queries(10):
        r = reviewer.get("/cases", data={"limit": 50})
    assert len(r.json()["items"]) == 12


@pytest.mark.django_db
class TestIfMatch:
    """An action whose service checks the case's version gets the one `If-Match` names."""

    def _case(self):
        m = builders.merchant()
        return cb.file(
            kind="deactivation", merchant_id=m.pk, terminals=[builders.terminal(merchant_obj=m).tid]
        )

    @pytest.mark.parametrize(
        ("role", "action", "body"),
        [
            ("reviewer", "decision", {"decision": "reject", "reason": "incomplete"}),
            ("agent", "cancel", {"reason": "merchant withdrew"}),
        ],
    )
    def test_a_stale_version_is_409_and_the_current_one_acts(self, client, role, action, body):
        case = self._case()
        user = api(client, role)
        r = user.post(f"/cases/{case.pk}/{action}", body, HTTP_IF_MATCH=f'"{case.version + 1}"')
        assert r.status_code == 409 and r.json()["error"]["code"] == "stale_version"
        case.refresh_from_db()
        assert case.state == "submitted"
        r = user.post(f"/cases/{case.pk}/{action}", body, HTTP_IF_MATCH=f'W/"{case.version}"')
        assert r.status_code == 200, r.content
        assert r.json()["version"] == case.version + 1

    def test_a_malformed_one_is_422(self, client):
        case = self._case()
        r = api(client, "agent").post(f"/cases/{case.pk}/cancel", {"reason": "x"}, HTTP_IF_MATCH="v3")
        assert r.status_code == 422 and "If-Match" in r.json()["error"]["details"]

    def test_an_action_without_a_version_check_ignores_it(self, client):
        case = self._case()
        r = api(client, "reviewer").post(
            f"/cases/{case.pk}/assign", {"username": None}, HTTP_IF_MATCH='"999"'
        )
        assert r.status_code == 200, r.content
