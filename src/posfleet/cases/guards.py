"""The closure rule on the merchant lifecycle: only a closure case moves a merchant to closing and closed.

A merchant enters `closing` while an approved closure case is in progress (the case's stop does it) and
becomes `closed` only as that case completes (`closure.complete` passes the case). The bare actions —
console, API, CLI, whoever holds `manage_merchant` — are refused with the checklist's reasons.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from posfleet.cases.choices import CaseKind, CaseState
from posfleet.cases.models import Case
from posfleet.cases.services.checklist import blocking, checklist
from posfleet.lifecycle import transitions
from posfleet.registry.models import Merchant


def closure_in_progress(merchant: Merchant) -> Case | None:
    """The merchant's approved closure case, if one is being carried out."""
    return (
        Case.objects.select_related("merchant")
        .filter(merchant_id=merchant.pk, kind=CaseKind.CLOSURE, state=CaseState.IN_PROGRESS)
        .order_by("id")
        .first()
    )


def start_closing_needs_approved_closure(merchant: Merchant, params: dict[str, Any]) -> Any:
    if closure_in_progress(merchant) is None:
        return _(
            "A merchant goes into closing only when a closure case is approved; "
            "file a closure request and have it reviewed."
        )
    return None


def close_only_by_completing_the_case(merchant: Merchant, params: dict[str, Any]) -> Any:
    case = closure_in_progress(merchant)
    if case is None:
        return _("A merchant is closed only when its approved closure case completes; it has none.")
    given: Case | None = params.get("case")
    if given is not None and given.pk == case.pk:
        return None  # the case's completion, which has checked its checklist
    failing = blocking(case, checklist(case))
    if failing:
        head = _("The checklist of closure case #%(id)s is not complete: %(items)s.") % {
            "id": case.pk,
            "items": ", ".join(i.item for i in failing),
        }
        return [head, *(f"{i.item}: {i.why}" for i in failing)]
    return _("The checklist of closure case #%(id)s holds: complete the case to close the merchant.") % {
        "id": case.pk
    }


def cancel_closing_not_while_a_closure_runs(merchant: Merchant, params: dict[str, Any]) -> Any:
    case = closure_in_progress(merchant)
    if case is not None:
        return _("Closure case #%(id)s is in progress; the merchant stays closing until it completes.") % {
            "id": case.pk
        }
    return None


def connect() -> None:
    transitions.register_merchant_guard("start_closing", start_closing_needs_approved_closure)
    transitions.register_merchant_guard("close", close_only_by_completing_the_case)
    transitions.register_merchant_guard("cancel_closing", cancel_closing_not_while_a_closure_runs)
