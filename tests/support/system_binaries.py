"""Skip-or-fail rule for tests that need a Debian package's binary (``make services`` installs
them): outside CI a missing one skips, in CI (``CI=true``) it fails, so green CI ran them all."""

from __future__ import annotations

import os
import shutil

import pytest


def require_binary(name: str, package: str, *, search: tuple[str, ...] = ()) -> str:
    """Path of executable ``name`` (also looked for in ``search`` directories), or skip/fail."""
    path = shutil.which(name)
    for folder in search:
        candidate = os.path.join(folder, name)
        if path is None and os.access(candidate, os.X_OK):
            path = candidate
    if path is not None:
        return path
    message = f"{name} not found: install the Debian package {package} (make services)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
