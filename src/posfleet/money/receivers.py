"""Signal listeners: every new merchant gets a rate plan in the creating transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from posfleet.registry.signals import merchant_created


@receiver(merchant_created, dispatch_uid="money.assign_initial_plan")
def assign_initial_plan(sender: Any, merchant: Any, data: Any, actor: Any, **kwargs: Any) -> None:
    """Assign `data.rate_plan` (default STANDARD); an unknown code raises ValidationFailed, undoing the merchant."""
    from posfleet.money.plans import assign_initial

    assign_initial(actor, merchant, getattr(data, "rate_plan", None))
