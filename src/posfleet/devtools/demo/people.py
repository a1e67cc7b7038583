"""Demo logins: one staff user per role (named after it) and portal users for some merchants.

Passwords are documented on purpose (`posfleet-<username>`): this is demo data for a fresh embedded
database, printed by `posfleet demo --print-logins` and listed in the README. Never load it into a
production database (the command refuses when POSFLEET_PRODUCTION is set).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from posfleet.accounts.models import MerchantUser
from posfleet.registry.models import Merchant

# username → (role group, what they do)
STAFF: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "Administrator (superuser): users, roles, reference data, everything"),
    ("agent", "agent", "Service agent (客服): files cases for merchants, merchant suspensions"),
    ("reviewer", "reviewer", "Reviewer (审核): approves or rejects cases"),
    ("risk", "risk", "Risk officer (风控): risk freezes, compliance holds, deactivation"),
    ("technician", "technician", "Technician (维修): repair, activation, fault and maintenance holds"),
    ("warehouse", "warehouse", "Warehouse (仓库): stock, allocation, returns and inspection"),
    ("finance", "finance", "Finance (财务): settlement, charges, deposit refunds"),
    ("custodian1", "custodian", "Key custodian (密钥管理员), first of two"),
    ("custodian2", "custodian", "Key custodian (密钥管理员), second of two"),
)


def password_for(username: str) -> str:
    return f"posfleet-{username}"


def portal_username(merchant_id: int) -> str:
    return f"m{merchant_id}"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    note: str


def create_staff() -> dict[str, User]:
    users: dict[str, User] = {}
    with transaction.atomic():
        for username, role, _note in STAFF:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username,
                    password=password_for(username),
                    email=f"{username}@posfleet.example.cn",
                    is_staff=True,
                    is_superuser=username == "admin",
                )
            user.groups.add(Group.objects.get(name=role))
            users[username] = user
    return users


def create_portal_users(merchants: list[Merchant]) -> list[User]:
    users = []
    with transaction.atomic():
        for m in merchants:
            username = portal_username(m.pk)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username,
                    password=password_for(username),
                    first_name=m.contact_name,
                    email=m.email,
                )
            MerchantUser.objects.get_or_create(user=user, defaults={"merchant": m})
            users.append(user)
    return users


def logins() -> list[Login]:
    """The staff logins, then every portal user that exists (whatever their merchant's state)."""
    rows = [Login(u, password_for(u), role, note) for u, role, note in STAFF]
    links = MerchantUser.objects.select_related("user", "merchant").filter(user__username__regex=r"^m[0-9]+$")
    for link in links.order_by("merchant_id"):
        m = link.merchant
        rows.append(
            Login(
                link.user.username,
                password_for(link.user.username),
                "merchant (portal)",
                f"{m.name} — {m.get_kind_display()}, {m.get_state_display()}",
            )
        )
    return rows


def logins_table(markdown: bool = True) -> str:
    rows = logins()
    if markdown:
        lines = ["| username | password | role | what for |", "|---|---|---|---|"]
        lines += [f"| `{r.username}` | `{r.password}` | {r.role} | {r.note} |" for r in rows]
        return "\n".join(lines)
    width = max(len(r.username) for r in rows)
    pw = max(len(r.password) for r in rows)
    return "\n".join(f"  {r.username:<{width}}  {r.password:<{pw}}  {r.role:<18} {r.note}" for r in rows)
