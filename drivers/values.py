"""Value checks and text codecs shared by the drivers: ranges, enumerations, identifiers, maps.

Every check runs before anything is sent and raises :class:`ParameterOutOfRange` naming the
parameter, the value and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from drivers.errors import ParameterOutOfRange, ProtocolError
from drivers.states import ToolState

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]*$")


def check_identifier(value: str, what: str, *, max_len: int = 20, allow_empty: bool = True) -> str:
    """README §3 identifiers: 1-20 (names 1-16) characters of ``A-Z a-z 0-9 - _ .``."""
    if not isinstance(value, str) or not _IDENTIFIER.match(value) or len(value) > max_len:
        raise ParameterOutOfRange(
            f"{what} {value!r} must be up to {max_len} characters of A-Z a-z 0-9 - _ ."
        )
    if not value and not allow_empty:
        raise ParameterOutOfRange(f"{what} must not be empty")
    return value


def check_input_map(value: str, *, sites: int | None = None) -> str:
    """An input map is a string of ``0``/``1``, one per site."""
    if not isinstance(value, str) or not value or set(value) - {"0", "1"}:
        raise ParameterOutOfRange(f"input map {value!r} must be a non-empty string of 0 and 1")
    if sites is not None and len(value) != sites:
        raise ParameterOutOfRange(
            f"input map has {len(value)} characters, the strip has {sites} sites"
        )
    return value


def check_strip_size(rows: int, cols: int) -> tuple[int, int]:
    """README §4 general limits: rows 1-32, cols 1-64, rows × cols ≤ 1024."""
    if not (1 <= rows <= 32 and 1 <= cols <= 64 and rows * cols <= 1024):
        raise ParameterOutOfRange(
            f"strip size {rows}x{cols} outside rows 1-32, cols 1-64, rows*cols <= 1024"
        )
    return rows, cols


class Codec(Protocol):
    """Checks a Python value and converts it to and from the text of an ASCII protocol."""

    def check(self, value: Any, what: str) -> Any: ...

    def format(self, value: Any) -> str: ...

    def parse(self, text: str) -> Any: ...


@dataclass(frozen=True)
class Number:
    """A number with an inclusive range; ``decimals`` 0 means an integer (NR1)."""

    lo: float
    hi: float
    decimals: int = 0
    unit: str = ""

    def check(self, value: Any, what: str) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterOutOfRange(f"{what} must be a number, got {value!r}")
        if not self.lo <= value <= self.hi:
            raise ParameterOutOfRange(f"{what} = {value} outside {self.describe()}")
        if self.decimals == 0:
            if value != int(value):
                raise ParameterOutOfRange(f"{what} = {value} must be a whole number")
            return int(value)
        return round(float(value), self.decimals)

    def format(self, value: Any) -> str:
        return f"{value:.{self.decimals}f}" if self.decimals else str(int(value))

    def parse(self, text: str) -> float | int:
        try:
            return int(text) if self.decimals == 0 else float(text)
        except ValueError:
            raise ProtocolError(f"{text!r} is not a number") from None

    def describe(self) -> str:
        fmt = f"{{:.{self.decimals}f}}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{fmt.format(self.lo)}..{fmt.format(self.hi)}{unit}"


#: interfaces README §4 strip limits, alike on every tool: rows 1-32, columns 1-64 (rows × cols
#: ≤ 1024: :func:`check_strip_size`), site pitch 1.000-50.000 mm.
STRIP_ROWS, STRIP_COLS = Number(1, 32), Number(1, 64)
PITCH_MM = Number(1.0, 50.0, 3, "mm")


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of enumeration keywords (sent unquoted)."""

    values: tuple[str, ...]

    def check(self, value: Any, what: str) -> str:
        if not isinstance(value, str) or value.upper() not in self.values:
            raise ParameterOutOfRange(f"{what} = {value!r} not one of {', '.join(self.values)}")
        return value.upper()

    def format(self, value: Any) -> str:
        return str(value)

    def parse(self, text: str) -> str:
        if text.upper() not in self.values:
            raise ProtocolError(f"{text!r} not one of {', '.join(self.values)}")
        return text.upper()


@dataclass(frozen=True)
class Flag:
    """A boolean: sent ``ON``/``OFF``, replied ``1``/``0``."""

    def check(self, value: Any, what: str) -> bool:
        if not isinstance(value, bool):
            raise ParameterOutOfRange(f"{what} must be True or False, got {value!r}")
        return value

    def format(self, value: Any) -> str:
        return "ON" if value else "OFF"

    def parse(self, text: str) -> bool:
        if text not in ("0", "1"):
            raise ProtocolError(f"{text!r} is not a boolean reply 0|1")
        return text == "1"


@dataclass(frozen=True)
class Quoted:
    """A string of the identifier or name rule of README §3, sent and replied quoted."""

    max_len: int = 20
    allow_empty: bool = True
    quoted: bool = True

    def check(self, value: Any, what: str) -> str:
        return check_identifier(value, what, max_len=self.max_len, allow_empty=self.allow_empty)

    def format(self, value: Any) -> str:
        return f'"{value}"' if self.quoted else str(value)

    def parse(self, text: str) -> str:
        return unquote(text) if self.quoted else text


def unquote(text: str) -> str:
    """Strip the double quotes of a SCPI string reply; ProtocolError if they are missing."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ProtocolError(f"expected a quoted string, got {text!r}")
    return text[1:-1]


def quoted_names(reply: str) -> list[str]:
    """A SCPI catalogue reply: comma-separated quoted names, ``""`` for none."""
    return [] if reply == '""' else [unquote(part) for part in reply.split(",")]


@dataclass(frozen=True)
class Identifier(Quoted):
    """An identifier sent without quotes (README §3 rule); the empty reply means "not set"."""

    allow_empty: bool = False
    quoted: bool = False


@dataclass(frozen=True)
class InputMap:
    """An input map: ``0``/``1`` per site, quoted on SCPI tools, bare on the ASCII ones."""

    quoted: bool = True

    def check(self, value: Any, what: str) -> str:
        return check_input_map(value)

    def format(self, value: Any) -> str:
        return f'"{value}"' if self.quoted else str(value)

    def parse(self, text: str) -> str:
        value = unquote(text) if self.quoted else text
        if set(value) - {"0", "1"}:
            raise ProtocolError(f"input map {value!r} is not 0/1 characters")
        return value


E = TypeVar("E", bound=Enum)


@dataclass(frozen=True)
class Enumerated(Generic[E]):
    """A member of an enumeration, sent and replied by value (``MODE DIE``, ``STAT?`` states)."""

    kind: type[E]

    def check(self, value: Any, what: str) -> E:
        try:
            return self.kind(value.upper() if isinstance(value, str) else value)
        except ValueError:
            raise ParameterOutOfRange(f"{what} = {value!r} not one of {self.describe()}") from None

    def format(self, value: Any) -> str:
        return str(self.kind(value).value)

    def parse(self, text: str) -> E:
        try:
            return self.kind(text)
        except ValueError:
            raise ProtocolError(f"{text!r} not one of {self.describe()}") from None

    def describe(self) -> str:
        return "|".join(str(member.value) for member in self.kind)


class Reported:
    """Base of the codecs of reply fields only: the tool reports them, nothing sets or sends
    them."""

    def check(self, value: Any, what: str) -> Any:
        raise ParameterOutOfRange(f"{what} is reported by the tool, not set")

    def format(self, value: Any) -> str:
        raise TypeError(f"{type(self).__name__} is a reply field: it is never sent")


@dataclass(frozen=True)
class StateName(Reported):
    """A README §5 state name in a reply (WARMUP read as HEATING); never sent."""

    def parse(self, text: str) -> ToolState:
        try:
            return ToolState.from_name(text)
        except KeyError:
            raise ProtocolError(f"unknown state {text!r}") from None


@dataclass(frozen=True)
class Text(Reported):
    """Free text in a reply (an alarm text, a catalogue message): taken as it comes."""

    def parse(self, text: str) -> str:
        return text


#: Reply fields without a range of their own: counts, codes, measured values.
INTEGER = Number(-(2**63), 2**63 - 1)
REAL = Number(-float("inf"), float("inf"), 3)

#: An alarm's class in an alarm-text reply: abort, hold or warning (README §6).
ALARM_CLASS = Choice(("A", "H", "W"))


def counted_list(reply: str) -> list[int]:
    """``<count>,<code>,...`` (active alarm replies): the codes, checked against the count."""
    try:
        count, *codes = (int(part) for part in reply.split(","))
    except ValueError:
        raise ProtocolError(f"{reply!r} is not integers") from None
    if count != len(codes):
        raise ProtocolError(f"count {count} but {len(codes)} codes")
    return codes


@dataclass(frozen=True)
class Timestamp(Reported):
    """A tool-local ISO timestamp in a reply, quoted or bare; empty means "never" (None)."""

    quoted: bool = True

    def parse(self, text: str) -> datetime | None:
        stamp = unquote(text) if self.quoted else text
        if not stamp:
            return None
        try:
            return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ProtocolError(f"{stamp!r} is not a timestamp YYYY-MM-DDThh:mm:ss") from None


#: README §3 names of stored recipes and programs: 1-16 characters, sent quoted on SCPI tools.
RECIPE_NAME = Quoted(16, allow_empty=False)
