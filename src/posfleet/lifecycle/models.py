"""Holds (停机/冻结) on a terminal or a merchant, and counted refusals (DESIGN.md §3).

A hold is in force at time t iff starts_at <= t < ends_at (open-ended if null) and it was not
released before t. A hold stands on one terminal, on a merchant (all its terminals), or, placed on
many terminals at once (`bulk`), on each terminal linked to it by a `HoldTerminal` row, until it is
released for that terminal alone or as a whole. `closed` only records that the worker has written the hold's end into the audit log;
the answer never reads it, so a late worker cannot keep a terminal stopped or running.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.registry.models import Merchant, Terminal


class HoldKind(models.TextChoices):
    MERCHANT_SUSPENSION = "merchant_suspension", _("Merchant suspension")
    MAINTENANCE = "maintenance", _("Maintenance")
    RISK_FREEZE = "risk_freeze", _("Risk freeze")
    COMPLIANCE = "compliance", _("Compliance")
    FAULT = "fault", _("Fault")


SENSITIVE_HOLD_KINDS = frozenset({HoldKind.RISK_FREEZE, HoldKind.COMPLIANCE})


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
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    placed_at = models.DateTimeField(default=timezone.now)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    release_reason = models.TextField(blank=True)
    closed = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)

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

    def in_force(self, at: object = None) -> bool:
        """In force at `at` (now), for the terminal it was read for (see `released_here_at`)."""
        now = at or timezone.now()
        released = self.released_here_at
        if released is not None and released <= now:
            return False
        if self.starts_at > now:  # type: ignore[operator]
            return False
        return self.ends_at is None or now < self.ends_at  # type: ignore[operator]

    @property
    def target_label(self) -> str:
        if self.bulk:
            return "terminals"
        return f"merchant:{self.merchant_id}" if self.on_merchant else f"terminal:{self.terminal_id}"


class HoldTerminal(models.Model):
    """A terminal under a bulk hold, and when the hold was released for it alone (null: not).

    A hold on 100,000 terminals writes 100,000 of these instead of 100,000 holds: two ids and a
    null, a fifth of the bytes of a hold row, so placing it costs a fraction (issue 2 (b)). The
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


def terminal_holds_q(terminal_id: int) -> Q:
    """Holds placed on one terminal: its own and the bulk holds it is linked to."""
    return Q(terminal_id=terminal_id) | Q(bulk=True, links__terminal_id=terminal_id)


def not_ended_on(kind: str, tids: Any, now: Any) -> tuple[Any, Any]:
    """Holds of `kind` placed on these TIDs that have not ended (in force or scheduled): the
    terminals' own holds (a Hold queryset) and the links of bulk holds still standing on them
    (a HoldTerminal queryset)."""
    own = Hold.objects.filter(
        kind=kind, on_merchant=False, terminal__tid__in=tids, released_at__isnull=True
    ).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    links = HoldTerminal.objects.filter(
        hold__kind=kind, hold__released_at__isnull=True, released_at__isnull=True, terminal__tid__in=tids
    ).filter(Q(hold__ends_at__isnull=True) | Q(hold__ends_at__gt=now))
    return own, links


def for_terminal(holds: Any, terminal_id: int) -> Any:
    """`holds` (a Hold queryset) with `link_released_at`: when each was released for this terminal
    alone (bulk holds; null otherwise), which `Hold.in_force` takes into account."""
    link = HoldTerminal.objects.filter(hold_id=OuterRef("pk"), terminal_id=terminal_id).values("released_at")
    return holds.annotate(link_released_at=Subquery(link[:1]))


def in_force_q(at: object) -> Q:
    return Q(released_at__isnull=True) & Q(starts_at__lte=at) & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))


class RefusedAttempt(models.Model):
    """A refused 'may it transact?' from a terminal that is stopped for good or held: for monitoring."""

    tid = models.CharField(max_length=8, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    response_code = models.CharField(max_length=2)
    reasons = models.JSONField(default=list)
