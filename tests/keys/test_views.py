import pytest

from posfleet.keys.models import KeyState, TerminalKey
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
