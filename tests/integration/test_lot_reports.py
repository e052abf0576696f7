"""Reports of a lot run by a real daemon process: the lot report (JSON, HTML), the unit export
(CSV) and SPC (JSON, PNG), over the API and from the CLI."""

from __future__ import annotations

import csv
import io
import itertools
import json
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from packline.cli import main
from tests.support.daemon_process import DaemonProcess

TOKEN = "report-token-0123456789"
LOT = "R1"
STRIPS = 2


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    with DaemonProcess(tmp_path_factory.mktemp("reports") / "line.db", TOKEN) as running:
        assert running.post("/lots", {"strips": STRIPS, "lot_id": LOT}).status_code == 201
        running.wait_lot(LOT, 45)
        yield running


def test_the_lot_report_has_yield_per_step_defects_alarms_and_throughput(
    daemon: DaemonProcess,
) -> None:
    lot = daemon.http.get(f"/lots/{LOT}").json()
    report = daemon.http.get(f"/lots/{LOT}/report").json()
    assert report["lot"] == LOT and report["status"] == "complete"
    assert [row["step"] for row in report["yield"]["per_step"]] == lot["steps"]
    assert all(row["strips"] == STRIPS for row in report["yield"]["per_step"])
    assert report["yield"]["total_units"] == STRIPS * report["sites_per_strip"]
    assert 0 < report["yield"]["overall_pct"] <= 100
    assert isinstance(report["defects"], list) and isinstance(report["alarms"], list)
    assert report["throughput"]["bound_s"] > 0 and report["makespan_s"] > 0
    assert {row["station"] for row in report["stations"] if row["cycles"]} >= {"laminator"}


def test_the_html_report_is_one_self_contained_page(daemon: DaemonProcess) -> None:
    answer = daemon.http.get(f"/lots/{LOT}/report.html")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "<img src='data:image/png;base64," in page
    assert "occupancy.png" not in page and "src='http" not in page and 'src="http' not in page
    assert "Yield" in page or "yield" in page


def test_the_export_has_one_row_per_unit_per_step_and_a_column_per_value(
    daemon: DaemonProcess,
) -> None:
    answer = daemon.http.get(f"/lots/{LOT}/export.csv")
    assert answer.headers["content-type"].startswith("text/csv")
    assert f'filename="lot-{LOT}.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    lot = daemon.http.get(f"/lots/{LOT}").json()
    sites = lot["rows"] * lot["cols"]
    assert len(rows) == STRIPS * sites * len(lot["steps"])
    assert len({(r["strip"], r["site"], r["step"]) for r in rows}) == len(rows)
    header = list(rows[0])
    assert header[:12] == [
        "lot", "strip", "site", "step_index", "step", "station", "tool",
        "start_utc", "end_utc", "result", "defect_code", "defect_text",
    ]  # fmt: skip
    assert "coplanarity_um [µm]" in header and "package_thickness_um [µm]" in header
    inspected = [r for r in rows if r["step"] == "inspect ball" and r["result"] == "P"]
    assert inspected and all(float(r["coplanarity_um [µm]"]) >= 0 for r in inspected)
    assert all(r["coplanarity_um [µm]"] == "" for r in rows if r["step"] == "laminate")
    unit = daemon.http.get(f"/units/{rows[0]['strip']}/{rows[0]['site']}").json()
    assert unit["steps"][0]["station"] == rows[0]["station"]


def test_spc_charts_a_value_against_the_recipe_limits_with_cpk(daemon: DaemonProcess) -> None:
    assert "coplanarity_um" in daemon.http.get(f"/lots/{LOT}/spc").json()
    chart = daemon.http.get(f"/lots/{LOT}/spc/coplanarity_um").json()
    xs = [p["x"] for p in chart["points"]]
    assert chart["n"] == len(xs) > 0 and chart["step"] == "inspect ball"
    assert (chart["lsl"], chart["usl"]) == (0.0, 100.0)  # the recipe's COPL window
    sigma = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(xs)) / 1.128
    mean = statistics.fmean(xs)
    assert chart["cpk"] == pytest.approx(min(100.0 - mean, mean) / (3 * sigma), abs=1e-3)
    assert chart["ucl"] == pytest.approx(mean + 3 * sigma)
    png = daemon.http.get(f"/lots/{LOT}/spc/coplanarity_um.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    page = daemon.http.get(f"/lots/{LOT}/spc.html").text
    assert "spc/coplanarity_um.png" in page and "Cpk" in page


def test_spc_limits_come_from_the_window_each_step_judged_not_only_metrology(
    daemon: DaemonProcess,
) -> None:
    die_attach = daemon.http.get(f"/lots/{LOT}/spc/blt_um").json()
    assert die_attach["step"] == "die attach"
    assert die_attach["lsl"] < die_attach["usl"] and die_attach["cpk"] is not None
    wire_bond = daemon.http.get(f"/lots/{LOT}/spc/mean_loop_um").json()
    assert wire_bond["lsl"] is not None and wire_bond["cpk"] is not None
    etch = daemon.http.get(f"/lots/{LOT}/spc/depth_um").json()
    assert (etch["lsl"], etch["usl"]) == (230.0, None)  # at least the depth target
    assert etch["n"] == STRIPS, "a strip's etch depth is one point, not one per site"


def test_every_report_route_of_the_served_document_answers_200_in_its_media_type(
    daemon: DaemonProcess,
) -> None:
    """The routes the HTTP unit tests leave to a real store (tag ``reports``), from the
    document itself: a report route added there is run here without a change."""
    paths = daemon.http.get("/openapi.json").json()["paths"]
    routes = [
        (path, operation["responses"]["200"])
        for path, methods in sorted(paths.items())
        for operation in methods.values()
        if "reports" in operation["tags"]
    ]
    assert len(routes) == 6, routes
    for template, declared in routes:
        path = template.format(lot_id=LOT, value="coplanarity_um")
        answer = daemon.http.get(path)
        assert answer.status_code == 200, (path, answer.text[:200])
        (media_type,) = declared["content"]
        assert answer.headers["content-type"].split(";")[0] == media_type, path
        assert answer.content, path


def test_unknown_lots_and_values_are_404_naming_them(daemon: DaemonProcess) -> None:
    for path in ("/lots/NOPE/report", "/lots/NOPE/export.csv", "/lots/NOPE/spc/warp_um"):
        answer = daemon.http.get(path)
        assert answer.status_code == 404 and "NOPE" in answer.json()["error"], path
    answer = daemon.http.get(f"/lots/{LOT}/spc/flux_capacity_um")
    assert answer.status_code == 404 and "coplanarity_um" in answer.json()["error"]


def test_the_cli_writes_the_report_export_and_chart(
    daemon: DaemonProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    url = ["--url", daemon.url]
    html, data = tmp_path / "r.html", tmp_path / "r.json"
    assert main(["lot", "report", LOT, "--html", str(html), "--json", str(data), *url]) == 0
    out = capsys.readouterr().out
    assert f"written to {html}" in out and f"written to {data}" in out
    assert json.loads(data.read_text())["lot"] == LOT
    assert "data:image/png;base64," in html.read_text()
    table = tmp_path / "units.csv"
    assert main(["lot", "export", LOT, "--csv", str(table), *url]) == 0
    assert "rows (one per unit per step)" in capsys.readouterr().out
    assert table.read_text().startswith("lot,strip,site,")
    assert main(["spc", "coplanarity_um", "--lot", LOT, *url]) == 0
    out = capsys.readouterr().out
    assert "Cpk" in out and "LSL 0, USL 100" in out
    assert (tmp_path / f"spc-{LOT}-coplanarity_um.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["spc", "nothing_um", "--lot", LOT, *url]) == 1
    assert "has no value 'nothing_um'" in capsys.readouterr().err
