"""Display helpers: fen as yuan (1,234.56), basis points as a percentage."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    """12345 → "123.45"; -5 → "-0.05" (integer arithmetic, no float)."""
    if fen is None or fen == "":
        return ""
    value = int(fen)
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}"


@register.filter
def pct(bp: Any) -> str:
    """60 → "0.60%"."""
    if bp is None or bp == "":
        return ""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}%"
