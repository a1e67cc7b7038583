"""The console's steps of an application: resubmit after a rejection, allocate from stock, ship,
record the delivery, activate on installation. Each is one service call in one transaction; a refusal
shows the case again with the reason (actions.run)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.cases import services as case_services
from posfleet.cases.forms import DeliverForm, ResubmitForm, ShipForm
from posfleet.cases.views.actions import invalid, posted_version, run
from posfleet.console.views_util import console_actor, domain_errors, staff_view


@staff_view
@domain_errors
@require_POST
def resubmit(request: HttpRequest, case_id: int) -> HttpResponse:
    form = ResubmitForm(request.POST)
    if not form.is_valid():
        return invalid(request, case_id, resubmit_form=form)
    data = form.cleaned_data
    return run(
        request,
        case_id,
        lambda: case_services.resubmit(
            console_actor(request),
            case_id,
            note=data["note"],
            install_address=data["install_address"],
            expected_version=posted_version(request),
        ),
        _("The application is back in review."),
        resubmit_form=form,
    )


@staff_view
@domain_errors
@require_POST
def allocate(request: HttpRequest, case_id: int) -> HttpResponse:
    """Warehouse: the chosen terminal, or the best one in stock when none is chosen."""
    tid = request.POST.get("tid", "").strip() or None
    return run(
        request,
        case_id,
        lambda: case_services.allocate(
            console_actor(request), case_id, tid=tid, expected_version=posted_version(request)
        ),
        _("A terminal was allocated."),
    )


@staff_view
@domain_errors
@require_POST
def ship(request: HttpRequest, case_id: int) -> HttpResponse:
    form = ShipForm(request.POST)
    if not form.is_valid():
        return invalid(request, case_id, ship_form=form)
    data = form.cleaned_data
    return run(
        request,
        case_id,
        lambda: case_services.ship(
            console_actor(request),
            case_id,
            carrier=data["carrier"],
            tracking_no=data["tracking_no"],
            shipped_on=data["shipped_on"],
            expected_version=posted_version(request),
        ),
        _("The shipment was recorded."),
        ship_form=form,
    )


@staff_view
@domain_errors
@require_POST
def deliver(request: HttpRequest, case_id: int) -> HttpResponse:
    form = DeliverForm(request.POST)
    if not form.is_valid():
        return invalid(request, case_id, deliver_form=form)
    return run(
        request,
        case_id,
        lambda: case_services.deliver(
            console_actor(request),
            case_id,
            delivered_on=form.cleaned_data["delivered_on"],
            expected_version=posted_version(request),
        ),
        _("The delivery was recorded."),
        deliver_form=form,
    )


@staff_view
@domain_errors
@require_POST
def activate(request: HttpRequest, case_id: int) -> HttpResponse:
    return run(
        request,
        case_id,
        lambda: case_services.activate(
            console_actor(request), case_id, expected_version=posted_version(request)
        ),
        _("The terminal is installed and active."),
    )
