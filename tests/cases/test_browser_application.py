"""Browser journey: a merchant applies for another terminal in the portal, uploads its materials and sees
what is still missing; a reviewer approves in the console, the warehouse allocates and ships, a
technician records the delivery and activates it; the merchant then sees the terminal take payments.

Set POSFLEET_SCREENSHOTS to a directory to keep a screenshot of each step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from posfleet.cases.models import Application, Case
from posfleet.lifecycle.eligibility import may_transact
from tests import builders
from tests.cases.builders import PDF, PNG
from tests.portal.browser import (  # noqa: F401
    browser,
    console_login,
    expect_ok,
    new_page,
    portal_login,
)
from tests.portal.builders import merchant_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _shot(page, name):
    folder = os.environ.get("POSFLEET_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _missing(page):
    return page.locator("#material-checklist tr[data-ok='0']").evaluate_all(
        "rows => rows.map(r => r.dataset.type)"
    )


def test_apply_upload_approve_allocate_ship_activate(browser, live_server, tmp_path):  # noqa: F811
    m = builders.merchant(name="周记早餐", kind="individual")
    builders.terminal(merchant_obj=m)
    stock = builders.terminal("in_stock", patch="2026-06-01")
    shop = merchant_user(m, username="zhouji")
    builders.user("reviewer_wang", role="reviewer")
    builders.user("warehouse_liu", role="warehouse")
    builders.user("tech_chen", role="technician")
    files = {}
    for name, data in (("front", PNG), ("back", PNG), ("card", PDF)):
        path = tmp_path / f"{name}.{'pdf' if data is PDF else 'png'}"
        path.write_bytes(data)
        files[name] = str(path)

    # The merchant applies from the portal with the front of the ID card only.
    merchant = new_page(browser, live_server)
    portal_login(merchant, shop.username)
    merchant.click("#apply-terminal")
    merchant.wait_for_url("**/portal/requests/new/?kind=application")
    rows = merchant.locator("#material-checklist tr").evaluate_all("rows => rows.map(r => r.dataset.type)")
    assert rows == ["id_card_front", "id_card_back", "settlement_card"]  # an individual's list
    merchant.select_option("select[name=reason]", "additional_terminal")
    merchant.fill("input[name=install_address]", "上海市黄浦区南京东路100号")
    merchant.fill("textarea[name=note]", "早餐店新增一个收银窗口")
    merchant.set_input_files("input[name=file_id_card_front]", files["front"])
    _shot(merchant, "1-portal-apply")
    merchant.click("#case-form button[type=submit]")
    merchant.wait_for_url("**/portal/requests/*/")
    expect_ok(merchant)
    case = Case.objects.get(kind="application")
    assert _missing(merchant) == ["id_card_back", "settlement_card"]
    assert "Settlement card" in merchant.locator("#missing").inner_text()
    _shot(merchant, "2-portal-missing")

    # The rest from the checklist, in one go.
    merchant.set_input_files("#checklist-form input[name=file_id_card_back]", files["back"])
    merchant.set_input_files("#checklist-form input[name=file_settlement_card]", files["card"])
    merchant.click("#checklist-upload")
    merchant.wait_for_url(f"**/portal/requests/{case.pk}/")
    expect_ok(merchant)
    assert _missing(merchant) == [] and merchant.locator("#missing").count() == 0
    _shot(merchant, "3-portal-complete")

    # A reviewer approves in the console.
    console = new_page(browser, live_server)
    console_login(console, "reviewer_wang")
    console.goto(f"/console/cases/{case.pk}/")
    assert console.locator("#material-checklist tr[data-ok='1']").count() == 3
    console.select_option("#review select[name=decision]", "approve")
    console.fill("#review textarea[name=reason]", "资料齐全，同意增加终端")
    console.click("#review button[type=submit]")
    console.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(console)
    _shot(console, "4-console-approved")

    # The warehouse allocates the best terminal in stock and ships it.
    warehouse = new_page(browser, live_server)
    console_login(warehouse, "warehouse_liu")
    warehouse.goto(f"/console/cases/{case.pk}/")
    assert stock.tid in warehouse.locator("#allocate-tid").inner_text()
    warehouse.click("#allocate-btn")
    warehouse.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(warehouse)
    assert stock.tid in warehouse.locator("#allocated-tid").inner_text()
    warehouse.select_option("#ship-form select[name=carrier]", "sf_express")
    warehouse.fill("#ship-form input[name=tracking_no]", "SF1357924680")
    warehouse.click("#ship-btn")
    warehouse.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(warehouse)
    assert warehouse.locator("#activate-form").count() == 0  # not the warehouse's to do
    _shot(warehouse, "5-console-shipped")

    merchant.goto(f"/portal/requests/{case.pk}/")
    assert "SF1357924680" in merchant.locator("#carrier").inner_text()

    # The technician confirms the delivery, installs and activates it.
    technician = new_page(browser, live_server)
    console_login(technician, "tech_chen")
    technician.goto(f"/console/cases/{case.pk}/")
    assert technician.locator("#activate-form").count() == 0  # not delivered yet
    technician.click("#deliver-btn")
    technician.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(technician)
    technician.click("#activate-btn")
    technician.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(technician)
    _shot(technician, "6-console-activated")
    case.refresh_from_db()
    assert case.state == "completed"
    assert Application.objects.get(case=case).terminal_id == stock.pk
    assert may_transact(stock.tid).iso_response_code == "00"

    # The merchant sees it done and the new terminal able to take payments.
    merchant.goto(f"/portal/requests/{case.pk}/")
    assert merchant.locator("#activated").inner_text() != "—"
    merchant.goto("/portal/")
    assert merchant.locator(f"tr[data-tid='{stock.tid}'] .eligibility").inner_text().startswith("Yes")
    _shot(merchant, "7-portal-terminals")
