"""Hooks into the lifecycle: a terminal deactivated tells its merchant (`stops.tell`)."""

from __future__ import annotations

from typing import Any

from posfleet.core.actor import Actor
from posfleet.registry.models import Terminal


def on_terminal_applied(sender: Any, *, terminal: Terminal, action: str, actor: Actor, **kwargs: Any) -> None:
    if action != "deactivate":
        return
    from posfleet.notices import stops
    from posfleet.notices.choices import NoticeEvent

    params = kwargs.get("params") or {}
    stops.tell(
        actor,
        NoticeEvent.DEACTIVATED,
        terminal=terminal,
        category=params.get("reason_category"),
        message=str(params.get("merchant_message") or ""),
    )


def connect() -> None:
    from posfleet.lifecycle import signals

    signals.terminal_applied.connect(on_terminal_applied, dispatch_uid="notices.tell_deactivation")
