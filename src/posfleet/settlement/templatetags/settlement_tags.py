"""`{{ fen|yuan }}`: integer fen shown as CNY with two decimals and thousands separators, no float."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    if fen is None or fen == "":
        return ""
    value = int(fen)
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100:,}.{value % 100:02d}"
