"""What every console page shares, in the console and in each app: the staff gate, the acting `Actor`,
and turning domain errors into pages.

Other apps' console pages (money, settlement, cases, keys) use these too, so the rules are the same
everywhere: only active staff (never a merchant portal login) see the console, services get an Actor with
channel "console" and the session's step-up time, and a `DomainError` becomes a message and a redisplay
with its own status (never a 500), or for `StepUpRequired` a trip to the step-up page and back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from posfleet.accounts.models import MerchantUser
from posfleet.accounts.stepup import session_stepped_up_at
from posfleet.core import labels
from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError, NotFound, StepUpRequired, ValidationFailed

LOGIN_URL = "console:login"

View = Callable[..., HttpResponse]
K = TypeVar("K", contravariant=True)


def is_portal_user(user: Any) -> bool:
    return bool(user.pk) and MerchantUser.objects.filter(user_id=user.pk).exists()


def staff_view(view: View | None = None, *, perm: str | None = None) -> Any:
    """Login required (at console:login), active staff only; optionally a posfleet permission codename.

    Merchant portal users are refused with 403 even when logged in: the console is not their door.
    """

    def decorate(fn: View) -> View:
        @wraps(fn)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), LOGIN_URL)
            if not user.is_active:
                logout(request)
                return redirect_to_login(request.get_full_path(), LOGIN_URL)
            if is_portal_user(user):
                return forbidden(request, _("Merchant portal accounts cannot use the operations console."))
            if perm and not user.has_perm(f"accounts.{perm}"):
                return forbidden(request, _("You do not have permission to see this page."))
            return fn(request, *args, **kwargs)

        return wrapper

    if view is not None:
        return decorate(view)
    return decorate


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "console/error.html", {"title": _("Not allowed"), "message": message}, status=403)


def console_actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, "console", stepped_up_at=session_stepped_up_at(request.session))


def safe_next(request: HttpRequest, candidate: str | None, default: str | None = None) -> str:
    """`candidate` when it stays on this site, else `default` (the dashboard when none)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or reverse("console:dashboard")


PENDING_KEY = "posfleet_pending_action"


def remember_action(request: HttpRequest) -> None:
    """Keep the refused POST (its URL and fields, not files or the CSRF token) in the session, so the
    step-up page can carry it out once the person has verified; the view's services check it again."""
    if request.method != "POST" or request.FILES:
        request.session.pop(PENDING_KEY, None)
        return
    fields = [
        (key, value)
        for key, values in request.POST.lists()
        if key != "csrfmiddlewaretoken"
        for value in values
    ]
    request.session[PENDING_KEY] = {"url": request.get_full_path(), "fields": fields}


def step_up_redirect(request: HttpRequest, next_url: str | None = None) -> HttpResponse:
    """Send the user to re-verify, then back to `next_url` (default: this page, as a GET); a refused
    POST is remembered and finished right after the verification."""
    remember_action(request)
    target = next_url or request.get_full_path()
    messages.warning(request, str(StepUpRequired.default_message))
    url = f"{reverse('console:step_up')}?{urlencode({'next': target})}"
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def form_refused(form: forms.Form) -> ValidationFailed:
    """A form's errors as a refusal, each field with its messages, so that every console page names
    the fields in its message alike (`error_text`)."""
    return ValidationFailed(
        details={field: [e["message"] for e in errs] for field, errs in form.errors.get_json_data().items()}
    )


def error_text(exc: DomainError) -> str:
    """The message, followed by field details when they are plain messages."""
    text = str(exc.message)
    details = exc.details if isinstance(exc.details, Mapping) else {}
    extra = labels.error_details(
        {
            field: msgs
            for field, msgs in details.items()
            if isinstance(msgs, list | tuple)
            and msgs
            and all(isinstance(m, str | type(exc.message)) for m in msgs)
        }
    )
    if extra and len(extra) <= 5:
        text = f"{text} ({' / '.join(extra)})"
    return text


def domain_error_response(
    request: HttpRequest,
    exc: DomainError,
    template: str | None = None,
    context: dict[str, Any] | None = None,
    *,
    step_up_next: str | None = None,
) -> HttpResponse:
    """Show `exc` to the user: step-up redirect, or a message and the page redisplayed with exc.status."""
    if isinstance(exc, StepUpRequired):
        return step_up_redirect(request, step_up_next)
    messages.error(request, error_text(exc))
    ctx = dict(context or {})
    ctx.setdefault("error", exc)
    if template is None:
        template = "console/error.html"
        ctx.setdefault("title", _("Cannot do this"))
        ctx.setdefault("message", "")
    return render(request, template, ctx, status=exc.status)


class PageContext(Protocol[K]):
    def __call__(self, request: HttpRequest, key: K, /, **forms: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DetailPage(Generic[K]):
    """A detail page whose forms post to small views (a terminal's, a merchant's): shown as it is, or again
    with a refused POST, the message and the page's forms as typed (`forms`, e.g. `hold_form=form`)."""

    template: str
    url: Callable[[K], str]
    context: PageContext[K]

    def show(self, request: HttpRequest, key: K) -> HttpResponse:
        return render(request, self.template, self.context(request, key))

    def refuse(self, request: HttpRequest, key: K, exc: DomainError, **forms: Any) -> HttpResponse:
        """A step-up goes first (building the page would consume the kept form); a page gone is its own
        error."""
        url = self.url(key)
        if isinstance(exc, StepUpRequired):
            return step_up_redirect(request, url)
        try:
            ctx = self.context(request, key, **forms)
        except NotFound as missing:
            return domain_error_response(request, missing)
        return domain_error_response(request, exc, self.template, ctx, step_up_next=url)


def domain_errors(view: View | None = None, *, template: str | None = None) -> Any:
    """Decorator: a DomainError escaping the view becomes `domain_error_response` (never a 500)."""

    def decorate(fn: View) -> View:
        @wraps(fn)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return fn(request, *args, **kwargs)
            except DomainError as exc:
                nxt = None
                if isinstance(exc, StepUpRequired) and request.method != "GET":
                    nxt = safe_next(request, request.headers.get("Referer"), request.path)
                return domain_error_response(request, exc, template, step_up_next=nxt)

        return wrapper

    if view is not None:
        return decorate(view)
    return decorate


FORM_MEMORY_KEY = "posfleet_console_forms"


def remember_form(request: HttpRequest, key: str, data: Mapping[str, Any]) -> None:
    """Keep what the user typed (e.g. a reason) across the step-up detour; the last 10 forms at most."""
    store = dict(request.session.get(FORM_MEMORY_KEY, {}))
    store[key] = {k: v for k, v in data.items() if k != "csrfmiddlewaretoken"}
    request.session[FORM_MEMORY_KEY] = dict(list(store.items())[-10:])


def recall_form(request: HttpRequest, key: str) -> dict[str, Any] | None:
    store = dict(request.session.get(FORM_MEMORY_KEY, {}))
    data = store.pop(key, None)
    if data is not None:
        request.session[FORM_MEMORY_KEY] = store
    return data


def int_or_none(raw: str | None) -> int | None:
    """A query or form value as a non-negative int that fits a 64-bit column (a pager cursor, a version);
    anything else is None."""
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None
