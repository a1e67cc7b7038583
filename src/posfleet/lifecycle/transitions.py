"""The terminal lifecycle as data: (state, action) → new state, permission, guards, sensitivity.

This table is the only place that says which moves exist; `services.apply()` is the only code that
reads it and the only code that writes `Terminal.state`. Guards are small functions of the terminal
and the call's parameters that return a refusal message, or None when the move may go ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from posfleet.core.transitions import Transition as BaseTransition
from posfleet.registry.choices import MerchantState
from posfleet.registry.choices import TerminalState as S
from posfleet.registry.models import Merchant, Terminal

Guard = Callable[[Terminal, dict[str, Any]], Any]


def merchant_given_and_open(terminal: Terminal, params: dict[str, Any]) -> Any:
    merchant: Merchant | None = params.get("merchant")
    if merchant is None:
        return _("A merchant is required to allocate a terminal.")
    if merchant.state not in (MerchantState.APPLYING, MerchantState.ACTIVE):
        return _("Terminals can only be allocated to an applying or active merchant.")
    return None


def model_permitted(terminal: Terminal, params: dict[str, Any]) -> Any:
    if not terminal.model.permitted:
        return _("Model %(model)s is no longer permitted.") % {"model": terminal.model.name}
    return None


def patch_level_sufficient(terminal: Terminal, params: dict[str, Any]) -> Any:
    if terminal.security_patch_level < terminal.model.min_security_patch_level:
        return _("Security patch level %(have)s is below the required %(need)s.") % {
            "have": terminal.security_patch_level,
            "need": terminal.model.min_security_patch_level,
        }
    return None


def merchant_active(terminal: Terminal, params: dict[str, Any]) -> Any:
    if terminal.merchant is None or terminal.merchant.state != MerchantState.ACTIVE:
        return _("The terminal's merchant is not active.")
    return None


@dataclass(frozen=True, kw_only=True)
class Transition(BaseTransition[S]):
    guards: tuple[Guard, ...] = ()
    sensitive: bool = False
    binds: bool = False  # the move sets the merchant binding from params["merchant"]
    unbinds: bool = False  # the move clears the merchant binding
    extra: dict[str, Any] = field(default_factory=dict)


ALLOCATE = Transition(
    "allocate",
    S.IN_STOCK,
    S.ALLOCATED,
    "allocate_terminal",
    guards=(merchant_given_and_open, model_permitted),
    label=_("Allocate"),
    binds=True,
)
TABLE: tuple[Transition, ...] = (
    ALLOCATE,
    Transition(
        "deallocate",
        S.ALLOCATED,
        S.IN_STOCK,
        "allocate_terminal",
        label=_("Take back to stock"),
        unbinds=True,
    ),
    Transition(
        "activate",
        S.ALLOCATED,
        S.ACTIVE,
        "activate_terminal",
        guards=(merchant_active, model_permitted, patch_level_sufficient),
        label=_("Activate"),
    ),
    Transition(
        "deactivate", S.ACTIVE, S.DEACTIVATED, "deactivate_terminal", sensitive=True, label=_("Deactivate")
    ),
    Transition(
        "deactivate", S.IN_REPAIR, S.DEACTIVATED, "deactivate_terminal", sensitive=True, label=_("Deactivate")
    ),
    Transition("start_repair", S.ACTIVE, S.IN_REPAIR, "repair_terminal", label=_("Send to repair")),
    Transition("finish_repair", S.IN_REPAIR, S.ACTIVE, "repair_terminal", label=_("Back from repair")),
    Transition("receive_return", S.DEACTIVATED, S.RETURNED, "receive_return", label=_("Receive return")),
    Transition("retire", S.RETURNED, S.RETIRED, "receive_return", label=_("Retire")),
    Transition(
        "refurbish",
        S.RETURNED,
        S.IN_STOCK,
        "receive_return",
        guards=(model_permitted,),
        label=_("Refurbish to stock"),
        unbinds=True,
    ),
)

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TABLE))
_INDEX: dict[tuple[str, str], Transition] = {(t.source.value, t.action): t for t in TABLE}


# Guards other apps add to an action (e.g. keys: "no activation after key destruction until re-keyed").
# They run after the table's own guards, inside apply()'s transaction; register them in AppConfig.ready().
EXTRA_GUARDS: dict[str, list[Guard]] = {}


def register_guard(action: str, guard: Guard) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action}")
    bucket = EXTRA_GUARDS.setdefault(action, [])
    if guard not in bucket:
        bucket.append(guard)


def guards_for(move: Transition) -> tuple[Guard, ...]:
    return move.guards + tuple(EXTRA_GUARDS.get(move.action, ()))


def action_label(action: str) -> str:
    """The action as people read it (translated, lower case for use inside a sentence)."""
    for move in TABLE:
        if move.action == action:
            return str(move.label).lower()
    for merchant_move in MERCHANT_TABLE:
        if merchant_move.action == action:
            return str(merchant_move.label).lower()
    return action


def permissions_for(action: str) -> tuple[str, ...]:
    """The permissions any move named `action` asks for (checked before the state is looked at)."""
    return tuple(dict.fromkeys(t.permission for t in TABLE if t.action == action))


def find(state: str, action: str) -> Transition | None:
    return _INDEX.get((state, action))


def available(state: str) -> list[Transition]:
    return [t for t in TABLE if t.source == state]


# --- merchants --------------------------------------------------------------------------------------
MerchantGuard = Callable[[Merchant, dict[str, Any]], Any]


@dataclass(frozen=True, kw_only=True)
class MerchantTransition(BaseTransition[MerchantState]):
    sensitive: bool = False
    guards: tuple[MerchantGuard, ...] = ()


MERCHANT_TABLE: tuple[MerchantTransition, ...] = (
    MerchantTransition(
        "activate", MerchantState.APPLYING, MerchantState.ACTIVE, "manage_merchant", label=_("Activate")
    ),
    MerchantTransition(
        "start_closing",
        MerchantState.ACTIVE,
        MerchantState.CLOSING,
        "manage_merchant",
        sensitive=True,
        label=_("Start closing"),
    ),
    MerchantTransition(
        "cancel_closing",
        MerchantState.CLOSING,
        MerchantState.ACTIVE,
        "manage_merchant",
        label=_("Cancel closing"),
    ),
    MerchantTransition(
        "close",
        MerchantState.CLOSING,
        MerchantState.CLOSED,
        "manage_merchant",
        sensitive=True,
        label=_("Close"),
    ),
)
MERCHANT_ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in MERCHANT_TABLE))
_MERCHANT_INDEX = {(t.source.value, t.action): t for t in MERCHANT_TABLE}


def merchant_permissions_for(action: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.permission for t in MERCHANT_TABLE if t.action == action))


def find_merchant(state: str, action: str) -> MerchantTransition | None:
    return _MERCHANT_INDEX.get((state, action))


# Guards other apps add to a merchant action. The cases app registers the closure rule here: a merchant
# enters `closing` only under an approved closure case and becomes `closed` only when that case completes,
# so the bare actions (console, API, CLI) refuse with the checklist's reasons. A guard returns None, one
# message, or a list of messages (the first one says what is refused, the rest why).
EXTRA_MERCHANT_GUARDS: dict[str, list[MerchantGuard]] = {}


def register_merchant_guard(action: str, guard: MerchantGuard) -> None:
    if action not in MERCHANT_ACTIONS:
        raise ValueError(f"unknown merchant action {action}")
    bucket = EXTRA_MERCHANT_GUARDS.setdefault(action, [])
    if guard not in bucket:
        bucket.append(guard)


def merchant_guards_for(move: MerchantTransition) -> tuple[MerchantGuard, ...]:
    return move.guards + tuple(EXTRA_MERCHANT_GUARDS.get(move.action, ()))
