"""The checklist of a deactivation or closure, computed from live data every time it is read.

Nothing here is stored as "done": each item asks the owning app (lifecycle, settlement, keys, money)
the question again, so a checklist can never say yes while the fact underneath says no. Each item is
{item, ok, why}; `why` explains a failure in words the merchant and staff can act on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from posfleet.cases.choices import CaseKind, ExportState, SettlementState
from posfleet.cases.models import Case, CaseExport, CaseSettlement
from posfleet.cases.services.common import fen
from posfleet.keys.services import keys_destroyed
from posfleet.money import ledger
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Accessory, Terminal
from posfleet.settlement import outstanding

STOPPED_STATES = (
    TerminalState.ALLOCATED,  # never activated: cannot transact
    TerminalState.DEACTIVATED,
    TerminalState.RETURNED,
    TerminalState.RETIRED,
    TerminalState.IN_STOCK,
)


@dataclass(frozen=True)
class ChecklistItem:
    item: str
    ok: bool
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def scope_terminals(case: Case) -> list[Terminal]:
    return list(Terminal.objects.filter(pk__in=case.scope.values("terminal_id")).order_by("id"))


def expected_returns(case: Case) -> list[str]:
    """Every lent item of the scope: each terminal and each accessory lent with it."""
    terminals = scope_terminals(case)
    items = [f"terminal:{t.tid}" for t in terminals]
    items += [
        f"accessory:{a_id}"
        for a_id in Accessory.objects.filter(terminal__in=terminals)
        .order_by("id")
        .values_list("id", flat=True)
    ]
    return items


def item_names(items: list[str]) -> list[str]:
    """Return items as people name them: "terminal:10000107" → "Terminal 10000107",
    "accessory:255" → "Printer (with 10000107)"."""
    ids = [int(i.split(":", 1)[1]) for i in items if i.startswith("accessory:")]
    accessories = {a.pk: a for a in Accessory.objects.filter(pk__in=ids).select_related("terminal")}
    names = []
    for item in items:
        kind, _sep, key = item.partition(":")
        accessory = accessories.get(int(key)) if kind == "accessory" and key.isdigit() else None
        if kind == "terminal":
            names.append(_("Terminal %(tid)s") % {"tid": key})
        elif accessory is not None:
            names.append(
                _("%(accessory)s (with %(tid)s)")
                % {
                    "accessory": accessory.get_kind_display(),
                    "tid": accessory.terminal.tid if accessory.terminal else "—",
                }
            )
        else:
            names.append(item)
    return names


def _terminals_stopped(case: Case, terminals: list[Terminal]) -> ChecklistItem:
    running = [t.tid for t in terminals if t.state not in STOPPED_STATES]
    if case.kind == CaseKind.CLOSURE:
        running += list(
            case.merchant.terminals.exclude(pk__in=[t.pk for t in terminals])
            .exclude(state__in=STOPPED_STATES)
            .values_list("tid", flat=True)
        )
    if running:
        if case.effective_at is not None and case.stopped_at is None:
            from django.utils import timezone

            when = timezone.localtime(case.effective_at).strftime("%Y-%m-%d %H:%M")
            return ChecklistItem(
                "terminals_stopped",
                False,
                _("Stop scheduled for %(when)s; still able to transact: %(tids)s.")
                % {"when": when, "tids": ", ".join(running)},
            )
        return ChecklistItem(
            "terminals_stopped",
            False,
            _("Still able to transact: %(tids)s.") % {"tids": ", ".join(running)},
        )
    if case.kind == CaseKind.CLOSURE and case.merchant.state == MerchantState.ACTIVE:
        return ChecklistItem("terminals_stopped", False, _("The merchant has not been put into closing."))
    return ChecklistItem(
        "terminals_stopped", True, _("All %(n)d terminals are stopped.") % {"n": len(terminals)}
    )


def _money_cleared(case: Case, terminals: list[Terminal]) -> ChecklistItem:
    tids = None if case.kind == CaseKind.CLOSURE else [t.tid for t in terminals]
    answer = outstanding.is_cleared(case.merchant_id, tids=tids)
    if not answer.cleared:
        reasons = "; ".join(str(r.get("message") or r.get("code")) for r in answer.reasons)
        return ChecklistItem("money_cleared", False, _("Not cleared: %(r)s") % {"r": reasons})
    if case.statement_issued_at is None:
        return ChecklistItem(
            "money_cleared", False, _("Cleared, but the final reconciliation statement has not been issued.")
        )
    return ChecklistItem("money_cleared", True, _("Cleared; final statement issued."))


def _data_exported(case: Case) -> ChecklistItem:
    export = CaseExport.objects.filter(case=case).first()
    if export is None:
        return ChecklistItem("data_exported", False, _("The transaction history has not been exported."))
    if export.state == ExportState.FAILED:
        return ChecklistItem("data_exported", False, _("The export failed: %(e)s") % {"e": export.error})
    if export.state != ExportState.DONE:
        return ChecklistItem(
            "data_exported", False, _("The export is being built (%(p)d%%).") % {"p": export.percent}
        )
    if export.path is None or not export.path.exists():
        return ChecklistItem("data_exported", False, _("The export file is missing; export again."))
    return ChecklistItem(
        "data_exported",
        True,
        _("%(rows)d transactions exported, SHA-256 %(sha)s.") % {"rows": export.rows, "sha": export.sha256},
    )


def _equipment_returned(case: Case) -> ChecklistItem:
    expected = expected_returns(case)
    received = set(case.returns.values_list("item", flat=True))
    missing = [i for i in expected if i not in received]
    if missing:
        return ChecklistItem(
            "equipment_returned",
            False,
            _("Not yet received and inspected: %(items)s.") % {"items": ", ".join(item_names(missing))},
        )
    return ChecklistItem(
        "equipment_returned", True, _("All %(n)d items received and inspected.") % {"n": len(expected)}
    )


def _keys_destroyed(terminals: list[Terminal]) -> ChecklistItem:
    live = [t.tid for t in terminals if not keys_destroyed(t.tid)]
    if live:
        return ChecklistItem(
            "keys_destroyed", False, _("Keys not yet destroyed: %(tids)s.") % {"tids": ", ".join(live)}
        )
    return ChecklistItem("keys_destroyed", True, _("No live key remains."))


def _money_settled(case: Case) -> ChecklistItem:
    settlement = CaseSettlement.objects.filter(case=case).first()
    if settlement is None:
        return ChecklistItem(
            "money_settled", False, _("Penalties, charges and the deposit are not settled yet.")
        )
    due = ledger.balances(case.merchant_id).amount_due_fen
    if settlement.state == SettlementState.AWAITING_PAYMENT or due > 0:
        return ChecklistItem(
            "money_settled", False, _("%(due)s CNY is due and must be paid first.") % {"due": fen(due)}
        )
    return ChecklistItem(
        "money_settled", True, _("Settled; %(refund)s CNY refunded.") % {"refund": fen(settlement.refund_fen)}
    )


def balance_problems(merchant_id: int) -> list[str]:
    """What keeps the merchant's account from being zero (empty list when it is)."""
    bal = ledger.balances(merchant_id)
    names = {
        "unsettled_fen": _("unsettled"),
        "settled_unpaid_fen": _("settled but not paid out"),
        "deposit_held_fen": _("deposit held"),
        "amount_due_fen": _("amount due"),
    }
    return [
        f"{label}: {fen(getattr(bal, name))} CNY" for name, label in names.items() if getattr(bal, name) != 0
    ]


def _account_closed(case: Case) -> ChecklistItem:
    problems = balance_problems(case.merchant_id)
    if problems:
        return ChecklistItem(
            "account_closed", False, _("The balance is not zero (%(p)s).") % {"p": "; ".join(problems)}
        )
    merchant = case.merchant
    if merchant.state != MerchantState.CLOSED or merchant.settlement_card_enc:
        return ChecklistItem(
            "account_closed",
            False,
            _(
                "Balance is zero; the settlement card is unbound and the merchant closed when the case completes."
            ),
        )
    return ChecklistItem("account_closed", True, _("Balance zero, settlement card unbound, merchant closed."))


def checklist(case: Case) -> list[ChecklistItem]:
    """The checklist of a deactivation or closure (empty for other kinds)."""
    if not case.is_stop:
        return []
    case.merchant.refresh_from_db()
    terminals = scope_terminals(case)
    items = [
        _terminals_stopped(case, terminals),
        _money_cleared(case, terminals),
        _data_exported(case),
        _equipment_returned(case),
        _keys_destroyed(terminals),
        _money_settled(case),
    ]
    if case.kind == CaseKind.CLOSURE:
        items.append(_account_closed(case))
    return items


def blocking(case: Case, items: list[ChecklistItem]) -> list[ChecklistItem]:
    """The items that stop completion; `account_closed` only blocks while the balance is not zero,
    because completion itself unbinds the card and closes the merchant."""
    failing = []
    for item in items:
        if item.ok:
            continue
        if item.item == "account_closed" and not balance_problems(case.merchant_id):
            continue
        failing.append(item)
    return failing
