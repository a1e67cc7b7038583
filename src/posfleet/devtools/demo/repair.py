"""Demo repairs: every model gets an inspection interval, its QC checklist and a short operating guide;
three terminals in stock join the loaner pool; and a handful of repair orders, in different states
and over past months, give the repair pages, the portal and the dashboard's charts something to show.
All through the repair services (as the demo's system actor), so the audit trail is real."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from posfleet.accounts.models import MerchantUser
from posfleet.cases.services.application import stock_for
from posfleet.core.actor import Actor
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal, TerminalModel
from posfleet.repair.choices import DEFAULT_QC_CHECKS
from posfleet.repair.models import Fault, RepairOrder
from posfleet.repair.services import faults, loaners, orders

GUIDE = (
    "1. 长按电源键开机，待出现主界面。\n"
    "2. 用收银员编号和密码登录。\n"
    "3. 插卡、刷卡或挥卡收款；扫码收款请选择“扫码”。\n"
    "4. 每天营业结束后做一次结算，打印结算单。\n"
    "5. 遇到故障请在商户门户“维修”中报修，切勿拆机。"
)
INTERVALS = (90, 180, 365)
# (symptom, category, months ago, the order's path)
STORIES: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("screen", "hardware", 4, ("diagnose", "start", "step", "qc", "finish")),
    ("printer", "hardware", 3, ("diagnose", "start", "step", "qc", "finish")),
    ("crash", "software", 2, ("diagnose", "remote_fix")),
    ("card_reader", "hardware", 1, ("diagnose", "start", "step", "qc", "finish")),
    ("mobile", "network", 0, ("diagnose", "quote")),
    ("screen", "hardware", 0, ("diagnose", "lend")),
    ("keypad", "hardware", 0, ()),
)
DATA: dict[str, dict[str, Any]] = {
    "diagnose": {
        "diagnosis": "现场检测后确认故障，送厂维修",
        "where": "manufacturer",
        "provider": "厂商售后中心",
    },
    "step": {
        "done": "更换故障部件并刷新固件",
        "parts": [{"part": "主板排线", "serial": "FPC-2026-018"}],
        "test_results": "全部功能正常",
    },
    "qc": {"results": [{"check": c, "passed": True} for c in DEFAULT_QC_CHECKS]},
    "remote_fix": {"note": "远程推送应用更新后恢复"},
    "quote": {
        "provider": "厂商售后中心",
        "where": "manufacturer",
        "amount_fen": 28000,
        "days": 5,
        "warranty_months": 6,
    },
}


def _models() -> None:
    for n, model in enumerate(TerminalModel.objects.order_by("id")):
        model.inspection_interval_days = INTERVALS[n % len(INTERVALS)]
        model.qc_checks = model.qc_checks or list(DEFAULT_QC_CHECKS)
        model.operating_guide = model.operating_guide or GUIDE
        model.save(update_fields=["inspection_interval_days", "qc_checks", "operating_guide"])


def _candidates(merchant_ids: list[int]) -> list[Terminal]:
    portal = set(MerchantUser.objects.values_list("merchant_id", flat=True))
    rows = list(
        Terminal.objects.filter(
            merchant_id__in=merchant_ids, state=TerminalState.ACTIVE, merchant__state="active"
        )
        .exclude(holds__released_at__isnull=True, holds__closed=False)
        .order_by("id")[:200]
    )
    return sorted(rows, key=lambda t: (t.merchant_id not in portal, t.pk))


def load(merchant_ids: Iterable[int], days: int = 30) -> int:
    """Returns how many repair orders it opened; does nothing when repairs exist already."""
    if RepairOrder.objects.exists():
        return 0
    _models()
    for terminal in stock_for(None)[:3]:
        Terminal.objects.filter(pk=terminal.pk).update(is_loaner=True)
    actor = Actor.system("cli", name="demo")
    now = timezone.now()
    picked: set[int] = set()
    opened = 0
    for terminal, (symptom, category, months, path) in zip(
        _candidates(list(merchant_ids)), STORIES, strict=False
    ):
        if terminal.merchant_id in picked:
            continue
        picked.add(terminal.merchant_id or 0)
        started = now - timedelta(days=30 * months + 2)
        fault = faults.report_fault(
            actor,
            faults.FaultInput(
                tid=terminal.tid,
                category=category,
                symptom=symptom,
                started_at=started,
                frequency="always",
                trigger="营业高峰时出现",
                customer_feedback="顾客反映付款等待时间长",
                stop_terminal=not path,
            ),
        )
        order = fault.order
        for action in path:
            if action == "lend":
                loaners.lend(actor, order.merchant_id, order.pk)
            else:  # under warranty unless a quote waits for the merchant
                data = DATA.get(action, {}) | (
                    {"under_warranty": "quote" not in path} if action == "diagnose" else {}
                )
                orders.apply(actor, order.pk, action, data)
        reported = now - timedelta(days=30 * months)
        Fault.objects.filter(pk=fault.pk).update(created_at=reported)
        ends = (
            {"finished_at": reported + timedelta(hours=20 + 10 * months)}
            if path[-1:] in (("finish",), ("remote_fix",))
            else {}
        )
        RepairOrder.objects.filter(pk=order.pk).update(created_at=reported, **ends)
        opened += 1
    return opened
