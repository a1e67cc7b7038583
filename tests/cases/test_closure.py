"""A whole closure at the service level, and each checklist item failing then passing.

Two terminals and a printer (the printer comes back damaged), a deposit, a settled sale, the final
statement, the export, returns, dual-control key destruction, the early-termination penalty and the
deposit refund, up to a closed merchant with a balanced ledger and a valid audit chain.
"""

import hashlib
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from posfleet.audit.services import verify
from posfleet.cases import services
from posfleet.cases.models import Case
from posfleet.core.errors import Conflict, InvalidTransition, StepUpRequired, ValidationFailed
from posfleet.lifecycle.eligibility import may_transact
from posfleet.money.ledger import balances
from posfleet.money.models import Account
from posfleet.notices.models import Notice
from posfleet.registry.models import Merchant, Terminal
from tests import builders
from tests.cases import builders as cb


def _atomic(fn, *args, **kwargs):
    with transaction.atomic():
        return fn(*args, **kwargs)


def _approved_closure(fleet):
    m = fleet["merchant"]
    case = cb.file(
        cb.portal_actor(m), kind="closure", merchant_id=m.pk, terminals=[], reason="business_change"
    )
    cb.upload_required(case, cb.portal_actor(m, username=f"owner-{m.pk}"))
    return cb.decide(case, reason="materials complete")


@pytest.mark.django_db
def test_full_closure(django_capture_on_commit_callbacks):
    fleet = cb.lent_fleet(deposit_fen=50_000)
    m, t1, t2, printer = fleet["merchant"], fleet["t1"], fleet["t2"], fleet["printer"]
    case = _approved_closure(fleet)
    case.refresh_from_db()
    assert case.state == "in_progress"
    assert Notice.objects.filter(case_id=case.pk, kind="letter").exists()

    items = cb.item_map(case)
    assert list(items) == [
        "terminals_stopped",
        "money_cleared",
        "data_exported",
        "equipment_returned",
        "keys_destroyed",
        "money_settled",
        "account_closed",
    ]
    assert not any(i.ok for i in items.values())
    assert all(i.why for i in items.values())

    worker = builders.actor("reviewer")
    with pytest.raises(Conflict) as info:
        _atomic(services.complete, worker, case.pk)
    assert info.value.code == "checklist_incomplete"
    assert {d["item"] for d in info.value.details} >= {"terminals_stopped", "money_cleared"}

    # 1. stop (sensitive: step-up)
    with pytest.raises(StepUpRequired):
        _atomic(services.stop_terminals, builders.actor("reviewer", stepped_up=False), case.pk)
    assert may_transact(t1.tid).allowed
    _atomic(services.stop_terminals, worker, case.pk)
    assert not may_transact(t1.tid).allowed and not may_transact(t2.tid).allowed
    assert Merchant.objects.get(pk=m.pk).state == "closing"
    case.refresh_from_db()
    assert cb.item_map(case)["terminals_stopped"].ok

    # 2. money cleared: unsettled sale first, then statement
    assert "not settled" in cb.item_map(case)["money_cleared"].why
    with pytest.raises(Conflict):
        _atomic(services.issue_final_statement, worker, case.pk)
    cb.settle_transactions(fleet["sale_day"])
    assert "statement" in cb.item_map(case)["money_cleared"].why
    _atomic(services.issue_final_statement, worker, case.pk)
    case.refresh_from_db()
    assert cb.item_map(case)["money_cleared"].ok
    assert Notice.objects.filter(case_id=case.pk, kind="statement").exists()

    # 3. export
    with django_capture_on_commit_callbacks(execute=True):
        _atomic(services.start_export, worker, case.pk)
    item = cb.item_map(case)["data_exported"]
    assert item.ok and "1 transactions" in item.why
    export, data = services.export_file(worker, case.pk)
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    assert data.decode().splitlines()[0].startswith("switch_id,tid")
    assert len(data.decode().splitlines()) == 2

    # 4. returns: printer damaged
    warehouse = builders.actor("warehouse")
    _atomic(
        services.record_returns,
        warehouse,
        case.pk,
        [
            {"item": f"terminal:{t1.tid}", "condition": "good"},
            {"item": f"accessory:{printer.pk}", "condition": "damaged"},
        ],
    )
    assert "Terminal " + t2.tid in cb.item_map(case)["equipment_returned"].why  # named in words
    _atomic(
        services.record_returns, warehouse, case.pk, [{"item": f"terminal:{t2.tid}", "condition": "good"}]
    )
    assert cb.item_map(case)["equipment_returned"].ok
    assert set(Terminal.objects.filter(pk__in=[t1.pk, t2.pk]).values_list("state", flat=True)) == {"returned"}
    damage = m.contract.damage_prices["printer"]
    assert balances(m.pk).amount_due_fen == damage
    assert not cb.item_map(case)["money_cleared"].ok  # the damage charge is owed now

    # 5. keys: dual control
    assert t1.tid in cb.item_map(case)["keys_destroyed"].why
    cb.destroy_keys(t1.tid)
    cb.destroy_keys(t2.tid)
    assert cb.item_map(case)["keys_destroyed"].ok

    # 6. money: penalty (inside the minimum term), deductions from the deposit, refund with proof
    finance = builders.actor("finance")
    with pytest.raises(StepUpRequired):
        _atomic(services.settle, builders.actor("finance", stepped_up=False), case.pk, proof="R-1")
    with pytest.raises(ValidationFailed):
        _atomic(services.settle, finance, case.pk)  # a refund needs its proof
    settlement = _atomic(services.settle, finance, case.pk, proof="receipt R-2026-001")
    penalty = m.contract.early_termination_penalty_fen
    assert settlement.penalty_fen == penalty
    assert settlement.damage_fen == damage
    assert settlement.applied_fen == penalty + damage
    assert settlement.refund_fen == 50_000 - penalty - damage
    assert settlement.shortfall_fen == 0 and settlement.state == "settled"
    assert balances(m.pk) == type(balances(m.pk))(0, 0, 0, 0)
    items = cb.item_map(case)
    assert items["money_settled"].ok and items["money_cleared"].ok
    assert not items["account_closed"].ok and "completes" in items["account_closed"].why

    # 7. complete: card unbound, merchant closed, records kept
    case = _atomic(services.complete, worker, case.pk)
    assert case.state == "completed"
    m.refresh_from_db()
    assert (m.state, m.settlement_card_enc, m.settlement_card_last4) == ("closed", "", "")
    assert all(i.ok for i in services.checklist(case))
    assert not may_transact(t1.tid).allowed
    assert Case.objects.filter(merchant=m).exists() and Terminal.objects.filter(merchant=m).count() == 2
    # the closure's final confirmation letter states the final amounts (not the zeros of approval)
    final = Notice.objects.filter(case_id=case.pk, kind="letter").order_by("-id").first()
    assert final is not None and final.title.endswith("办结确认函")
    assert final.facts["refund_fen"] == settlement.refund_fen > 0
    assert final.facts["penalty_fen"] == penalty and final.facts["damage_charges_fen"] == damage

    # 8. afterwards: a sale from a closed merchant's terminal is refused by the answer and flagged at ingest
    from posfleet.money.ingest import ingest
    from tests.money.builders import item as tx_item

    assert may_transact(t1.tid).iso_response_code in ("03", "58")
    with transaction.atomic():
        [late] = ingest(builders.actor("finance"), [tx_item(t1.tid, amount_fen=1000)])
    assert late.status == "created" and late.flagged

    # the ledger balances and the audit chain holds
    assert Account.objects.aggregate(s=Sum("balance_fen"))["s"] == 0
    assert verify().ok
    actions = [e["action"] for e in services.timeline(case)]
    for action in (
        "case.file",
        "case.approve",
        "case.stop",
        "case.statement",
        "case.return",
        "case.settle",
        "case.complete",
    ):
        assert action in actions


@pytest.mark.django_db
class TestSettlementShortfall:
    def test_shortfall_must_be_paid_before_completion(self):
        fleet = cb.lent_fleet(deposit_fen=10_000)
        m, t1, t2, printer = fleet["merchant"], fleet["t1"], fleet["t2"], fleet["printer"]
        case = _approved_closure(fleet)
        worker, finance = builders.actor("reviewer"), builders.actor("finance")
        _atomic(services.stop_terminals, worker, case.pk)
        _atomic(
            services.record_returns,
            builders.actor("warehouse"),
            case.pk,
            [
                {"item": f"terminal:{t1.tid}", "condition": "missing"},
                {"item": f"terminal:{t2.tid}", "condition": "good"},
                {"item": f"accessory:{printer.pk}", "condition": "good"},
            ],
        )
        settlement = _atomic(services.settle, finance, case.pk)
        due = m.contract.damage_prices["terminal"] + m.contract.early_termination_penalty_fen - 10_000
        assert (settlement.refund_fen, settlement.shortfall_fen, settlement.state) == (
            0,
            due,
            "awaiting_payment",
        )
        from posfleet.core.amounts import yuan
        from posfleet.notices.models import Notice

        notice = Notice.objects.filter(case_id=case.pk).order_by("-id").first()
        assert notice is not None and yuan(due) in notice.title  # the amount is in the title itself
        item = cb.item_map(case)["money_settled"]
        assert not item.ok and "must be paid" in item.why
        with pytest.raises(Conflict):
            _atomic(services.settle, finance, case.pk)
        _atomic(services.record_payment, finance, case.pk, due - 100, ref="bank-1")
        assert not cb.item_map(case)["money_settled"].ok
        _atomic(services.record_payment, finance, case.pk, 100, ref="bank-2")
        assert cb.item_map(case)["money_settled"].ok
        assert balances(m.pk).amount_due_fen == 0


@pytest.mark.django_db
class TestDeactivation:
    def test_some_terminals_no_account_item_deposit_kept(self):
        fleet = cb.lent_fleet()
        m, t1, t2 = fleet["merchant"], fleet["t1"], fleet["t2"]
        case = cb.approved("deactivation", m, [t2.tid])
        case.refresh_from_db()
        assert case.state == "in_progress"
        assert [i.item for i in services.checklist(case)] == [
            "terminals_stopped",
            "money_cleared",
            "data_exported",
            "equipment_returned",
            "keys_destroyed",
            "money_settled",
        ]
        _atomic(services.stop_terminals, builders.actor("reviewer"), case.pk)
        assert not may_transact(t2.tid).allowed and may_transact(t1.tid).allowed
        assert Merchant.objects.get(pk=m.pk).state == "active"
        assert services.expected_returns(case) == [f"terminal:{t2.tid}"]
        _atomic(
            services.record_returns,
            builders.actor("warehouse"),
            case.pk,
            [{"item": f"terminal:{t2.tid}", "condition": "good"}],
        )
        settlement = _atomic(services.settle, builders.actor("finance"), case.pk)
        assert (settlement.penalty_fen, settlement.refund_fen, settlement.deposit_fen) == (0, 0, 0)
        assert balances(m.pk).deposit_held_fen == 50_000

    def test_scheduled_stop_happens_at_the_effective_time(self):
        fleet = cb.lent_fleet()
        t2 = fleet["t2"]
        case = cb.approved("deactivation", fleet["merchant"], [t2.tid])
        later = timezone.now() + timedelta(hours=3)
        _atomic(services.stop_terminals, builders.actor("reviewer"), case.pk, at=later)
        case.refresh_from_db()
        item = cb.item_map(case)["terminals_stopped"]
        assert not item.ok and "scheduled" in item.why
        assert services.stop_due(now=timezone.now()) == 0
        assert services.stop_due(now=later + timedelta(seconds=1)) == 1
        assert cb.item_map(case)["terminals_stopped"].ok
        assert services.stop_due(now=later + timedelta(minutes=5)) == 0


@pytest.mark.django_db
class TestReturnsBadInput:
    def test_item_not_in_scope_duplicate_bad_condition_and_running_terminal(self):
        fleet = cb.lent_fleet()
        m, t1, t2 = fleet["merchant"], fleet["t1"], fleet["t2"]
        case = cb.approved("deactivation", m, [t2.tid])
        warehouse = builders.actor("warehouse")
        with pytest.raises(ValidationFailed) as info:
            _atomic(
                services.record_returns,
                warehouse,
                case.pk,
                [
                    {"item": f"terminal:{t1.tid}", "condition": "good"},
                    {"item": f"terminal:{t2.tid}", "condition": "shiny"},
                ],
            )
        assert set(info.value.details["items"]) == {"0", "1"}
        with pytest.raises(ValidationFailed) as info:
            _atomic(
                services.record_returns,
                warehouse,
                case.pk,
                [{"item": f"terminal:{t2.tid}", "condition": "good"}],
            )
        assert "stopped" in info.value.details["items"]["0"][0]
        assert case.returns.count() == 0

    def test_returns_only_while_in_progress(self):
        fleet = cb.lent_fleet()
        case = cb.file(kind="deactivation", merchant_id=fleet["merchant"].pk, terminals=[fleet["t2"].tid])
        with pytest.raises(InvalidTransition):
            _atomic(
                services.record_returns,
                builders.actor("warehouse"),
                case.pk,
                [{"item": "x", "condition": "good"}],
            )


@pytest.mark.django_db
def test_allocated_terminal_in_a_closure_goes_back_to_stock():
    from posfleet.registry.choices import TerminalState

    fleet = cb.lent_fleet()
    spare = builders.terminal(TerminalState.ALLOCATED, merchant_obj=fleet["merchant"])
    case = _approved_closure(fleet)
    _atomic(services.stop_terminals, builders.actor("reviewer"), case.pk)
    assert spare.tid not in cb.item_map(case)["terminals_stopped"].why
    _atomic(
        services.record_returns,
        builders.actor("warehouse"),
        case.pk,
        [{"item": f"terminal:{spare.tid}", "condition": "good"}],
    )
    spare.refresh_from_db()
    assert (spare.state, spare.merchant_id) == ("in_stock", None)


@pytest.mark.django_db
def test_old_contract_no_penalty_and_statement_covers_last_year():
    fleet = cb.lent_fleet(deposit_fen=30_000)
    m, t1, t2, printer = fleet["merchant"], fleet["t1"], fleet["t2"], fleet["printer"]
    m.contract.starts_on = timezone.localdate() - timedelta(days=800)
    m.contract.save(update_fields=["starts_on"])
    case = _approved_closure(fleet)
    worker = builders.actor("reviewer")
    _atomic(services.stop_terminals, worker, case.pk)
    cb.settle_transactions(fleet["sale_day"])
    case = _atomic(services.issue_final_statement, worker, case.pk)
    statement = Notice.objects.get(pk=case.statement_notice_id)
    assert statement.kind == "statement" and statement.facts["date_from"] == str(
        timezone.localdate() - timedelta(days=365)
    )
    _atomic(
        services.record_returns,
        builders.actor("warehouse"),
        case.pk,
        [
            {"item": i, "condition": "good"}
            for i in (f"terminal:{t1.tid}", f"terminal:{t2.tid}", f"accessory:{printer.pk}")
        ],
    )
    settlement = _atomic(services.settle, builders.actor("finance"), case.pk, proof="bank slip 7")
    assert (settlement.penalty_fen, settlement.applied_fen, settlement.refund_fen) == (0, 0, 30_000)
