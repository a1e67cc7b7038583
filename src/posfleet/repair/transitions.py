"""The repair order lifecycle as data: (state, action) → new state and the capability it needs.

`services.orders.apply()` is the only reader of this table and the only writer of `RepairOrder.state`.
`qc` is one action for callers; its results pick the row (`qc_pass` to the check, `qc_fail` back to
repairing), so a failed check can never reach `finish`.
"""

from __future__ import annotations

from typing import Literal, get_args

from django.utils.translation import gettext_lazy as _

from posfleet.core.transitions import Transition
from posfleet.repair.choices import RepairState as S

_OPEN_BEFORE_QC = (S.DIAGNOSING, S.AWAITING_QUOTE, S.QUOTE_ACCEPTED, S.AWAITING_PARTS, S.REPAIRING, S.QC)

TABLE: tuple[Transition[S], ...] = (
    Transition("diagnose", S.REPORTED, S.DIAGNOSING, "work_repair", _("Diagnose")),
    Transition("diagnose", S.DIAGNOSING, S.DIAGNOSING, "work_repair", _("Diagnose")),
    Transition("remote_fix", S.DIAGNOSING, S.REMOTE_FIX, "work_repair", _("Fixed remotely")),
    Transition("quote", S.DIAGNOSING, S.AWAITING_QUOTE, "work_repair", _("Add a quote")),
    Transition("quote", S.AWAITING_QUOTE, S.AWAITING_QUOTE, "work_repair", _("Add a quote")),
    # The merchant accepts (its own order only); staff choose a quote only under warranty (no charge).
    Transition("accept_quote", S.AWAITING_QUOTE, S.QUOTE_ACCEPTED, "", _("Accept the quote")),
    Transition("decline_quote", S.AWAITING_QUOTE, S.AWAITING_QUOTE, "", _("Decline the quote")),
    Transition("await_parts", S.DIAGNOSING, S.AWAITING_PARTS, "work_repair", _("Wait for parts")),
    Transition("await_parts", S.QUOTE_ACCEPTED, S.AWAITING_PARTS, "work_repair", _("Wait for parts")),
    Transition("start", S.DIAGNOSING, S.REPAIRING, "work_repair", _("Start the repair")),
    Transition("start", S.QUOTE_ACCEPTED, S.REPAIRING, "work_repair", _("Start the repair")),
    Transition("start", S.AWAITING_PARTS, S.REPAIRING, "work_repair", _("Start the repair")),
    Transition("step", S.REPAIRING, S.REPAIRING, "work_repair", _("Record a step")),
    Transition("qc_pass", S.REPAIRING, S.QC, "work_repair", _("Quality check")),
    Transition("qc_fail", S.REPAIRING, S.REPAIRING, "work_repair", _("Quality check")),
    Transition("finish", S.QC, S.DONE, "work_repair", _("Finish")),
    *(
        Transition("unrepairable", s, S.UNREPAIRABLE, "work_repair", _("Unrepairable"))
        for s in _OPEN_BEFORE_QC
    ),
    *(
        Transition("cancel", s, S.CANCELLED, "work_repair", _("Cancel"))
        for s in (S.REPORTED, *_OPEN_BEFORE_QC)
    ),
)

# What callers name (the API's {action}); `qc` stands for qc_pass / qc_fail.
Action = Literal[
    "diagnose",
    "remote_fix",
    "quote",
    "accept_quote",
    "decline_quote",
    "await_parts",
    "start",
    "step",
    "qc",
    "finish",
    "unrepairable",
    "cancel",
]
ACTIONS: tuple[str, ...] = get_args(Action)
_INDEX: dict[tuple[str, str], Transition[S]] = {(t.source.value, t.action): t for t in TABLE}


def find(state: str, action: str) -> Transition[S] | None:
    return _INDEX.get((state, action))


def available(state: str) -> list[str]:
    """The caller-facing actions open from `state`, in table order."""
    names = []
    for t in TABLE:
        if t.source == state:
            name = "qc" if t.action.startswith("qc_") else t.action
            if name not in names:
                names.append(name)
    return names


def label(action: str) -> str:
    for t in TABLE:
        if t.action == action or (action == "qc" and t.action == "qc_pass"):
            return str(t.label)
    return action
