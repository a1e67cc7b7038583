"""Which audit events a list shows: the query parameters of the API's audit list and of the console's
audit page, turned into a queryset in one place. The API names an action exactly (scripts know it);
the console matches its start (`terminal.` for every terminal action).
"""

from __future__ import annotations

from django.db.models import QuerySet

from posfleet.audit.models import AuditEvent
from posfleet.core.filters import filter_given


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
    return filter_given(
        qs,
        object_type=object_type,
        object_id=object_id,
        action=action,
        action__startswith=action_prefix,
        actor_name=actor_name,
        channel=channel,
    )
