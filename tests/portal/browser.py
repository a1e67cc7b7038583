"""Shared pieces of the browser journeys: a Debian chromium driven by Playwright's sync API, logins.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse ORM calls there
("async unsafe"); the journeys only use the ORM for setup and checks between page steps, so they allow it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
            # ORM calls made while Playwright's loop ran opened connections in that context; close
            # them here, or PostgreSQL refuses to drop the test database at the end of the session.
            from django.db import connections

            connections.close_all()


def new_page(browser: Any, live_server: Any, lang: str = "en") -> Any:
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


def portal_login(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/portal/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/portal/")


def console_login(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/console/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(lambda url: "/console/login/" not in url)


def step_up(page: Any, password: str = PASSWORD) -> None:
    """On the step-up page: re-enter the password, then back to where the action was."""
    page.wait_for_url("**/console/step-up/**")
    page.fill("input[name=secret]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(lambda url: "/console/step-up/" not in url)


def expect_ok(page: Any) -> None:
    """No error message on the page (a refused action shows .msg-error)."""
    errors = page.locator(".msg-error").all_inner_texts()
    assert not errors, errors
