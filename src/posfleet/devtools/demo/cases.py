"""Demo cases (`posfleet demo` calls `load(merchant_ids)`): a few requests in every interesting state.

Portal merchants are served first, so a demo portal login (m<id>) finds requests of its own: one
waiting for materials, one approved suspension in force, a deactivation half-way through its checklist,
a closure just approved, a rejected request. Each case goes through the services (audit, letters,
holds and fees are real); a case that cannot be built on this data is skipped, never half-written.
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
from posfleet.cases.choices import REQUIRED_MATERIALS, CaseChannel
from posfleet.cases.models import Case
from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Merchant

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


def _upload(actor: Actor, case: Case, kinds: tuple[str, ...]) -> None:
    for kind in kinds:
        services.add_material(actor, case.pk, kind, SimpleUploadedFile(f"{kind}.pdf", DEMO_PDF))


def _tids(m: Merchant, n: int = 1) -> list[str]:
    return list(
        m.terminals.filter(state=TerminalState.ACTIVE).order_by("id").values_list("tid", flat=True)[:n]
    )


def load(merchant_ids: list[int], days: int = 30) -> dict[str, int]:
    agent = _actor("agent", "agent")
    reviewer = _actor("reviewer", "reviewer")
    now = timezone.now()
    made: dict[str, int] = {}

    def waiting(m: Merchant) -> Case:
        case = services.file_case(
            agent,
            services.CaseInput(
                kind="suspension",
                merchant_id=m.pk,
                terminals=_tids(m),
                reason="renovation_or_relocation",
                note="门店装修，预计两周",
                channel=CaseChannel.PHONE,
                starts_at=now + timedelta(days=2),
                ends_at=now + timedelta(days=16),
            ),
        )
        _upload(agent, case, ("application_form",))
        return services.decide(reviewer, case.pk, "need_materials", "请补充营业执照复印件和身份证明。")

    def suspended(m: Merchant) -> Case:
        case = services.file_case(
            agent,
            services.CaseInput(
                kind="suspension",
                merchant_id=m.pk,
                terminals=_tids(m),
                reason="temporary_closure",
                note="春节暂停营业",
                channel=CaseChannel.PORTAL,
                starts_at=now,
                ends_at=now + timedelta(days=10),
            ),
        )
        _upload(agent, case, REQUIRED_MATERIALS[case.kind])
        return services.decide(reviewer, case.pk, "approve", "材料齐全，同意停机。")

    def deactivating(m: Merchant) -> Case:
        case = services.file_case(
            agent,
            services.CaseInput(
                kind="deactivation",
                merchant_id=m.pk,
                terminals=_tids(m),
                reason="technology_upgrade",
                note="更换为新款智能POS",
                follow_up_note="新设备已寄出，旧设备寄回仓库",
                channel=CaseChannel.BRANCH,
            ),
        )
        _upload(agent, case, REQUIRED_MATERIALS[case.kind])
        services.decide(reviewer, case.pk, "approve", "同意停用。")
        return services.stop_terminals(reviewer, case.pk)

    def closing(m: Merchant) -> Case:
        case = services.file_case(
            agent,
            services.CaseInput(
                kind="closure",
                merchant_id=m.pk,
                reason="business_change",
                note="商户转让，申请注销",
                follow_up_note="结清款项后退还押金",
                channel=CaseChannel.EMAIL,
                planned_date=timezone.localdate(now) + timedelta(days=7),
            ),
        )
        _upload(agent, case, REQUIRED_MATERIALS[case.kind])
        return services.decide(reviewer, case.pk, "approve", "同意注销，请按清单办理。")

    def rejected(m: Merchant) -> Case:
        case = services.file_case(
            agent,
            services.CaseInput(
                kind="deactivation",
                merchant_id=m.pk,
                terminals=_tids(m),
                reason="other",
                note="不想用了",
                channel=CaseChannel.FAX,
            ),
        )
        return services.decide(reviewer, case.pk, "reject", "申请人身份无法核实，请本人携带证件到网点办理。")

    recipes: list[tuple[str, Callable[[Merchant], Any]]] = [
        ("needs_materials", waiting),
        ("suspension_approved", suspended),
        ("deactivation_in_progress", deactivating),
        ("closure_in_progress", closing),
        ("rejected", rejected),
    ]
    merchants = _candidates(merchant_ids)
    for (name, recipe), merchant in zip(recipes, merchants, strict=False):
        try:
            with transaction.atomic():
                recipe(merchant)
            made[name] = merchant.pk
        except DomainError as exc:
            log.warning("demo case %s skipped: %s", name, exc)
    return made
