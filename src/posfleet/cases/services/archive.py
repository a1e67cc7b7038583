"""The evidence of a case (DESIGN.md §6): its timeline and one archive of all its communications.

The timeline merges the case's audit events, comments and the notices sent under it. The archive is a
zip of the case, the timeline, comments and notices as JSON, the letters' PDFs and the materials.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.audit.models import AuditEvent
from posfleet.cases.models import Case
from posfleet.cases.services.common import get_case, portal_merchant_id, require_documents
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound
from posfleet.notices import services as notice_services
from posfleet.notices import storage
from posfleet.notices.models import Notice


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _notices(case: Case) -> list[Any]:
    return list(Notice.objects.filter(case_id=case.pk).order_by("created_at", "id"))


def timeline(case: Case, *, for_merchant: bool = False) -> list[dict[str, Any]]:
    """Everything that happened to the case, oldest first."""
    entries: list[dict[str, Any]] = []
    events = AuditEvent.objects.filter(object_type="case", object_id=str(case.pk)).exclude(
        action="case.comment"
    )
    for event in events.order_by("seq"):  # comments are listed from their own rows below
        entries.append(
            {
                "at": event.occurred_at,
                "source": "audit",
                "action": event.action,
                "actor": "" if for_merchant else event.actor_name,
                "channel": event.channel,
                "text": event.reason,
                "after": None if for_merchant else event.after,
            }
        )
    comments = case.comments.order_by("id")
    if for_merchant:
        comments = comments.filter(visible_to_merchant=True)
    for c in comments:
        entries.append(
            {
                "at": c.created_at,
                "source": "comment",
                "action": c.kind,
                "actor": c.author_name,
                "channel": "",
                "text": c.body,
                "after": None,
            }
        )
    for n in _notices(case):
        entries.append(
            {
                "at": n.created_at,
                "source": "notice",
                "action": n.kind,
                "actor": "",
                "channel": "",
                "text": n.title,
                "after": {"notice_id": n.pk, "has_pdf": bool(n.pdf_path)},
            }
        )
    entries.sort(key=lambda e: e["at"])
    return entries


def _case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "kind": case.kind,
        "state": case.state,
        "merchant_id": case.merchant_id,
        "merchant": case.merchant.name,
        "terminals": list(case.scope.values_list("terminal__tid", flat=True)),
        "reason": case.reason,
        "note": case.note,
        "channel": case.channel,
        "starts_at": _iso(case.starts_at),
        "ends_at": _iso(case.ends_at),
        "planned_date": case.planned_date.isoformat() if case.planned_date else None,
        "follow_up_note": case.follow_up_note,
        "decision_reason": case.decision_reason,
        "created_at": _iso(case.created_at),
        "completed_at": _iso(case.completed_at),
    }


def archive(case: Case, *, for_merchant: bool = False) -> bytes:
    """One zip with all communications of the case (the caller has checked who may read it).

    The merchant's own copy leaves out what is internal: comments not visible to the merchant and
    the staff side of the timeline (who, before → after)."""
    buffer = io.BytesIO()

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)

    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("case.json", dump(_case_json(case)))
        zf.writestr("timeline.json", dump(timeline(case, for_merchant=for_merchant)))
        comments = case.comments.order_by("id")
        if for_merchant:
            comments = comments.filter(visible_to_merchant=True)
        zf.writestr(
            "comments.json",
            dump(
                [
                    {
                        "at": _iso(c.created_at),
                        "kind": c.kind,
                        "author": c.author_name,
                        "visible_to_merchant": c.visible_to_merchant,
                        "body": c.body,
                    }
                    for c in comments
                ]
            ),
        )
        notices = _notices(case)
        zf.writestr(
            "notices.json",
            dump(
                [
                    {
                        "id": n.pk,
                        "at": _iso(n.created_at),
                        "kind": n.kind,
                        "title": n.title,
                        "body": n.body,
                        "code_hint": n.code_hint,
                        "pdf_sha256": n.pdf_sha256,
                    }
                    for n in notices
                ]
            ),
        )
        for n in notices:
            if n.pdf_path:
                data = storage.read_letter(n)
                if data:
                    zf.writestr(f"letters/{n.pk}-{n.kind}.pdf", data)
        manifest = []
        for m in case.materials.order_by("id"):
            name = f"materials/{m.pk}-{m.type}{m.path.suffix}"
            try:
                zf.writestr(name, m.path.read_bytes())
            except FileNotFoundError:
                name = ""
            manifest.append(
                {
                    "id": m.pk,
                    "type": m.type,
                    "file": name,
                    "original_name": m.original_name,
                    "sha256": m.sha256,
                }
            )
        zf.writestr("materials.json", dump(manifest))
    return buffer.getvalue()


def case_archive(actor: Actor, case_id: int) -> tuple[str, bytes]:
    """(file name, zip bytes) of a case the actor may see."""
    case = get_case(actor, case_id)
    require_documents(actor, case)
    own = portal_merchant_id(actor) is not None
    return f"case-{case.pk}-archive.zip", archive(case, for_merchant=own)


def letter_pdf(actor: Actor, case_id: int) -> tuple[Any, bytes]:
    """The case's confirmation letter as PDF (the latest letter issued under the case)."""
    case = get_case(actor, case_id)
    require_documents(actor, case)
    notice_id = case.letter_notice_id
    if notice_id is None:
        latest = (
            Notice.objects.filter(case_id=case.pk, kind="letter").exclude(pdf_path="").order_by("-id").first()
        )
        if latest is None:
            raise NotFound(_("No letter has been issued for this case."))
        notice_id = latest.pk
    notice, data = notice_services.notice_pdf(actor, notice_id)
    return notice, data
