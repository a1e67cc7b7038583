"""Every page a person reads, found from the URL resolver, and what a person must never read on one.

`walk(lang)` visits every GET page under /console/, /portal/ and /verify/ with sample objects from the
database (whatever the demo or the builders made): a URL parameter `<x_id>` takes objects of the model
named `x` (or ending in `x`: `document_id` → DisputeDocument), `tid` takes terminals. Each page is asked
as each staff user (console) or each portal user (portal) until one may see it; pages nobody may GET
(POST-only actions, downloads) are left out. A page another app adds later is walked without change
here; a parameter no model answers is reported, so the walk never silently skips a page.

`problems(text, lang)` names what must not reach a person: internal codes (snake_case words and
choice values), a dict's or a list's repr, UTC/ISO timestamps, and in Chinese pages English words that
are neither data nor an accepted abbreviation; in English pages Chinese that is not data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

PREFIXES = ("console/", "portal/", "verify/")
SAMPLES_PER_PARAM = 12
# A path parameter the walk cannot fill from the database (the bulk confirmation's key lives in the
# session of whoever started it); its pages are walked by their own tests.
UNFILLABLE = {"key"}
# Abbreviations and names that stay in Latin letters in Chinese text.
LATIN_OK = {
    "POS",
    "TID",
    "SN",
    "PDF",
    "CSV",
    "API",
    "TOTP",
    "SMS",
    "QR",
    "KCV",
    "TMK",
    "ID",
    "OK",
    "posfleet",
    "English",
    "CNY",
    "ISO",
    "IP",
    "URL",
    "Wi-Fi",
    "Bluetooth",
    "UnionPay",
    "WeChat",
    "Alipay",
    "Bearer",
    "HTTP",
    "JSON",
    "ZIP",
    "TDES",
    "AES",
    "Authorization",
    "RMB",
    "SHA",
    "T+1",
    "D0",
    "VISA",
}
SNAKE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.@/-])")
REPR = re.compile(r"""\{\s*['"][^'"]+['"]\s*:|\[\s*'[^']*'\s*[,\]]|\b(?:datetime\.|Decimal\(|<\w+ object)""")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00|\bUTC\b")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:[A-Za-z'-]*[A-Za-z])?(?![A-Za-z0-9])")
MACHINE_FIELDS = {"hash", "prev_hash", "request_id", "action", "object_type", "object_id", "password"}
FORMAT_HINT = re.compile(r"^(?:[YMDX]+-)+[YMDX]+$")  # "YYYY-MM-DD", "XXXX-XXXX-XXXX"
CODE_LIKE = re.compile(r"^[a-z][a-z0-9_]*$")  # a stored value that looks like a code is not free text
CJK = re.compile(r"[\u4e00-\u9fff]")
STRIP = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+|\b[\w-]+\.(?:pdf|csv|zip|png|jpe?g|txt|json)\b", re.I)


class _Text(HTMLParser):
    """The text a person reads: text nodes and the title/placeholder/alt/aria-label attributes."""

    SKIP = {"script", "style"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        for name, value in attrs:
            if name in {"title", "placeholder", "alt", "aria-label"} and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def choice_codes() -> set[str]:
    """Every stored choice value of every model field (the codes a label must stand for)."""
    codes: set[str] = set()
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, _label in getattr(f, "flatchoices", None) or []:
                if isinstance(value, str) and len(value) > 2:
                    codes.add(value)
    return codes


def data_strings() -> list[str]:
    """Free text stored by people or the demo (names, addresses, reasons, comments, usernames): it
    is shown as written, in whatever language it was written. Longest first, to cut out of a page."""
    found: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "admin", "contenttypes", "api"}:
            continue
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField))
            and not f.choices
            and f.name not in MACHINE_FIELDS
        ]
        if not fields:
            continue
        people = model is User
        for row in model.objects.values_list(*fields)[:5000]:
            for v in row:
                text = str(v).strip() if v else ""
                if len(text) > 1 and (people or not CODE_LIKE.match(text)):
                    found.add(text)
    # Kept encrypted, shown to their merchant as issued: a notice's verification code.
    from posfleet.notices.models import Notice

    found |= {n.clear_code for n in Notice.objects.exclude(code_enc="")[:5000] if n.clear_code}
    return sorted(found, key=len, reverse=True)


@dataclass
class Checker:
    codes: set[str] = field(default_factory=choice_codes)
    data: list[str] = field(default_factory=data_strings)

    def __post_init__(self) -> None:
        alternatives = "|".join(re.escape(v) for v in self.data)
        self._data_re = re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])")

    def problems(self, text: str, lang: str) -> list[str]:
        found: list[str] = []
        if m := REPR.search(text):
            found.append(f"repr: {text[max(0, m.start() - 30) : m.end() + 30]!r}")
        if m := ISO_TIME.search(text):
            found.append(f"machine time: {text[max(0, m.start() - 20) : m.end() + 20]!r}")
        rest = self._data_re.sub(" ", text) if self.data else text
        for _code, name in settings.LANGUAGES:
            rest = rest.replace(name, " ")
        rest = STRIP.sub(" ", rest)
        for m in SNAKE.finditer(rest):
            found.append(f"code: {m.group()!r} in {rest[max(0, m.start() - 30) : m.end() + 30]!r}")
        if lang.startswith("zh"):
            for m in LATIN_WORD.finditer(rest):
                word = m.group()
                if word in LATIN_OK or (word.isupper() and len(word) <= 5) or FORMAT_HINT.match(word):
                    continue
                kind = "code" if word in self.codes else "English"
                found.append(f"{kind}: {word!r} in {rest[max(0, m.start() - 30) : m.end() + 30]!r}")
        elif m := CJK.search(rest):
            found.append(f"Chinese: {rest[max(0, m.start() - 30) : m.end() + 30]!r}")
        return sorted(set(found))


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name
    pattern: str  # "console/terminals/<str:tid>/"
    params: tuple[str, ...]


def routes() -> list[Route]:
    """The named URL patterns under the person-facing prefixes."""
    found: list[Route] = []

    def visit(patterns: list[Any], prefix: str, ns: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
                visit(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern) and p.name:
                full = prefix + str(p.pattern)
                if full.startswith(PREFIXES):
                    params = tuple(re.findall(r"<(?:\w+:)?(\w+)>", full))
                    found.append(Route(f"{ns}:{p.name}" if ns else p.name, full, params))

    visit(get_resolver().url_patterns, "", "")
    return found


def _model_for(param: str) -> type[models.Model] | None:
    stem = param.removesuffix("_id").replace("_", "")
    candidates = [m for m in apps.get_models() if m._meta.app_label not in {"auth", "admin", "contenttypes"}]
    for m in candidates:
        if m._meta.model_name == stem:
            return m
    for m in candidates:
        if m._meta.model_name.endswith(stem) or m._meta.model_name.startswith(stem):
            return m
    return None


def samples(param: str) -> list[str]:
    """Values for a path parameter: objects of every state/kind the database holds (a few each)."""
    if param == "tid":
        from posfleet.registry.models import Terminal

        return _spread(Terminal.objects.all(), "tid")
    model = _model_for(param)
    if model is None:
        raise LookupError(f"no model answers the URL parameter {param!r}; teach tests/pages.py")
    return _spread(model.objects.all(), "pk")


def _spread(qs: models.QuerySet[Any], attr: str) -> list[str]:
    names = {f.name for f in qs.model._meta.concrete_fields}
    keys = [k for k in ("state", "kind", "on_merchant") if k in names]
    seen: dict[tuple[Any, ...], Any] = {}
    for obj in qs.order_by("pk")[:2000]:
        key = tuple(getattr(obj, k) for k in keys)
        seen.setdefault(key, obj)
    chosen = list(seen.values())[:SAMPLES_PER_PARAM]
    return [str(getattr(obj, attr)) for obj in chosen]


def _fill(pattern: str, values: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], pattern)


@dataclass
class Visit:
    url: str
    route: str
    user: str
    html: str


@dataclass
class Walker:
    lang: str
    unfilled: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)
    _clients: dict[int, Client] = field(default_factory=dict)

    def _client(self, user: User) -> Client:
        if user.pk not in self._clients:
            c = Client()
            c.cookies[settings.LANGUAGE_COOKIE_NAME] = self.lang
            c.force_login(user)
            self._clients[user.pk] = c
        return self._clients[user.pk]

    def session_cookie(self, username: str) -> str | None:
        """The session of a user the walk signed in (for a browser to reuse)."""
        for c in self._clients.values():
            if (
                c.session.get("_auth_user_id")
                and User.objects.get(pk=c.session["_auth_user_id"]).username == username
            ):
                return c.cookies[settings.SESSION_COOKIE_NAME].value
        return None

    def _people(self, route: Route) -> list[User | None]:
        if route.pattern.startswith("verify/"):
            return [None]
        portal = route.pattern.startswith("portal/")
        qs = User.objects.filter(merchant_link__isnull=not portal).order_by("-is_superuser", "pk")
        return [*qs, None]  # None: nobody signed in (the sign-in pages)

    def urls(self) -> Iterator[tuple[Route, str]]:
        for route in routes():
            if any(p in UNFILLABLE for p in route.params):
                continue
            try:
                options = {p: samples(p) for p in route.params}
            except LookupError as exc:
                self.unfilled.append(f"{route.name}: {exc}")
                continue
            if not route.params:
                yield route, _fill(route.pattern, {})
                continue
            # One URL per sample of the first parameter (others take their first sample).
            first, *others = route.params
            for value in options[first]:
                yield (
                    route,
                    _fill(route.pattern, {first: value, **{o: options[o][0] for o in others if options[o]}}),
                )

    def visits(self) -> Iterator[Visit]:
        for route, url in self.urls():
            seen = False
            for person in self._people(route):
                c = self._client(person) if person else Client()
                if not person:
                    c.cookies[settings.LANGUAGE_COOKIE_NAME] = self.lang
                response = c.get(url)
                kind = response.get("Content-Type", "")
                if response.status_code == 200 and kind.startswith("text/html"):
                    seen = True
                    yield Visit(
                        url, route.name, person.username if person else "-", response.content.decode()
                    )
                    break
                if response.status_code == 405:
                    break  # an action, not a page
            if not seen:
                self.unseen.append(url)
