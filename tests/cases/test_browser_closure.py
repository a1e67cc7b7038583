"""Browser journey (b): a merchant with two terminals and a printer closes its account.

Portal request → review → stop with step-up → settlement run and final statement → data export →
returns inspected (the printer damaged) → dual-control key destruction by two custodians on the keys
screen → finance settles penalty, damage and refund with proof (step-up) → complete → merchant closed.
At the end: the ledger is zero for the merchant, the letter PDF exists, the audit chain verifies.
The daily run is started on the settlement screen; paying out the settled batch (no page does it)
goes through the settlement service.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from posfleet.audit.services import verify
from posfleet.cases.models import Case
from posfleet.lifecycle.eligibility import may_transact
from posfleet.money import ledger
from posfleet.notices.models import Notice
from posfleet.notices.storage import read_letter
from posfleet.registry.models import Merchant
from tests import builders
from tests.cases import builders as cb
from tests.portal.browser import (  # noqa: F401
    browser,
    console_login,
    expect_ok,
    new_page,
    portal_login,
    step_up,
)
from tests.portal.builders import merchant_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

REQUIRED = ("business_licence_copy", "proof_of_identity", "settlement_card")


def _click_and_return(page, selector, case_id):
    page.goto(f"/console/cases/{case_id}/")
    page.click(selector)
    page.wait_for_load_state()


def _sensitive(page, selector, case_id, fill=None):
    """Click a sensitive button: if the console asks for the password, give it; the action follows."""
    page.goto(f"/console/cases/{case_id}/")
    if fill:
        fill(page)
    page.click(selector)
    page.wait_for_load_state()
    if "/console/step-up/" not in page.url:
        expect_ok(page)
        return
    step_up(page)  # the verification finishes the action: no second click
    page.wait_for_url(f"**/console/cases/{case_id}/")
    expect_ok(page)


def _run_settlement(page, day):
    def submit():
        page.goto("/console/settlement/")
        page.fill("input[name=business_date] >> nth=0", day.isoformat())
        page.click("form[method=post] button.btn-primary")
        page.wait_for_load_state()

    submit()
    if "/console/step-up/" in page.url:
        step_up(page)
        page.wait_for_load_state()
    expect_ok(page)


def _pay_due():
    from datetime import timedelta

    from django.db import transaction

    from posfleet.settlement.services import pay_due

    with transaction.atomic():
        pay_due(builders.actor("finance"), timezone.localdate() + timedelta(days=5))


def _destroy_key(page, tid):
    page.goto(f"/console/keys/?tid={tid}")
    page.fill("#d-reason", "商户注销，销毁密钥")
    page.click("form[action$='/destroy/'] button.btn-danger >> nth=0")
    page.wait_for_load_state()
    if "/console/step-up/" in page.url:
        step_up(page)
        page.wait_for_load_state()
    expect_ok(page)


def test_closure_from_the_portal(browser, live_server, tmp_path):  # noqa: F811
    fleet = cb.lent_fleet(deposit_fen=100_000)
    m, t1, t2, printer = fleet["merchant"], fleet["t1"], fleet["t2"], fleet["printer"]
    shop = merchant_user(m, username="owner_wang")
    reviewer = builders.user("reviewer_zhao", role="reviewer")
    warehouse = builders.user("warehouse_qian", role="warehouse")
    custodian1 = builders.user("custodian_sun", role="custodian")
    custodian2 = builders.user("custodian_zhou", role="custodian")
    finance = builders.user("finance_wu", role="finance")
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(cb.PDF)

    # 1. The merchant asks to close the account from the portal.
    merchant_page = new_page(browser, live_server)
    portal_login(merchant_page, shop.username)
    merchant_page.goto("/portal/requests/new/?kind=closure")
    merchant_page.select_option("select[name=reason]", "business_change")
    merchant_page.fill("input[name=planned_date]", timezone.localdate().isoformat())
    merchant_page.fill("textarea[name=note]", "转行，不再经营")
    merchant_page.select_option("#case-form select[name=type]", "application_form")
    merchant_page.set_input_files("#case-form input[name=file]", str(pdf))
    merchant_page.click("#case-form button[type=submit]")
    merchant_page.wait_for_url("**/portal/requests/*/")
    expect_ok(merchant_page)
    case = Case.objects.get(kind="closure")
    for kind in REQUIRED:
        merchant_page.select_option("#material-form select[name=type]", kind)
        merchant_page.set_input_files("#material-form input[name=file]", str(pdf))
        merchant_page.click("#material-form button[type=submit]")
        merchant_page.wait_for_url(f"**/portal/requests/{case.pk}/")
        expect_ok(merchant_page)

    # 2. Review.
    console = new_page(browser, live_server)
    console_login(console, reviewer.username)
    console.goto(f"/console/cases/{case.pk}/")
    console.select_option("#review select[name=decision]", "approve")
    console.fill("#review textarea[name=reason]", "材料齐全，同意注销")
    console.click("#review button[type=submit]")
    console.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(console)
    assert console.locator("#checklist tr[data-ok='0']").count() >= 6

    # 3. Stop the terminals now (sensitive: step-up).
    _sensitive(console, "#stop-btn", case.pk)
    assert not may_transact(t1.tid).allowed and not may_transact(t2.tid).allowed
    assert Merchant.objects.get(pk=m.pk).state == "closing"

    # 4. Finance runs the day's settlement on the settlement screen (step-up); the payout of the
    #    settled batch goes through its service (no page pays batches); then the final statement.
    fin = new_page(browser, live_server)
    console_login(fin, finance.username)
    _run_settlement(fin, fleet["sale_day"])
    _pay_due()
    _click_and_return(console, "#statement-btn", case.pk)
    expect_ok(console)
    _click_and_return(console, "#export-btn", case.pk)
    expect_ok(console)
    console.goto(f"/console/cases/{case.pk}/")
    assert "SHA-256" in console.locator("#export-status").inner_text()

    # 6. Warehouse inspects the returns: the printer is damaged.
    wh = new_page(browser, live_server)
    console_login(wh, warehouse.username)
    wh.goto(f"/console/cases/{case.pk}/")
    wh.select_option(f"select[name='terminal:{t1.tid}']", "good")
    wh.select_option(f"select[name='terminal:{t2.tid}']", "good")
    wh.select_option(f"select[name='accessory:{printer.pk}']", "damaged")
    wh.click("#returns-form button[type=submit]")
    wh.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(wh)
    assert case.returns.count() == 3

    # 7. Dual control: one custodian requests, a different one confirms, for each terminal.
    k1 = new_page(browser, live_server)
    console_login(k1, custodian1.username)
    k2 = new_page(browser, live_server)
    console_login(k2, custodian2.username)
    for tid in (t1.tid, t2.tid):
        _destroy_key(k1, tid)
        _destroy_key(k2, tid)
    from posfleet.keys.services import keys_destroyed

    assert keys_destroyed(t1.tid) and keys_destroyed(t2.tid)

    # 8. Finance: penalty, damage and refund of the rest of the deposit, with proof (step-up).
    _sensitive(fin, "#settle-btn", case.pk, fill=lambda p: p.fill("#proof", "退款回单 NO.2026-0042"))
    settlement = Case.objects.get(pk=case.pk).settlement
    assert settlement.penalty_fen > 0 and settlement.damage_fen > 0 and settlement.refund_fen > 0

    # 9. Complete: the merchant is closed.
    _sensitive(console, "#complete-btn", case.pk)
    assert Case.objects.get(pk=case.pk).state == "completed"
    assert Merchant.objects.get(pk=m.pk).state == "closed"

    # The merchant sees the outcome, the letter and the export.
    merchant_page.goto(f"/portal/requests/{case.pk}/")
    assert merchant_page.locator("#checklist tr[data-item]").count() == 7
    with merchant_page.expect_download() as info:
        merchant_page.click("#letter-link")
    assert info.value.path().read_bytes().startswith(b"%PDF")
    with merchant_page.expect_download() as info:
        merchant_page.click("#export-link")
    assert info.value.path().read_bytes()

    bal = ledger.balances(m.pk)
    assert (bal.unsettled_fen, bal.settled_unpaid_fen, bal.deposit_held_fen, bal.amount_due_fen) == (
        0,
        0,
        0,
        0,
    )
    letter = Notice.objects.filter(case_id=case.pk, kind="letter").exclude(pdf_path="").first()
    assert letter is not None and (read_letter(letter) or b"").startswith(b"%PDF")
    assert verify().ok
