"""Schemathesis against the real daemon process: every operation of the served OpenAPI document,
with generated valid and invalid requests, gets no 5xx and no answer that breaks its schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.daemon_process import DaemonProcess

TOKEN = "schemathesis-token-0123"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


@pytest.mark.timeout(180)
def test_schemathesis_finds_no_server_error_or_schema_violation(tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    with DaemonProcess(tmp_path / "line.db", TOKEN) as daemon:
        operations = sum(len(m) for m in daemon.http.get("/openapi.json").json()["paths"].values())
        run = subprocess.run(
            [
                str(st),
                "run",
                f"{daemon.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {TOKEN}",
                "--checks",
                ",".join(CHECKS),
                "--phases",
                "coverage,fuzzing",
                "--max-examples",
                "5",
                "--workers",
                "2",
                "--seed",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=150,
            cwd=tmp_path,  # its cache goes there, not into the work tree
        )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    assert f"Selected: {operations}/{operations}" in run.stdout, run.stdout[-2000:]
    log = daemon.log()
    assert "method=POST path=/lots status=" in log, "the daemon logs every request"
    assert "status=5" not in log, "the daemon logged a 5xx answer"
