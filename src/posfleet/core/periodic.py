"""What a periodic job's result means, for `posfleet worker --once` to print.

Apps register their periodic jobs with Huey in their `tasks.py` and may describe each result here
(`describe("lifecycle.close_ended_holds", "closed {} ended hold(s)")`); core imports no app.
"""

from __future__ import annotations

_SUMMARIES: dict[str, str] = {}


def describe(task_name: str, template: str) -> None:
    """How to print the result of the periodic task `task_name` (`{}` is the result)."""
    _SUMMARIES[task_name] = template


def summary(task_name: str, result: object) -> str:
    return _SUMMARIES.get(task_name, task_name + ": {}").format(result)
