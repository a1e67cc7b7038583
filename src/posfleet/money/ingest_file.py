"""The clearing file's path through ingest, a chunk at a time, with the API batch's rules.

Two steps, so that pricing the next chunk overlaps the write of this one:
- `prepare`: the fast path of a well-formed row (merchant, plan and eligibility per TID from
  `IngestContext.fast_tid`; times with the fixed offset need no time-zone conversion). It asks no
  database and reads no per-thread state, so the reader process may run it; a row it cannot take
  whole is left as None.
- `ingest_rows`: in the caller's transaction, those rows through `ingest.parse_item` (the API's codes
  and messages), duplicates, the set-based refund check and `ingest.store`. Fees come from the one fee
  function, `fees.signed_fee_and_net`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection

from posfleet.core.actor import Actor
from posfleet.money.choices import CHANNELS, TX_TYPES
from posfleet.money.fees import signed_fee_and_net
from posfleet.money.ingest import (
    MAX_AMOUNT_FEN,
    FastTid,
    IngestContext,
    ItemResult,
    classify_known,
    duplicate_conflict,
    parse_item,
    store,
)
from posfleet.money.ingest_write import plain_line
from posfleet.money.parsed import Parsed
from posfleet.money.validation import ID_MAX, clean_row, refund_errors

_CHANNEL_SET = frozenset(CHANNELS)
_TYPE_SET = frozenset(TX_TYPES)


@dataclass
class RowsOutcome:
    """What `ingest_rows` did with a chunk of a clearing file; errors are (row index, id, error)."""

    created: int = 0
    duplicate: int = 0
    flagged: int = 0
    errors: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)


def _utc_text(raw_at: str, at: datetime, hours: dict[str, str], offset: timedelta) -> str:
    """`str(at - offset)[:19]` (e.g. offset 8 h for +08:00) for a time without a fraction, written with
    the institution's fixed offset, from a cache of hours.

    The offset is a whole number of hours, so minutes and seconds (":MM:SS" at positions 13–18)
    carry over and only the hour needs converting: the subtraction and its formatting, a twentieth
    of a row's cost in a clearing file, run once per hour in the file instead of once per row. The
    cache is keyed by the first 13 characters as written, filled from the real conversion."""
    if raw_at[13] != ":" or raw_at[16] != ":":  # another ISO form: convert it whole
        return str(at - offset)[:19]
    key = raw_at[:13]
    hour = hours.get(key)
    if hour is None:
        full = str(at - offset)[:19]
        hours[key] = full[:13]
        return full
    return hour + raw_at[13:19]


def prepare(
    rows: Sequence[Sequence[str]], header: Sequence[str], ctx: IngestContext, *, sqlite: bool, ask: bool
) -> list[Parsed | None]:
    """The priced `Parsed` of each well-formed row, None for a row the fast path does not take whole.

    `ask=False` (the reader process): a row whose terminal or time needs the eligibility rule asked
    (`IngestContext.eligibility`, which may query) is left as None too, for `ingest_rows` to take."""
    i_id, i_tid, i_ch, i_ty, i_am, i_at = (
        header.index(c) for c in ("id", "tid", "channel", "type", "amount_fen", "occurred_at")
    )
    i_orig = header.index("original_id") if "original_id" in header else None
    out: list[Parsed | None] = []
    append = out.append
    fast_get = ctx.fast.get
    latest, since, latest_text, since_text = ctx.latest, ctx.since, ctx.latest_text, ctx.since_text
    # the fast path takes times written with the institution's fixed offset (+08:00 for Shanghai)
    suffix = ctx.fast_offset[0] if ctx.fast_offset else "never"
    days: dict[date, str] = {}  # business day -> as the database takes it
    hours: dict[str, str] = {}  # "YYYY-MM-DDTHH" at +08:00 -> "YYYY-MM-DD HH" in UTC (see _utc_text)
    from_iso = datetime.fromisoformat
    for index, row in enumerate(rows):
        sid, tid, channel, tx_type, raw_amount, raw_at = (
            row[i_id],
            row[i_tid],
            row[i_ch],
            row[i_ty],
            row[i_am],
            row[i_at],
        )
        original = row[i_orig] if i_orig is not None else ""
        p: Parsed | None = None
        f = fast_get(tid) if tid in ctx.fast else ctx.fast_tid(tid)
        if (
            f is not None
            and 0 < len(sid) <= ID_MAX
            and tx_type in _TYPE_SET
            and channel in _CHANNEL_SET
            and len(raw_amount) <= 16
            and raw_amount.isdigit()
            and raw_amount.isascii()
            and len(raw_at) == 25
            and raw_at.endswith(suffix)
            and sid == sid.strip()
            and (
                not original
                if tx_type == "sale"
                else 0 < len(original) <= ID_MAX and original == original.strip()
            )
            and clean_row(row)
        ):
            try:
                at = from_iso(raw_at)
            except (ValueError, OverflowError):
                at = None
            amount = int(raw_amount)
            if at is not None and not at.microsecond and 0 < amount <= MAX_AMOUNT_FEN:
                # plain ISO text (not a week date, no odd separator) with the fixed offset: its bounds
                # compare as text (`IngestContext.fixed_text`), without a time zone on either side
                plain = (
                    raw_at[10] == "T" and raw_at[4] == raw_at[7] == "-" and raw_at[13] == raw_at[16] == ":"
                )
                if plain:
                    window, recent = f.earliest_text <= raw_at <= latest_text, raw_at >= since_text
                else:
                    window, recent = f.earliest <= at <= latest, at >= since
                if window and (ask or (f.clean and recent)):
                    fields = (sid, tid, channel, tx_type, raw_at, original)
                    p = _priced(ctx, f, index, fields, at, amount, recent, plain, sqlite, days, hours)
        append(p)
    return out


def _priced(
    ctx: IngestContext,
    f: FastTid,
    index: int,
    fields: tuple[str, str, str, str, str, str],
    at: datetime,
    amount: int,
    recent: bool,
    plain: bool,
    sqlite: bool,
    days: dict[date, str],
    hours: dict[str, str],
) -> Parsed | None:
    """A well-formed row in its window, priced; None when its merchant has no plan then."""
    sid, tid, channel, tx_type, raw_at, original = fields
    rates = f.rates or ctx.plans.rates_at(f.merchant_id, at)
    if rates is None:
        return None
    code, by_channel = rates
    bp, cap = by_channel[channel]
    fee, net = signed_fee_and_net(tx_type, amount, bp, cap)
    day = at.date()  # written in the institution's fixed offset: the business day
    day_db = days.get(day) or days.setdefault(day, str(day))
    at_db: Any = at
    if sqlite:  # UTC text, as Django's adapter writes it; the time has no fraction here
        at_db = _utc_text(raw_at, at, hours, ctx.fast_offset[1] if ctx.fast_offset else timedelta(0))
    elif plain:
        at_db = raw_at  # COPY takes it as written
    p = Parsed(
        index, sid, tid, channel, tx_type, amount, at, f.merchant_id, fee, net, code, bp, [], at_db, day_db,
        original, None, raw_at,
    )  # fmt: skip
    if not f.clean or not recent:
        p.flag_reasons = ctx.eligibility(p, f.info)
    elif not sqlite and plain:
        p.copy_line = plain_line(
            sid, tid, f.merchant_id, channel, tx_type, amount, raw_at, day_db, fee, net, code, bp, original
        )
    return p


def ingest_rows(
    actor: Actor,
    rows: Sequence[Sequence[str] | None],
    header: Sequence[str],
    ctx: IngestContext,
    *,
    ref: str,
    prepared: Sequence[Parsed | None] | None = None,
) -> RowsOutcome:
    """The clearing file's chunk, inside the caller's transaction; `prepared` is `prepare`'s answer
    for these rows when the reader process has worked it out already (then a row it priced may be
    given as None)."""
    if prepared is None:
        whole = [row for row in rows if row is not None]
        assert len(whole) == len(rows), "rows without prepare's answer need their text"
        prepared = prepare(whole, header, ctx, sqlite=connection.vendor == "sqlite", ask=True)
    i_id = header.index("id")
    out = RowsOutcome()
    parsed: dict[str, Parsed] = {}
    repeats: list[tuple[int, str]] = []  # (row index, switch id) of a second row of the same content
    for index, p in enumerate(prepared):
        if p is None:
            row = rows[index]
            assert row is not None
            res = parse_item(index, dict(zip(header, row, strict=True)), ctx)
            if isinstance(res, dict):
                out.errors.append((index, row[i_id], res))
                continue
            p = res
        earlier = parsed.get(p.switch_id)
        if earlier is not None:  # the same id twice in one chunk
            if earlier.same_content(p.tid, p.channel, p.type, p.amount_fen, p.occurred_at):
                repeats.append((index, p.switch_id))
            else:
                raw = rows[index]
                sid = raw[i_id] if raw is not None else p.switch_id
                out.errors.append((index, sid, duplicate_conflict(p.switch_id)))
            continue
        parsed[p.switch_id] = p
    refused = refund_errors(list(parsed.values()))
    for p in [p for p in parsed.values() if p.index in refused]:
        out.errors.append((p.index, p.switch_id, refused[p.index]))
        del parsed[p.switch_id]
    for index, switch_id in repeats:
        if switch_id in parsed:
            out.duplicate += 1
        else:  # its first row was refused: so is this one
            first = next(e for e in out.errors if e[1] == switch_id)
            out.errors.append((index, switch_id, first[2]))
    if parsed:
        created, known, ids = store(actor, list(parsed.values()), ref=ref, need_ids=False)
        out.created = len(created)
        out.flagged = sum(1 for p in created if p.flag_reasons)
        for p in known:
            result = ItemResult(id=p.switch_id, status="error")
            classify_known(p, ids[p.switch_id], result)
            if result.status == "duplicate":
                out.duplicate += 1
            else:
                out.errors.append((p.index, p.switch_id, result.error or {}))
    out.errors.sort(key=lambda e: e[0])
    return out
