"""Typed records for what the tools report: identity, alarms, per-site results, summaries.

Per-site result records (README §8) are CSV ``<site>,<result>,<defect>,<values...>``, read by
:func:`parse_site_record` into a tool's :class:`SiteRecord` subclass (a line that does not fit
is a :class:`ProtocolError` quoting it).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar, cast

from drivers.errors import ProtocolError

RESULT_CHARS = frozenset("PFXN")


@dataclass(frozen=True)
class Identity:
    """``*IDN?``-style identity: vendor, model, serial number, firmware."""

    vendor: str
    model: str
    serial: str
    firmware: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 4:
            raise ProtocolError(f"identity {text!r} is not <vendor>,<model>,<serial>,<firmware>")
        return cls(*parts)


@dataclass(frozen=True)
class AlarmInfo:
    """One alarm of a tool's alarm table: code, class (A, H or W) and text."""

    code: int
    alarm_class: str
    text: str


def alarms(table: str) -> Mapping[int, AlarmInfo]:
    """A tool's alarm table as its manual prints it, one alarm a line: ``<code> <class> <text>``
    (``4001 A Emergency stop``); by code, in manual order."""
    rows = (_table_row(line, 3) for line in table.strip().splitlines())
    return MappingProxyType(
        {int(code): AlarmInfo(int(code), cls, text) for code, cls, text in rows}
    )


def defects(table: str) -> Mapping[int, str]:
    """A tool's defect-code table as its manual prints it, one code a line: ``<code> <text>``."""
    rows = (_table_row(line, 2) for line in table.strip().splitlines())
    return MappingProxyType({int(code): text for code, text in rows})


def _table_row(line: str, columns: int) -> list[str]:
    """The ``columns`` whitespace-separated cells of a table line, the last taking the rest."""
    cells = line.split(maxsplit=columns - 1)
    if len(cells) != columns or not cells[0].isdigit():
        raise ValueError(f"table line {line.strip()!r} is not <code> and {columns - 1} more cells")
    return cells


@dataclass(frozen=True)
class SiteRecord:
    """Per-site result: site id, map character, defect code. Subclasses add value fields."""

    site: int
    result: str
    defect: int

    @property
    def value_fields(self) -> tuple[str, ...]:
        """The names of the record's value fields (after site, result and defect)."""
        return tuple(f.name for f in dataclasses.fields(self)[3:])

    @property
    def passed(self) -> bool:
        return self.result == "P"


@dataclass(frozen=True)
class StripSummary:
    """README §8 strip summary; ``extra`` holds the tool-specific trailing fields, parsed."""

    strip_id: str
    sites: int
    passed: int
    failed: int
    skipped: int
    not_processed: int
    cycle_s: float
    extra: tuple[Any, ...] = field(default=())


R = TypeVar("R", bound=SiteRecord)


def optional(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """A field converter for which the empty string means "not measured" (``None``)."""

    def parse(text: str) -> Any:
        return None if text == "" else convert(text)

    return parse


#: Per record type: its value fields' names and converters (resolving the type hints costs
#: ~1 ms, parsing a record a few µs; a dry run parses thousands).
_VALUE_FIELDS: dict[type, tuple[tuple[str, ...], tuple[Callable[[str], Any], ...]]] = {}


def _value_fields(
    record_type: type[SiteRecord],
) -> tuple[tuple[str, ...], tuple[Callable[[str], Any], ...]]:
    """The names of ``record_type``'s value fields (after site, result, defect) and how each is
    read, from its declared type: ``int | None`` reads an ``int``, and the empty field as
    ``None``."""
    known = _VALUE_FIELDS.get(record_type)
    if known is None:
        hints = typing.get_type_hints(record_type)
        fields = dataclasses.fields(record_type)[3:]
        known = (tuple(f.name for f in fields), tuple(_converter(hints[f.name]) for f in fields))
        _VALUE_FIELDS[record_type] = known
    return known


def _converter(kind: Any) -> Callable[[str], Any]:
    types = typing.get_args(kind)
    if type(None) in types:
        (present,) = (t for t in types if t is not type(None))
        return optional(present)
    return cast(Callable[[str], Any], kind)


def parse_site_record(record_type: type[R], line: str) -> R:
    """Parse ``<site>,<result>,<defect>,<v1>,...`` into ``record_type`` (the values read as
    their fields are typed)."""
    names, converters = _value_fields(record_type)
    parts = line.strip().split(",")
    expected = 3 + len(converters)
    if len(parts) != expected:
        raise ProtocolError(f"result record {line!r} has {len(parts)} fields, expected {expected}")
    try:
        site = int(parts[0])
        result = parts[1]
        defect = int(parts[2])
        values = [convert(text) for convert, text in zip(converters, parts[3:], strict=True)]
    except ValueError as exc:
        raise ProtocolError(f"result record {line!r} does not parse ({exc})") from exc
    if result not in RESULT_CHARS:
        raise ProtocolError(f"result record {line!r}: result {result!r} not one of P F X N")
    return record_type(site, result, defect, **dict(zip(names, values, strict=True)))


def parse_summary(text: str, extra_converters: Sequence[Callable[[str], Any]] = ()) -> StripSummary:
    """Parse a README §8 strip summary (the id quoted or not)."""
    parts = text.strip().split(",")
    if len(parts) != 7 + len(extra_converters):
        raise ProtocolError(
            f"summary {text!r} has {len(parts)} fields, expected {7 + len(extra_converters)}"
        )
    try:
        strip_id = parts[0].strip('"')
        counts = [int(p) for p in parts[1:6]]
        cycle_s = float(parts[6])
        extra = tuple(convert(p) for convert, p in zip(extra_converters, parts[7:], strict=True))
    except ValueError as exc:
        raise ProtocolError(f"summary {text!r} does not parse ({exc})") from exc
    passed, failed, skipped, not_processed = counts[1:]
    return StripSummary(strip_id, counts[0], passed, failed, skipped, not_processed, cycle_s, extra)


def check_map(result_map: str, sites: int, *, what: str = "map") -> str:
    """Check a result map's length and characters."""
    if len(result_map) != sites or not set(result_map) <= RESULT_CHARS:
        raise ProtocolError(f"{what} {result_map!r} is not {sites} characters of P F X N")
    return result_map


def parse_result_map(text: str) -> str:
    """A result map as a tool reports it: one of P F X N per site (its length unchecked)."""
    return check_map(text, len(text), what="result map")


def parse_site_records(record_type: type[R], reply: str) -> list[R]:
    """The ``;``-separated records of a result page (``RESult:DATA?``, ``RES?``)."""
    return [parse_site_record(record_type, line) for line in reply.split(";") if line]


def next_input_map(result_map: str) -> str:
    """The next tool's input map from a result map: P -> 1, F/X/N -> 0 (README §4)."""
    return "".join("1" if c == "P" else "0" for c in result_map)
