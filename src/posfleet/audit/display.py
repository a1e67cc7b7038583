"""Audit events in words: what happened, and each changed field with its label and its value as a
person reads it (choice labels, amounts in yuan, local times), never the stored codes and dicts.

The stored event keeps machine values (it is evidence, hashed as written); this module only reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from posfleet.core import amounts, labels

_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_OBJECT_REF = re.compile(r"^([a-z_]+):(\S+)$")
# Reasons the system writes as a word rather than a sentence.
labels.register(
    {
        "created": gettext_lazy("Created"),
        "terminals": gettext_lazy("Several terminals"),
        "activation": gettext_lazy("At activation"),
        "export": gettext_lazy("Data export"),
        "start": gettext_lazy("Repair started"),
        "finish": gettext_lazy("Repair finished"),
    }
)
# Who a system actor is (the command or worker that acted), in words; a person's username stays as is.
SYSTEM_ACTORS = {
    "system": gettext_lazy("System"),
    "demo": gettext_lazy("Demo data"),
    "bench": gettext_lazy("Benchmark"),
    "createtoken": gettext_lazy("Token command"),
    "import_terminals": gettext_lazy("Terminal import"),
    "import_transactions": gettext_lazy("Transaction import"),
    "totp": gettext_lazy("Authenticator command"),
    "cases export": gettext_lazy("Case data export"),
    "cases reminder": gettext_lazy("Case reminders"),
    "cases scheduler": gettext_lazy("Case scheduler"),
    "jobs": gettext_lazy("Job runner"),
    "refusal scan": gettext_lazy("Refusal scan"),
    "settlement": gettext_lazy("Settlement run"),
    "webhooks": gettext_lazy("Webhook delivery"),
}
HIDDEN = frozenset({"version", "request_id"})  # bookkeeping, not a change anyone made

FIELDS = {
    "account": gettext_lazy("Account"),
    "amount_due_fen": gettext_lazy("Amount due"),
    "amount_fen": gettext_lazy("Amount"),
    "applicant_kind": gettext_lazy("Applicant"),
    "business_date": gettext_lazy("Business day"),
    "card": gettext_lazy("Card"),
    "carrier": gettext_lazy("Carrier"),
    "case_id": gettext_lazy("Case no."),
    "channel": gettext_lazy("Channel"),
    "closed": gettext_lazy("Closed"),
    "code": gettext_lazy("Code"),
    "code_hint": gettext_lazy("Verification code starts with"),
    "content_type": gettext_lazy("File type"),
    "contract": gettext_lazy("Contract"),
    "deactivated": gettext_lazy("Deactivated"),
    "debited_fen": gettext_lazy("Debited"),
    "decided_at": gettext_lazy("Decided at"),
    "decision": gettext_lazy("Decision"),
    "decision_reason": gettext_lazy("Review opinion"),
    "delayed": gettext_lazy("Delayed"),
    "delayed_reason": gettext_lazy("Why delayed"),
    "document": gettext_lazy("Document"),
    "due": gettext_lazy("Due"),
    "effective_at": gettext_lazy("Effective at"),
    "ends_at": gettext_lazy("Ends"),
    "fee_fen": gettext_lazy("Fee"),
    "gross_fen": gettext_lazy("Gross"),
    "held_fen": gettext_lazy("Held"),
    "hold_id": gettext_lazy("Hold no."),
    "id": gettext_lazy("No."),
    "install_address": gettext_lazy("Installation address"),
    "iso_response_code": gettext_lazy("ISO response code"),
    "kcv": gettext_lazy("Key check value"),
    "kind": gettext_lazy("Kind"),
    "material_id": gettext_lazy("Material no."),
    "merchant_activated": gettext_lazy("Merchant activated"),
    "merchant_id": gettext_lazy("Merchant no."),
    "mode": gettext_lazy("Settlement cycle"),
    "model": gettext_lazy("Model"),
    "name": gettext_lazy("Name"),
    "net_fen": gettext_lazy("Net"),
    "new_merchant": gettext_lazy("New merchant"),
    "occurred_at": gettext_lazy("Occurred at"),
    "paid_at": gettext_lazy("Paid at"),
    "payout_date": gettext_lazy("Payout date"),
    "payout_fen": gettext_lazy("Payout"),
    "pdf_sha256": gettext_lazy("PDF checksum (SHA-256)"),
    "permitted": gettext_lazy("Permitted"),
    "planned_date": gettext_lazy("Planned date"),
    "postings": gettext_lazy("Postings"),
    "rate_plan": gettext_lazy("Rate plan"),
    "reason": gettext_lazy("Reason"),
    "reasons": gettext_lazy("Reasons"),
    "ref": gettext_lazy("Reference"),
    "refund_fen": gettext_lazy("Refund"),
    "released_at": gettext_lazy("Released at"),
    "released_fen": gettext_lazy("Released"),
    "request_state": gettext_lazy("Request state"),
    "settlement_card": gettext_lazy("Settlement card"),
    "sha256": gettext_lazy("Checksum (SHA-256)"),
    "shipped_on": gettext_lazy("Shipped on"),
    "size": gettext_lazy("Size (bytes)"),
    "sn": gettext_lazy("SN"),
    "starts_at": gettext_lazy("Starts"),
    "state": gettext_lazy("State"),
    "stopped_at": gettext_lazy("Stopped at"),
    "target": gettext_lazy("Applies to"),
    "terminal_model": gettext_lazy("Terminal model"),
    "terminals": gettext_lazy("Terminals"),
    "tid": gettext_lazy("TID"),
    "title": gettext_lazy("Title"),
    "tracking_no": gettext_lazy("Tracking no."),
    "transaction": gettext_lazy("Transaction no."),
    "transaction_count": gettext_lazy("Transactions"),
    "type": gettext_lazy("Type"),
    "merchant": gettext_lazy("Merchant"),
    "terminal": gettext_lazy("Terminal"),
    "penalty_fen": gettext_lazy("Early-termination penalty"),
    "damage_fen": gettext_lazy("Damage charges"),
    "deposit_fen": gettext_lazy("Deposit"),
    "balance_fen": gettext_lazy("Balance"),
    "on_merchant": gettext_lazy("On the whole merchant"),
    "bulk": gettext_lazy("Bulk"),
    "condition": gettext_lazy("Condition"),
    "item": gettext_lazy("Item"),
    "items": gettext_lazy("Items"),
    "accessory": gettext_lazy("Accessory"),
    "category": gettext_lazy("Reason category"),
    "public_text": gettext_lazy("Text for the merchant"),
    "count": gettext_lazy("Count"),
    "job_id": gettext_lazy("Job no."),
    "attempt": gettext_lazy("Attempt"),
    "error": gettext_lazy("Error"),
    "role": gettext_lazy("Role"),
    "username": gettext_lazy("User"),
    "label": gettext_lazy("Label"),
    "applied_fen": gettext_lazy("Applied"),
    "bound": gettext_lazy("Bound"),
    "completed_at": gettext_lazy("Completed at"),
    "due_on": gettext_lazy("Due on"),
    "export_id": gettext_lazy("Export no."),
    "failed": gettext_lazy("Failed checks"),
    "fault_hold_released": gettext_lazy("Fault stop lifted"),
    "fault_id": gettext_lazy("Fault no."),
    "late": gettext_lazy("Late"),
    "loaner_id": gettext_lazy("Loaner no."),
    "note": gettext_lazy("Note"),
    "paid_fen": gettext_lazy("Paid"),
    "part": gettext_lazy("Part"),
    "parts": gettext_lazy("Parts"),
    "proof": gettext_lazy("Proof"),
    "provider": gettext_lazy("Provider"),
    "reason_category": gettext_lazy("Reason category"),
    "repair_order_id": gettext_lazy("Repair order no."),
    "round": gettext_lazy("Round"),
    "rows": gettext_lazy("Rows"),
    "run_date": gettext_lazy("Run date"),
    "serial": gettext_lazy("Serial number"),
    "settlement": gettext_lazy("Settlement"),
    "settlement_card_last4": gettext_lazy("Settlement card (last 4 digits)"),
    "shortfall_fen": gettext_lazy("Shortfall"),
    "statement_issued_at": gettext_lazy("Statement issued at"),
    "statement_notice_id": gettext_lazy("Statement notice no."),
    "step_id": gettext_lazy("Step no."),
    "stop_terminal": gettext_lazy("Terminal stopped meanwhile"),
    "symptom": gettext_lazy("Symptom"),
    "under_warranty": gettext_lazy("Under warranty"),
    "unpaid_fen": gettext_lazy("Unpaid"),
    "warranty_months": gettext_lazy("Warranty after repair (months)"),
    "where": gettext_lazy("Where"),
}

labels.register_fields(FIELDS)

OBJECTS = {
    "case": gettext_lazy("Case"),
    "dispute": gettext_lazy("Dispute"),
    "journal": gettext_lazy("Ledger journal"),
    "merchant": gettext_lazy("Merchant"),
    "notice": gettext_lazy("Notice"),
    "settlement_batch": gettext_lazy("Settlement batch"),
    "settlement_profile": gettext_lazy("Settlement profile"),
    "terminal": gettext_lazy("Terminal"),
    "terminal_key": gettext_lazy("Terminal key"),
    "terminal_model": gettext_lazy("Terminal model"),
    "transaction": gettext_lazy("Transaction"),
    "hold": gettext_lazy("Hold"),
    "accessory": gettext_lazy("Accessory"),
    "job": gettext_lazy("Job"),
    "rate_plan": gettext_lazy("Rate plan"),
    "token": gettext_lazy("API token"),
    "user": gettext_lazy("User"),
    "repair_order": gettext_lazy("Repair order"),
    "appeal": gettext_lazy("Appeal"),
}

ACTIONS = {
    "case.activate": gettext_lazy("Terminal activated for the case"),
    "case.allocate": gettext_lazy("Terminal allocated for the case"),
    "case.approve": gettext_lazy("Case approved"),
    "case.assign": gettext_lazy("Case taken"),
    "case.cancel": gettext_lazy("Case cancelled"),
    "case.comment": gettext_lazy("Comment added"),
    "case.complete": gettext_lazy("Case completed"),
    "case.deliver": gettext_lazy("Delivery recorded"),
    "case.export_done": gettext_lazy("Data export ready"),
    "case.export_requested": gettext_lazy("Data export requested"),
    "case.file": gettext_lazy("Case filed"),
    "case.material_add": gettext_lazy("Material uploaded"),
    "case.need_materials": gettext_lazy("More materials asked for"),
    "case.payment": gettext_lazy("Payment recorded"),
    "case.reapply": gettext_lazy("Applied again"),
    "case.reject": gettext_lazy("Case rejected"),
    "case.reminder": gettext_lazy("Reminder sent"),
    "case.resubmit": gettext_lazy("Case resubmitted"),
    "case.return": gettext_lazy("Return inspected"),
    "case.settle": gettext_lazy("Money settled"),
    "case.ship": gettext_lazy("Terminal shipped"),
    "case.statement": gettext_lazy("Reconciliation statement issued"),
    "case.stop": gettext_lazy("Terminals stopped"),
    "case.stop_scheduled": gettext_lazy("Stop scheduled"),
    "dispute.answer": gettext_lazy("Dispute answered"),
    "dispute.document": gettext_lazy("Dispute document added"),
    "dispute.open": gettext_lazy("Dispute opened"),
    "dispute.won": gettext_lazy("Dispute won"),
    "dispute.lost": gettext_lazy("Dispute lost"),
    "dispute.expired": gettext_lazy("Dispute expired"),
    "hold.expire": gettext_lazy("Hold ended"),
    "hold.place": gettext_lazy("Hold placed"),
    "hold.release": gettext_lazy("Hold released"),
    "job.failed": gettext_lazy("Job failed"),
    "job.retry": gettext_lazy("Job retried"),
    "keys.destroyed": gettext_lazy("Keys destroyed"),
    "keys.destruction_cancelled": gettext_lazy("Key destruction cancelled"),
    "keys.destruction_requested": gettext_lazy("Key destruction requested"),
    "keys.generated": gettext_lazy("Keys generated"),
    "keys.rekeyed": gettext_lazy("Keys replaced"),
    "ledger.chargeback": gettext_lazy("Chargeback posted"),
    "ledger.deposit_received": gettext_lazy("Deposit received"),
    "ledger.deposit_refunded": gettext_lazy("Deposit refunded"),
    "ledger.ingest": gettext_lazy("Transactions posted"),
    "ledger.payout": gettext_lazy("Payout posted"),
    "ledger.settlement": gettext_lazy("Settlement posted"),
    "ledger.suspension_fee": gettext_lazy("Suspension fee charged"),
    "ledger.reactivation_fee": gettext_lazy("Reactivation fee charged"),
    "ledger.monthly_fee": gettext_lazy("Monthly fee charged"),
    "ledger.early_termination_penalty": gettext_lazy("Early-termination penalty charged"),
    "ledger.damage_charge": gettext_lazy("Damage charged"),
    "ledger.refund": gettext_lazy("Refund posted"),
    "merchant.activate": gettext_lazy("Merchant activated"),
    "merchant.close": gettext_lazy("Merchant closed"),
    "merchant.correct": gettext_lazy("Merchant details corrected"),
    "merchant.create": gettext_lazy("Merchant created"),
    "merchant.start_closing": gettext_lazy("Closure started"),
    "merchant.unbind_settlement_card": gettext_lazy("Settlement card unbound"),
    "notice.letter_issued": gettext_lazy("Letter issued"),
    "notice.notice_issued": gettext_lazy("Notice sent"),
    "notices.verify_genuine": gettext_lazy("Notice verified as genuine"),
    "notices.verify_not_genuine": gettext_lazy("Verification found no such notice"),
    "rate_plan.assign": gettext_lazy("Rate plan assigned"),
    "rate_plan.change": gettext_lazy("Rate plan changed"),
    "rate_plan.create": gettext_lazy("Rate plan created"),
    "rate_plan.notify": gettext_lazy("Rate change notified"),
    "settlement.batch": gettext_lazy("Settlement batch made"),
    "settlement.payout": gettext_lazy("Paid out"),
    "settlement_profile.create": gettext_lazy("Settlement profile created"),
    "settlement_profile.update": gettext_lazy("Settlement profile changed"),
    "terminal.activate": gettext_lazy("Activated"),
    "terminal.allocate": gettext_lazy("Allocated"),
    "terminal.deactivate": gettext_lazy("Deactivated"),
    "terminal.receive_return": gettext_lazy("Return received"),
    "terminal.register": gettext_lazy("Registered"),
    "terminal.retire": gettext_lazy("Retired"),
    "terminal.start_repair": gettext_lazy("Sent to repair"),
    "terminal.finish_repair": gettext_lazy("Back from repair"),
    "terminal.refurbish": gettext_lazy("Refurbished into stock"),
    "terminal.import": gettext_lazy("Imported"),
    "terminal.install": gettext_lazy("Installed"),
    "terminal.swap": gettext_lazy("Swapped"),
    "terminal_model.update": gettext_lazy("Terminal model changed"),
    "token.issue": gettext_lazy("API token issued"),
    "token.revoke": gettext_lazy("API token revoked"),
    "totp.enrol": gettext_lazy("Authenticator enrolled"),
    "totp.remove": gettext_lazy("Authenticator removed"),
    "transaction.flagged": gettext_lazy("Transaction flagged"),
    "ledger.payment_received": gettext_lazy("Payment received"),
    "loaner.lend": gettext_lazy("Lent as a loaner"),
    "notice.deactivation_issued": gettext_lazy("Deactivation notice sent"),
    "notice.lift_issued": gettext_lazy("Lift notice sent"),
    "notice.statement_issued": gettext_lazy("Statement notice sent"),
    "notice.stop_issued": gettext_lazy("Stop notice sent"),
    "repair.diagnose": gettext_lazy("Fault diagnosed"),
    "repair.finish": gettext_lazy("Repair finished"),
    "repair.loaner_lent": gettext_lazy("Loaner lent"),
    "repair.qc": gettext_lazy("Quality checked"),
    "repair.remote_fix": gettext_lazy("Fixed remotely"),
    "repair.report": gettext_lazy("Fault reported"),
    "repair.start": gettext_lazy("Repair started"),
    "repair.step": gettext_lazy("Repair step recorded"),
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the field was not there before (a creation)
    after: str | None


def choice_label(value: str) -> str:
    return labels.label(value)


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


def actor_label(kind: str, name: str) -> str:
    """A system actor by what it is; a person by their username."""
    found = SYSTEM_ACTORS.get(name) if kind == "system" else None
    return str(found) if found is not None else name


def object_label(object_type: str, object_id: str = "") -> str:
    name = OBJECTS.get(object_type)
    text = str(name) if name is not None else object_type
    return f"{text} {object_id}".strip()


def field_label(key: str) -> str:
    label = FIELDS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def money(fen: int) -> str:
    return amounts.money(fen)


def local_time(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def value_text(key: str, value: Any) -> str:
    """One stored value as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int) and key.endswith("_fen"):
        return money(value)
    if isinstance(value, list):
        return ", ".join(value_text(key, v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {value_text(k, v)}" for k, v in value.items() if k not in HIDDEN)
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text == "[redacted]":
        return _("(not shown)")
    if _ISO_TIME.match(text):
        try:
            return local_time(datetime.fromisoformat(text))
        except ValueError:
            return text
    if key in {"target", "ref"} and (m := _OBJECT_REF.match(text)) and m.group(1) in OBJECTS:
        object_id, _sep, what = m.group(2).partition(":")
        named = object_label(m.group(1), object_id)
        return f"{named} · {choice_label(what)}" if what else named
    return choice_label(text)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """Field by field: what it was and what it became (only the fields that differ, when both exist)."""
    before = before or {}
    after = after or {}
    out: list[Change] = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in HIDDEN:
            continue
        if key in before and key in after and before[key] == after[key]:
            continue
        out.append(
            Change(
                field_label(key),
                value_text(key, before[key]) if key in before else None,
                value_text(key, after[key]) if key in after else None,
            )
        )
    return out


def object_choices() -> list[tuple[str, str]]:
    return sorted(((k, str(v)) for k, v in OBJECTS.items()), key=lambda kv: kv[1])


def action_choices() -> list[tuple[str, str]]:
    """Actions to filter by, by their label."""
    return sorted(((k, str(v)) for k, v in ACTIONS.items()), key=lambda kv: kv[1])
