"""Custodians racing on one terminal (PostgreSQL): at most one pending request, one destruction record."""

import threading

import pytest
from django.db import connection, connections, transaction

from posfleet.audit.services import verify
from posfleet.core.errors import DomainError
from posfleet.keys import services
from posfleet.keys.models import DestructionRecord, DestructionRequest, KeyState, TerminalKey
from tests.keys.builders import custodian, keyed_terminal

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (PostgreSQL)"),
]


def test_racing_requests_and_confirmations():
    t, key = keyed_terminal()
    actors = [custodian(f"c{n}") for n in range(4)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(actors))

    def worker(actor):
        try:
            barrier.wait(timeout=30)
            for _ in range(2):
                try:
                    with transaction.atomic():
                        outcomes.append(services.destroy(actor, t.tid, "race").state)
                except DomainError as exc:
                    outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(a,)) for a in actors]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)

    assert outcomes.count("pending_second_custodian") == 1
    assert outcomes.count("destroyed") == 1
    assert DestructionRecord.objects.count() == 1
    assert DestructionRequest.objects.count() == 1
    assert TerminalKey.objects.get(pk=key.pk).state == KeyState.DESTROYED
    assert verify().ok
