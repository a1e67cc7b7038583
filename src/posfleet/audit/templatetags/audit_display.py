"""`{% load audit_display %}`: `{{ e.action|action_label }}`, `{{ e|event_object }}`, `{{ e|event_actor }}`,
`{% for c in e|event_changes %}…{% endfor %}`, `{{ e.role|role_label }}`."""

from __future__ import annotations

from typing import Any

from django import template

from posfleet.audit import display

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    return display.action_label(action)


@register.filter
def event_actor(event: Any) -> str:
    return display.actor_label(event.actor_type, event.actor_name)


@register.filter
def actor_name(name: str) -> str:
    """A stored actor name with no kind beside it (a step's or a file's author)."""
    return display.actor_label("system", name)


@register.filter
def event_object(event: Any) -> str:
    return display.object_label(event.object_type, event.object_id)


@register.filter
def event_changes(event: Any) -> list[display.Change]:
    return display.changes(event.before, event.after)


@register.filter
def role_label(role: str) -> str:
    from posfleet.accounts.roles import ROLES

    entry = ROLES.get(role)
    return str(entry[0]) if entry else role
