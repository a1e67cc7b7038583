"""The services of cases, one module per use case; import them from here.

filing (file, cancel, assign, comments, queues), materials, review (decisions, suspension and
reactivation, reminders), application (resubmission, allocation, shipping, delivery, activation),
checklist, closure (stop, returns, statement, money, completion), export, archive (timeline, evidence
archive, letters).
"""

from posfleet.cases.services.appeals import appealable_holds
from posfleet.cases.services.appeals import next_steps_of as appeal_next_steps
from posfleet.cases.services.application import (
    activate,
    allocate,
    deliver,
    get_application,
    resubmit,
    ship,
    stock_for,
)
from posfleet.cases.services.archive import archive, case_archive, letter_pdf, timeline
from posfleet.cases.services.checklist import ChecklistItem, blocking, checklist, expected_returns
from posfleet.cases.services.closure import (
    ReturnInput,
    complete,
    issue_final_statement,
    record_payment,
    record_returns,
    settle,
    stop_due,
    stop_terminals,
)
from posfleet.cases.services.common import get_case, portal_merchant_id
from posfleet.cases.services.export import build_export, export_file, start_export
from posfleet.cases.services.filing import add_comment, assign, cancel, cases_for, file_case
from posfleet.cases.services.inputs import CaseInput
from posfleet.cases.services.materials import add_material, get_material, read_material
from posfleet.cases.services.reactivation import Stop, still_stopped, stops_after, suspended_tids
from posfleet.cases.services.review import decide, send_reminder

refund = settle  # the API's name for the money step (POST /cases/{id}/refund)

__all__ = [
    "CaseInput",
    "ChecklistItem",
    "ReturnInput",
    "Stop",
    "activate",
    "add_comment",
    "add_material",
    "allocate",
    "appeal_next_steps",
    "appealable_holds",
    "archive",
    "assign",
    "blocking",
    "build_export",
    "cancel",
    "case_archive",
    "cases_for",
    "checklist",
    "complete",
    "decide",
    "deliver",
    "expected_returns",
    "export_file",
    "file_case",
    "get_application",
    "get_case",
    "get_material",
    "issue_final_statement",
    "letter_pdf",
    "portal_merchant_id",
    "read_material",
    "record_payment",
    "record_returns",
    "refund",
    "resubmit",
    "send_reminder",
    "settle",
    "ship",
    "start_export",
    "still_stopped",
    "stock_for",
    "stop_due",
    "stop_terminals",
    "stops_after",
    "suspended_tids",
    "timeline",
]
