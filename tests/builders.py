"""Explicit builders: each test says which state it starts from; nothing random."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.registry.choices import MerchantKind, MerchantState, TerminalState
from posfleet.registry.models import Merchant, Terminal, TerminalModel
from posfleet.registry.services import MerchantInput, create_merchant

_counter = itertools.count(1)
VALID_CARD = "6222021234567890128"  # passes the Luhn check


def user(username: str = "", role: str = "admin", password: str = "pw-for-tests-1") -> User:
    username = username or f"{role}{next(_counter)}"
    u = User.objects.create_user(username=username, password=password)
    u.groups.add(Group.objects.get(name=role))
    return u


def actor(
    role: str = "admin", *, stepped_up: bool = True, channel: str = "console", u: User | None = None
) -> Actor:
    u = u or user(role=role)
    return Actor.for_user(u, channel, stepped_up_at=timezone.now() if stepped_up else None)


def terminal_model(
    name: str = "P2000", *, permitted: bool = True, patch: str = "2025-01-01"
) -> TerminalModel:
    return TerminalModel.objects.get_or_create(
        name=name,
        defaults={"manufacturer": "Acme", "permitted": permitted, "min_security_patch_level": patch},
    )[0]


def merchant(
    state: str = MerchantState.ACTIVE,
    *,
    kind: str = MerchantKind.ENTERPRISE,
    name: str = "",
    by: Actor | None = None,
) -> Merchant:
    n = next(_counter)
    with transaction.atomic():
        m = create_merchant(
            by or Actor.system("cli"),
            MerchantInput(
                kind=kind,
                name=name or f"Test merchant {n}",
                contact_name="Zhang San",
                phone="13800138000",
                licence_no="91310000MA1FL0000X",
                legal_representative="Zhang San",
                settlement_card=VALID_CARD,
            ),
        )
        if state != MerchantState.APPLYING:
            Merchant.objects.filter(pk=m.pk).update(state=state)
            m.state = state
    return m


# Built terminals were registered a year ago, so transactions of the past weeks are in their lifetime
# (ingest refuses a time before the terminal was registered).
REGISTERED_BEFORE = timedelta(days=365)


def terminal(
    state: str = TerminalState.ACTIVE,
    *,
    merchant_obj: Merchant | None = None,
    tid: str = "",
    model: TerminalModel | None = None,
    patch: str = "2026-01-01",
) -> Terminal:
    """A terminal put straight into `state` (with an audit event), bound to a merchant where the state needs one."""
    n = next(_counter)
    tid = tid or f"T{n:07d}"
    bound = state not in (TerminalState.IN_STOCK,)
    if bound and merchant_obj is None:
        merchant_obj = merchant()
    with transaction.atomic():
        t = Terminal.objects.create(
            tid=tid,
            sn=f"SN{n:010d}",
            model=model or terminal_model(),
            firmware_version="1.0.0",
            security_patch_level=patch,
            state=state,
            merchant=merchant_obj if bound else None,
            created_at=timezone.now() - REGISTERED_BEFORE,
        )
        record(
            Actor.system("cli"),
            Change("terminal", t.tid, "terminal.build", None, {"state": state}, "builder"),
        )
    return t


def hold_window(minutes_from_now: int = 0, length_minutes: int | None = None) -> dict[str, Any]:
    start = timezone.now() + timedelta(minutes=minutes_from_now)
    return {
        "starts_at": start,
        "ends_at": start + timedelta(minutes=length_minutes) if length_minutes else None,
    }
