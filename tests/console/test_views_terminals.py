import pytest
from django.contrib.auth.models import User

from posfleet.accounts.stepup import SESSION_KEY
from posfleet.lifecycle import eligibility
from posfleet.lifecycle.holds import place_hold
from posfleet.lifecycle.models import Hold
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from tests import builders

pytestmark = pytest.mark.django_db


def start_bulk(client, op, tids):
    r = client.post("/console/terminals/bulk/", {"op": op, "tid": tids, "return": "/console/terminals/"})
    assert r.status_code == 302, r.content
    return r["Location"]


class TestList:
    def test_lists_with_state_filter_and_search(self, en_client, login):
        login("admin")
        m = builders.merchant(name="Golden Noodles")
        builders.terminal(tid="AAAA0001", merchant_obj=m)
        builders.terminal(TerminalState.IN_STOCK, tid="BBBB0002")
        r = en_client.get("/console/terminals/")
        assert r.status_code == 200
        assert b"AAAA0001" in r.content and b"BBBB0002" in r.content
        assert b"help" in r.content
        r = en_client.get("/console/terminals/", {"state": "in_stock"})
        assert b"AAAA0001" not in r.content and b"BBBB0002" in r.content
        r = en_client.get("/console/terminals/", {"q": "noodles"})
        assert b"AAAA0001" in r.content and b"BBBB0002" not in r.content
        r = en_client.get("/console/terminals/", {"q": "bbbb0002"})
        assert b"BBBB0002" in r.content and b"AAAA0001" not in r.content

    def test_hold_filter(self, en_client, login):
        login("admin")
        held = builders.terminal(tid="HELD0001")
        builders.terminal(tid="FREE0001")
        place_hold(builders.actor("admin"), kind="fault", reason="broken", tid=held.tid)
        r = en_client.get("/console/terminals/", {"hold": "any"})
        assert b"HELD0001" in r.content and b"FREE0001" not in r.content
        r = en_client.get("/console/terminals/", {"hold": "none"})
        assert b"HELD0001" not in r.content and b"FREE0001" in r.content
        r = en_client.get("/console/terminals/", {"hold": "risk_freeze"})
        assert b"HELD0001" not in r.content

    def test_merchant_hold_counts_for_its_terminals(self, en_client, login):
        login("admin")
        m = builders.merchant()
        builders.terminal(tid="MHLD0001", merchant_obj=m)
        place_hold(builders.actor("admin"), kind="merchant_suspension", reason="unpaid", merchant_id=m.pk)
        r = en_client.get("/console/terminals/", {"hold": "merchant_suspension"})
        assert b"MHLD0001" in r.content

    def test_keyset_pages(self, en_client, monkeypatch, login):
        from posfleet.console import queries

        monkeypatch.setattr(queries, "PAGE_SIZE", 2)
        login("admin")
        m = builders.merchant()
        tids = [builders.terminal(tid=f"PAGE000{i}", merchant_obj=m).tid for i in range(5)]
        r = en_client.get("/console/terminals/")
        page = r.context["page"]
        assert [t.tid for t in page.rows] == tids[:2] and page.prev_before is None
        r = en_client.get("/console/terminals/", {"after": page.next_after})
        page = r.context["page"]
        assert [t.tid for t in page.rows] == tids[2:4]
        r = en_client.get("/console/terminals/", {"after": page.next_after})
        page = r.context["page"]
        assert [t.tid for t in page.rows] == tids[4:] and page.next_after is None
        r = en_client.get("/console/terminals/", {"before": page.prev_before})
        assert [t.tid for t in r.context["page"].rows] == tids[2:4]

    def test_htmx_gets_only_the_table(self, en_client, login):
        login("admin")
        builders.terminal(tid="HTMX0001")
        r = en_client.get("/console/terminals/", HTTP_HX_REQUEST="true")
        assert b"HTMX0001" in r.content and b"<html" not in r.content

    def test_query_count_is_pinned(self, en_client, django_assert_max_num_queries, login):
        login("admin")
        m = builders.merchant()
        for i in range(30):
            t = builders.terminal(tid=f"QC{i:06d}", merchant_obj=m)
            if i % 3 == 0:
                place_hold(builders.actor("admin"), kind="fault", reason="x", tid=t.tid)
        with django_assert_max_num_queries(10):
            r = en_client.get("/console/terminals/", {"q": "QC000001", "hold": "any", "state": "active"})
        assert r.status_code == 200
        with django_assert_max_num_queries(10):
            en_client.get("/console/terminals/", {"merchant": m.pk})

    def test_needs_view_fleet(self, en_client):
        u = User.objects.create_user("nobody", password="x-pass-12345")
        en_client.force_login(u)
        assert en_client.get("/console/terminals/").status_code == 403

    def test_operations_offered_follow_permissions(self, en_client, login):
        login("technician")
        ops = dict(en_client.get("/console/terminals/").context["operations"])
        assert "hold:fault" in ops and "apply:start_repair" in ops
        assert "apply:deactivate" not in ops and "hold:risk_freeze" not in ops


class TestBulk:
    def test_deactivate_asks_step_up_then_succeeds(self, en_client, login):
        login("risk", username="rita", password="rita-pass-1")
        t = builders.terminal(tid="DEAC0001")
        url = start_bulk(en_client, "apply:deactivate", [t.tid])
        r = en_client.get(url)
        assert r.status_code == 200 and b"DEAC0001" in r.content and r.context["needs_step_up"]
        r = en_client.post(url, {"reason": "fraud suspected"})
        assert r.status_code == 302 and r["Location"].startswith("/console/step-up/?next=")
        assert Terminal.objects.get(tid=t.tid).state == "active"
        r = en_client.post("/console/step-up/", {"secret": "rita-pass-1", "next": url})
        # Verified: the page sends the confirmation again by itself (the same fields), no second click.
        body = r.content.decode()
        assert f'action="{url}"' in body and 'name="reason" value="fraud suspected"' in body
        assert r.context["next"] == url
        r = en_client.post(url, {"reason": "fraud suspected"})
        assert r.status_code == 302 and r["Location"] == "/console/terminals/"
        assert Terminal.objects.get(tid=t.tid).state == "deactivated"
        assert eligibility.may_transact(t.tid).iso_response_code == "58"

    def test_bulk_hold_on_many_needs_step_up(self, en_client, login):
        login("technician")
        a, b = builders.terminal(tid="BULK0001"), builders.terminal(tid="BULK0002")
        url = start_bulk(en_client, "hold:fault", [a.tid, b.tid])
        r = en_client.post(url, {"reason": "network outage"})
        assert r.status_code == 302 and "/console/step-up/" in r["Location"]
        session = en_client.session
        from django.utils import timezone

        session[SESSION_KEY] = timezone.now().isoformat()
        session.save()
        r = en_client.post(url, {"reason": "network outage"})
        assert r.status_code == 302
        hold = Hold.objects.get(kind="fault", bulk=True)
        assert sorted(hold.links.values_list("terminal__tid", flat=True)) == [a.tid, b.tid]
        # On a terminal's page the bulk hold is listed, and released there for that terminal only.
        page = en_client.get(f"/console/terminals/{a.tid}/").content.decode()
        assert "Release for this terminal" in page and 'name="tid" value="BULK0001"' in page
        r = en_client.post(
            f"/console/holds/{hold.pk}/release/",
            {
                "reason": "fixed",
                "tid": a.tid,
                "version": hold.version,
                "next": f"/console/terminals/{a.tid}/",
            },
        )
        assert r.status_code == 302
        assert eligibility.may_transact(a.tid).allowed and not eligibility.may_transact(b.tid).allowed
        page = en_client.get(f"/console/terminals/{a.tid}/").content.decode()
        assert "for this terminal" in page and "Release for this terminal" not in page
        # The list's hold filter finds the terminal still under it, not the one released from it.
        listed = en_client.get("/console/terminals/?hold=fault").content.decode()
        assert b.tid in listed and a.tid not in listed
        listed = en_client.get("/console/terminals/?hold=none").content.decode()
        assert a.tid in listed and b.tid not in listed

    def test_invalid_transition_is_409_and_writes_nothing(self, en_client, login):
        login("risk", username="rob", password="rob-pass-12")
        t = builders.terminal(TerminalState.IN_STOCK, tid="STCK0001")
        en_client.post("/console/step-up/", {"secret": "rob-pass-12", "next": "/console/"})
        url = start_bulk(en_client, "apply:deactivate", [t.tid])
        r = en_client.post(url, {"reason": "x"})
        assert r.status_code == 409
        assert b"Cannot deactivate" in r.content
        assert Terminal.objects.get(tid=t.tid).state == "in_stock"

    def test_missing_reason_is_422(self, en_client, login):
        login("technician")
        t = builders.terminal(tid="RSN00001")
        url = start_bulk(en_client, "hold:fault", [t.tid])
        assert en_client.post(url, {"reason": ""}).status_code == 422
        assert not Hold.objects.exists()

    def test_operation_not_permitted_is_refused(self, en_client, login):
        login("technician")
        t = builders.terminal(tid="PERM0001")
        r = en_client.post("/console/terminals/bulk/", {"op": "apply:deactivate", "tid": [t.tid]})
        assert r.status_code == 302 and r["Location"] == "/console/terminals/"
        assert not en_client.session.get("posfleet_bulk")

    def test_empty_selection(self, en_client, login):
        login("admin")
        r = en_client.post("/console/terminals/bulk/", {"op": "hold:fault"})
        assert r.status_code == 302

    def test_unknown_key_is_404(self, en_client, login):
        login("admin")
        assert en_client.get("/console/terminals/bulk/nope/").status_code == 404
