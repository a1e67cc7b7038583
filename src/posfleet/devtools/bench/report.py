"""The bench report: figures with their baselines and ratios, a table and a JSON file."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    section: str
    name: str
    value: Any
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    target: Any = None
    higher_is_better: bool = True
    note: str = ""
    ok: bool | None = None  # a verdict given by the caller (the callable form); else computed

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0) or not isinstance(self.value, int | float) or not self.value:
            return None
        assert self.baseline_value is not None
        return self.value / self.baseline_value if self.higher_is_better else self.baseline_value / self.value

    @property
    def met(self) -> bool | None:
        if self.ok is not None:
            return self.ok
        if not isinstance(self.target, int | float) or isinstance(self.target, bool):
            return None
        measured = self.ratio if self.baseline_value is not None else self.value
        if measured is None:
            return None
        if self.baseline_value is not None or self.higher_is_better:
            return measured >= self.target
        return measured <= self.target

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio, "met": self.met}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


@dataclass
class Report:
    section: str = "core"
    scratch: bool = True
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def figure(
        self,
        name: str,
        value: float,
        unit: str,
        baseline: str | None = None,
        baseline_value: float | None = None,
        target: Any = None,
        *,
        higher_is_better: bool = True,
        note: str = "",
    ) -> Figure:
        fig = Figure(
            self.section, name, value, unit, baseline, baseline_value, target, higher_is_better, note
        )
        self.figures.append(fig)
        return fig

    def __call__(
        self, name: str, value: Any, unit: str = "", target: Any = None, ok: bool | None = None, **extra: Any
    ) -> Figure:
        """The callable form the money and settlement benches use: `report(name, value, unit=, target=, ok=)`.

        `target` may be a number or a text such as "≤ 2 s"; `ok` is the caller's verdict. Extra keywords
        (`baseline`, `baseline_value`, `higher_is_better`, `note`) are passed on to `figure()`.
        """
        fig = self.figure(name, value, unit, target=target, **extra)
        fig.ok = ok
        return fig

    def note(self, text: str) -> None:
        self.notes.append(f"[{self.section}] {text}")

    def table(self) -> str:
        header = (
            "section",
            "figure",
            "value",
            "unit",
            "baseline",
            "baseline value",
            "ratio",
            "target",
            "met",
        )
        rows = [header]
        for f in self.figures:
            if f.target is None:
                target = ""
            elif not isinstance(f.target, int | float):
                target = str(f.target)
            elif f.baseline_value is not None:
                target = f"≥ {f.target:.0%}"
            else:
                target = f"{'≥' if f.higher_is_better else '<'} {_fmt(f.target)}"
            rows.append(
                (
                    f.section,
                    f.name,
                    _fmt(f.value),
                    f.unit,
                    f.baseline or "",
                    _fmt(f.baseline_value) if f.baseline_value is not None else "",
                    f"{f.ratio:.1%}" if f.ratio is not None else "",
                    target,
                    {True: "yes", False: "NO", None: ""}[f.met],
                )
            )
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join([*lines, "", *self.notes])

    def as_dict(self) -> dict[str, Any]:
        return self.meta | {
            "machine": machine(),
            "figures": [f.as_dict() for f in self.figures],
            "notes": self.notes,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False, default=str))
