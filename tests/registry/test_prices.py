"""A merchant's contract costs, shown before a request is sent."""

from __future__ import annotations

import pytest

from posfleet.registry import prices
from posfleet.registry.models import Contract
from tests import builders
from tests.portal.builders import merchant_user

pytestmark = pytest.mark.django_db


def _contract(m):
    Contract.objects.filter(merchant=m).update(
        suspension_fee_fen=2000,
        reactivation_fee_fen=5000,
        deposit_fen=29900,
        early_termination_penalty_fen=20000,
        damage_prices={"terminal": 80000, "printer": 15000},
    )


class TestForRequest:
    def test_each_kind_names_its_costs(self):
        m = builders.merchant()
        _contract(m)
        assert [(p.label, p.fen) for p in prices.for_request(m, "suspension")] == [
            ("Suspension fee", 2000),
            ("Reactivation fee (when you ask to resume)", 5000),
        ]
        closure = {p.label: p.fen for p in prices.for_request(m, "closure")}
        assert closure["Early-termination penalty"] == 20000
        assert closure["Damage or loss: Terminal"] == 80000
        assert closure["Damage or loss: Printer"] == 15000
        assert prices.for_request(m, "reactivation")[0].fen == 5000

    def test_no_contract_no_lines(self):
        m = builders.merchant()
        Contract.objects.filter(merchant=m).delete()
        assert prices.for_request(m, "suspension") == []


def test_portal_request_form_shows_the_fees_in_yuan(client):
    m = builders.merchant()
    _contract(m)
    builders.terminal(merchant_obj=m)
    client.force_login(merchant_user(m))
    body = client.get("/portal/requests/new/?kind=suspension").content.decode()
    assert 'id="costs"' in body and "20.00" in body and "50.00" in body


def test_console_filing_form_shows_the_closure_costs(client):
    m = builders.merchant()
    _contract(m)
    client.force_login(builders.user(role="agent"))
    body = client.get(f"/console/cases/new/?merchant={m.pk}&kind=closure").content.decode()
    assert 'id="costs"' in body and "200.00" in body and "800.00" in body


class TestDamageCharge:
    """The one price of a lent item back damaged or lost, for a closure's returns and a loaner alike."""

    def contract(self, damage_prices):
        return Contract(damage_prices=damage_prices)

    def test_an_item_back_in_good_condition_costs_nothing(self):
        assert prices.damage_charge(self.contract({"terminal": 80000}), "terminal", "good") == 0

    def test_damaged_or_missing_costs_the_contract_price_of_its_kind(self):
        contract = self.contract({"terminal": 80000, "printer": 15000, "other": 5000})
        assert prices.damage_charge(contract, "terminal", "damaged") == 80000
        assert prices.damage_charge(contract, "printer", "missing") == 15000

    def test_a_kind_without_a_price_costs_the_other_price_or_nothing(self):
        assert prices.damage_charge(self.contract({"other": 5000}), "charger", "missing") == 5000
        assert prices.damage_charge(self.contract({}), "charger", "missing") == 0
        assert prices.damage_charge(self.contract(None), "charger", "missing") == 0

    def test_no_contract_no_charge(self):
        assert prices.damage_charge(None, "terminal", "missing") == 0
