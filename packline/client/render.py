"""Plain-text tables and records of the daemon's JSON, for people; ``--json`` bypasses them.

The renderers follow the shape of the data rather than a fixed layout: a record prints its
scalar fields as ``key: value`` lines, a nested object indented, a list of objects as a table.
A field the daemon adds later therefore shows up without a change here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Fields holding epoch seconds (besides every ``*_at``), printed as local date and time.
TIME_FIELDS = frozenset({"time", "created", "started", "finished", "ended"})
EMPTY = "-"


def cell(value: Any, key: str = "") -> str:
    """One value as short text: times as local time, floats to 4 digits or tenths, lists joined."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    is_time = key in TIME_FIELDS or key.endswith("_at")
    if is_time and isinstance(value, int | float) and value > 1e8:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
    if isinstance(value, float):
        if abs(value) >= 100:  # seconds of E10 time, cycle times: tenths are enough
            return f"{value:.0f}" if abs(value) >= 1e6 else f"{value:.1f}"
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell(v, str(k))}" for k, v in value.items()) or EMPTY
    if isinstance(value, list | tuple):
        return ",".join(cell(v) for v in value) or EMPTY
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> list[str]:
    """Aligned columns with an upper-case header; ``columns`` (those present) or every key."""
    if not rows:
        return ["(none)"]
    keys = _keys(rows)
    if columns:
        chosen = [c for c in columns if c in keys]
        keys = chosen or keys
    cells = [[cell(row.get(key), key) for key in keys] for row in rows]
    header = [key.upper().replace("_", " ") for key in keys]
    widths = [max(len(text) for text in column) for column in zip(header, *cells, strict=True)]
    lines = []
    for line in (header, *cells):
        lines.append("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)))
    return [line.rstrip() for line in lines]


def _keys(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys)


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _is_table_of_mappings(value: Any) -> bool:
    """``{name: {field: scalar}}`` (E10 times per station) prints best as a table."""
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(
            isinstance(v, Mapping)
            and v
            and not any(isinstance(x, Mapping | list) for x in v.values())
            for v in value.values()
        )
    )


def mapping_table(value: Mapping[str, Mapping[str, Any]], key_header: str) -> list[str]:
    """A table of ``{name: {field: value}}`` with the names as first column."""
    return table([{key_header: name, **fields} for name, fields in value.items()])


def record(value: Mapping[str, Any], *, hide: Iterable[str] = (), indent: str = "") -> list[str]:
    """``key: value`` lines for scalars first, then each nested object or table under its key."""
    hidden = set(hide)
    simple = {
        k: v
        for k, v in value.items()
        if k not in hidden and not _is_rows(v) and not isinstance(v, Mapping)
    }
    width = max((len(k) for k in simple), default=0)
    lines = [f"{indent}{k + ':':<{width + 1}} {cell(v, k)}" for k, v in simple.items()]
    for key, nested in value.items():
        if key in hidden or key in simple:
            continue
        lines.append(f"{indent}{key}:")
        if _is_table_of_mappings(nested):
            body = mapping_table(nested, "name")
        elif isinstance(nested, Mapping):
            body = record(nested) if nested else [EMPTY]
        else:
            body = table(nested)
        lines += [f"{indent}  {line}" for line in body]
    return lines
