import pytest

from posfleet.keys import services
from posfleet.keys.models import KeyState, TerminalKey
from posfleet.registry.choices import TerminalState
from tests import builders as b
from tests.keys.builders import keyed_terminal

pytestmark = pytest.mark.django_db


def test_page_lists_pending_and_records_without_key_material(client, django_assert_max_num_queries, login):
    t, key = keyed_terminal()
    login("custodian", stepped_up=True)
    with django_assert_max_num_queries(12):
        r = client.get("/console/keys/", {"tid": t.tid})
    assert r.status_code == 200
    text = r.content.decode()
    assert key.kcv in text and t.tid in text
    assert bytes(key.wrapped_key).hex() not in text.lower()


def test_two_custodians_destroy_through_the_console(client, login):
    t, key = keyed_terminal()
    login("custodian", username="first", stepped_up=True)
    r = client.post("/console/keys/destroy/", {"tid": t.tid, "reason": "decommissioned"}, follow=True)
    assert r.status_code == 200
    assert "second custodian" in r.content.decode()
    # the same custodian cannot confirm
    r = client.post("/console/keys/destroy/", {"tid": t.tid, "reason": "me again"}, follow=True)
    assert "different key custodian" in r.content.decode()
    key.refresh_from_db()
    assert key.state == KeyState.LIVE
    client.logout()
    login("custodian", username="second", stepped_up=True)
    r = client.post("/console/keys/destroy/", {"tid": t.tid, "reason": "confirmed"}, follow=True)
    key.refresh_from_db()
    assert key.state == KeyState.DESTROYED
    assert "first" in r.content.decode() and "second" in r.content.decode()


def test_without_step_up_goes_to_step_up_page(client, login):
    t, _key = keyed_terminal()
    login("custodian")
    r = client.post("/console/keys/destroy/", {"tid": t.tid, "reason": "x"}, HTTP_REFERER="/console/keys/")
    assert r.status_code == 302 and r["Location"].startswith("/console/step-up/")
    assert TerminalKey.objects.get(pk=_key.pk).state == KeyState.LIVE


def test_non_custodian_cannot_post(client, login):
    t, _key = keyed_terminal()
    login("warehouse", stepped_up=True)
    r = client.post("/console/keys/destroy/", {"tid": t.tid, "reason": "x"})
    assert r.status_code == 403


def test_login_required(client):
    r = client.get("/console/keys/")
    assert r.status_code == 302 and "/console/login/" in r["Location"]


def test_nul_bytes_in_forms_are_not_a_server_error(client, login):
    t, _key = keyed_terminal()
    login("custodian", stepped_up=True)
    assert client.get("/console/keys/", {"tid": "T\x00"}).status_code == 200
    r = client.post("/console/keys/destroy/", {"tid": t.tid + "\x00", "reason": "a\x00b"})
    assert r.status_code == 302


def test_a_pending_request_is_withdrawn_through_the_console(client, login):
    t, _key = keyed_terminal()
    login("custodian", username="first", stepped_up=True)
    client.post("/console/keys/destroy/", {"tid": t.tid, "reason": "decommissioned"})
    r = client.post("/console/keys/cancel/", {"tid": t.tid, "reason": "wrong terminal"}, follow=True)
    assert r.redirect_chain == [(f"/console/keys/?tid={t.tid}", 302)]
    assert f"The destruction request for {t.tid} is withdrawn." in r.content.decode()
    assert services.pending_request(t) is None
    r = client.post("/console/keys/cancel/", {"tid": t.tid, "reason": "again"}, follow=True)
    assert "withdrawn" not in r.content.decode() and r.status_code == 200


def test_a_stock_terminal_is_rekeyed_through_the_console_once(client, login):
    t = b.terminal(TerminalState.IN_STOCK)
    login("custodian", stepped_up=True)
    r = client.post("/console/keys/rekey/", {"tid": t.tid.lower(), "reason": "refurbished"}, follow=True)
    key = TerminalKey.objects.get(terminal=t, state=KeyState.LIVE)
    assert f"{t.tid} has a new key (KCV {key.kcv})." in r.content.decode()
    r = client.post("/console/keys/rekey/", {"tid": t.tid, "reason": "again"}, follow=True)
    assert r.status_code == 200 and "has a new key" not in r.content.decode()
    assert TerminalKey.objects.filter(terminal=t).count() == 1


@pytest.mark.parametrize("action", ["destroy", "cancel", "rekey"])
def test_key_actions_are_post_only_and_for_custodians(client, login, action):
    t, _key = keyed_terminal()
    login("custodian", stepped_up=True)
    assert client.get(f"/console/keys/{action}/").status_code == 405
    client.logout()
    login("warehouse", stepped_up=True)
    assert client.post(f"/console/keys/{action}/", {"tid": t.tid, "reason": "x"}).status_code == 403
