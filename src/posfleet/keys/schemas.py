"""Request and response shapes of the key API: metadata only, never key material.

Times the services render as ISO text stay text here, so the JSON is what it always was.
"""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

from posfleet.api.fields import Reason


class KeyReasonIn(Schema):
    reason: Reason


class DestructionRecordOut(Schema):
    tid: str
    sn: str
    kcv: str = Field(description="Key check value of the destroyed key")
    first_custodian: str
    second_custodian: str
    at: str | None
    method: str


class PendingRequestOut(Schema):
    requested_by: str
    requested_at: str | None
    reason: str


class KeyVersionOut(Schema):
    kcv: str
    state: str
    created_at: str | None
    destroyed_at: str | None


class KeyStatusOut(Schema):
    tid: str
    state: str = Field(description='The current key\'s state, "none" without a key')
    state_label: str
    kcv: str | None
    created_at: str | None
    destroyed_at: str | None
    keys_destroyed: bool
    needs_rekey: bool
    pending_request: PendingRequestOut | None
    destruction_records: list[DestructionRecordOut]
    history: list[KeyVersionOut] = Field(description="Every key of the terminal, newest first")


class DestructionRequestedOut(Schema):
    tid: str
    state: str
    kcv: str
    requested_by: str = Field(description="The first custodian")


class DestroyedOut(Schema):
    tid: str
    state: str
    kcv: str
    record: DestructionRecordOut


class CancelOut(Schema):
    tid: str
    state: str


class RekeyOut(Schema):
    tid: str
    state: str
    kcv: str
    created_at: str
