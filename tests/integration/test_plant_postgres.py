"""A plant of several lines on one PostgreSQL database: real ``packline serve`` processes with
their own simulated lines, real HTTP, a real PostgreSQL server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.daemon_process import PACKLINE, DaemonProcess, packline_env, serve_command

TOKEN = "plant-token-123"


def test_two_line_daemons_share_one_database_and_each_completes_its_lot(
    pg_url: str, tmp_path: Path
) -> None:
    with (
        DaemonProcess(pg_url, TOKEN, line="line-a", log_dir=tmp_path) as a,
        DaemonProcess(pg_url, TOKEN, line="line-b", log_dir=tmp_path) as b,
    ):
        for daemon, lot_id in ((a, "LOTA1"), (b, "LOTB1")):
            response = daemon.post(
                "/lots", {"recipe": "film-etch-wire", "strips": 1, "lot_id": lot_id}
            )
            assert response.status_code == 201, response.text
        lot_a = a.wait_lot("LOTA1", 60)
        lot_b = b.wait_lot("LOTB1", 60)
        assert [s["status"] for s in lot_a["strips"]] == ["complete"]
        assert [s["status"] for s in lot_b["strips"]] == ["complete"]
        # Neither daemon sees the other's lots.
        assert [lot["lot_id"] for lot in a.http.get("/lots").json()] == ["LOTA1"]
        assert [lot["lot_id"] for lot in b.http.get("/lots").json()] == ["LOTB1"]

        # A second daemon for line a is refused, naming the line; line a keeps running.
        refused = subprocess.run(
            serve_command(pg_url, 0, line="line-a"),
            capture_output=True,
            text=True,
            timeout=60,
            env=packline_env(TOKEN),
        )
        assert refused.returncode == 2, refused.stderr
        assert "line line-a is already served by another packline daemon" in refused.stderr
        assert a.http.get("/health").status_code == 200

        status = subprocess.run(
            [*PACKLINE, "plant", "status", "--db", pg_url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        out = status.stdout
        assert "line line-a" in out and "line line-b" in out
        assert "LOTA1" in out.split("line line-b")[0] and "LOTB1" in out.split("line line-b")[1]
        assert "mold-press" in out and "complete" in out
