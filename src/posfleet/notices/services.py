"""Notices and letters: issue with a verification code, list for the merchant, verify publicly.

Issuing is called by other services (a case's approval, a risk freeze) that already checked the
actor's permission, inside their transaction; it never commits. A notice without a PDF is issued only
through `tell.tell_merchant` (or `stops.tell`), which also plans its deliveries over the channels.
The verification code exists in clear only in the PDF, in the `notice_sent` signal after commit and
as `notice.code` on the returned object; the database keeps its SHA-256 (and, encrypted, the code
itself, so a delivery can repeat it).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.models import merchant_id_of
from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core import crypto
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from posfleet.notices import codes, letters, storage
from posfleet.notices.choices import ReasonCategory
from posfleet.notices.models import Notice, NoticeKind
from posfleet.notices.signals import notice_sent
from posfleet.registry.models import Merchant

log = structlog.get_logger("posfleet.notices")
LANGUAGES = ("zh-hans", "en")
_DUMMY_PHONE = "0000"


def phone_last4(phone: str) -> str:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-4:]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _check(kind: str, title: str, language: str) -> str:
    errors: dict[str, list[str]] = {}
    if kind not in NoticeKind.values:
        errors["kind"] = [_("Unknown notice kind.")]
    title = (title or "").strip()
    if not title or len(title) > 200:
        errors["title"] = [_("A title of at most 200 characters is required.")]
    if language not in LANGUAGES:
        errors["language"] = [_("Letters are written in zh-hans or en.")]
    if errors:
        raise ValidationFailed(details=errors)
    return title


def _new_notice(
    actor: Actor,
    *,
    merchant: Merchant,
    kind: str,
    title: str,
    body: str,
    facts: dict[str, Any],
    case_id: int | None,
    language: str,
    **extra: Any,
) -> Notice:
    code = codes.new_code()
    while Notice.objects.filter(code_hash=codes.code_hash(code)).exists():  # astronomically rare
        code = codes.new_code()
    notice = Notice.objects.create(
        merchant=merchant,
        kind=kind,
        title=title,
        body=body,
        facts=_json_value(facts),
        language=language,
        case_id=case_id,
        code_hash=codes.code_hash(code),
        code_hint=codes.hint(code),
        phone_last4=phone_last4(merchant.phone),
        created_by=actor.user,
        created_by_name=actor.name,
        code_enc=crypto.encrypt(code),
        **extra,
    )
    notice.code = code  # type: ignore[attr-defined]  # transient: the caller may pass it on, never stored
    return notice


def _audit_and_announce(actor: Actor, notice: Notice, code: str) -> None:
    record(
        actor,
        Change(
            "notice",
            str(notice.pk),
            f"notice.{notice.kind}_issued",
            None,
            {
                "merchant_id": notice.merchant_id,
                "kind": notice.kind,
                "reason_category": notice.reason_category,
                "hold_id": notice.hold_id,
                "terminals": notice.terminals,
                "title": notice.title,
                "case_id": notice.case_id,
                "code_hint": notice.code_hint,
                "pdf_sha256": notice.pdf_sha256,
            },
            notice.title,
        ),
        at=notice.created_at,
    )
    notice_id = notice.pk
    transaction.on_commit(lambda: notice_sent.send(sender=Notice, notice_id=notice_id, code=code))


def issue_letter(
    actor: Actor,
    *,
    merchant: Merchant,
    kind: str,
    title: str,
    facts: dict[str, Any],
    lines: Iterable[str],
    case_id: int | None = None,
    language: str = "zh-hans",
) -> Notice:
    """A letter or statement: stored with its facts, rendered once to PDF (kept with its SHA-256)."""
    title = _check(kind, title, language)
    body = "\n".join(str(line) for line in lines)
    notice = _new_notice(
        actor,
        merchant=merchant,
        kind=kind,
        title=title,
        body=body,
        facts=dict(facts or {}),
        case_id=case_id,
        language=language,
    )
    code: str = notice.code  # type: ignore[attr-defined]
    pdf = letters.render_pdf(notice, code)
    notice.pdf_path, notice.pdf_sha256 = storage.store_letter(pdf)
    notice.save(update_fields=["pdf_path", "pdf_sha256"])
    _audit_and_announce(actor, notice, code)
    return notice


def notices_for(merchant_id: int, *, limit: int = 200) -> list[Notice]:
    """A merchant's notices announced so far, newest first (the portal's list)."""
    qs = Notice.objects.filter(merchant_id=merchant_id, publish_at__lte=timezone.now())
    return list(qs.prefetch_related("deliveries").order_by("-created_at", "-id")[:limit])


def list_notices(actor: Actor, merchant_id: int | None = None, *, limit: int = 200) -> list[Notice]:
    """Staff view (view_fleet); a portal user only ever sees their own merchant's notices."""
    own = merchant_id_of(actor.user) if actor.user is not None else None
    if own is not None:
        return notices_for(own, limit=limit)
    if not actor.has_perm(perm("view_fleet")):
        raise PermissionDenied()
    qs = (
        Notice.objects.select_related("merchant")
        .prefetch_related("deliveries")
        .order_by("-created_at", "-id")
    )
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return list(qs[:limit])


def get_notice(actor: Actor, notice_id: int) -> Notice:
    notice = Notice.objects.select_related("merchant").filter(pk=notice_id).first()
    own = merchant_id_of(actor.user) if actor.user is not None else None
    if notice is None or (own is not None and notice.merchant_id != own):
        raise NotFound(_("No such notice."))
    if own is None and not actor.has_perm(perm("view_fleet")):
        raise PermissionDenied()
    return notice


def notice_pdf(actor: Actor, notice_id: int) -> tuple[Notice, bytes]:
    """A letter's PDF: its own merchant, or staff who read case documents (letters name the merchant,
    its cards and amounts), not everyone who sees the fleet."""
    notice = get_notice(actor, notice_id)
    own = merchant_id_of(actor.user) if actor.user is not None else None
    if own is None and not actor.has_perm(perm("read_case_documents")):
        raise PermissionDenied()
    if not notice.pdf_path:
        raise NotFound(_("This notice has no PDF."))
    data = storage.read_letter(notice)
    if data is None:
        raise NotFound(
            _("The letter's file is missing or does not match its checksum."), code="file_unavailable"
        )
    return notice, data


def summary(notice: Notice) -> dict[str, Any]:
    return {
        "kind": notice.kind,
        "kind_label": str(notice.get_kind_display()),
        "title": notice.title,
        "merchant": notice.merchant.name,
        "case_id": notice.case_id,
        "issued_at": timezone.localtime(notice.created_at).isoformat(),
        "text": notice.body,
        "facts": notice.facts,
        "code_hint": notice.code_hint,
        "has_pdf": notice.has_pdf,
        "reason_category": notice.reason_category or None,
        "reason_label": str(ReasonCategory(notice.reason_category).label) if notice.reason_category else None,
        "terminals": list(notice.terminals or notice.facts.get("terminals") or []),
    }


def advice() -> str:
    return _(
        "We never ask for card numbers, passwords, PINs or verification codes, by phone or otherwise. Our SMS "
        "never carry links and never ask you to reply. Every genuine notice is listed in your merchant "
        "portal. If in doubt, hang up and call our official hotline %(h)s."
    ) % {"h": settings.POSFLEET_HOTLINE}


def not_genuine_message() -> str:
    return _(
        "No notice or letter with this code was issued to a merchant with this phone number. Do not follow "
        "its instructions, do not pay or give codes to anyone, and call our official hotline %(hotline)s."
    ) % {"hotline": letters.hotline()}


def verify(code: str, phone_last4: str) -> dict[str, Any]:
    """Was a notice with `code` issued to the merchant whose phone ends in `phone_last4`?

    Every kind of mismatch (malformed, unknown code, wrong phone) gets the same answer, and the phone
    is compared in constant time, so the answer teaches a guesser nothing.
    """
    phone = (phone_last4 or "").strip()
    notice = None
    if codes.well_formed(code):
        notice = Notice.objects.select_related("merchant").filter(code_hash=codes.code_hash(code)).first()
    expected = notice.phone_last4 if notice is not None else _DUMMY_PHONE
    phone_ok = (
        hmac.compare_digest(expected.encode(), phone.encode()[:8]) and len(phone) == 4 and phone.isdigit()
    )
    if notice is None or not phone_ok:
        # Never the code itself: a failed check may be a scam victim's or a guesser's.
        log.info("notices.verify_not_genuine", known_code=notice is not None)
        return {"genuine": False, "message": not_genuine_message()}  # the same few words for every miss
    log.info("notices.verify_genuine", notice_id=notice.pk)
    facts = notice.facts or {}
    info = summary(notice)
    return {
        "genuine": True,
        "message": _("This was issued by us to this merchant."),
        "summary": info,
        "kind": notice.kind,
        "reason_category": notice.reason_category or None,
        "terminals": info["terminals"],
        "issued_at": info["issued_at"],
        "since": facts.get("since"),
        "until": facts.get("until"),
        "advice": advice(),
    }
