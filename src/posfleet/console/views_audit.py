"""The audit log: filter by object, action, actor and channel, page by sequence number (newest first,
keyset, no COUNT), and verify the whole hash chain on demand.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.audit import display, filters
from posfleet.audit import services as audit
from posfleet.audit.models import AuditEvent, Channel
from posfleet.web.lists import list_page
from posfleet.web.staff import staff_view

FILTERS = ("object_type", "object_id", "action", "actor_name", "channel")


@staff_view(perm="view_audit")
def audit_list(request: HttpRequest) -> HttpResponse:
    values = {k: (request.GET.get(k) or "").strip() for k in FILTERS}
    qs = filters.filter_events(
        AuditEvent.objects.all(),
        object_type=values["object_type"],
        object_id=values["object_id"],
        action_prefix=values["action"],
        actor_name=values["actor_name"],
        channel=values["channel"],
    )
    return render(
        request,
        "console/audit.html",
        {
            **list_page(request.GET, qs, key="seq", size=50, descending=True),
            "values": values,
            "channels": Channel.choices,
            "object_types": display.object_choices(),
            "actions": display.action_choices(),
        },
    )


@require_POST
@staff_view(perm="view_audit")
def audit_verify(request: HttpRequest) -> HttpResponse:
    result = audit.verify()
    if result.ok:
        messages.success(
            request, _("The audit chain is intact: %(n)d events checked.") % {"n": result.checked}
        )
    else:
        messages.error(
            request,
            _("The audit chain is broken at event %(seq)s: %(problem)s.")
            % {"seq": result.first_broken, "problem": result.problem},
        )
    return HttpResponseRedirect(reverse("console:audit"))
