"""Which jobs a list shows: the API's and the console's filters (state, kind, the object) in one place."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from posfleet.core.errors import ValidationFailed
from posfleet.core.filters import filter_given
from posfleet.jobs import registry
from posfleet.jobs.models import Job, JobState


def filter_jobs(
    qs: QuerySet[Job], *, state: str = "", kind: str = "", object_type: str = "", object_id: str = ""
) -> QuerySet[Job]:
    if state and state not in JobState.values:
        raise ValidationFailed(details={"state": [", ".join(JobState.values)]})
    if kind and registry.get(kind) is None:
        raise ValidationFailed(_("Unknown job kind."), details={"kind": [k.name for k in registry.kinds()]})
    return filter_given(qs, state=state, kind=kind, object_type=object_type, object_id=object_id)
