"""Builders for case tests: portal users, minimal valid files, filed and approved cases."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from posfleet.accounts.models import MerchantUser
from posfleet.cases import services
from posfleet.cases.choices import CaseKind
from posfleet.cases.models import Case
from posfleet.core.actor import Actor
from posfleet.registry.models import Merchant, Terminal
from posfleet.registry.services import MerchantInput
from tests import builders

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def pdf(name: str = "form.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def portal_actor(merchant: Merchant, username: str = "") -> Actor:
    u = User.objects.create_user(
        username=username or f"m{merchant.pk}-{User.objects.count()}", password="pw-123456"
    )
    MerchantUser.objects.create(user=u, merchant=merchant)
    return Actor.for_user(u, "portal")


def window(hours_from_now: float = 1, length_hours: float = 48) -> dict[str, Any]:
    start = timezone.now() + timedelta(hours=hours_from_now)
    return {"starts_at": start, "ends_at": start + timedelta(hours=length_hours)}


def file(actor: Actor | None = None, **kwargs: Any) -> Case:
    kind = kwargs.setdefault("kind", CaseKind.SUSPENSION)
    if "merchant_id" not in kwargs and kind != CaseKind.APPLICATION:
        raise TypeError("merchant_id is required")
    kwargs.setdefault(
        "reason",
        {"suspension": "maintenance", "reactivation": "business_resumed", "application": ""}.get(
            kind, "business_change"
        ),
    )
    if kind == CaseKind.SUSPENSION and "starts_at" not in kwargs:
        kwargs.update(window())
    with transaction.atomic():
        return services.file_case(actor or builders.actor("agent"), services.CaseInput(**kwargs))


def upload_required(case: Case, actor: Actor | None = None) -> None:
    a = actor or builders.actor("agent")
    for kind in case.required_materials:
        with transaction.atomic():
            services.add_material(a, case.pk, kind, pdf(f"{kind}.pdf"))


def decide(case: Case, decision: str = "approve", actor: Actor | None = None, reason: str = "ok") -> Case:
    with transaction.atomic():
        return services.decide(actor or builders.actor("reviewer"), case.pk, decision, reason)


def approved(kind: str, merchant: Merchant, tids: list[str], **kwargs: Any) -> Case:
    case = file(kind=kind, merchant_id=merchant.pk, terminals=tids, **kwargs)
    upload_required(case)
    return decide(case)


ADDRESS = "上海市浦东新区世纪大道100号1层"
_licences = itertools.count(1)


def applicant(kind: str = "enterprise", **kwargs: Any) -> MerchantInput:
    """A new applicant's data, valid for its kind (businesses with a licence number of their own)."""
    business = kind != "individual"
    values: dict[str, Any] = {
        "kind": kind,
        "name": {"individual": "李四", "sole_proprietor": "李记小吃店"}.get(kind, "上海申城餐饮有限公司"),
        "contact_name": "李四",
        "phone": "13900139000",
        "licence_no": f"92310000MA{next(_licences):08d}" if business else "",
        "legal_representative": "李四" if business else "",
        "settlement_card": builders.VALID_CARD,
        "address": ADDRESS,
    }
    values.update(kwargs)
    return MerchantInput(**values)


def apply_for(actor: Actor | None = None, **kwargs: Any) -> Case:
    """File an application: `merchant_id` for an existing merchant, else a new enterprise applicant."""
    kwargs.setdefault("install_address", ADDRESS)
    if "merchant_id" not in kwargs:
        kwargs.setdefault("applicant", applicant())
    return file(actor, kind=CaseKind.APPLICATION, **kwargs)


def stock(n: int = 1, **kwargs: Any) -> list[Terminal]:
    return [builders.terminal("in_stock", **kwargs) for _ in range(n)]


def bytes_io(data: bytes, name: str = "x.bin") -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name  # type: ignore[attr-defined]
    return f


def lent_fleet(deposit_fen: int = 50_000) -> dict[str, Any]:
    """A merchant with two keyed terminals (a printer on the first), a deposit held and one settled sale."""
    from posfleet.keys.services import generate_for
    from posfleet.money import ledger
    from posfleet.registry.models import Accessory
    from tests.settlement.builders import at, days_ago, tx

    m = builders.merchant()
    t1 = builders.terminal(merchant_obj=m)
    t2 = builders.terminal(merchant_obj=m)
    printer = Accessory.objects.create(terminal=t1, kind="printer", serial="PR-0001")
    system = Actor.system("cli")
    with transaction.atomic():
        generate_for(t1, system)
        generate_for(t2, system)
        m.contract.deposit_fen = deposit_fen
        m.contract.save(update_fields=["deposit_fen"])
        ledger.receive_deposit(system, m.pk, deposit_fen, ref=f"deposit:{m.pk}")
    sale_day = days_ago(2)
    tx(m, 100_000, at(sale_day), tid=t1.tid)
    return {"merchant": m, "t1": t1, "t2": t2, "printer": printer, "sale_day": sale_day}


def settle_transactions(sale_day: Any) -> None:
    """Run the daily settlement for `sale_day` and pay what is due, as finance would."""
    from posfleet.settlement.services import pay_due, run_settlement

    finance = builders.actor("finance")
    with transaction.atomic():
        run_settlement(finance, sale_day)
    with transaction.atomic():
        pay_due(finance, timezone.localdate() + timedelta(days=5))


def destroy_keys(tid: str) -> None:
    from posfleet.keys.services import confirm_destruction, request_destruction

    with transaction.atomic():
        request_destruction(builders.actor("custodian"), tid, "decommissioned")
    with transaction.atomic():
        confirm_destruction(builders.actor("custodian"), tid, "decommissioned")


def item_map(case: Case) -> dict[str, Any]:
    return {i.item: i for i in services.checklist(case)}
