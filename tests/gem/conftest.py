"""A GEM front on a line controller that is not started (no tools: status variables of
stations are empty), with a real store and a copy of the recipes, and a GEM host on it over
real HSMS on loopback. Protocol behaviour that needs no lot is tested here, fast."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from packline.daemon.controller import LineController
from packline.gem.front import GemFront
from packline.gem.host import GemHost
from packline.gem.settings import GemSettings
from packline.store import Store
from sequences.line_config import load_line_config
from sequences.recipe import RECIPES_DIR
from tests.support.daemon_process import free_port


def make_front(controller: LineController, **overrides: Any) -> GemFront:
    """A started GEM front on a free port with the short timers of these tests (T6 long
    enough for the test's own host to answer a linktest on a loaded machine)."""
    settings = GemSettings(
        **{"port": free_port(), "t3_s": 3, "t6_s": 3, "t7_s": 1, "t8_s": 1, "linktest_s": 4}
        | overrides
    )
    gem = GemFront(controller, settings)
    gem.start()
    return gem


@contextmanager
def connected_host(
    port: int, timeout_s: float = 10.0, *, back: GemHost | None = None, **kwargs: Any
) -> Iterator[GemHost]:
    """A :class:`GemHost` on ``port``, communicating, closed at the end; ``back``: the host
    that was there before, whose event names and report subscriptions it keeps."""
    host = GemHost(port, **kwargs)
    if back is not None:
        host.names, host.vid_names = back.names, back.vid_names
        host.handler.report_subscriptions = back.handler.report_subscriptions
    host.connect(timeout_s)
    try:
        yield host
    finally:
        host.close()


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[LineController]:
    """A line controller, not started, on a real store and a copy of the recipes."""
    recipes = tmp_path / "recipes"
    shutil.copytree(RECIPES_DIR, recipes)
    store = Store(tmp_path / "line.db")
    yield LineController(
        config=load_line_config(None), store=store, addresses={}, recipes_dir=recipes
    )
    store.close()


@pytest.fixture
def front(controller: LineController, request: pytest.FixtureRequest) -> Iterator[GemFront]:
    gem = make_front(controller, **getattr(request, "param", {}))
    yield gem
    gem.stop()


@pytest.fixture
def host(front: GemFront) -> Iterator[GemHost]:
    assert front.settings.port is not None
    with connected_host(front.settings.port, t3_s=5) as gem_host:
        yield gem_host
