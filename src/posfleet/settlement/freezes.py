"""Money while frozen: a risk freeze may hold its merchant's settlement.

A risk officer placing a risk freeze on a merchant or one of its terminals may say that it holds the
merchant's settlement too (`hold_settlement`): its unpaid batches become `held` at once, and every
batch the daily run makes while the freeze is in force is `held`. Whether the freeze is in force is
read from the hold itself (released, or past its end), so nothing has to happen when it lifts: the
next run (`release_lifted`, from `services.pay_due`) turns the merchant's held batches back into
settled ones, pays them with the others due, and tells the merchant. A delay finance set on the
profile (`delayed`) keeps holding the money whatever the freezes do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.amounts import yuan
from posfleet.core.errors import PermissionDenied, ValidationFailed
from posfleet.lifecycle import holds
from posfleet.lifecycle.models import Hold, HoldKind
from posfleet.notices.tell import tell_merchant
from posfleet.registry.models import Merchant
from posfleet.settlement.models import BatchState, SettlementBatch, SettlementFreeze, SettlementProfile


def place_hold(actor: Actor, *, settlement: bool = False, **fields: Any) -> Hold:
    """A hold (`lifecycle.holds.place_hold`), and with `settlement` the merchant's settlement held by it
    too: the one call the console's and the API's hold forms make."""
    hold = holds.place_hold(actor, **fields)
    if settlement:
        hold_settlement(actor, hold)
    return hold


def hold_settlement(actor: Actor, hold: Hold) -> SettlementFreeze:
    """Let `hold` (a risk freeze on a merchant or one terminal) hold the merchant's settlement too,
    in the caller's transaction (the freeze itself already asked for step-up)."""
    if not (actor.has_perm(perm("manage_dispute")) or actor.has_perm(perm("run_settlement"))):
        raise PermissionDenied(_("Holding settlement is for risk officers and finance."))
    if hold.kind != HoldKind.RISK_FREEZE or hold.bulk or hold.merchant_id is None:
        raise ValidationFailed(
            _("Only a risk freeze on one merchant or one terminal can hold settlement."),
            details={"hold_settlement": [_("Only with a risk freeze on one merchant or terminal.")]},
        )
    freeze = SettlementFreeze.objects.create(
        hold=hold, merchant_id=hold.merchant_id, placed_by_name=actor.name
    )
    held = SettlementBatch.objects.filter(merchant_id=hold.merchant_id, state=BatchState.SETTLED).update(
        state=BatchState.HELD
    )
    after = {"hold_id": hold.pk, "settlement_held": True, "held_batches": held}
    record(
        actor,
        Change("settlement_profile", str(hold.merchant_id), "settlement.freeze", None, after, hold.reason),
    )
    return freeze


def frozen_merchant_ids(merchant_ids: Iterable[int] | None = None, now: datetime | None = None) -> set[int]:
    """Merchants whose settlement a risk freeze in force holds now."""
    qs = SettlementFreeze.objects.filter(hold__in=Hold.objects.in_force(now))
    if merchant_ids is not None:
        qs = qs.filter(merchant_id__in=list(merchant_ids))
    return set(qs.values_list("merchant_id", flat=True))


def release_lifted(
    actor: Actor, now: datetime | None = None, *, frozen: set[int] | None = None
) -> dict[int, int]:
    """Held batches of merchants nothing holds any more (no freeze in force, no delay on the profile)
    become settled, to be paid with this run; each merchant is told. Returns fen per merchant.
    `frozen`: the merchants a freeze holds at `now`, when the caller has read them already."""
    now = now or timezone.now()
    held = SettlementBatch.objects.filter(state=BatchState.HELD)
    mids = set(held.values_list("merchant_id", flat=True).distinct())
    if not mids:
        return {}
    delayed = set(
        SettlementProfile.objects.filter(merchant_id__in=mids, delayed=True).values_list(
            "merchant_id", flat=True
        )
    )
    free = sorted(mids - delayed - (frozen if frozen is not None else frozen_merchant_ids(mids, now)))
    amounts: dict[int, int] = {}
    counts: dict[int, int] = defaultdict(int)
    for batch in held.filter(merchant_id__in=free).select_for_update(no_key=True).order_by("id"):
        amounts[batch.merchant_id] = amounts.get(batch.merchant_id, 0) + batch.payout_fen
        counts[batch.merchant_id] += 1
    if not amounts:
        return {}
    SettlementBatch.objects.filter(state=BatchState.HELD, merchant_id__in=list(amounts)).update(
        state=BatchState.SETTLED
    )
    merchants = Merchant.objects.in_bulk(list(amounts))
    record(
        actor,
        [
            Change(
                "settlement_profile",
                str(mid),
                "settlement.release_held",
                {"state": BatchState.HELD},
                {"state": BatchState.SETTLED, "batches": counts[mid], "payout_fen": amount},
                "nothing holds the settlement any more",
            )
            for mid, amount in amounts.items()
        ],
        at=now,
    )
    for mid, amount in amounts.items():
        tell_merchant(
            actor,
            merchants[mid],
            "暂缓结算的款项已放行",
            f"您因风控冻结被暂缓结算的 {yuan(amount, grouping=False)} 元（{counts[mid]} 个结算批次）"
            "已解除暂缓，随本次结算划付至您的结算卡。",
        )
    return amounts


@dataclass
class HeldMoney:
    """What a merchant sees in the portal: how much is held back and why."""

    amount_fen: int = 0
    batches: int = 0
    freezes: list[Hold] = field(default_factory=list)
    delayed_by_finance: bool = False

    @property
    def released_next_run(self) -> bool:
        """Nothing holds it any more: the next settlement run pays it."""
        return self.batches > 0 and not self.freezes and not self.delayed_by_finance

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount_fen": self.amount_fen,
            "batches": self.batches,
            "freezes": [{"hold_id": h.pk, "kind": h.kind, "since": h.starts_at} for h in self.freezes],
            "delayed_by_finance": self.delayed_by_finance,
            "released_next_run": self.released_next_run,
        }


def held_money(merchant_id: int, now: datetime | None = None) -> HeldMoney:
    agg = SettlementBatch.objects.filter(merchant_id=merchant_id, state=BatchState.HELD).aggregate(
        fen=Sum("payout_fen"), n=Count("id")
    )
    freezes = list(
        Hold.objects.in_force(now)
        .filter(settlement_freeze__merchant_id=merchant_id)
        .select_related("terminal")
        .order_by("starts_at")
    )
    delayed = SettlementProfile.objects.filter(merchant_id=merchant_id, delayed=True).exists()
    return HeldMoney(int(agg["fen"] or 0), int(agg["n"] or 0), freezes, delayed)
