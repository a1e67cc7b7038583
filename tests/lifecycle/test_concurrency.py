"""Many threads changing and checking one terminal (PostgreSQL): no lost update, the chain stays valid,
and no check that starts after a stop has committed says yes."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from posfleet.audit.models import AuditEvent
from posfleet.audit.services import verify
from posfleet.core.errors import DomainError
from posfleet.lifecycle import holds, services
from posfleet.lifecycle.eligibility import may_transact
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from tests import builders

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (PostgreSQL)"),
]


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


class TestConcurrentChanges:
    def test_no_lost_update_and_chain_valid(self):
        terminal = builders.terminal(TerminalState.ACTIVE)
        actor = builders.actor("admin")
        successes = []
        errors = []

        def worker(n):
            try:
                for i in range(15):
                    current = Terminal.objects.get(pk=terminal.pk)
                    action = "start_repair" if current.state == TerminalState.ACTIVE else "finish_repair"
                    try:
                        with transaction.atomic():
                            services.apply(
                                actor,
                                terminal.tid,
                                action,
                                reason=f"w{n}-{i}",
                                expected_version=current.version,
                            )
                        successes.append(action)
                    except DomainError:
                        pass  # stale version or a move no longer valid: refused, nothing written
                    try:
                        with transaction.atomic():
                            hold = holds.place_hold(actor, kind="fault", reason="t", tid=terminal.tid)
                            holds.release_hold(actor, hold.pk, reason="t")
                    except DomainError as exc:  # pragma: no cover - would be a bug
                        errors.append(exc)
            finally:
                connections.close_all()

        _run([threading.Thread(target=worker, args=(n,)) for n in range(6)])
        assert not errors
        terminal.refresh_from_db()
        assert terminal.version == 1 + len(successes)
        moves = AuditEvent.objects.filter(
            object_id=terminal.tid, action__in=["terminal.start_repair", "terminal.finish_repair"]
        )
        assert moves.count() == len(successes)
        assert verify().ok

    def test_no_yes_after_a_stop_commits(self):
        terminal = builders.terminal(TerminalState.ACTIVE)
        actor = builders.actor("admin")
        committed_at = []
        late_yes = []
        stop = threading.Event()

        def checker():
            try:
                while not stop.is_set():
                    started = time.monotonic()
                    allowed = may_transact(terminal.tid).allowed
                    if allowed and committed_at and started > committed_at[0]:
                        late_yes.append(started - committed_at[0])
            finally:
                connections.close_all()

        def stopper():
            try:
                time.sleep(0.2)
                with transaction.atomic():
                    services.apply(actor, terminal.tid, "deactivate", reason="stop now")
                committed_at.append(time.monotonic())
                time.sleep(0.3)
            finally:
                stop.set()
                connections.close_all()

        _run([threading.Thread(target=checker) for _ in range(4)] + [threading.Thread(target=stopper)])
        assert committed_at
        assert late_yes == []
        assert may_transact(terminal.tid).iso_response_code == "58"
