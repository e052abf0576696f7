"""The daemon's token file and where the clients find the token (packline.daemon.auth)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from packline.daemon import auth


def test_server_token_is_made_once_beside_the_database_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "line.db"
    token = auth.server_token(db, environ={})
    path = tmp_path / "line.db.token"
    assert path.read_text().strip() == token and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.server_token(db, environ={}) == token
    assert list(tmp_path.iterdir()) == [path], "no temporary file is left behind"


def test_server_token_from_env_wins_and_makes_no_file(tmp_path: Path) -> None:
    assert auth.server_token(tmp_path / "x.db", environ={"PACKLINE_TOKEN": " abc "}) == "abc"
    assert list(tmp_path.iterdir()) == []


def test_server_token_file_can_be_given(tmp_path: Path) -> None:
    given = tmp_path / "secret" / "api.token"
    given.parent.mkdir()
    token = auth.server_token(tmp_path / "x.db", given, environ={})
    assert given.read_text().strip() == token


def test_server_token_refuses_a_file_others_can_read_or_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "t.token"
    path.write_text("abc\n")
    os.chmod(path, 0o644)
    with pytest.raises(auth.TokenError, match="chmod 600"):
        auth.server_token(tmp_path / "x.db", path, environ={})
    path.write_text("\n")
    os.chmod(path, 0o600)
    with pytest.raises(auth.TokenError, match="one token"):
        auth.server_token(tmp_path / "x.db", path, environ={})
    with pytest.raises(auth.TokenError, match="cannot create"):
        auth.server_token(tmp_path / "no" / "such" / "dir.db", environ={})


def test_client_token_from_env_then_file_then_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert auth.client_token(environ={}) is None
    (tmp_path / "packline.db.token").write_text("from-default-file\n")
    assert auth.client_token(environ={}) == "from-default-file"
    other = tmp_path / "other.token"
    other.write_text("from-given-file")
    assert auth.client_token(other, environ={}) == "from-given-file"
    assert auth.client_token(other, environ={"PACKLINE_TOKEN": "from-env"}) == "from-env"
    with pytest.raises(auth.TokenError, match="cannot read"):
        auth.client_token(tmp_path / "missing.token", environ={})


def test_token_file_for_a_database() -> None:
    assert auth.token_file_for(Path("var/packline.db")) == Path("var/packline.db.token")
