"""Which audit events a list shows: the query parameters of the API's audit list and of the console's
audit page, turned into a queryset in one place. The API names an action exactly (scripts know it);
the console matches its start (`terminal.` for every terminal action).
"""

from __future__ import annotations

from django.db.models import QuerySet

from posfleet.audit.models import AuditEvent


def filter_events(
    qs: QuerySet[AuditEvent],
    *,
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    action_prefix: str = "",
    actor_name: str = "",
    channel: str = "",
) -> QuerySet[AuditEvent]:
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action=action)
    if action_prefix:
        qs = qs.filter(action__startswith=action_prefix)
    if actor_name:
        qs = qs.filter(actor_name=actor_name)
    if channel:
        qs = qs.filter(channel=channel)
    return qs
