"""Disputes (调单 retrieval requests / 拒付 chargebacks): open, answer with documents, resolve.

While open or answered, a dispute's amount is held back from settlement. Won (or a retrieval request
closed) releases the hold; a lost chargeback debits the merchant (ledger_bridge.chargeback).
Documents are checked by content and stored with their SHA-256; every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.models import merchant_id_of
from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core import uploads
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from posfleet.money.access import money_scope
from posfleet.money.models import Transaction
from posfleet.settlement import ledger_bridge
from posfleet.settlement.models import (
    OPEN_DISPUTE_STATES,
    AnswerChannel,
    BatchState,
    Dispute,
    DisputeDocument,
    DisputeHold,
    DisputeKind,
    DisputeState,
    SettlementBatch,
    SettlementProfile,
)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DEFAULT_ANSWER_DAYS = 7


def snapshot(d: Dispute) -> dict[str, Any]:
    return {
        "transaction": d.transaction_id,
        "merchant_id": d.merchant_id,
        "kind": d.kind,
        "amount_fen": d.amount_fen,
        "state": d.state,
        "due": d.due.isoformat(),
        "held_fen": d.held_fen,
    }


def get_dispute(dispute_id: int, *, lock: bool = False) -> Dispute:
    qs = Dispute.objects.all()
    if lock:
        qs = qs.select_for_update(no_key=True)
    d = qs.filter(pk=dispute_id).first()
    if d is None:
        raise NotFound(_("No dispute %(id)s.") % {"id": dispute_id})
    return d


def _find_transaction(ref: Any) -> Transaction:
    tx = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        tx = Transaction.objects.filter(pk=ref).first()
    elif isinstance(ref, str) and ref.strip():
        tx = Transaction.objects.filter(switch_id=ref.strip()).first()
        if tx is None and ref.strip().isdigit():
            tx = Transaction.objects.filter(pk=int(ref.strip())).first()
    if tx is None:
        raise ValidationFailed(
            _("No such transaction."), details={"transaction": [_("Give the transaction id or switch id.")]}
        )
    return tx


@dataclass
class DisputeInput:
    transaction: Any  # Transaction pk (int) or switch id (str)
    kind: str
    reason: str
    amount_fen: int | None = None  # default: the whole transaction amount
    due: date | None = None  # default: DEFAULT_ANSWER_DAYS after today


def open_dispute(actor: Actor, data: DisputeInput) -> Dispute:
    if not actor.has_perm(perm("manage_dispute")):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    if data.kind not in DisputeKind.values:
        errors["kind"] = [_("Choose one of: %(k)s.") % {"k": ", ".join(DisputeKind.values)}]
    if not (data.reason or "").strip():
        errors["reason"] = [_("A reason is required.")]
    if errors:
        raise ValidationFailed(details=errors)
    tx = _find_transaction(data.transaction)
    if tx.type != "sale":
        raise ValidationFailed(details={"transaction": [_("Only a sale can be disputed.")]})
    amount = tx.amount_fen if data.amount_fen is None else data.amount_fen
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= tx.amount_fen:
        raise ValidationFailed(
            details={
                "amount_fen": [
                    _("Between 1 and %(max)s fen (the transaction amount).") % {"max": tx.amount_fen}
                ]
            }
        )
    today = timezone.localdate()
    due = data.due or today + timedelta(days=DEFAULT_ANSWER_DAYS)
    if due < today:
        raise ValidationFailed(details={"due": [_("Must not be in the past.")]})
    if Dispute.objects.filter(transaction=tx, state__in=OPEN_DISPUTE_STATES).exists():
        raise Conflict(_("This transaction already has an open dispute."), code="dispute_open")
    d = Dispute.objects.create(
        transaction=tx,
        merchant_id=tx.merchant_id,
        kind=data.kind,
        amount_fen=amount,
        reason=data.reason.strip(),
        due=due,
    )
    record(actor, Change("dispute", str(d.pk), "dispute.open", None, snapshot(d), d.reason))
    return d


def _may_answer(actor: Actor, d: Dispute) -> bool:
    """The merchant itself (portal login of that merchant): False. Staff who take merchants' requests
    (`file_case`) record it on the merchant's behalf: True. Those who resolve disputes do not answer them."""
    if actor.kind == "system":
        return False
    own = merchant_id_of(actor.user) if actor.user is not None else None
    if own is not None:
        if own != d.merchant_id:
            raise NotFound(_("No dispute %(id)s.") % {"id": d.pk})
        return False
    if not actor.has_perm(perm("file_case")):
        raise PermissionDenied()
    return True


def documents_dir() -> Path:
    return Path(settings.VAR_DIR) / "files" / "disputes"


def add_document(actor: Actor, dispute_id: int, uploaded: Any) -> DisputeDocument:
    """Store one evidence file (PDF/JPEG/PNG by content, at most MAX_DOCUMENT_BYTES)."""
    d = get_dispute(dispute_id, lock=True)
    _may_answer(actor, d)
    if not d.is_open:
        raise InvalidTransition(_("The dispute is already resolved."))
    return _store_document(actor, d, uploaded, uploads.check(uploaded, MAX_DOCUMENT_BYTES))


def _store_document(actor: Actor, d: Dispute, uploaded: Any, checked: uploads.CheckedFile) -> DisputeDocument:
    """Write an accepted file (content-addressed under the dispute) and its row and audit event."""
    content, content_type, ext, sha, total = (
        checked.data,
        checked.content_type,
        checked.ext,
        checked.sha256,
        checked.size,
    )
    rel = f"{d.pk}/{sha}.{ext}"
    target = documents_dir() / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(content)
    name = Path(str(getattr(uploaded, "name", "") or f"document.{ext}")).name[:200]
    doc = DisputeDocument.objects.create(
        dispute=d,
        name=name,
        content_type=content_type,
        size=total,
        sha256=sha,
        path=rel,
        uploaded_by=actor.user if actor.kind == "user" else None,
    )
    record(
        actor,
        Change(
            "dispute",
            str(d.pk),
            "dispute.document",
            None,
            {"document": doc.pk, "name": name, "sha256": sha, "size": total},
            "",
        ),
    )
    return doc


def document_path(doc: DisputeDocument) -> Path:
    return documents_dir() / doc.path


def answer(
    actor: Actor, dispute_id: int, text: str, files: list[Any] | None = None, *, channel: str = ""
) -> Dispute:
    """The merchant's answer (text and optional documents): open → answered (may be repeated).

    Staff record it only on the merchant's behalf, naming the `channel` it came through; the answer
    then shows so, and the person who recorded it may not resolve the dispute."""
    d = get_dispute(dispute_id, lock=True)
    on_behalf = _may_answer(actor, d)
    if on_behalf and channel not in AnswerChannel.values:
        raise ValidationFailed(
            _("Say how the merchant gave this answer."),
            details={"channel": [_("One of: %(c)s.") % {"c": ", ".join(AnswerChannel.values)}]},
        )
    if not d.is_open:
        raise InvalidTransition(_("The dispute is already resolved."))
    if not (text or "").strip() and not files and not d.documents.exists():
        raise ValidationFailed(details={"answer": [_("Write an answer or attach a document.")]})
    # Every file checked before any is stored: a refused one leaves nothing on disk.
    accepted = [(f, uploads.check(f, MAX_DOCUMENT_BYTES)) for f in files or []]
    for f, checked in accepted:
        _store_document(actor, d, f, checked)
    before = snapshot(d)
    d.answer = (text or "").strip() or d.answer
    d.answered_by = actor.user if actor.kind == "user" else None
    d.answer_channel = channel if on_behalf else ""
    d.state = DisputeState.ANSWERED
    d.answered_at = timezone.now()
    d.version += 1
    d.save()
    after = snapshot(d) | ({"on_behalf_of_merchant": True, "channel": channel} if on_behalf else {})
    record(actor, Change("dispute", str(d.pk), "dispute.answer", before, after, d.answer[:500]))
    return d


def resolve(actor: Actor, dispute_id: int, outcome: str, reason: str) -> Dispute:
    if not actor.has_perm(perm("manage_dispute")):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    if outcome not in (DisputeState.WON, DisputeState.LOST):
        errors["outcome"] = [_("Choose won or lost.")]
    if not (reason or "").strip():
        errors["reason"] = [_("A reason is required.")]
    if errors:
        raise ValidationFailed(details=errors)
    d = get_dispute(dispute_id, lock=True)
    if d.answered_on_behalf and actor.user_id is not None and d.answered_by_id == actor.user_id:
        raise PermissionDenied(
            _("You recorded the merchant's answer; another person must resolve this dispute."),
            code="separation_of_duties",
        )
    if not d.is_open:
        raise InvalidTransition(_("The dispute is already resolved."))
    before = snapshot(d)
    ref = f"dispute:{d.pk}"
    after_extra: dict[str, Any] = {}
    if outcome == DisputeState.LOST and d.kind == DisputeKind.CHARGEBACK:
        ledger_bridge.chargeback(actor, d.merchant_id, d.amount_fen, d.held_fen, ref=ref)
        after_extra["debited_fen"] = d.amount_fen
        after_extra["amount_due_fen"] = d.amount_fen - min(d.held_fen, d.amount_fen)
    elif d.held_fen:
        after_extra["released_fen"] = _release(actor, d, ref)
    d.state = outcome
    d.resolved_at = timezone.now()
    d.resolution_reason = reason.strip()
    d.version += 1
    d.save()
    record(
        actor,
        Change(
            "dispute",
            str(d.pk),
            f"dispute.{outcome}",
            before,
            {**snapshot(d), **after_extra},
            d.resolution_reason,
        ),
    )
    return d


def _release(actor: Actor, d: Dispute, ref: str) -> int:
    """Give back each held part: onto its batch's payout if that batch is not paid yet, else paid out now.

    A delayed merchant's parts from already paid batches stay in settled_unpaid (shown as held funds)."""
    delayed = SettlementProfile.objects.filter(merchant_id=d.merchant_id, delayed=True).exists()
    released = 0
    pay_now = 0
    for hold in DisputeHold.objects.filter(dispute=d).select_related("batch").order_by("id"):
        batch = SettlementBatch.objects.select_for_update(no_key=True).get(pk=hold.batch_id)
        if batch.state == BatchState.PAID and delayed:
            continue
        if batch.state == BatchState.PAID:
            pay_now += hold.amount_fen
        batch.payout_fen += hold.amount_fen
        batch.held_fen -= hold.amount_fen
        batch.save(update_fields=["held_fen", "payout_fen"])
        released += hold.amount_fen
    ledger_bridge.pay_released(actor, d.merchant_id, pay_now, ref=ref)
    return released


def disputes_for(
    actor: Actor, *, merchant_id: int | None = None, state: str | None = None
) -> QuerySet[Dispute]:
    """Disputes the actor may see: a portal user only its merchant's; staff with view_money all."""
    qs = Dispute.objects.select_related("transaction", "merchant")
    own = money_scope(actor)
    if own is not None:
        qs = qs.filter(merchant_id=own)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if state:
        if state not in DisputeState.values:
            raise ValidationFailed(
                details={"state": [_("Choose one of: %(s)s.") % {"s": ", ".join(DisputeState.values)}]}
            )
        qs = qs.filter(state=state)
    return qs.order_by("-opened_at", "-id")
