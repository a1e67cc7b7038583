"""Integer fen shown as yuan, without floats: the one formatter the pages, letters and messages use."""

from __future__ import annotations


def yuan(fen: int, *, grouping: bool = True, symbol: str = "") -> str:
    """12345 → "123.45"; 123456 → "1,234.56" (or "1234.56" without grouping); -5 → "-0.05".

    `symbol` goes between the sign and the digits ("¥" on letters: "-¥0.05").
    """
    value = int(fen)
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    digits = f"{whole:,}" if grouping else str(whole)
    return f"{sign}{symbol}{digits}.{cents:02d}"


def money(fen: int) -> str:
    """An amount as a person reads it in a sentence: "1,234.56 元" (English: "CNY 1,234.56")."""
    from django.utils.translation import gettext

    return gettext("%(amount)s yuan") % {"amount": yuan(fen)}


def percent(bp: int) -> str:
    """Basis points as a percentage: 60 → "0.60%"."""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}%"
