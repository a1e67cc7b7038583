"""Carrying out a deactivation or closure: stop, returns, final statement, money, completion.

Every step checks its own permission (`work_case`, `inspect_return`, `settle_case`) and the sensitive
ones (stopping terminals, refunds, closing the account) ask for step-up. The lifecycle moves, ledger
postings and letters they cause are made by the delegated system actor (see common.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from posfleet.accounts.stepup import require_step_up
from posfleet.audit.services import Change, record
from posfleet.cases.choices import CaseKind, CaseState, SettlementState
from posfleet.cases.models import Case, CaseSettlement, ReturnItem
from posfleet.cases.services import letters
from posfleet.cases.services.checklist import (
    blocking,
    checklist,
    expected_returns,
    scope_terminals,
)
from posfleet.cases.services.common import (
    check_version,
    delegate,
    fen,
    get_case,
    require_staff,
    update_case,
)
from posfleet.core import labels
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, InvalidTransition, ValidationFailed
from posfleet.lifecycle.services import apply, apply_merchant
from posfleet.money import ledger
from posfleet.registry.choices import Condition, MerchantState, TerminalState
from posfleet.registry.models import Accessory, Merchant, Terminal
from posfleet.registry.prices import damage_charge
from posfleet.settlement import outstanding, statements


def _in_progress(case: Case) -> None:
    if not case.is_stop:
        raise InvalidTransition(_("Only deactivation and closure cases have this step."))
    if case.state != CaseState.IN_PROGRESS:
        raise InvalidTransition(
            _("This case is %(state)s; it must be approved and in progress.")
            % {"state": case.get_state_display()},
            details={"state": case.state},
        )


# --- 1. stop ------------------------------------------------------------------------------------------


def stop_terminals(
    actor: Actor,
    case_id: int,
    *,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """Stop the scope now (the default, even when a planned time is scheduled) or at `at`; a time
    still ahead is scheduled (the worker stops it then). The returned case says which happened:
    `stopped_at` set (stopped now) or not (scheduled for `effective_at`)."""
    require_staff(actor, "work_case")
    require_step_up(actor)
    case = get_case(actor, case_id, for_update=True)
    check_version(case, expected_version)
    _in_progress(case)
    if case.stopped_at is not None:
        raise Conflict(_("The terminals of this case are already stopped."), code="already_stopped")
    now = timezone.now()
    if at is not None and timezone.is_naive(at):
        raise ValidationFailed(details={"at": [_("Give the time with its time zone offset (ISO 8601).")]})
    effective = at if at is not None else now
    if effective > now + timedelta(seconds=30):
        update_case(actor, case, "stop_scheduled", _("stop scheduled"), effective_at=effective)
        _schedule_stop(case.pk, effective)
        return case
    return do_stop(actor, case, now)


@db_task(name="cases.stop_terminals")
def stop_case_terminals(case_id: int) -> int:
    """Worker: the scheduled stop; it stops every case that is due (idempotent)."""
    return stop_due()


def _schedule_stop(case_id: int, eta: datetime) -> None:
    transaction.on_commit(lambda: stop_case_terminals.schedule(args=(case_id,), eta=eta))


def do_stop(actor: Actor, case: Case, now: datetime) -> Case:
    """Deactivate every running terminal of the scope; a closure also puts the merchant into closing."""
    helper = delegate(actor)
    reason = _("Case #%(id)s (%(kind)s): %(reason)s") % {
        "id": case.pk,
        "kind": case.get_kind_display(),
        "reason": labels.label(case.reason),
    }
    category = "compliance" if case.reason == "compliance" else "merchant_request"  # the merchant is told
    stopped = []
    for terminal in scope_terminals(case):
        if terminal.state in (TerminalState.ACTIVE, TerminalState.IN_REPAIR):
            apply(helper, terminal.tid, "deactivate", reason=reason, reason_category=category)
            stopped.append(terminal.tid)
    if case.kind == CaseKind.CLOSURE:
        merchant = Merchant.objects.get(pk=case.merchant_id)
        if merchant.state == MerchantState.ACTIVE:
            apply_merchant(helper, merchant.pk, "start_closing", reason=reason)
    update_case(
        actor,
        case,
        "stop",
        reason,
        extra={"deactivated": stopped},
        stopped_at=now,
        effective_at=case.effective_at or now,
    )
    return case


def stop_due(now: datetime | None = None) -> int:
    """Worker: stop the cases whose scheduled effective time has come (idempotent)."""
    now = now or timezone.now()
    done = 0
    ids = list(
        Case.objects.filter(
            state=CaseState.IN_PROGRESS, stopped_at__isnull=True, effective_at__lte=now
        ).values_list("id", flat=True)
    )
    for case_id in ids:
        with transaction.atomic():
            case = Case.objects.select_for_update(no_key=True).select_related("merchant").get(pk=case_id)
            if case.stopped_at is None and case.state == CaseState.IN_PROGRESS:
                do_stop(Actor.system("worker", name="cases scheduler"), case, now)
                done += 1
    return done


# --- 2. returns ---------------------------------------------------------------------------------------


@dataclass
class ReturnInput:
    item: str
    condition: str


def record_returns(actor: Actor, case_id: int, items: list[Any]) -> list[ReturnItem]:
    """Warehouse receives and inspects lent items; damaged or missing ones are charged from the contract."""
    require_staff(actor, "inspect_return")
    case = get_case(actor, case_id, for_update=True)
    _in_progress(case)
    parsed = [
        i if isinstance(i, ReturnInput) else ReturnInput(str(i.get("item", "")), str(i.get("condition", "")))
        for i in items
    ]
    if not parsed:
        raise ValidationFailed(details={"items": [_("Name at least one item.")]})
    scope = {t.tid: t for t in scope_terminals(case)}
    _check_returns(case, parsed, scope)
    contract = getattr(case.merchant, "contract", None)
    now = timezone.now()
    kinds = {
        f"accessory:{a.pk}": a.kind
        for a in Accessory.objects.filter(terminal_id__in=[t.pk for t in scope.values()])
    }
    created = []
    for entry in parsed:
        kind = "terminal" if entry.item.startswith("terminal:") else kinds[entry.item]
        charge = damage_charge(contract, kind, entry.condition)
        created.append(_receive(actor, case, entry, kind, charge, now))
    return created


def _check_returns(case: Case, parsed: list[ReturnInput], scope: dict[str, Terminal]) -> None:
    """Each item was lent under the case, is received once, and a terminal comes back stopped."""
    expected = set(expected_returns(case))
    done = set(case.returns.values_list("item", flat=True))
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for n, entry in enumerate(parsed):
        problems = []
        if entry.condition not in Condition.values:
            problems.append(_("Choose one of: %(c)s.") % {"c": ", ".join(Condition.values)})
        if entry.item not in expected:
            problems.append(_("%(item)s was not lent under this case.") % {"item": entry.item})
        elif entry.item in done:
            problems.append(_("%(item)s was already received.") % {"item": entry.item})
        elif entry.item in seen:
            problems.append(_("%(item)s appears twice.") % {"item": entry.item})
        elif entry.item.startswith("terminal:"):
            terminal = scope[entry.item.split(":", 1)[1]]
            if terminal.state in (TerminalState.ACTIVE, TerminalState.IN_REPAIR):
                problems.append(
                    _("Terminal %(tid)s must be stopped before it is returned.") % {"tid": terminal.tid}
                )
        seen.add(entry.item)
        if problems:
            errors[str(n)] = problems
    if errors:
        raise ValidationFailed(_("Some returned items are not valid."), details={"items": errors})


def _receive(
    actor: Actor, case: Case, entry: ReturnInput, kind: str, charge: int, now: datetime
) -> ReturnItem:
    """One item in: its inspection recorded, a terminal back to the warehouse, damage charged."""
    helper = delegate(actor)
    row = ReturnItem.objects.create(
        case=case,
        item=entry.item,
        item_kind=kind,
        condition=entry.condition,
        charge_fen=charge,
        inspected_by=actor.user,
        inspected_by_name=actor.name,
        at=now,
    )
    record(
        actor,
        Change(
            "case",
            str(case.pk),
            "case.return",
            None,
            {"item": entry.item, "kind": kind, "condition": entry.condition, "charge_fen": charge},
            entry.condition,
        ),
        at=now,
    )
    if kind == "terminal":
        tid = entry.item.split(":", 1)[1]
        terminal = Terminal.objects.get(tid=tid)
        why = _("Returned under case #%(id)s") % {"id": case.pk}
        if terminal.state == TerminalState.DEACTIVATED:
            apply(helper, tid, "receive_return", reason=why)
        elif terminal.state == TerminalState.ALLOCATED:  # never activated: straight back to stock
            apply(helper, tid, "deallocate", reason=why)
    if charge:
        ledger.charge(
            helper,
            case.merchant_id,
            "damage_charge",
            charge,
            ref=f"case:{case.pk}:return:{entry.item}",
            memo=f"{entry.item} {entry.condition}",
        )
    return row


# --- 3. final statement -------------------------------------------------------------------------------


def issue_final_statement(actor: Actor, case_id: int) -> Case:
    """Issue the final reconciliation statement; refused while the scope's money is not cleared."""
    require_staff(actor, "work_case", "settle_case")
    case = get_case(actor, case_id, for_update=True)
    _in_progress(case)
    tids = None if case.kind == CaseKind.CLOSURE else letters.scope_tids(case)
    answer = outstanding.is_cleared(case.merchant_id, tids=tids)
    if not answer.cleared:
        raise Conflict(
            _("The money of this case is not cleared yet."),
            code="not_cleared",
            details={"reasons": answer.reasons},
        )
    contract = getattr(case.merchant, "contract", None)
    date_to = timezone.localdate()
    opened: date = (
        contract.starts_on if contract is not None else timezone.localdate(case.merchant.created_at)
    )
    # the statement covers the contract, at most the last 366 days (the statement's own limit)
    date_from = min(max(opened, date_to - timedelta(days=365)), date_to)
    lines = [f"商户：{case.merchant.name}", f"申请编号：{case.pk}", f"对账期间：{date_from} 至 {date_to}"]
    facts: dict[str, Any] = {"date_from": date_from, "date_to": date_to}
    rows = list(statements.statement_rows(case.merchant_id, date_from, date_to))
    facts["rows"] = len(rows)
    lines.append(f"明细行数：{len(rows)}")
    bal = ledger.balances(case.merchant_id)
    lines.append(
        f"未结算：{fen(bal.unsettled_fen)} 元　已结算未付：{fen(bal.settled_unpaid_fen)} 元　"
        f"押金：{fen(bal.deposit_held_fen)} 元　应付：{fen(bal.amount_due_fen)} 元"
    )
    lines.append("结论：交易已全部结算，无未决争议，无冻结资金。")
    notice_id = letters.issue_statement(delegate(actor), case, lines, facts)
    now = timezone.now()
    return update_case(
        actor,
        case,
        "statement",
        _("final reconciliation statement issued"),
        statement_issued_at=now,
        statement_notice_id=notice_id,
    )


# --- 4. money -----------------------------------------------------------------------------------------


def _inside_min_term(case: Case, today: date) -> bool:
    contract = getattr(case.merchant, "contract", None)
    if contract is None or not contract.min_term_months:
        return False
    start = contract.starts_on
    months = start.month - 1 + contract.min_term_months
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, 28)
    return today < date(year, month, day)


def settle(
    actor: Actor, case_id: int, *, proof: str = "", expected_version: int | None = None
) -> CaseSettlement:
    """Penalty if inside the minimum term, then everything due is taken from the deposit and the rest
    refunded (with its proof); a shortfall stays as an amount due the merchant must pay.

    A deactivation of some terminals keeps the contract and the deposit: its charges are simply due.
    """
    require_staff(actor, "settle_case")
    require_step_up(actor)
    case = get_case(actor, case_id, for_update=True)
    check_version(case, expected_version)
    _in_progress(case)
    if CaseSettlement.objects.filter(case=case).exists():
        raise Conflict(_("This case is already settled."), code="already_settled")
    missing = [i for i in expected_returns(case) if i not in set(case.returns.values_list("item", flat=True))]
    if missing:
        raise Conflict(
            _("Inspect every returned item first; open: %(items)s.") % {"items": ", ".join(missing)},
            code="returns_open",
            details={"items": missing},
        )
    helper = delegate(actor)
    proof = (proof or "").strip()
    contract = getattr(case.merchant, "contract", None)
    penalty = 0
    closing = case.kind == CaseKind.CLOSURE
    if closing and contract is not None and _inside_min_term(case, timezone.localdate()):
        penalty = int(contract.early_termination_penalty_fen)
        if penalty > 0:
            ledger.charge(
                helper,
                case.merchant_id,
                "early_termination_penalty",
                penalty,
                ref=f"case:{case.pk}:penalty",
                memo=f"early termination, case #{case.pk}",
            )
    bal = ledger.balances(case.merchant_id)
    due = bal.amount_due_fen
    deposit = bal.deposit_held_fen if closing else 0
    applied = min(due, deposit)
    refund = deposit - applied
    if refund > 0 and not proof:
        raise ValidationFailed(
            _("Record the proof of the refund (receipt, contract)."),
            details={"proof": [_("Required when a deposit is refunded.")]},
        )
    if applied > 0:
        ledger.apply_deposit(helper, case.merchant_id, applied, ref=f"case:{case.pk}:deposit_applied")
    if refund > 0:
        ledger.refund_deposit(
            helper, case.merchant_id, refund, ref=f"case:{case.pk}:deposit_refund", proof=proof
        )
    damage = sum(case.returns.values_list("charge_fen", flat=True))
    shortfall = due - applied
    settlement = CaseSettlement.objects.create(
        case=case,
        penalty_fen=penalty,
        damage_fen=damage,
        unpaid_fen=max(due - penalty - damage, 0),
        deposit_fen=deposit,
        applied_fen=applied,
        refund_fen=refund,
        shortfall_fen=shortfall,
        proof=proof,
        state=SettlementState.SETTLED if shortfall == 0 else SettlementState.AWAITING_PAYMENT,
        settled_by_name=actor.name,
    )
    update_case(actor, case, "settle", proof or _("settled"), extra=settlement.as_dict())
    if shortfall:
        letters.notify(
            helper,
            case,
            f"应付款项通知：{fen(shortfall)} 元（申请编号 {case.pk}）",
            f"押金抵扣后仍有 {fen(shortfall)} 元应付，请付清后办理完结。",
        )
    return settlement


def record_payment(actor: Actor, case_id: int, amount_fen: int, *, ref: str = "") -> CaseSettlement:
    """The merchant paid (part of) the shortfall; when nothing is due any more the money is settled."""
    require_staff(actor, "settle_case")
    case = get_case(actor, case_id, for_update=True)
    _in_progress(case)
    settlement = CaseSettlement.objects.select_for_update(no_key=True).filter(case=case).first()
    if settlement is None:
        raise Conflict(_("Settle the case first."), code="not_settled")
    reference = (ref or "").strip() or f"case:{case.pk}:payment:{settlement.paid_fen + amount_fen}"
    ledger.record_payment(delegate(actor), case.merchant_id, amount_fen, ref=reference)
    settlement.paid_fen += amount_fen
    if ledger.balances(case.merchant_id).amount_due_fen == 0:
        settlement.state = SettlementState.SETTLED
    settlement.save(update_fields=["paid_fen", "state"])
    update_case(
        actor, case, "payment", reference, extra={"amount_fen": amount_fen, "settlement": settlement.state}
    )
    return settlement


# --- 5. completion ------------------------------------------------------------------------------------


def unbind_settlement_card(actor: Actor, merchant: Merchant, reason: str) -> None:
    """Clear the stored settlement card (encrypted number and last four), audited without the number."""
    before = {
        "settlement_card_last4": merchant.settlement_card_last4,
        "bound": bool(merchant.settlement_card_enc),
    }
    Merchant.objects.filter(pk=merchant.pk).update(settlement_card_enc="", settlement_card_last4="")
    merchant.settlement_card_enc, merchant.settlement_card_last4 = "", ""
    record(
        actor,
        Change(
            "merchant",
            str(merchant.pk),
            "merchant.unbind_settlement_card",
            before,
            {"settlement_card_last4": "", "bound": False},
            reason,
        ),
    )


def complete(actor: Actor, case_id: int, *, expected_version: int | None = None) -> Case:
    """Complete the case when its checklist holds (409 `checklist_incomplete` naming what does not).

    A closure then unbinds the settlement card and closes the merchant; its records are kept.
    """
    require_staff(actor, "work_case")
    case = get_case(actor, case_id, for_update=True)
    check_version(case, expected_version)
    now = timezone.now()
    if case.kind == CaseKind.SUSPENSION and case.state == CaseState.APPROVED:
        return update_case(
            actor, case, "complete", _("suspension over"), state=CaseState.COMPLETED, completed_at=now
        )
    _in_progress(case)
    failing = blocking(case, checklist(case))
    if failing:
        raise Conflict(
            _("The checklist is not complete: %(items)s.") % {"items": ", ".join(i.item for i in failing)},
            code="checklist_incomplete",
            details=[i.as_dict() for i in failing],
        )
    if case.kind == CaseKind.CLOSURE:
        require_step_up(actor)
        helper = delegate(actor)
        reason = _("Closure case #%(id)s completed") % {"id": case.pk}
        merchant = Merchant.objects.select_for_update(no_key=True).get(pk=case.merchant_id)
        if merchant.settlement_card_enc or merchant.settlement_card_last4:
            unbind_settlement_card(helper, merchant, reason)
        if merchant.state == MerchantState.CLOSING:
            apply_merchant(helper, merchant.pk, "close", reason=reason, case=case)
    update_case(actor, case, "complete", _("checklist complete"), state=CaseState.COMPLETED, completed_at=now)
    settlement = CaseSettlement.objects.filter(case=case).first()
    if settlement is not None:
        letters.issue_final_letter(delegate(actor), case, settlement)
    letters.notify(
        delegate(actor),
        case,
        f"{letters.KIND_ZH.get(case.kind, case.kind)}已办结（申请编号 {case.pk}）",
        "您的申请已全部办结。相关记录将按规定保存。",
    )
    return case
