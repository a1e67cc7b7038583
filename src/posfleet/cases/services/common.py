"""What every case service shares: who may see a case, loading it, moving its state, delegated actors.

A portal user (a `MerchantUser`) acts only for their own merchant; staff act through permissions.
Consequences of a decision that the contract dictates (holds, fees, letters, lifecycle moves) are
carried out by a *delegated* system actor named after the person who decided, so the person needs
only the case permission (`review_case`, `work_case` …), while the audit log still says on whose
behalf each consequence happened and the person's own decision is recorded under their name.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.models import merchant_id_of
from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.cases.models import Case
from posfleet.core import versions
from posfleet.core.actor import Actor
from posfleet.core.amounts import yuan
from posfleet.core.errors import NotFound, PermissionDenied, StaleVersion

log = logging.getLogger("posfleet.cases")

STAFF_READ_PERMS = (
    "view_fleet",
    "file_case",
    "review_case",
    "work_case",
    "inspect_return",
    "settle_case",
)


def portal_merchant_id(actor: Actor) -> int | None:
    """The merchant a portal user acts for, or None for staff and the system."""
    if actor.kind != "user" or actor.user is None:
        return None

    return merchant_id_of(actor.user)


def require(actor: Actor, *codenames: str) -> None:
    """The actor must hold at least one of `codenames`."""
    if not any(actor.has_perm(perm(c)) for c in codenames):
        raise PermissionDenied()


def require_staff(actor: Actor, *codenames: str) -> None:
    """Like `require`, and a portal user is never staff even if someone gave them a group."""
    if portal_merchant_id(actor) is not None:
        raise PermissionDenied()
    require(actor, *codenames)


def can_see(actor: Actor, case: Case) -> bool:
    own = portal_merchant_id(actor)
    if own is not None:
        return case.merchant_id == own
    return any(actor.has_perm(perm(c)) for c in STAFF_READ_PERMS)


def get_case(actor: Actor, case_id: int, *, for_update: bool = False) -> Case:
    """The case if the actor may see it; a case of another merchant is simply not found."""
    qs = Case.objects.select_related("merchant")
    if for_update:
        qs = qs.select_for_update(of=("self",), no_key=True)
    case = qs.filter(pk=case_id).first()
    if case is None or not can_see(actor, case):
        raise NotFound(_("No case %(id)s.") % {"id": case_id})
    return case


def require_documents(actor: Actor, case: Case) -> None:
    """Materials (ID and licence copies), letters and archives: the case's own merchant, or staff who
    read case documents; seeing a case (view_fleet) is not enough."""
    if portal_merchant_id(actor) is None:
        require(actor, "read_case_documents")


def check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != case.version:
        raise StaleVersion(details={"current_version": case.version})


def delegate(actor: Actor) -> Actor:
    """A system actor carrying out the rules of a case on behalf of `actor` (see the module doc)."""
    return actor.on_behalf("cases")


def update_case(
    actor: Actor,
    case: Case,
    action: str,
    reason: str = "",
    *,
    extra: dict[str, Any] | None = None,
    **fields: Any,
) -> Case:
    """Write `fields` (state and the rest) with optimistic concurrency and one audit event."""
    now = timezone.now()
    before, after = versions.write(case, now, **fields)
    after |= {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in fields.items()
        if k not in ("state", "assignee", "decided_by")
    }
    if extra:
        after |= extra
    record(actor, Change("case", str(case.pk), f"case.{action}", before, after, reason), at=now)
    return case


def fen(amount: int) -> str:
    """Fen as yuan text for letters and messages: 12345 → '123.45'."""
    return yuan(amount, grouping=False)
