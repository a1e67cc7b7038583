"""The data export of a case: the merchant's whole transaction history as CSV with its SHA-256.

`start_export` records the request and enqueues the worker job after commit (idempotent: a pending or
running export is not started twice); `build_export` streams the rows to a file under VAR_DIR,
reporting progress, and stores the checksum the merchant can check the download against.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from posfleet.audit.services import Change, record
from posfleet.cases.choices import ExportState
from posfleet.cases.models import Case, CaseExport, files_dir
from posfleet.cases.services.common import get_case, log, portal_merchant_id, require
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound
from posfleet.money.models import Transaction
from posfleet.settlement.settled import with_settlement

COLUMNS = (
    "switch_id",
    "tid",
    "channel",
    "type",
    "amount_fen",
    "fee_fen",
    "net_fen",
    "rate_plan_code",
    "occurred_at",
    "settled_at",
    "settlement_batch_id",
    "flagged",
)
PROGRESS_EVERY = 500


def start_export(actor: Actor, case_id: int, *, rebuild: bool = False) -> CaseExport:
    """Ask the worker to build the export (the merchant may ask for their own data too)."""
    case = get_case(actor, case_id, for_update=True)
    if portal_merchant_id(actor) is None:
        require(actor, "work_case", "file_case")
    export = CaseExport.objects.select_for_update(no_key=True).filter(case=case).first()
    if export is not None and export.state in (ExportState.PENDING, ExportState.RUNNING):
        return export
    if export is not None and export.state == ExportState.DONE and not rebuild:
        return export
    now = timezone.now()
    if export is None:
        export = CaseExport.objects.create(case=case, requested_at=now)
    else:
        export.state, export.progress, export.error, export.requested_at = ExportState.PENDING, 0, "", now
        export.finished_at = None
        export.save(update_fields=["state", "progress", "error", "requested_at", "finished_at"])
    record(
        actor, Change("case", str(case.pk), "case.export_requested", None, {"export_id": export.pk}, "export")
    )
    export_id = export.pk

    transaction.on_commit(lambda: build_case_export(export_id))
    return export


@db_task(name="cases.build_export")
def build_case_export(export_id: int) -> None:
    build_export(export_id)


def build_export(export_id: int) -> CaseExport | None:
    """Worker: write the CSV and its checksum. Runs outside a request; each step commits on its own."""
    with transaction.atomic():
        export = CaseExport.objects.select_for_update(no_key=True).filter(pk=export_id).first()
        if export is None or export.state not in (ExportState.PENDING, ExportState.FAILED):
            return export
        export.state, export.progress = ExportState.RUNNING, 0
        export.save(update_fields=["state", "progress"])
    case = Case.objects.get(pk=export.case_id)
    try:
        base = Transaction.objects.filter(merchant_id=case.merchant_id)
        total = base.count()
        # settled_at / settlement_batch_id are computed from the batches (settlement.settled)
        qs = with_settlement(base).order_by("occurred_at", "id")
        stored = f"{uuid.uuid4().hex}.csv"
        digest = hashlib.sha256()
        rows = 0

        path = files_dir("exports") / stored
        with path.open("wb") as out:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(COLUMNS)
            for tx in qs.iterator(chunk_size=2000):
                settled_at = getattr(tx, "settled_at")  # noqa: B009 (annotated by with_settlement)
                writer.writerow(
                    [
                        tx.switch_id,
                        tx.tid,
                        tx.channel,
                        tx.type,
                        tx.amount_fen,
                        tx.fee_fen,
                        tx.net_fen,
                        tx.rate_plan_code,
                        tx.occurred_at.isoformat(),
                        settled_at.isoformat() if settled_at else "",
                        getattr(tx, "settlement_batch_id") or "",  # noqa: B009
                        "1" if tx.flagged else "0",
                    ]
                )
                rows += 1
                if rows % PROGRESS_EVERY == 0:
                    chunk = buffer.getvalue().encode()
                    out.write(chunk)
                    digest.update(chunk)
                    buffer.seek(0)
                    buffer.truncate()
                    CaseExport.objects.filter(pk=export_id).update(
                        progress=min(99, rows * 100 // max(total, 1))
                    )
            chunk = buffer.getvalue().encode()
            out.write(chunk)
            digest.update(chunk)
    except Exception as exc:  # the failure is shown on the checklist; the job can be started again
        log.exception("case export failed")
        CaseExport.objects.filter(pk=export_id).update(state=ExportState.FAILED, error=str(exc)[:500])
        raise
    with transaction.atomic():
        now = timezone.now()
        CaseExport.objects.filter(pk=export_id).update(
            state=ExportState.DONE,
            progress=100,
            stored_name=stored,
            sha256=digest.hexdigest(),
            rows=rows,
            finished_at=now,
        )
        record(
            Actor.system("worker", name="cases export"),
            Change(
                "case",
                str(case.pk),
                "case.export_done",
                None,
                {"export_id": export_id, "rows": rows, "sha256": digest.hexdigest()},
                "export built",
            ),
            at=now,
        )
    return CaseExport.objects.get(pk=export_id)


def export_file(actor: Actor, case_id: int) -> tuple[CaseExport, bytes]:
    """The finished CSV (409 while it is being built, 404 if never requested)."""
    case = get_case(actor, case_id)
    export = CaseExport.objects.filter(case=case).first()
    if export is None:
        raise NotFound(_("No export was requested for this case."))
    if export.state != ExportState.DONE or export.path is None:
        raise Conflict(
            _("The export is not ready (%(state)s, %(p)d%%).")
            % {"state": export.state, "p": export.progress},
            code="export_not_ready",
            details=export.as_dict(),
        )
    try:
        data = export.path.read_bytes()
    except FileNotFoundError:
        raise NotFound(_("The export file is missing; export again.")) from None
    if hashlib.sha256(data).hexdigest() != export.sha256:
        raise Conflict(_("The export file does not match its checksum; export again."), code="export_corrupt")
    return export, data
