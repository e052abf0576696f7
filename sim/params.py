"""Declared tool parameters: range, default, resolution and recipe membership, and their text form.

A tool model lists its parameters once (the manual's parameter table); every front parses
and formats through them, so a range is written down in exactly one place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from sim.tool_model import Reject

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_IDENT = re.compile(r"^[A-Za-z0-9_.\-]*$")


def parse_number(text: str) -> float:
    """A numeric input by README §3 (optional sign, decimals, exponent) as a finite float.

    Not a number -> Reject 12 (SCPI -104). A number too large for a float (``1e999``, a
    400-digit integer) is a number out of every range -> Reject 13, never an OverflowError.
    """
    text = text.strip()
    if not _NUMBER.match(text):
        raise Reject(12, scpi=-104)
    value = float(text)
    if not math.isfinite(value):
        raise Reject(13)
    return value


def parse_integer(text: str, lo: int, hi: int) -> int:
    """An integer input rounded from any number; Reject 13 outside ``lo..hi``."""
    value = round(parse_number(text))
    if not lo <= value <= hi:
        raise Reject(13)
    return value


@dataclass(frozen=True)
class ParamSpec:
    """One parameter. ``kind``: ``int``, ``float``, ``enum``, ``bool`` or ``str``."""

    name: str
    kind: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    decimals: int = 0
    choices: tuple[str, ...] = ()
    recipe: bool = True
    max_len: int = 20

    def parse(self, text: str) -> Any:
        """Parse an input value (README §3 input rules); Reject 12/13 on bad input."""
        text = text.strip()
        if self.kind in ("int", "float"):
            value = parse_number(text)
            value = round(value, self.decimals) if self.kind == "float" else round(value)
            assert self.lo is not None and self.hi is not None
            if not self.lo <= value <= self.hi:
                raise Reject(13)
            return int(value) if self.kind == "int" else value
        if self.kind == "enum":
            if text.upper() not in self.choices:
                raise Reject(12, scpi=-224)
            return text.upper()
        if self.kind == "bool":
            upper = text.upper()
            if upper in ("ON", "1"):
                return True
            if upper in ("OFF", "0"):
                return False
            raise Reject(12, scpi=-224)
        if not _IDENT.match(text) or len(text) > self.max_len:
            raise Reject(12, scpi=-151)
        return text

    def format(self, value: Any) -> str:
        """Reply form: fixed decimals, booleans as 1|0."""
        if self.kind == "float":
            return f"{value:.{self.decimals}f}"
        if self.kind == "int":
            return str(int(value))
        if self.kind == "bool":
            return "1" if value else "0"
        return str(value)


class ParamSet:
    """Working values of a tool's parameters."""

    def __init__(self, specs: list[ParamSpec]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.values: dict[str, Any] = {}
        self.reset()

    def reset(self) -> None:
        """Every parameter to its default, except machine settings (``recipe=False``) already set."""
        for spec in self.specs.values():
            if spec.recipe or spec.name not in self.values:
                self.values[spec.name] = spec.default

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self.values[name] = value

    def set_text(self, name: str, text: str) -> Any:
        value = self.specs[name].parse(text)
        self.values[name] = value
        return value

    def text(self, name: str) -> str:
        return self.specs[name].format(self.values[name])

    def recipe_snapshot(self) -> dict[str, Any]:
        return {n: v for n, v in self.values.items() if self.specs[n].recipe}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.values.update(snapshot)
