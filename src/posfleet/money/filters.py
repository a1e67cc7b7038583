"""Which transactions a list shows: the filters of the API's transaction list and the console's
merchant money page, written once. Dates are business days in Asia/Shanghai, inclusive.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from posfleet.core.errors import ValidationFailed
from posfleet.core.filters import filter_given
from posfleet.money.choices import CHANNELS, TX_TYPES
from posfleet.money.models import Transaction


def filter_transactions(
    qs: QuerySet[Transaction],
    *,
    merchant_id: int | None = None,
    tid: str | None = None,
    channel: str | None = None,
    type: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    flagged: bool | None = None,
) -> QuerySet[Transaction]:
    """`qs` narrowed by every filter given; an unknown channel or type is a ValidationFailed."""
    if channel and channel not in CHANNELS:
        raise ValidationFailed(details={"channel": [_("Use one of: %(c)s.") % {"c": ", ".join(CHANNELS)}]})
    if type and type not in TX_TYPES:
        raise ValidationFailed(details={"type": [_("Use one of: %(t)s.") % {"t": ", ".join(TX_TYPES)}]})
    if tid:
        qs = qs.filter(tid=tid.strip())
    return filter_given(
        qs,
        merchant_id=merchant_id,
        channel=channel,
        type=type,
        business_date__gte=date_from,
        business_date__lte=date_to,
        flagged=flagged,
    )


def day(field: str, raw: str | None, message: Any = None) -> date | None:
    """A YYYY-MM-DD query parameter (None when empty); ValidationFailed names the field otherwise."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(
            message or _("%(field)s must look like 2026-11-20.") % {"field": field},
            details={field: [_("Use YYYY-MM-DD.")]},
        ) from None
