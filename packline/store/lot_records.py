"""A lot's records read back from the store as the lot runner's own typed records.

The lot report, the unit export and SPC are built from these exactly as a dry run builds its
report from a :class:`~sequences.records.MemoryRecorder`, so a daemon lot and a dry run report
the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from packline.errors import NotFound
from packline.store.store import Store
from sequences.jobs import SiteOutcome, StripOutcome
from sequences.lot import StripProgress
from sequences.packml import PackState
from sequences.records import AlarmRecord, CycleRecord, MemoryRecorder, StepRecord
from sequences.station_machine import StateEvent


@dataclass(frozen=True)
class LotRecords:
    """One lot from the store: what it was, and everything recorded of it."""

    lot_id: str
    recipe_name: str
    recipe_text: str
    rows: int
    cols: int
    strip_ids: tuple[str, ...]
    recorded: MemoryRecorder
    strips: dict[str, StripProgress]


def lot_records(store: Store, lot_id: str) -> LotRecords:
    """The lot's step results (with every unit), its cycles, alarms and the state events of
    its stations while it ran. :class:`NotFound` for an unknown lot."""
    lot = store.lot(lot_id)
    if lot is None:
        raise NotFound(f"no lot {lot_id!r}")
    strips = store.strip_progress(lot_id)
    recorded = MemoryRecorder()
    with store.read() as conn:
        units: dict[tuple[str, int], list[SiteOutcome]] = {}
        for strip_id, step_index, site, result, defect, values in conn.execute(
            "SELECT strip_id, step_index, site, result, defect, values_json FROM units"
            " WHERE lot_id = ? ORDER BY strip_id, step_index, site",
            (lot_id,),
        ):
            unit = SiteOutcome(site, result, defect, json.loads(values))
            units.setdefault((strip_id, step_index), []).append(unit)
        for (
            strip_id,
            step_index,
            step,
            station,
            tool,
            started,
            ended,
            result_map,
            tool_summary,
            recipe_values,
        ) in conn.execute(
            "SELECT strip_id, step_index, step, station, tool, started, ended, result_map,"
            " tool_summary_json, recipe_values_json FROM step_results WHERE lot_id = ?"
            " ORDER BY started, strip_id",
            (lot_id,),
        ):
            outcome = StripOutcome(
                strip_id,
                step,
                station,
                result_map,
                tuple(units.get((strip_id, step_index), ())),
                json.loads(tool_summary),
                json.loads(recipe_values),
            )
            recorded.steps.append(
                StepRecord(
                    lot_id, strip_id, step_index, step, station, tool, started, ended, outcome
                )
            )
        mine = set(lot["strip_ids"])
        for (
            station,
            tool,
            step,
            strip_ids_json,
            setup_started,
            started,
            ended,
            final_state,
        ) in conn.execute(
            "SELECT station, tool, step, strip_ids_json, setup_started, started, ended,"
            " final_state FROM cycles ORDER BY setup_started, cycle_id"
        ):
            strip_ids = tuple(json.loads(strip_ids_json))
            if mine.intersection(strip_ids):
                recorded.cycles.append(
                    CycleRecord(
                        station, tool, step, strip_ids, setup_started, started, ended, final_state
                    )
                )
        for time, station, strip_ids_json, code, alarm_class, text, handling in conn.execute(
            "SELECT time, station, strip_ids_json, code, class, text, handling FROM alarms"
            " WHERE lot_id = ? ORDER BY time, alarm_id",
            (lot_id,),
        ):
            recorded.alarms.append(
                AlarmRecord(
                    time,
                    station,
                    tuple(json.loads(strip_ids_json)),
                    code,
                    alarm_class,
                    text,
                    handling,
                )
            )
        if recorded.cycles:
            start = min(c.setup_started for c in recorded.cycles)
            end = max(c.ended for c in recorded.cycles)
            for time, station, from_state, to_state, cause in conn.execute(
                "SELECT time, station, from_state, to_state, cause FROM station_events"
                " WHERE time BETWEEN ? AND ? ORDER BY time, event_id",
                (start, end),
            ):
                recorded.events.append(
                    StateEvent(time, station, PackState(from_state), PackState(to_state), cause)
                )
    return LotRecords(
        lot_id=lot_id,
        recipe_name=lot["recipe_name"],
        recipe_text=lot["recipe_text"],
        rows=lot["rows"],
        cols=lot["cols"],
        strip_ids=tuple(lot["strip_ids"]),
        recorded=recorded,
        strips=strips,
    )
