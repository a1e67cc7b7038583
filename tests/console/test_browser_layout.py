"""The shared layout in a real browser: a refused form far down a page shows its error beside the
form (in view), not only in the banner at the top."""

from __future__ import annotations

import pytest

from tests import builders
from tests.portal.browser import browser, console_login, new_page  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_form_shows_its_error_next_to_it(live_server, browser):  # noqa: F811
    builders.user("layoutrisk", "technician", password="pw-for-tests-1")
    builders.terminal(tid="LAY00001")
    page = new_page(browser, live_server)
    page.set_viewport_size({"width": 375, "height": 600})
    console_login(page, "layoutrisk")
    page.goto("/console/terminals/LAY00001/")
    form = "form[action$='/holds/']"
    page.select_option(f"{form} select[name=kind]", "fault")
    page.fill(f"{form} input[name=starts_at]", "2030-01-02T10:00")
    page.fill(f"{form} input[name=ends_at]", "2030-01-01T10:00")
    page.fill(f"{form} textarea[name=reason]", "test")
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()
    near = page.locator(".form-errors .msg-error")
    assert near.count() == 1
    box = near.bounding_box()
    assert box is not None and 0 <= box["y"] < 600  # in view, beside the form
