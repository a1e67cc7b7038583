"""Response shapes of the notice API: the public verification answer and the notices staff read.

Times the services render as ISO text stay text here, so the JSON is what it always was.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from posfleet.api.fields import IsoText
from posfleet.notices.models import Delivery, Notice


class NoticeSummaryOut(Schema):
    """What a genuine notice says, for whoever holds its code and the merchant's phone."""

    kind: str
    kind_label: str
    title: str
    merchant: str = Field(description="The merchant's name")
    case_id: int | None
    issued_at: str
    text: str
    facts: dict[str, Any]
    code_hint: str
    has_pdf: bool
    reason_category: str | None = None
    reason_label: str | None = None
    terminals: list[str] = Field(default_factory=list)


class VerifyOut(Schema):
    genuine: bool
    message: str
    summary: NoticeSummaryOut | None = Field(None, description="Only when genuine")
    kind: str | None = Field(None, description="Only when genuine")
    reason_category: str | None = Field(None, description="Only when genuine; for stops and lifts")
    terminals: list[str] | None = Field(None, description="Only when genuine")
    issued_at: str | None = Field(None, description="Only when genuine")
    since: str | None = Field(None, description="Only when genuine: when the stop began or begins")
    until: str | None = Field(None, description="Only when genuine: when it ends, if known")
    advice: str = Field("", description="How to tell a genuine notice from a scam")


class DeliveryOut(Schema):
    channel: str = Field(description="portal, sms, email, call or webhook")
    recipient: str = Field(description="The endpoint for a webhook; empty otherwise")
    state: str = Field(description="queued, sending, sent, delivered or failed")
    attempts: int
    provider_id: str
    error: str
    sent_at: IsoText | None

    @staticmethod
    def resolve_recipient(d: Delivery) -> str:
        return d.recipient if d.channel == "webhook" else ""


class NoticeOut(Schema):
    id: int
    merchant_id: int
    kind: str
    title: str
    body: str
    facts: dict[str, Any]
    language: str
    case_id: int | None
    code_hint: str = Field(description="The code's last two characters")
    has_pdf: bool
    pdf_sha256: str | None
    created_at: IsoText
    created_by: str = Field(alias="created_by_name")
    reason_category: str | None = Field(description="For stops and lifts: why, in plain words")
    terminals: list[str]
    hold_id: int | None
    publish_at: IsoText
    deliveries: list[DeliveryOut]

    @staticmethod
    def resolve_pdf_sha256(n: Notice) -> str | None:
        return n.pdf_sha256 or None

    @staticmethod
    def resolve_reason_category(n: Notice) -> str | None:
        return n.reason_category or None

    @staticmethod
    def resolve_terminals(n: Notice) -> list[str]:
        return n.terminals or []


class NoticeList(Schema):
    items: list[NoticeOut]
