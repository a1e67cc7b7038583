"""`{% load labels %}`: `{{ code|label }}`, the words for a stored code (see posfleet.core.labels)."""

from __future__ import annotations

from typing import Any

from django import template

from posfleet.core import labels

register = template.Library()


@register.filter
def label(code: Any) -> str:
    return labels.label(code)
