"""Process programs (S7) over configs/recipes: a master recipe is a process program, its file
stem the PPID and its YAML text the PPBODY.

A download (S7F3) is checked exactly as ``packline recipe check`` checks a file (the same
``load_recipe`` and ``route_for``, on the body saved under the PPID's file name in a scratch
folder) and only a valid recipe is moved into the recipes folder, atomically. Lots keep the
recipe text they were submitted with, so replacing or deleting a recipe never changes a lot
already queued or running.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packline.errors import NotFound
from packline.store.users import Users
from packline.vocabulary import role_allows
from sequences.config_errors import ConfigError
from sequences.recipe import load_recipe
from sequences.route import route_for

# ACKC7 (E5): 0 accepted, 1 permission not granted, 2 length error, 4 PPID not found,
# 5 mode unsupported (here: the body is not a valid recipe; the reason goes to S10F1).
ACKC7_OK, ACKC7_DENIED, ACKC7_LENGTH, ACKC7_NO_PPID, ACKC7_INVALID = 0, 1, 2, 4, 5
PPID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")  # a recipe file stem
MAX_PPBODY_BYTES = 1_000_000

#: Who may download: returns None to allow, or the reason for refusing (see
#: :func:`engineer_when_users`, what the daemon uses).
DownloadPermission = Callable[[str], str | None]
DOWNLOAD_ROLE = "engineer"


def anyone(ppid: str) -> str | None:
    del ppid
    return None


def engineer_when_users(users: Users, host_user: str | None) -> DownloadPermission:
    """As the HTTP API: while the line has no users anyone may; once it has, the host acts as
    ``host_user`` (``gem: {user}``), who must exist and have the engineer role. Checked at each
    download, so a user added or changed later counts at once."""

    def may_download(ppid: str) -> str | None:
        del ppid
        if not users.list():
            return None
        if host_user is None:
            return f"{DOWNLOAD_ROLE} role required: the line has users and gem.user names none"
        try:
            user = users.get(host_user)
        except NotFound:
            return f"{DOWNLOAD_ROLE} role required: gem.user {host_user!r} is not a user"
        if not role_allows(user.role, DOWNLOAD_ROLE):
            return f"{DOWNLOAD_ROLE} role required: {user.name} is {user.role}"
        return None

    return may_download


@dataclass(frozen=True)
class Reply:
    """ACKC7 and, when refused, why (for the log and the host's terminal)."""

    ackc7: int
    reason: str = ""


class ProcessPrograms:
    """The recipes folder as the equipment's process-program store."""

    def __init__(self, recipes_dir: Path, may_download: DownloadPermission = anyone) -> None:
        self.recipes_dir = recipes_dir
        self.may_download = may_download

    def directory(self) -> list[str]:
        """S7F19/20: every PPID, sorted."""
        return sorted(p.stem for p in self.recipes_dir.glob("*.yaml"))

    def upload(self, ppid: str) -> str | None:
        """S7F5/6: the recipe's text, or None if there is no such PPID."""
        path = self._path(ppid)
        return path.read_text() if path is not None and path.is_file() else None

    def download(self, ppid: str, body: str | bytes) -> Reply:
        """S7F3/4: store ``body`` as recipe ``ppid`` if it is a valid recipe of that name."""
        path = self._path(ppid)
        if path is None:
            return Reply(ACKC7_NO_PPID, f"PPID {ppid!r} is not a recipe name")
        refusal = self.may_download(ppid)
        if refusal is not None:
            return Reply(ACKC7_DENIED, refusal)
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        if len(data) > MAX_PPBODY_BYTES:
            return Reply(ACKC7_LENGTH, f"PPBODY of {len(data)} bytes; at most {MAX_PPBODY_BYTES}")
        with tempfile.TemporaryDirectory(dir=self.recipes_dir, prefix=".s7f3-") as scratch:
            candidate = Path(scratch) / path.name
            candidate.write_bytes(data)
            problems = check_recipe_file(candidate)
            if problems:
                return Reply(ACKC7_INVALID, f"recipe {ppid} refused: " + "; ".join(problems))
            os.replace(candidate, path)
        return Reply(ACKC7_OK)

    def delete(self, ppids: Sequence[str]) -> Reply:
        """S7F17/18: delete these recipes; all or none. An empty list (E30: all) is refused."""
        if not ppids:
            return Reply(ACKC7_DENIED, "deleting every recipe at once is not allowed")
        paths = [self._path(p) for p in ppids]
        missing = [
            p for p, path in zip(ppids, paths, strict=True) if path is None or not path.is_file()
        ]
        if missing:
            return Reply(ACKC7_NO_PPID, f"no recipe {', '.join(map(str, missing))}")
        for path in paths:
            if path is not None:
                path.unlink()
        return Reply(ACKC7_OK)

    def _path(self, ppid: object) -> Path | None:
        if not isinstance(ppid, str) or not PPID.match(ppid.removesuffix(".yaml")):
            return None
        return self.recipes_dir / f"{ppid.removesuffix('.yaml')}.yaml"


def check_recipe_file(path: Path) -> list[str]:
    """The problems ``packline recipe check`` reports for ``path`` (empty if valid)."""
    try:
        route_for(load_recipe(path))
    except ConfigError as exc:
        return list(exc.problems)
    return []
