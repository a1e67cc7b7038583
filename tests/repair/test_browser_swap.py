"""Browser journey: a technician swaps a merchant's worn-out device for the newest in stock. The console
asks for the password again (step-up) and then finishes the swap asked for; the merchant keeps the TID and its terminal answers 00 on the new
device, and the swap stands in the TID's history with the old device's new TID."""

from __future__ import annotations

import pytest

from posfleet.lifecycle.eligibility import may_transact
from posfleet.registry.models import Terminal
from posfleet.repair.models import Swap
from tests import builders
from tests.portal.browser import browser, console_login, expect_ok, new_page, step_up  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ask_for_swap(page, tid: str) -> None:
    page.goto(f"/console/repair/terminals/{tid}/")
    page.select_option("#swap-form select[name=kind]", "upgrade")
    page.fill("#swap-form textarea[name=reason]", "电池老化，换新机")
    page.click("#swap-form button[type=submit]")


def test_technician_swaps_a_device_with_step_up(browser, live_server):  # noqa: F811
    m = builders.merchant(name="李记水果")
    old = builders.terminal(merchant_obj=m)
    builders.terminal("in_stock", patch="2026-03-01")
    newest = builders.terminal("in_stock", patch="2026-08-01")
    builders.user("tech_wu", role="technician")
    tid, old_sn = old.tid, old.sn

    page = new_page(browser, live_server)
    console_login(page, "tech_wu")
    _ask_for_swap(page, tid)
    assert not Swap.objects.exists()  # refused until the password is given again
    step_up(page)  # then the swap asked for is finished, without typing it again
    page.wait_for_url(f"**/console/repair/terminals/{tid}/")
    expect_ok(page)
    assert newest.sn in page.locator(".msg-success").inner_text()

    now = Terminal.objects.get(tid=tid)
    assert now.pk == newest.pk and now.merchant_id == m.pk and now.state == "active"
    assert may_transact(tid).iso_response_code == "00"
    swapped_out = Terminal.objects.get(pk=old.pk)
    assert swapped_out.state == "deactivated" and swapped_out.sn == old_sn
    row = page.locator("#swaps tbody tr").first.inner_text()
    assert f"{old_sn} → {newest.sn}" in row and swapped_out.tid in row
