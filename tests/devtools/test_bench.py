"""`posfleet bench` with tiny sizes: every core figure is measured and written to var/bench/last.json."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.management import call_command

from posfleet.devtools.bench.report import Report


def test_report_ratios_targets_and_the_callable_form() -> None:
    report = Report()
    fig = report.figure("changes", 60.0, "changes/s", "bare", 100.0, target=0.5)
    assert fig.ratio == pytest.approx(0.6) and fig.met is True
    lat = report.figure("p99", 12.0, "ms", target=10.0, higher_is_better=False)
    assert lat.met is False
    report.section = "money"
    called = report("import", 61_000, unit="rows/s", target="≥ 50,000", ok=True)
    assert called.section == "money" and called.met is True
    table = report.table()
    assert "60.0%" in table and "≥ 50%" in table and "≥ 50,000" in table
    assert [f["met"] for f in report.as_dict()["figures"]] == [True, False, True]


@pytest.mark.django_db
def test_bench_smoke_with_tiny_sizes(capfd: pytest.CaptureFixture[str]) -> None:
    call_command(
        "bench",
        "--terminals",
        "50",
        "--seconds",
        "0.05",
        "--rounds",
        "1",
        "--http-seconds",
        "0.5",
        "--http-rate",
        "20",
        "--http-threads",
        "4",
        "--http-workers",
        "1",
        "--sections",
        "core",
    )
    out = capfd.readouterr().out  # the measures run in a child process
    assert "audited single changes" in out
    result = json.loads((settings.VAR_DIR / "bench" / "last.json").read_text())
    names = [f["name"] for f in result["figures"]]
    assert any(n.startswith("audited single changes") for n in names)
    assert any(n.startswith("bulk hold on 50 terminals") for n in names)
    assert any(n.startswith("the answer in-process") for n in names)
    assert any("p99" in n for n in names)
    assert result["database"]["vendor"] == "sqlite"
    assert all(f["value"] > 0 for f in result["figures"])
    assert (settings.VAR_DIR / "bench" / "bench.sqlite3").exists()


@pytest.mark.django_db
def test_bench_http_section_alone(capfd: pytest.CaptureFixture[str]) -> None:
    """`--sections http` measures only (d): granian with the shared settings, the open-loop client."""
    call_command(
        "bench",
        "--sections",
        "http",
        "--http-seconds",
        "0.5",
        "--http-rate",
        "40",
        "--http-connections",
        "2",
        "--http-workers",
        "1",
    )
    capfd.readouterr()
    result = json.loads((settings.VAR_DIR / "bench" / "last.json").read_text())
    names = [f["name"] for f in result["figures"]]
    assert names[0].startswith("GET /api/v1/terminals/{tid}/eligibility") and len(names) == 5
    assert not any(n.startswith(("audited", "bulk hold", "the answer in-process")) for n in names)
    http = result["http"]
    assert http["statuses"] == {"200": 20}
    assert "granian" in http["server"] and http["latency_ms"]["p99"] > 0
