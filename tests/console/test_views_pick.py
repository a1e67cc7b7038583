"""Pickers: merchants by name, phone, licence or number; terminals by TID prefix; only for staff."""

from __future__ import annotations

import pytest

from posfleet.registry.models import Merchant
from tests import builders

pytestmark = pytest.mark.django_db


def test_merchants_by_name_phone_licence_and_number(staff_client):
    m = builders.merchant(name="Picker Noodles")
    Merchant.objects.filter(pk=m.pk).update(phone="13912345678", licence_no="91310000PICK00001")
    builders.merchant(name="Other Shop")
    for text in ("noodles", "1391234", "91310000PICK"):
        body = staff_client.get("/console/pick/merchants/", {"pick": text}).content.decode()
        assert f'data-value="{m.pk}"' in body and "Other Shop" not in body, text
    body = staff_client.get("/console/pick/merchants/", {"pick": str(m.pk)}).content.decode()
    assert f'data-value="{m.pk}"' in body  # by its number too
    assert "picker-item" not in staff_client.get("/console/pick/merchants/", {"pick": ""}).content.decode()


def test_terminals_by_tid_prefix_and_state(staff_client):
    builders.terminal(tid="PIK00001")
    builders.terminal("in_stock", tid="PIK00002")
    body = staff_client.get("/console/pick/terminals/", {"pick": "pik0"}).content.decode()
    assert 'data-value="PIK00001"' in body and 'data-value="PIK00002"' in body
    body = staff_client.get(
        "/console/pick/terminals/", {"pick": "PIK", "states": "in_stock"}
    ).content.decode()
    assert 'data-value="PIK00001"' not in body and 'data-value="PIK00002"' in body


def test_portal_users_may_not_pick(client):
    from tests.portal.builders import merchant_user

    client.force_login(merchant_user())
    assert client.get("/console/pick/merchants/", {"pick": "a"}).status_code in (302, 403)


def test_the_forms_offer_pickers_instead_of_numbers(staff_client):
    t = builders.terminal("in_stock", tid="PIK00003")
    body = staff_client.get(f"/console/terminals/{t.tid}/").content.decode()
    assert 'name="merchant_id"' in body and 'type="number" name="merchant_id"' not in body
    assert "/console/pick/merchants/" in body
    assert "/console/pick/merchants/" in staff_client.get("/console/terminals/").content.decode()
    assert "/console/pick/merchants/" in staff_client.get("/console/cases/new/").content.decode()
