"""The user's own security pages: API tokens (list, create — shown once —, revoke) and TOTP enrolment."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from posfleet.accounts import tokens, totp
from posfleet.core.errors import DomainError, NotFound
from posfleet.web.staff import console_actor, domain_error_response, staff_view


def _tokens_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    actor = console_actor(request)
    return {"tokens": list(tokens.tokens_for(actor)[:200]), "is_admin": tokens.is_admin(actor), **extra}


@require_http_methods(["GET", "POST"])
@staff_view
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "console/tokens.html", _tokens_context(request))
    actor = console_actor(request)
    username = (request.POST.get("username") or "").strip()
    try:
        owner: Any = request.user
        if username and username != request.user.get_username():
            owner = get_user_model().objects.filter(username=username).first()
            if owner is None:
                raise NotFound(_("No user %(name)s.") % {"name": username})
        with transaction.atomic():
            token, raw = tokens.issue(actor, owner, request.POST.get("name", ""))
    except DomainError as exc:
        return domain_error_response(request, exc, "console/tokens.html", _tokens_context(request))
    messages.success(request, _("Token created. Copy it now: it will not be shown again."))
    return render(request, "console/tokens.html", _tokens_context(request, new_token=token, raw=raw))


@require_POST
@staff_view
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        with transaction.atomic():
            tokens.revoke(console_actor(request), token_id, request.POST.get("reason", "") or "revoked")
    except DomainError as exc:
        return domain_error_response(request, exc, "console/tokens.html", _tokens_context(request))
    messages.success(request, _("Token revoked."))
    return HttpResponseRedirect(reverse("console:tokens"))


@require_http_methods(["GET", "POST"])
@staff_view
def totp_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    actor = console_actor(request)
    op = request.POST.get("op", "")
    if request.method == "POST":
        try:
            with transaction.atomic():
                if op == "start":
                    totp.start(actor, user)
                elif op == "confirm":
                    totp.confirm(
                        actor, user, int(request.POST.get("device") or 0), request.POST.get("code", "")
                    )
                    messages.success(request, _("Authenticator confirmed. You can now use its codes."))
                elif op == "remove":
                    totp.remove(actor, user, int(request.POST.get("device") or 0))
                    messages.success(request, _("Authenticator removed."))
        except DomainError as exc:
            return domain_error_response(request, exc, "console/totp.html", _totp_context(user))
        return HttpResponseRedirect(reverse("console:totp"))
    return render(request, "console/totp.html", _totp_context(user))


def _totp_context(user: Any) -> dict[str, Any]:
    device = totp.pending(user)
    ctx: dict[str, Any] = {"devices": totp.confirmed_devices(user), "pending": device}
    if device is not None:
        uri = totp.otpauth_uri(device)
        ctx.update({"qr": totp.qr_svg(uri), "secret": totp.secret_b32(device), "uri": uri})
    return ctx
