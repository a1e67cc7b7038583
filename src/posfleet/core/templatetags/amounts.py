"""`{% load amounts %}`: `{{ fen|yuan }}` → "1,234.56" and `{{ bp|pct }}` → "0.60%", `{{ fen|money }}` → "1,234.56 元"; empty for no value."""

from __future__ import annotations

from typing import Any

from django import template

from posfleet.core import amounts

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    try:
        return amounts.yuan(int(fen))
    except (TypeError, ValueError):
        return ""


@register.filter
def money(fen: Any) -> str:
    try:
        return amounts.money(int(fen))
    except (TypeError, ValueError):
        return ""


@register.filter
def pct(bp: Any) -> str:
    try:
        return amounts.percent(int(bp))
    except (TypeError, ValueError):
        return ""
