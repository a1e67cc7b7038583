"""What every portal page shares, in the portal and in each app: who the merchant user is, and the
Actor its views hand to services.

Every portal view is wrapped in `merchant_view`: it lets in only users linked to a merchant
(`accounts.MerchantUser`) and puts that merchant's id on the request, so each query a view makes is
scoped by `request.merchant_id`. Ownership of a case or notice is decided by the service or by a query
filtered on that id, which makes another merchant's object a plain 404 (nothing to learn from a 403).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from posfleet.accounts.models import merchant_id_of
from posfleet.accounts.stepup import session_stepped_up_at
from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError, NotFound

View = Callable[..., HttpResponseBase]
T = TypeVar("T")


def merchant_view(view: View) -> View:
    """Require a logged-in portal user; staff and anonymous users go to the portal login."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        merchant_id = merchant_id_of(user) if user.is_authenticated else None
        if merchant_id is None or not user.is_active:
            login = reverse("portal:login")
            return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        request.merchant_id = merchant_id  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def portal_actor(request: HttpRequest) -> Actor:
    """The merchant user acting through the portal (channel `portal`)."""
    return Actor.for_user(request.user, "portal", stepped_up_at=session_stepped_up_at(request.session))


def or_404(read: Callable[[], T]) -> T:
    """`read()`, a service lookup scoped to the portal's merchant; what it does not find is a plain 404."""
    try:
        return read()
    except NotFound:
        raise Http404 from None


def show_error(
    request: HttpRequest, exc: DomainError, template: str, context: dict[str, Any]
) -> HttpResponse:
    """Re-render a form page with a service's refusal, in the user's language, with its status."""
    messages.error(request, str(exc.message))
    context = {**context, "error": exc, "error_details": exc.details}
    return render(request, template, context, status=exc.status)
