"""`posfleet bench`: the core paths measured in one run, every figure beside a raw baseline.

Sections (`--sections core,money,settlement`) run in a child process on a scratch database, so demo
data is never touched. A section's `run(report)` records figures with `report.figure(name, value,
unit, baseline=…, baseline_value=…, target=…, higher_is_better=…, note=…)` (see `report.Report`),
creates its own prefixed data and keeps each figure to seconds. The table is printed at the end and
the JSON written to `var/bench/last.json`.
"""

from posfleet.devtools.bench.report import Figure, Report

__all__ = ["Figure", "Report"]
