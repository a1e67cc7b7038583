"""`posfleet import_terminals`: all or nothing, --good-only, per-line report, exit codes, progress bar."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from posfleet.audit.models import AuditEvent
from posfleet.registry.models import Terminal
from tests import builders as b

pytestmark = pytest.mark.django_db

HEADER = "tid,sn,model,firmware_version,security_patch_level,install_address,accessories\n"
GOOD = "F0000001,SNF1,P2000,1.0,2026-01-01,Beijing,printer;charger\n"
BAD = "F02,SNF2,NOPE,1.0,2026-01-01,,\n"


def _file(tmp_path, *rows):
    path = tmp_path / "receipt.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return str(path)


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_terminals", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_all_good_rows_with_progress_and_audit(tmp_path):
    b.terminal_model("P2000")
    out, err = _run(_file(tmp_path, GOOD, GOOD.replace("F0000001", "F0000002").replace("SNF1", "SNF9")))
    assert "Imported 2 terminals" in out
    assert "2/2" in err  # the progress bar
    assert Terminal.objects.count() == 2
    assert Terminal.objects.get(tid="F0000001").accessories.count() == 2
    assert AuditEvent.objects.filter(action="terminal.register", channel="cli").count() == 2


def test_a_bad_row_imports_nothing_reports_the_line_and_exits_1(tmp_path):
    b.terminal_model("P2000")
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_terminals", _file(tmp_path, GOOD, BAD), stdout=io.StringIO(), stderr=err)
    assert exc.value.returncode == 1
    assert "line 3 (F02)" in err.getvalue()
    assert "tid:" in err.getvalue()
    assert "model:" in err.getvalue()
    assert not Terminal.objects.exists()


def test_good_only_imports_the_rest(tmp_path):
    b.terminal_model("P2000")
    out, err = _run(_file(tmp_path, GOOD, BAD), "--good-only", "--no-progress")
    assert "Imported 1 terminals; 1 rows rejected" in out
    assert "line 3" in err
    assert list(Terminal.objects.values_list("tid", flat=True)) == ["F0000001"]


def test_good_only_with_no_good_row_exits_1(tmp_path):
    b.terminal_model("P2000")
    with pytest.raises(CommandError) as exc:
        _run(_file(tmp_path, BAD), "--good-only")
    assert exc.value.returncode == 1


def test_as_user_records_the_user_and_checks_permission(tmp_path):
    b.terminal_model("P2000")
    b.user("wh1", "warehouse")
    b.user("ag1", "agent")
    _run(_file(tmp_path, GOOD), "--as", "wh1")
    assert AuditEvent.objects.filter(action="terminal.register", actor_name="wh1").count() == 1
    with pytest.raises(CommandError):
        _run(_file(tmp_path, GOOD.replace("F0000001", "F0000005").replace("SNF1", "SNF5")), "--as", "ag1")
    with pytest.raises(CommandError):
        _run(_file(tmp_path, GOOD), "--as", "nobody")


def test_missing_file_and_missing_columns(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        _run(str(tmp_path / "nope.csv"))
    path = tmp_path / "x.csv"
    path.write_text("tid,sn\nA,B\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_terminals", str(path), stdout=io.StringIO(), stderr=err)
    assert "missing columns" in err.getvalue()
