"""The line's words, said once: lot and strip statuses, operator commands, roles, id patterns.

The HTTP models, the controller, the store and the CLI all import these, so they cannot
disagree on what a lot status, a command or a valid id is. Station commands are the PackML
operator commands of :mod:`sequences.packml` (where the state machine defines them); recipe
names follow the recipe model's ``name`` field (:mod:`sequences.recipe`).
"""

from __future__ import annotations

import re
from typing import Final

from sequences.packml import OPERATOR_COMMANDS

LOT_STATUSES: Final = ("queued", "running", "held", "aborting", "complete", "aborted")
#: What the daemon resumes after a restart ("aborting": an abort asked while cycles still ran).
OPEN_LOT_STATUSES: Final = ("queued", "running", "held", "aborting")
FINISHED_LOT_STATUSES: Final = ("complete", "aborted")
#: The final status of a strip in a lot.
STRIP_DISPOSITIONS: Final = ("complete", "scrapped", "on hold")

LOT_COMMANDS: Final = ("hold", "release", "abort")
STATION_COMMANDS: Final = tuple(c for c in OPERATOR_COMMANDS if c != "start")
#: Commands that lose work or stop a tool: the operator page asks for a confirmation first.
DESTRUCTIVE_COMMANDS: Final = ("abort", "stop", "clear", "reset")
#: Taking a station out of service and back (``POST /stations/{name}/disable|enable``);
#: disable needs a reason.
STATION_SERVICE_COMMANDS: Final = ("disable", "enable")

#: Roles in rising order: each may do what the ones before it may.
ROLES: Final = ("viewer", "operator", "engineer")

#: Lot and strip ids are sent to the tools: interfaces README §3 identifiers (up to 20 of
#: A-Z a-z 0-9 - _ .), starting with a letter or digit so that an id is never ``..``.
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$"
ID_RULE: Final = "1-20 characters of A-Z a-z 0-9 - _ . starting with a letter or digit"
#: A recipe name is a file name in configs/recipes without ``.yaml``: no path separators.
RECIPE_NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
#: A user name: what the command log and the page show.
USER_NAME_PATTERN: Final = r"^[a-z][a-z0-9_.\-]{0,31}$"
MAX_STRIPS: Final = 200

ID = re.compile(ID_PATTERN)
RECIPE_NAME = re.compile(RECIPE_NAME_PATTERN)
USER_NAME = re.compile(USER_NAME_PATTERN)


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what needs ``needed`` (an unknown role may do nothing)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


#: Lot priorities accepted from the API, CLI and SECS/GEM (higher goes first; 0 by default).
PRIORITY_RANGE = range(-1000, 1001)
