"""The public verification page (防骗): no login, same answer and rate limit as the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from posfleet.notices import ratelimit, services
from posfleet.notices.errors import RateLimited


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"code": "", "phone_last4": "", "result": None, "limited": None}
    status = 200
    if request.method == "POST":
        code = (request.POST.get("code") or "")[:64]
        phone = (request.POST.get("phone_last4") or "")[:16]
        context.update(code=code, phone_last4=phone)
        try:
            ratelimit.hit("verify", ratelimit.client_ip(request))
        except RateLimited as exc:
            context["limited"] = str(exc.message)
            status = 429
        else:
            context["result"] = services.verify(code, phone)
    return render(request, "notices/verify.html", context, status=status)
