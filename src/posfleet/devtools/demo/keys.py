"""Demo keys: every terminal of the demo merchants that went live gets a wrapped master key (the demo
builds terminals straight into their states, past activation), and one decommissioned terminal waits
for a second custodian so the key screens have something to show."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.utils import timezone

from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.keys import wrapping
from posfleet.keys.models import DestructionRequest, KeyState, TerminalKey
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal

KEYED_STATES = (TerminalState.ACTIVE, TerminalState.IN_REPAIR, TerminalState.DEACTIVATED)


def load(merchant_ids: Iterable[int], days: int = 30) -> int:
    """Keys for keyed-state terminals that lack one; returns how many were generated. Idempotent."""
    ids = list(merchant_ids)
    actor = Actor.system("cli", name="demo")
    terminals = list(
        Terminal.objects.filter(merchant_id__in=ids, state__in=KEYED_STATES)
        .exclude(keys__state=KeyState.LIVE)
        .order_by("id")
    )
    now = timezone.now()
    keys = []
    for terminal in terminals:
        wrapped, check = wrapping.generate()
        keys.append(TerminalKey(terminal=terminal, wrapped_key=wrapped, kcv=check, created_at=now))
    TerminalKey.objects.bulk_create(keys, batch_size=1000)
    record(
        actor,
        [
            Change(
                "terminal_key",
                k.terminal.tid,
                "keys.generated",
                None,
                {"kcv": k.kcv, "state": "live"},
                "demo",
            )
            for k in keys
        ],
        at=now,
    )
    _pending_request(actor, ids)
    return len(keys)


def _pending_request(actor: Actor, merchant_ids: list[int]) -> None:
    first = get_user_model().objects.filter(username="custodian1").first()
    if first is None or DestructionRequest.objects.exists():
        return
    key = (
        TerminalKey.objects.filter(
            state=KeyState.LIVE,
            terminal__state=TerminalState.DEACTIVATED,
            terminal__merchant_id__in=merchant_ids,
        )
        .select_related("terminal")
        .order_by("id")
        .first()
    )
    if key is None:
        return
    req = DestructionRequest.objects.create(
        terminal=key.terminal, key=key, requested_by=first, reason="Terminal deactivated (demo)"
    )
    record(
        Actor.for_user(first, "console"),
        [
            Change(
                "terminal_key",
                key.terminal.tid,
                "keys.destruction_requested",
                {"kcv": key.kcv, "state": key.state},
                {"kcv": key.kcv, "request_state": req.state, "request_id": req.pk},
                "Terminal deactivated (demo)",
            )
        ],
    )
