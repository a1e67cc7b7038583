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
from datetime import timedelta
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


def load(merchant_ids: list[int], days: int = 30) -> dict[str, int]:
    agent = _actor("agent", "agent")
    reviewer = _actor("reviewer", "reviewer")
    warehouse = _actor("warehouse", "warehouse")
    now = timezone.now()
    made: dict[str, int] = {}

    def filed(upload: tuple[str, ...] | None = (), **fields: Any) -> Case:
        """File a case as the agent, then upload `upload` (None: everything it asks for)."""
        case = services.file_case(agent, services.CaseInput(**fields))
        if upload != ():
            _upload(agent, case, upload)
        return case

    def waiting(m: Merchant) -> Case:
        case = filed(
            (MaterialType.APPLICATION_FORM,),
            kind="suspension",
            merchant_id=m.pk,
            terminals=_tids(m),
            reason="renovation_or_relocation",
            note="门店装修，预计两周",
            channel=CaseChannel.PHONE,
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=16),
        )
        wanted = "身份证明" if m.kind == MerchantKind.INDIVIDUAL else "营业执照复印件和身份证明"
        return services.decide(reviewer, case.pk, "need_materials", f"请补充{wanted}。")

    def suspended(m: Merchant) -> Case:
        case = filed(
            None,
            kind="suspension",
            merchant_id=m.pk,
            terminals=_tids(m),
            reason="temporary_closure",
            note="春节暂停营业",
            channel=CaseChannel.PORTAL,
            starts_at=now,
            ends_at=now + timedelta(days=10),
        )
        return services.decide(reviewer, case.pk, "approve", "材料齐全，同意停机。")

    def deactivating(m: Merchant) -> Case:
        case = filed(
            None,
            kind="deactivation",
            merchant_id=m.pk,
            terminals=_tids(m),
            reason="technology_upgrade",
            note="更换为新款智能POS",
            follow_up_note="新设备已寄出，旧设备寄回仓库",
            channel=CaseChannel.BRANCH,
        )
        services.decide(reviewer, case.pk, "approve", "同意停用。")
        return services.stop_terminals(reviewer, case.pk)

    def closing(m: Merchant) -> Case:
        case = filed(
            None,
            kind="closure",
            merchant_id=m.pk,
            reason="business_change",
            note="商户转让，申请注销",
            follow_up_note="结清款项后退还押金",
            channel=CaseChannel.EMAIL,
            planned_date=timezone.localdate(now) + timedelta(days=7),
        )
        return services.decide(reviewer, case.pk, "approve", "同意注销，请按清单办理。")

    def rejected(m: Merchant) -> Case:
        case = filed(
            kind="deactivation",
            merchant_id=m.pk,
            terminals=_tids(m),
            reason="other",
            note="不想用了",
            channel=CaseChannel.FAX,
        )
        return services.decide(reviewer, case.pk, "reject", "申请人身份无法核实，请本人携带证件到网点办理。")

    def another_terminal(m: Merchant) -> Case:
        """Approved, a terminal allocated from stock and shipped: the technician installs it next."""
        case = filed(
            None,
            kind="application",
            merchant_id=m.pk,
            reason="additional_terminal",
            note="新开收银台，需增加一台终端",
            channel=CaseChannel.PHONE,
            install_address=m.address or "门店收银台",
        )
        services.decide(reviewer, case.pk, "approve", "资料齐全，同意增加终端。")
        services.allocate(warehouse, case.pk)
        return services.ship(
            warehouse,
            case.pk,
            carrier="sf_express",
            tracking_no=f"SF{1400000000 + case.pk}",
            shipped_on=timezone.localdate(now),
        )

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

    recipes: list[tuple[str, Callable[[Merchant], Any]]] = [
        ("needs_materials", waiting),
        ("suspension_approved", suspended),
        ("deactivation_in_progress", deactivating),
        ("closure_in_progress", closing),
        ("rejected", rejected),
        ("application_shipped", another_terminal),
    ]
    merchants = _candidates(merchant_ids)
    for (name, recipe), merchant in zip(recipes, merchants, strict=False):
        try:
            with transaction.atomic():
                recipe(merchant)
            made[name] = merchant.pk
        except DomainError as exc:
            log.warning("demo case %s skipped: %s", name, exc)
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
