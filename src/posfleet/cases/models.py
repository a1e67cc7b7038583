"""Cases (工单): one model for every merchant request, with its materials, comments, returns, money and export.

Only the services in this app write `Case.state` and `version` (optimistic concurrency: an UPDATE that
matches the version the caller read). Files (materials, exports) live under `settings.VAR_DIR/files`,
outside the web root, under generated names; the rows keep the original name and the SHA-256.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.cases.choices import (
    OPEN_STATES,
    Carrier,
    CaseChannel,
    CaseKind,
    CaseState,
    CommentKind,
    ExportState,
    MaterialType,
    SettlementState,
    required_materials,
    sla_hours,
)
from posfleet.registry.choices import Condition
from posfleet.registry.models import Merchant, Terminal, TerminalModel


def files_dir(*parts: str) -> Path:
    """A directory under VAR_DIR/files (created on demand); read at call time so tests can move it."""
    path = Path(settings.VAR_DIR) / "files"
    for part in parts:
        path = path / part
    path.mkdir(parents=True, exist_ok=True)
    return path


class Case(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    reason = models.CharField(_("reason"), max_length=40)
    note = models.TextField(_("note"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=CaseChannel.choices)
    terminals: models.ManyToManyField[Terminal, CaseTerminal] = models.ManyToManyField(
        Terminal, through="CaseTerminal", related_name="cases"
    )
    # An appeal: the hold the merchant appeals against (one open appeal per hold, see Meta).
    hold = models.ForeignKey(
        "lifecycle.Hold", on_delete=models.PROTECT, null=True, blank=True, related_name="appeals"
    )
    starts_at = models.DateTimeField(_("expected start"), null=True, blank=True)
    ends_at = models.DateTimeField(_("expected end"), null=True, blank=True)
    planned_date = models.DateField(_("planned date"), null=True, blank=True)
    effective_at = models.DateTimeField(_("effective at"), null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    follow_up_note = models.TextField(_("follow-up plan"), blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=CaseState.choices, default=CaseState.SUBMITTED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("decision reason"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    statement_issued_at = models.DateTimeField(null=True, blank=True)
    statement_notice_id = models.BigIntegerField(null=True, blank=True)
    letter_notice_id = models.BigIntegerField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("case")
        indexes = [
            models.Index(fields=["kind", "state", "id"], name="case_queue_idx"),
            models.Index(fields=["merchant", "id"], name="case_merchant_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["hold"],
                condition=models.Q(kind=CaseKind.APPEAL, state__in=OPEN_STATES),
                name="case_one_open_appeal_per_hold",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"

    @property
    def is_stop(self) -> bool:
        """Deactivation and closure: the kinds that run through the checklist."""
        return self.kind in (CaseKind.DEACTIVATION, CaseKind.CLOSURE)

    @property
    def required_materials(self) -> tuple[str, ...]:
        """What this case asks for, by its kind and its merchant's (for a new merchant: the applicant's)."""
        return required_materials(self.kind, self.merchant.kind)

    def missing_materials(self) -> list[str]:
        have = set(self.materials.values_list("type", flat=True))
        return [m for m in self.required_materials if m not in have]

    @property
    def age(self) -> timedelta:
        end = self.completed_at or timezone.now()
        return end - self.created_at

    @property
    def sla_hours(self) -> int:
        return sla_hours(self.kind)

    @property
    def overdue(self) -> bool:
        return self.state in OPEN_STATES and self.age > timedelta(hours=self.sla_hours)


class CaseTerminal(models.Model):
    """A terminal in the case's scope; `hold_id` is the suspension hold the approval placed on it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="scope")
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+")
    hold_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "terminal"], name="case_terminal_once")]


class Application(models.Model):
    """What an application asks for and the new terminal's way to the merchant.

    The applicant is the case's merchant: an existing one, or one this application created in state
    `applying` (`new_merchant`), which the approval makes active. The terminal is allocated from stock
    after approval, shipped (carrier, tracking number, dates) and activated where it is installed.
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="application")
    new_merchant = models.BooleanField(default=False)
    install_address = models.CharField(_("installation address"), max_length=300)
    terminal_model = models.ForeignKey(
        TerminalModel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    allocated_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=20, choices=Carrier.choices, blank=True)
    tracking_no = models.CharField(_("tracking number"), max_length=40, blank=True)
    shipped_on = models.DateField(_("shipped on"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("application")

    def __str__(self) -> str:
        return f"application #{self.case_id}"


class Material(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="materials")
    type = models.CharField(_("type"), max_length=30, choices=MaterialType.choices)
    stored_name = models.CharField(max_length=80, unique=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_by_name = models.CharField(max_length=150, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("material")

    def __str__(self) -> str:
        return f"{self.type} {self.original_name}"

    @property
    def path(self) -> Path:
        return files_dir("materials") / self.stored_name


class CaseComment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=10, choices=CommentKind.choices, default=CommentKind.COMMENT)
    body = models.TextField()
    visible_to_merchant = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]


class ReturnItem(models.Model):
    """One lent item received back: `terminal:<TID>` or `accessory:<id>`, inspected once."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="returns")
    item = models.CharField(max_length=40)
    item_kind = models.CharField(max_length=12, help_text=_("terminal or accessory kind (price list key)"))
    condition = models.CharField(max_length=8, choices=Condition.choices)
    charge_fen = models.BigIntegerField(default=0)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inspected_by_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "item"], name="return_item_once")]


class CaseSettlement(models.Model):
    """The money side of a stop case: what was deducted from the deposit and what was refunded."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="settlement")
    penalty_fen = models.BigIntegerField(default=0)
    damage_fen = models.BigIntegerField(default=0)
    unpaid_fen = models.BigIntegerField(default=0)
    deposit_fen = models.BigIntegerField(default=0)
    applied_fen = models.BigIntegerField(default=0)
    refund_fen = models.BigIntegerField(default=0)
    shortfall_fen = models.BigIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    proof = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=SettlementState.choices)
    settled_by_name = models.CharField(max_length=150, blank=True)
    settled_at = models.DateTimeField(default=timezone.now)

    def as_dict(self) -> dict[str, object]:
        return {
            "penalty_fen": self.penalty_fen,
            "damage_fen": self.damage_fen,
            "unpaid_fen": self.unpaid_fen,
            "deposit_fen": self.deposit_fen,
            "applied_fen": self.applied_fen,
            "refund_fen": self.refund_fen,
            "shortfall_fen": self.shortfall_fen,
            "paid_fen": self.paid_fen,
            "proof": self.proof,
            "state": self.state,
        }


class CaseExport(models.Model):
    """The merchant's transaction history as CSV, built by the worker (one per case; rebuilt on request)."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="export")
    state = models.CharField(max_length=10, choices=ExportState.choices, default=ExportState.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("percent"))
    stored_name = models.CharField(max_length=80, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The job building it (the latest request's): its attempts, heartbeat and error.
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    @property
    def path(self) -> Path | None:
        return files_dir("exports") / self.stored_name if self.stored_name else None

    @property
    def filename(self) -> str:
        return f"case-{self.case_id}-transactions.csv"

    @property
    def percent(self) -> int:
        """How far the build is: its running job's progress (the job's heartbeat records it); a built
        export is whole, whatever the last progress written was."""
        if self.state == ExportState.DONE:
            return 100
        if self.state == ExportState.RUNNING and self.job is not None:
            return self.job.percent
        return int(self.progress)

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "progress": self.percent,
            "sha256": self.sha256,
            "rows": self.rows,
            "error": self.error,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "job": self.job.as_dict() if self.job is not None else None,
        }


__all__ = [
    "Application",
    "Case",
    "CaseComment",
    "CaseExport",
    "CaseSettlement",
    "CaseTerminal",
    "Condition",
    "Material",
    "ReturnItem",
]
