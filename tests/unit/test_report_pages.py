"""The lot report's text and HTML pages as a reader sees them (from report data, no run)."""

from __future__ import annotations

import base64
from typing import Any

from packline.report import render_text
from packline.report_files import render_html, step_colours

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def one_strip_report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "lot": "L1",
        "started_at": 1_795_000_000.0,
        "recipe": "heat-slug-die-equal",
        "strips": 1,
        "sites_per_strip": 30,
        "time_scale": 1000.0,
        "makespan_s": 3600.0,
        "dispositions": {"complete": ["L1-01"], "scrapped": [], "on hold": []},
        "reasons": {},
        "yield": {
            "per_step": [
                {
                    "step": "wire bond",
                    "tool": "wire-bonder",
                    "strips": 1,
                    "units_in": 30,
                    "units_passed": 30,
                    "yield_pct": 100.0,
                    "mean_cycle_s": 200.0,
                }
            ],
            "overall_pct": 100.0,
            "good_units": 30,
            "total_units": 30,
        },
        "defects": [],
        "alarms": [],
        "notes": [],
        "stations": [
            {
                "station": "wire-bonder-1",
                "tool": "wire-bonder",
                "cycles": 1,
                "mean_cycle_s": 200.0,
                "min_cycle_s": 200.0,
                "max_cycle_s": 200.0,
                "busy_s": 200.0,
                "utilization_pct": 5.6,
                "e10_s": {"productive": 200.0, "standby": 3300.0, "scheduled down": 100.0},
            }
        ],
        "throughput": {
            "strips_per_hour": 1.0,
            "bound_strips_per_hour": 1.2,
            "ratio_pct": 83.3,
            "bottleneck": "wire-bonder",
            "bound_s": 3000.0,
        },
    }
    report.update(changes)
    return report


def test_text_page_counts_in_good_english_and_says_none_when_there_is_nothing() -> None:
    text = render_text(one_strip_report())
    assert "1 strip ×" in text and "1 strips" not in text
    assert "1 cycle " in text and "1 cycles" not in text
    pareto = text.split("Defect Pareto")[1].splitlines()
    assert pareto[1] == "  none", "no '0 none 0' row"
    assert "(tool time)" in text and "tool seconds" in text, "the unit is said"
    assert "scheduled down 0:01:40" in text


def test_alarm_lines_name_the_strips_and_how_long_the_station_was_held() -> None:
    alarm = {
        "time_s": 1800.0,
        "station": "wire-bonder-1",
        "strips": ["L1-01", "L1-02"],
        "code": 3101,
        "class": "H",
        "text": "NSOP limit",
        "handling": "resumed",
        "held_s": 320.0,
    }
    note = "the die attach cycle ... artefact of time compression, not a cycle time to expect"
    text = render_text(one_strip_report(alarms=[alarm], notes=[note]))
    line = next(line for line in text.splitlines() if "3101" in line)
    assert "L1-01,L1-02" in line and "-> resumed, held 0:05:20" in line
    assert text.splitlines()[-1] == f"  - {note}"


def test_html_page_is_self_contained_with_tables() -> None:
    page = render_html(one_strip_report(), PNG)
    assert f"src='data:image/png;base64,{base64.b64encode(PNG).decode()}'" in page
    assert "<pre>" not in page and "src='occupancy.png'" not in page
    for caption in ("Yield per step", "Defect Pareto", "Alarms", "Stations", "Throughput"):
        assert f"<caption>{caption}" in page
    assert "<td colspan='4'>none</td>" in page, "an empty Pareto says none"


def test_step_colours_are_distinct_and_never_the_set_up_grey() -> None:
    colours = step_colours(12)
    assert len(set(colours)) == 12
    assert all(not (c[0] == c[1] == c[2]) for c in colours), "no grey among the step colours"
