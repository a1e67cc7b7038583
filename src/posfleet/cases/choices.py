"""Choices of cases with zh/en labels, and the per-kind data (reasons, required materials) as tables.

Reasons and required materials are data, not code paths: a new kind or a changed requirement is an
edit to these tables, and the services, the API and both UIs read them from here. Which materials a
case asks for depends on the case's kind and on the merchant's kind: `required_materials()` is that
rule, and everything that names required or missing materials asks it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from posfleet.registry.choices import MerchantKind


class CaseKind(models.TextChoices):
    SUSPENSION = "suspension", _("Suspension")
    REACTIVATION = "reactivation", _("Reactivation")
    DEACTIVATION = "deactivation", _("Deactivation")
    CLOSURE = "closure", _("Closure")
    APPLICATION = "application", _("Terminal application")
    APPEAL = "appeal", _("Appeal")


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
    NEW_MERCHANT = "new_merchant", _("New merchant")
    ADDITIONAL_TERMINAL = "additional_terminal", _("Another terminal")
    APPLYING_AGAIN = "applying_again", _("Applying again after a stop")
    TRANSACTIONS_GENUINE = "transactions_genuine", _("The transactions in question are genuine")
    DISPUTE_RESOLVED = "dispute_resolved", _("The dispute has been settled")
    COMPLIANCE_FIXED = "compliance_fixed", _("The compliance issue has been put right")
    STOPPED_IN_ERROR = "stopped_in_error", _("Stopped in error")
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
    CaseKind.APPLICATION: (
        Reason.NEW_MERCHANT,
        Reason.ADDITIONAL_TERMINAL,
        Reason.APPLYING_AGAIN,
        Reason.OTHER,
    ),
    CaseKind.APPEAL: (
        Reason.TRANSACTIONS_GENUINE,
        Reason.DISPUTE_RESOLVED,
        Reason.COMPLIANCE_FIXED,
        Reason.STOPPED_IN_ERROR,
        Reason.OTHER,
    ),
}


class MaterialType(models.TextChoices):
    APPLICATION_FORM = "application_form", _("Application form")
    BUSINESS_LICENCE_COPY = "business_licence_copy", _("Business licence copy")
    ID_CARD_FRONT = "id_card_front", _("ID card (front)")
    ID_CARD_BACK = "id_card_back", _("ID card (back)")
    PROOF_OF_IDENTITY = "proof_of_identity", _("Proof of identity")
    SETTLEMENT_CARD = "settlement_card", _("Settlement card")
    CORPORATE_ACCOUNT_PROOF = "corporate_account_proof", _("Corporate account proof")
    LEGAL_REP_ID_FRONT = "legal_rep_id_front", _("Legal representative's ID card (front)")
    LEGAL_REP_ID_BACK = "legal_rep_id_back", _("Legal representative's ID card (back)")
    SHOP_PHOTO_STOREFRONT = "shop_photo_storefront", _("Shop photo: storefront")
    SHOP_PHOTO_INTERIOR = "shop_photo_interior", _("Shop photo: interior")
    SHOP_PHOTO_CASHIER = "shop_photo_cashier", _("Shop photo: cashier counter")
    RECEIPTS = "receipts", _("Receipts")
    TRANSACTION_EVIDENCE = (
        "transaction_evidence",
        _("Transaction evidence (receipts, delivery notes, contracts)"),
    )
    PHOTOS = "photos", _("Photos")
    OTHER = "other", _("Other")


# What a case of each kind asks for at most, in the order people read it; `required_materials()`
# leaves out what the merchant's kind cannot have (see ASKED_OF).
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
    CaseKind.APPLICATION: (
        MaterialType.ID_CARD_FRONT,
        MaterialType.ID_CARD_BACK,
        MaterialType.BUSINESS_LICENCE_COPY,
        MaterialType.CORPORATE_ACCOUNT_PROOF,
        MaterialType.LEGAL_REP_ID_FRONT,
        MaterialType.LEGAL_REP_ID_BACK,
        MaterialType.SETTLEMENT_CARD,
        MaterialType.SHOP_PHOTO_STOREFRONT,
        MaterialType.SHOP_PHOTO_INTERIOR,
        MaterialType.SHOP_PHOTO_CASHIER,
    ),
    CaseKind.APPEAL: (
        MaterialType.PROOF_OF_IDENTITY,
        MaterialType.BUSINESS_LICENCE_COPY,
        MaterialType.TRANSACTION_EVIDENCE,
    ),
}

_BUSINESSES = (MerchantKind.SOLE_PROPRIETOR, MerchantKind.ENTERPRISE)

# Materials only some kinds of merchant have; any material not named here may be asked of every kind.
# An individual has no business licence, shop or legal representative (their own ID card stands for
# it); only an enterprise has a corporate account (a sole proprietor is paid to a personal card).
ASKED_OF: dict[str, tuple[str, ...]] = {
    MaterialType.ID_CARD_FRONT: (MerchantKind.INDIVIDUAL,),
    MaterialType.ID_CARD_BACK: (MerchantKind.INDIVIDUAL,),
    MaterialType.BUSINESS_LICENCE_COPY: _BUSINESSES,
    MaterialType.CORPORATE_ACCOUNT_PROOF: (MerchantKind.ENTERPRISE,),
    MaterialType.LEGAL_REP_ID_FRONT: _BUSINESSES,
    MaterialType.LEGAL_REP_ID_BACK: _BUSINESSES,
    MaterialType.SHOP_PHOTO_STOREFRONT: _BUSINESSES,
    MaterialType.SHOP_PHOTO_INTERIOR: _BUSINESSES,
    MaterialType.SHOP_PHOTO_CASHIER: _BUSINESSES,
}


def required_materials(case_kind: str, merchant_kind: str) -> tuple[str, ...]:
    """The materials a case of `case_kind` asks of a merchant of `merchant_kind` (the one rule)."""
    return tuple(
        m
        for m in REQUIRED_MATERIALS.get(case_kind, ())
        if merchant_kind in ASKED_OF.get(m, MerchantKind.values)
    )


# Hours a case may wait in a queue before the console marks it overdue (SLA age). An appeal's comes
# from settings (POSFLEET_APPEAL_SLA_HOURS): the institution promises it to merchants it has stopped.
SLA_HOURS: dict[str, int] = {
    CaseKind.SUSPENSION: 24,
    CaseKind.REACTIVATION: 4,
    CaseKind.DEACTIVATION: 72,
    CaseKind.CLOSURE: 120,
    CaseKind.APPLICATION: 48,
}


def sla_hours(case_kind: str) -> int:
    """Hours a case of `case_kind` may wait before it is overdue."""
    if case_kind == CaseKind.APPEAL:
        return int(settings.POSFLEET_APPEAL_SLA_HOURS)
    return SLA_HOURS.get(case_kind, 48)


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    NEED_MATERIALS = "need_materials", _("Ask for materials")


class CommentKind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    CALL = "call", _("Phone call")
    EMAIL = "email", _("E-mail")
    NOTICE = "notice", _("Notice")


class SettlementState(models.TextChoices):
    SETTLED = "settled", _("Settled")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment of the shortfall")


class Carrier(models.TextChoices):
    """Who takes a new terminal to the merchant."""

    SF_EXPRESS = "sf_express", _("SF Express")
    EMS = "ems", _("China Post EMS")
    JD_LOGISTICS = "jd_logistics", _("JD Logistics")
    ZTO = "zto", _("ZTO Express")
    YTO = "yto", _("YTO Express")
    STO = "sto", _("STO Express")
    YUNDA = "yunda", _("Yunda Express")
    IN_PERSON = "in_person", _("Handed over by our staff")
    OTHER = "other", _("Other carrier")


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
