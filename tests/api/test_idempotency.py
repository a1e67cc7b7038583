"""Idempotency-Key on POST: replay, reuse with another body, scope, errors not stored."""

from __future__ import annotations

import pytest

from posfleet.api.idempotency import idempotent
from posfleet.api.models import IdempotencyRecord
from posfleet.audit.models import AuditEvent
from posfleet.lifecycle.models import Hold
from posfleet.lifecycle.schemas import ReasonIn
from posfleet.registry.models import Merchant
from tests import builders as b
from tests.api.builders import Api, merchant_body

pytestmark = pytest.mark.django_db
KEY = {"Idempotency-Key": "create-noodles-1"}


def test_same_key_same_body_replays_without_a_second_effect():
    api = Api("agent")
    first = api.post("/merchants", merchant_body(), **KEY)
    assert first.status_code == 201
    events = AuditEvent.objects.count()
    again = api.post("/merchants", merchant_body(), **KEY)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Merchant.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_the_stored_body_is_the_first_response_as_sent():
    """The handler returns a model instance; the record keeps what its response schema made of it."""
    first = Api("agent").post("/merchants", merchant_body(), **KEY)
    assert first.status_code == 201
    assert IdempotencyRecord.objects.get().body == first.json()


def test_same_key_other_body_is_422_idempotency_key_reused():
    api = Api("agent")
    assert api.post("/merchants", merchant_body(), **KEY).status_code == 201
    r = api.post("/merchants", merchant_body(name="Another shop"), **KEY)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert Merchant.objects.count() == 1


def test_key_is_scoped_to_user_and_path():
    api, other = Api("agent"), Api("agent")
    assert api.post("/merchants", merchant_body(), **KEY).status_code == 201
    assert other.post("/merchants", merchant_body(), **KEY).status_code == 201
    assert Merchant.objects.count() == 2
    m = Merchant.objects.first()
    assert m is not None
    r = api.post(f"/merchants/{m.pk}/holds", {"kind": "merchant_suspension", "reason": "x"}, **KEY)
    assert r.status_code == 201
    assert IdempotencyRecord.objects.count() == 3


def test_failed_request_is_not_stored_and_may_be_retried():
    api = Api("technician")
    t = b.terminal("active")
    r = api.post(f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "  "}, **KEY)
    assert r.status_code == 422
    assert not IdempotencyRecord.objects.exists()
    r = api.post(f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "screen"}, **KEY)
    assert r.status_code == 201
    again = api.post(f"/terminals/{t.tid}/holds", {"kind": "fault", "reason": "screen"}, **KEY)
    assert again.json()["id"] == r.json()["id"]
    assert Hold.objects.count() == 1


def test_replayed_action_returns_first_response_not_409():
    api = Api("admin")
    t = b.terminal("active")
    first = api.post(f"/terminals/{t.tid}/start_repair", {"reason": "x"}, **KEY)
    again = api.post(f"/terminals/{t.tid}/start_repair", {"reason": "x"}, **KEY)
    assert first.status_code == again.status_code == 200
    assert again.json()["state"] == "in_repair"
    plain = api.post(f"/terminals/{t.tid}/start_repair", {"reason": "x"})
    assert plain.status_code == 409


def test_import_by_multipart_replays():
    b.terminal_model("P2000")
    api = Api("warehouse")
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = b"tid,sn,model,firmware_version,security_patch_level\nE0000001,SNE1,P2000,1.0,2026-01-01\n"

    def send(data: bytes) -> object:
        upload = SimpleUploadedFile("r.csv", data, content_type="text/csv")
        return api.client.post("/api/v1/terminals/import", {"file": upload}, headers=api.headers(KEY))

    assert send(body).status_code == 201
    again = send(body)
    assert again.status_code == 201
    assert again.json()["imported"] == 1
    other = send(body.replace(b"E0000001", b"E0000002"))
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_overlong_key_is_422():
    r = Api("agent").post("/merchants", merchant_body(), **{"Idempotency-Key": "k" * 201})
    assert r.status_code == 422
    assert not Merchant.objects.exists()


def test_purge_removes_old_records():
    from datetime import timedelta

    from django.utils import timezone

    from posfleet.api.idempotency import purge

    api = Api("agent")
    api.post("/merchants", merchant_body(), **KEY)
    assert purge(timezone.now() - timedelta(days=1)) == 0
    assert purge(timezone.now() + timedelta(seconds=1)) == 1


def test_decorator_keeps_postponed_annotations_resolvable():
    """Handlers in modules with `from __future__ import annotations` keep their real parameter types."""
    import inspect

    def handler(request, payload: ReasonIn) -> None: ...

    handler.__annotations__["payload"] = "ReasonIn"  # as postponed evaluation stores it
    wrapped = idempotent(handler)
    assert inspect.signature(wrapped).parameters["payload"].annotation is ReasonIn


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_with_one_key_have_one_effect():
    """Two clients race with the same key: one merchant is created; the loser gets the replay or 409."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs a server database (PostgreSQL)")
    api = Api("agent")
    b.merchant()  # the default contract template exists (its first creation races: see the report)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def race() -> None:
        from django.db import connections

        try:
            barrier.wait()
            statuses.append(api.post("/merchants", merchant_body(), **KEY).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Merchant.objects.filter(name=merchant_body()["name"]).count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert 201 in statuses
    assert set(statuses) <= {201, 409}


def test_stored_body_accepts_nested_schemas_and_dates():
    from datetime import date
    from decimal import Decimal

    from posfleet.api.idempotency import _jsonable
    from posfleet.lifecycle.schemas import ReasonIn

    data = {"items": [ReasonIn(reason="x")], "on": date(2026, 1, 2), "rate": Decimal("0.6")}
    assert _jsonable(data) == {"items": [{"reason": "x"}], "on": "2026-01-02", "rate": "0.6"}


def test_daily_task_purges_records_older_than_a_week():
    from datetime import timedelta

    from django.utils import timezone

    from posfleet.api.tasks import purge_idempotency_records

    api = Api("agent")
    api.post("/merchants", merchant_body(), **KEY)
    api.post("/merchants", merchant_body(name="Other"), **{"Idempotency-Key": "second"})
    IdempotencyRecord.objects.filter(key=KEY["Idempotency-Key"]).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    assert purge_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["second"]
