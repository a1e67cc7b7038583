"""Response shapes of the notice API: the public verification answer and the notices staff read.

Times the services render as ISO text stay text here, so the JSON is what it always was.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


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


class VerifyOut(Schema):
    genuine: bool
    message: str
    summary: NoticeSummaryOut | None = Field(None, description="Only when genuine")


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
    created_at: str
    created_by: str


class NoticeList(Schema):
    items: list[NoticeOut]
