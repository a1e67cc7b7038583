"""`posfleet bench`: the core, HTTP, money and settlement figures, each beside its baseline, in one run.

The command prepares a scratch database (default `var/bench/bench.sqlite3`, recreated each run; or
`--database-url`), migrates it in a child process and runs the measures in another child pointed at
it, so the configured database and its demo data are never touched. The table is printed and the
JSON written to `var/bench/last.json`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from posfleet.devtools.bench import console as console_bench
from posfleet.devtools.bench import data, http, measures
from posfleet.devtools.bench import money as money_bench
from posfleet.devtools.bench import settlement as settlement_bench
from posfleet.devtools.bench.report import Report

SECTIONS = ("core", "http", "money", "settlement", "console")
DEFAULT_SECTIONS = ("core", "money", "settlement")  # core includes http
# core and http are measured here; these sections bring their own run(report)
SECTION_RUNS: dict[str, Callable[[Report], object]] = {
    "money": money_bench.run,
    "settlement": settlement_bench.run,
    "console": console_bench.run,
}


def _masked(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


def _ensure_postgres_database(url: str) -> None:
    """Create the bench's PostgreSQL database when it does not exist yet (needs CREATEDB)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    params: dict[str, Any] = {
        "host": cfg["HOST"] or None,
        "port": cfg["PORT"] or None,
        "user": cfg["USER"] or None,
    }
    if cfg["PASSWORD"]:
        params["password"] = cfg["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))


class Command(BaseCommand):
    help = "Benchmark: audited changes, bulk hold, the answer in-process and over HTTP, each vs its baseline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--terminals", type=int, default=100_000, help="Terminals under the bulk hold.")
        parser.add_argument("--seconds", type=float, default=2.0, help="Seconds per round of a rate figure.")
        parser.add_argument("--rounds", type=int, default=3, help="Rounds per rate figure (median kept).")
        parser.add_argument(
            "--http-seconds", type=float, default=10.0, help="Seconds of HTTP load (0: skip)."
        )
        parser.add_argument(
            "--http-rate", type=float, default=500.0, help="Offered HTTP requests per second."
        )
        parser.add_argument("--http-workers", type=int, default=2, help="Server worker processes (granian).")
        parser.add_argument(
            "--http-connections",
            "--http-threads",
            dest="http_connections",
            type=int,
            default=16,
            help="Keep-alive client connections opened before the HTTP run (more are opened if all are busy).",
        )
        parser.add_argument(
            "--sections",
            default=",".join(DEFAULT_SECTIONS),
            help="Comma-separated: core,money,settlement,console; http alone is the (d) figure (core includes "
            "it); console measures the lists and pages on the scale data (demo --scale).",
        )
        parser.add_argument(
            "--database-url", default="", help="Bench database (default: scratch SQLite under var/bench/)."
        )
        parser.add_argument(
            "--keep-data", action="store_true", help="Reuse the scratch SQLite file instead of recreating it."
        )
        parser.add_argument(
            "--json-out", default="", help="Where to write the JSON (default var/bench/last.json)."
        )
        parser.add_argument(
            "--inner", action="store_true", help="(internal) run the measures in this process."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sections = [s.strip() for s in options["sections"].split(",") if s.strip()]
        unknown = set(sections) - set(SECTIONS)
        if unknown:
            raise CommandError(f"Unknown sections: {', '.join(sorted(unknown))}")
        if options["inner"]:
            self._inner(sections, options)
        else:
            self._outer(options)

    # --- the parent: scratch database, migrate, run the child -------------------------------------
    def _outer(self, options: dict[str, Any]) -> None:
        bench_dir = Path(settings.VAR_DIR) / "bench"
        bench_dir.mkdir(parents=True, exist_ok=True)
        url = options["database_url"]
        if not url:
            db = bench_dir / "bench.sqlite3"
            if not options["keep_data"]:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{db}"
        elif url.startswith(("postgres://", "postgresql://")):
            _ensure_postgres_database(url)
        json_out = options["json_out"] or str(bench_dir / "last.json")
        env = os.environ | {
            "DATABASE_URL": url,
            "POSFLEET_VAR_DIR": str(bench_dir / "var"),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "HUEY_IMMEDIATE": "0",
            "POSFLEET_BENCH_COMMAND": "posfleet " + shlex.join(sys.argv[1:]),
        }
        python = [sys.executable, "-m", "posfleet"]
        self.stdout.write(f"bench: database {_masked(url)}")
        started = time.monotonic()
        subprocess.run([*python, "migrate", "--no-input", "-v", "0", "--skip-checks"], env=env, check=True)  # noqa: S603
        self.stdout.write(f"bench: migrated in {time.monotonic() - started:.1f} s")
        child = [*python, "bench", "--inner", "--skip-checks", "--json-out", json_out]
        for name in (
            "terminals",
            "seconds",
            "rounds",
            "http_seconds",
            "http_rate",
            "http_workers",
            "http_connections",
        ):
            child += [f"--{name.replace('_', '-')}", str(options[name])]
        child += ["--sections", options["sections"], "--database-url", url]
        self.stdout.flush()
        done = subprocess.run(child, env=env)  # noqa: S603
        if done.returncode != 0:
            raise CommandError(f"bench failed (exit {done.returncode}); command: {shlex.join(child)}")

    # --- the child: measures on the bench database --------------------------------------------------
    def _inner(self, sections: list[str], options: dict[str, Any]) -> None:
        report = Report()
        report.meta = {
            "command": os.environ.get("POSFLEET_BENCH_COMMAND", "posfleet " + shlex.join(sys.argv[1:])),
            "database": {"vendor": connection.vendor, "url": _masked(options["database_url"])},
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode")
                journal = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous")
                sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0])
            report.meta["database"] |= {"journal_mode": journal, "synchronous": sync}
        say = self.stdout.write
        if "core" in sections:
            say(f"bench: preparing {options['terminals']:,} + {3 * data.POOL:,} bench terminals …")
            started = time.monotonic()
            bench_data = data.prepare(options["terminals"], say=say)
            report.note(f"bench data ready in {time.monotonic() - started:.1f} s")
            seconds, rounds = options["seconds"], options["rounds"]
            say("bench: (a) audited single changes …")
            measures.single_changes(report, bench_data, seconds, rounds)
            if connection.vendor == "sqlite" and report.meta["database"].get("synchronous") != "FULL":
                say("bench: (a') the same with synchronous=FULL (a durable commit, like PostgreSQL) …")
                measures.single_changes(report, bench_data, seconds, rounds, sync="FULL")
            say("bench: (c) the answer in-process …")
            measures.answer(report, bench_data, seconds, rounds)
            if options["http_seconds"] > 0:
                self._http(bench_data, report, options)
            say(f"bench: (b) one hold on {options['terminals']:,} terminals …")
            measures.bulk_hold(report, bench_data)
        if "http" in sections and "core" not in sections:
            say("bench: preparing the bench terminals …")
            self._http(data.prepare(0, say=say), report, options)
        for section in sections:
            if section not in SECTION_RUNS:
                continue
            report.section = section
            say(f"bench: {section} …")
            try:
                SECTION_RUNS[section](report)
            except Exception as exc:
                report.note(f"posfleet.devtools.bench.{section}.run failed: {exc.__class__.__name__}: {exc}")
        self.stdout.write("")
        self.stdout.write(report.table())
        out = Path(options["json_out"] or Path(settings.VAR_DIR) / "last.json")
        report.write_json(out)
        self.stdout.write(f"\nbench: JSON written to {out}")

    def _http(self, bench_data: data.BenchData, report: Report, options: dict[str, Any]) -> None:
        self.stdout.write(f"bench: (d) the answer over HTTP at {options['http_rate']:g} req/s …")
        http.eligibility_over_http(
            report,
            bench_data,
            seconds=options["http_seconds"],
            rate=options["http_rate"],
            workers=options["http_workers"],
            connections=options["http_connections"],
            log=Path(settings.VAR_DIR) / "bench-server.log",
        )
