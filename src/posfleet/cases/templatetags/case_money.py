"""`{{ amount_fen|yuan }}` → "1,234.50": integer fen shown as yuan, without floats."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yuan(value: object) -> str:
    try:
        fen = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
