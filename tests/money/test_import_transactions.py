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


def test_file_rows_are_stored_exactly_as_api_items(tmp_path):
    """The clearing file's fast path and the API's `ingest` store the same columns for the same item:
    +08:00 and other offsets (business day across midnight), a plan history, holds, a deactivated
    terminal, refunds and reversals, padded ids, duplicates in the file."""
    from datetime import UTC, timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from posfleet.lifecycle.models import Hold
    from posfleet.money.ingest import ingest
    from posfleet.money.models import MerchantPlan, RatePlan
    from posfleet.registry.choices import TerminalState
    from tests.money.builders import merchant_on, system

    plain = builders.terminal()
    classic = builders.terminal(merchant_obj=merchant_on("CLASSIC"))
    history = builders.terminal()
    switch = timezone.now() - timedelta(days=2)
    MerchantPlan.objects.filter(merchant=history.merchant).update(effective_from=switch - timedelta(days=9))
    MerchantPlan.objects.create(
        merchant=history.merchant,
        plan=RatePlan.objects.get(code="CLASSIC"),
        effective_from=switch,
        created_by="t",
    )
    held = builders.terminal()
    start = timezone.now() - timedelta(days=3)
    Hold.objects.create(
        terminal=held, kind="fault", reason="t", starts_at=start, ends_at=start + timedelta(hours=2)
    )
    dead = builders.terminal(TerminalState.DEACTIVATED)
    tz8 = timezone.get_fixed_timezone(480)
    base = (
        (timezone.now() - timedelta(days=4))
        .astimezone(tz8)
        .replace(hour=23, minute=59, second=58, microsecond=0)
    )
    cases = [
        (plain.tid, "credit", "sale", "1000000", base.isoformat()),
        (plain.tid, "debit", "refund", "4321", (base + timedelta(seconds=3)).isoformat()),  # next day
        (plain.tid, "wechat", "reversal", "99999", base.astimezone(UTC).isoformat()),
        (plain.tid, "alipay", "sale", "12345", (base + timedelta(hours=1)).replace(tzinfo=None).isoformat()),
        (plain.tid, "credit", "sale", " 777 ", base.isoformat()),
        (classic.tid, "debit", "sale", "10000000", base.isoformat()),
        (history.tid, "wechat", "sale", "1000000", (switch - timedelta(hours=1)).astimezone(tz8).isoformat()),
        (history.tid, "wechat", "sale", "1000000", (switch + timedelta(hours=1)).astimezone(tz8).isoformat()),
        (held.tid, "credit", "sale", "5000", (start + timedelta(hours=1)).astimezone(tz8).isoformat()),
        (held.tid, "credit", "sale", "5000", (start + timedelta(hours=3)).astimezone(tz8).isoformat()),
        (dead.tid, "unionpay_qr", "sale", "250", base.isoformat()),
        # UTC text from the hour cache: the same hour again, an hour that is the day before in UTC
        # (twice), and ISO forms whose characters 13-18 are not ":MM:SS" (converted whole)
        (plain.tid, "credit", "sale", "100", (base - timedelta(minutes=30)).isoformat()),
        (plain.tid, "credit", "sale", "101", base.replace(hour=7, minute=5).isoformat()),
        (plain.tid, "credit", "sale", "102", base.replace(hour=7, minute=6).isoformat()),
        (plain.tid, "credit", "sale", "103", "{}-W{:02d}-{}T07:07:00+08:00".format(*base.isocalendar())),
        (plain.tid, "credit", "sale", "104", base.strftime("%Y-%m-%dT07%M%S.0+08:00")),
    ]
    # the refund and the reversal give back part of the first sale (F0 in the file, A0 through the API)
    lines = [HEADER.strip() + ",original_id"]
    lines += [
        f"F{n},{tid},{ch},{ty},{amount},{at},{'' if ty == 'sale' else 'F0'}"
        for n, (tid, ch, ty, amount, at) in enumerate(cases)
    ]
    lines += [f" F0 ,{plain.tid},credit,sale,1000000,{base.isoformat()},"]  # padded id, same content
    path = tmp_path / "clearing.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(path)
    assert code == 0, err
    assert f"{len(cases)} created, 1 duplicate" in out
    with transaction.atomic():
        results = ingest(
            system(),
            [
                {
                    "id": f"A{n}",
                    "tid": tid,
                    "channel": ch,
                    "type": ty,
                    "amount_fen": amount,
                    "occurred_at": at,
                    "original_id": None if ty == "sale" else "A0",
                }
                for n, (tid, ch, ty, amount, at) in enumerate(cases)
            ],
        )
    assert {r.status for r in results} == {"created"}
    columns = (
        "tid",
        "merchant_id",
        "channel",
        "type",
        "amount_fen",
        "occurred_at",
        "business_date",
        "fee_fen",
        "net_fen",
        "rate_plan_code",
        "rate_bp",
        "flagged",
        "flag_reasons",
    )
    for n in range(len(cases)):
        from_file = Transaction.objects.values_list(*columns).get(switch_id=f"F{n}")
        from_api = Transaction.objects.values_list(*columns).get(switch_id=f"A{n}")
        assert from_file == from_api, n
    with connection.cursor() as cursor:  # the stored text too: SQLite compares times as text
        cursor.execute("SELECT switch_id, CAST(occurred_at AS TEXT) FROM money_transaction")
        stored = dict(cursor.fetchall())
    assert [stored[f"F{n}"] for n in range(len(cases))] == [stored[f"A{n}"] for n in range(len(cases))]
    days = dict(Transaction.objects.values_list("switch_id", "business_date"))
    assert days["F1"] == days["F0"] + timedelta(days=1)
    assert days["F2"] == days["F0"]  # the same instant written in UTC
    flagged = set(Transaction.objects.filter(flagged=True).values_list("switch_id", flat=True))
    assert flagged == {"F8", "F10", "A8", "A10"}
    fees = dict(Transaction.objects.values_list("switch_id", "fee_fen"))
    assert (fees["F6"], fees["F7"]) == (3800, 4800)


class TestBadFiles:
    """A damaged file never ends the import with a traceback: each bad line gets its own error."""

    def file(self, tmp_path, t, middle: bytes):
        path = tmp_path / "bad.csv"
        path.write_bytes(
            HEADER.encode()
            + f"B1,{t.tid},credit,sale,100,2026-11-20T10:00:00+08:00\n".encode()
            + middle
            + f"B9,{t.tid},credit,sale,300,2026-11-20T10:02:00+08:00\n".encode()
        )
        return path

    def test_invalid_utf8_is_a_bad_line(self, tmp_path):
        t = builders.terminal()
        bad = f"B\xff\xfe2,{t.tid},credit,sale,200,2026-11-20T10:01:00+08:00\n".encode("latin-1")
        errors = tmp_path / "errors.csv"
        code, out, err = run(self.file(tmp_path, t, bad), "--errors", str(errors))
        assert code == 2
        assert "2 created" in out and "1 rejected" in out
        assert "line 3: " in err and "invalid_encoding" in err
        assert "Traceback" not in err
        assert sorted(Transaction.objects.values_list("switch_id", flat=True)) == ["B1", "B9"]
        assert "invalid_encoding" in errors.read_text(encoding="utf-8")

    def test_invalid_utf8_in_an_extra_column(self, tmp_path):
        t = builders.terminal()
        path = tmp_path / "extra.csv"
        path.write_bytes(
            HEADER.strip().encode()
            + b",memo\n"
            + f"E1,{t.tid},credit,sale,100,2026-11-20T10:00:00+08:00,ok\n".encode()
            + f"E2,{t.tid},credit,sale,100,2026-11-20T10:00:00+08:00,\xc3\x28\n".encode("latin-1")
        )
        code, out, err = run(path)
        assert code == 2 and "1 created" in out
        assert "line 3: E2: invalid_encoding" in err

    def test_field_over_the_csv_limit_is_a_bad_line(self, tmp_path):
        t = builders.terminal()
        bad = f"{'X' * 131_073},{t.tid},credit,sale,200,2026-11-20T10:01:00+08:00\n".encode()
        code, out, err = run(self.file(tmp_path, t, bad))
        assert code == 2
        assert "2 created" in out and "1 rejected" in out
        assert "line 3: " in err and "field_too_long" in err
        assert len(err) < 2000  # the field is not echoed

    def test_field_over_the_raised_limit_is_a_bad_line_and_the_reader_goes_on(self, tmp_path, monkeypatch):
        from posfleet.money.management.commands import import_transactions

        monkeypatch.setattr(import_transactions, "FIELD_LIMIT", 1000)
        t = builders.terminal()
        bad = f"{'X' * 5000},{t.tid},credit,sale,200,2026-11-20T10:01:00+08:00\n".encode()
        code, out, err = run(self.file(tmp_path, t, bad))
        assert code == 2
        assert "2 created" in out and "1 rejected" in out
        assert "line 3: -: malformed_row" in err

    @pytest.mark.parametrize("where", ["id", "tid", "amount"])
    def test_nul_is_refused(self, tmp_path, where):
        t = builders.terminal()
        sid, tid, amount = "B2", t.tid, "200"
        if where == "id":
            sid = "B\x002"
        elif where == "tid":
            tid = t.tid[:4] + "\x00" + t.tid[5:]
        else:
            amount = "2\x0000"
        bad = f"{sid},{tid},credit,sale,{amount},2026-11-20T10:01:00+08:00\n".encode()
        code, out, err = run(self.file(tmp_path, t, bad))
        assert code == 2 and "2 created" in out
        assert "invalid_character" in err and "line 3: " in err
        assert Transaction.objects.count() == 2


def test_a_reader_that_dies_stops_the_import_with_what_to_do(tmp_path, monkeypatch):
    from posfleet.core.read_ahead import ReaderEnded
    from posfleet.money.management.commands import import_transactions

    def dead(*args, **kwargs):
        raise ReaderEnded("the read-ahead process ended early (exit code -9)")
        yield  # a generator, as read_ahead is

    monkeypatch.setattr(import_transactions, "read_ahead", dead)
    t = builders.terminal()
    path = tmp_path / "f.csv"
    path.write_text(HEADER + f"X1,{t.tid},credit,sale,100,2026-11-20T10:00:00+08:00\n")
    code, _out, err = run(path)
    assert code == 1
    assert "exit code -9" in err and "run the same command again" in err
