"""The API object: django-ninja's, its OpenAPI document adjusted where ninja says more than the server.

A query parameter typed `X | None` is documented as optional X, not "X or null": a query string has no
null (leaving it out means none), so no client or test generator sends the text "null". Every
operation may also be answered 414 by granian when the URI exceeds 65,534 bytes, before the
application sees it (an empty body), so the document names that answer.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` less its "or null" (nested ones too): {"anyOf": [X, null]} becomes X."""
    while True:
        options = schema.get("anyOf") or []
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) != 1 or len(kept) == len(options):
            return schema
        del schema["anyOf"]
        schema = {**schema, **kept[0]}


URI_TOO_LONG = {
    "description": "The request URI (path and query) is longer than 65,534 bytes; answered by the HTTP "
    "server with an empty body",
}


def drop_null_from_parameters(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = without_null(parameter["schema"])
    return document


def declare_uri_too_long(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault("414", URI_TOO_LONG)
    return document


class PosfleetAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return declare_uri_too_long(drop_null_from_parameters(super().get_openapi_schema(*args, **kwargs)))
