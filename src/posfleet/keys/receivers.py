"""Hooks into the lifecycle: a key at activation, no activation after destruction until re-keyed."""

from __future__ import annotations

from typing import Any

from posfleet.core.actor import Actor
from posfleet.registry.models import Terminal


def on_terminal_applied(sender: Any, *, terminal: Terminal, action: str, actor: Actor, **kwargs: Any) -> None:
    if action == "activate":
        from posfleet.keys.services import generate_for

        generate_for(terminal, actor)


def connect() -> None:
    from posfleet.keys.services import activation_guard, refurbish_guard
    from posfleet.lifecycle import signals, transitions

    transitions.register_guard("activate", activation_guard)
    transitions.register_guard("refurbish", refurbish_guard)
    signals.terminal_applied.connect(on_terminal_applied, dispatch_uid="keys.generate_on_activation")
