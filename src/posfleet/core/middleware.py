"""Request-wide middleware: a request id on every request (audit events and logs of one request can be
tied together) and the language choice."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from posfleet.core import context


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        token = context.request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(token)
        response["X-Request-Id"] = rid
        return response


class LanguageMiddleware(LocaleMiddleware):
    """zh-CN unless the user chose otherwise: the pages ignore the browser's Accept-Language.

    Operators and merchants in China use the same machines as everyone else, often with English browsers;
    the product's language is Chinese until someone switches (the switch is remembered in Django's language
    cookie). API clients are programs, so under /api/ an explicit Accept-Language is honoured for messages.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if request.path.startswith("/api/") and not chosen:
            super().process_request(request)
            return
        language = chosen if chosen and translation.check_for_language(chosen) else settings.LANGUAGE_CODE
        supported = {code for code, _name in settings.LANGUAGES}
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
