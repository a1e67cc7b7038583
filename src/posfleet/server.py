"""The HTTP server of `scripts/start`, deployments and `posfleet bench`: granian serving
`posfleet.wsgi:application` (decision 0007).

    python -m posfleet.server [--bind HOST:PORT] [--workers N]

Environment: `POSFLEET_BIND` (default 127.0.0.1:8000), `WEB_CONCURRENCY` (worker processes, default 2:
one per core of the reference machine), `POSFLEET_THREADS` (WSGI threads per worker, default 4). The bench
overrides only the address and the worker count, so it measures these settings.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

APPLICATION = "posfleet.wsgi:application"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str
    port: int
    workers: int
    threads: int
    # Requests one worker takes in at a time; more wait in the kernel's accept queue, so a burst queues
    # at the door instead of inside a worker that cannot serve it sooner.
    backpressure: int
    keepalive: bool = True

    @property
    def label(self) -> str:
        return (
            f"granian WSGI ({self.workers} workers × {self.threads} threads, "
            f"keep-alive {'on' if self.keepalive else 'off'})"
        )


def settings(bind: str | None = None, workers: int | None = None) -> Settings:
    """The deployed settings; `bind` and `workers` override the environment (the bench uses both)."""
    host, _, port = (bind or os.environ.get("POSFLEET_BIND", "127.0.0.1:8000")).rpartition(":")
    threads = int(os.environ.get("POSFLEET_THREADS", "4"))
    return Settings(
        host=host.strip("[]") or "127.0.0.1",
        port=int(port),
        workers=workers if workers is not None else int(os.environ.get("WEB_CONCURRENCY", "2")),
        threads=threads,
        backpressure=max(64, 16 * threads),
    )


def granian_server(cfg: Settings) -> Any:
    """A granian server for `cfg`, not started yet."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    return Granian(
        APPLICATION,
        address=cfg.host,
        port=cfg.port,
        interface=Interfaces.WSGI,
        workers=cfg.workers,
        blocking_threads=cfg.threads,
        backpressure=cfg.backpressure,
        websockets=False,
        http1_settings=HTTP1Settings(keep_alive=cfg.keepalive),
        log_level=LogLevels(os.environ.get("GRANIAN_LOG_LEVEL", "warning")),
        log_access=False,  # structlog writes the application's own request logs
        respawn_failed_workers=True,
        workers_kill_timeout=20,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m posfleet.server", description=__doc__.split("\n")[0])
    parser.add_argument("--bind", help="HOST:PORT (default: POSFLEET_BIND or 127.0.0.1:8000)")
    parser.add_argument("--workers", type=int, help="worker processes (default: WEB_CONCURRENCY or 2)")
    args = parser.parse_args(argv)
    granian_server(settings(args.bind, args.workers)).serve()


if __name__ == "__main__":
    main()
