"""`posfleet demo`: the realistic data set through the services, its logins and its audit trail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from posfleet.accounts.models import MerchantUser
from posfleet.audit.models import AuditEvent
from posfleet.audit.services import verify
from posfleet.devtools import demo
from posfleet.devtools.demo import people
from posfleet.devtools.demo.names import Names, luhn_ok
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold, HoldKind
from posfleet.registry.choices import MerchantKind, MerchantState, TerminalState
from posfleet.registry.models import Accessory, Merchant, Terminal, TerminalModel
from posfleet.registry.services import _luhn_ok

pytestmark = pytest.mark.django_db


def test_demo_loads_a_realistic_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    """One load (it takes a while), checked from every side."""
    call_command("demo", "--no-plugins", "--seed", "7", verbosity=0)
    out = capsys.readouterr().out
    _counts_states_and_kinds(out)
    _holds_of_every_kind_and_time()
    _users_can_log_in()
    _valid_audit_chain()


def _counts_states_and_kinds(loaded: str) -> None:
    assert Merchant.objects.count() >= 60
    assert set(Merchant.objects.values_list("kind", flat=True)) == set(MerchantKind.values)
    assert set(Merchant.objects.values_list("state", flat=True)) == set(MerchantState.values)
    assert Terminal.objects.count() >= 300
    assert set(Terminal.objects.values_list("state", flat=True)) == set(TerminalState.values)
    assert Accessory.objects.count() >= 300
    assert TerminalModel.objects.filter(permitted=False).exists()
    assert TerminalModel.objects.filter(min_security_patch_level__gte="2026-01-01").exists()
    m = Merchant.objects.filter(kind=MerchantKind.ENTERPRISE).first()
    assert m is not None and any("\u4e00" <= ch <= "\u9fff" for ch in m.name + m.address)
    assert m.settlement_card_last4 and m.licence_no and m.legal_representative
    assert "0 in bulk" in loaded


def _holds_of_every_kind_and_time() -> None:
    now = timezone.now()
    assert set(Hold.objects.values_list("kind", flat=True)) == set(HoldKind.values)
    in_force = [h for h in Hold.objects.all() if h.in_force(now)]
    assert in_force
    assert Hold.objects.filter(starts_at__gt=now, released_at__isnull=True).exists()  # scheduled
    assert Hold.objects.filter(released_at__isnull=False).exists()  # released
    assert Hold.objects.filter(ends_at__lte=now, released_at__isnull=True, closed=True).exists()  # expired
    assert Hold.objects.filter(on_merchant=True).count() >= 3
    held_tid = next(h.terminal.tid for h in in_force if not h.on_merchant and not h.bulk)
    assert may_transact(held_tid).iso_response_code == "58"
    bulk = Hold.objects.get(bulk=True)  # the scheduled maintenance window on eight terminals
    assert bulk.links.count() == 8 and bulk.starts_at > now
    active = Terminal.objects.filter(
        state="active", merchant__state="active", holds__isnull=True, hold_links__isnull=True
    ).first()
    assert active is not None and may_transact(active.tid).allowed


def _users_can_log_in() -> None:
    for username, role, _note in people.STAFF:
        user = User.objects.get(username=username)
        assert user.check_password(f"posfleet-{username}")
        assert user.groups.filter(name=role).exists()
    assert User.objects.get(username="admin").is_superuser
    links = MerchantUser.objects.select_related("user")
    assert links.count() >= 5
    assert all(link.user.check_password(people.password_for(link.user.username)) for link in links)
    assert not any(link.user.is_staff for link in links)


def _valid_audit_chain() -> None:
    result = verify()
    assert result.ok, result
    assert AuditEvent.objects.filter(action="terminal.activate").count() > 100
    assert AuditEvent.objects.filter(action="merchant.create").count() == Merchant.objects.count()
    assert AuditEvent.objects.filter(action="hold.expire").exists()
    people_acting = AuditEvent.objects.exclude(actor_name__in=("system", "cases export"))
    assert set(people_acting.values_list("channel", flat=True)) == {"cli"}
    # the closed merchants' data exports, built by the job as a worker builds them
    exports = AuditEvent.objects.filter(actor_name="cases export")
    assert set(exports.values_list("action", flat=True)) == {"case.export_done"}
    assert exports.count() == Merchant.objects.filter(state=MerchantState.CLOSED).count()


def test_if_empty_and_print_logins(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--no-plugins", "--terminals", "20", "--merchants", "12", verbosity=0)
    before = Terminal.objects.count()
    call_command("demo", "--if-empty")
    assert "nothing loaded" in capsys.readouterr().out
    assert Terminal.objects.count() == before
    with pytest.raises(CommandError):
        call_command("demo")
    call_command("demo", "--print-logins", "--markdown")
    out = capsys.readouterr().out
    assert "| `custodian2` | `posfleet-custodian2` | custodian |" in out
    assert "posfleet-m" in out


def test_bulk_scale_adds_audited_terminals(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--no-plugins", "--terminals", "340", "--merchants", "12", verbosity=0)
    assert Terminal.objects.count() == 340
    assert AuditEvent.objects.filter(action="terminal.import").count() == 20
    assert verify().ok


def test_loaders_are_called_with_merchant_ids_and_failures_name_the_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[list[int], int]] = []

    def good(ids: list[int], days: int = 30) -> None:
        calls.append((ids, days))

    def explode(ids: list[int], days: int = 30) -> None:
        Merchant.objects.all().delete()  # rolled back with the loader's transaction
        raise RuntimeError("boom")

    monkeypatch.setattr(demo, "LOADERS", (("fake_demo_good", good), ("fake_demo_bad", explode)))
    m = Merchant.objects.create(kind="individual", name="x", contact_name="y", phone="13800138000")
    outcome = demo.run_loaders([m.pk], days=5)
    assert calls == [([m.pk], 5)]
    assert outcome["fake_demo_good"] == "ok"
    assert outcome["fake_demo_bad"].startswith("failed: RuntimeError: boom")
    assert list(outcome) == ["fake_demo_good", "fake_demo_bad"]  # every loader reported, in order
    assert Merchant.objects.filter(pk=m.pk).exists()
    with pytest.raises(demo.LoaderFailed, match="fake_demo_bad"):
        demo.run_loaders([m.pk], strict=True)


def test_the_app_loaders_run_money_first_then_settlement_cases_keys_repair() -> None:
    assert [name for name, _load in demo.LOADERS] == [
        "posfleet.devtools.demo.money",
        "posfleet.devtools.demo.settlement",
        "posfleet.devtools.demo.cases",
        "posfleet.devtools.demo.keys",
        "posfleet.devtools.demo.repair",
    ]


def test_names_are_deterministic_and_cards_valid() -> None:
    a, b = Names(3), Names(3)
    assert [a.person() for _ in range(5)] == [b.person() for _ in range(5)]
    cards = [a.card() for _ in range(200)]
    assert all(luhn_ok(c) and _luhn_ok(c) and len(c) == 19 for c in cards)


def test_an_unmigrated_database_is_named_not_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, "-m", "posfleet", "demo", "--no-plugins"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "run `posfleet migrate` first" in done.stderr
    assert "Traceback" not in done.stderr
