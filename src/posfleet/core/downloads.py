"""File answers (CSV, PDF, ZIP, uploads) for the console, the portal and the API alike: one place
says how a download is named and how its SHA-256 travels with it."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponse, StreamingHttpResponse

CSV = "text/csv; charset=utf-8"


def download(
    data: bytes | str, content_type: str, filename: str, *, inline: bool = False, sha256: str = ""
) -> HttpResponse:
    """`inline` lets the browser show it; `sha256`, when known, goes out as X-Content-SHA256."""
    response = HttpResponse(data, content_type=content_type)
    _name(response, filename, inline)
    if sha256:
        response["X-Content-SHA256"] = sha256
    return response


def stream_download(lines: Iterable[str], content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=content_type)
    _name(response, filename, inline=False)
    return response


def _name(response: HttpResponse | StreamingHttpResponse, filename: str, inline: bool) -> None:
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
