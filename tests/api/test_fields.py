"""Field types the API's response schemas share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from ninja import Schema

from posfleet.api.fields import IsoText


class Stamped(Schema):
    at: IsoText
    on: IsoText | None


def test_iso_text_reads_a_date_or_time_as_pythons_isoformat():
    row = SimpleNamespace(at=datetime(2026, 12, 7, 9, 30, 1, 123456, tzinfo=UTC), on=date(2026, 12, 7))
    assert Stamped.model_validate(row).model_dump() == {
        "at": "2026-12-07T09:30:01.123456+00:00",
        "on": "2026-12-07",
    }


def test_iso_text_keeps_text_and_null_and_is_text_in_the_document():
    assert Stamped.model_validate({"at": "2026-12-07", "on": None}).model_dump() == {
        "at": "2026-12-07",
        "on": None,
    }
    assert Stamped.model_json_schema(mode="serialization")["properties"]["at"]["type"] == "string"
