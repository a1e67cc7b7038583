"""`posfleet import_transactions FILE.csv`: streaming, bad rows by line, re-import changes nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from posfleet.money import ledger
from posfleet.money.models import Journal, Posting, Transaction
from tests import builders

pytestmark = pytest.mark.django_db

HEADER = "id,tid,channel,type,amount_fen,occurred_at\n"


def run(path, *args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_transactions", str(path), "--no-progress", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def test_import_good_and_bad_rows(tmp_path):
    t = builders.terminal()
    path = tmp_path / "clearing.csv"
    path.write_text(
        HEADER
        + f"F1,{t.tid},credit,sale,1000000,2026-11-20T10:00:00+08:00\n"
        + f"F2,{t.tid},wechat,sale,1000000,2026-11-20T10:01:00+08:00\n"
        + f"F3,{t.tid},debit,sale,10.5,2026-11-20T10:02:00+08:00\n"
        + "F4,NOSUCH01,credit,sale,100,2026-11-20T10:03:00+08:00\n"
        + f"F5,{t.tid},credit\n"
        + f"F6,{t.tid},debit,refund,100,not-a-time\n"
        + f"F7,{t.tid},debit,sale,1000000,2026-11-20T10:04:00+08:00\n",
        encoding="utf-8",
    )
    errors = tmp_path / "errors.csv"
    code, out, err = run(path, "--errors", str(errors), "--chunk", "2")
    assert code == 2
    assert "3 created" in out and "4 rejected" in out
    assert "line 4: F3: invalid_amount" in err
    assert "line 5: F4: unknown_terminal" in err
    assert "line 6: F5: malformed_row" in err
    assert "line 7: F6: invalid_time" in err
    assert errors.read_text().count("\n") == 5
    assert sorted(Transaction.objects.values_list("switch_id", "fee_fen")) == [
        ("F1", 6000),
        ("F2", 3800),
        ("F7", 2500),
    ]
    assert ledger.balances(t.merchant_id).unsettled_fen == 3_000_000 - 12_300

    journals, postings = Journal.objects.count(), Posting.objects.count()
    code, out, _err = run(path)
    assert "0 created, 3 duplicate" in out
    assert (Journal.objects.count(), Posting.objects.count()) == (journals, postings)
    assert ledger.balances(t.merchant_id).unsettled_fen == 3_000_000 - 12_300


def test_clean_file_exits_zero_and_accepts_switch_id_header(tmp_path):
    t = builders.terminal()
    path = tmp_path / "c.csv"
    path.write_text(
        "switch_id,tid,channel,type,amount_fen,occurred_at\n"
        + f"G1,{t.tid},alipay,sale,500,2026-11-20T10:00:00+08:00\n"
    )
    code, out, _ = run(path)
    assert code == 0 and "1 created" in out


def test_missing_column(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,tid,channel\nX,Y,Z\n")
    code, _out, err = run(path)
    assert code == 1 and "amount_fen" in err


def test_missing_file(tmp_path):
    code, _out, err = run(tmp_path / "nope.csv")
    assert code == 1 and "No such file" in err
