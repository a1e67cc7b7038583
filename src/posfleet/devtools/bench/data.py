"""The bench's own data: one active merchant, one model and `B`-prefixed terminals, all active.

TIDs start with `B` (demo TIDs are digits), so the bench never collides with demo data even on a
shared database; on a reused database the existing bench terminals are reused. Terminals are written
like the demo's benchmark scale (executemany, one `terminal.import` audit event each).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.utils import timezone

from posfleet.audit.services import Change
from posfleet.core.actor import Actor
from posfleet.devtools.demo.scale import TERMINAL_COLUMNS, append_events, field_of, insert_sql
from posfleet.lifecycle.services import apply_merchant
from posfleet.registry.choices import MerchantState
from posfleet.registry.models import Merchant, Terminal, TerminalModel
from posfleet.registry.services import MerchantInput, create_merchant

PREFIX = "B"
MERCHANT_NAME = "基准测试商户（bench）"
MODEL_NAME = "BENCH-P1"
POOL = 1000  # terminals per small pool (service changes, baseline changes, eligibility)


@dataclass(frozen=True)
class BenchData:
    user: User
    merchant: Merchant
    service_pool: list[str]  # TIDs changed through apply()
    bare_pool: list[int]  # terminal ids changed by the bare SQL baseline
    answer_pool: list[str]  # TIDs asked "may it transact?" (never held)
    answer_ids: list[int]
    bulk_tids_range: tuple[str, str]  # the terminals that get the bulk hold

    def actor(self) -> Actor:
        return Actor.for_user(self.user, "cli", stepped_up_at=timezone.now())


def tid(n: int) -> str:
    return f"{PREFIX}{n:07d}"


def _user() -> User:
    user = User.objects.filter(username="bench").first()
    if user is None:
        user = User.objects.create_user(username="bench", password=None)
    user.groups.add(Group.objects.get(name="admin"))
    return User.objects.get(pk=user.pk)  # fresh: permission cache filled on first use


def _merchant(user: User) -> Merchant:
    merchant = Merchant.objects.filter(name=MERCHANT_NAME).first()
    if merchant is None:
        actor = Actor.for_user(user, "cli", stepped_up_at=timezone.now())
        with transaction.atomic():
            merchant = create_merchant(
                actor,
                MerchantInput(
                    kind="enterprise",
                    name=MERCHANT_NAME,
                    contact_name="测试",
                    phone="13800000000",
                    licence_no="91310000BENCH0000X",
                    legal_representative="测试",
                    address="上海市浦东新区基准路1号",
                ),
            )
            merchant = apply_merchant(actor, merchant.pk, "activate", reason="bench")
    assert merchant.state == MerchantState.ACTIVE
    return merchant


def _insert(first: int, count: int, model: TerminalModel, merchant: Merchant, say: object) -> None:
    sql = insert_sql(Terminal._meta.db_table, TERMINAL_COLUMNS)
    actor = Actor.system("cli", name="bench")
    for low in range(first, first + count, 10_000):
        high = min(low + 10_000, first + count)
        now = timezone.now()
        stamp = field_of(Terminal, "created_at").get_db_prep_save(now, connection)
        rows = [
            (
                tid(n),
                f"BENCH{n:010d}",
                model.pk,
                "1.0.0",
                "2026-06-01",
                merchant.address,
                merchant.pk,
                "active",
                1,
                stamp,
                stamp,
            )
            for n in range(low, high)
        ]
        changes = [
            Change("terminal", r[0], "terminal.import", None, {"state": "active", "version": 1}, "bench data")
            for r in rows
        ]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            append_events(actor, changes, at=now)
        if callable(say):
            say(f"bench data: {high - 1:,} terminals")


def prepare(bulk: int, say: object = None) -> BenchData:
    """Make sure 3 pools of POOL terminals and `bulk` more exist; returns what each measure uses."""
    user = _user()
    merchant = _merchant(user)
    model = TerminalModel.objects.get_or_create(
        name=MODEL_NAME,
        defaults={"manufacturer": "Bench", "permitted": True, "min_security_patch_level": "2026-01-01"},
    )[0]
    wanted = 3 * POOL + bulk
    have = Terminal.objects.filter(tid__startswith=PREFIX).count()
    if have < wanted:
        _insert(have + 1, wanted - have, model, merchant, say)
    service = [tid(n) for n in range(1, POOL + 1)]
    bare = list(
        Terminal.objects.filter(tid__gte=tid(POOL + 1), tid__lte=tid(2 * POOL))
        .order_by("id")
        .values_list("id", flat=True)
    )
    answer = {
        t: pk
        for t, pk in Terminal.objects.filter(tid__gte=tid(2 * POOL + 1), tid__lte=tid(3 * POOL)).values_list(
            "tid", "id"
        )
    }
    return BenchData(
        user=user,
        merchant=merchant,
        service_pool=service,
        bare_pool=bare,
        answer_pool=sorted(answer),
        answer_ids=sorted(answer.values()),
        bulk_tids_range=(tid(3 * POOL + 1), tid(3 * POOL + bulk)),
    )
