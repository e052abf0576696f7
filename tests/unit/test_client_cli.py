"""The ``packline`` client commands (in-process through ``packline.cli.main``, one also as a
subprocess) against the real HTTP API in front of an in-memory controller: what a person or a
script sees, tables, ``--json``, messages and exit codes."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from packline.cli import main
from packline.web.security import LOCAL_USER
from tests.support.daemon_process import free_port
from tests.support.fake_controller import FakeController, submit_call
from tests.support.web import TOKEN, running_server

OPERATOR = LOCAL_USER.name
PACKLINE = [sys.executable, "-m", "packline.cli"]

RECIPE = Path(__file__).resolve().parents[2] / "configs" / "recipes" / "heat-slug-die-equal.yaml"


@dataclass
class Daemon:
    url: str
    controller: FakeController


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No token or URL from the environment, and a working directory without a token file."""
    monkeypatch.delenv("PACKLINE_TOKEN", raising=False)
    monkeypatch.delenv("PACKLINE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def daemon(clean_env: Path) -> Iterator[Daemon]:
    controller = FakeController()
    with running_server(controller) as url:
        yield Daemon(url, controller)


@pytest.fixture
def token_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's token in PACKLINE_TOKEN (after ``clean_env`` has removed any other)."""
    monkeypatch.setenv("PACKLINE_TOKEN", TOKEN)


def packline(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


Cli = Callable[..., Result]


@pytest.fixture
def cli(daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli(*argv)``: ``packline *argv --url <the daemon>``, run in-process."""
    return lambda *argv: packline(capsys, *argv, "--url", daemon.url)


# -- lots --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("token_env")
def test_lot_submit_with_strips_sends_no_recipe_and_prints_the_lot(
    cli: Cli, daemon: Daemon
) -> None:
    result = cli("lot", "submit", "--strips", "3", "--lot-id", "L7")
    assert result.code == 0, result.err
    assert result.out.startswith("lot L7 submitted: queued\n")
    assert "recipe_name: heat-slug-die-equal" in result.out and "strip_count: 3" in result.out
    assert daemon.controller.calls[-1] == submit_call(strips=3, lot_id="L7")


@pytest.mark.usefixtures("token_env")
def test_lot_submit_priority_and_lot_priority_reach_the_controller(
    daemon: Daemon, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--url", daemon.url)
    result = packline(
        capsys, "lot", "submit", "--strips", "1", "--lot-id", "P1", "--priority", "4", *url
    )
    assert result.code == 0, result.err
    assert daemon.controller.calls[-1][1]["priority"] == 4
    result = packline(capsys, "lot", "priority", "P1", "-2", *url)
    assert result.code == 0, result.err
    assert result.out == "lot P1: priority -2\n"
    assert daemon.controller.calls[-1] == (
        "set_lot_priority",
        {"lot_id": "P1", "priority": -2, "by": OPERATOR},
    )


@pytest.mark.usefixtures("token_env")
def test_lot_submit_json_includes_the_lot_id(cli: Cli, daemon: Daemon) -> None:
    result = cli(
        "lot", "submit", "--recipe", "film-laser-wire", "--strip-ids", "A-1, A-2", "--json"
    )
    assert result.code == 0, result.err
    lot = json.loads(result.out)
    assert lot["lot_id"] == "L2" and lot["strip_ids"] == ["A-1", "A-2"]
    assert daemon.controller.calls[-1][1]["recipe"] == "film-laser-wire"


def test_lot_submit_takes_strips_or_strip_ids_not_both(
    daemon: Daemon, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["lot", "submit", "--strips", "2", "--strip-ids", "A,B", "--url", daemon.url])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["lot", "submit", "--strip-ids", "A,,B"])


def test_lot_list_is_a_table_with_a_column_per_strip_count(cli: Cli) -> None:
    result = cli("lot", "list")
    assert result.code == 0
    header, row = result.out.splitlines()
    assert header.split()[:5] == ["LOT", "ID", "STATUS", "RECIPE", "NAME"]
    assert "IN PROGRESS" in header
    assert row.split()[:4] == ["L1", "queued", "heat-slug-die-equal", "2"]
    assert json.loads(cli("lot", "list", "--json").out)[0]["lot_id"] == "L1"


def test_lot_show_prints_progress_and_strips_and_json_has_the_status(cli: Cli) -> None:
    result = cli("lot", "show", "L1")
    assert result.code == 0
    lines = result.out.splitlines()
    assert "status:      queued" in lines
    progress = lines.index("progress:")
    assert lines[progress + 1].split()[:3] == ["#", "STEP", "STRIPS"]
    assert lines[progress + 2].split() == ["1", "laminate", "1", "30"], "counted from 1"
    strips = lines.index("strips:")
    assert [line.split()[0] for line in lines[strips + 2 :]] == ["L1-01", "L1-02"]
    shown = json.loads(cli("lot", "show", "L1", "--json").out)
    assert shown["status"] == "queued" and shown["lot_id"] == "L1"


@pytest.mark.usefixtures("token_env")
def test_lot_hold_release_abort(cli: Cli) -> None:
    for command, status in (("hold", "held"), ("release", "running"), ("abort", "aborted")):
        result = cli("lot", command, "L1")
        assert result.code == 0, result.err
        assert result.out == f"lot L1 {command}: {status} ({command} by {OPERATOR})\n"
    again = cli("lot", "abort", "L1")
    assert again.code == 1 and again.err == "packline: lot L1 is aborted (HTTP 409)\n"


# -- stations, alarms, units, recipes ------------------------------------------------------------------


def test_station_list_and_show(cli: Cli) -> None:
    listed = cli("station", "list")
    header, first, second = listed.out.splitlines()
    assert header.split() == ["NAME", "TOOL", "STATE", "STEP", "STRIPS", "POLICY", "ADDRESS"]
    assert first.split()[:5] == ["mold-press", "mold-press", "EXECUTE", "mold", "L1-01"]
    assert second.split()[:4] == ["laminator", "laminator", "IDLE", "-"]
    shown = cli("station", "show", "mold-press")
    assert "state:    EXECUTE" in shown.out and "disabled: -" in shown.out
    assert "4115  H      Chase temperature low" in shown.out, "the tool's alarms as a table"
    assert "productive: 120.5" in shown.out


@pytest.mark.usefixtures("token_env")
def test_every_station_command_and_a_refused_one(cli: Cli, daemon: Daemon) -> None:
    sequence = ["hold", "unhold", "stop", "reset", "abort", "clear"]
    for command in sequence:
        result = cli("station", command, "mold-press")
        assert result.code == 0, (command, result.err)
        verb = "release" if command == "unhold" else command  # unhold is release's alias
        assert result.out.startswith(f"station mold-press {verb}: ")
    assert daemon.controller.calls[-1] == (
        "station_command",
        {"name": "mold-press", "command": "clear", "by": OPERATOR},
    )
    refused = cli("station", "unhold", "laminator")
    assert refused.code == 1
    assert refused.err == "packline: unhold is not allowed in IDLE (HTTP 409)\n  - laminator\n"


def test_station_e10_is_a_table_per_station(cli: Cli, daemon: Daemon) -> None:
    result = cli("station", "e10")
    lines = result.out.splitlines()
    assert "tool seconds" in lines[0], "the unit is said: the daemon's E10 is tool time"
    assert "time scale 1000.0" in lines[0]
    assert lines[1].split() == ["STATION", "PRODUCTIVE", "STANDBY", "UNSCHEDULED", "DOWN"]
    assert lines[2].split() == ["laminator", "5657.2", "600.0", "0"]


@pytest.mark.usefixtures("token_env")
def test_alarm_list_active_and_ack(cli: Cli, daemon: Daemon) -> None:
    every = cli("alarm", "list").out.splitlines()
    assert every[0].split()[:4] == ["ALARM", "ID", "TIME", "STATION"]
    assert [line.split()[0] for line in every[1:]] == ["1", "2"]
    assert "Chase temperature low" in every[1]
    active = cli("alarm", "list", "--active").out.splitlines()
    assert [line.split()[0] for line in active[1:]] == ["1"]
    assert daemon.controller.calls[-1] == ("list_alarms", {"active_only": True})
    acked = cli("alarm", "ack", "1")
    assert acked.code == 0 and acked.out.startswith(f"alarm 1 acknowledged by {OPERATOR} at ")
    assert cli("alarm", "list", "--active").out == "(none)\n"
    missing = cli("alarm", "ack", "99")
    assert missing.code == 1 and "no alarm 99 (HTTP 404)" in missing.err


def test_unit_show_prints_the_genealogy(cli: Cli, daemon: Daemon) -> None:
    result = cli("unit", "show", "L1-01:7")
    assert result.code == 0
    assert daemon.controller.calls[-1] == ("show_unit", {"strip_id": "L1-01", "site": 7})
    lines = result.out.splitlines()
    assert lines[:3] == ["strip_id: L1-01", "site:     7", "lot_id:   L1"]
    row = next(line for line in lines if line.strip().startswith("laminate"))
    assert " P " in row and "void_pct=0.8" in row and "press_temp_c=180" in row
    data = json.loads(cli("unit", "show", "L1-01:7", "--json").out)
    assert data["steps"][0]["values"] == {"void_pct": 0.8}


def test_unit_show_needs_strip_colon_site(
    daemon: Daemon, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("L1-01", "L1-01:", ":7", "L1-01:x", "L1-01:0"):
        with pytest.raises(SystemExit) as exit_info:
            main(["unit", "show", bad, "--url", daemon.url])
        assert exit_info.value.code == 2
        assert "STRIP:SITE" in capsys.readouterr().err
    assert daemon.controller.calls == []


def test_recipe_list_and_the_local_recipe_check_side_by_side(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = cli("recipe", "list")
    assert listed.code == 0
    lines = listed.out.splitlines()
    assert lines[0].split() == ["NAME", "PRODUCT", "VARIANT", "VALID", "PROBLEMS"]
    assert lines[2].split()[-3:] == ["no", "die.width_mm:", "missing"]
    checked = packline(capsys, "recipe", "check", str(RECIPE))
    assert checked.code == 0 and f"{RECIPE}: ok" in checked.out


# -- errors, token and URL -----------------------------------------------------------------------------


def test_no_daemon_running_names_the_url_and_exits_2(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for argv in (["lot", "list"], ["lot", "hold", "L1"], ["station", "show", "x"]):
        result = packline(capsys, *argv, "--url", url)
        assert result.code == 2
        assert url in result.err and "packline serve" in result.err
        assert result.out == ""


def test_an_answer_that_is_not_packline_exits_2(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A web server that is not the daemon (its own HTML 404) is not taken for a refusal."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = packline(capsys, "lot", "list", "--url", url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert result.code == 2 and "HTTP 404" in result.err and "without a JSON error" in result.err


def test_a_daemon_refusal_prints_its_message_and_problems_and_exits_1(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = cli("lot", "show", "L9")
    assert (missing.code, missing.out) == (1, "")
    assert missing.err == "packline: no lot 'L9' (HTTP 404)\n"
    monkeypatch.setenv("PACKLINE_TOKEN", TOKEN)
    invalid = cli("lot", "submit", "--strips", "0", "--lot-id", "x/y")
    assert invalid.code == 1
    assert "strips must be at least 1" in invalid.err and "(got 'x/y')" in invalid.err
    recipe = cli("lot", "submit", "--recipe", "nope", "--strips", "1")
    assert recipe.code == 1
    assert recipe.err == "packline: no recipe 'nope' (HTTP 400)\n  - known: heat-slug-die-equal\n"


def test_a_daemon_error_exits_1_without_details(cli: Cli, daemon: Daemon) -> None:
    daemon.controller.fail_with = RuntimeError("secret detail")
    result = cli("station", "list")
    assert result.code == 1 and "internal server error" in result.err
    assert "secret" not in result.err


def test_without_a_token_a_command_is_refused_with_a_hint(cli: Cli, daemon: Daemon) -> None:
    result = cli("lot", "hold", "L1")
    assert result.code == 1
    assert "missing token" in result.err and "no token: set PACKLINE_TOKEN" in result.err
    assert daemon.controller.calls == []
    assert cli("lot", "list").code == 0, "reads need none"


def test_a_wrong_token_names_where_it_came_from(
    cli: Cli, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACKLINE_TOKEN", "not-it")
    result = cli("lot", "hold", "L1")
    assert result.code == 1
    assert "wrong token" in result.err and "from PACKLINE_TOKEN is not the daemon's" in result.err


def test_token_from_the_default_file_in_the_working_directory(cli: Cli, clean_env: Path) -> None:
    (clean_env / "packline.db.token").write_text(TOKEN + "\n")
    result = cli("lot", "hold", "L1")
    assert result.code == 0, result.err


def test_token_from_a_given_file_and_a_missing_given_file(cli: Cli, tmp_path: Path) -> None:
    given = tmp_path / "elsewhere.token"
    given.write_text(TOKEN)
    ok = cli("station", "hold", "mold-press", "--token-file", str(given))
    assert ok.code == 0, ok.err
    missing = tmp_path / "missing.token"
    result = cli("lot", "list", "--token-file", str(missing))
    assert result.code == 2 and f"cannot read token file {missing}" in result.err


@pytest.mark.usefixtures("token_env")
def test_url_from_env_and_url_option_wins(
    cli: Cli, daemon: Daemon, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACKLINE_URL", daemon.url + "/")
    assert packline(capsys, "lot", "hold", "L1").code == 0
    dead = f"http://127.0.0.1:{free_port()}"
    assert packline(capsys, "lot", "list", "--url", dead).code == 2
    monkeypatch.setenv("PACKLINE_URL", dead)
    assert cli("lot", "list").code == 0


def test_a_url_that_is_not_http_exits_2(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for url in ("127.0.0.1:8765", "ftp://127.0.0.1", "http://"):
        result = packline(capsys, "lot", "list", "--url", url)
        assert result.code == 2 and "must look like http://127.0.0.1:8765" in result.err


def test_the_installed_command_as_a_subprocess(daemon: Daemon) -> None:
    result = subprocess.run(
        [*PACKLINE, "lot", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PACKLINE_URL": daemon.url, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert [lot["lot_id"] for lot in json.loads(result.stdout)] == ["L1"]
