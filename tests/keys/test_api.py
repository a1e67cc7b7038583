import json

import pytest
from django.db import transaction

from posfleet.accounts.models import ApiToken
from posfleet.accounts.stepup import elevate_token
from posfleet.keys.models import TerminalKey
from posfleet.lifecycle.services import apply
from posfleet.registry.choices import TerminalState
from tests import builders as b
from tests.keys.builders import keyed_terminal

pytestmark = pytest.mark.django_db


def _token(role="custodian", *, elevated=True, username=""):
    u = b.user(username, role)
    token, raw = ApiToken.issue(u, "test")
    if elevated:
        elevate_token(token)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _destroy(client, tid, auth, reason="decommissioned"):
    return client.post(
        f"/api/v1/terminals/{tid}/keys/destroy",
        data=json.dumps({"reason": reason}),
        content_type="application/json",
        **auth,
    )


def test_dual_control_over_the_api(client):
    t, key = keyed_terminal()
    first, second = _token(username="cust1"), _token(username="cust2")
    r1 = _destroy(client, t.tid, first)
    assert r1.status_code == 202, r1.content
    assert r1.json()["state"] == "pending_second_custodian"
    again = _destroy(client, t.tid, first)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "same_custodian"
    r2 = _destroy(client, t.tid, second)
    assert r2.status_code == 200, r2.content
    assert r2.json()["state"] == "destroyed" and r2.json()["kcv"] == key.kcv
    meta = client.get(f"/api/v1/terminals/{t.tid}/keys", **first).json()
    assert meta["state"] == "destroyed" and meta["keys_destroyed"] is True
    rec = meta["destruction_records"][0]
    assert (rec["first_custodian"], rec["second_custodian"], rec["sn"]) == ("cust1", "cust2", t.sn)


def test_destroy_needs_step_up_and_custodian_role(client):
    t, _key = keyed_terminal()
    r = _destroy(client, t.tid, _token(elevated=False))
    assert r.status_code == 403 and r.json()["error"]["code"] == "step_up_required"
    r = _destroy(client, t.tid, _token("warehouse"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    r = _destroy(client, t.tid, _token(), reason="")
    assert r.status_code == 422
    assert _destroy(client, "NOPE0000", _token()).status_code == 404


def test_destroy_active_terminal_is_409(client):
    t, _key = keyed_terminal(TerminalState.ACTIVE)
    r = _destroy(client, t.tid, _token())
    assert r.status_code == 409 and r.json()["error"]["code"] == "terminal_not_decommissioned"


def test_key_material_never_in_any_api_response(client):
    t = b.terminal(TerminalState.ALLOCATED)
    with transaction.atomic():
        apply(b.actor("technician"), t.tid, "activate", reason="live")
    key = TerminalKey.objects.get(terminal=t)
    wrapped = bytes(key.wrapped_key)
    auth = _token("admin")
    bodies = [client.get(f"/api/v1/terminals/{t.tid}/keys", **auth).content]
    bodies.append(client.get(f"/api/v1/terminals/{t.tid}", **auth).content)
    bodies.append(client.get("/api/v1/audit?object_type=terminal_key", **auth).content)
    for body in bodies:
        text = body.decode()
        assert wrapped.hex() not in text.lower()
        assert wrapped.hex().upper() not in text
        import base64

        assert base64.b64encode(wrapped).decode() not in text
        assert "wrapped_key" not in text
    meta = json.loads(bodies[0])
    assert meta["kcv"] == key.kcv and meta["state"] == "live"


def test_rekey_over_the_api(client):
    t = b.terminal(TerminalState.IN_STOCK)
    r = client.post(
        f"/api/v1/terminals/{t.tid}/keys/rekey",
        data=json.dumps({"reason": "refurbished"}),
        content_type="application/json",
        **_token(),
    )
    assert r.status_code == 201 and len(r.json()["kcv"]) == 6
