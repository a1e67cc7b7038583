"""Creating merchants and registering terminals: validation, the contract from its template, audit,
permissions, all or nothing."""

import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.audit.services import verify
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from posfleet.registry import services
from posfleet.registry.choices import MerchantKind, MerchantState, TerminalState
from posfleet.registry.models import Accessory, Contract, ContractTemplate, Merchant, Terminal
from posfleet.registry.services import MerchantInput, TerminalInput
from tests import builders

pytestmark = pytest.mark.django_db


def merchant_input(**overrides):
    values = {
        "kind": MerchantKind.ENTERPRISE,
        "name": " Golden Noodles ",
        "contact_name": "Zhang San",
        "phone": "13800138000",
        "email": "shop@example.com",
        "licence_no": "91310000MA1FL0000X",
        "legal_representative": "Zhang San",
        "settlement_card": builders.VALID_CARD,
        "address": "1 Nanjing Road",
    }
    return MerchantInput(**(values | overrides))


def terminal_input(n=1, **overrides):
    values = {
        "tid": f"REG{n:05d}",
        "sn": f"SN-REG-{n}",
        "model": "P2000",
        "firmware_version": "1.0.0",
        "security_patch_level": "2026-01-01",
        "accessories": ("printer",),
    }
    return TerminalInput(**(values | overrides))


def create(actor=None, **overrides):
    with transaction.atomic():
        return services.create_merchant(actor or builders.actor("admin"), merchant_input(**overrides))


def register(items, actor=None):
    with transaction.atomic():
        return services.register_terminals(actor or builders.actor("warehouse"), items)


class TestValidateMerchant:
    def test_a_valid_enterprise_has_no_errors(self):
        assert services.validate_merchant(merchant_input()) == {}

    def test_names_every_bad_field(self):
        errors = services.validate_merchant(
            merchant_input(
                kind="shop", name="", phone="call me", email="no-at-sign", settlement_card="1234567890123"
            )
        )
        assert set(errors) == {"kind", "name", "phone", "email", "settlement_card"}

    def test_businesses_need_a_licence_enterprises_a_legal_representative(self):
        sole = services.validate_merchant(merchant_input(kind=MerchantKind.SOLE_PROPRIETOR, licence_no=""))
        assert set(sole) == {"licence_no"}
        ent = services.validate_merchant(merchant_input(licence_no="", legal_representative=""))
        assert set(ent) == {"licence_no", "legal_representative"}
        person = services.validate_merchant(
            merchant_input(kind=MerchantKind.INDIVIDUAL, licence_no="", legal_representative="")
        )
        assert person == {}

    @pytest.mark.parametrize(
        ("card", "ok"),
        [(builders.VALID_CARD, True), ("6222 0212 3456 7890 128", True), ("6222021234567890127", False)],
    )
    def test_settlement_card_passes_luhn(self, card, ok):
        assert (
            "settlement_card" not in services.validate_merchant(merchant_input(settlement_card=card))
        ) is ok


class TestCreateMerchant:
    def test_creates_applying_with_contract_from_default_template_and_audit(self):
        merchant = create()
        assert merchant.name == "Golden Noodles" and merchant.state == MerchantState.APPLYING
        template = ContractTemplate.objects.get(is_default=True)
        contract = Contract.objects.get(merchant=merchant)
        assert (contract.template_id, contract.deposit_fen, contract.reactivation_fee_fen) == (
            template.pk,
            template.deposit_fen,
            template.reactivation_fee_fen,
        )
        assert contract.damage_prices == template.damage_prices
        event = AuditEvent.objects.get(object_id=str(merchant.pk), action="merchant.create")
        assert event.object_type == "merchant"
        assert builders.VALID_CARD not in str(event.after)  # only the masked card is recorded
        assert event.after["settlement_card"] == "[redacted]"
        assert verify().ok

    def test_a_named_template_is_used(self):
        ContractTemplate.objects.create(
            code="LIGHT",
            name="light",
            min_term_months=6,
            deposit_fen=0,
            monthly_fee_fen=0,
            suspension_fee_fen=0,
            reactivation_fee_fen=1000,
            early_termination_penalty_fen=0,
            damage_prices={"terminal": 1},
        )
        merchant = create(contract_template="LIGHT")
        assert Contract.objects.get(merchant=merchant).reactivation_fee_fen == 1000

    def test_unknown_template_and_bad_fields_write_nothing(self):
        before = Merchant.objects.count()
        with pytest.raises(ValidationFailed) as err:
            create(contract_template="NOPE", phone="x")
        assert set(err.value.details) == {"contract_template", "phone"}
        assert Merchant.objects.count() == before
        assert not AuditEvent.objects.filter(action="merchant.create").exists()

    def test_needs_manage_merchant(self):
        with pytest.raises(PermissionDenied):
            create(actor=builders.actor("technician"))

    def test_the_default_template_is_shipped_once(self):
        first = services.default_template()
        assert services.default_template().pk == first.pk
        assert ContractTemplate.objects.filter(is_default=True).count() == 1


class TestGetMerchant:
    def test_found_and_not_found(self):
        merchant = create()
        assert services.get_merchant(merchant.pk).pk == merchant.pk
        with pytest.raises(NotFound):
            services.get_merchant(10**9)


class TestRegisterTerminals:
    def test_registers_into_stock_with_accessories_and_one_event_each(self):
        builders.terminal_model("P2000")
        terminals = register([terminal_input(1), terminal_input(2, accessories=())])
        assert [t.state for t in terminals] == [TerminalState.IN_STOCK] * 2
        assert all(t.pk for t in terminals)
        assert list(Accessory.objects.values_list("terminal__tid", "kind")) == [("REG00001", "printer")]
        events = AuditEvent.objects.filter(action="terminal.register").order_by("seq")
        assert [e.object_id for e in events] == ["REG00001", "REG00002"]
        assert verify().ok

    def test_errors_are_keyed_by_position_and_nothing_is_written(self):
        builders.terminal_model("P2000")
        builders.terminal(TerminalState.IN_STOCK, tid="REG00009")
        items = [
            terminal_input(1, tid="bad", security_patch_level="2026/01/01", accessories=("rocket",)),
            terminal_input(2, model="Unknown"),
            terminal_input(3, sn="SN-REG-2"),  # the same SN as item 2
            terminal_input(4, tid="REG00009"),  # registered already
        ]
        before = Terminal.objects.count()
        with pytest.raises(ValidationFailed) as err:
            register(items)
        details = err.value.details
        assert set(details["0"]) == {"tid", "security_patch_level", "accessories"}
        assert set(details["1"]) == {"model"}
        assert set(details["2"]) == {"sn"}
        assert set(details["3"]) == {"tid"}
        assert Terminal.objects.count() == before
        assert not AuditEvent.objects.filter(action="terminal.register").exists()

    def test_needs_register_terminal(self):
        builders.terminal_model("P2000")
        with pytest.raises(PermissionDenied):
            register([terminal_input(1)], actor=builders.actor("reviewer"))


class TestBatchProblems:
    """The one check behind registering a batch and importing a file: new and distinct TIDs and SNs."""

    def models(self):
        return {"P2000": builders.terminal_model("P2000")}

    def test_a_clean_batch_has_no_problems(self):
        assert services.batch_problems([terminal_input(1), terminal_input(2)], self.models()) == [{}, {}]

    def test_the_later_of_two_items_sharing_a_tid_or_sn_is_refused(self):
        items = [terminal_input(1), terminal_input(2, tid="REG00001"), terminal_input(3, sn="SN-REG-1")]
        problems = services.batch_problems(items, self.models())
        assert problems[0] == {}
        assert problems[1] == {"tid": ["TID REG00001 appears twice."]}
        assert problems[2] == {"sn": ["SN SN-REG-1 appears twice."]}

    def test_already_registered_is_said_instead_of_twice(self):
        models = self.models()
        builders.terminal(TerminalState.IN_STOCK, tid="REG00001")
        problems = services.batch_problems([terminal_input(1), terminal_input(1)], models)
        assert problems[0]["tid"] == problems[1]["tid"] == ["TID REG00001 is already registered."]

    def test_registered_terminals_are_found_across_query_chunks(self, monkeypatch):
        models = self.models()
        taken = builders.terminal(TerminalState.IN_STOCK, tid="REG00005")
        monkeypatch.setattr(services, "TAKEN_CHUNK", 2)
        items = [terminal_input(n) for n in range(1, 5)] + [terminal_input(9, sn=taken.sn)]
        problems = services.batch_problems(items, models)
        assert problems[:4] == [{}] * 4
        assert problems[4] == {"sn": [f"SN {taken.sn} is already registered."]}
