"""One place that turns a stored code into the words people read: every choice value of every model,
plus the codes that are not model choices (ledger accounts, refusal reasons, clearance reasons), which
their apps register here. Unknown codes come back unchanged (the page walk test catches them).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import formats, timezone

_extra: dict[str, Any] = {}
_fields: dict[str, Any] = {}


def register(labels: dict[str, Any]) -> None:
    """An app's codes that are not model choices (call at import time of the app's module)."""
    _extra.update(labels)
    _all.cache_clear()


def register_fields(labels: dict[str, Any]) -> None:
    """Names of input and record fields (`ends_at` → "Ends"), for error details and change lists."""
    _fields.update(labels)


def field_label(key: str) -> str | None:
    found = _fields.get(key)
    return str(found) if found is not None else None


@cache
def _all() -> dict[str, Any]:
    found: dict[str, Any] = {}
    pending: list[type[models.Choices]] = list(models.TextChoices.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("posfleet."):
            for value, label in cls.choices:
                found.setdefault(str(value), label)
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, label in getattr(f, "flatchoices", None) or []:
                if isinstance(value, str):
                    found.setdefault(value, label)
    found.update(_extra)
    return found


def local_time(moment: datetime | None) -> str:
    """An aware time as people here read it: Asia/Shanghai (the site's zone), to the minute."""
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def label(code: Any) -> str:
    """The label of a stored code, in the active language; anything else as it is."""
    if code is None:
        return ""
    text = str(code)
    found = _all().get(text)
    return str(found) if found is not None else text


def error_details(details: Any) -> list[str]:
    """A refusal's field details as sentences: "Ends: must be later than the start", codes in words;
    a field nobody named is left out of the sentence rather than shown as its code."""
    if not isinstance(details, dict):
        return []
    lines = []
    for key, msgs in details.items():
        if not isinstance(msgs, list | tuple) or not msgs:
            continue
        text = "; ".join(label(m) for m in msgs)
        name = field_label(str(key))
        lines.append(f"{name}: {text}" if name else text)
    return lines
