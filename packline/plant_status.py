"""``packline plant status --db URL``: every line of a plant database, its stations and lots.

Reads the database the line daemons share (PostgreSQL, or an SQLite file) directly, so it
works with every daemon stopped too; it writes nothing.
"""

from __future__ import annotations

import datetime

from packline.store.store import Store

#: Lots shown per line: the open ones and this many most recent finished ones.
RECENT_FINISHED = 5


def _when(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def plant_status(location: str) -> str:
    """The plant's lines as text: per line, each station's state and the line's lots."""
    with Store(location) as plant:
        lines = plant.lines()
    if not lines:
        return f"plant database {location}: no line has recorded anything yet\n"
    out: list[str] = []
    for line in lines:
        with Store(location, line=line) as store:
            stations = store.station_states()
            lots = store.lots()
        out.append(f"line {line or '(none)'}")
        out.append("  stations:" if stations else "  stations: none recorded")
        for station, (state, since) in sorted(stations.items()):
            out.append(f"    {station:<20} {state:<12} since {_when(since)}")
        finished = [lot for lot in lots if lot["finished"] is not None][-RECENT_FINISHED:]
        shown = [lot for lot in lots if lot["finished"] is None] + finished
        out.append("  lots:" if shown else "  lots: none")
        for lot in sorted(shown, key=lambda lot: lot["submit_seq"]):
            counts = ", ".join(f"{n} {what}" for what, n in lot["counts"].items() if n)
            out.append(
                f"    {lot['lot_id']:<16} {lot['status']:<9} {lot['recipe_name']:<24} "
                f"{lot['strip_count']} strips ({counts or 'none yet'})"
            )
    return "\n".join(out) + "\n"
