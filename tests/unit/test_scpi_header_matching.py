"""A SCPI front compiles a header pattern only when a header could match it (one whose first
node is the pattern's): the answer must be the full pattern's, for every header a host might
send: long and short forms, any case, a leading colon, numeric suffixes, another command's
header, and patterns whose first node is optional, starts in lower case or ends in a digit."""

from __future__ import annotations

import itertools

import pytest

from sim.fronts.scpi import ScpiCommand, ScpiFront, compile_header
from sim.laser.model import LaserModel
from sim.laser.server import laser_commands
from sim.world import World
from tests.support.hand_clock import HandClock

#: Patterns the tools' tables do not all have: the prefilter must stand aside for them.
ODD_PATTERNS = [
    "[SYSTem]:ERRor",
    "xCOORdinate",
    "*IDN",
    "STRip#:ID",
    "[:SOURce]:POWer#",
    "ZONE1#:TEMPerature",
    "SYSTem[:ERRor]",
]


def _patterns() -> list[str]:
    model = LaserModel(HandClock(), World(), seed=5)
    return [command.pattern for command in ScpiFront(model, laser_commands(model)).commands]


def _headers(pattern: str) -> list[str]:
    """Headers a host could send for ``pattern``: long, short and mixed forms, suffixed."""
    nodes = [node.strip("[]:") for node in pattern.replace("[", ":[").split(":") if node]
    long_form = ":".join(node.rstrip("#") for node in nodes)
    short_form = ":".join(
        "".join(ch for ch in node.rstrip("#") if ch.isupper() or ch.isdigit() or ch == "*")
        for node in nodes
    )
    forms = {long_form, short_form, long_form.lower(), short_form.lower()}
    forms |= {f":{form}" for form in forms} | {form.replace(":", "2:", 1) for form in forms}
    return sorted(forms | {nodes[-1].rstrip("#")})


PATTERNS = _patterns() + ODD_PATTERNS


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_header_matches_as_the_whole_pattern_says(pattern: str) -> None:
    command = ScpiCommand(pattern)
    whole = compile_header(pattern)
    headers = set(itertools.chain.from_iterable(_headers(p) for p in PATTERNS))
    headers |= {"", ":", "::SYST:ERR", "ſYST:ERR", "ıDN", "?", "#1"}
    for header in sorted(headers):
        expected = whole.match(header)
        got = command.match(header)
        assert (got and got.groups()) == (expected and expected.groups()), (pattern, header)


def test_the_front_still_resolves_long_short_and_suffixed_headers() -> None:
    model = LaserModel(HandClock(), World(), seed=5)
    suffixed = ScpiCommand("STRip#:ID", query=lambda args, suffixes: str(suffixes), suffix_max=4)
    front = ScpiFront(model, [*laser_commands(model), suffixed])
    assert front.handle("*IDN?") is not None
    assert front.handle("syst:err?") == '0,"No error"'
    assert front.handle(":SYSTem:ERRor?") == '0,"No error"'
    assert front.handle("STR3:ID?") == "[3]"
    assert front.handle("NOSUCH?") is None
    assert front.handle("SYST:ERR?") == '-113,"Undefined header"'
