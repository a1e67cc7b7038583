"""`posfleet bench`: the core paths measured in one run, every figure beside a raw baseline.

Sections (``--sections core,money,settlement``): ``core`` (with ``http``) is ``data``, ``measures`` and
``http`` here; ``money`` and ``settlement`` are ``money.run(report)`` and ``settlement.run(report)``.
Everything runs in a child process on a scratch database (default ``var/bench/bench.sqlite3``, or
``--database-url``), so demo data is never touched.

The report object handed to a section's ``run`` (``report.Report``)::

    report.figure(
        name,                 # "audited single changes", shown in the table and the JSON
        value,                # the measured figure (a number)
        unit,                 # "changes/s", "ms", "rows/s", …
        baseline=None,        # what the raw baseline is, e.g. "bare UPDATE + INSERT per transaction"
        baseline_value=None,  # the baseline measured in the same run, same unit
        target=None,          # with a baseline: the minimum ratio value/baseline (0.5 = 50 %);
                              # without: a threshold on value itself
        higher_is_better=True,  # False for latencies and durations (then target is a maximum)
        note="",              # anything a reader needs (sizes, sync mode, …)
    )
    report(name, value, unit="", target=None, ok=None)   # the short callable form: `target` may be
                              # a number or a text ("≥ 50,000", "≤ 2 s"), `ok` is your own verdict
    report.note(text)         # a line printed under the table and kept in the JSON
    report.section            # the section being run ("money", …), set by the runner
    report.scratch            # True: the database is the bench's own; sections may create data freely

Sections create their own data (prefix identifiers so reruns on a reused database do not collide),
wrap their writes in ``transaction.atomic()`` like any edge, and should keep each figure to seconds.
The table is printed at the end and the JSON written to ``var/bench/last.json``.
"""

from posfleet.devtools.bench.report import Figure, Report

__all__ = ["Figure", "Report"]
