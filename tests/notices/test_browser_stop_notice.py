"""In a real browser: risk freezes a terminal from the console picking `account_anomaly` (the text is
prefilled from its template); the merchant sees the notice with its reason and code in the portal,
checks the code on the public verify page, and reports a suspicious call."""

from __future__ import annotations

import pytest

from posfleet.lifecycle import eligibility
from posfleet.notices.models import FraudReport, Notice
from tests import builders
from tests.portal.browser import browser, console_login, expect_ok, new_page, portal_login, step_up  # noqa: F401
from tests.portal.builders import merchant_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_freeze_notice_in_portal_verify_and_report(live_server, browser):  # noqa: F811
    builders.user("risk19", "risk")
    shop = builders.merchant(name="m19 Tea House")
    t = builders.terminal(tid="M19T0001", merchant_obj=shop)
    owner = merchant_user(shop, "m19owner")

    staff = new_page(browser, live_server)
    console_login(staff, "risk19")
    staff.goto(f"/console/terminals/{t.tid}/")
    staff.select_option("form[action$='/holds/'] select[name=kind]", "risk_freeze")
    staff.select_option("form[action$='/holds/'] select[name=reason_category]", "account_anomaly")
    prefilled = staff.input_value("form[action$='/holds/'] textarea[name=merchant_message]")
    assert "unusual activity" in prefilled  # the category's template
    hold_form = "form[action$='/holds/']"
    staff.fill(f"{hold_form} [name=reason]", "internal: refund velocity rule R12")
    staff.click(f"{hold_form} button[type=submit]")
    step_up(staff)  # a risk freeze is sensitive: back on the terminal with the form as it was
    assert staff.input_value(f"{hold_form} [name=merchant_message]") == prefilled
    staff.click(f"{hold_form} button[type=submit]")
    staff.wait_for_selector(".msg-success")
    expect_ok(staff)
    assert not eligibility.may_transact(t.tid).allowed
    notice = Notice.objects.get(kind="stop")
    assert notice.reason_category == "account_anomaly" and "unusual activity" in notice.body

    merchant = new_page(browser, live_server)
    portal_login(merchant, owner.get_username())
    merchant.goto("/portal/notices/")
    row = merchant.locator(f"tr[data-notice='{notice.pk}']")
    assert "Account anomaly" in row.inner_text() and t.tid in row.inner_text()
    assert "R12" not in merchant.content()
    code = row.locator(".notice-code").inner_text().strip()

    merchant.goto("/verify/")
    merchant.fill("input[name=code]", code)
    merchant.fill("input[name=phone_last4]", "8000")
    merchant.click("#verify-form button[type=submit]")
    result = merchant.locator("#verify-result").inner_text()
    assert "Genuine" in result and "Account anomaly" in result and t.tid in result
    assert "never ask" in merchant.locator("#anti-scam").inner_text()

    merchant.goto("/portal/verify/")
    merchant.fill("#fraud-form input[name=caller_number]", "+86 170 1234 5678")
    merchant.fill("#fraud-form textarea[name=claimed]", "your POS will be stopped unless you pay")
    merchant.fill("#fraud-form textarea[name=asked_for]", "the SMS code")
    merchant.click("#fraud-form button[type=submit]")
    expect_ok(merchant)
    assert FraudReport.objects.get().merchant_id == shop.pk
