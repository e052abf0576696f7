"""SECS-II items as JSON-ready ``[format, value]`` pairs, so that a message built when an event
happens can be kept in the store (the spool) and sent later, exactly as it was."""

from __future__ import annotations

from typing import Any

from secsgem.secs import variables

Item = list[Any]  # [format, value]: ["A", "L1"], ["U4", 3], ["L<A>", ["a", "b"]]

_SCALAR: dict[str, type[variables.Base]] = {
    "A": variables.String,
    "U4": variables.U4,
    "F8": variables.F8,
    "BOOLEAN": variables.Boolean,
    "B": variables.Binary,
}
_LIST: dict[str, type[variables.Base]] = {"L<A>": variables.String, "L<U4>": variables.U4}


_ASCII = str.maketrans({"–": "-", "—": "-", "°": "deg", "µ": "u", "×": "x", "±": "+/-"})


def ascii_text(text: str) -> str:
    """``text`` in the ASCII an A item carries (units spelled out, anything else '?')."""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def item(fmt: str, value: Any) -> Item:
    """A checked ``[format, value]`` pair (raises ValueError for an unknown format); text is
    made ASCII."""
    if fmt not in _SCALAR and fmt not in _LIST:
        raise ValueError(f"unknown SECS format {fmt!r}")
    if fmt == "A":
        return [fmt, ascii_text(str(value))]
    if fmt == "L<A>":
        return [fmt, [ascii_text(str(v)) for v in value]]
    return [fmt, list(value) if fmt in _LIST else value]


def to_secs(pair: Item) -> variables.Base:
    """The secsgem variable of a ``[format, value]`` pair."""
    fmt, value = pair
    if fmt in _LIST:
        return variables.Array(_LIST[fmt], list(value))
    return _SCALAR[fmt](value)
