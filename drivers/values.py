"""Value checks and text codecs shared by the drivers: ranges, enumerations, identifiers, maps.

Every check runs before anything is sent and raises :class:`ParameterOutOfRange` naming the
parameter, the value and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.errors import ParameterOutOfRange, ProtocolError

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

    def describe(self) -> str: ...


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

    def describe(self) -> str:
        return "|".join(self.values)


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

    def describe(self) -> str:
        return "True|False"


@dataclass(frozen=True)
class Quoted:
    """A quoted string (identifier or name rule of README §3)."""

    max_len: int = 20

    def check(self, value: Any, what: str) -> str:
        return check_identifier(value, what, max_len=self.max_len)

    def format(self, value: Any) -> str:
        return f'"{value}"'

    def parse(self, text: str) -> str:
        return unquote(text)

    def describe(self) -> str:
        return f'"<up to {self.max_len} characters>"'


def unquote(text: str) -> str:
    """Strip the double quotes of a SCPI string reply; ProtocolError if they are missing."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ProtocolError(f"expected a quoted string, got {text!r}")
    return text[1:-1]
