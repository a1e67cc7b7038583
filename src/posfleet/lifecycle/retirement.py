"""Retiring a terminal model by policy: a dry run (which merchants and terminals), then one job that
marks the model no longer permitted, puts a `compliance` hold starting on the stop date on each of
its terminals in service (category `policy`), and tells each merchant once, now, with the date and
the replacement offer. The job is the bulk-hold job (`lifecycle.bulk_hold`): chunk by chunk with its
checkpoint, so after kill -9 it resumes and each terminal is held and audited exactly once; its last
step writes the per-item report (TID, merchant, notice) under VAR_DIR/files/reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job
from posfleet.lifecycle import bulk
from posfleet.notices.choices import ReasonCategory, template_for
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal, TerminalModel

IN_SERVICE = (TerminalState.ALLOCATED, TerminalState.ACTIVE, TerminalState.IN_REPAIR)


@dataclass
class Plan:
    model: str
    terminals: int = 0
    merchants: dict[int, dict[str, Any]] = field(default_factory=dict)


def _require(actor: Actor) -> None:
    if not actor.has_perm(perm("retire_model")):
        raise PermissionDenied()


def _model(name: str) -> TerminalModel:
    model = TerminalModel.objects.filter(name=name).first()
    if model is None:
        raise NotFound(_("No terminal model %(name)s.") % {"name": name})
    return model


def dry_run(actor: Actor, model_name: str) -> Plan:
    """Who would be affected: each merchant with its terminals of the model still in service."""
    _require(actor)
    model = _model(model_name)
    plan = Plan(model=model.name)
    rows = (
        Terminal.objects.filter(model=model, state__in=IN_SERVICE, merchant__isnull=False)
        .order_by("merchant_id", "tid")
        .values_list("merchant_id", "merchant__name", "tid")
    )
    for merchant_id, name, tid in rows:
        entry = plan.merchants.setdefault(merchant_id, {"merchant_id": merchant_id, "name": name, "tids": []})
        entry["tids"].append(tid)
        plan.terminals += 1
    return plan


def merchant_text(model: str, stop_on: datetime, offer: str) -> str:
    with translation.override("zh-hans"):
        return " ".join(
            [
                template_for(ReasonCategory.POLICY),
                _("Model %(model)s is retired; it stops taking payments on %(date)s.")
                % {"model": model, "date": timezone.localtime(stop_on).strftime("%Y-%m-%d %H:%M")},
                _("Our replacement offer: %(offer)s") % {"offer": offer},
            ]
        )


def start(actor: Actor, model_name: str, *, stop_on: datetime, offer: str, reason: str) -> Job:
    """Retire the model: checked now (permission, step-up, the date), carried out by the job."""
    _require(actor)
    require_step_up(actor)
    model = _model(model_name)
    offer = (offer or "").strip()
    if timezone.is_naive(stop_on) or stop_on <= timezone.now():
        raise ValidationFailed(details={"stop_on": [_("A future time with its offset.")]})
    if not offer:
        raise ValidationFailed(details={"offer": [_("Say what the merchant is offered instead.")]})
    ids = list(
        Terminal.objects.filter(model=model, state__in=IN_SERVICE, merchant__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not ids:
        raise ValidationFailed(_("No terminal of this model is in service."), code="nothing_to_retire")
    if model.permitted:
        TerminalModel.objects.filter(pk=model.pk).update(permitted=False)
        record(
            actor,
            Change(
                "terminal_model",
                model.name,
                "model.retire",
                {"permitted": True},
                {"permitted": False},
                reason,
            ),
        )
    payload = {
        "kind": "compliance",
        "reason": reason,
        "placed_at": timezone.now().isoformat(),
        "starts_at": stop_on.isoformat(),
        "ends_at": None,
        "channel": actor.channel,
        "terminal_ids": ids,
        "reason_category": ReasonCategory.POLICY,
        "merchant_message": merchant_text(model.name, stop_on, offer)[:2000],
        "report": f"retire-{model.pk}",
    }
    return jobs.enqueue(
        bulk.PLACE_JOB,
        payload,
        key=f"lifecycle.retire_model:{model.pk}",
        actor=actor,
        perm=perm("retire_model"),
        object_type="terminal_model",
        object_id=model.name,
        total=len(ids),
    )
