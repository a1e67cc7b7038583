"""Choices of faults and repairs with zh/en labels (translations in the gettext catalogues)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FaultCategory(models.TextChoices):
    HARDWARE = "hardware", _("Hardware")
    SOFTWARE = "software", _("Software")
    NETWORK = "network", _("Network")


class Symptom(models.TextChoices):
    SCREEN = "screen", _("Screen")
    KEYPAD = "keypad", _("Keypad")
    CARD_READER = "card_reader", _("Chip or swipe reader")
    CONTACTLESS = "contactless", _("Contactless reader")
    PRINTER = "printer", _("Printer")
    POWER = "power", _("Battery or power")
    CASING = "casing", _("Casing")
    CRASH = "crash", _("Crash or reboot")
    APP_ERROR = "app_error", _("App error")
    DATA_ERROR = "data_error", _("Data error")
    WRONG_TIME = "wrong_time", _("Wrong time")
    WIFI = "wifi", _("Wi-Fi")
    MOBILE = "mobile", _("4G or SIM")
    BLUETOOTH = "bluetooth", _("Bluetooth")
    HOST_UNREACHABLE = "host_unreachable", _("Host unreachable")


SYMPTOMS: dict[str, tuple[str, ...]] = {
    FaultCategory.HARDWARE: ("screen", "keypad", "card_reader", "contactless", "printer", "power", "casing"),
    FaultCategory.SOFTWARE: ("crash", "app_error", "data_error", "wrong_time"),
    FaultCategory.NETWORK: ("wifi", "mobile", "bluetooth", "host_unreachable"),
}


class Frequency(models.TextChoices):
    ONCE = "once", _("Once")
    SOMETIMES = "sometimes", _("Sometimes")
    DAILY = "daily", _("Every day")
    ALWAYS = "always", _("All the time")


class RepairState(models.TextChoices):
    REPORTED = "reported", _("Reported")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    REMOTE_FIX = "remote_fix", _("Fixed remotely")
    AWAITING_QUOTE = "awaiting_quote", _("Awaiting quote")
    QUOTE_ACCEPTED = "quote_accepted", _("Quote accepted")
    AWAITING_PARTS = "awaiting_parts", _("Awaiting parts")
    REPAIRING = "repairing", _("Repairing")
    QC = "qc", _("Quality check")
    DONE = "done", _("Done")
    UNREPAIRABLE = "unrepairable", _("Unrepairable")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_STATES = frozenset(
    {RepairState.REMOTE_FIX, RepairState.DONE, RepairState.UNREPAIRABLE, RepairState.CANCELLED}
)


class Where(models.TextChoices):
    IN_HOUSE = "in_house", _("In house")
    MANUFACTURER = "manufacturer", _("Manufacturer")
    THIRD_PARTY = "third_party", _("Third party")


class QuoteState(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    SET_ASIDE = "set_aside", _("Not chosen")


class QcCheck(models.TextChoices):
    CHIP = "chip", _("Chip read")
    SWIPE = "swipe", _("Swipe read")
    CONTACTLESS = "contactless", _("Contactless read")
    PRINT = "print", _("Print")
    KEYPAD = "keypad", _("Keypad")
    DISPLAY = "display", _("Display")
    NETWORK = "network", _("Network")
    BATTERY = "battery", _("Battery")


DEFAULT_QC_CHECKS: tuple[str, ...] = tuple(QcCheck.values)


class LoanerState(models.TextChoices):
    LENT = "lent", _("Lent")
    RETURNED = "returned", _("Returned")


class SwapKind(models.TextChoices):
    UNREPAIRABLE = "unrepairable", _("Unrepairable")
    MODEL_RETIRED = "model_retired", _("Model retired by policy")
    UPGRADE = "upgrade", _("Upgrade asked by the merchant")
