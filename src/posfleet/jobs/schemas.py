"""Response shapes of the jobs API: a job's state as the person who started it follows it."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class JobOut(Schema):
    id: int
    kind: str
    kind_label: str
    state: str = Field(description="queued, running, done or failed")
    state_label: str
    progress: int = Field(description="Units done (rows, terminals) of `total`")
    total: int
    percent: int
    attempts: int
    max_attempts: int
    error_code: str = Field(description="worker_lost, exception, unknown_kind, or empty")
    error: str
    result: dict[str, Any] = Field(description="What the job produced (per kind), once done")
    object_type: str
    object_id: str
    created_by: str
    stuck: bool = Field(description="Running, but its worker has not sent a heartbeat within the lease")
    run_after: str | None
    heartbeat_at: str | None
    lease_until: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None
