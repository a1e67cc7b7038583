"""Holds (停机/冻结) on a terminal or a merchant, and counted refusals (DESIGN.md §3).

A hold is in force at time t iff starts_at <= t < ends_at (open-ended if null) and it was not
released by t (`in_force_at`, and `HoldQuerySet` for queries). A hold stands on one terminal, on a
merchant (all its terminals), or, placed on many terminals at once (`bulk`), on each terminal linked
to it by a `HoldTerminal` row, until it is released for that terminal alone or as a whole. `closed`
only records that the worker has written the hold's end into the audit log; the answer never reads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.registry.models import Merchant, Terminal

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class HoldKind(models.TextChoices):
    MERCHANT_SUSPENSION = "merchant_suspension", _("Merchant suspension")
    MAINTENANCE = "maintenance", _("Maintenance")
    RISK_FREEZE = "risk_freeze", _("Risk freeze")
    COMPLIANCE = "compliance", _("Compliance")
    FAULT = "fault", _("Fault")


SENSITIVE_HOLD_KINDS = frozenset({HoldKind.RISK_FREEZE, HoldKind.COMPLIANCE})


def in_force_at(starts_at: Any, ends_at: Any, released_at: Any, at: Any) -> bool:
    """The rule: a hold is in force at `at` iff it has started, has not ended and was not released
    by then. Every reader asks this or the SQL of `HoldQuerySet.in_force` that says the same."""
    return starts_at <= at and (ends_at is None or at < ends_at) and (released_at is None or at < released_at)


class HoldQuerySet(models.QuerySet["Hold"]):
    """The hold rule as querysets. Without `at`, "now": a released hold is one with `released_at`
    set, which keeps the open-hold indexes usable; with `at`, a hold released since still counts."""

    def in_force(self, at: datetime | None = None) -> HoldQuerySet:
        """In force at `at` (now)."""
        when = at or timezone.now()
        return self.filter(_not_released_by(at), starts_at__lte=when).filter(_not_ended_by(when))

    def not_ended(self, now: datetime | None = None) -> HoldQuerySet:
        """In force now or scheduled: not released, and its end (if any) still ahead."""
        return self.filter(released_at__isnull=True).filter(_not_ended_by(now or timezone.now()))

    def live_since(self, since: datetime) -> HoldQuerySet:
        """Holds that may be in force at some time after `since`: neither released nor ended by then."""
        return self.filter(_not_released_by(since)).filter(_not_ended_by(since))

    def ended(self, now: datetime | None = None) -> HoldQuerySet:
        """Released, or past its end: the complement of `not_ended`."""
        return self.exclude(Q(released_at__isnull=True) & _not_ended_by(now or timezone.now()))

    def placed_on_terminal(self, terminal_id: int) -> HoldQuerySet:
        """Every hold ever placed on the terminal: its own and the bulk holds it is (or was) under,
        each with `link_released_at` (when a bulk hold was released for this terminal alone), which
        `Hold.in_force` takes into account."""
        link = HoldTerminal.objects.filter(hold_id=OuterRef("pk"), terminal_id=terminal_id)
        return self.filter(
            Q(terminal_id=terminal_id) | Q(bulk=True, links__terminal_id=terminal_id)
        ).annotate(link_released_at=Subquery(link.values("released_at")[:1]))

    def standing_on(self, terminal_id: int, merchant_id: int | None = None) -> HoldQuerySet:
        """Holds that stand on the terminal (its own, bulk holds not released for it) and, given its
        merchant, the merchant's: what `in_force` / `not_ended` narrow to the terminal's answer."""
        target = Q(terminal_id=terminal_id) | Q(
            bulk=True, links__terminal_id=terminal_id, links__released_at__isnull=True
        )
        if merchant_id is not None:
            target |= Q(on_merchant=True, merchant_id=merchant_id)
        return self.filter(target)

    def on_terminals(self, kind: str, tids: Any) -> tuple[HoldQuerySet, models.QuerySet[HoldTerminal]]:
        """Holds of `kind` standing on these TIDs: the terminals' own holds, and the links of bulk
        holds not released for them (a bulk hold ends per terminal)."""
        own = self.filter(kind=kind, on_merchant=False, bulk=False, terminal__tid__in=tids)
        links = HoldTerminal.objects.filter(
            released_at__isnull=True, terminal__tid__in=tids, hold__in=self.filter(kind=kind, bulk=True)
        )
        return own, links


def _not_released_by(at: datetime | None) -> Q:
    released = Q(released_at__isnull=True)
    return released if at is None else released | Q(released_at__gt=at)


def _not_ended_by(at: datetime) -> Q:
    return Q(ends_at__isnull=True) | Q(ends_at__gt=at)


def _person() -> models.ForeignKey[User | None, User | None]:
    """Who placed or released a hold: kept for the record, never searched by, so not indexed."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )


class Hold(models.Model):
    # Indexes are paid on every hold written: the terminal is indexed by hold_terminal_idx below, the
    # people who placed and released a hold are never searched by. (A bulk hold is one row; its
    # terminals are HoldTerminal links.)
    terminal = models.ForeignKey(
        Terminal, on_delete=models.PROTECT, null=True, blank=True, related_name="holds", db_index=False
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="holds"
    )
    on_merchant = models.BooleanField(default=False, help_text=_("Hold on the merchant (all its terminals)"))
    bulk = models.BooleanField(
        default=False, help_text=_("Placed on many terminals at once: its terminals are its links")
    )
    kind = models.CharField(max_length=20, choices=HoldKind.choices)
    reason = models.TextField()
    placed_by = _person()
    placed_at = models.DateTimeField(default=timezone.now)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = _person()
    release_reason = models.TextField(blank=True)
    closed = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("hold")
        indexes = [
            # A terminal's holds (its history) and its open ones (the answer: released_at IS NULL).
            models.Index(fields=["terminal", "released_at"], name="hold_terminal_idx"),
            models.Index(
                fields=["merchant"],
                name="hold_open_merchant_idx",
                condition=Q(released_at__isnull=True, on_merchant=True),
            ),
            # Only holds with an end are ever closed by the worker, which takes them by `ends_at`.
            models.Index(
                fields=["ends_at"],
                name="hold_to_close_idx",
                condition=Q(closed=False, ends_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(on_merchant=True, bulk=False, terminal__isnull=True, merchant__isnull=False)
                | Q(on_merchant=False, bulk=False, terminal__isnull=False)
                | Q(on_merchant=False, bulk=True, terminal__isnull=True),
                name="hold_target_one",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="hold_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def released_here_at(self) -> Any:
        """When it was released as a whole or, for a bulk hold read for one terminal
        (`for_terminal`: `link_released_at`), for that terminal alone; None if neither."""
        return self.released_at or getattr(self, "link_released_at", None)

    def in_force(self, at: datetime | None = None) -> bool:
        """In force at `at` (now), for the terminal it was read for (see `released_here_at`)."""
        return in_force_at(self.starts_at, self.ends_at, self.released_here_at, at or timezone.now())

    @property
    def target_label(self) -> str:
        if self.bulk:
            return "terminals"
        return f"merchant:{self.merchant_id}" if self.on_merchant else f"terminal:{self.terminal_id}"


class HoldTerminal(models.Model):
    """A terminal under a bulk hold, and when the hold was released for it alone (null: not).

    A hold on 100,000 terminals writes 100,000 of these instead of 100,000 holds: two ids and a
    null, a fifth of the bytes of a hold row, so placing it costs a fraction. The
    key leads with the terminal, which is how the answer finds them; the hold index serves
    releasing and ending the hold, which walk its terminals.
    """

    pk = models.CompositePrimaryKey("terminal_id", "hold_id")
    terminal = models.ForeignKey(
        Terminal, on_delete=models.PROTECT, related_name="hold_links", db_index=False
    )
    hold = models.ForeignKey(Hold, on_delete=models.PROTECT, related_name="links", db_index=False)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("terminal under a bulk hold")
        indexes = [models.Index(fields=["hold", "terminal"], name="holdterminal_hold_idx")]

    def __str__(self) -> str:
        return f"hold {self.hold_id} on terminal {self.terminal_id}"


class RefusedAttempt(models.Model):
    """A refused 'may it transact?' from a terminal that is stopped for good or held: for monitoring.

    Written on the answer's path, so it keeps two indexes: (tid, at) for a terminal's refusals since
    its stop, `at` for the monitoring lists; the alert scan walks the primary key."""

    tid = models.CharField(max_length=8)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    response_code = models.CharField(max_length=2)
    reasons = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["tid", "at"], name="refused_tid_at_idx")]


class DeviceAlertReason(models.TextChoices):
    TERMINAL_STOPPED_FOR_GOOD = "terminal_stopped_for_good", _("Terminal stopped for good keeps trying")
    MERCHANT_CLOSED = "merchant_closed", _("Terminal of a closed merchant keeps trying")


class DeviceAlert(models.Model):
    """A terminal that is stopped for good (deactivated, returned, retired, or its merchant closed) and
    still asks to transact: perhaps lost or misused. One per terminal per day, counting its attempts;
    it waits in the risk queue until a risk officer acknowledges it."""

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="device_alerts")
    day = models.DateField(help_text=_("Local (Asia/Shanghai) day of the attempts"))
    reason = models.CharField(max_length=30, choices=DeviceAlertReason.choices)
    attempts = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-day", "-last_at"]
        verbose_name = _("device alert")
        constraints = [models.UniqueConstraint(fields=["terminal", "day"], name="device_alert_once_a_day")]
        indexes = [
            models.Index(
                fields=["-last_at"], name="device_alert_open_idx", condition=Q(acknowledged_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.terminal_id}@{self.day}"


class RefusalScan(models.Model):
    """How far the alert scan has read `RefusedAttempt` (its largest id); one row."""

    last_attempt_id = models.BigIntegerField(default=0)
    scanned_at = models.DateTimeField(null=True, blank=True)
