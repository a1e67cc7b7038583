"""The realistic part of the demo: merchants, models, terminals and holds, all through the services.

Going through `create_merchant`, `register_terminals`, `apply`, `apply_merchant`, `place_hold`,
`place_bulk` and `release_hold` (each change in its own transaction, acted by the staff user whose role
would do it, channel `cli`) means the demo is also a test of the real rules, and the console shows a
history for every object from genuine audit events. Times are relative to "now", so scheduled holds
are in the future and ended ones in the past whenever the demo is loaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.devtools.demo.cases import close_through_case
from posfleet.devtools.demo.names import Names
from posfleet.lifecycle import holds
from posfleet.lifecycle.models import Hold
from posfleet.lifecycle.services import apply, apply_merchant
from posfleet.registry.choices import MerchantKind, MerchantState
from posfleet.registry.choices import TerminalState as S
from posfleet.registry.models import Merchant, Terminal, TerminalModel
from posfleet.registry.services import MerchantInput, TerminalInput, create_merchant, register_terminals

# (manufacturer, model name, permitted at the end of the load, min patch level, patch levels in the field)
MODELS: tuple[tuple[str, str, bool, str, tuple[str, ...]], ...] = (
    ("新大陆", "NEWLAND-ME31", True, "2024-06-01", ("2025-03-01", "2025-06-01", "2025-10-01")),
    ("联迪", "LANDI-A8", True, "2024-09-01", ("2025-01-01", "2025-08-01", "2026-01-01")),
    ("百富", "PAX-A920PRO", True, "2026-03-01", ("2026-03-01", "2026-06-01", "2026-09-01")),
    ("新国都", "XGD-K300", True, "2025-01-01", ("2025-04-01", "2025-09-01")),
    ("惠尔丰", "VERIFONE-VX520", False, "2019-01-01", ("2020-05-01", "2021-02-01")),
)
HIGH_PATCH_MODEL = "PAX-A920PRO"
RETIRED_MODEL = "VERIFONE-VX520"

# Share of the realistic terminals in each lifecycle state (every state gets at least one).
STATE_SHARE: tuple[tuple[str, float], ...] = (
    (S.IN_STOCK, 0.12),
    (S.ALLOCATED, 0.08),
    (S.ACTIVE, 0.55),
    (S.IN_REPAIR, 0.05),
    (S.DEACTIVATED, 0.08),
    (S.RETURNED, 0.07),
    (S.RETIRED, 0.05),
)
# The moves that bring a terminal from stock to each state, and the role that makes each move.
PATHS: dict[str, tuple[str, ...]] = {
    S.IN_STOCK: (),
    S.ALLOCATED: ("allocate",),
    S.ACTIVE: ("allocate", "activate"),
    S.IN_REPAIR: ("allocate", "activate", "start_repair"),
    S.DEACTIVATED: ("allocate", "activate", "deactivate"),
    S.RETURNED: ("allocate", "activate", "deactivate", "receive_return"),
    S.RETIRED: ("allocate", "activate", "deactivate", "receive_return", "retire"),
}
ACTION_ROLE = {
    "allocate": "warehouse",
    "activate": "technician",
    "start_repair": "technician",
    "deactivate": "risk",
    "receive_return": "warehouse",
    "retire": "warehouse",
}
ACTION_REASONS: dict[str, tuple[str, ...]] = {
    "allocate": ("新商户装机", "商户增机申请", "门店新开业配机"),
    "activate": ("安装调试完成，开通交易", "上门安装并完成签到", "装机验收通过"),
    "start_repair": ("屏幕无显示，送修", "读卡器故障，返厂检测", "打印机卡纸频繁，送修", "电池鼓包，送修"),
    "deactivate": ("商户申请停用（业务变更）", "设备故障，以新机替换", "商户注销", "技术升级，旧机停用"),
    "receive_return": ("仓库签收退回设备并验机", "快递退回，已验收"),
    "retire": ("设备老化，报废处理", "验机不合格，报废"),
}
ACCESSORY_SETS: tuple[tuple[str, ...], ...] = (
    ("charger", "sim"),
    ("charger", "sim", "printer"),
    ("charger", "base"),
    ("charger", "sim", "scanner"),
    ("charger",),
    ("charger", "sim", "printer", "scanner"),
)
MERCHANT_STATE_PLAN: dict[str, int] = {
    MerchantState.APPLYING: 4,
    MerchantState.CLOSING: 3,
    MerchantState.CLOSED: 3,
}
FIRST_TID = 10_000_001


@dataclass
class Fleet:
    """What the realistic load created, for the app loaders, the portal users and the tests."""

    merchants: list[Merchant] = field(default_factory=list)
    terminals: dict[str, str] = field(default_factory=dict)  # tid → state reached
    holds: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ids(self, *states: str) -> list[int]:
        return [m.pk for m in self.merchants if not states or m.state in states]


class Loader:
    def __init__(self, staff: dict[str, User], names: Names, *, terminals: int, merchants: int) -> None:
        self.staff = staff
        self.names = names
        self.rng = names.rng
        self.n_terminals = terminals
        self.n_merchants = merchants
        self.fleet = Fleet()
        self.target: dict[int, str] = {}  # merchant id → the state it ends the load in
        self.served: set[int] = set()  # merchants that got a terminal
        self._roles = {u: u.groups.values_list("name", flat=True).first() or "" for u in staff.values()}

    # --- actors --------------------------------------------------------------------------------
    def actor(self, username: str) -> Actor:
        """The staff user acting from the command line, re-verified just now (for sensitive moves)."""
        user = self.staff[username]
        role = "superuser" if username == "admin" and not self._roles[user] else self._roles[user]
        return Actor(
            kind="user", name=username, channel="cli", user=user, role=role, stepped_up_at=timezone.now()
        )

    def _step(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one change in its own transaction; a refusal is remembered, not fatal."""
        try:
            with transaction.atomic():
                return fn(*args, **kwargs)
        except Exception as exc:  # a guard added by another app may refuse a demo move
            self.fleet.problems.append(f"{what}: {exc.__class__.__name__}: {exc}")
            return None

    # --- merchants -------------------------------------------------------------------------------
    def merchants(self) -> None:
        kinds = [MerchantKind.INDIVIDUAL, MerchantKind.SOLE_PROPRIETOR, MerchantKind.ENTERPRISE]
        plan: list[str] = []
        for planned, count in MERCHANT_STATE_PLAN.items():
            plan += [str(planned)] * count
        plan += [MerchantState.ACTIVE] * max(self.n_merchants - len(plan), 6)
        self.rng.shuffle(plan)
        for i, state in enumerate(plan):
            kind = kinds[i % 3] if i < 6 else self.rng.choice(kinds)
            place = self.names.place()
            owner = self.names.person()
            data = MerchantInput(
                kind=kind,
                name=self.names.merchant_name(kind, place, owner),
                contact_name=owner if kind != MerchantKind.ENTERPRISE else self.names.person(),
                phone=self.names.phone(),
                email=f"merchant{i + 1:03d}@example.cn",
                licence_no="" if kind == MerchantKind.INDIVIDUAL else self.names.licence_no(),
                legal_representative=owner if kind != MerchantKind.INDIVIDUAL else "",
                settlement_card=self.names.card(),
                address=self.names.address(place),
                rate_plan="CLASSIC" if i % 7 == 3 else None,
                settlement_mode="D0" if i % 11 == 5 else None,
            )
            m = self._step(f"merchant {data.name}", create_merchant, self.actor("agent"), data)
            if m is None:
                continue
            self.target[m.pk] = state
            if state != MerchantState.APPLYING:
                m = (
                    self._step(
                        f"merchant {m.pk} activate",
                        apply_merchant,
                        self.actor("admin"),
                        m.pk,
                        "activate",
                        reason="进件资料审核通过",
                    )
                    or m
                )
            self.fleet.merchants.append(m)

    def finish_merchants(self) -> None:
        """Closing and closed merchants move last, through a closure case (the only way there is):
        their terminals were stopped and returned first."""
        for m in self.fleet.merchants:
            target = self.target[m.pk]
            if target in (MerchantState.CLOSING, MerchantState.CLOSED):
                try:
                    close_through_case(m.pk, complete=target == MerchantState.CLOSED, actor=self.actor)
                except Exception as exc:  # a refusal is remembered, not fatal
                    self.fleet.problems.append(f"merchant {m.pk} closure: {exc.__class__.__name__}: {exc}")
            m.refresh_from_db()

    # --- terminals -------------------------------------------------------------------------------
    def terminal_models(self) -> dict[str, TerminalModel]:
        found = {}
        for manufacturer, name, _permitted, patch, _levels in MODELS:
            found[name] = TerminalModel.objects.get_or_create(
                name=name,
                defaults={"manufacturer": manufacturer, "permitted": True, "min_security_patch_level": patch},
            )[0]
        return found

    def _targets(self) -> list[str]:
        n = self.n_terminals
        counts = {state: max(1, round(n * share)) for state, share in STATE_SHARE}
        counts[S.ACTIVE] += n - sum(counts.values())
        targets = [state for state, count in counts.items() for _ in range(max(count, 1))]
        self.rng.shuffle(targets)
        return targets

    def terminals(self) -> None:
        models = self.terminal_models()
        targets = self._targets()
        model_names = [name for _m, name, *_rest in MODELS]
        weights = [30, 25, 20, 15, 10]
        inputs: list[TerminalInput] = []
        plans: list[tuple[str, str]] = []
        for i, target in enumerate(targets):
            model = self.rng.choices(model_names, weights)[0]
            levels = next(levels for _m, name, *_x, levels in MODELS if name == model)
            patch = self.rng.choice(levels)
            if model == HIGH_PATCH_MODEL and target == S.IN_STOCK and i % 2 == 0:
                patch = "2025-11-01"  # below the model's minimum: must be patched before activation
            tid = f"{FIRST_TID + i:08d}"
            inputs.append(
                TerminalInput(
                    tid=tid,
                    sn=f"{models[model].name.split('-')[0][:3]}{2024_0000_0000 + i * 37:014d}",
                    model=model,
                    firmware_version=f"{self.rng.randint(2, 5)}.{self.rng.randint(0, 9)}.{self.rng.randint(0, 30)}",
                    security_patch_level=patch,
                    accessories=self.rng.choice(ACCESSORY_SETS),
                )
            )
            plans.append((tid, target))
        self._step(
            "register terminals",
            register_terminals,
            self.actor("warehouse"),
            inputs,
            reason="仓库入库（到货验收）",
        )
        self._walk(plans)

    def _merchant_for(self, target: str) -> Merchant:
        by_state: dict[str, list[Merchant]] = {}
        for m in self.fleet.merchants:
            by_state.setdefault(self.target[m.pk], []).append(m)
        if target == S.ALLOCATED:
            pool = by_state.get(MerchantState.ACTIVE, []) + by_state.get(MerchantState.APPLYING, [])
        elif target in (S.RETURNED, S.RETIRED):
            closed = by_state.get(MerchantState.CLOSED, [])
            unserved = [m for m in closed if m.pk not in self.served]
            pool = unserved or (closed + by_state.get(MerchantState.ACTIVE, []))
        elif target == S.DEACTIVATED:
            pool = by_state.get(MerchantState.CLOSING, []) + by_state.get(MerchantState.ACTIVE, [])
        else:
            pool = by_state.get(MerchantState.ACTIVE, []) + by_state.get(MerchantState.CLOSING, [])
        m = self.rng.choice(pool)
        self.served.add(m.pk)
        return m

    def _walk(self, plans: list[tuple[str, str]]) -> None:
        registered = set(
            Terminal.objects.filter(tid__in=[t for t, _s in plans]).values_list("tid", flat=True)
        )
        for tid, target in plans:
            if tid not in registered:
                continue
            reached: str = S.IN_STOCK
            merchant = self._merchant_for(target) if PATHS[target] else None
            for action in PATHS[target]:
                params: dict[str, Any] = {"merchant": merchant} if action == "allocate" else {}
                reason = self.rng.choice(ACTION_REASONS[action])
                done = self._step(
                    f"{tid} {action}",
                    apply,
                    self.actor(ACTION_ROLE[action]),
                    tid,
                    action,
                    reason=reason,
                    **params,
                )
                if done is None:
                    break
                reached = done.state
                if action == "allocate" and merchant is not None:
                    Terminal.objects.filter(tid=tid).update(install_address=merchant.address)
            self.fleet.terminals[tid] = reached

    def retire_model(self) -> None:
        """A policy change: one model is no longer permitted (its terminals in the field stay, held)."""
        model = TerminalModel.objects.get(name=RETIRED_MODEL)
        with transaction.atomic():
            TerminalModel.objects.filter(pk=model.pk).update(permitted=False)
            record(
                self.actor("admin"),
                Change(
                    "terminal_model",
                    str(model.pk),
                    "terminal_model.update",
                    {"permitted": True},
                    {"permitted": False},
                    "监管通知：该型号不再符合受理终端安全要求",
                ),
            )

    # --- holds -----------------------------------------------------------------------------------
    def _tids(self, state: str, model: str | None = None) -> list[str]:
        qs = Terminal.objects.filter(tid__in=list(self.fleet.terminals), state=state)
        if model:
            qs = qs.filter(model__name=model)
        return list(qs.order_by("tid").values_list("tid", flat=True))

    def _hold(self, who: str, **kwargs: Any) -> Hold | None:
        target = kwargs.get("tid") or f"merchant {kwargs.get('merchant_id')}"
        hold = self._step(f"hold {kwargs['kind']} on {target}", holds.place_hold, self.actor(who), **kwargs)
        if hold is not None:
            self.fleet.holds.append(hold.pk)
        return hold

    def _ended_hold(self, who: str, tid: str, kind: str, reason: str, start: datetime, end: datetime) -> None:
        """A hold whose window lies in the past, as a migrated record: the service refuses past ends."""

        def write() -> Hold:
            actor = self.actor(who)
            terminal = Terminal.objects.get(tid=tid)
            hold = Hold.objects.create(
                terminal=terminal,
                merchant_id=terminal.merchant_id,
                kind=kind,
                reason=reason,
                placed_by=actor.user,
                placed_at=start,
                starts_at=start,
                ends_at=end,
            )
            record(
                actor,
                Change(
                    "terminal", tid, "hold.place", None, holds.snapshot(hold) | {"hold_id": hold.pk}, reason
                ),
                at=start,
            )
            return hold

        hold = self._step(f"ended hold on {tid}", write)
        if hold is not None:
            self.fleet.holds.append(hold.pk)

    def place_holds(self) -> None:
        """Holds of every kind and time: in force, scheduled, ended, and on whole merchants."""
        now = timezone.now()
        active = self._tids(S.ACTIVE)
        self.rng.shuffle(active)
        if not active:
            return
        pick = itertools.cycle(active)  # a small demo reuses terminals: holds stack

        def nxt() -> str:
            return next(pick)

        self._holds_in_force(nxt, now)
        self._holds_scheduled(nxt, now)
        self._holds_ended(nxt, now)
        self._merchant_holds(now)
        holds.close_ended_holds()

    def _holds_in_force(self, nxt: Callable[[], str], now: datetime) -> None:
        """Holds in force now; two of them stacked on one terminal."""
        day = timedelta(days=1)
        for _ in range(4):
            self._hold(
                "technician",
                kind="maintenance",
                reason="系统升级维护（固件4.2）",
                tid=nxt(),
                ends_at=now + 3 * day,
            )
        for _ in range(4):
            self._hold("technician", kind="fault", reason="商户报修：无法读卡", tid=nxt())
        for _ in range(3):
            self._hold("risk", kind="risk_freeze", reason="交易异常：短时间内大额集中交易", tid=nxt())
        for _ in range(3):
            self._hold(
                "agent",
                kind="merchant_suspension",
                reason="店面装修，暂停营业",
                tid=nxt(),
                starts_at=now - 2 * day,
                ends_at=now + 12 * day,
            )
        stacked = nxt()  # two holds at once: releasing one leaves the other
        self._hold("technician", kind="fault", reason="打印机不出纸", tid=stacked)
        self._hold("risk", kind="risk_freeze", reason="涉及交易纠纷，待商户提供小票", tid=stacked)
        for tid in self._tids(S.ACTIVE, RETIRED_MODEL)[:6]:
            self._hold("risk", kind="compliance", reason="型号不再符合安全要求，待更换新机", tid=tid)

    def _holds_scheduled(self, nxt: Callable[[], str], now: datetime) -> None:
        """Holds starting later, one of them a bulk hold on eight terminals."""
        day = timedelta(days=1)
        for _ in range(3):
            self._hold(
                "technician",
                kind="maintenance",
                reason="夜间系统维护窗口",
                tid=nxt(),
                starts_at=now + 2 * day,
                ends_at=now + 2 * day + timedelta(hours=4),
            )
        for _ in range(2):
            self._hold(
                "agent",
                kind="merchant_suspension",
                reason="春节歇业",
                tid=nxt(),
                starts_at=now + 5 * day,
                ends_at=now + 20 * day,
            )
        bulk = [t for t in Terminal.objects.filter(tid__in=[nxt() for _ in range(8)])]
        placed = self._step(
            "bulk maintenance",
            holds.place_bulk,
            self.actor("technician"),
            kind="maintenance",
            reason="批量升级安全补丁",
            terminals=bulk,
            starts_at=now + day,
            ends_at=now + day + timedelta(hours=2),
        )
        if placed is not None:  # one hold on all eight terminals
            self.fleet.holds.append(placed.pk)

    def _holds_ended(self, nxt: Callable[[], str], now: datetime) -> None:
        """Released by a person, or over by time (closed by the worker's job)."""
        day = timedelta(days=1)
        for who, kind, why, release in (
            ("technician", "fault", "网络连接失败", "已远程修复"),
            ("risk", "risk_freeze", "疑似套现，冻结核查", "商户申诉材料审核通过，解除冻结"),
            ("agent", "merchant_suspension", "临时歇业", "商户提前恢复营业"),
        ):
            for _ in range(2):
                hold = self._hold(who, kind=kind, reason=why, tid=nxt())
                if hold is not None:
                    self._step(
                        f"release {hold.pk}",
                        holds.release_hold,
                        self.actor(who),
                        hold.pk,
                        reason=release,
                    )
        for _ in range(4):
            self._ended_hold(
                "technician",
                nxt(),
                "maintenance",
                "系统升级维护（已结束）",
                now - 10 * day,
                now - 10 * day + timedelta(hours=3),
            )

    def _merchant_holds(self, now: datetime) -> None:
        day = timedelta(days=1)
        merchants = [m.pk for m in self.fleet.merchants if self.target[m.pk] == MerchantState.ACTIVE]
        self._hold("risk", kind="risk_freeze", reason="商户被投诉，冻结核查", merchant_id=merchants[0])
        self._hold(
            "agent",
            kind="merchant_suspension",
            reason="商户申请整体停机（搬迁）",
            merchant_id=merchants[1],
            starts_at=now - day,
            ends_at=now + 15 * day,
        )
        self._hold(
            "agent",
            kind="merchant_suspension",
            reason="商户申请停机（年度盘点）",
            merchant_id=merchants[2],
            starts_at=now + 3 * day,
            ends_at=now + 6 * day,
        )
        self._hold(
            "technician",
            kind="maintenance",
            reason="商户网络改造",
            merchant_id=merchants[3],
            ends_at=now + day,
        )
        hold = self._hold("risk", kind="compliance", reason="补充资质材料", merchant_id=merchants[4])
        if hold is not None:
            self._step(
                "release merchant hold",
                holds.release_hold,
                self.actor("risk"),
                hold.pk,
                reason="资质材料已补齐",
            )

    def run(self) -> Fleet:
        self.merchants()
        self.terminals()
        self.place_holds()
        self.retire_model()
        self.finish_merchants()
        return self.fleet
