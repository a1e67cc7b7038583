"""The console's steps of an application: resubmit after a rejection, allocate from stock, ship,
record the delivery, activate on installation. Each is one service call in one transaction; a refusal
shows the case again with the reason (actions.run)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from posfleet.cases import services as case_services
from posfleet.cases.forms import DeliverForm, ResubmitForm, ShipForm
from posfleet.cases.views.actions import case_action, posted_version, run, run_form
from posfleet.web.staff import console_actor


@case_action
def resubmit(request: HttpRequest, case_id: int) -> HttpResponse:
    return run_form(
        request,
        case_id,
        "resubmit_form",
        ResubmitForm(request.POST),
        lambda data: case_services.resubmit(
            console_actor(request),
            case_id,
            note=data["note"],
            install_address=data["install_address"],
            expected_version=posted_version(request),
        ),
        _("The application is back in review."),
    )


@case_action
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


@case_action
def ship(request: HttpRequest, case_id: int) -> HttpResponse:
    return run_form(
        request,
        case_id,
        "ship_form",
        ShipForm(request.POST),
        lambda data: case_services.ship(
            console_actor(request),
            case_id,
            carrier=data["carrier"],
            tracking_no=data["tracking_no"],
            shipped_on=data["shipped_on"],
            expected_version=posted_version(request),
        ),
        _("The shipment was recorded."),
    )


@case_action
def deliver(request: HttpRequest, case_id: int) -> HttpResponse:
    return run_form(
        request,
        case_id,
        "deliver_form",
        DeliverForm(request.POST),
        lambda data: case_services.deliver(
            console_actor(request),
            case_id,
            delivered_on=data["delivered_on"],
            expected_version=posted_version(request),
        ),
        _("The delivery was recorded."),
    )


@case_action
def activate(request: HttpRequest, case_id: int) -> HttpResponse:
    return run(
        request,
        case_id,
        lambda: case_services.activate(
            console_actor(request), case_id, expected_version=posted_version(request)
        ),
        _("The terminal is installed and active."),
    )
