"""Every console, portal and verification page, in Chinese and in English, reads as words for people:
no internal code, no dict or list repr, no machine time, no message left untranslated.

The pages come from the URL resolver (tests/pages.py), the objects from a small demo data set, so a
page added later is walked too.
"""

from __future__ import annotations

import pytest

from posfleet.devtools import demo
from tests import pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_data() -> None:
    demo.load(terminals=60, merchants=12, days=3, strict=True, progress=False)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_reads_as_words(demo_data: None, lang: str) -> None:
    checker = pages.Checker()
    walker = pages.Walker(lang)
    found: list[str] = []
    walked: set[str] = set()
    for visit in walker.visits():
        walked.add(visit.route)
        for problem in checker.problems(pages.visible_text(visit.html), lang):
            found.append(f"{visit.url} ({visit.user}): {problem}")
    assert not walker.unfilled, walker.unfilled
    assert {"console:dashboard", "console:terminal", "cases:detail", "portal:home", "portal:case"} <= walked
    assert not found, "\n".join(found)
