"""Letters and notices of a case, through the notices app (issue_letter / tell_merchant).

Each letter names the institution's case number, the terminals, the dates and the fees. The notice
text is Chinese by default (the merchant's language); the facts dict carries the same data for the
English rendering and for verification.
"""

from __future__ import annotations

from typing import Any

from posfleet.cases.choices import CaseKind
from posfleet.cases.models import Case
from posfleet.cases.services.common import fen
from posfleet.core.actor import Actor
from posfleet.notices import services
from posfleet.notices.tell import tell_merchant

KIND_ZH: dict[str, str] = {
    CaseKind.SUSPENSION: "停机",
    CaseKind.REACTIVATION: "停机解除",
    CaseKind.DEACTIVATION: "停用",
    CaseKind.CLOSURE: "注销",
    CaseKind.APPLICATION: "终端申请",
    CaseKind.APPEAL: "申诉",
}


def scope_tids(case: Case) -> list[str]:
    return list(case.scope.order_by("terminal_id").values_list("terminal__tid", flat=True))


def _fmt(value: Any) -> str:
    from django.utils import timezone

    if value is None:
        return "—"
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def case_facts(case: Case, **more: Any) -> dict[str, Any]:
    return {
        "case_id": case.pk,
        "case_kind": case.kind,
        "merchant": case.merchant.name,
        "terminals": scope_tids(case),
        "reason": case.reason,
        "starts_at": case.starts_at,
        "ends_at": case.ends_at,
        "planned_date": case.planned_date,
        **more,
    }


def issue_confirmation(
    actor: Actor, case: Case, *, fee_fen: int = 0, extra_lines: list[str] | None = None
) -> int:
    """The confirmation letter (确认函) of an approved case; returns the notice id (None if unavailable)."""
    zh = KIND_ZH.get(case.kind, case.kind)
    lines = [
        f"商户：{case.merchant.name}",
        f"申请编号：{case.pk}（{zh}）",
        f"终端：{'、'.join(scope_tids(case)) or '全部终端'}",
    ]
    if case.starts_at or case.ends_at:
        lines.append(f"预计开始：{_fmt(case.starts_at)}　预计结束：{_fmt(case.ends_at)}")
    if case.planned_date:
        lines.append(f"计划日期：{_fmt(case.planned_date)}")
    if fee_fen:
        lines.append(f"费用：{fen(fee_fen)} 元")
    lines.append(f"审核意见：{case.decision_reason}")
    lines.extend(extra_lines or [])
    notice = services.issue_letter(
        actor,
        merchant=case.merchant,
        kind="letter",
        title=f"{zh}确认函",
        facts=case_facts(case, fee_fen=fee_fen, decision_reason=case.decision_reason),
        lines=lines,
        case_id=case.pk,
    )
    return int(notice.pk)


def issue_final_letter(actor: Actor, case: Case, settlement: Any) -> int:
    """On completion: the confirmation letter with the final amounts (penalty, damage, deposit applied
    and refunded, what was still due and paid), which approval could not know yet."""
    zh = KIND_ZH.get(case.kind, case.kind)
    amounts = {
        "penalty_fen": settlement.penalty_fen,
        "damage_charges_fen": settlement.damage_fen,
        "unpaid_fees_fen": settlement.unpaid_fen,
        "deposit_fen": settlement.deposit_fen,
        "deducted_fen": settlement.applied_fen,
        "refund_fen": settlement.refund_fen,
        "amount_due_fen": settlement.shortfall_fen,
    }
    lines = [
        f"商户：{case.merchant.name}",
        f"申请编号：{case.pk}（{zh}）",
        f"终端：{'、'.join(scope_tids(case)) or '全部终端'}",
        f"提前解约违约金：{fen(settlement.penalty_fen)} 元",
        f"设备损坏/丢失赔偿：{fen(settlement.damage_fen)} 元",
        f"未付费用：{fen(settlement.unpaid_fen)} 元",
        f"押金：{fen(settlement.deposit_fen)} 元，其中抵扣 {fen(settlement.applied_fen)} 元，"
        f"退还 {fen(settlement.refund_fen)} 元",
        f"抵扣后应付：{fen(settlement.shortfall_fen)} 元，已付 {fen(settlement.paid_fen)} 元",
        "您的申请已全部办结。",
    ]
    notice = services.issue_letter(
        actor,
        merchant=case.merchant,
        kind="letter",
        title=f"{zh}办结确认函",
        facts=case_facts(case, **amounts),
        lines=lines,
        case_id=case.pk,
    )
    return int(notice.pk)


def issue_statement(actor: Actor, case: Case, lines: list[str], facts: dict[str, Any]) -> int:
    notice = services.issue_letter(
        actor,
        merchant=case.merchant,
        kind="statement",
        title="对账单（最终）",
        facts=case_facts(case, **facts),
        lines=lines,
        case_id=case.pk,
    )
    return int(notice.pk)


def notify(actor: Actor, case: Case, title: str, body: str, *, kind: str = "notice") -> int:
    """A portal/SMS-style notice to the merchant about its case."""
    return tell_merchant(actor, case.merchant, title, body, case_id=case.pk, kind=kind)
