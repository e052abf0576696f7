"""Failed sign-ins are bounded per user name and per client address: past the bound the real
server answers 429 with ``Retry-After``, a right password included, until the window moves on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from packline.store import Store
from packline.store.users import Users
from packline.web.server import WebServer
from packline.web.throttle import FAILURES_PER_ADDRESS, FAILURES_PER_USER, WINDOW_S, SignInThrottle
from tests.support.fake_controller import FakeController
from tests.support.web import TOKEN

PASSWORD = "ana-password"


@pytest.fixture
def users(tmp_path: Path) -> Iterator[Users]:
    with Store(tmp_path / "line.db") as store:
        users = Users(store)
        users.add("ana", "operator", PASSWORD)
        users.add("bob", "operator", "bob-password")
        yield users


def serve(users: Users, throttle: SignInThrottle | None = None) -> WebServer:
    server = WebServer(FakeController(), token=TOKEN, users=users)
    if throttle is not None:
        server.app.state.sign_in_throttle = throttle
    return server


def sign_in(client: httpx.Client, user: str, password: str) -> httpx.Response:
    return client.post("/session", json={"user": user, "password": password})


def test_after_the_failures_a_user_may_have_even_the_right_password_gets_429(
    users: Users,
) -> None:
    with serve(users) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(FAILURES_PER_USER):
            assert sign_in(client, "ana", "wrong-password").status_code == 401
        refused = sign_in(client, "ana", PASSWORD)
        assert refused.status_code == 429
        assert "too many failed sign-ins for user 'ana'" in refused.json()["error"]
        retry_after_s = int(refused.headers["Retry-After"])
        assert 1 <= retry_after_s <= WINDOW_S
        assert f"try again in {retry_after_s} s" in refused.json()["error"]
        assert sign_in(client, "bob", "bob-password").status_code == 201, "others still sign in"


def test_a_success_before_the_bound_starts_the_users_count_again(users: Users) -> None:
    throttle = SignInThrottle(per_user=2, per_address=100)
    with serve(users, throttle) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(2):
            assert sign_in(client, "ana", "wrong-password").status_code == 401
            assert sign_in(client, "ana", PASSWORD).status_code == 201


def test_one_address_trying_many_user_names_is_bounded_too(users: Users) -> None:
    with serve(users) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for n in range(FAILURES_PER_ADDRESS):
            assert sign_in(client, f"guess{n}", "wrong-password").status_code == 401
        refused = sign_in(client, "bob", "bob-password")
        assert refused.status_code == 429
        assert "address 127.0.0.1" in refused.json()["error"]
        assert int(refused.headers["Retry-After"]) >= 1


def test_the_user_may_try_again_once_the_window_has_moved_on(users: Users) -> None:
    throttle = SignInThrottle(per_user=2, per_address=100, window_s=1)
    with serve(users, throttle) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(2):
            assert sign_in(client, "ana", "wrong-password").status_code == 401
        refused = sign_in(client, "ana", PASSWORD)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        time.sleep(1.1)
        assert sign_in(client, "ana", PASSWORD).status_code == 201
