"""Times people read: a stored ISO text (a notice's facts, an audit payload) as local time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

register = template.Library()


def local_text(value: Any) -> str:
    """'2026-12-10T02:00:00Z' → '2026-12-10 10:00' in the institution's time zone; other text as it is."""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value or ""))
    if moment is None:
        return str(value or "")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


register.filter("local_time", local_text)
