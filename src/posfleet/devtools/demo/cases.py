"""Demo cases (`posfleet demo` calls `load(merchant_ids)`): a few requests in every interesting state.

Portal merchants are served first, so a demo portal login (m<id>) finds requests of its own: one
waiting for materials, one approved suspension in force, a deactivation half-way through its checklist,
a closure just approved, a rejected request, an application for another terminal on its way (approved,
allocated, shipped). A new merchant's application filed at a branch waits for the rest of its
materials. Each case goes through the services (audit, letters, holds and fees are real); a case that
cannot be built on this data is skipped, never half-written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from posfleet.accounts.models import MerchantUser
from posfleet.cases import services
from posfleet.cases.choices import CaseChannel, MaterialType
from posfleet.cases.models import Case
from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError
from posfleet.registry.choices import MerchantKind, MerchantState, TerminalState
from posfleet.registry.models import Merchant
from posfleet.registry.services import MerchantInput

log = logging.getLogger(__name__)

# A tiny valid PDF (the material check reads the magic bytes).
DEMO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _actor(username: str, role: str) -> Actor:
    user = User.objects.filter(username=username).first()
    if user is None:
        return Actor.system("cli", name=f"demo {role}")
    return Actor.for_user(user, "console", stepped_up_at=timezone.now())


def _candidates(merchant_ids: list[int]) -> list[Merchant]:
    """Active merchants with at least two active terminals, portal-linked ones first."""
    portal = set(MerchantUser.objects.values_list("merchant_id", flat=True))
    merchants = [
        m
        for m in Merchant.objects.filter(pk__in=merchant_ids, state=MerchantState.ACTIVE).order_by("id")
        if m.terminals.filter(state=TerminalState.ACTIVE).count() >= 2
        and not Case.objects.filter(merchant=m).exists()
    ]
    return sorted(merchants, key=lambda m: (m.pk not in portal, m.pk))


def _upload(actor: Actor, case: Case, kinds: tuple[str, ...] | None = None) -> None:
    """Upload `kinds`, or everything the case asks of its merchant."""
    for kind in case.required_materials if kinds is None else kinds:
        services.add_material(actor, case.pk, kind, SimpleUploadedFile(f"{kind}.pdf", DEMO_PDF))


# A new business applying at a branch (valid licence number and settlement card; fictitious).
NEW_APPLICANT = MerchantInput(
    kind=MerchantKind.ENTERPRISE,
    name="杭州茗香阁茶饮有限公司",
    contact_name="陈晓梅",
    phone="13757100288",
    licence_no="91330106MA2KDEMO01",
    legal_representative="陈晓梅",
    settlement_card="6222021234567890128",
    address="浙江省杭州市西湖区文三路259号",
)


def _tids(m: Merchant, n: int = 1) -> list[str]:
    return list(
        m.terminals.filter(state=TerminalState.ACTIVE).order_by("id").values_list("tid", flat=True)[:n]
    )


def _ask_for_papers(m: Merchant) -> str:
    wanted = "身份证明" if m.kind == MerchantKind.INDIVIDUAL else "营业执照复印件和身份证明"
    return f"请补充{wanted}。"


def _stop(case: Case, now: datetime) -> None:
    services.stop_terminals(_actor("reviewer", "reviewer"), case.pk)


def _allocate_and_ship(case: Case, now: datetime) -> None:
    """A terminal from stock, shipped: the technician installs it next."""
    warehouse = _actor("warehouse", "warehouse")
    services.allocate(warehouse, case.pk)
    services.ship(
        warehouse,
        case.pk,
        carrier="sf_express",
        tracking_no=f"SF{1400000000 + case.pk}",
        shipped_on=timezone.localdate(now),
    )


@dataclass(frozen=True)
class DemoRequest:
    """A request of a demo merchant as the agent files it, the reviewer's decision and what follows.
    Times count from the moment the demo runs."""

    name: str
    kind: str
    reason: str
    channel: str
    note: str
    decision: str
    why: str | Callable[[Merchant], str]
    upload: tuple[str, ...] | None = None  # the materials handed in; None: every one the case asks for
    names_terminal: bool = True  # the merchant's first active terminal
    follow_up_note: str = ""
    starts_in: timedelta | None = None
    ends_in: timedelta | None = None
    planned_in: timedelta | None = None
    then: Callable[[Case, datetime], None] | None = None


# name, kind, reason, channel, note; the reviewer's decision and why; then what sets it apart
REQUESTS = [
    DemoRequest(
        "needs_materials", "suspension", "renovation_or_relocation", CaseChannel.PHONE, "门店装修，预计两周",
        "need_materials", _ask_for_papers, upload=(MaterialType.APPLICATION_FORM,),
        starts_in=timedelta(days=2), ends_in=timedelta(days=16),
    ),
    DemoRequest(
        "suspension_approved", "suspension", "temporary_closure", CaseChannel.PORTAL, "春节暂停营业",
        "approve", "材料齐全，同意停机。", starts_in=timedelta(0), ends_in=timedelta(days=10),
    ),
    DemoRequest(
        "deactivation_in_progress", "deactivation", "technology_upgrade", CaseChannel.BRANCH, "更换为新款智能POS",
        "approve", "同意停用。", follow_up_note="新设备已寄出，旧设备寄回仓库", then=_stop,
    ),
    DemoRequest(
        "closure_in_progress", "closure", "business_change", CaseChannel.EMAIL, "商户转让，申请注销",
        "approve", "同意注销，请按清单办理。", names_terminal=False, follow_up_note="结清款项后退还押金",
        planned_in=timedelta(days=7),
    ),
    DemoRequest(
        "rejected", "deactivation", "other", CaseChannel.FAX, "不想用了",
        "reject", "申请人身份无法核实，请本人携带证件到网点办理。", upload=(),
    ),
    DemoRequest(
        "application_shipped", "application", "additional_terminal", CaseChannel.PHONE, "新开收银台，需增加一台终端",
        "approve", "资料齐全，同意增加终端。", names_terminal=False, then=_allocate_and_ship,
    ),
]  # fmt: skip


def load(merchant_ids: list[int], days: int = 30) -> dict[str, int]:
    agent = _actor("agent", "agent")
    reviewer = _actor("reviewer", "reviewer")
    now = timezone.now()
    made: dict[str, int] = {}

    def filed(upload: tuple[str, ...] | None = (), **fields: Any) -> Case:
        """File a case as the agent, then upload `upload` (None: everything it asks for)."""
        case = services.file_case(agent, services.CaseInput(**fields))
        if upload != ():
            _upload(agent, case, upload)
        return case

    def build(r: DemoRequest, m: Merchant) -> None:
        case = filed(
            r.upload,
            kind=r.kind,
            merchant_id=m.pk,
            terminals=_tids(m) if r.names_terminal else [],
            reason=r.reason,
            note=r.note,
            follow_up_note=r.follow_up_note,
            channel=r.channel,
            starts_at=None if r.starts_in is None else now + r.starts_in,
            ends_at=None if r.ends_in is None else now + r.ends_in,
            planned_date=None if r.planned_in is None else timezone.localdate(now) + r.planned_in,
            install_address=(m.address or "门店收银台") if r.kind == "application" else "",
        )
        services.decide(reviewer, case.pk, r.decision, r.why(m) if callable(r.why) else r.why)
        if r.then is not None:
            r.then(case, now)

    def new_applicant() -> Case:
        """A new business at a branch: licence, representative's ID and settlement card in; the rest to come."""
        return filed(
            (
                MaterialType.BUSINESS_LICENCE_COPY,
                MaterialType.LEGAL_REP_ID_FRONT,
                MaterialType.LEGAL_REP_ID_BACK,
                MaterialType.SETTLEMENT_CARD,
            ),
            kind="application",
            applicant=NEW_APPLICANT,
            note="客户到网点办理，门店照片和对公账户证明稍后补交",
            channel=CaseChannel.BRANCH,
            install_address=NEW_APPLICANT.address,
        )

    merchants = _candidates(merchant_ids)
    for request, merchant in zip(REQUESTS, merchants, strict=False):
        try:
            with transaction.atomic():
                build(request, merchant)
            made[request.name] = merchant.pk
        except DomainError as exc:
            log.warning("demo case %s skipped: %s", request.name, exc)
    try:
        with transaction.atomic():
            made["application_new_merchant"] = new_applicant().merchant_id
    except DomainError as exc:
        log.warning("demo case application_new_merchant skipped: %s", exc)
    return made


def close_through_case(merchant_id: int, *, complete: bool, actor: Callable[[str], Actor]) -> Case:
    """A closing (or closed) demo merchant gets there the only way there is: an approved closure case
    and its stop; for a closed one, every checklist item and then the completion. Each step commits on
    its own, and the export job runs here as a worker would run it. `actor(username)` gives the staff."""
    from posfleet.keys.services import confirm_destruction, keys_destroyed, request_destruction

    agent, reviewer = actor("agent"), actor("reviewer")
    with transaction.atomic():
        case = services.file_case(
            agent,
            services.CaseInput(
                kind="closure",
                merchant_id=merchant_id,
                reason="business_change",
                note="商户申请注销（停止经营）",
                follow_up_note="结清款项、退回设备后退还押金",
                channel=CaseChannel.BRANCH,
            ),
        )
        _upload(agent, case)
        services.decide(reviewer, case.pk, "approve", "同意注销，请按清单办理。")
        services.stop_terminals(reviewer, case.pk)
    if not complete:
        return case
    with transaction.atomic():
        services.issue_final_statement(reviewer, case.pk)
        export = services.start_export(reviewer, case.pk)
    services.build_export(export.pk)
    with transaction.atomic():
        received = set(case.returns.values_list("item", flat=True))
        items = [
            {"item": item, "condition": "good"}
            for item in services.expected_returns(case)
            if item not in received
        ]
        if items:
            services.record_returns(actor("warehouse"), case.pk, items)
        first, second = actor("custodian1"), actor("custodian2")
        for tid in case.scope.values_list("terminal__tid", flat=True):
            if not keys_destroyed(tid):
                request_destruction(first, tid, "decommissioned")
                confirm_destruction(second, tid, "decommissioned")
        finance = actor("finance")
        settlement = services.settle(finance, case.pk, proof="押金退还凭证（演示）")
        if settlement.shortfall_fen:  # the early-termination penalty, paid at the counter
            services.record_payment(finance, case.pk, settlement.shortfall_fen, ref=f"demo:{case.pk}:paid")
        return services.complete(reviewer, case.pk)
