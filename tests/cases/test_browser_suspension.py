"""Browser journey (a): a suspension filed in the portal, approved in the console, the terminal refused
(58) inside the window; then a reactivation filed and approved, and the terminal allowed again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from posfleet.cases.models import Case
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


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _upload_rest(page, case_id, types, files):
    for kind in types:
        page.goto(f"/portal/requests/{case_id}/")
        page.select_option("#material-form select[name=type]", kind)
        page.set_input_files("#material-form input[name=file]", files[kind])
        page.click("#material-form button[type=submit]")
        page.wait_for_url(f"**/portal/requests/{case_id}/")
        expect_ok(page)


def _approve(page, case_id, reason):
    page.goto(f"/console/cases/{case_id}/")
    page.select_option("#review select[name=decision]", "approve")
    page.fill("#review textarea[name=reason]", reason)
    page.click("#review button[type=submit]")
    page.wait_for_url(f"**/console/cases/{case_id}/")
    expect_ok(page)


def test_suspension_then_reactivation(browser, live_server, tmp_path):  # noqa: F811
    m = builders.merchant(name="张记面馆")
    t = builders.terminal(merchant_obj=m)
    shop = merchant_user(m, username="zhangji")
    reviewer = builders.user("reviewer_li", role="reviewer")
    files = {}
    for kind, data, ext in (
        ("application_form", PDF, "pdf"),
        ("business_licence_copy", PNG, "png"),
        ("proof_of_identity", PDF, "pdf"),
    ):
        path = tmp_path / f"{kind}.{ext}"
        path.write_bytes(data)
        files[kind] = str(path)

    # The merchant files a suspension from the portal, with the application form attached.
    merchant_page = new_page(browser, live_server)
    portal_login(merchant_page, shop.username)
    assert merchant_page.locator(f"tr[data-tid={t.tid}] .eligibility").inner_text().startswith("Yes")
    merchant_page.goto("/portal/requests/new/?kind=suspension")
    merchant_page.check(f"input[name=terminals][value={t.tid}]")
    merchant_page.select_option("select[name=reason]", "renovation_or_relocation")
    start = timezone.now().replace(second=0, microsecond=0)
    end = start + timedelta(days=3)
    merchant_page.fill("input[name=starts_at]", _local(start))
    merchant_page.fill("input[name=ends_at]", _local(end))
    merchant_page.fill("textarea[name=note]", "店面装修三天")
    merchant_page.select_option("#case-form select[name=type]", "application_form")
    merchant_page.set_input_files("#case-form input[name=file]", files["application_form"])
    merchant_page.click("#case-form button[type=submit]")
    merchant_page.wait_for_url("**/portal/requests/*/")
    expect_ok(merchant_page)
    case = Case.objects.get(kind="suspension")
    assert "Business licence copy" in merchant_page.locator("#missing").inner_text()
    _upload_rest(merchant_page, case.pk, ["business_licence_copy", "proof_of_identity"], files)
    assert merchant_page.locator("#missing").count() == 0

    # A reviewer approves it in the console.
    console = new_page(browser, live_server)
    console_login(console, reviewer.username)
    console.goto("/console/cases/?kind=suspension")
    assert console.locator(f"tr[data-case='{case.pk}']").count() == 1
    _approve(console, case.pk, "材料齐全，同意停机")
    case.refresh_from_db()
    assert case.state in ("approved", "in_progress")

    # Inside the window the terminal is refused with 58; after it, it would be allowed again.
    inside = may_transact(t.tid, at=start + timedelta(days=1))
    assert not inside.allowed and inside.iso_response_code == "58"
    assert may_transact(t.tid, at=end + timedelta(minutes=1)).allowed
    merchant_page.goto("/portal/")
    assert "(58)" in merchant_page.locator(f"tr[data-tid={t.tid}] .eligibility").inner_text()
    merchant_page.goto(f"/portal/requests/{case.pk}/")
    assert "材料齐全，同意停机" in merchant_page.locator("#decision-reason").inner_text()
    if merchant_page.locator("#letter-link").count():
        with merchant_page.expect_download() as info:
            merchant_page.click("#letter-link")
        assert info.value.path().read_bytes().startswith(b"%PDF")

    # The merchant asks to reactivate; on approval the terminal may transact at once.
    merchant_page.goto("/portal/requests/new/?kind=reactivation")
    merchant_page.check(f"input[name=terminals][value={t.tid}]")
    merchant_page.select_option("select[name=reason]", "renovation_finished")
    merchant_page.select_option("#case-form select[name=type]", "application_form")
    merchant_page.set_input_files("#case-form input[name=file]", files["application_form"])
    merchant_page.click("#case-form button[type=submit]")
    merchant_page.wait_for_url("**/portal/requests/*/")
    expect_ok(merchant_page)
    reactivation = Case.objects.get(kind="reactivation")
    _upload_rest(merchant_page, reactivation.pk, ["proof_of_identity"], files)

    _approve(console, reactivation.pk, "装修完成，恢复交易")
    answer = may_transact(t.tid)
    assert answer.allowed, answer.as_dict()
    merchant_page.goto("/portal/")
    assert merchant_page.locator(f"tr[data-tid={t.tid}] .eligibility").inner_text().startswith("Yes")
