"""Demo data for a fresh database (`posfleet demo`, issue 2 §9).

`load()` creates the staff users (one per role, named after it), about 60 merchants of every kind with
Chinese names, addresses, phones and valid settlement cards, five terminal models (one no longer
permitted, one with a high minimum patch level), the realistic terminals through the lifecycle services
(every state, accessories, holds of every kind: in force, scheduled, ended, on terminals and on
merchants), portal users for some merchants, then the other apps' demo loaders when they exist
(`posfleet.<app>.demo.load(merchant_ids, days=30)`), and finally, for benchmark scale, the rest of the
terminals in bulk. The same seed gives the same data (times are relative to now).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from posfleet.devtools.demo import fleet, people, scale
from posfleet.devtools.demo.names import Names
from posfleet.registry.choices import MerchantState
from posfleet.registry.models import Merchant

REALISTIC_MAX = 320  # terminals loaded through the services; beyond this, bulk (benchmark scale)
PLUGINS = (
    "posfleet.devtools.demo.money",
    "posfleet.devtools.demo.settlement",
    "posfleet.devtools.demo.cases",
    "posfleet.devtools.demo.keys",
)
PORTAL_MERCHANTS = 8


@dataclass
class Result:
    merchants: int = 0
    terminals: int = 0
    bulk_terminals: int = 0
    holds: int = 0
    portal_users: list[str] = field(default_factory=list)
    plugins: dict[str, str] = field(default_factory=dict)  # module → "ok" | "missing" | error text
    problems: list[str] = field(default_factory=list)


class PluginFailed(RuntimeError):
    pass


def _call_plugin(module_name: str, merchant_ids: list[int], days: int) -> str:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return "missing"
        raise
    loader: Callable[..., Any] | None = getattr(module, "load", None)
    if loader is None:
        return "missing"
    kwargs: dict[str, Any] = {}
    if "days" in inspect.signature(loader).parameters:
        kwargs["days"] = days
    loader(list(merchant_ids), **kwargs)
    return "ok"


def run_plugins(merchant_ids: list[int], *, days: int = 30, strict: bool = False) -> dict[str, str]:
    """Each app's demo in turn, each in its own transaction; a failure names the module."""
    outcome: dict[str, str] = {}
    for name in PLUGINS:
        try:
            with transaction.atomic():
                outcome[name] = _call_plugin(name, merchant_ids, days)
        except Exception as exc:
            if strict:
                raise PluginFailed(f"{name}.load failed: {exc.__class__.__name__}: {exc}") from exc
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
    plugins: bool = True,
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
    if plugins:
        ids = loaded.ids(MerchantState.ACTIVE, MerchantState.CLOSING, MerchantState.CLOSED)
        say("other apps' demo data (money, settlement, cases, keys) …")
        result.plugins = run_plugins(ids, days=days, strict=strict)
    if terminals > realistic:
        say(f"{terminals - realistic} more terminals in bulk (benchmark scale) …")
        result.bulk_terminals = scale.add_terminals(
            terminals - realistic, first_tid=fleet.FIRST_TID + realistic, seed=seed, progress=progress
        )
    return result


__all__ = ["PLUGINS", "Result", "load", "people"]
