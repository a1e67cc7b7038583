"""The words of stop and lift notices: reason categories with their merchant-facing templates, the
channels a notice goes out on, delivery states, call outcomes, fraud-report channels.

A category's template is what staff start from; the merchant reads the text they finally wrote. The
internal reason of a hold never leaves the institution.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReasonCategory(models.TextChoices):
    POLICY = "policy", _("Policy change")
    MAINTENANCE = "maintenance", _("System maintenance")
    ACCOUNT_ANOMALY = "account_anomaly", _("Account anomaly")
    TRANSACTION_DISPUTE = "transaction_dispute", _("Transaction dispute")
    HARDWARE_FAULT = "hardware_fault", _("Hardware fault")
    COMPLIANCE = "compliance", _("Compliance")
    MERCHANT_REQUEST = "merchant_request", _("Your own request")


# The category a hold of each kind names when staff do not pick one.
DEFAULT_CATEGORY = {
    "merchant_suspension": ReasonCategory.MERCHANT_REQUEST,
    "maintenance": ReasonCategory.MAINTENANCE,
    "risk_freeze": ReasonCategory.ACCOUNT_ANOMALY,
    "compliance": ReasonCategory.COMPLIANCE,
    "fault": ReasonCategory.HARDWARE_FAULT,
}

# Stops the merchant may appeal (the institution's own decisions about them).
APPEALABLE = frozenset(
    {
        ReasonCategory.POLICY,
        ReasonCategory.ACCOUNT_ANOMALY,
        ReasonCategory.TRANSACTION_DISPUTE,
        ReasonCategory.COMPLIANCE,
    }
)

# Stops an agent also phones about (a merchant should not learn of a freeze from an SMS alone).
CALLED = APPEALABLE

TEMPLATES: dict[str, Any] = {
    ReasonCategory.POLICY: _(
        "Under a policy change by the bank or by us, your POS terminal(s) can no longer take payments "
        "from the date below. We will offer you a replacement."
    ),
    ReasonCategory.MAINTENANCE: _(
        "We are upgrading our systems. Your POS terminal(s) cannot take payments during the window "
        "below and will work again by themselves when it ends."
    ),
    ReasonCategory.ACCOUNT_ANOMALY: _(
        "We noticed unusual activity on your merchant account and have stopped your POS terminal(s) "
        "for your protection while we review it."
    ),
    ReasonCategory.TRANSACTION_DISPUTE: _(
        "A transaction taken on your POS terminal is disputed. Your terminal(s) are stopped while "
        "the dispute is reviewed."
    ),
    ReasonCategory.HARDWARE_FAULT: _(
        "Your POS terminal has a hardware fault and is stopped until it is repaired or replaced."
    ),
    ReasonCategory.COMPLIANCE: _(
        "To meet regulatory requirements your POS terminal(s) are stopped until the matters below "
        "are settled."
    ),
    ReasonCategory.MERCHANT_REQUEST: _("As you asked, your POS terminal(s) are stopped."),
}

LIFT_TEMPLATE = _("Your POS terminal(s) can take payments again.")

# What the merchant should have ready, per category (the appeal's materials).
MATERIALS: dict[str, list[Any]] = {
    ReasonCategory.POLICY: [_("Business licence"), _("Proof of identity")],
    ReasonCategory.ACCOUNT_ANOMALY: [
        _("Proof of identity"),
        _("Business licence (businesses)"),
        _("Transaction evidence: receipts, delivery notes, contracts"),
    ],
    ReasonCategory.TRANSACTION_DISPUTE: [
        _("Transaction evidence: receipts, delivery notes, contracts"),
        _("Proof of identity"),
    ],
    ReasonCategory.COMPLIANCE: [_("Business licence"), _("Proof of identity")],
    ReasonCategory.HARDWARE_FAULT: [],
    ReasonCategory.MAINTENANCE: [],
    ReasonCategory.MERCHANT_REQUEST: [],
}


def template_for(category: str) -> str:
    return str(TEMPLATES.get(category, ""))


class NoticeEvent(models.TextChoices):
    HOLD_PLACED = "hold_placed", _("Stopped")
    HOLD_RELEASED = "hold_released", _("Lifted")
    HOLD_ENDED = "hold_ended", _("Window over")
    DEACTIVATED = "deactivated", _("Deactivated")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal inbox")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    CALL = "call", _("Phone call")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


DELIVERY_DONE = frozenset({DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.FAILED})


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Refused")


class CallState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class FraudChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")


class FraudState(models.TextChoices):
    OPEN = "open", _("Open")
    REVIEWED = "reviewed", _("Reviewed")
