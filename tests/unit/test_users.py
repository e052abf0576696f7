"""Users, roles, hashed passwords and API tokens in the store (packline.store.users)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from packline.errors import Conflict, Invalid, NotFound, Unauthenticated
from packline.store import Store
from packline.store.users import User, Users
from packline.vocabulary import role_allows


def test_a_user_signs_in_with_their_password_only(users: Users) -> None:
    assert users.add("ana", "operator", "correct horse") == User("ana", "operator")
    assert users.sign_in("ana", "correct horse") == User("ana", "operator")
    for name, password in (("ana", "wrong horse"), ("bob", "correct horse")):
        with pytest.raises(Unauthenticated, match="wrong user name or password"):
            users.sign_in(name, password)


def test_an_unknown_name_costs_the_same_hashing_as_a_wrong_password(users: Users) -> None:
    """Names cannot be probed by timing: an unknown name is verified against a hash too."""
    users.add("ana", "operator", "correct horse")

    def fastest_refusal_s(name: str, password: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            with pytest.raises(Unauthenticated):
                users.sign_in(name, password)
            times.append(time.perf_counter() - started)
        return min(times)

    wrong_password = fastest_refusal_s("ana", "wrong horse")
    unknown_name = fastest_refusal_s("bob", "wrong horse")
    assert unknown_name > 0.5 * wrong_password, (unknown_name, wrong_password)
    with pytest.raises(Unauthenticated):  # even the phrase behind the stand-in hash
        users.sign_in("bob", "no such user: this hash is never matched")


def test_the_unknown_name_stand_in_hash_has_the_hashers_parameters() -> None:
    """The stand-in is kept as text (hashing at import cost every command most of a second):
    it must cost what a user's hash costs, so it has the hasher's current parameters."""
    from packline.store import users as module

    stand_in = module._UNKNOWN_USER_HASH
    assert stand_in.startswith("$argon2id$")
    assert not module._HASHER.check_needs_rehash(stand_in)
    assert module._HASHER.verify(stand_in, "no such user: this hash is never matched")


def test_passwords_are_kept_as_argon2_hashes_and_tokens_as_digests(
    users: Users, tmp_path: Path
) -> None:
    users.add("ana", "engineer", "correct horse")
    token = users.issue_token("ana", "test")
    conn = sqlite3.connect(tmp_path / "line.db")
    (hashed,) = conn.execute("SELECT password_hash FROM users").fetchone()
    (digest,) = conn.execute("SELECT token_sha256 FROM api_tokens").fetchone()
    conn.close()
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert token not in digest and len(digest) == 64


def test_a_token_names_its_user_until_revoked(users: Users) -> None:
    users.add("ana", "viewer", "correct horse")
    token = users.issue_token("ana", "cli")
    assert users.holder(token) == User("ana", "viewer")
    assert users.holder(token + "x") is None
    users.revoke(token)
    assert users.holder(token) is None
    with pytest.raises(NotFound, match="no user 'bob'"):
        users.issue_token("bob", "cli")


def test_a_token_with_a_lifetime_expires(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    with Store(tmp_path / "clock.db", clock=lambda: now[0]) as store:
        users = Users(store)
        users.add("ana", "operator", "correct horse")
        token = users.issue_token("ana", "sign-in", lifetime_s=3600)
        forever = users.issue_token("ana", "cli")
        now[0] += 3599
        assert users.holder(token) == User("ana", "operator")
        now[0] += 2
        assert users.holder(token) is None
        assert users.holder(forever) == User("ana", "operator")


def test_bad_names_roles_and_short_passwords_are_refused_with_every_problem(
    users: Users,
) -> None:
    with pytest.raises(Invalid) as caught:
        users.add("Ana Smith", "boss", "short")
    assert len(caught.value.problems) == 3
    assert "role 'boss' must be one of viewer, operator, engineer" in caught.value.problems
    users.add("ana", "operator", "correct horse")
    with pytest.raises(Conflict, match="user 'ana' already exists"):
        users.add("ana", "engineer", "another horse")
    assert users.list() == [User("ana", "operator")]


def test_roles_rise_from_viewer_to_engineer() -> None:
    assert role_allows("engineer", "operator") and role_allows("operator", "operator")
    assert not role_allows("viewer", "operator") and not role_allows("operator", "engineer")
    assert not role_allows("boss", "viewer")


def test_packline_user_add_list_and_token_work_on_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from packline.cli import main

    db = str(tmp_path / "line.db")
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    assert main(["user", "add", "ana", "--role", "engineer", "--db", db]) == 0
    assert main(["user", "list", "--db", db]) == 0
    assert main(["user", "token", "ana", "--db", db]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["user ana added (engineer)", "ana\tengineer"]
    with Store(db) as store:
        assert Users(store).holder(out[2]) == User("ana", "engineer")
        assert Users(store).sign_in("ana", "correct horse") == User("ana", "engineer")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "bob", "--role", "viewer", "--db", db]) == 1
    assert "at least 8 characters" in capsys.readouterr().err
