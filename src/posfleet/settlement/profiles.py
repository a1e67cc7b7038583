"""Settlement profiles: T+1/D0 mode and the delayed-settlement (risk) flag.

The profile is created with the merchant (listener on `registry.signals.merchant_created`, inside the
creating transaction, so a bad `settlement_mode` undoes the whole merchant). Changing the mode is a
finance decision; setting or lifting `delayed` keeps or frees the merchant's money, so it needs
`run_settlement` or `manage_dispute` (finance or risk), a reason and step-up, and is audited.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import PermissionDenied, StaleVersion, ValidationFailed
from posfleet.registry.services import get_merchant
from posfleet.settlement.models import BatchState, SettlementBatch, SettlementMode, SettlementProfile


def profile_of(merchant_id: int) -> SettlementProfile:
    """The merchant's profile, created (T+1, not delayed) if it is missing."""
    profile, _created = SettlementProfile.objects.get_or_create(merchant_id=merchant_id)
    return profile


def snapshot(profile: SettlementProfile) -> dict[str, Any]:
    return {"mode": profile.mode, "delayed": profile.delayed, "delayed_reason": profile.delayed_reason}


def on_merchant_created(sender: Any, merchant: Any, data: Any, actor: Actor, **kwargs: Any) -> None:
    mode = getattr(data, "settlement_mode", None) or SettlementMode.T1
    if mode not in SettlementMode.values:
        raise ValidationFailed(
            details={
                "settlement_mode": [_("Choose one of: %(m)s.") % {"m": ", ".join(SettlementMode.values)}]
            }
        )
    profile = SettlementProfile.objects.create(merchant=merchant, mode=mode)
    record(
        actor,
        Change(
            "settlement_profile",
            str(merchant.pk),
            "settlement_profile.create",
            None,
            snapshot(profile),
            "merchant created",
        ),
    )


def set_profile(
    actor: Actor,
    merchant_id: int,
    *,
    mode: str | None = None,
    delayed: bool | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> SettlementProfile:
    """Change mode and/or the delayed flag. Lifting the flag turns the merchant's held batches back
    into settled ones; the next settlement run pays them out."""
    if not (actor.has_perm(perm("run_settlement")) or actor.has_perm(perm("manage_dispute"))):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    if mode is not None and mode not in SettlementMode.values:
        errors["mode"] = [_("Choose one of: %(m)s.") % {"m": ", ".join(SettlementMode.values)}]
    if not (reason or "").strip():
        errors["reason"] = [_("A reason is required.")]
    if errors:
        raise ValidationFailed(details=errors)
    require_step_up(actor)
    get_merchant(merchant_id)
    profile_of(merchant_id)
    profile = SettlementProfile.objects.select_for_update(no_key=True).get(merchant_id=merchant_id)
    if expected_version is not None and profile.version != expected_version:
        raise StaleVersion()
    before = snapshot(profile)
    now = timezone.now()
    if mode is not None:
        profile.mode = mode
    released = 0
    if delayed is not None and delayed != profile.delayed:
        profile.delayed = delayed
        if delayed:
            profile.delayed_reason = reason.strip()
            profile.delayed_at = now
        else:
            profile.delayed_reason = ""
            profile.delayed_at = None
            released = SettlementBatch.objects.filter(merchant_id=merchant_id, state=BatchState.HELD).update(
                state=BatchState.SETTLED
            )
    profile.version += 1
    profile.updated_at = now
    profile.save()
    after = snapshot(profile)
    if released:
        after["released_batches"] = released
    record(
        actor,
        Change(
            "settlement_profile", str(merchant_id), "settlement_profile.update", before, after, reason.strip()
        ),
    )
    return profile
