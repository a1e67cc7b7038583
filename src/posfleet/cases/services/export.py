"""The data export of a case: the merchant's whole transaction history as CSV with its SHA-256.

It runs as a job (`cases.export`). `start_export` records the request and enqueues the job in the
same transaction (idempotent: an export being built is not started twice; one whose worker died is
given a new attempt). The job writes the CSV under a temporary name, renames it into place when
complete and stores its checksum in the transaction that marks the job done. A worker killed half-way
leaves the job running until its lease runs out; the next attempt removes the partial file and
builds the export again from the first row: the file is one snapshot, and rows written before the
kill may have been settled since.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from huey.contrib.djhuey import db_task

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.cases.choices import ExportState
from posfleet.cases.models import Case, CaseExport, files_dir
from posfleet.cases.services.common import get_case, portal_merchant_id, require, require_documents
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound
from posfleet.jobs import files, registry, runner
from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job, JobState
from posfleet.jobs.runner import Context
from posfleet.money.models import Transaction
from posfleet.settlement.settled import with_settlement

JOB_KIND = "cases.export"
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
PROGRESS_EVERY = 2000


def start_export(actor: Actor, case_id: int, *, rebuild: bool = False) -> CaseExport:
    """Ask the worker to build the export (the merchant may ask for their own data too).

    An export being built is returned as it is; if its worker died (the lease ran out) or its job
    failed, another attempt is queued; a finished export is built again only with `rebuild`."""
    case = get_case(actor, case_id, for_update=True)
    if portal_merchant_id(actor) is None:
        require(actor, "work_case", "file_case")
    export = CaseExport.objects.select_for_update(no_key=True).filter(case=case).first()
    job = (
        Job.objects.select_for_update().filter(pk=export.job_id).first() if export and export.job_id else None
    )
    now = timezone.now()
    if export is not None and job is not None and job.is_open:
        if job.state == JobState.RUNNING and not job.lease_expired(now):
            return export  # a live worker is building it
        jobs.restart(job, now=now)  # stuck, or queued and perhaps never delivered: send it again
        _requested(actor, case, export, job, now)
        return export
    if export is not None and export.state == ExportState.DONE and not rebuild:
        return export
    if export is None:
        export = CaseExport.objects.create(case=case, requested_at=now)
    job = jobs.enqueue(
        JOB_KIND,
        {"export_id": export.pk},
        actor=actor,
        perm=perm("work_case"),
        object_type="case",
        object_id=str(case.pk),
    )
    export.job = job
    export.save(update_fields=["job"])
    _requested(actor, case, export, job, now)
    return export


def _requested(actor: Actor, case: Case, export: CaseExport, job: Job, now: Any) -> None:
    export.state, export.progress, export.error, export.requested_at = ExportState.PENDING, 0, "", now
    export.finished_at = None
    export.save(update_fields=["state", "progress", "error", "requested_at", "finished_at"])
    record(
        actor,
        Change(
            "case",
            str(case.pk),
            "case.export_requested",
            None,
            {"export_id": export.pk, "job_id": job.pk},
            "export",
        ),
        at=now,
    )


def csv_chunks(merchant_id: int, every: int = PROGRESS_EVERY) -> Iterator[tuple[bytes, int]]:
    """The merchant's history as CSV, `every` rows at a time: (bytes, rows written so far)."""
    # settled_at / settlement_batch_id are computed from the batches (settlement.settled)
    qs = with_settlement(Transaction.objects.filter(merchant_id=merchant_id)).order_by("occurred_at", "id")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
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
        if rows % every == 0:
            yield buffer.getvalue().encode(), rows
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode(), rows


def _leftovers(checkpoint: dict[str, Any]) -> None:
    """Remove what an earlier attempt left: its partial file, or a finished one it never recorded."""
    name = checkpoint.get("file")
    if name:
        final = files_dir("exports") / str(name)
        files.discard(files.partial(final), final)


def _failed(job: Job) -> None:
    _leftovers(job.checkpoint or {})
    CaseExport.objects.filter(pk=job.payload.get("export_id"), job=job).update(
        state=ExportState.FAILED, error=job.error[:500]
    )


@registry.register(JOB_KIND, label=gettext_lazy("Data export"), on_failed=_failed)
def _build(job: Job, ctx: Context) -> dict[str, Any]:
    export_id = int(job.payload["export_id"])
    _leftovers(ctx.checkpoint)
    with transaction.atomic():
        export = CaseExport.objects.select_for_update(no_key=True).filter(pk=export_id).first()
        if export is None or export.job_id != job.pk:
            return {"superseded": True}
        merchant_id = Case.objects.filter(pk=export.case_id).values_list("merchant_id", flat=True).get()
        total = Transaction.objects.filter(merchant_id=merchant_id).count()
        stored = f"{uuid.uuid4().hex}.csv"
        export.state, export.progress, export.error = ExportState.RUNNING, 0, ""
        export.save(update_fields=["state", "progress", "error"])
        ctx.save({"file": stored}, progress=0, total=total)  # names the file before a byte is written
    final = files_dir("exports") / stored
    tmp = files.partial(final)
    digest = hashlib.sha256()
    rows = 0
    try:
        with tmp.open("wb") as out:
            for chunk, rows in csv_chunks(merchant_id):
                out.write(chunk)
                digest.update(chunk)
                ctx.report(rows)  # no write here: this connection is still reading the rows
        files.promote(tmp, final)
        with transaction.atomic():
            export = CaseExport.objects.select_for_update(no_key=True).get(pk=export_id)
            previous = export.path
            now = timezone.now()
            result = {"export_id": export_id, "rows": rows, "sha256": digest.hexdigest()}
            CaseExport.objects.filter(pk=export_id).update(
                state=ExportState.DONE,
                progress=100,
                stored_name=stored,
                sha256=digest.hexdigest(),
                rows=rows,
                finished_at=now,
                error="",
            )
            record(
                Actor.system("worker", name="cases export"),
                Change("case", str(export.case_id), "case.export_done", None, result, "export built"),
                at=now,
            )
            ctx.done(result)
            if previous is not None and previous != final:
                transaction.on_commit(lambda: files.discard(previous))
    except BaseException:  # an error, or the lease lost to another attempt: leave no file behind
        files.discard(tmp, final)
        raise
    return result


def build_export(export_id: int) -> CaseExport | None:
    """Run the export's job in this process, as the worker would (nothing if it is not queued)."""
    export = CaseExport.objects.filter(pk=export_id).first()
    if export is None:
        return None
    if export.job_id is not None:
        runner.run(export.job_id)
    return CaseExport.objects.get(pk=export_id)


@db_task(name="cases.build_export")
def build_case_export(export_id: int) -> None:
    """Messages queued before exports became jobs still name this task."""
    build_export(export_id)


def export_file(actor: Actor, case_id: int) -> tuple[CaseExport, bytes]:
    """The finished CSV (409 while it is being built, 404 if never requested): the merchant's whole
    transaction history, so a case document (read_case_documents or the merchant itself)."""
    case = get_case(actor, case_id)
    require_documents(actor, case)
    export = CaseExport.objects.filter(case=case).first()
    if export is None:
        raise NotFound(_("No export was requested for this case."))
    if export.state != ExportState.DONE or export.path is None:
        raise Conflict(
            _("The export is not ready (%(state)s, %(p)d%%).")
            % {"state": export.get_state_display(), "p": export.percent},
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
