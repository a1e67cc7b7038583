"""The jobs page: the long work the worker does (data exports, bulk holds, settlement runs, reminders)
with its state, progress, attempts, heartbeat, error and who started it; filter by state and kind;
retry a job that failed or whose worker died. Each person sees the jobs of the work their roles own
(an administrator, all) and the jobs they started.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.core.errors import DomainError
from posfleet.jobs import filters, registry, services
from posfleet.jobs.models import JobState
from posfleet.web.lists import list_page
from posfleet.web.staff import (
    console_actor,
    domain_error_response,
    safe_next,
    staff_view,
)

PAGE = 50


@staff_view
def job_list(request: HttpRequest) -> HttpResponse:
    actor = console_actor(request)
    kinds = [(k.name, k.label) for k in registry.kinds()]
    state = request.GET.get("state") or ""
    kind = request.GET.get("kind") or ""
    values = {
        "state": state if state in JobState.values else "",
        "kind": kind if kind in dict(kinds) else "",
    }
    qs = filters.filter_jobs(services.visible(actor), **values)
    page = list_page(request.GET, qs, key="id", size=PAGE, descending=True)
    now = timezone.now()
    user = request.user
    return render(
        request,
        "console/jobs.html",
        {
            **page,
            "rows": [
                {
                    "job": job,
                    "stuck": job.lease_expired(now),
                    "scheduled": job.state == JobState.QUEUED and job.run_after > now,
                    "can_retry": (job.state == JobState.FAILED or job.lease_expired(now))
                    and (user.has_perm(job.perm) or job.created_by_id == user.pk),
                }
                for job in page["rows"]
            ],
            "states": JobState.choices,
            "kinds": kinds,
            "values": values,
        },
    )


@require_POST
@staff_view
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    back = safe_next(request, request.POST.get("next"), reverse("console:jobs"))
    try:
        with transaction.atomic():
            services.retry(console_actor(request), job_id)
    except DomainError as exc:
        return domain_error_response(request, exc, step_up_next=back)
    messages.success(request, _("Job #%(id)d is queued again.") % {"id": job_id})
    return HttpResponseRedirect(back)
