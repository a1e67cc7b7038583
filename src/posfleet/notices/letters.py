"""Confirmation letters (确认函) and statements as PDF: Chinese (English on request), Noto Sans SC embedded.

A letter is rendered once, when issued, and stored; its verification code is printed on it and
nowhere else kept in clear. Labels come from this app's gettext catalogue, rendered in the
letter's own language whatever the requester's.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from posfleet.core import amounts, labels
from posfleet.notices.fonts import cjk_font

DEFAULT_INSTITUTION = "示例支付有限公司"  # demo deployment's name; set POSFLEET_INSTITUTION


def setting(name: str, default: str) -> str:
    """A Django setting, else the environment variable of the same name, else `default`."""
    return str(getattr(settings, name, "") or os.environ.get(name, "") or default)


def hotline() -> str:
    """The official customer-service number people are told to call when in doubt (its default is the
    setting's own)."""
    return str(settings.POSFLEET_HOTLINE)


def institution_name() -> str:
    return setting("POSFLEET_INSTITUTION", DEFAULT_INSTITUTION)


def verify_url() -> str:
    base = setting("POSFLEET_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}{reverse('notices:verify')}"


def yuan(fen: int) -> str:
    """Integer fen as yuan for people: 123456 → "¥1,234.56" (no float on the way)."""
    return amounts.yuan(fen, symbol="¥")


def _labels() -> dict[str, str]:
    return {
        "case_no": _("Case no."),
        "case_id": _("Case no."),
        "case_kind": _("Request"),
        "merchant": _("Merchant"),
        "decision_reason": _("Review opinion"),
        "fee_fen": _("Fee"),
        "merchant_no": _("Merchant no."),
        "terminals": _("Terminals"),
        "reason": _("Reason"),
        "starts_at": _("Start"),
        "ends_at": _("Expected end"),
        "planned_date": _("Planned date"),
        "effective_date": _("Effective date"),
        "approved_at": _("Approved on"),
        "suspension_fee_fen": _("Suspension fee"),
        "reactivation_fee_fen": _("Reactivation fee"),
        "early_termination_penalty_fen": _("Early-termination penalty"),
        "penalty_fen": _("Early-termination penalty"),
        "damage_charges_fen": _("Damage charges"),
        "unpaid_fees_fen": _("Unpaid fees"),
        "deposit_fen": _("Deposit"),
        "deducted_fen": _("Deducted from the deposit"),
        "refund_fen": _("Deposit refund"),
        "amount_due_fen": _("Amount due"),
        "balance_fen": _("Balance"),
    }


def label_for(key: str) -> str:
    known = _labels().get(key)
    if known:
        return known
    text = key[:-4] if key.endswith("_fen") else key
    return text.replace("_", " ").capitalize()


def _case_kinds() -> dict[str, str]:
    return {
        "suspension": _("Suspension"),
        "reactivation": _("Reactivation"),
        "deactivation": _("Deactivation"),
        "closure": _("Closure"),
    }


def format_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "case_kind" and isinstance(value, str):
        return _case_kinds().get(value, value)
    if key.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return yuan(value)
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        try:
            return format_value(key, datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, list | tuple):
        sep = "、" if translation.get_language() and translation.get_language().startswith("zh") else ", "
        return sep.join(format_value("", v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return labels.label(value)  # a stored code (reason, condition, state) in words


class _LetterPDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("cjk", size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"{self._footer_text}  ·  {self.page_no()}/{{nb}}", align="C")


def render_pdf(notice: Any, code: str | None = None) -> bytes:
    """The letter for `notice` (title, merchant, case, lines, facts) with its verification code."""
    code = code or getattr(notice, "code", None)
    if not code:
        raise ValueError("a letter is rendered once, when issued, with its verification code")
    language = notice.language or "zh-hans"
    with translation.override(language):
        return _render(notice, code)


def _render(notice: Any, code: str) -> bytes:
    font_path, index = cjk_font()
    institution = institution_name()
    pdf = _LetterPDF(institution)
    pdf.set_title(str(notice.title))
    pdf.set_author(institution)
    pdf.set_creator("posfleet")
    pdf.add_font("cjk", "", font_path, collection_font_number=index)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("cjk", size=12)
    pdf.cell(width, 8, institution, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=20)
    pdf.cell(width, 14, str(notice.title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    merchant = notice.merchant
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(width, 7, _("To: %(name)s") % {"name": merchant.name}, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if notice.case_id:
        pdf.multi_cell(
            width, 7, _("Case no.: %(case)s") % {"case": notice.case_id}, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    pdf.ln(3)

    for line in (notice.body or "").splitlines():
        pdf.multi_cell(width, 7, line or " ", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    facts = {k: v for k, v in (notice.facts or {}).items() if v not in (None, "", [])}
    if facts:
        pdf.set_font("cjk", size=10)
        key_w = 55
        for key, value in facts.items():
            pdf.set_fill_color(243, 243, 243)
            y = pdf.get_y()
            pdf.multi_cell(key_w, 7, label_for(key), border=1, fill=True, new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.multi_cell(
                width - key_w, 7, format_value(key, value), border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            pdf.set_y(max(pdf.get_y(), y + 7))
        pdf.ln(4)

    pdf.set_font("cjk", size=11)
    issued = timezone.localtime(notice.created_at).strftime("%Y-%m-%d")
    pdf.multi_cell(width, 7, _("Issued on %(date)s") % {"date": issued}, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(width, 7, institution, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    pdf.set_draw_color(60, 60, 60)
    pdf.set_font("cjk", size=12)
    pdf.cell(
        width,
        10,
        _("Verification code: %(code)s") % {"code": code},
        border="T",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(
        width,
        5.5,
        _(
            "To check that this letter is genuine, open %(url)s and enter the verification code with the "
            "last four digits of the phone number registered with us. If the page says no such letter "
            "exists, do not follow its instructions and call our official hotline %(hotline)s."
        )
        % {"url": verify_url(), "hotline": hotline()},
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())
