"""What the factory host set up on the equipment, kept in the store across daemon restarts:
report definitions (S2F33), their links to events (S2F35), which events (S2F37) and alarms
(S5F3) are enabled, and the equipment constants it set (S2F15).

E30 lets an equipment keep these or forget them on a restart; a factory integrator expects a
restarted equipment to go on reporting as it was told to, so they are kept: saved (one JSON
document per line) after every message that changes them, and restored when the GEM front
starts, over the line config's values.
"""

from __future__ import annotations

from typing import Any

from secsgem.gem import CollectionEventLink, CollectionEventReport

#: The JSON document: ids keep their type (secsgem allows integer or text ids).
Setup = dict[str, Any]


def snapshot(equipment: Any) -> Setup:
    """The host's set-up of ``equipment`` (a secsgem GEM equipment handler) as JSON-ready data."""
    return {
        "reports": [
            [_plain(rptid), [_plain(v) for v in _plain(report.vars)]]
            for rptid, report in equipment.registered_reports.items()
        ],
        "links": [
            [_plain(ceid), [_plain(r) for r in link.reports], bool(link.enabled)]
            for ceid, link in equipment.registered_collection_events.items()
        ],
        "alarms_enabled": [
            _plain(alid) for alid, alarm in equipment.alarms.items() if alarm.enabled
        ],
        "constants": [[c.ecid, c.value] for c in equipment.equipment_constants.values()],
    }


def _plain(value: Any) -> Any:
    """secsgem keeps some ids as the SECS items they came in: their Python value."""
    return value.get() if hasattr(value, "get") else value


def restore(equipment: Any, setup: Setup) -> list[str]:
    """Apply a saved set-up to ``equipment``; what could not be applied (an event, alarm or
    constant this line no longer has, a value now out of range), in words, for the log."""
    skipped: list[str] = []
    for rptid, vids in setup.get("reports", []):
        equipment.registered_reports[rptid] = CollectionEventReport(rptid, vids)
    for ceid, rptids, enabled in setup.get("links", []):
        event = equipment.collection_events.get(ceid)
        if event is None:
            skipped.append(f"link to CEID {ceid} (no such event)")
            continue
        link = CollectionEventLink(event, list(rptids))
        link.enabled = bool(enabled)
        equipment.registered_collection_events[ceid] = link
    enabled_alarms = set(setup.get("alarms_enabled", []))
    for alid in enabled_alarms - set(equipment.alarms):
        skipped.append(f"ALID {alid} enabled (no such alarm)")
    for alid, alarm in equipment.alarms.items():
        alarm.enabled = alid in enabled_alarms
    for ecid, value in setup.get("constants", []):
        constant = equipment.equipment_constants.get(ecid)
        if constant is None or not constant.min_value <= value <= constant.max_value:
            skipped.append(f"ECID {ecid} = {value} (unknown or out of range)")
            continue
        equipment.set_constant(constant.name, value)
    return skipped
