"""`Idempotency-Key` on POST: a retried request gets the first response instead of a second effect.

Use it on any ninja POST handler, below the route decorator::

    from posfleet.api.idempotency import idempotent

    @router.post("/things", response={201: ThingOut})
    @idempotent
    def create_thing(request, payload: ThingIn):
        with transaction.atomic():
            thing = services.create_thing(actor_of(request), ...)
        return Status(201, thing_out(thing))  # a dict or a Schema (JSON-able), optionally with a status

Rules:
- No header: the handler runs as usual.
- First request with a key: the handler runs inside one transaction together with the stored record,
  so the effect and the record commit (or roll back) together. Only successful (< 400) responses are
  stored; a refused request wrote nothing and may be retried with the same key.
- Same key, same user, method and path, same body: the stored status, body and the `ETag`/`Location`
  headers are replayed (header `Idempotent-Replayed: true`) without running the handler.
- Same key with a different body: 422 `idempotency_key_reused`.
- Two concurrent first requests with one key: one wins; the other gets 409 `idempotency_key_in_flight`.
The handler must return JSON-able data (dicts, lists, ninja Schemas), not model instances. If it declares
a `response: HttpResponse` parameter (ninja's temporal response), its ETag/Location headers are stored.
Records can be purged after a while with `purge(older_than)`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja import Status
from ninja.signature.utils import get_typed_signature
from pydantic_core import to_jsonable_python

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
    """JSON-able form of a handler's result: dicts, lists, (nested) Schemas, dates, Decimals, UUIDs."""
    return to_jsonable_python(data, fallback=DjangoJSONEncoder().default)


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
            headers = {}
            if isinstance(temporal, HttpResponse):
                headers = {h: temporal[h] for h in KEPT_HEADERS if h in temporal}
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        **scope, request_hash=digest, status=status, body=_jsonable(data), headers=headers
                    )
            except IntegrityError:  # a concurrent first request with this key committed before us
                raise Conflict(
                    _("A request with this Idempotency-Key is still being processed."),
                    code="idempotency_key_in_flight",
                ) from None
            return result

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
    if isinstance(temporal, HttpResponse):
        for name, value in (stored.headers or {}).items():
            temporal[name] = value
        temporal["Idempotent-Replayed"] = "true"
    return Status(stored.status, stored.body)


def purge(older_than: datetime) -> int:
    """Delete stored responses created before `older_than`; returns how many."""
    deleted, _detail = IdempotencyRecord.objects.filter(created_at__lt=older_than).delete()
    return deleted
