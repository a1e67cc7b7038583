"""One place that turns a stored code into the words people read: every choice value of every model,
plus the codes that are not model choices (ledger accounts, refusal reasons, clearance reasons), which
their apps register here. Unknown codes come back unchanged (the page walk test catches them).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.apps import apps
from django.db import models

_extra: dict[str, Any] = {}


def register(labels: dict[str, Any]) -> None:
    """An app's codes that are not model choices (call at import time of the app's module)."""
    _extra.update(labels)
    _all.cache_clear()


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


def label(code: Any) -> str:
    """The label of a stored code, in the active language; anything else as it is."""
    if code is None:
        return ""
    text = str(code)
    found = _all().get(text)
    return str(found) if found is not None else text
