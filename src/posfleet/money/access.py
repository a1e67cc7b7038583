"""Who may read a merchant's money: the one rule behind every money and settlement read.

Staff read any merchant's transactions, balances, settlements, statements and disputes with the
`view_money` permission; a merchant's portal login reads only its own merchant's, and another
merchant's reads as not found (nothing to learn from a 403). The money and settlement APIs, the
statement download and the dispute queries all ask here, so the rule is written once.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from posfleet.accounts.models import merchant_id_of
from posfleet.accounts.roles import perm
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied


def money_scope(actor: Actor) -> int | None:
    """The one merchant a portal login may read, or None for staff who may read all of them.

    Raises PermissionDenied for anyone else (staff without `view_money`)."""
    own = merchant_id_of(actor.user) if actor.user is not None else None
    if own is None and not actor.has_perm(perm("view_money")):
        raise PermissionDenied()
    return own


def require_money_reader(actor: Actor, merchant_id: int) -> None:
    """May `actor` read merchant `merchant_id`'s money? NotFound for another merchant's portal login,
    PermissionDenied for staff without `view_money` (the merchant's existence is the caller's check)."""
    own = money_scope(actor)
    if own is not None and own != merchant_id:
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
