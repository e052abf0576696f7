"""The API token: where the daemon and the CLI clients find it.

Both take ``PACKLINE_TOKEN`` from the environment first. Otherwise the daemon uses a token file
beside its database (``<db>.token``, or ``--token-file``) and makes one, with a random token
and owner-only permissions, the first time it runs; the clients read the same file
(``--token-file``, by default ``packline.db.token`` in the current directory, which is where
``packline serve`` puts it with its default database ``packline.db``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

TOKEN_ENV = "PACKLINE_TOKEN"
#: The clients' token file when ``--token-file`` is not given.
CLIENT_TOKEN_FILE = Path("packline.db.token")


class TokenError(Exception):
    """The token file cannot be read, made, or trusted; the message says which file and why."""


def token_file_for(db_path: Path) -> Path:
    """The default token file of a database: ``packline.db`` -> ``packline.db.token``."""
    return db_path.with_name(db_path.name + ".token")


def server_token(
    db_path: Path, token_file: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> str:
    """The daemon's token: ``PACKLINE_TOKEN``, else the token file, made if missing.

    A token file that others may read (any group or other permission bit) is refused, as ssh
    refuses a private key: whoever can read it can command the line.
    """
    from_env = _from_env(environ)
    if from_env:
        return from_env
    path = token_file or token_file_for(db_path)
    if not path.exists():
        _create_token_file(path)
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise TokenError(
                f"token file {path} may be read by others (mode {mode:04o}): chmod 600 {path}"
            )
    return _read_token_file(path)


def client_token(
    token_file: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> str | None:
    """The clients' token: ``PACKLINE_TOKEN``, else the token file; None if the default file
    does not exist (reads need no token). A ``token_file`` given explicitly must exist."""
    from_env = _from_env(environ)
    if from_env:
        return from_env
    if token_file is None:
        if not CLIENT_TOKEN_FILE.exists():
            return None
        token_file = CLIENT_TOKEN_FILE
    return _read_token_file(token_file)


def _from_env(environ: Mapping[str, str] | None) -> str:
    return (os.environ if environ is None else environ).get(TOKEN_ENV, "").strip()


def _read_token_file(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenError(f"cannot read token file {path}: {exc}") from None
    if not token or any(c.isspace() for c in token):
        raise TokenError(
            f"token file {path} must hold one token (no spaces); delete it and restart the "
            "daemon to have a new one made"
        )
    return token


def _create_token_file(path: Path) -> None:
    """Write a new random token, owner-only from the start; a concurrent maker's file wins."""
    token = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(token + "\n")
        with contextlib.suppress(FileExistsError):  # a file made meanwhile is kept
            os.link(temporary, path)  # atomic: the token file never exists half written
    except OSError as exc:
        raise TokenError(f"cannot create token file {path}: {exc}") from None
    finally:
        temporary.unlink(missing_ok=True)
