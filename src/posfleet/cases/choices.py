"""Choices of cases with zh/en labels, and the per-kind data (reasons, required materials) as tables.

Reasons and required materials are data, not code paths: a new kind or a changed requirement is an
edit to these tables, and the services, the API and both UIs read them from here.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    SUSPENSION = "suspension", _("Suspension")
    REACTIVATION = "reactivation", _("Reactivation")
    DEACTIVATION = "deactivation", _("Deactivation")
    CLOSURE = "closure", _("Closure")


class CaseState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_MATERIALS = "needs_materials", _("Needs materials")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = (CaseState.SUBMITTED, CaseState.NEEDS_MATERIALS, CaseState.APPROVED, CaseState.IN_PROGRESS)
REVIEWABLE_STATES = (CaseState.SUBMITTED, CaseState.NEEDS_MATERIALS)
FINAL_STATES = (CaseState.REJECTED, CaseState.COMPLETED, CaseState.CANCELLED)


class CaseChannel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    MAIL = "mail", _("Mail")
    FAX = "fax", _("Fax")
    BRANCH = "branch", _("Branch")
    CONSOLE = "console", _("Console")


class Reason(models.TextChoices):
    MAINTENANCE = "maintenance", _("System maintenance or upgrade")
    RENOVATION_OR_RELOCATION = "renovation_or_relocation", _("Renovation or relocation")
    FAULT = "fault", _("Fault")
    TEMPORARY_CLOSURE = "temporary_closure", _("Temporary closure")
    TECHNOLOGY_UPGRADE = "technology_upgrade", _("Technology upgrade")
    BUSINESS_CHANGE = "business_change", _("Business change")
    FINANCIAL = "financial", _("Financial")
    COMPLIANCE = "compliance", _("Compliance")
    CONTRACT_ENDED = "contract_ended", _("Contract ended")
    BUSINESS_RESUMED = "business_resumed", _("Business resumed")
    REPAIRED = "repaired", _("Repaired")
    RENOVATION_FINISHED = "renovation_finished", _("Renovation or relocation finished")
    OTHER = "other", _("Other")


_STOP_REASONS = (
    Reason.FAULT,
    Reason.TECHNOLOGY_UPGRADE,
    Reason.BUSINESS_CHANGE,
    Reason.FINANCIAL,
    Reason.COMPLIANCE,
    Reason.CONTRACT_ENDED,
    Reason.OTHER,
)

REASONS: dict[str, tuple[str, ...]] = {
    CaseKind.SUSPENSION: (
        Reason.MAINTENANCE,
        Reason.RENOVATION_OR_RELOCATION,
        Reason.FAULT,
        Reason.TEMPORARY_CLOSURE,
        Reason.OTHER,
    ),
    CaseKind.REACTIVATION: (
        Reason.BUSINESS_RESUMED,
        Reason.RENOVATION_FINISHED,
        Reason.REPAIRED,
        Reason.OTHER,
    ),
    CaseKind.DEACTIVATION: _STOP_REASONS,
    CaseKind.CLOSURE: _STOP_REASONS,
}


class MaterialType(models.TextChoices):
    APPLICATION_FORM = "application_form", _("Application form")
    BUSINESS_LICENCE_COPY = "business_licence_copy", _("Business licence copy")
    ID_CARD_FRONT = "id_card_front", _("ID card (front)")
    ID_CARD_BACK = "id_card_back", _("ID card (back)")
    PROOF_OF_IDENTITY = "proof_of_identity", _("Proof of identity")
    SETTLEMENT_CARD = "settlement_card", _("Settlement card")
    RECEIPTS = "receipts", _("Receipts")
    PHOTOS = "photos", _("Photos")
    OTHER = "other", _("Other")


REQUIRED_MATERIALS: dict[str, tuple[str, ...]] = {
    CaseKind.SUSPENSION: (
        MaterialType.APPLICATION_FORM,
        MaterialType.BUSINESS_LICENCE_COPY,
        MaterialType.PROOF_OF_IDENTITY,
    ),
    CaseKind.REACTIVATION: (MaterialType.APPLICATION_FORM, MaterialType.PROOF_OF_IDENTITY),
    CaseKind.DEACTIVATION: (MaterialType.APPLICATION_FORM, MaterialType.PROOF_OF_IDENTITY),
    CaseKind.CLOSURE: (
        MaterialType.APPLICATION_FORM,
        MaterialType.BUSINESS_LICENCE_COPY,
        MaterialType.PROOF_OF_IDENTITY,
        MaterialType.SETTLEMENT_CARD,
    ),
}

# Hours a case may wait in a queue before the console marks it overdue (SLA age).
SLA_HOURS: dict[str, int] = {
    CaseKind.SUSPENSION: 24,
    CaseKind.REACTIVATION: 4,
    CaseKind.DEACTIVATION: 72,
    CaseKind.CLOSURE: 120,
}


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    NEED_MATERIALS = "need_materials", _("Ask for materials")


class CommentKind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    CALL = "call", _("Phone call")
    EMAIL = "email", _("E-mail")
    NOTICE = "notice", _("Notice")


class Condition(models.TextChoices):
    GOOD = "good", _("Good")
    DAMAGED = "damaged", _("Damaged")
    MISSING = "missing", _("Missing")


class SettlementState(models.TextChoices):
    SETTLED = "settled", _("Settled")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment of the shortfall")


class ExportState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


CHECKLIST_ITEMS = (
    "terminals_stopped",
    "money_cleared",
    "data_exported",
    "equipment_returned",
    "keys_destroyed",
    "money_settled",
    "account_closed",
)
