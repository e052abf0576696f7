"""What a new user of ``packline`` runs into: pipes, option order, one verb per meaning, steps
counted as the route sheet counts them, following a lot, a strip's history, recipe names."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from packline.cli import DEFAULT_HOST_LATENCY_MS, EXIT_BROKEN_PIPE, build_parser, main
from packline.client.commands import EXIT_WATCH_TIMEOUT
from packline.gem.settings import gem_settings
from packline.mqtt.settings import mqtt_settings
from packline.paced_link import DEFAULT_HOST_LATENCY_S
from tests.unit import test_client_cli as client_cli
from tests.unit.test_client_cli import Cli, Daemon

# the client tests' fixtures: a daemon (real HTTP, in-memory controller), a clean environment
clean_env, daemon, token_env = client_cli.clean_env, client_cli.daemon, client_cli.token_env
cli = client_cli.cli

RECIPES = Path(__file__).resolve().parents[2] / "configs" / "recipes"


def test_a_closed_pipe_ends_the_command_quietly(daemon: Daemon) -> None:
    """``packline station show X | true``: no traceback, the SIGPIPE status a shell expects."""
    process = subprocess.Popen(
        [*client_cli.PACKLINE, "station", "show", "mold-press", "--url", daemon.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the command writes
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE == 141
    assert err == ""


def test_verbose_is_accepted_after_the_subcommand(cli: Cli) -> None:
    result = cli("lot", "list", "-v")
    assert result.code == 0 and result.out.startswith("LOT ID")
    assert build_parser().parse_args(["dry-run", "-vv"]).verbose == 2
    assert build_parser().parse_args(["-v", "dry-run"]).verbose == 1
    assert build_parser().parse_args(["dry-run"]).verbose == 0


def test_one_seed_default_for_the_simulated_line_and_the_dry_run() -> None:
    parser = build_parser()
    assert parser.parse_args(["sim", "serve"]).seed == parser.parse_args(["dry-run"]).seed


def test_the_dry_runs_host_latency_default_is_the_lot_runners() -> None:
    """The CLI spells the default in ms so that --help need not import the drivers; a dry run
    without --host-latency-ms must pay what run_simulated_lot pays."""
    assert pytest.approx(DEFAULT_HOST_LATENCY_S * 1000.0) == DEFAULT_HOST_LATENCY_MS


@pytest.mark.usefixtures("token_env")
def test_release_is_the_verb_for_lots_and_stations_and_unhold_its_alias(
    cli: Cli, daemon: Daemon
) -> None:
    for verb in ("release", "unhold"):
        cli("station", "hold", "mold-press")
        result = cli("station", verb, "mold-press")
        assert daemon.controller.calls[-1][0] == "station_command"
        assert daemon.controller.calls[-1][1]["command"] == "unhold", verb
        assert result.code == 0, result.err
        assert result.out.startswith("station mold-press release:"), result.out
    cli("lot", "hold", "L1")
    result = cli("lot", "unhold", "L1")
    assert result.code == 0 and result.out.startswith("lot L1 release: running")


def test_lot_show_counts_steps_from_one_like_the_route_sheet(cli: Cli, daemon: Daemon) -> None:
    daemon.controller.lots["L1"]["strips"][0].update(status="processing", next_step=1)
    daemon.controller.lots["L1"]["strips"][1].update(status="complete", next_step=2)
    lines = cli("lot", "show", "L1").out.splitlines()
    progress = lines.index("progress:")
    assert [line.split()[:2] for line in lines[progress + 2 : progress + 4]] == [
        ["1", "laminate"],
        ["2", "die"],
    ]
    strips = lines.index("strips:")
    header = lines[strips + 1].split()
    column = header.index("NEXT") - 1  # "STRIP ID" is two words
    assert [line.split()[column] for line in lines[strips + 2 :]] == ["2", "end"]
    raw = json.loads(cli("lot", "show", "L1", "--json").out)
    assert raw["progress"][0]["step_index"] == 0, "--json keeps the API's fields"


def test_strip_show_prints_a_strips_lot_status_and_steps(cli: Cli) -> None:
    result = cli("strip", "show", "L1-01")
    assert result.code == 0, result.err
    fields = dict(line.split(":", 1) for line in result.out.splitlines())
    assert fields["strip_id"].strip() == "L1-01" and fields["lot_id"].strip() == "L1"
    assert fields["status"].strip() == "waiting"
    missing = cli("strip", "show", "L9-01")
    assert missing.code == 1 and "no strip 'L9-01'" in missing.err


@pytest.mark.usefixtures("token_env")
def test_lot_submit_quiet_prints_only_the_lot_id_and_takes_a_recipe_path(
    cli: Cli, daemon: Daemon
) -> None:
    path = str(RECIPES / "film-laser-wire.yaml")
    result = cli("lot", "submit", "-q", "--strips", "2", "--recipe", path)
    assert result.code == 0, result.err
    assert result.out == "L2\n"
    assert daemon.controller.calls[-1][1]["recipe"] == "film-laser-wire"


def test_lot_watch_follows_a_lot_until_it_ends(
    cli: Cli, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    lot = daemon.controller.lots["L1"]
    show_lot = daemon.controller.show_lot
    looks = 0

    def each_status_seen_twice(lot_id: str) -> Any:
        """The lot moves on by the watcher's looks, not by wall time: queued for two looks,
        running for two, then complete (so a loaded machine cannot skip a status)."""
        nonlocal looks
        looks += 1
        if looks == 3:
            lot["status"] = "running"
            lot["strips"][0].update(status="processing", next_step=1)
        if looks == 5:
            lot.update(status="complete")
            lot["counts"].update({"complete": 2, "in progress": 0})
        return show_lot(lot_id)

    monkeypatch.setattr(daemon.controller, "show_lot", each_status_seen_twice)
    result = cli("lot", "watch", "L1", "--interval", "0.05")
    assert result.code == 0, result.err
    assert looks == 5
    lines = [line.split("  ", 1)[1] for line in result.out.splitlines()]
    assert lines[0].startswith("lot L1 queued")
    assert "lot L1 running" in lines[1] and "at step 2 die attach" in lines[1]
    assert lines[-1].startswith("lot L1 complete  complete 2")
    assert len(lines) == 3, "one line per change, not per look"


def test_lot_watch_gives_up_after_its_timeout(cli: Cli) -> None:
    started = time.monotonic()
    result = cli("lot", "watch", "L1", "--interval", "0.05", "--timeout", "0.3")
    assert result.code == EXIT_WATCH_TIMEOUT
    assert "lot L1 still queued after 0.3 s" in result.err
    assert time.monotonic() - started < 5


def test_recipe_check_takes_a_name_or_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["recipe", "check", "heat-slug-die-equal", str(RECIPES / "film-etch-wire.yaml")]) == 0
    )
    out = capsys.readouterr().out
    assert "heat-slug-die-equal: ok" in out and "film-etch-wire.yaml: ok" in out
    assert main(["recipe", "check", "heat-slug-die-equl"]) == 2
    out = capsys.readouterr().out
    assert "no recipe file or recipe name 'heat-slug-die-equl'" in out
    assert "heat-slug-die-equal" in out, "the known names are listed"


def test_serve_refuses_a_database_url_it_does_not_serve(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--db", "mysql://user@host/db", "--simulate"])
    err = capsys.readouterr().err
    assert code == 2
    assert "mysql://user@host/db" in err and "sqlite:///PATH" in err and "postgresql://" in err
    assert list(clean_env.iterdir()) == [], "no file named after the URL is created"


def test_serve_names_a_postgresql_database_it_cannot_reach(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--db", "postgresql://nobody:secret@127.0.0.1:1/plant", "--simulate"])
    err = capsys.readouterr().err
    assert code == 2
    assert "postgresql://nobody:***@127.0.0.1:1/plant" in err and "cannot connect" in err
    assert "secret" not in err, "the password is not printed"
    assert list(clean_env.iterdir()) == []


def test_database_path_takes_a_file_or_a_sqlite_url() -> None:
    from packline.daemon.serve import database_path

    assert database_path("packline.db") == Path("packline.db")
    assert database_path("sqlite:///data/line.db") == Path("data/line.db")
    assert database_path("sqlite:////var/lib/line.db") == Path("/var/lib/line.db")
    assert database_path("postgresql://mes@db1/plant") == "postgresql://mes@db1/plant"


@pytest.mark.parametrize(
    "name",
    [
        "packline.db",
        "packline.db.token",
        "packline.db-wal",
        "packline.db.package-line-1.lock",
        "package-line-1.token",
        "endpoints.json",
        "reports/x",
    ],
)
def test_what_the_commands_write_in_the_working_directory_is_ignored_by_git(name: str) -> None:
    """``git add -A`` after the README's daemon section must not commit the token."""
    root = RECIPES.parents[1]
    inside = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "-q", "--no-index", name], check=False
    )
    assert ignored.returncode == 0, f"{name} is not in .gitignore"


def test_serve_none_turns_gem_and_mqtt_off_whatever_the_line_config_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["serve", "--hsms-port", "none", "--mqtt", "none"])
    assert gem_settings({"port": 5000}, "line.yaml", port=args.hsms_port).port is None
    assert mqtt_settings({"url": "mqtt://b:1883"}, "l.yaml", url=args.mqtt, line="l").url is None
    assert build_parser().parse_args(["serve", "--hsms-port", "5001"]).hsms_port == 5001
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--hsms-port", "70000"])
    assert "--hsms-port: give a port 1-65535 or 'none', got '70000'" in capsys.readouterr().err
