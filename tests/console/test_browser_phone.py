"""On a 375×812 phone no console or portal page is wider than the screen (no sideways scrolling),
and the navigation collapses behind a button.

Pages come from the URL resolver (tests/pages.py) with a small demo data set, each opened in Debian
chromium as a user who may see it, so a page added later is checked too.
"""

from __future__ import annotations

import pytest

from posfleet.devtools import demo
from tests import pages
from tests.portal.browser import browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 375, 812


def test_no_page_is_wider_than_a_phone(live_server, browser):  # noqa: F811
    demo.load(terminals=40, merchants=10, days=2, strict=True, progress=False)
    walker = pages.Walker("zh-hans")
    visits = [(v.url, v.user) for v in walker.visits()]
    assert len(visits) > 30
    contexts: dict[str, object] = {}
    too_wide: list[str] = []
    for url, user in visits:
        if user not in contexts:
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT}, base_url=live_server.url
            )
            cookies = [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
            session = walker.session_cookie(user) if user != "-" else None
            if session:
                cookies.append({"name": "sessionid", "value": session, "url": live_server.url})
            context.add_cookies(cookies)
            contexts[user] = context.new_page()
        page = contexts[user]
        page.goto(url)
        assert "/login/" not in page.url or "/login/" in url, f"{url}: signed out"
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            wide = page.evaluate(
                """() => Array.from(document.querySelectorAll('main *'))
                     .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                     .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + (e.id || ''))"""
            )
            too_wide.append(f"{url} ({user}): {width}px wide; {wide}")
    assert not too_wide, "\n".join(too_wide)

    # The navigation is one button tall until opened.
    page = contexts[next(u for _url, u in visits if u == "admin")]
    page.goto("/console/")
    assert page.evaluate("document.querySelector('.topbar').offsetHeight") < 80
    assert not page.is_visible("#mainnav")
    page.click(".navtoggle")
    assert page.is_visible("#mainnav a[href='/console/terminals/']")
