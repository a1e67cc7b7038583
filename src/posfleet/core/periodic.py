"""What a periodic job's result means, for `posfleet worker` to print, and what a worker does when it
starts and what `--once` does after the periodic jobs.

Apps register their periodic jobs with Huey in their `tasks.py` and may describe each result here
(`describe("lifecycle.close_ended_holds", "closed {} ended hold(s)")`); in the same module an app
may ask for a step when a worker starts (`at_worker_start`: the jobs sweep takes up what a dead
worker left) or after `--once` has run the periodic jobs (`at_once`: the jobs they queued are run
in that process, as no consumer is there to take them). Core imports no app.
"""

from __future__ import annotations

from collections.abc import Callable

Step = Callable[[], object]
_SUMMARIES: dict[str, str] = {}
_AT_START: dict[str, Step] = {}
_AT_ONCE: dict[str, Step] = {}


def describe(task_name: str, template: str) -> None:
    """How to print the result of the periodic task `task_name` (`{}` is the result)."""
    _SUMMARIES[task_name] = template


def summary(task_name: str, result: object) -> str:
    return _SUMMARIES.get(task_name, task_name + ": {}").format(result)


def at_worker_start(name: str, step: Step) -> None:
    """Run `step` when `posfleet worker` starts, before the consumer takes messages."""
    _AT_START[name] = step


def at_once(name: str, step: Step) -> None:
    """Run `step` after the periodic jobs of `posfleet worker --once`."""
    _AT_ONCE[name] = step


def start_steps() -> list[tuple[str, Step]]:
    return sorted(_AT_START.items())


def once_steps() -> list[tuple[str, Step]]:
    return sorted(_AT_ONCE.items())
