"""docs/gem.md says what the equipment answers: every SVID, DVID, CEID (with its report
contents), ECID and ALID of its tables against S1F11, S1F21, S1F23, S2F29 and S5F5."""

from __future__ import annotations

from pathlib import Path

from packline.gem import catalogue
from packline.gem.host import GemHost

DOC = Path(__file__).resolve().parents[2] / "docs" / "gem.md"


def doc_table(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the table under ``### heading``, header excluded."""
    lines = DOC.read_text().splitlines()
    start = lines.index(f"### {heading}")
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("### "):
            break
        if line.startswith("| ") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows[1:]


def test_the_manual_lists_exactly_what_the_equipment_answers(host: GemHost) -> None:
    host.online()
    svs = {(sv["SVID"], sv["SVNAME"], sv["UNITS"]) for sv in host.send(1, 11, []).get()}
    assert {(int(r[0]), r[1], r[3]) for r in doc_table("Status variables (SVID)")} == svs
    dvs = {(dv["VID"], dv["DVVALNAME"], dv["UNITS"]) for dv in host.send(1, 21, []).get()}
    assert {(int(r[0]), r[1], r[3]) for r in doc_table("Data variables (DVID)")} == dvs
    events = {(e["CEID"], e["CENAME"], tuple(e["VID"])) for e in host.send(1, 23, []).get()}
    documented = {
        (int(r[0]), r[1], tuple(int(d.split()[0]) for d in r[2].split(", ") if d[0].isdigit()))
        for r in doc_table("Collection events (CEID)")
    }
    assert documented == events
    constants = {
        (c["ECID"], c["ECNAME"], int(c["ECMIN"]), int(c["ECMAX"]), int(c["ECDEF"]), c["UNITS"])
        for c in host.send(2, 29, []).get()
    }
    assert {
        (int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4]), r[5])
        for r in doc_table("Equipment constants (ECID)")
    } == constants
    alarms = {(a["ALID"], a["ALTX"]) for a in host.send(5, 5, []).get()}
    assert {(int(r[0]), r[5]) for r in doc_table("Alarms (ALID)")} == alarms
    assert {r[0] for r in doc_table("Remote commands (RCMD)")} == {
        c.name for c in catalogue.COMMANDS
    }
