"""Choices of the registry with zh/en labels (translations in the gettext catalogues)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MerchantKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    SOLE_PROPRIETOR = "sole_proprietor", _("Sole proprietor")
    ENTERPRISE = "enterprise", _("Enterprise")


class MerchantState(models.TextChoices):
    APPLYING = "applying", _("Applying")
    ACTIVE = "active", _("Active")
    CLOSING = "closing", _("Closing")
    CLOSED = "closed", _("Closed")


class TerminalState(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    ALLOCATED = "allocated", _("Allocated")
    ACTIVE = "active", _("Active")
    IN_REPAIR = "in_repair", _("In repair")
    DEACTIVATED = "deactivated", _("Deactivated")
    RETURNED = "returned", _("Returned")
    RETIRED = "retired", _("Retired")


class AccessoryKind(models.TextChoices):
    PRINTER = "printer", _("Printer")
    SCANNER = "scanner", _("Scanner gun")
    BASE = "base", _("Base")
    CHARGER = "charger", _("Charger")
    SIM = "sim", _("SIM card")
    OTHER = "other", _("Other")


class Condition(models.TextChoices):
    """A lent item (a terminal, an accessory, a loaner) as it comes back to the warehouse."""

    GOOD = "good", _("Good")
    DAMAGED = "damaged", _("Damaged")
    MISSING = "missing", _("Missing")
