"""What a row of every transition table says: `action` takes an object from `source` to `target` for
whoever holds `permission`. Each table (terminals, merchants, repair orders) adds what its moves need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

StateT = TypeVar("StateT")


@dataclass(frozen=True)
class Transition(Generic[StateT]):
    action: str
    source: StateT
    target: StateT
    permission: str
    label: Any = ""
