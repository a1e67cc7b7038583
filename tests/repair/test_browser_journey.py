"""Browser journey: a merchant reports a cracked screen with a photo in the portal; a technician
diagnoses it; the warehouse lends a loaner, which takes payments; the manufacturer's quote is accepted
in the portal; the repair's steps and QC are recorded; the loaner comes back and the merchant's own
terminal answers 00 again.

Set POSFLEET_SCREENSHOTS to a directory to keep a screenshot of each step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from posfleet.lifecycle.eligibility import may_transact
from posfleet.money import ledger
from posfleet.repair.models import Loaner, RepairOrder
from tests import builders
from tests.portal.browser import (  # noqa: F401
    browser,
    console_login,
    expect_ok,
    new_page,
    portal_login,
)
from tests.portal.builders import merchant_user
from tests.repair.builders import PNG, loaner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name):
    folder = os.environ.get("POSFLEET_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"repair-{name}.png"), full_page=True)


def _act(page, order_id, form):
    page.click(f"{form} button[type=submit]")
    page.wait_for_url(f"**/console/repair/{order_id}/")
    expect_ok(page)


def test_cracked_screen_repaired_with_a_loaner_meanwhile(browser, live_server, tmp_path):  # noqa: F811
    m = builders.merchant(name="王记面馆")
    own = builders.terminal(merchant_obj=m)
    pool = loaner()
    shop = merchant_user(m, username="wangji")
    builders.user("tech_li", role="technician")
    builders.user("warehouse_zhao", role="warehouse")
    photo = tmp_path / "crack.png"
    photo.write_bytes(PNG)

    # The merchant reports the cracked screen with a photo and stops the terminal meanwhile.
    merchant = new_page(browser, live_server)
    portal_login(merchant, shop.username)
    merchant.goto("/portal/repairs/")
    merchant.click("#report-fault")
    merchant.select_option("select[name=tid]", own.tid)
    merchant.select_option("select[name=category]", "hardware")
    merchant.select_option("select[name=symptom]", "screen")
    merchant.fill("input[name=started_at]", "2026-12-01T09:30")
    merchant.select_option("select[name=frequency]", "always")
    merchant.fill("input[name=trigger]", "掉在收银台上")
    merchant.check("input[name=stop_terminal]")
    merchant.set_input_files("input[name=file]", str(photo))
    _shot(merchant, "1-portal-report")
    merchant.click("#fault-form button[type=submit]")
    merchant.wait_for_url("**/portal/repairs/*/")
    expect_ok(merchant)
    order = RepairOrder.objects.get()
    assert order.fault.evidence.count() == 1
    assert may_transact(own.tid).iso_response_code != "00"  # stopped, as the merchant chose

    # A technician diagnoses: manufacturer repair, not under warranty.
    tech = new_page(browser, live_server)
    console_login(tech, "tech_li")
    tech.goto(f"/console/repair/{order.pk}/")
    tech.fill("#diagnose-form textarea[name=diagnosis]", "屏幕碎裂，需返厂更换")
    tech.select_option("#diagnose-form select[name=where]", "manufacturer")
    tech.fill("#diagnose-form input[name=provider]", "Acme 售后")
    _act(tech, order.pk, "#diagnose-form")
    assert tech.locator("#order-state").get_attribute("data-state") == "diagnosing"

    # The warehouse lends a loaner; it takes payments.
    warehouse = new_page(browser, live_server)
    console_login(warehouse, "warehouse_zhao")
    warehouse.goto(f"/console/repair/{order.pk}/")
    _act(warehouse, order.pk, "#lend-form")
    assert may_transact(pool.tid).iso_response_code == "00"
    merchant.goto(f"/portal/repairs/{order.pk}/")
    assert pool.tid in merchant.locator("#loaner").inner_text()

    # The manufacturer's quote, accepted by the merchant in the portal.
    tech.goto(f"/console/repair/{order.pk}/")
    tech.select_option("#quote-form select[name=where]", "manufacturer")
    tech.fill("#quote-form input[name=provider]", "Acme 售后")
    tech.fill("#quote-form input[name=amount_yuan]", "350.00")
    tech.fill("#quote-form input[name=days]", "5")
    tech.fill("#quote-form input[name=warranty_months]", "6")
    _act(tech, order.pk, "#quote-form")
    merchant.goto(f"/portal/repairs/{order.pk}/")
    assert merchant.locator("#quote-waiting").count() == 1
    _shot(merchant, "2-portal-quote")
    merchant.click("#quotes .accept-quote")
    merchant.wait_for_url(f"**/portal/repairs/{order.pk}/")
    expect_ok(merchant)
    assert ledger.balances(m.pk).amount_due_fen == 35000

    # Steps and QC.
    tech.goto(f"/console/repair/{order.pk}/")
    tech.click("#start-btn")
    tech.wait_for_url(f"**/console/repair/{order.pk}/")
    tech.fill("#step-form textarea[name=done]", "更换屏幕总成")
    tech.fill("#step-form textarea[name=parts]", "LCD 屏幕, LCD-2026-001")
    tech.fill("#step-form textarea[name=test_results]", "显示正常，触摸正常")
    _act(tech, order.pk, "#step-form")
    for box in tech.locator("#qc-form input[type=checkbox]").all():
        box.check()
    _act(tech, order.pk, "#qc-form")
    assert tech.locator("#qc tr[data-passed='0']").count() == 0
    _act(tech, order.pk, "#finish-form")
    assert tech.locator("#order-state").get_attribute("data-state") == "done"
    _shot(tech, "3-console-done")

    # The loaner comes back, inspected in good condition; the merchant's own terminal answers 00.
    warehouse.goto("/console/repair/loaners/")
    warehouse.click(f"tr[data-tid='{pool.tid}'] .return-btn")
    warehouse.wait_for_url("**/console/repair/loaners/")
    expect_ok(warehouse)
    assert Loaner.objects.get().state == "returned"
    assert may_transact(own.tid).iso_response_code == "00"
    merchant.goto("/portal/")
    assert merchant.locator(f"tr[data-tid='{own.tid}'] .eligibility").inner_text().startswith("Yes")
    _shot(merchant, "4-portal-back")
