"""Applications: filing by the applicant's kind, review, resubmission, allocation, shipping, activation."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.cases import services
from posfleet.cases.models import Application, Case
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from posfleet.lifecycle.eligibility import may_transact
from posfleet.notices.models import Notice
from posfleet.registry.models import Merchant, Terminal
from tests import builders
from tests.cases import builders as cb

TODAY = timezone.localdate


def _unchanged(fn, error=ValidationFailed):
    """Run `fn`; it must fail with `error` and leave cases, merchants, terminals and the audit log alone."""

    def counts():
        return (
            Case.objects.count(),
            Merchant.objects.count(),
            AuditEvent.objects.count(),
            list(Terminal.objects.order_by("id").values_list("state", "merchant_id", "install_address")),
            list(Application.objects.order_by("pk").values()),
        )

    before = counts()
    with pytest.raises(error) as info:
        with transaction.atomic():
            fn()
    assert counts() == before
    return info.value


def _run(fn, *args, **kwargs):
    with transaction.atomic():
        return fn(*args, **kwargs)


def _approved(**kwargs):
    case = cb.apply_for(**kwargs)
    cb.upload_required(case)
    return cb.decide(case, reason="材料齐全，同意装机")


def _delivered(case):
    warehouse = builders.actor("warehouse")
    _run(services.allocate, warehouse, case.pk)
    _run(
        services.ship,
        warehouse,
        case.pk,
        carrier="sf_express",
        tracking_no="SF1234567890",
        shipped_on=TODAY(),
    )
    return _run(services.deliver, warehouse, case.pk, delivered_on=TODAY())


@pytest.mark.django_db
class TestFileApplication:
    def test_a_new_individual_becomes_an_applying_merchant_asked_for_its_own_materials(self):
        case = cb.apply_for(applicant=cb.applicant("individual"), channel="branch")
        assert (case.kind, case.state, case.reason, case.channel) == (
            "application",
            "submitted",
            "new_merchant",
            "branch",
        )
        m = case.merchant
        assert (m.kind, m.state, m.name, m.settlement_card_last4) == (
            "individual",
            "applying",
            "李四",
            "0128",
        )
        assert case.missing_materials() == ["id_card_front", "id_card_back", "settlement_card"]
        assert case.application.new_merchant and case.application.install_address == cb.ADDRESS
        filed = AuditEvent.objects.get(object_type="case", action="case.file")
        assert filed.after["new_merchant"] is True and filed.after["applicant_kind"] == "individual"
        created = AuditEvent.objects.get(object_type="merchant", action="merchant.create")
        assert created.actor_name.startswith("cases for agent")
        assert builders.VALID_CARD not in str(filed.after) + str(created.after)

    def test_a_new_enterprise_is_asked_for_licence_account_representative_and_shop_photos(self):
        case = cb.apply_for(applicant=cb.applicant("enterprise"))
        assert case.missing_materials() == [
            "business_licence_copy",
            "corporate_account_proof",
            "legal_rep_id_front",
            "legal_rep_id_back",
            "settlement_card",
            "shop_photo_storefront",
            "shop_photo_interior",
            "shop_photo_cashier",
        ]

    def test_an_existing_sole_proprietor_asks_for_another_terminal_without_a_corporate_account(self):
        m = builders.merchant(kind="sole_proprietor")
        builders.terminal_model("P2000")
        case = cb.apply_for(merchant_id=m.pk, terminal_model="P2000")
        assert (case.reason, case.merchant_id, case.application.new_merchant) == (
            "additional_terminal",
            m.pk,
            False,
        )
        assert case.application.terminal_model.name == "P2000"
        assert "corporate_account_proof" not in case.missing_materials()
        assert "business_licence_copy" in case.missing_materials()
        assert Merchant.objects.count() == 1

    def test_a_portal_user_applies_for_their_own_business(self):
        m = builders.merchant(kind="individual")
        case = cb.apply_for(cb.portal_actor(m), merchant_id=m.pk, channel="phone")
        assert case.channel == "portal" and case.merchant_id == m.pk
        assert case.missing_materials() == ["id_card_front", "id_card_back", "settlement_card"]

    def test_a_portal_user_cannot_apply_for_someone_else_or_as_a_new_merchant(self):
        m, other = builders.merchant(), builders.merchant()
        shop = cb.portal_actor(m)
        _unchanged(lambda: cb.apply_for(shop, merchant_id=other.pk), PermissionDenied)
        err = _unchanged(lambda: cb.apply_for(shop, merchant_id=m.pk, applicant=cb.applicant()))
        assert "applicant" in err.details

    def test_a_missing_address_is_422_and_creates_no_merchant(self):
        err = _unchanged(lambda: cb.apply_for(install_address="  "))
        assert err.details == {"install_address": ["Give the address where the terminal will be installed."]}

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"kind": "enterprise", "licence_no": ""}, "applicant.licence_no"),
            ({"kind": "enterprise", "legal_representative": ""}, "applicant.legal_representative"),
            ({"settlement_card": "6222021234567890123"}, "applicant.settlement_card"),
            ({"phone": "call me"}, "applicant.phone"),
            ({"kind": "company"}, "applicant.kind"),
        ],
    )
    def test_a_bad_applicant_is_422_naming_the_field(self, changes, field):
        err = _unchanged(lambda: cb.apply_for(applicant=cb.applicant(**changes)))
        assert field in err.details
        assert builders.VALID_CARD[:6] not in str(err.details)

    def test_a_business_already_a_merchant_is_sent_to_its_merchant(self):
        m = builders.merchant()
        err = _unchanged(lambda: cb.apply_for(applicant=cb.applicant(licence_no=m.licence_no)))
        assert (
            f"Merchant {m.pk} already has this business licence number"
            in err.details["applicant.licence_no"][0]
        )

    def test_merchant_and_applicant_together_or_neither_are_422(self):
        m = builders.merchant()
        err = _unchanged(lambda: cb.apply_for(merchant_id=m.pk, applicant=cb.applicant()))
        assert "applicant" in err.details
        err = _unchanged(lambda: cb.file(kind="application", install_address=cb.ADDRESS))
        assert "merchant_id" in err.details

    def test_an_unknown_model_terminals_or_a_closing_merchant_are_422(self):
        builders.terminal_model("OLD-1", permitted=False)
        err = _unchanged(lambda: cb.apply_for(terminal_model="OLD-1"))
        assert err.details["terminal_model"] == ["No permitted terminal model OLD-1."]
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        err = _unchanged(lambda: cb.apply_for(merchant_id=m.pk, terminals=[t.tid]))
        assert "terminals" in err.details
        closing = builders.merchant("closing")
        err = _unchanged(lambda: cb.apply_for(merchant_id=closing.pk))
        assert "closing" in err.details["merchant_id"][0].lower()

    def test_an_applicant_applies_once_at_a_time(self):
        case = cb.apply_for()
        err = _unchanged(lambda: cb.apply_for(merchant_id=case.merchant_id))
        assert err.details["merchant_id"] == ["This applicant already has an application under way."]


@pytest.mark.django_db
class TestMaterialsByMerchantKind:
    def test_a_suspension_of_an_individual_never_asks_for_a_business_licence(self):
        m = builders.merchant(kind="individual")
        t = builders.terminal(merchant_obj=m)
        case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[t.tid])
        assert case.missing_materials() == ["application_form", "proof_of_identity"]
        assert case.required_materials == ("application_form", "proof_of_identity")
        cb.upload_required(case)
        assert cb.decide(case).state == "approved"

    def test_a_closure_of_a_sole_proprietor_asks_for_its_licence(self):
        m = builders.merchant(kind="sole_proprietor")
        case = cb.file(kind="closure", merchant_id=m.pk)
        assert "business_licence_copy" in case.missing_materials()


@pytest.mark.django_db
class TestReview:
    def test_approval_waits_for_the_applicants_materials(self):
        case = cb.apply_for(applicant=cb.applicant("individual"))
        with pytest.raises(Conflict) as info:
            cb.decide(case)
        assert info.value.code == "materials_missing"
        assert info.value.details["missing_materials"] == ["id_card_front", "id_card_back", "settlement_card"]
        assert Merchant.objects.get(pk=case.merchant_id).state == "applying"

    def test_approval_makes_the_new_merchant_active_through_its_transition_and_issues_a_letter(self):
        case = _approved(applicant=cb.applicant("sole_proprietor"))
        assert case.state == "approved"
        assert Merchant.objects.get(pk=case.merchant_id).state == "active"
        move = AuditEvent.objects.get(object_type="merchant", action="merchant.activate")
        assert (move.before["state"], move.after["state"]) == ("applying", "active")
        letter = Notice.objects.get(pk=case.letter_notice_id)
        assert letter.title == "终端申请确认函"
        assert f"安装地址：{cb.ADDRESS}" in letter.body and "机型：按库存配发" in letter.body

    def test_an_existing_merchant_stays_active(self):
        m = builders.merchant()
        case = _approved(merchant_id=m.pk)
        assert case.state == "approved"
        assert not AuditEvent.objects.filter(object_type="merchant", action="merchant.activate").exists()

    def test_rejection_gives_reasons_and_the_applicant_corrects_and_resubmits(self):
        case = cb.apply_for(applicant=cb.applicant("individual"))
        cb.upload_required(case)
        cb.decide(case, "reject", reason="结算卡户名与身份证姓名不一致")
        case.refresh_from_db()
        assert (case.state, case.decision_reason) == ("rejected", "结算卡户名与身份证姓名不一致")
        shop = cb.portal_actor(case.merchant)
        fixed = cb.applicant("individual", name="李四", settlement_card="4111111111111111")
        case = _run(
            services.resubmit,
            shop,
            case.pk,
            note="已更换本人结算卡",
            install_address="上海市静安区南京西路1号",
            applicant=fixed,
        )
        assert (case.state, case.decision_reason) == ("submitted", "")
        assert case.application.install_address == "上海市静安区南京西路1号"
        assert Merchant.objects.get(pk=case.merchant_id).settlement_card_last4 == "1111"
        corrected = AuditEvent.objects.get(object_type="merchant", action="merchant.correct")
        assert list(corrected.after) == ["settlement_card"]  # which field changed, never the number
        assert "4111111111111111" not in str(corrected.before) + str(corrected.after)
        event = AuditEvent.objects.filter(object_type="case", action="case.reapply").get()
        assert event.reason == "已更换本人结算卡"
        assert cb.decide(case).state == "approved"

    def test_only_a_rejected_application_is_resubmitted(self):
        case = cb.apply_for()
        err = _unchanged(lambda: services.resubmit(builders.actor("agent"), case.pk), InvalidTransition)
        assert err.details == {"state": "submitted"}
        m = builders.merchant()
        t = builders.terminal(merchant_obj=m)
        suspension = cb.file(kind="suspension", merchant_id=m.pk, terminals=[t.tid])
        cb.decide(suspension, "reject")
        _unchanged(lambda: services.resubmit(builders.actor("agent"), suspension.pk), InvalidTransition)

    def test_an_active_merchants_data_is_not_corrected_by_a_resubmission(self):
        m = builders.merchant()
        case = cb.apply_for(merchant_id=m.pk)
        cb.decide(case, "reject", reason="地址不在服务范围")
        err = _unchanged(
            lambda: services.resubmit(builders.actor("agent"), case.pk, applicant=cb.applicant(name="新名字"))
        )
        assert "applicant" in err.details
        err = _unchanged(lambda: services.resubmit(builders.actor("agent"), case.pk, install_address=""))
        assert "install_address" in err.details


@pytest.mark.django_db
class TestFulfilment:
    def test_approve_allocate_ship_deliver_activate_and_the_terminal_answers_00(self):
        old, best = cb.stock(2)
        Terminal.objects.filter(pk=best.pk).update(security_patch_level="2026-06-01")
        case = _approved(applicant=cb.applicant("enterprise"))
        warehouse, technician = builders.actor("warehouse"), builders.actor("technician")

        case = _run(services.allocate, warehouse, case.pk)
        app = Application.objects.get(case=case)
        assert (case.state, app.terminal_id) == ("in_progress", best.pk)
        best.refresh_from_db()
        assert (best.state, best.merchant_id) == ("allocated", case.merchant_id)
        assert list(case.terminals.values_list("tid", flat=True)) == [best.tid]

        shipped_on = TODAY()
        _run(
            services.ship,
            warehouse,
            case.pk,
            carrier="sf_express",
            tracking_no="SF1234567890",
            shipped_on=shipped_on,
        )
        _run(services.deliver, technician, case.pk, delivered_on=shipped_on)
        app.refresh_from_db()
        assert (app.carrier, app.tracking_no, app.shipped_on, app.delivered_on) == (
            "sf_express",
            "SF1234567890",
            shipped_on,
            shipped_on,
        )
        assert not may_transact(best.tid).allowed

        case = _run(services.activate, technician, case.pk)
        assert case.state == "completed" and case.completed_at is not None
        best.refresh_from_db()
        assert (best.state, best.install_address) == ("active", cb.ADDRESS)
        answer = may_transact(best.tid)
        assert answer.allowed and answer.iso_response_code == "00"
        old.refresh_from_db()
        assert old.state == "in_stock"
        actions = list(
            AuditEvent.objects.filter(object_type="case", object_id=str(case.pk))
            .order_by("seq")
            .values_list("action", flat=True)
        )
        assert actions[-5:] == ["case.approve", "case.allocate", "case.ship", "case.deliver", "case.activate"]
        ship_event = AuditEvent.objects.get(action="case.ship")
        assert ship_event.after["tracking_no"] == "SF1234567890" and ship_event.actor_name == warehouse.name
        assert AuditEvent.objects.filter(
            object_type="terminal", object_id=best.tid, action="terminal.install"
        ).exists()
        activation = AuditEvent.objects.get(
            object_type="terminal", object_id=best.tid, action="terminal.activate"
        )
        assert activation.actor_name == technician.name
        titles = list(Notice.objects.filter(case_id=case.pk).order_by("id").values_list("title", flat=True))
        assert any("已发出" in t for t in titles) and any("已开通" in t for t in titles)

    def test_no_stock_of_the_model_is_409_and_changes_nothing(self):
        builders.terminal_model("P3000")
        cb.stock(1)  # a P2000: not what was asked for
        case = _approved(terminal_model="P3000")
        err = _unchanged(lambda: services.allocate(builders.actor("warehouse"), case.pk), Conflict)
        assert (err.code, str(err.message)) == ("no_stock", "No P3000 terminal is in stock.")

    def test_stock_below_the_minimum_patch_level_or_waiting_for_keys_is_not_used(self):
        from tests.cases.builders import destroy_keys

        low = cb.stock(1, patch="2024-01-01")[0]
        rekey = builders.terminal("active")
        from posfleet.keys.services import generate_for

        with transaction.atomic():
            generate_for(rekey, Actor.system("cli"))
        Terminal.objects.filter(pk=rekey.pk).update(state="deactivated")
        destroy_keys(rekey.tid)
        Terminal.objects.filter(pk=rekey.pk).update(state="in_stock", merchant=None)
        assert list(services.stock_for(None)) == []
        case = _approved()
        err = _unchanged(lambda: services.allocate(builders.actor("warehouse"), case.pk), Conflict)
        assert err.code == "no_stock"
        err = _unchanged(lambda: services.allocate(builders.actor("warehouse"), case.pk, tid=low.tid))
        assert "minimum security-patch level" in err.details["tid"][0]

    def test_a_chosen_terminal_must_be_of_the_model_asked_for(self):
        builders.terminal_model("P3000")
        other = cb.stock(1)[0]
        wanted = cb.stock(1, model=builders.terminal_model("P3000"))[0]
        case = _approved(terminal_model="P3000")
        err = _unchanged(lambda: services.allocate(builders.actor("warehouse"), case.pk, tid=other.tid))
        assert "asks for a P3000" in err.details["tid"][0]
        _run(services.allocate, builders.actor("warehouse"), case.pk, tid=wanted.tid.lower())
        assert Application.objects.get(case=case).terminal_id == wanted.pk

    def test_allocation_waits_for_approval_happens_once_and_is_the_warehouses(self):
        cb.stock(2)
        case = cb.apply_for()
        _unchanged(lambda: services.allocate(builders.actor("warehouse"), case.pk), InvalidTransition)
        cb.upload_required(case)
        cb.decide(case)
        _unchanged(lambda: services.allocate(builders.actor("reviewer"), case.pk), PermissionDenied)
        _unchanged(lambda: services.allocate(cb.portal_actor(case.merchant), case.pk), PermissionDenied)
        _run(services.allocate, builders.actor("warehouse"), case.pk)
        _unchanged(lambda: services.allocate(builders.actor("warehouse"), case.pk), InvalidTransition)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"carrier": "pigeon", "tracking_no": "SF1234567890"}, "carrier"),
            ({"carrier": "sf_express", "tracking_no": ""}, "tracking_no"),
            ({"carrier": "sf_express", "tracking_no": "SF 12"}, "tracking_no"),
            ({"carrier": "ems", "tracking_no": "EMS1234567", "shipped_on": None}, "shipped_on"),
            ({"carrier": "ems", "tracking_no": "EMS1234567", "days": 1}, "shipped_on"),
            ({"carrier": "ems", "tracking_no": "EMS1234567", "days": -3}, "shipped_on"),
        ],
    )
    def test_bad_shipping_input_is_422_and_changes_nothing(self, kwargs, field):
        cb.stock(1)
        case = _approved()
        warehouse = builders.actor("warehouse")
        _run(services.allocate, warehouse, case.pk)
        days = kwargs.pop("days", 0)
        kwargs.setdefault("shipped_on", TODAY() + timedelta(days=days))
        err = _unchanged(lambda: services.ship(warehouse, case.pk, **kwargs))
        assert list(err.details) == [field]

    def test_shipping_waits_for_allocation_and_in_person_needs_no_tracking_number(self):
        cb.stock(1)
        case = _approved()
        warehouse = builders.actor("warehouse")
        _unchanged(
            lambda: services.ship(warehouse, case.pk, carrier="in_person", shipped_on=TODAY()),
            InvalidTransition,
        )
        _run(services.allocate, warehouse, case.pk)
        _run(services.ship, warehouse, case.pk, carrier="in_person", shipped_on=TODAY())
        _unchanged(
            lambda: services.ship(warehouse, case.pk, carrier="in_person", shipped_on=TODAY()),
            InvalidTransition,
        )
        assert Application.objects.get(case=case).tracking_no == ""

    def test_delivery_follows_shipping_and_not_before_its_date(self):
        cb.stock(1)
        case = _approved()
        warehouse = builders.actor("warehouse")
        _run(services.allocate, warehouse, case.pk)
        err = _unchanged(
            lambda: services.deliver(warehouse, case.pk, delivered_on=TODAY()), InvalidTransition
        )
        assert err.code == "not_shipped"
        _run(services.ship, warehouse, case.pk, carrier="zto", tracking_no="ZT7788990011", shipped_on=TODAY())
        err = _unchanged(
            lambda: services.deliver(warehouse, case.pk, delivered_on=TODAY() - timedelta(days=1))
        )
        assert "delivered_on" in err.details

    def test_activation_before_delivery_is_409_and_the_terminal_stays_allocated(self):
        cb.stock(1)
        case = _approved()
        warehouse, technician = builders.actor("warehouse"), builders.actor("technician")
        _run(services.allocate, warehouse, case.pk)
        _run(services.ship, warehouse, case.pk, carrier="yto", tracking_no="YT123456789", shipped_on=TODAY())
        err = _unchanged(lambda: services.activate(technician, case.pk), Conflict)
        assert err.code == "not_delivered"
        assert Application.objects.get(case=case).terminal.state == "allocated"

    def test_activation_is_the_technicians_and_follows_the_lifecycle_guards(self):
        cb.stock(1)
        case = _delivered(_approved())
        _unchanged(lambda: services.activate(builders.actor("warehouse"), case.pk), PermissionDenied)
        app = Application.objects.get(case=case)
        app.terminal.model.permitted = False
        app.terminal.model.save()
        err = _unchanged(lambda: services.activate(builders.actor("technician"), case.pk), Conflict)
        assert err.code == "guard_failed"

    def test_an_application_is_not_completed_by_the_checklist_step(self):
        cb.stock(1)
        case = _delivered(_approved())
        _unchanged(lambda: services.complete(builders.actor("reviewer"), case.pk), InvalidTransition)

    def test_a_stale_version_is_409(self):
        cb.stock(1)
        case = _approved()
        _unchanged(
            lambda: services.allocate(
                builders.actor("warehouse"), case.pk, expected_version=case.version - 1
            ),
            Conflict,
        )


STAGES = ("submitted", "rejected", "approved", "allocated", "shipped", "delivered", "completed")
STEPS = ("resubmit", "allocate", "ship", "deliver", "activate")
# The one step each stage allows; every other (stage, step) pair is refused and changes nothing.
NEXT = {"rejected": "resubmit", "approved": "allocate", "allocated": "ship", "shipped": "deliver"}


def _at_stage(stage):
    cb.stock(1)
    case = cb.apply_for()
    if stage == "submitted":
        return case
    cb.upload_required(case)
    if stage == "rejected":
        return cb.decide(case, "reject", reason="照片模糊")
    cb.decide(case)
    warehouse, technician = builders.actor("warehouse"), builders.actor("technician")
    moves = [
        ("allocated", lambda: services.allocate(warehouse, case.pk)),
        (
            "shipped",
            lambda: services.ship(
                warehouse, case.pk, carrier="sto", tracking_no="ST20261207", shipped_on=TODAY()
            ),
        ),
        ("delivered", lambda: services.deliver(technician, case.pk, delivered_on=TODAY())),
        ("completed", lambda: services.activate(technician, case.pk)),
    ]
    for name, move in moves:
        if STAGES.index(name) > STAGES.index(stage):
            break
        _run(move)
    return case


def _step(step, case_id):
    admin = builders.actor("admin")
    calls = {
        "resubmit": lambda: services.resubmit(admin, case_id, note="改好了"),
        "allocate": lambda: services.allocate(admin, case_id),
        "ship": lambda: services.ship(admin, case_id, carrier="in_person", shipped_on=TODAY()),
        "deliver": lambda: services.deliver(admin, case_id, delivered_on=TODAY()),
        "activate": lambda: services.activate(admin, case_id),
    }
    return calls[step]()


@pytest.mark.django_db
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("step", STEPS)
def test_each_step_only_at_its_stage(stage, step):
    case = _at_stage(stage)
    allowed = NEXT.get(stage) == step or (stage == "delivered" and step == "activate")
    if allowed:
        _run(_step, step, case.pk)
    else:
        _unchanged(lambda: _step(step, case.pk), Conflict)
