"""GEM capabilities of the front that need no running lot, against secsgem's host handler
over real HSMS: control state, namelists, constants, clock, process programs, spool request,
refused commands, and the E37 timers secsgem leaves out (T7, linktest)."""

from __future__ import annotations

import datetime
import socket
import struct
import threading
import time
from typing import Any

import pytest
from secsgem.gem.communication_state_machine import CommunicationState

from packline.daemon.controller import LineController
from packline.gem import catalogue
from packline.gem.front import GemFront
from packline.gem.host import GemHost
from packline.store.users import Users
from tests.gem.conftest import connected_host, make_front
from tests.support.integration_waits import wait_until


def test_offline_equipment_answers_only_establish_and_online_then_reports_status(
    host: GemHost,
) -> None:
    refused = host.send(1, 3, [catalogue.SV_LINE_STATE.vid])
    assert (refused.stream, refused.function) == (1, 0)  # E30: offline -> abort
    assert host.online() == 0
    assert host.online() == 2  # already online
    assert host.send(1, 1).get() == ["packline", host.send(1, 1).get()[1]]
    line_state, queued, control = host.send(1, 3, [1010, 1012, 1002]).get()
    assert (line_state, queued) == ("IDLE", 0)
    assert control == 5  # online remote
    assert host.send(1, 15).get() == 0  # host goes offline
    assert host.send(1, 3, [1010]).function == 0


def test_remote_commands_are_refused_offline_and_in_online_local(front: GemFront) -> None:
    assert front.settings.port is not None
    with connected_host(front.settings.port) as gem_host:
        assert gem_host.online() == 0
        front.equipment.control_switch_online_local()  # the operator's switch
        hcack, cpacks = gem_host.command("HOLD_LOT", [("LOT_ID", "L1")])
        assert (hcack, cpacks) == (2, [])
        assert gem_host.wait_for(lambda h: any("online local" in t for t in h.terminal), 5)
        front.equipment.control_switch_online_remote()
        hcack, cpacks = gem_host.command("HOLD_LOT", [("LOT_ID", "NOPE")])
        assert (hcack, cpacks) == (3, [("LOT_ID", 2)])


def test_bad_start_lot_gets_a_cpack_per_bad_parameter_and_creates_nothing(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    hcack, cpacks = host.command(
        "START_LOT",
        [
            ("RECIPE", "no-such-recipe"),
            ("STRIP_COUNT", "0"),
            ("PRIORITY", "high"),
            ("COLOR", "red"),
        ],
    )
    assert hcack == 3
    assert sorted(cpacks) == [
        ("COLOR", 1),
        ("PRIORITY", 3),
        ("RECIPE", 2),
        ("STRIP_COUNT", 2),
    ]
    hcack, cpacks = host.command(
        "START_LOT", [("RECIPE", "heat-slug-die-equal"), ("STRIP_IDS", "A,B"), ("STRIP_COUNT", 2)]
    )
    assert (hcack, sorted(cpacks)) == (3, [("STRIP_COUNT", 2), ("STRIP_IDS", 2)])
    assert front.store.lots() == []
    assert host.command("STATION_DISABLE", [("STATION", "mold-press")]) == (3, [("REASON", 2)])
    assert host.command("STATION_HOLD", [("STATION", "press")]) == (3, [("STATION", 2)])
    assert host.command("FLY", [])[0] == 1


def test_start_lot_takes_numbers_as_ascii_or_integer_items_and_queues_the_api_lot(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    host.subscribe(["LotQueued"])
    assert host.command(
        "START_LOT",
        [
            ("RECIPE", "heat-slug-die-equal"),
            ("STRIP_COUNT", 3),
            ("LOT_ID", "H1"),
            ("PRIORITY", "5"),
        ],
    ) == (0, [])
    assert host.command(
        "START_LOT", [("RECIPE", "film-laser-wire"), ("STRIP_COUNT", "2"), ("LOT_ID", "H2")]
    ) == (0, [])
    lot = front.controller.show_lot("H1")
    assert (lot["status"], lot["strip_ids"]) == ("queued", ["H1-01", "H1-02", "H1-03"])
    assert front.store.operator_commands()[0]["by"] == "gem-host"
    assert host.wait_for(lambda h: len(h.named("LotQueued")) == 2, 5)
    first = host.named("LotQueued")[0].values
    assert first["LotID"] == "H1" and first["StripIDs"] == ["H1-01", "H1-02", "H1-03"]
    # the same lot id again is a bad LOT_ID, and nothing is added
    assert host.command(
        "START_LOT", [("RECIPE", "heat-slug-die-equal"), ("STRIP_COUNT", 1), ("LOT_ID", "H1")]
    ) == (3, [("LOT_ID", 2)])
    assert [lot["lot_id"] for lot in front.store.lots()] == ["H1", "H2"]
    assert host.send(1, 3, [1012, 1013]).get() == [2, ["H1", "H2"]]


def test_equipment_constants_are_range_checked_all_or_nothing(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    names = {c["ECID"]: c for c in host.send(2, 29, []).get()}
    assert names[13]["ECNAME"] == "LinktestInterval" and names[13]["UNITS"] == "s"
    assert host.send(2, 15, [{"ECID": 13, "ECV": 5}, {"ECID": 10, "ECV": 999}]).get() == 3
    assert host.send(2, 13, [13]).get() == [4]  # unchanged: nothing half-done
    assert host.send(2, 15, [{"ECID": 99, "ECV": 1}]).get() == 1
    assert host.send(2, 15, [{"ECID": 13, "ECV": 5}, {"ECID": 10, "ECV": 7}]).get() == 0
    assert host.send(2, 13, [13, 10]).get() == [5, 7]
    assert front.link.linktest_s == 5
    assert front.equipment.settings.timeouts.t3 == 7.0


def test_clock_can_be_read_and_set(host: GemHost) -> None:
    host.online()
    assert host.send(2, 31, "not a time").get() == 1
    assert host.send(2, 31, "2031010203040500").get() == 0
    text = host.send(2, 17).get()
    read = datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    assert abs(read - datetime.datetime(2031, 1, 2, 3, 4, 5)) < datetime.timedelta(seconds=5)


def test_process_programs_list_upload_download_checked_like_recipe_check_and_delete(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    recipes = front.controller.recipes_dir
    assert "heat-slug-die-equal" in host.send(7, 19).get()
    body = (recipes / "heat-slug-die-equal.yaml").read_text()
    assert host.send(7, 5, "heat-slug-die-equal").get() == {
        "PPID": "heat-slug-die-equal",
        "PPBODY": body,
    }
    unknown = host.handler.send_and_waitfor_response(host.handler.stream_function(7, 5)("x"))
    assert unknown is not None and unknown.data == b"\x01\x00"  # E5: zero-length list
    bad = body.replace("name: heat-slug-die-equal", "name: hs-new").replace(
        "cure_time_s: 90", "cure_time_s: -5"
    )
    assert "cure_time_s: -5" in bad
    assert host.send(7, 3, {"PPID": "hs-new", "PPBODY": bad}).get() == 5
    assert host.wait_for(lambda h: any("cure_time_s" in t for t in h.terminal), 5)
    assert not (recipes / "hs-new.yaml").exists()
    good = body.replace("name: heat-slug-die-equal", "name: hs-new")
    assert host.send(7, 3, {"PPID": "hs-new", "PPBODY": good}).get() == 0
    assert (recipes / "hs-new.yaml").read_text() == good
    assert "hs-new" in host.send(7, 19).get()
    assert host.send(7, 17, ["hs-new", "ghost"]).get() == 4  # all or none
    assert (recipes / "hs-new.yaml").exists()
    assert host.send(7, 17, ["hs-new"]).get() == 0
    assert not (recipes / "hs-new.yaml").exists()


def _download(front: GemFront, host: GemHost, ppid: str) -> int:
    body = (front.controller.recipes_dir / "heat-slug-die-equal.yaml").read_text()
    good = body.replace("name: heat-slug-die-equal", f"name: {ppid}")
    return int(host.send(7, 3, {"PPID": ppid, "PPBODY": good}).get())


def test_download_once_the_line_has_users_needs_gem_user_with_the_engineer_role(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    recipes = front.controller.recipes_dir
    users = Users(front.store)
    users.add("olga", "operator", "password-1")
    assert _download(front, host, "hs-a") == 1  # users exist, gem.user names none
    assert host.wait_for(lambda h: any("gem.user names none" in t for t in h.terminal), 5)
    assert not (recipes / "hs-a.yaml").exists()


@pytest.mark.parametrize("front", [{"user": "mes"}], indirect=True)
def test_download_as_the_configured_user_follows_that_users_role(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    recipes = front.controller.recipes_dir
    assert _download(front, host, "hs-open") == 0  # no users yet: the API is open too
    users = Users(front.store)
    users.add("olga", "engineer", "password-1")
    assert _download(front, host, "hs-b") == 1  # gem.user "mes" is not a user
    users.add("mes", "operator", "password-2")
    assert _download(front, host, "hs-c") == 1
    assert host.wait_for(lambda h: any("mes is operator" in t for t in h.terminal), 5)
    assert not (recipes / "hs-b.yaml").exists() and not (recipes / "hs-c.yaml").exists()
    with front.store.write("promote mes") as conn:
        conn.execute("UPDATE users SET role = 'engineer' WHERE name = 'mes'")
    assert _download(front, host, "hs-d") == 0
    assert (recipes / "hs-d.yaml").exists()


def test_spool_request_with_nothing_spooled_says_so(host: GemHost) -> None:
    host.online()
    assert host.send(6, 23, 0).get() == 2
    assert host.send(6, 23, 1).get() == 2


def _hsms(s_type: int, system: int) -> bytes:
    header = struct.pack(">HBBBBI", 0xFFFF, 0, 0, 0, s_type, system)
    return struct.pack(">I", len(header)) + header


def _closed_within(sock: socket.socket, timeout_s: float) -> bool:
    """Whether the peer closes ``sock`` within ``timeout_s``, answering nothing on the way."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = sock.recv(1024)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
        if not data:
            return True
    return False


def _connect(front: GemFront) -> socket.socket:
    deadline = time.monotonic() + 5
    while True:
        try:
            return socket.create_connection(("127.0.0.1", front.settings.port or 0))
        except ConnectionRefusedError:  # between listening sockets (secsgem re-binds)
            assert time.monotonic() < deadline
            time.sleep(0.05)


def _select_and_drop(front: GemFront, wait_s: float = 0.0) -> None:
    """A host that selects, waits ``wait_s`` without answering the equipment's S1F13, and
    drops its link (reset, no Separate.req)."""
    with _connect(front) as dropped:
        dropped.sendall(_hsms(1, 7))  # Select.req
        dropped.settimeout(5)
        assert struct.unpack(">IHBBBBI", dropped.recv(14))[5] == 2  # Select.rsp
        time.sleep(wait_s)
        dropped.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_t7_a_host_that_never_selects_is_disconnected(front: GemFront) -> None:
    with _connect(front) as sock:
        assert _closed_within(sock, front.settings.t7_s + 2.0)


def test_linktest_not_answered_within_t6_closes_the_connection(front: GemFront) -> None:
    with _connect(front) as sock:
        sock.sendall(_hsms(1, 7))  # Select.req
        started = time.monotonic()
        assert _closed_within(sock, front.settings.linktest_s + front.settings.t6_s + 3.0)
        assert time.monotonic() - started >= front.settings.linktest_s


@pytest.mark.parametrize("front", [{"online_substate": "local"}], indirect=True)
def test_configured_online_local_refuses_remote_commands(host: GemHost) -> None:
    assert host.online() == 0
    assert host.send(1, 3, [1002]).get() == [4]
    assert host.command("START_LOT", [("RECIPE", "x"), ("STRIP_COUNT", 1)]) == (2, [])


def test_abort_of_a_waiting_lot_reports_the_abort_and_its_strips_on_hold(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    host.subscribe(["LotAborted", "StripOnHold"])
    start = [("RECIPE", "heat-slug-die-equal"), ("STRIP_COUNT", 2), ("LOT_ID", "A1")]
    assert host.command("START_LOT", start) == (0, [])
    assert host.command("ABORT_LOT", [("LOT_ID", "A1")]) == (0, [])
    assert host.wait_for(lambda h: len(h.named("StripOnHold")) == 2 and h.named("LotAborted"), 5)
    assert "aborted by gem-host" in host.named("LotAborted")[0].values["Reason"]
    assert [e.values["StripID"] for e in host.named("StripOnHold")] == ["A1-01", "A1-02"]
    assert front.controller.show_lot("A1")["status"] == "aborted"
    assert host.command("HOLD_LOT", [("LOT_ID", "A1")]) == (2, [])  # finished: not now


@pytest.mark.parametrize("front", [{"linktest_s": 60, "t6_s": 5}], indirect=True)
def test_t3_an_event_report_the_host_does_not_answer_is_sent_again_and_kept_until_answered(
    front: GemFront, host: GemHost
) -> None:
    host.online()
    host.subscribe(["LotQueued"])
    unanswered: list[float] = []

    def withhold_the_first(handler: Any, message: Any) -> None:
        """No S6F12 (the equipment's T3, 3 s here, runs out); then the host's own handler."""
        unanswered.append(time.monotonic())
        host.handler.unregister_stream_function(6, 11)

    host.handler.register_stream_function(6, 11, withhold_the_first)
    start = [("RECIPE", "heat-slug-die-equal"), ("STRIP_COUNT", 1), ("LOT_ID", "T3")]
    assert host.command("START_LOT", start) == (0, [])
    assert host.wait_for(lambda h: len(h.named("LotQueued")) == 1, 15), "never sent again"
    resent_after_s = time.monotonic() - unanswered[0]
    assert resent_after_s >= front.settings.t3_s - 0.2, "sent again before T3 ran out"
    assert host.named("LotQueued")[0].values["LotID"] == "T3"
    # removed once the equipment has the host's S6F12
    wait_until(lambda: front.store.spool_count() == 0, 5, "answered: out of the spool")
    assert host.send(1, 1) is not None, "a T3 expiry is no link failure: the link stays up"


def _recv_control(sock: socket.socket, s_type: int, timeout_s: float) -> None:
    """Read whole HSMS messages from ``sock`` (the equipment's own S1F13 among them) until a
    control message of ``s_type`` came."""
    sock.settimeout(timeout_s)
    data = b""
    while True:
        while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
            chunk = sock.recv(1024)
            assert chunk, "connection closed"
            data += chunk
        length = 4 + struct.unpack(">I", data[:4])[0]
        if data[9] == s_type:
            return
        data = data[length:]


@pytest.mark.parametrize("front", [{"t8_s": 1, "t6_s": 5, "linktest_s": 60}], indirect=True)
def test_t8_a_message_whose_bytes_stop_coming_closes_the_connection(
    front: GemFront,
) -> None:
    with _connect(front) as sock:
        sock.sendall(_hsms(1, 7))  # Select.req
        _recv_control(sock, 2, 5)  # Select.rsp
        linktest = _hsms(5, 8)  # Linktest.req in two parts, a gap shorter than T8 between
        sock.sendall(linktest[:6])
        time.sleep(0.4)
        sock.sendall(linktest[6:])
        _recv_control(sock, 6, 5)  # Linktest.rsp: the message was whole in time
        sock.sendall(_hsms(5, 9)[:9])  # part of a message, then nothing
        started = time.monotonic()
        assert _closed_within(sock, front.settings.t8_s + 3.0)
        assert time.monotonic() - started >= front.settings.t8_s - 0.1


def test_reports_links_enabled_events_alarms_and_constants_survive_a_restart(
    controller: LineController,
) -> None:
    first = make_front(controller)
    try:
        with connected_host(first.settings.port or 0) as host:
            host.online()
            ceids = host.subscribe(["LotQueued"])
            assert host.send(5, 3, {"ALED": 128, "ALID": 40000}).get() == 0
            assert host.send(2, 15, [{"ECID": 13, "ECV": 7}]).get() == 0
    finally:
        first.stop()
    again = make_front(controller)  # the daemon restarted: nothing defined again
    try:
        with connected_host(again.settings.port or 0, back=host) as back:  # the host's own
            assert back.online() in (0, 2)
            assert back.send(1, 3, [1003]).get() == [[ceids["LotQueued"]]]  # EventsEnabled
            assert [a["ALID"] for a in back.send(5, 7).get()] == [40000]
            assert back.send(2, 13, [13]).get() == [7]
            assert again.link.linktest_s == 7  # in force, not only remembered
            start = [("RECIPE", "heat-slug-die-equal"), ("STRIP_COUNT", 1), ("LOT_ID", "R1")]
            assert back.command("START_LOT", start) == (0, [])
            assert back.wait_for(lambda h: bool(h.named("LotQueued")), 5)
            assert back.named("LotQueued")[0].values["StripIDs"] == ["R1-01"]
    finally:
        again.stop()


def test_a_host_reconnecting_at_once_after_a_dropped_link_gets_a_working_link(
    front: GemFront,
) -> None:
    """A host whose link dropped (reset, no Separate.req) and that connects again at once is
    served on the new link, which stays up past linktest and T6; the port still listens after
    it (secsgem 0.3 listened again while tearing the old link down: the old teardown then hit
    the new link, and the listener died on "Address already in use")."""
    for attempt in (1, 2):
        _select_and_drop(front)
        with connected_host(front.settings.port or 0, 10) as again:
            assert again.online() in (0, 2)
            if attempt == 2:
                time.sleep(front.settings.linktest_s + front.settings.t6_s + 0.5)
                assert again.send(1, 1) is not None, "the new link answers after a linktest"


def test_a_link_dropped_before_its_listener_thread_was_done_leaves_the_port_listening(
    front: GemFront,
) -> None:
    """The listener thread that accepted a link runs secsgem's connect handlers, then closes
    its listening socket. A link that drops before that (a host that selects and resets at
    once, on a loaded machine) must not start the next listener beside it: the two shared one
    socket attribute, and the port died ("Address already in use"). Here the accepting thread
    is held in a connect handler until the dropped link's receiver thread has ended."""
    connection: Any = front.equipment.protocol._connection
    release, link_gone = threading.Event(), threading.Event()
    receivers: list[threading.Thread] = []

    def hold_the_first_accept(_: Any) -> None:
        if not receivers:
            release.wait(10)

    def dropped(_: Any) -> None:
        receivers.append(threading.current_thread())
        link_gone.set()

    connection.on_connected.register(hold_the_first_accept)
    connection.on_disconnected.register(dropped)
    accepting = connection._server_thread
    _select_and_drop(front)
    assert link_gone.wait(10), "the dropped link was not torn down"
    receivers[0].join(5)
    time.sleep(0.2)  # room for a listener started too early to start
    release.set()
    accepting.join(5)
    with connected_host(front.settings.port or 0, 10) as again:
        assert again.online() in (0, 2)
        assert again.send(1, 1) is not None, "the new link answers"


def test_a_host_reconnecting_after_a_link_dropped_while_s1f13_went_unanswered_communicates(
    front: GemFront,
) -> None:
    """E30: each link starts NOT COMMUNICATING. A link selected and dropped without answering
    the equipment's S1F13 (so past T3 the equipment waits its establish-communication delay,
    WAIT DELAY, where secsgem ignores every message) must not leave that state to the next
    link: the next host communicates at once, not after the delay (10 s) or never."""
    _select_and_drop(front, front.settings.t3_s + 0.5)  # T3 runs out: WAIT DELAY
    with connected_host(front.settings.port or 0, 5) as again:
        assert again.online() in (0, 2)
        assert again.send(1, 1) is not None, "S1F1 answered on the new link"


def test_packline_host_communicates_again_after_the_equipment_dropped_its_link(
    controller: LineController,
) -> None:
    """packline's own host (secsgem's, which reconnects by itself) starts each link at NOT
    COMMUNICATING: after the equipment went away and came back on the same port, it selects
    and establishes communication again (secsgem left it COMMUNICATING, and the new link's
    select failed its state transition)."""
    first = make_front(controller)
    port = first.settings.port or 0
    again = None
    try:
        with connected_host(port) as host:
            assert host.online() in (0, 2)
            first.stop()  # the daemon restarts
            deadline = time.monotonic() + 10
            while host.handler.communication_state.current is CommunicationState.COMMUNICATING:
                assert time.monotonic() < deadline, "the host still believes it communicates"
                time.sleep(0.05)
            again = make_front(controller, port=port)
            assert host.handler.waitfor_communicating(15), "the host never communicated again"
            assert host.send(1, 1) is not None, "S1F1 answered on the new link"
    finally:
        if again is not None:
            again.stop()
