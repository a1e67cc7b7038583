"""Registry signals, sent inside the creating transaction so listeners write with it or undo it."""

from django.dispatch import Signal

merchant_created = Signal()  # kwargs: merchant, data (MerchantInput), actor
