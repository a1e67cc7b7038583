"""Stored codes and refusal details read as words."""

from __future__ import annotations

from django.utils import translation

from posfleet.audit import display  # noqa: F401  (registers the field names)
from posfleet.cases import forms  # noqa: F401  (registers the checklist items)
from posfleet.core import labels


def test_choice_values_and_registered_codes_have_labels() -> None:
    with translation.override("zh-hans"):
        assert labels.label("renovation_or_relocation") == "装修或搬迁"
        assert labels.label("bank") == "银行存款"
        assert labels.label("not a code") == "not a code"


def test_error_details_name_fields_and_codes_in_words() -> None:
    with translation.override("en"):
        lines = labels.error_details(
            {"ends_at": ["must be later than the start"], "guards": ["terminals_stopped"], "x": ["plain"]}
        )
    assert lines == ["Ends: must be later than the start", "Terminals stopped", "plain"]
