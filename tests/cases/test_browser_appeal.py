"""Browser journey: risk freezes m19's terminal in the console, m19 appeals in the portal with a receipt,
risk approves, and the terminal may transact again (00) with the hold released."""

from __future__ import annotations

import pytest

from posfleet.cases.models import Case
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold
from tests import builders
from tests.cases.builders import PDF, PNG
from tests.portal.browser import (  # noqa: F401
    browser,
    console_login,
    expect_ok,
    new_page,
    portal_login,
    step_up,
)
from tests.portal.builders import merchant_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_freeze_appeal_approve_transacts_again(browser, live_server, tmp_path):  # noqa: F811
    shop = builders.merchant(name="m19 小卖部", kind="individual")
    t = builders.terminal(merchant_obj=shop)
    m19 = merchant_user(shop, username="m19")
    builders.user("risk_wang", role="risk")
    receipt, identity = tmp_path / "receipt.png", tmp_path / "id.pdf"
    receipt.write_bytes(PNG)
    identity.write_bytes(PDF)

    # Risk freezes the terminal from its console page (a sensitive hold: step-up first).
    risk = new_page(browser, live_server)
    console_login(risk, "risk_wang")
    risk.goto(f"/console/terminals/{t.tid}/")
    risk.select_option("select[name=kind]", "risk_freeze")
    risk.fill("textarea[name=reason]", "异常大额交易，待核实")
    risk.click("form[action$='/holds/'] button[type=submit]")
    step_up(risk)
    if Hold.objects.filter(kind="risk_freeze").count() == 0:  # the form is kept across the step-up
        risk.click("form[action$='/holds/'] button[type=submit]")
        risk.wait_for_url(f"**/console/terminals/{t.tid}/")
    expect_ok(risk)
    hold = Hold.objects.get(kind="risk_freeze", terminal=t)
    assert may_transact(t.tid).iso_response_code == "58"

    # m19 sees the freeze on its home page and appeals against it with a receipt and its ID.
    merchant = new_page(browser, live_server)
    portal_login(merchant, m19.username)
    assert "(58)" in merchant.locator(f"tr[data-tid={t.tid}] .eligibility").inner_text()
    merchant.click(f"#holds tr[data-hold='{hold.pk}'] a[data-hold]")
    merchant.wait_for_url("**/portal/requests/new/?kind=appeal*")
    assert merchant.locator("select[name=hold]").input_value() == str(hold.pk)
    merchant.select_option("select[name=reason]", "transactions_genuine")
    merchant.fill("textarea[name=note]", "这些是给老客户的批发订单，附收据")
    merchant.set_input_files("#file_transaction_evidence", str(receipt))
    merchant.set_input_files("#file_proof_of_identity", str(identity))
    merchant.click("#case-form button[type=submit]")
    merchant.wait_for_url("**/portal/requests/*/")
    expect_ok(merchant)
    case = Case.objects.get(kind="appeal")
    assert case.hold_id == hold.pk and case.missing_materials() == []
    assert merchant.locator("#missing").count() == 0

    # Risk finds it in the appeals queue and approves it (approval releases a freeze: step-up again
    # only if the last check is older than the step-up window; it is fresh here).
    risk.goto("/console/cases/?kind=appeal")
    risk.click(f"tr[data-case='{case.pk}'] a")
    risk.wait_for_url(f"**/console/cases/{case.pk}/")
    assert "异常大额交易" in risk.locator("#appealed-hold").inner_text()
    risk.select_option("#review select[name=decision]", "approve")
    risk.fill("#review textarea[name=reason]", "收据与交易一致，解除冻结")
    risk.click("#review button[type=submit]")
    risk.wait_for_url(f"**/console/cases/{case.pk}/")
    expect_ok(risk)

    case.refresh_from_db()
    hold.refresh_from_db()
    assert case.state == "completed" and hold.released_at is not None
    answer = may_transact(t.tid)
    assert answer.allowed and answer.iso_response_code == "00"
    merchant.goto("/portal/")
    assert merchant.locator(f"tr[data-tid={t.tid}] .eligibility").inner_text().startswith("Yes")
    merchant.goto(f"/portal/requests/{case.pk}/")
    assert "收据与交易一致" in merchant.locator("#decision-reason").inner_text()
    merchant.goto("/portal/notices/")
    assert f"申诉申请已通过（申请编号 {case.pk}）" in merchant.locator("main").inner_text()
