"""Demo data for a fresh database (`posfleet demo`).

`load()` creates the staff users (one per role, named after it), about 60 merchants of every kind with
Chinese names, addresses, phones and valid settlement cards, five terminal models (one no longer
permitted, one with a high minimum patch level), the realistic terminals through the lifecycle services
(every state, accessories, holds of every kind: in force, scheduled, ended, on terminals and on
merchants), portal users for some merchants, then the other apps' demo loaders (`LOADERS`, each
`load(merchant_ids, days)`), and finally, for benchmark scale, the rest of the terminals in bulk. The
same seed gives the same data (times are relative to now).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from posfleet.devtools.demo import cases, fleet, keys, money, people, repair, scale, settlement
from posfleet.devtools.demo.names import Names
from posfleet.registry.choices import MerchantState
from posfleet.registry.models import Merchant

REALISTIC_MAX = 320  # terminals loaded through the services; beyond this, bulk (benchmark scale)
AppLoader = Callable[[list[int], int], object]  # load(merchant_ids, days)
# In this order: the settlement demo settles the money demo's transactions.
LOADERS: tuple[tuple[str, AppLoader], ...] = (
    (money.__name__, money.load),
    (settlement.__name__, settlement.load),
    (cases.__name__, cases.load),
    (keys.__name__, keys.load),
    (repair.__name__, repair.load),  # after keys: the loaners it lends are keyed at activation
)
PORTAL_MERCHANTS = 8


@dataclass
class Result:
    merchants: int = 0
    terminals: int = 0
    bulk_terminals: int = 0
    holds: int = 0
    portal_users: list[str] = field(default_factory=list)
    loaders: dict[str, str] = field(default_factory=dict)  # module → "ok" | error text
    problems: list[str] = field(default_factory=list)


class LoaderFailed(RuntimeError):
    pass


def run_loaders(merchant_ids: list[int], *, days: int = 30, strict: bool = False) -> dict[str, str]:
    """Each app's demo in turn, each in its own transaction; a failure names the module."""
    outcome: dict[str, str] = {}
    for name, loader in LOADERS:
        try:
            with transaction.atomic():
                loader(list(merchant_ids), days)
            outcome[name] = "ok"
        except Exception as exc:
            if strict:
                raise LoaderFailed(f"{name}.load failed: {exc.__class__.__name__}: {exc}") from exc
            outcome[name] = f"failed: {exc.__class__.__name__}: {exc}"
    return outcome


def _portal_merchants(merchants: list[Merchant]) -> list[Merchant]:
    """Active merchants of each kind first, then one that is closing (to show the checklist side)."""
    active = [m for m in merchants if m.state == MerchantState.ACTIVE]
    chosen: list[Merchant] = []
    for kind in ("individual", "sole_proprietor", "enterprise"):
        chosen += [m for m in active if m.kind == kind][:2]
    chosen += [m for m in active if m not in chosen][: max(0, PORTAL_MERCHANTS - 1 - len(chosen))]
    chosen += [m for m in merchants if m.state == MerchantState.CLOSING][:1]
    return sorted(chosen, key=lambda m: m.pk)


def load(
    *,
    terminals: int = 320,
    merchants: int = 60,
    seed: int = 2026,
    days: int = 30,
    loaders: bool = True,
    strict: bool = False,
    progress: bool = True,
    say: Callable[[str], None] = lambda _msg: None,
) -> Result:
    result = Result()
    say("staff users …")
    staff = people.create_staff()
    names = Names(seed)
    realistic = min(terminals, REALISTIC_MAX)
    say(f"{merchants} merchants and {realistic} terminals through the services …")
    loaded = fleet.Loader(staff, names, terminals=realistic, merchants=merchants).run()
    result.merchants = len(loaded.merchants)
    result.terminals = len(loaded.terminals)
    result.holds = len(loaded.holds)
    result.problems = loaded.problems
    portal = _portal_merchants(loaded.merchants)
    result.portal_users = [u.username for u in people.create_portal_users(portal)]
    if loaders:
        ids = loaded.ids(MerchantState.ACTIVE, MerchantState.CLOSING, MerchantState.CLOSED)
        say("other apps' demo data (money, settlement, cases, keys, repair) …")
        result.loaders = run_loaders(ids, days=days, strict=strict)
    if terminals > realistic:
        say(f"{terminals - realistic} more terminals in bulk (benchmark scale) …")
        result.bulk_terminals = scale.add_terminals(
            terminals - realistic, first_tid=fleet.FIRST_TID + realistic, seed=seed, progress=progress
        )
    return result


__all__ = ["LOADERS", "Result", "load", "people"]
