"""The plant tests' rule for a missing Debian package: skip on a developer's machine with what to
install, fail in CI so that a green CI run always ran them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.system_binaries import require_binary


def test_a_missing_binary_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="install the Debian package no-such-pkg"):
        require_binary("no-such-binary-xyz", "no-such-pkg")


def test_a_missing_binary_skips_outside_ci_naming_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-pkg"):
        require_binary("no-such-binary-xyz", "no-such-pkg")


def test_a_binary_outside_path_is_found_in_the_search_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = tmp_path / "initdb"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert require_binary("initdb", "postgresql", search=(str(tmp_path),)) == str(tool)
