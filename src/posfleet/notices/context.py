"""`{{ hotline }}` in every template: the official number notices, letters and the verify page give."""

from __future__ import annotations

from django.http import HttpRequest

from posfleet.notices import letters


def hotline(request: HttpRequest) -> dict[str, str]:
    return {"hotline": letters.hotline()}
