"""Builders for notice tests."""

from __future__ import annotations

from django.db import transaction

from posfleet.core.actor import Actor
from posfleet.notices import services
from posfleet.notices.models import Notice
from posfleet.registry.models import Merchant


def letter(merchant: Merchant, *, language: str = "zh-hans", title: str = "确认函", **kw: object) -> Notice:
    facts = kw.pop("facts", None) or {
        "case_no": 42,
        "terminals": ["T0000001", "T0000002"],
        "starts_at": "2026-12-01",
        "ends_at": "2026-12-31",
        "suspension_fee_fen": 123456,
    }
    lines = kw.pop("lines", None) or ["Your request for suspension has been approved."]
    with transaction.atomic():
        return services.issue_letter(
            Actor.system("worker"),
            merchant=merchant,
            kind="letter",
            title=title,
            facts=facts,  # type: ignore[arg-type]
            lines=lines,  # type: ignore[arg-type]
            case_id=42,
            language=language,
        )
