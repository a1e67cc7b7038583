"""`Idempotency-Key` on POST: a retried request gets the first response instead of a second effect.

Put `@idempotent` below the route decorator. With a key, the handler runs in one transaction with the
stored record, so effect and record commit together; only responses below 400 are stored. The same
key, user, method, path and body replays the stored response (`Idempotent-Replayed: true`); another
body is 422 `idempotency_key_reused`; a concurrent first request 409 `idempotency_key_in_flight`.
The stored body is the response as it was sent: the handler's result read through the operation's
response schema (as ninja does), so handlers may return model instances. docs/api.md has the rules in
full.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja import Status
from ninja.renderers import JSONRenderer
from ninja.signature.utils import get_typed_signature

from posfleet.api.auth import actor_of
from posfleet.api.models import IdempotencyRecord
from posfleet.core.errors import Conflict, ValidationFailed

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("ETag", "Location")


def request_hash(request: HttpRequest) -> str:
    """SHA-256 of the request body; for multipart bodies (already parsed) of its fields and files."""
    digest = hashlib.sha256()
    multipart = (request.content_type or "").startswith("multipart/")
    try:
        if multipart:  # never read a (large) multipart body into memory: hash its parsed parts
            raise RawPostDataException
        digest.update(request.body)
    except RawPostDataException:
        for name in sorted(request.POST):
            digest.update(f"{name}={request.POST.getlist(name)}".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    digest.update((request.META.get("QUERY_STRING") or "").encode())
    return digest.hexdigest()


def _jsonable(data: Any) -> Any:
    """JSON-able form of `data` as the API's renderer writes it: dicts, lists, (nested) Schemas, dates,
    Decimals, UUIDs."""
    return json.loads(json.dumps(data, cls=JSONRenderer.encoder_class))


def _as_sent(handler: Any, request: HttpRequest, status: int, data: Any) -> Any:
    """The body ninja sends for a handler's result `data`: read through the operation's response schema
    for `status` and dumped with its options. The route decorator marks the function it registers
    (`handler`) with its operation."""
    operation = handler._ninja_operation
    model = operation.response_models[status]
    if model is None:
        return None
    context = {"request": request, "response_status": status}
    validated = model.model_validate({"response": data}, context=context)
    dumped = validated.model_dump(
        by_alias=operation.by_alias,
        exclude_unset=operation.exclude_unset,
        exclude_defaults=operation.exclude_defaults,
        exclude_none=operation.exclude_none,
        context=context,
    )["response"]
    return _jsonable(dumped)


def _response(status: int, body: Any, temporal: Any) -> HttpResponse:
    """`body` sent as it is (not read through the schema again), with the headers set on `temporal`."""
    response = temporal if isinstance(temporal, HttpResponse) else HttpResponse()
    response.status_code = status
    response["Content-Type"] = f"{JSONRenderer.media_type}; charset={JSONRenderer.charset}"
    response.content = json.dumps(body, cls=JSONRenderer.encoder_class)
    return response


def _split(result: Any) -> tuple[int, Any]:
    if isinstance(result, Status):
        return result.status_code, result.value
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
        return result[0], result[1]
    return 200, result


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour `Idempotency-Key` on a ninja POST handler (see the module docstring)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(request, *args, **kwargs)
        if len(key) > 200:
            raise ValidationFailed(
                _("The Idempotency-Key is too long (200 characters at most)."),
                details={HEADER: [_("At most 200 characters.")]},
            )
        user = actor_of(request).user
        digest = request_hash(request)
        scope = {"user": user, "key": key, "method": request.method or "POST", "path": request.path}
        temporal = kwargs.get("response")
        with transaction.atomic():
            stored = IdempotencyRecord.objects.filter(**scope).first()
            if stored is not None:
                return _replay(stored, digest, temporal)
            result = view(request, *args, **kwargs)
            status, data = _split(result)
            if isinstance(result, HttpResponse) or status >= 400:
                return result
            body = _as_sent(wrapper, request, status, data)
            headers = {}
            if isinstance(temporal, HttpResponse):
                headers = {h: temporal[h] for h in KEPT_HEADERS if h in temporal}
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        **scope, request_hash=digest, status=status, body=body, headers=headers
                    )
            except IntegrityError:  # a concurrent first request with this key committed before us
                raise Conflict(
                    _("A request with this Idempotency-Key is still being processed."),
                    code="idempotency_key_in_flight",
                ) from None
            return _response(status, body, temporal)

    # ninja resolves string annotations (`from __future__ import annotations`) against the function's
    # module globals; give it the signature resolved in the handler's module, not in this one.
    wrapper.__signature__ = get_typed_signature(view)  # type: ignore[attr-defined]
    return wrapper


def _replay(stored: IdempotencyRecord, digest: str, temporal: Any) -> Any:
    if stored.request_hash != digest:
        raise ValidationFailed(
            _("This Idempotency-Key was used for a different request."),
            code="idempotency_key_reused",
            details={HEADER: [_("Use a new key for a new request.")]},
        )
    response = _response(stored.status, stored.body, temporal)
    for name, value in (stored.headers or {}).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"  # also where the handler takes no `response` to set it on
    return response


def purge(older_than: datetime) -> int:
    """Delete stored responses created before `older_than`; returns how many."""
    deleted, _detail = IdempotencyRecord.objects.filter(created_at__lt=older_than).delete()
    return deleted
