"""Jobs API: follow a job you started (or one of the work your role owns) and retry a failed one.

The endpoint that starts long work answers with its job (`POST /cases/{id}/export` → `job`); these
give the same shape for any job: `GET /jobs/{id}` while it runs, `POST /jobs/{id}/retry` when it
failed or its worker died.
"""

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router

from posfleet.api.auth import actor_of
from posfleet.api.common import DEFAULT_LIMIT, Cursor, Limit, keyset_page
from posfleet.api.errors import ERRORS
from posfleet.api.fields import ObjectId, Search
from posfleet.jobs import filters, services
from posfleet.jobs import schemas as s
from posfleet.jobs.models import JobState

router = Router(tags=["jobs"])


@router.get("/jobs", response={200: s.JobPage, **ERRORS})
def list_jobs(
    request: HttpRequest,
    state: JobState | None = None,
    kind: Search = None,
    object_type: Search = None,
    object_id: Search = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Jobs newest first: those of the work your roles own and those you started."""
    qs = filters.filter_jobs(
        services.visible(actor_of(request)),
        state=state or "",
        kind=kind or "",
        object_type=object_type or "",
        object_id=object_id or "",
    )
    rows, next_cursor = keyset_page(qs, cursor, limit, descending=True)
    return {"items": [job.as_dict() for job in rows], "next_cursor": next_cursor}


@router.get("/jobs/{job_id}", response={200: s.JobOut, **ERRORS})
def get_job(request: HttpRequest, job_id: ObjectId) -> Any:
    return services.get_job(actor_of(request), job_id).as_dict()


@router.post("/jobs/{job_id}/retry", response={200: s.JobOut, **ERRORS})
def retry(request: HttpRequest, job_id: ObjectId) -> Any:
    """Queue another attempt of a failed job, or of a running one whose worker stopped (409 while
    a live worker runs it, or once it is done)."""
    actor = actor_of(request)
    with transaction.atomic():
        job = services.retry(actor, job_id)
    return job.as_dict()
