"""The seed guide's first paragraph in a real browser (Debian chromium via Playwright):

an operator logs in, opens device management, selects the device to stop and confirms with a reason;
the console asks them to verify their identity again; the device stops at once (the answer says 58).
"""

from __future__ import annotations

import os
import re

import pytest

from posfleet.lifecycle import eligibility
from posfleet.registry.models import Terminal
from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def page(monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(locale="en-US")
        pg = context.new_page()
        pg.set_default_timeout(15000)
        try:
            yield pg
        finally:
            context.close()
            browser.close()
            # Connections opened while Playwright's loop ran would keep PostgreSQL from dropping the
            # test database at the end of the session.
            from django.db import connections

            connections.close_all()


def test_log_in_select_deactivate_step_up_refuses_58(live_server, page):
    builders.user("opsrisk", "risk", password="risk-pass-123")
    shop = builders.merchant(name="Seed Flow Noodles")
    target = builders.terminal(tid="SEED0001", merchant_obj=shop)
    builders.terminal(tid="SEED0002", merchant_obj=shop)
    assert eligibility.may_transact(target.tid).allowed
    base = live_server.url

    # Log in.
    page.goto(f"{base}/console/login/")
    page.fill("#id_username", "opsrisk")
    page.fill("#id_password", "risk-pass-123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/console/")

    # The console speaks Chinese by default; switch to English with the language switcher (remembered).
    page.select_option("#lang-select", "en")
    page.wait_for_selector("html[lang=en]")

    # Device management: search for the terminal (HTMX swaps the table in place).
    page.click("nav a[href='/console/terminals/']")
    page.wait_for_url(re.compile(r".*/console/terminals/$"))
    page.fill("#id_q", "SEED0001")
    page.press("#id_q", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#terminal-table input[name=tid]').length === 1")

    # Select it and choose "Deactivate", then confirm with a reason.
    page.check("input[name=tid][value=SEED0001]")
    page.select_option("#op", "apply:deactivate")
    page.click("#bulk-go")
    page.wait_for_url(re.compile(r".*/console/terminals/bulk/[^/]+/$"))
    assert "SEED0001" in page.inner_text("main")
    page.fill("#id_reason", "Merchant reported the device stolen")
    page.click("#confirm")

    # Asked to verify identity again.
    page.wait_for_url(re.compile(r".*/console/step-up/\?next=.*"))
    page.fill("#id_secret", "risk-pass-123")
    page.click("main button[type=submit]")
    # The verification finishes the action asked for: no second click.

    # Done: back on the list with a success message; the device stopped at once.
    page.wait_for_selector(".msg-success")
    assert "Done" in page.inner_text(".messages")
    assert Terminal.objects.get(tid="SEED0001").state == "deactivated"
    assert Terminal.objects.get(tid="SEED0002").state == "active"
    answer = eligibility.may_transact("SEED0001")
    assert not answer.allowed
    assert answer.iso_response_code == "58"
