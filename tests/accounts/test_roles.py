"""Least privilege, walked: every role × every API operation, against the role matrix (docs/roles.md).

The operations come from the served OpenAPI document, so an operation nobody listed here fails the walk.
What each operation requires is written once below (`OPERATIONS`: the capabilities its service checks);
who holds them comes from the code (`accounts.roles.ROLES`); the few answers that follow from another
rule (separation of duties, role-bound custody, the merchant's own data) are `EXCEPTIONS`, each with
its reason. Each request runs in a savepoint that is rolled back, against one world (a merchant with its
portal login, terminals, a hold, a case with materials and a letter, a dispute, a job), as a token with
step-up done, so only the permission decides: 401/403 (and for the merchant 404: not its own) is "denied".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from posfleet.accounts.models import ApiToken, MerchantUser
from posfleet.accounts.roles import ROLES
from posfleet.api.main import api as ninja_api
from posfleet.cases import services as case_services
from posfleet.core.actor import Actor
from posfleet.lifecycle.holds import place_hold
from posfleet.lifecycle.models import DeviceAlert
from posfleet.money.models import RatePlan
from posfleet.notices.models import CallTask, Delivery, Notice
from posfleet.repair.services import faults
from posfleet.settlement.disputes import DisputeInput, open_dispute
from tests import builders as b
from tests.cases import builders as cb
from tests.repair import builders as rb
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db

STAFF = tuple(ROLES)
WALKED = (*STAFF, "merchant", "anonymous")


@dataclass(frozen=True)
class Rule:
    """Who may call an operation: staff holding any of `caps`; the merchant's own token if `merchant`;
    anyone (even without a token) if `public`; any member of staff if `staff`."""

    caps: tuple[str, ...] = ()
    merchant: bool = False
    public: bool = False
    staff: bool = False
    hides: bool = False  # refused as "not found": the object is not theirs to see


def cap(*caps: str, merchant: bool = False, hides: bool = False) -> Rule:
    return Rule(caps=caps, merchant=merchant, hides=hides)


PUBLIC = Rule(public=True)
ANY_STAFF = Rule(staff=True)
CASE_STAFF = ("view_fleet", "file_case", "review_case", "work_case", "inspect_return", "settle_case")
REPAIR_READ = ("view_fleet", "work_repair", "report_fault", "lend_loaner", "swap_terminal")

# operationId → what its service checks. A new operation goes here (see docs/roles.md, "Adding an operation").
OPERATIONS: dict[str, Rule] = {
    "posfleet_api_main_health": PUBLIC,
    # registry and lifecycle
    "posfleet_registry_api_create_merchant": cap("manage_merchant"),
    "posfleet_registry_api_list_merchants": cap("view_fleet"),
    "posfleet_registry_api_get_merchant": cap("view_fleet"),
    "posfleet_registry_api_list_models": cap("view_fleet"),
    "posfleet_registry_api_import_terminals": cap("register_terminal"),
    "posfleet_registry_api_list_terminals": cap("view_fleet"),
    "posfleet_lifecycle_api_create_terminal": cap("register_terminal"),
    "posfleet_lifecycle_api_get_terminal": cap("view_fleet"),
    "posfleet_lifecycle_api_allocate": cap("allocate_terminal"),
    "terminal_deallocate": cap("allocate_terminal"),
    "terminal_activate": cap("activate_terminal"),
    "terminal_deactivate": cap("deactivate_terminal"),
    "terminal_start_repair": cap("repair_terminal"),
    "terminal_finish_repair": cap("repair_terminal"),
    "terminal_receive_return": cap("receive_return"),
    "terminal_retire": cap("receive_return"),
    "terminal_refurbish": cap("receive_return"),
    "merchant_activate": cap("manage_merchant"),
    "merchant_start_closing": cap("manage_merchant"),
    "merchant_cancel_closing": cap("manage_merchant"),
    "merchant_close": cap("manage_merchant"),
    "posfleet_lifecycle_api_hold_terminal": cap("hold_maintenance"),  # the walk places a maintenance hold
    "posfleet_lifecycle_api_hold_merchant": cap("hold_maintenance"),
    "posfleet_lifecycle_api_hold_many": cap("hold_maintenance"),
    "posfleet_lifecycle_api_release": cap("hold_maintenance"),  # the world's hold is a maintenance hold
    "posfleet_lifecycle_api_get_hold": cap("view_fleet"),
    "posfleet_lifecycle_api_list_holds": cap("view_fleet"),
    "posfleet_lifecycle_api_terminal_eligibility": cap("view_fleet"),
    "posfleet_lifecycle_api_refused_attempts": cap("view_fleet"),
    "posfleet_lifecycle_api_device_alerts": cap("view_fleet"),
    "posfleet_lifecycle_api_acknowledge_device_alert": cap("hold_risk_freeze"),
    "posfleet_audit_api_list_audit": cap("view_audit"),
    # money and settlement
    "posfleet_money_api_post_transactions": cap("ingest_transactions"),
    "posfleet_settlement_api_list_transactions": cap("view_money", merchant=True),
    # the rate plan catalogue is the published price list: merchants may read it
    "posfleet_money_api_list_rate_plans": cap("view_money", "manage_rate_plan", merchant=True),
    "posfleet_money_api_create_rate_plan": cap("manage_rate_plan"),
    "posfleet_money_api_get_rate_plan": cap("view_money", "manage_rate_plan", merchant=True),
    "posfleet_money_api_get_merchant_plan": cap("view_money", merchant=True),
    "posfleet_money_api_put_merchant_plan": cap("manage_rate_plan"),
    "posfleet_money_api_post_plan_notice": cap("manage_rate_plan"),
    "posfleet_money_api_get_balance": cap("view_money", merchant=True),
    "posfleet_settlement_api_get_transaction": cap("view_money", merchant=True),
    "posfleet_settlement_api_run_settlement": cap("run_settlement"),
    "posfleet_settlement_api_merchant_settlements": cap("view_money", merchant=True),
    "posfleet_settlement_api_merchant_outstanding": cap("view_money", merchant=True),
    "posfleet_settlement_api_merchant_statement": cap("view_money", merchant=True),
    "posfleet_settlement_api_get_profile": cap("view_money", merchant=True),
    "posfleet_settlement_api_put_profile": cap("run_settlement", "manage_dispute"),
    "posfleet_settlement_api_open_dispute": cap("manage_dispute"),
    "posfleet_settlement_api_list_disputes": cap("view_money", merchant=True),
    "posfleet_settlement_api_get_dispute": cap("view_money", merchant=True),
    # the merchant answers; staff only record an answer on its behalf (file_case), never those who resolve
    "posfleet_settlement_api_add_document": cap("file_case", merchant=True),
    "posfleet_settlement_api_answer_dispute": cap("file_case", merchant=True),
    "posfleet_settlement_api_resolve_dispute": cap("manage_dispute"),
    # keys
    "posfleet_keys_api_get_keys": cap("view_fleet"),
    "posfleet_keys_api_destroy": cap("destroy_keys"),
    "posfleet_keys_api_cancel": cap("destroy_keys"),
    "posfleet_keys_api_rekey": cap("destroy_keys"),
    # notices
    "posfleet_notices_api_verify": PUBLIC,
    "posfleet_notices_api_list_notices": cap("view_fleet", merchant=True),
    "posfleet_notices_api_get_notice": cap("view_fleet", merchant=True),
    "posfleet_notices_api_notice_pdf": cap("read_case_documents", merchant=True),
    # a merchant's own login or token files fraud reports and registers webhooks for itself only
    "posfleet_notices_api_channels_file_fraud_report": cap("file_case", "review_fraud_report", merchant=True),
    "posfleet_notices_api_channels_list_fraud_reports": cap("review_fraud_report"),
    "posfleet_notices_api_channels_list_call_tasks": cap("work_call_task"),
    "posfleet_notices_api_channels_call_outcome": cap("work_call_task"),
    "posfleet_notices_api_channels_create_endpoint": cap("manage_webhooks", merchant=True),
    "posfleet_notices_api_channels_list_endpoints": cap("manage_webhooks", merchant=True),
    "posfleet_lifecycle_api_retirement_dry_run": cap("retire_model"),
    "posfleet_lifecycle_api_retirement_start": cap("retire_model"),
    # repair: reads need view_fleet or a repair capability; a merchant sees and reports its own only
    "posfleet_repair_api_report_fault": cap("report_fault", "work_repair", merchant=True),
    "posfleet_repair_api_get_fault": cap(*REPAIR_READ, merchant=True),
    "posfleet_repair_api_add_evidence": cap("report_fault", "work_repair", merchant=True),
    "posfleet_repair_api_list_orders": cap(*REPAIR_READ, merchant=True),
    "posfleet_repair_api_get_repair_order": cap(*REPAIR_READ, merchant=True),
    "posfleet_repair_api_repair_action": cap("work_repair"),  # the walk diagnoses the world's order
    "posfleet_repair_api_lend_loaner": cap("lend_loaner"),
    "posfleet_repair_api_list_loaners": cap("view_fleet", merchant=True),
    "posfleet_repair_api_return_loaner": cap("lend_loaner"),
    "posfleet_repair_api_swap_terminal": cap("swap_terminal"),
    "posfleet_repair_api_terminal_repairs": cap(*REPAIR_READ, merchant=True),
    "posfleet_repair_api_inspections_due": cap("view_fleet"),
    "posfleet_repair_api_repair_stats": cap("view_fleet"),
    # cases
    "posfleet_cases_api_file_case": cap("file_case", merchant=True),
    "posfleet_cases_api_list_cases": cap(*CASE_STAFF, merchant=True),
    "posfleet_cases_api_get_case": cap(*CASE_STAFF, merchant=True),
    "posfleet_cases_api_case_timeline": cap(*CASE_STAFF, merchant=True),
    "posfleet_cases_api_add_material": cap("file_case", "review_case", "work_case", merchant=True),
    "posfleet_cases_api_decide": cap("review_case"),
    "posfleet_cases_api_resubmit": cap("file_case", merchant=True),
    "posfleet_cases_api_allocate": cap("allocate_terminal"),
    "posfleet_cases_api_ship": cap("ship_terminal"),
    "posfleet_cases_api_deliver": cap("ship_terminal", "activate_terminal"),
    "posfleet_cases_api_activate": cap("activate_terminal"),
    "posfleet_cases_api_cancel": cap("file_case", "review_case", merchant=True),
    "posfleet_cases_api_assign": cap("review_case", "work_case"),
    "posfleet_cases_api_stop": cap("work_case"),
    "posfleet_cases_api_statement": cap("work_case", "settle_case"),
    "posfleet_cases_api_start_export": cap("work_case", "file_case", merchant=True),
    "posfleet_cases_api_get_export": cap("read_case_documents", merchant=True),  # the transaction history
    "posfleet_cases_api_returns": cap("inspect_return"),
    "posfleet_cases_api_refund": cap("settle_case"),
    "posfleet_cases_api_payments": cap("settle_case"),
    "posfleet_cases_api_complete": cap("work_case"),
    "posfleet_cases_api_comment": cap(
        "file_case", "review_case", "work_case", "inspect_return", "settle_case", merchant=True
    ),
    "posfleet_cases_api_letter": cap("read_case_documents", merchant=True),
    "posfleet_cases_api_archive": cap("read_case_documents", merchant=True),
    "posfleet_cases_api_material_file": cap("read_case_documents", merchant=True),
    # jobs: everyone sees the jobs they started or their roles own (the list is filtered, never refused)
    "posfleet_jobs_api_list_jobs": Rule(staff=True, merchant=True),
    # the world's job is a case export started by a reviewer: its permission is work_case
    "posfleet_jobs_api_get_job": cap("work_case", hides=True),
    "posfleet_jobs_api_retry": cap("work_case", hides=True),
}

# (operationId, role) → (allowed, why): answers another rule gives than the capability alone.
EXCEPTIONS: dict[tuple[str, str], tuple[bool, str]] = {}


def expected(op: str, role: str) -> bool:
    if (op, role) in EXCEPTIONS:
        return EXCEPTIONS[(op, role)][0]
    rule = OPERATIONS[op]
    if rule.public:
        return True
    if role == "anonymous":
        return False
    if role == "merchant":
        return rule.merchant
    return rule.staff or any(c in ROLES[role][1] for c in rule.caps)


def served_operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, operationId, operation) of every operation in the served document."""
    schema = ninja_api.get_openapi_schema()
    return [
        (method.upper(), path, op["operationId"], op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    ]


def test_every_served_operation_is_in_the_table() -> None:
    ops = {op_id for _m, _p, op_id, _o in served_operations()}
    missing = sorted(ops - set(OPERATIONS))
    assert not missing, (
        f"API operations not in the role matrix: {missing}. Add each to OPERATIONS in "
        "tests/accounts/test_roles.py with the capability its service checks, and to docs/roles.md."
    )
    gone = sorted(set(OPERATIONS) - ops)
    assert not gone, f"OPERATIONS names operations the API no longer serves: {gone}"
    for op, rule in OPERATIONS.items():
        unknown = [c for c in rule.caps if not any(c in caps for _label, caps in ROLES.values())]
        assert not unknown, f"{op} names capabilities no role holds: {unknown}"


# --- the world ------------------------------------------------------------------------------------------
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _world() -> dict[str, Any]:
    m = b.merchant()
    owner = b.user(role="agent")
    owner.groups.clear()
    MerchantUser.objects.create(user=owner, merchant=m)
    active = b.terminal("active", merchant_obj=m)
    stock = b.terminal("in_stock")
    system = Actor.system("cli")
    with transaction.atomic():
        hold = place_hold(system, kind="maintenance", reason="walk", tid=active.tid)
    case = cb.file(kind="suspension", merchant_id=m.pk, terminals=[active.tid])
    cb.upload_required(case)
    case = cb.decide(case)
    with transaction.atomic():
        export = case_services.start_export(b.actor("reviewer"), case.pk)
    sale = tx(m, 10_000, at(days_ago(1)), tid=active.tid)
    with transaction.atomic():
        dispute = open_dispute(system, DisputeInput(sale.pk, "chargeback", "walk"))
    case.refresh_from_db()
    fault = rb.fault(active, stop=False)
    with transaction.atomic():
        evidence = faults.add_evidence(b.actor("technician"), fault.pk, rb.photo())
    rb.loaner()
    now = timezone.now()
    alert = DeviceAlert.objects.create(
        terminal=stock,
        day=timezone.localdate(),
        reason="terminal_stopped_for_good",
        attempts=1,
        first_at=now,
        last_at=now,
    )
    letter = Notice.objects.get(pk=case.letter_notice_id)
    call = Delivery.objects.create(notice=letter, channel="call", recipient="13800138000")
    task = CallTask.objects.create(
        notice=letter, delivery=call, merchant=m, phone="13800138000", script="walk"
    )
    return {
        "merchant": m,
        "owner": owner,
        "merchant_id": m.pk,
        "tid": active.tid,
        "stock_tid": stock.tid,
        "hold_id": hold.pk,
        "case_id": case.pk,
        "material_id": case.materials.order_by("id").first().pk,
        "notice_id": case.letter_notice_id,
        "job_id": export.job_id,
        "dispute_id": dispute.pk,
        "tx_id": sale.pk,
        "switch_id": sale.switch_id,
        "code": RatePlan.objects.order_by("id").first().code,
        "fault_id": fault.pk,
        "order_id": fault.order.pk,
        "evidence_id": evidence.pk,
        "task_id": task.pk,
        "alert_id": alert.pk,
        "name": active.model.name,
        "action": "diagnose",
    }


def _json(w: dict[str, Any], op: str) -> Any:
    today = timezone.localdate().isoformat()
    bodies: dict[str, Any] = {
        "posfleet_registry_api_create_merchant": {
            "kind": "enterprise",
            "name": "走查商户",
            "contact_name": "张三",
            "phone": "13800138000",
            "licence_no": "91310000MA1FL9999X",
            "legal_representative": "张三",
            "settlement_card": b.VALID_CARD,
        },
        "posfleet_lifecycle_api_create_terminal": {
            "tid": "WALK0001",
            "sn": "SN-WALK-1",
            "model": b.terminal_model().name,
            "firmware_version": "1.0",
            "security_patch_level": "2026-01-01",
        },
        "posfleet_lifecycle_api_allocate": {"merchant_id": w["merchant_id"], "reason": "walk"},
        "posfleet_lifecycle_api_hold_terminal": {"kind": "maintenance", "reason": "walk"},
        "posfleet_lifecycle_api_hold_merchant": {"kind": "maintenance", "reason": "walk"},
        "posfleet_lifecycle_api_hold_many": {"tids": [w["tid"]], "kind": "maintenance", "reason": "walk"},
        "posfleet_money_api_post_transactions": {
            "items": [
                {
                    "switch_id": "WALK-0001",
                    "tid": w["tid"],
                    "channel": "credit",
                    "type": "sale",
                    "amount_fen": 100,
                    "occurred_at": timezone.now().isoformat(),
                }
            ]
        },
        "posfleet_money_api_create_rate_plan": {
            "code": "WALK",
            "name": "walk",
            "rates": {c: {"rate_bp": 60} for c in ("credit", "debit", "wechat", "alipay", "unionpay_qr")},
        },
        "posfleet_money_api_put_merchant_plan": {"code": w["code"]},
        "posfleet_money_api_post_plan_notice": {"code": w["code"]},
        "posfleet_settlement_api_run_settlement": {"business_date": days_ago(1).isoformat()},
        "posfleet_settlement_api_put_profile": {"reason": "walk"},
        "posfleet_settlement_api_open_dispute": {
            "transaction": w["switch_id"],
            "kind": "chargeback",
            "reason": "walk",
        },
        "posfleet_settlement_api_answer_dispute": {"answer": "receipt attached", "channel": "phone"},
        "posfleet_settlement_api_resolve_dispute": {"outcome": "won", "reason": "walk"},
        "posfleet_cases_api_file_case": {
            "kind": "closure",
            "merchant_id": w["merchant_id"],
            "reason": "business_change",
        },
        "posfleet_cases_api_decide": {"decision": "reject", "reason": "walk"},
        "posfleet_cases_api_ship": {"carrier": "sf_express", "shipped_on": today},
        "posfleet_cases_api_deliver": {"delivered_on": today},
        "posfleet_cases_api_assign": {"username": None},
        "posfleet_cases_api_returns": {"items": [{"item": f"terminal:{w['tid']}", "condition": "good"}]},
        "posfleet_cases_api_payments": {"amount_fen": 100},
        "posfleet_cases_api_comment": {"body": "walk"},
        "posfleet_keys_api_destroy": {"reason": "walk"},
        "posfleet_notices_api_channels_file_fraud_report": {
            "caller_number": "95000000",
            "channel": "phone",
            "claimed": "walk",
        },
        "posfleet_notices_api_channels_call_outcome": {"outcome": "reached"},
        "posfleet_notices_api_channels_create_endpoint": {"url": "https://walk.example/h", "events": ["*"]},
        "posfleet_lifecycle_api_retirement_start": {
            "stop_on": (timezone.now() + timezone.timedelta(days=60)).isoformat(),
            "offer": "walk",
            "reason": "walk",
        },
        "posfleet_repair_api_report_fault": {
            "tid": w["tid"],
            "category": "hardware",
            "symptom": "screen",
            "started_at": (timezone.now() - timezone.timedelta(hours=1)).isoformat(),
            "frequency": "always",
        },
        "posfleet_repair_api_repair_action": {"diagnosis": "walk", "where": "in_house"},
        "posfleet_repair_api_lend_loaner": {
            "merchant_id": w["merchant_id"],
            "repair_order_id": w["order_id"],
        },
        "posfleet_repair_api_return_loaner": {"condition": "good"},
    }
    return bodies.get(op, {"reason": "walk"})


QUERIES: dict[str, Any] = {
    "posfleet_settlement_api_merchant_statement": lambda w: {
        "from": days_ago(3).isoformat(),
        "to": days_ago(1).isoformat(),
    },
    "posfleet_notices_api_verify": lambda w: {"code": "ABCD2345", "phone_last4": "8000"},
}


def _call(
    client: Client, headers: dict[str, str], w: dict[str, Any], method: str, path: str, op_id: str
) -> Any:
    names = {
        "tid": w["stock_tid"] if op_id == "posfleet_lifecycle_api_allocate" else w["tid"],
        "code": w["code"],
    }
    for key in (
        "merchant_id",
        "hold_id",
        "case_id",
        "material_id",
        "notice_id",
        "job_id",
        "dispute_id",
        "tx_id",
        "fault_id",
        "order_id",
        "task_id",
        "alert_id",
        "name",
        "action",
    ):
        names[key] = w[key]
    url = path.format(**names)
    if method == "GET":
        params = QUERIES[op_id](w) if op_id in QUERIES else {}
        return client.get(url, params, headers=headers)
    if op_id == "posfleet_registry_api_import_terminals":
        csv = "tid,sn,model,firmware_version,security_patch_level\n"
        return client.post(url, csv, content_type="text/csv", headers=headers)
    if op_id in (
        "posfleet_settlement_api_add_document",
        "posfleet_cases_api_add_material",
        "posfleet_repair_api_add_evidence",
    ):
        data = {"file": SimpleUploadedFile("walk.pdf", PDF, content_type="application/pdf")}
        if op_id == "posfleet_cases_api_add_material":
            data["type"] = "application_form"
        return client.post(url, data, headers=headers)
    body = _json(w, op_id)
    return (
        client.post(url, json.dumps(body), content_type="application/json", headers=headers)
        if method == "POST"
        else client.put(url, json.dumps(body), content_type="application/json", headers=headers)
    )


def _headers(role: str, w: dict[str, Any]) -> dict[str, str]:
    if role == "anonymous":
        return {"Accept-Language": "en"}
    user = w["owner"] if role == "merchant" else b.user(role=role)
    token, raw = ApiToken.issue(user, "walk")
    ApiToken.objects.filter(pk=token.pk).update(elevated_until=timezone.now() + timezone.timedelta(hours=1))
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


def _denied(role: str, op: str, response: Any) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code == 403:
        code = (
            response.json().get("error", {}).get("code")
            if response["Content-Type"].startswith("application/json")
            else ""
        )
        return code != "step_up_required"
    return response.status_code == 404 and (role == "merchant" or OPERATIONS[op].hides)


CHECKS: list[int] = []


@pytest.mark.parametrize("role", WALKED)
def test_every_operation_answers_each_role_as_the_matrix_says(role: str) -> None:
    w = _world()
    headers = _headers(role, w)
    client = Client()
    wrong = []
    for method, path, op_id, _op in served_operations():
        if op_id not in OPERATIONS:
            continue  # test_every_served_operation_is_in_the_table names it
        with transaction.atomic():
            response = _call(client, headers, w, method, path, op_id)
            transaction.set_rollback(True)
        assert response.status_code < 500, (op_id, role, response.content[:500])
        want = expected(op_id, role)
        got = not _denied(role, op_id, response)
        CHECKS.append(1)
        if want != got:
            wrong.append(
                f"{method} {path} ({op_id}): expected {'allowed' if want else 'denied'}, got "
                f"{response.status_code} {response.content[:200]!r}"
            )
    assert not wrong, f"role {role}:\n" + "\n".join(wrong)


# --- console pages ------------------------------------------------------------------------------------
# Every console route is either a page (GET, walked below) or an action (POST only; it calls the same
# service the API operation above calls, so the API walk covers its permission). URL name → Rule.
CONSOLE_PAGES: dict[str, Rule] = {
    "console:dashboard": ANY_STAFF,
    "console:terminals": cap("view_fleet"),
    "console:terminal": cap("view_fleet"),
    "console:merchants": cap("view_fleet"),
    "console:merchant": cap("view_fleet"),
    "console:audit": cap("view_audit"),
    "console:alerts": cap("view_fleet"),  # refused attempts of stopped terminals; risk acknowledges
    "console:jobs": ANY_STAFF,  # each sees the jobs they started or their roles own
    "console:tokens": ANY_STAFF,  # one's own API tokens
    "console:totp": ANY_STAFF,  # one's own authenticator
    "money:overview": cap("view_money"),
    "money:rate_plans": cap("view_money"),
    "money:merchant": cap("view_money"),
    "settlement:run": cap("view_money"),
    "settlement:merchant": cap("view_money"),
    "settlement:statement": cap("view_money"),
    "settlement:disputes": cap("view_money"),
    "settlement:dispute": cap("view_money"),
    "cases:queue": cap(*CASE_STAFF),
    "cases:new": cap("file_case"),
    "cases:new_applicant": cap("file_case"),
    "cases:detail": cap(*CASE_STAFF),
    "cases:export_status": cap(*CASE_STAFF),
    "cases:export_csv": cap("read_case_documents"),
    "cases:archive": cap("read_case_documents"),
    "cases:notice_pdf": cap("read_case_documents"),
    "cases:material": cap("read_case_documents"),
    "keys:index": cap("view_fleet"),  # key metadata (state, KCV, records), as GET /terminals/{tid}/keys
    "console:morning": cap("view_fleet"),  # the dashboard's cards, each filtered by the user's roles
    "console:bulk_holds": cap("view_fleet"),
    "console:pick_merchants": cap("view_fleet"),  # the merchant picker of forms
    "console:pick_terminals": cap("view_fleet"),
    "notices_console:notices": cap("view_fleet"),
    "notices_console:notice": cap("view_fleet"),
    "notices_console:calls": cap("work_call_task"),
    "notices_console:fraud": ANY_STAFF,  # the form to file a report; the queue only for review_fraud_report
    "repair:index": cap("view_fleet"),
    "repair:report": cap("report_fault", "work_repair"),
    "repair:order": cap("view_fleet"),
    "repair:loaners": cap("view_fleet"),
    "repair:inspections": cap("view_fleet"),
    "repair:stats": cap("view_fleet"),
    "repair:figures": cap("view_fleet"),
    "repair:terminal": cap("view_fleet"),
    "repair:evidence": cap("view_fleet"),  # a fault's photo or log, as GET /faults/{fault_id}
}
CONSOLE_ACTIONS = {
    "console:login",
    "console:logout",
    "console:step_up",
    "console:bulk_start",
    "console:bulk_confirm",
    "console:terminal_apply",
    "console:terminal_hold",
    "console:hold_release",
    "console:merchant_hold",
    "console:merchant_apply",
    "console:audit_verify",
    "console:alert_acknowledge",  # refusals.acknowledge: hold_risk_freeze
    "console:job_retry",
    "console:token_revoke",
    "settlement:document",  # a dispute document; walked by the dispute tests (view_money)
    "cases:decide",
    "cases:comment",
    "cases:material_add",
    "cases:resubmit",
    "cases:allocate",
    "cases:ship",
    "cases:deliver",
    "cases:activate",
    "cases:take",
    "cases:stop",
    "cases:returns",
    "cases:statement",
    "cases:export",
    "cases:settle",
    "cases:payment",
    "cases:complete",
    "keys:destroy",
    "keys:cancel",
    "keys:rekey",
    "cases:pay_batches",  # closing.pay_closing_merchant: run_settlement
    "notices_console:replay",  # webhooks.replay: manage_webhooks
    "notices_console:call_outcome",  # calls.record_outcome: work_call_task
    "notices_console:fraud_file",  # fraud.file_report: file_case or review_fraud_report
    "notices_console:fraud_review",  # fraud.review: review_fraud_report
    "repair:act",  # orders.apply: the move's capability
    "repair:lend",  # loaners.lend: lend_loaner
    "repair:loaner_return",  # loaners.return_loaner: lend_loaner
    "repair:swap",  # swap.swap: swap_terminal with step-up
}
CONSOLE_PREFIXES = ("console/",)


def console_routes() -> list[tuple[str, str, list[str]]]:
    """(name, route, parameter names) of every route under /console/."""
    from django.urls import URLResolver, get_resolver

    found: list[tuple[str, str, list[str]]] = []

    def walk(patterns: Any, prefix: str, ns: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), ns + (f"{p.namespace}:" if p.namespace else ""))
            elif (prefix + str(p.pattern)).startswith(CONSOLE_PREFIXES):
                found.append((ns + (p.name or ""), prefix + str(p.pattern), list(p.pattern.converters)))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_console_route_is_a_listed_page_or_action() -> None:
    names = {name for name, _route, _params in console_routes()}
    missing = sorted(names - set(CONSOLE_PAGES) - CONSOLE_ACTIONS)
    assert not missing, (
        f"Console routes not in the role matrix: {missing}. Add each to CONSOLE_PAGES (a page, with the "
        "capability its view or service checks) or CONSOLE_ACTIONS (POST only, calling a walked service) "
        "in tests/accounts/test_roles.py, and to docs/roles.md."
    )
    assert not (set(CONSOLE_PAGES) | CONSOLE_ACTIONS) - names, "the table names routes that are gone"


def _page_denied(role: str, response: Any) -> bool:
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and "/console/login/" in response["Location"]


@pytest.mark.parametrize("role", WALKED)
def test_every_console_page_answers_each_role_as_the_matrix_says(role: str) -> None:
    from django.urls import reverse

    w = _world()
    w["document_id"] = 0
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role == "merchant":
        client.force_login(w["owner"])
    elif role != "anonymous":
        client.force_login(b.user(role=role))
    wrong = []
    for name, _route, params in console_routes():
        if name not in CONSOLE_PAGES:
            continue
        kwargs = {p: w[p] for p in params}
        url = reverse(name, kwargs=kwargs)
        with transaction.atomic():
            response = client.get(url)
            transaction.set_rollback(True)
        assert response.status_code < 500, (name, role)
        want = CONSOLE_PAGES[name]
        allowed = (
            role != "anonymous"
            and role != "merchant"
            and (want.staff or any(c in ROLES[role][1] for c in want.caps))
        )
        CHECKS.append(1)
        if allowed == _page_denied(role, response) or (allowed and response.status_code == 405):
            wrong.append(
                f"{name} {url}: expected {'allowed' if allowed else 'denied'}, got {response.status_code}"
            )
    assert not wrong, f"role {role}:\n" + "\n".join(wrong)


# --- the matrix in the docs is the matrix in the code -------------------------------------------------
def _documented_matrix() -> dict[str, set[str]]:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "roles.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    header = next(line for line in text.splitlines() if line.startswith("| capability |"))
    roles = [c.strip() for c in header.strip("|").split("|")[1:]]
    held: dict[str, set[str]] = {role: set() for role in roles}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        capability = cells[0].strip("`")
        for role, cell in zip(roles, cells[1:], strict=True):
            if cell == "✓":
                held[role].add(capability)
    return held


def test_docs_roles_md_is_the_role_matrix_in_code() -> None:
    """A capability given to a role in code and not in docs/roles.md (or the reverse) fails here: the
    document, with its reasons, is the expected table the walk above checks the code against."""
    documented = _documented_matrix()
    assert set(documented) == set(ROLES)
    for role, (_label, caps) in ROLES.items():
        assert set(caps) == documented[role], (
            f"{role}: code grants {sorted(set(caps) - documented[role])} beyond docs/roles.md, "
            f"and lacks {sorted(documented[role] - set(caps))}"
        )


@pytest.mark.parametrize(
    ("role", "capability"),
    [
        ("finance", "work_case"),  # finance stopped a case's terminals and completed cases
        ("custodian", "activate_terminal"),  # custodians activated terminals
        ("admin", "destroy_keys"),  # the administrator counted as a key custodian
        ("technician", "read_case_documents"),  # technician, warehouse and custodians downloaded papers
        ("warehouse", "read_case_documents"),
        ("custodian", "read_case_documents"),
        ("risk", "file_case"),  # risk and finance answered disputes as the merchant
        ("finance", "file_case"),
    ],
)
def test_holes_found_stay_closed(role: str, capability: str) -> None:
    assert capability not in ROLES[role][1]
