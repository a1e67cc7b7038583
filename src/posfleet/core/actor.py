"""Who is acting, through which channel: passed to every service, which checks permissions on it.

The edge (console view, API handler, CLI command, worker task) builds the Actor; services trust only
what is in it. `stepped_up_at` is when the person last re-verified (password or TOTP); services that
do sensitive things require it to be recent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from posfleet.core import context


def _no_role(user: Any) -> str:
    return ""


# The role a user acts in, as audit events record it; the accounts app installs its rule when
# it is ready (core stands below every app and imports none).
role_of: Callable[[Any], str] = _no_role


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "system"
    name: str
    channel: str
    user: Any = None
    role: str = ""
    stepped_up_at: datetime | None = None
    request_id: str = field(default_factory=lambda: context.request_id.get())
    # Answers of has_perm for this actor's life (one request, job or command): asking Django's auth
    # backends again costs more than the rest of an audited change's permission check.
    _perms: dict[str, bool] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @classmethod
    def system(cls, channel: str = "worker", name: str = "system") -> Actor:
        return cls(kind="system", name=name, channel=channel)

    @classmethod
    def for_user(cls, user: Any, channel: str, stepped_up_at: datetime | None = None) -> Actor:
        return cls(
            kind="user",
            name=user.get_username(),
            channel=channel,
            user=user,
            role=role_of(user),
            stepped_up_at=stepped_up_at,
        )

    def on_behalf(self, purpose: str) -> Actor:
        """A system actor carrying out `purpose`'s rules for this one (its audit names them both);
        a system actor is already allowed everything."""
        if self.kind == "system":
            return self
        return Actor(
            kind="system",
            name=f"{purpose} for {self.name}"[:150],
            channel=self.channel,
            request_id=self.request_id,
        )

    def has_perm(self, perm: str) -> bool:
        if self.kind == "system":
            return True
        if self.user is None or not self.user.is_active:
            return False
        known = self._perms.get(perm)
        if known is None:
            known = self._perms[perm] = bool(self.user.has_perm(perm))
        return known

    @property
    def is_stepped_up(self) -> bool:
        if self.kind == "system":
            return True
        if self.stepped_up_at is None:
            return False
        return timezone.now() - self.stepped_up_at <= timedelta(seconds=settings.STEP_UP_SECONDS)
