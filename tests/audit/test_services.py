"""The audit chain: append-only, hash-linked, verified end to end, secrets scrubbed."""

import itertools
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from posfleet.audit import _write, chain, services
from posfleet.audit.models import AuditEvent
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor


def _record(n=3):
    with transaction.atomic():
        for i in range(n):
            record(
                Actor.system("cli"), Change("terminal", f"T{i}", "test.event", {"a": i}, {"a": i + 1}, "why")
            )


@pytest.mark.django_db
class TestRecord:
    def test_chain_links_and_verifies(self):
        _record(3)
        events = list(AuditEvent.objects.order_by("seq"))
        assert [e.seq for e in events] == [1, 2, 3]
        assert events[1].prev_hash == events[0].hash
        assert services.verify().ok

    @pytest.mark.django_db(transaction=True)
    def test_must_run_inside_a_transaction(self):
        with pytest.raises(RuntimeError):
            record(Actor.system(), Change("x", "1", "y"))

    def test_secrets_are_scrubbed(self):
        with transaction.atomic():
            record(
                Actor.system(), Change("merchant", "1", "m", None, {"settlement_card": "6222021234567890128"})
            )
        event = AuditEvent.objects.get()
        assert event.after == {"settlement_card": "[redacted]"}

    def test_model_refuses_update_and_delete(self):
        _record(1)
        event = AuditEvent.objects.get()
        with pytest.raises(RuntimeError):
            event.save()
        with pytest.raises(RuntimeError):
            event.delete()


@pytest.mark.django_db
class TestVerify:
    def test_names_the_first_broken_event(self):
        _record(4)
        if connection.vendor == "postgresql":
            with pytest.raises(Exception, match="append-only"), transaction.atomic():
                AuditEvent.objects.filter(seq=2).update(reason="tampered")
            return
        AuditEvent.objects.filter(seq=2).update(reason="tampered")
        result = services.verify()
        assert not result.ok
        assert result.first_broken == 2
        with pytest.raises(CommandError, match="#2"):
            call_command("audit_verify")

    def test_command_reports_intact_chain(self, capsys):
        _record(2)
        call_command("audit_verify")
        assert "intact: 2 events" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["bulk maintenance", "odd \x00object_id\x00 reason"])
def test_a_bulk_change_is_chained_like_single_events(reason):
    """Alike changes take the templated path (or fall back to the general one); either way the
    chain verifies and each event carries its own object id and the shared, scrubbed payload."""
    if "\x00" in reason and connection.vendor == "postgresql":
        pytest.skip("PostgreSQL text cannot hold NUL, so the marker can never reach it there")
    after = {"kind": "maintenance", "bulk": True, "secret": "s3cr3t"}
    with transaction.atomic():
        record(Actor.system("cli"), Change("terminal", "T0", "test.event", None, {"a": 1}, "first"))
        written = services.record(
            Actor.system("cli"),
            [Change("terminal", f"T{i}", "hold.place", None, after, reason) for i in range(1, 6)],
        )
    assert written == 5
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.object_id for e in events] == ["T0", "T1", "T2", "T3", "T4", "T5"]
    assert events[3].after == {"kind": "maintenance", "bulk": True, "secret": "[redacted]"}
    assert services.verify().ok


@pytest.mark.django_db
class TestManyEventsPath:
    """Several different changes in one call: on PostgreSQL one statement writes all their events."""

    def test_payloads_are_stored_as_hashed_and_read_back(self, django_assert_num_queries):
        changes = [
            Change("terminal", "T1", "t.x", None, {"state": "in_repair", "note": '停机 "quoted" \\ '}, "why"),
            Change("merchant", "7", "m.y", {"n": 1, "list": [1, None, "a"]}, None, "理由 'x'"),
            Change("terminal", "T2", "t.z", {}, {"nested": {"b": True, "n": -5}}, ""),
        ]
        _record(1)  # the chain head exists
        with transaction.atomic(), django_assert_num_queries(3):  # head locked, events, head moved
            assert record(Actor.system("cli"), changes) == 3
        events = list(AuditEvent.objects.filter(seq__gt=1).order_by("seq"))
        assert [(e.object_type, e.object_id, e.action, e.reason) for e in events] == [
            (c.object_type, c.object_id, c.action, c.reason) for c in changes
        ]
        assert [(e.before, e.after) for e in events] == [(c.before, c.after) for c in changes]
        assert AuditEvent.objects.filter(seq=events[0].seq, before__isnull=True).exists()  # SQL NULL
        assert services.verify().ok


@pytest.mark.django_db
class TestSingleEventPath:
    """One change: the path every audited single change takes (apply() on every console click)."""

    def test_payloads_are_stored_as_hashed_and_read_back(self):
        before = {"state": "active", "version": 3, "note": '停机 "quoted"'}
        with transaction.atomic():
            record(
                Actor.system("cli"), Change("terminal", "T1", "t.x", before, {"state": "in_repair"}, "why")
            )
        event = AuditEvent.objects.get()
        assert event.before == before and event.after == {"state": "in_repair"}
        assert services.verify().ok

    def test_a_str_subclass_takes_the_general_canonical_form(self):
        from django.utils.safestring import mark_safe

        args = ["0" * 64, 1, "2026-11-27T10:00:00.000000Z", "system", None, "n", "", "cli", "terminal", "T1"]
        assert chain.link_one(*args, "t.x", "null", "null", mark_safe("r"), "") is None
        with transaction.atomic():
            record(Actor.system(), Change("terminal", "T1", "t.x", None, None, mark_safe("Reason")))
        assert services.verify().ok

    def _record_with_head(self, head):
        with transaction.atomic(), connection.cursor() as cursor:
            services.record(
                Actor.system(), Change("terminal", "T9", "t.x"), at=timezone.now(), cursor=cursor, head=head
            )

    def test_a_stale_head_writes_nothing(self):
        _record(2)
        stale = (1, AuditEvent.objects.get(seq=1).hash)  # seq 2 exists already
        if connection.vendor != "sqlite":  # a head read elsewhere is never taken: it is locked here
            self._record_with_head(stale)
            assert AuditEvent.objects.count() == 3 and services.verify().ok
            return
        with pytest.raises(Exception):  # noqa: B017 - the duplicate seq, whichever error the driver raises
            self._record_with_head(stale)
        assert AuditEvent.objects.count() == 2
        assert services.verify().ok

    def test_a_head_that_moved_is_refused(self):
        if connection.vendor != "sqlite":
            pytest.skip("only SQLite takes a head read with the writer's lock")
        _record(2)
        with pytest.raises(RuntimeError, match="head moved"):
            self._record_with_head((5, "ab" * 32))  # seq 6 is free, but the head is at 2
        assert AuditEvent.objects.count() == 2
        assert services.verify().ok


def _bulk(n, *, reason="bulk maintenance", request_id="req-1", alongside=None):
    actor = Actor(kind="system", name="system", channel="cli", request_id=request_id)
    with transaction.atomic():
        record(Actor.system("cli"), Change("terminal", "T0", "test.event", None, {"a": 1}, "first"))
        return services.record_bulk(
            actor,
            "terminal",
            [f"T{i}" for i in range(1, n + 1)],
            "hold.place",
            after={"kind": "maintenance", "bulk": True},
            reason=reason,
            alongside=alongside,
        )


@pytest.mark.django_db
class TestBulkEvents:
    """A bulk change stores its first event whole and the others slim; readers see them whole."""

    def test_members_are_stored_slim_and_read_whole(self):
        assert _bulk(4) == 4
        stored = list(
            AuditEvent.objects.order_by("seq").values("seq", "after", "reason", "prev_hash", "batch_seq")
        )
        assert stored[1]["batch_seq"] is None and stored[1]["reason"] == "bulk maintenance"
        assert [r["batch_seq"] for r in stored[2:]] == [2, 2, 2]
        assert all(r["after"] is None and r["reason"] == "" and r["prev_hash"] == "" for r in stored[2:])
        events = list(AuditEvent.objects.order_by("seq"))
        assert [e.object_id for e in events] == ["T0", "T1", "T2", "T3", "T4"]
        for before, event in itertools.pairwise(events):
            assert event.prev_hash == before.hash
        assert all(e.after == {"kind": "maintenance", "bulk": True} for e in events[1:])
        assert all(e.reason == "bulk maintenance" and e.action == "hold.place" for e in events[1:])
        assert all(e.request_id == "req-1" for e in events[1:])
        assert services.verify().ok

    def test_a_member_read_alone_is_whole(self, django_assert_max_num_queries):
        _bulk(60)
        with django_assert_max_num_queries(2):  # the member, then its first event and its predecessor
            event = AuditEvent.objects.only("seq", "object_id", "after").get(object_id="T40")
        assert event.after == {"kind": "maintenance", "bulk": True} and event.reason == "bulk maintenance"
        assert event.prev_hash == AuditEvent.objects.get(object_id="T39").hash
        newest = AuditEvent.objects.filter(action="hold.place").order_by("-seq")[:2]
        assert [e.object_id for e in newest] == ["T60", "T59"]

    def test_a_stream_in_any_order_is_whole(self, django_assert_max_num_queries):
        _bulk(60)
        with django_assert_max_num_queries(2):  # the rows, then the first event and the boundaries
            events = list(AuditEvent.objects.order_by("-seq").iterator(chunk_size=25))
        assert len(events) == 61
        by_seq = {e.seq: e for e in events}
        for e in events[:-1]:
            assert e.reason in ("bulk maintenance", "first") and e.prev_hash == by_seq[e.seq - 1].hash

    def test_hashing_beside_the_change_in_chunks(self, monkeypatch):
        """SQLite hashes on a second thread, chunk by chunk, while the caller's write runs."""
        monkeypatch.setattr(_write, "HASH_CHUNK", 2)
        ran = []
        interval = sys.getswitchinterval()
        assert _bulk(7, alongside=lambda: ran.append(sys.getswitchinterval())) == 7
        assert len(ran) == 1 and sys.getswitchinterval() == interval  # shortened meanwhile, then restored
        if connection.vendor == "sqlite":
            assert ran[0] < interval
        assert AuditEvent.objects.count() == 8
        assert list(AuditEvent.objects.order_by("seq").values_list("object_id", flat=True))[-1] == "T7"
        assert services.verify().ok

    def test_an_error_in_the_change_writes_no_event(self, monkeypatch):
        monkeypatch.setattr(_write, "HASH_CHUNK", 2)

        def fail():
            raise ValueError("the change failed")

        interval = sys.getswitchinterval()
        with pytest.raises(ValueError, match="the change failed"):
            _bulk(5, alongside=fail)
        assert sys.getswitchinterval() == interval
        assert AuditEvent.objects.count() == 0
        assert services.verify().ok

    def test_a_tampered_first_event_breaks_the_chain_there(self):
        if connection.vendor == "postgresql":
            pytest.skip("PostgreSQL refuses the UPDATE (trigger): nothing to detect")
        _bulk(3)
        AuditEvent.objects.filter(seq=2).update(reason="tampered")
        result = services.verify()
        assert not result.ok and result.first_broken == 2

    def test_a_member_moved_to_another_change_breaks_the_chain(self):
        if connection.vendor == "postgresql":
            pytest.skip("PostgreSQL refuses the UPDATE (trigger): nothing to detect")
        _bulk(3)
        AuditEvent.objects.filter(seq=4).update(batch_seq=1)
        result = services.verify()
        assert not result.ok and result.first_broken == 4
