"""Choices of the money app (zh labels in the money catalogue)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    CREDIT = "credit", _("Credit card")
    DEBIT = "debit", _("Debit card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    UNIONPAY_QR = "unionpay_qr", _("UnionPay QR")


class TxType(models.TextChoices):
    SALE = "sale", _("Sale")
    REFUND = "refund", _("Refund")
    REVERSAL = "reversal", _("Reversal")


CHANNELS: tuple[str, ...] = tuple(Channel.values)
TX_TYPES: tuple[str, ...] = tuple(TxType.values)
