"""Roles (DESIGN.md §2) as Django groups, and what each may do.

Permissions are codenames on `accounts.Capability`; services check them as `accounts.<codename>`.
The groups are (re)synchronised after every migrate, so a fresh database and the test database get them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

HOLD_KINDS = ("merchant_suspension", "maintenance", "risk_freeze", "compliance", "fault")

PERMISSIONS: dict[str, Any] = {
    "view_fleet": _("View merchants, terminals and holds"),
    "manage_merchant": _("Create and edit merchants"),
    "register_terminal": _("Register and import terminals"),
    "allocate_terminal": _("Allocate terminals to merchants"),
    "ship_terminal": _("Ship terminals to merchants and record their delivery"),
    "activate_terminal": _("Activate terminals"),
    "deactivate_terminal": _("Deactivate terminals"),
    "repair_terminal": _("Send terminals to repair and back"),
    "receive_return": _("Receive, inspect, retire and refurbish returned terminals"),
    "view_audit": _("Read the audit log"),
    **{f"hold_{kind}": _("Place and release %(kind)s holds") % {"kind": kind} for kind in HOLD_KINDS},
    # money
    "view_money": _("View transactions, settlements, balances and disputes"),
    "ingest_transactions": _("Ingest transactions and clearing files"),
    "manage_rate_plan": _("Manage rate plans and change merchants' plans"),
    "run_settlement": _("Run daily settlement"),
    "manage_dispute": _("Open and resolve disputes"),
    "post_charge": _("Post fees, penalties, deposits and refunds"),
    # cases
    "file_case": _("File cases for merchants and record their answers on their behalf"),
    "read_case_documents": _("Read case materials (ID and licence copies), letters and evidence archives"),
    "review_case": _("Approve, reject or ask for materials"),
    "work_case": _("Carry out approved cases and complete them"),
    "inspect_return": _("Receive and inspect returned equipment"),
    "settle_case": _("Settle penalties and refund deposits of cases"),
    # keys
    "destroy_keys": _("Request and confirm key destruction (dual control)"),
    # notices
    "work_call_task": _("Phone merchants about notices and record the outcome"),
    "review_fraud_report": _("Review reports of suspicious calls and SMS"),
    "manage_webhooks": _("Register, disable and replay webhooks"),
    "retire_model": _("Retire a terminal model by policy"),
    # repair
    "report_fault": _("Report faults for merchants"),
    "work_repair": _("Diagnose, quote, repair and quality-check repair orders"),
    "lend_loaner": _("Lend loaner terminals and receive them back"),
    "swap_terminal": _("Swap a merchant's terminal for a device from stock"),
}

# Key custody is bound to the custodian role: only its members use it (a superuser too needs the role).
CUSTODY = ("destroy_keys",)

# Who holds what, and why: docs/roles.md. tests/accounts/test_roles.py walks every role over every
# API operation and console page against this map.
ROLES: dict[str, tuple[Any, tuple[str, ...]]] = {
    # Not a key custodian (separation of duties): dual control needs two people holding that role.
    "admin": (_("Administrator"), tuple(c for c in PERMISSIONS if c not in CUSTODY)),
    "agent": (
        _("Service agent"),
        (
            "view_fleet",
            "manage_merchant",
            "hold_merchant_suspension",
            "file_case",
            "read_case_documents",
            "view_money",
            "work_call_task",
            "report_fault",
        ),
    ),
    "reviewer": (
        _("Reviewer"),
        (
            "view_fleet",
            "view_audit",
            "hold_merchant_suspension",
            "review_case",
            "work_case",
            "read_case_documents",
            "view_money",
        ),
    ),
    "risk": (
        _("Risk officer"),
        (
            "view_fleet",
            "view_audit",
            "hold_risk_freeze",
            "hold_compliance",
            "deactivate_terminal",
            "read_case_documents",
            "view_money",
            "manage_dispute",
            "review_fraud_report",
            "work_call_task",
        ),
    ),
    "technician": (
        _("Technician"),
        (
            "view_fleet",
            "repair_terminal",
            "activate_terminal",
            "hold_fault",
            "hold_maintenance",
            "report_fault",
            "work_repair",
            "swap_terminal",
        ),
    ),
    "warehouse": (
        _("Warehouse"),
        (
            "view_fleet",
            "register_terminal",
            "allocate_terminal",
            "ship_terminal",
            "receive_return",
            "inspect_return",
            "lend_loaner",
        ),
    ),
    "finance": (
        _("Finance"),
        (
            "view_fleet",
            "view_audit",
            "view_money",
            "ingest_transactions",
            "manage_rate_plan",
            "run_settlement",
            "manage_dispute",
            "post_charge",
            "settle_case",
            "read_case_documents",
        ),
    ),
    "custodian": (_("Key custodian"), ("view_fleet", "destroy_keys")),
}


def perm(codename: str) -> str:
    return f"accounts.{codename}"


def has_role(user: Any, role: str) -> bool:
    """Whether `user` is a member of the role's group (a superuser is not, unless given it)."""
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return False
    return role in role_names(user)


def is_custodian(user: Any) -> bool:
    """Holds key custody through a role group (the custodian role): never by a direct grant, and a
    superuser only as a member of the custodian role. Reads Django's cached group permissions."""
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return False
    if user.is_superuser:
        return has_role(user, "custodian")
    return perm("destroy_keys") in user.get_group_permissions()


def capabilities_of(role: str) -> frozenset[str]:
    return frozenset(ROLES[role][1])


def role_names(user: Any) -> frozenset[str]:
    """The user's role groups, read once per user object (a request's user, an actor's user)."""
    if user is None or not getattr(user, "pk", None):
        return frozenset()
    cached = getattr(user, "_posfleet_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._posfleet_roles = cached
    return frozenset(cached)


def primary_role(user: Any) -> str:
    """The role recorded on audit events: the user's first role group, or 'superuser'."""
    if user is None:
        return ""
    for name in sorted(role_names(user)):
        if name in ROLES:
            return name
    return "superuser" if getattr(user, "is_superuser", False) else ""


def sync_groups(**_: Any) -> None:
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from posfleet.accounts.models import Capability

    ct = ContentType.objects.get_for_model(Capability, for_concrete_model=False)
    perms = {}
    for codename, label in PERMISSIONS.items():
        p, _created = Permission.objects.get_or_create(
            content_type=ct, codename=codename, defaults={"name": str(label)[:255]}
        )
        perms[codename] = p
    for name, (_label, codenames) in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set([perms[c] for c in codenames])
