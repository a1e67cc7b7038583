"""CSV import of terminals (a warehouse receipt): every row validated, every bad row named by line.

All or nothing by default; with `good_only` the valid rows are registered and the bad ones reported.
Columns: tid, sn, model, firmware_version, security_patch_level, install_address, accessories
(accessories separated by `;` or `|`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from posfleet.core.actor import Actor
from posfleet.core.errors import ValidationFailed
from posfleet.registry.models import TerminalModel
from posfleet.registry.services import TerminalInput, _require, batch_problems, register_terminals

REQUIRED = ("tid", "sn", "model", "firmware_version", "security_patch_level")
CHUNK = 5000


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "rejected": self.rejected}


def _rows(lines: Iterable[str]) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(
            _("The CSV header lacks columns: %(cols)s.") % {"cols": ", ".join(missing)},
            details={"line": 1, "missing_columns": missing},
        )
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def parse(text: str) -> list[tuple[int, TerminalInput]]:
    items = []
    for line, row in _rows(io.StringIO(text.lstrip("\ufeff"))):
        raw_acc = row.get("accessories", "").replace("|", ";")
        items.append(
            (
                line,
                TerminalInput(
                    tid=row.get("tid", ""),
                    sn=row.get("sn", ""),
                    model=row.get("model", ""),
                    firmware_version=row.get("firmware_version", ""),
                    security_patch_level=row.get("security_patch_level", ""),
                    install_address=row.get("install_address", ""),
                    accessories=tuple(a.strip() for a in raw_acc.split(";") if a.strip()),
                ),
            )
        )
    return items


def import_terminals(
    actor: Actor, text: str, *, good_only: bool = False, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Validate every row, then register (all, or with `good_only` the valid ones). Runs in the caller's
    transaction, so an error leaves nothing behind."""
    _require(actor, "register_terminal")
    items = parse(text)
    if not items:
        raise ValidationFailed(_("The file has no rows."))
    models_by_name = {m.name: m for m in TerminalModel.objects.all()}
    report = ImportReport()
    good: list[TerminalInput] = []
    problems = batch_problems([item for _line, item in items], models_by_name)
    for (line, item), errors in zip(items, problems, strict=True):
        if errors:
            report.rejected.append({"line": line, "tid": item.tid, "errors": errors})
        else:
            good.append(item)
    if report.rejected and not good_only:
        raise ValidationFailed(
            _("%(n)d rows are not valid; nothing was imported.") % {"n": len(report.rejected)},
            details={"rejected": report.rejected},
        )
    for start in range(0, len(good), CHUNK):
        chunk = good[start : start + CHUNK]
        register_terminals(actor, chunk, reason="CSV import")
        report.imported += len(chunk)
        if progress:
            progress(len(chunk))
    return report
