"""Builders for key tests: custodians and terminals with a live key."""

from __future__ import annotations

from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.keys import services
from posfleet.keys.models import TerminalKey
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from tests import builders as b


def custodian(name: str = "", *, stepped_up: bool = True) -> Actor:
    return b.actor("custodian", stepped_up=stepped_up, u=b.user(name, "custodian") if name else None)


def keyed_terminal(state: str = TerminalState.DEACTIVATED, **kwargs: object) -> tuple[Terminal, TerminalKey]:
    t = b.terminal(state, **kwargs)  # type: ignore[arg-type]
    with transaction.atomic():
        key = services.generate_for(t, Actor.system("cli"))
    return t, key
