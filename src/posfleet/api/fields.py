"""Constrained field and parameter types the API's schemas share, so the OpenAPI document states the
rules the services apply: a request valid by the document is not refused for its shape.

Text is stored in PostgreSQL, which cannot hold a NUL character, so no text field takes one; a
required text must hold something other than white space (the services strip it); ids fit the
database's 64-bit integers; a terminal id is 8 digits or capital letters.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Path, Query
from pydantic import BeforeValidator, Field, StrictBool

MAX_ID = 2**63 - 1
MAX_FEN = 10**15  # ten trillion yuan: beyond any amount posfleet handles, within 64 bits with room
TID_PATTERN = r"^[0-9A-Z]{8}$"
# Any text without NUL; and with at least one character that `str.strip()` keeps.
ANY_TEXT = r"^[^\x00]*$"
NONBLANK_TEXT = r"^[^\x00]*[^\s\x00\x1c-\x1f][^\x00]*$"
REASON_MAX = 2000
NOTE_MAX = 4000

Reason = Annotated[
    str,
    Field(
        min_length=1, max_length=REASON_MAX, pattern=NONBLANK_TEXT, description="Why, in words people read"
    ),
]
Tid = Annotated[
    str, Field(pattern=TID_PATTERN, description="Exactly 8 characters: digits or capital letters")
]


def text(max_length: int, description: str = "") -> Any:
    """A required text of 1 to `max_length` characters that is not only white space."""
    return Field(min_length=1, max_length=max_length, pattern=NONBLANK_TEXT, description=description)


def optional_text(max_length: int, default: str | None = "", description: str = "") -> Any:
    """A text of at most `max_length` characters (empty allowed)."""
    return Field(default, max_length=max_length, pattern=ANY_TEXT, description=description)


# Dates and times only as ISO text, and booleans only as booleans: pydantic would also read a number
# as a date (Unix time) or `0` as false, which the document does not say.
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.match(value):
        raise ValueError("a date is written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("a date is text, YYYY-MM-DD")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str) and not _DATETIME.match(value):
        raise ValueError("a time is written in ISO 8601, like 2026-11-20T09:30:00+08:00")
    if not isinstance(value, str | datetime):
        raise ValueError("a time is text in ISO 8601")
    return value


def _true_false(value: Any) -> Any:
    if isinstance(value, str) and value.lower() not in {"true", "false"}:  # Python clients send "True"
        raise ValueError("true or false")
    return value


def _isoformat(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
# In a response: a date or time as Python's `isoformat()` text (microseconds, "+00:00"), which some
# outputs have always given, rather than ninja's rendering of a datetime (milliseconds, "Z").
IsoText = Annotated[str, BeforeValidator(_isoformat)]
Flag = StrictBool  # in a JSON body: true or false, nothing else

# Path and query parameters.
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Day = Annotated[IsoDate | None, Query(description="A business day, YYYY-MM-DD (Asia/Shanghai)")]
QueryFlag = Annotated[bool | None, Query(None, description="true or false"), BeforeValidator(_true_false)]
QueryBool = Annotated[bool, Query(False, description="true or false"), BeforeValidator(_true_false)]
PathTid = Annotated[str, Path(pattern=TID_PATTERN, description="The terminal's TID")]
# Short enough that a request naming several stays within the server's 4 KB request line.
Search = Annotated[str | None, Query(max_length=64, pattern=ANY_TEXT)]
