"""Named users of the line (viewer, operator, engineer) and the API tokens that belong to them.

Passwords are kept as argon2id hashes (argon2-cffi); a token is 32 random bytes and only its
SHA-256 is kept, so a copy of the database lets nobody sign in or command the line.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from packline.errors import Conflict, Invalid, NotFound, Unauthenticated
from packline.store.store import Store
from packline.vocabulary import ROLES, USER_NAME, USER_NAME_PATTERN

MIN_PASSWORD_CHARS = 8
_HASHER = PasswordHasher()
#: Verified against when the name is unknown, so that a wrong name costs the same argon2 time
#: as a wrong password and names cannot be probed by timing either. A hash made once with the
#: hasher's parameters, not at import: hashing costs every ``packline`` command (dry runs, each
#: daemon start) most of a second. Made afresh only if the library's defaults have changed.
_UNKNOWN_USER_HASH = "$argon2id$v=19$m=65536,t=3,p=4$/eKWYEl6xiCiR/P1LJjc2g$ysGphYmNdhxB8FnUPyDungWXKmrL9TMfiXT8WNTIZoA"
if _HASHER.check_needs_rehash(_UNKNOWN_USER_HASH):
    _UNKNOWN_USER_HASH = _HASHER.hash("no such user: this hash is never matched")


@dataclass(frozen=True)
class User:
    """Who asked: the name the command log shows and the role that decides what they may do."""

    name: str
    role: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    """The users and tokens of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, name: str, role: str, password: str) -> User:
        """A new user; :class:`Invalid` for a bad name, role or short password, :class:`Conflict`
        if the name is taken."""
        problems = []
        if not USER_NAME.match(name):
            problems.append(f"user name {name!r} must match {USER_NAME_PATTERN}")
        if role not in ROLES:
            problems.append(f"role {role!r} must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_CHARS:
            problems.append(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
        if problems:
            raise Invalid(f"user {name!r} not added: {'; '.join(problems)}", problems)
        hashed = _HASHER.hash(password)
        with self.store.write(f"add user {name}") as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"user {name!r} already exists")
            conn.execute(
                "INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?)",
                (name, role, hashed, self.store.clock()),
            )
        return User(name, role)

    def list(self) -> list[User]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT name, role FROM users ORDER BY name").fetchall()
        return [User(str(name), str(role)) for name, role in rows]

    def get(self, name: str) -> User:
        with self.store.read() as conn:
            row = conn.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no user {name!r}")
        found, role = row
        return User(str(found), str(role))

    def sign_in(self, name: str, password: str) -> User:
        """The user if the password is theirs; :class:`Unauthenticated` (one message for a wrong
        name and a wrong password, so that names cannot be probed)."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT name, role, password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        refused = Unauthenticated("wrong user name or password")
        found, role, password_hash = row if row is not None else ("", "", _UNKNOWN_USER_HASH)
        try:
            _HASHER.verify(str(password_hash), password)
        except (VerificationError, InvalidHashError):
            raise refused from None
        if row is None:  # the unknown-user hash matched the password given: still refused
            raise refused
        return User(str(found), str(role))

    def issue_token(self, name: str, label: str, *, lifetime_s: float | None = None) -> str:
        """A new API token for the user (shown once: only its digest is kept), valid for
        ``lifetime_s`` seconds, or until revoked when None."""
        self.get(name)
        token = secrets.token_urlsafe(32)
        now = self.store.clock()
        expires = None if lifetime_s is None else now + lifetime_s
        with self.store.write(f"token for {name}") as conn:
            conn.execute(
                "INSERT INTO api_tokens (token_sha256, user_name, label, created, expires)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_digest(token), name, label, now, expires),
            )
        return token

    def holder(self, token: str) -> User | None:
        """The user a token belongs to, None for an unknown or expired token."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT users.name, users.role FROM api_tokens JOIN users"
                " ON users.name = api_tokens.user_name WHERE token_sha256 = ?"
                " AND (expires IS NULL OR expires > ?)",
                (token_digest(token), self.store.clock()),
            ).fetchone()
        if row is None:
            return None
        name, role = row
        return User(str(name), str(role))

    def revoke(self, token: str) -> None:
        with self.store.write("revoke token") as conn:
            conn.execute("DELETE FROM api_tokens WHERE token_sha256 = ?", (token_digest(token),))
