"""A small GEM host (secsgem's host handler, HSMS active) for examples, tests and an integrator
checking a line: connect, go online, define a report per event, send commands, and collect
what the equipment sends (events by name, alarms, terminal texts) in arrival order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import secsgem.common
import secsgem.gem
import secsgem.hsms
from secsgem.secs.functions.streams_functions import StreamsFunctions

from packline.gem.fresh_link import FreshCommunication
from packline.gem.functions import add_missing_functions


class _HostHandler(FreshCommunication, secsgem.gem.GemHostHandler):
    """secsgem's host handler whose every link starts GEM communication afresh."""


@dataclass(frozen=True)
class Received:
    """An event report as the host got it: CEID, its name, the report's values by name."""

    ceid: int
    name: str
    values: dict[str, Any]


#: Seconds :meth:`GemHost.close` gives secsgem's disable before helping it end.
DISABLE_WAIT_S = 2.0


class GemHost:
    """A host for the equipment at ``address:port``. Timers in seconds."""

    def __init__(
        self,
        port: int,
        *,
        address: str = "127.0.0.1",
        device_id: int = 0,
        t3_s: float = 10.0,
        t5_s: float = 0.5,
        t6_s: float = 5.0,
    ) -> None:
        settings = secsgem.hsms.HsmsSettings(
            address=address,
            port=port,
            connect_mode=secsgem.hsms.HsmsConnectMode.ACTIVE,
            device_type=secsgem.common.DeviceType.HOST,
            session_id=device_id,
            streams_functions=add_missing_functions(StreamsFunctions()),
            t3=t3_s,
            t5=t5_s,
            t6=t6_s,
        )
        self.handler = _HostHandler(settings)
        self.events: list[Received] = []
        self.alarms: list[tuple[int, int, str]] = []  # (ALID, ALCD, ALTX)
        self.terminal: list[str] = []
        self.names: dict[int, str] = {}  # CEID -> name
        self.vid_names: dict[int, str] = {}  # VID -> name
        self._changed = threading.Condition()
        self.handler.events.collection_event_received += self._on_event
        self.handler.events.alarm_received += self._on_alarm
        self.handler.events.terminal_received += self._on_terminal

    # -- link ------------------------------------------------------------------------------
    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect, select and establish communications (S1F13/14); ``TimeoutError`` if that
        does not happen within ``timeout_s``."""
        self.handler.enable()
        if not self.handler.waitfor_communicating(timeout_s):
            self.close()
            raise TimeoutError(
                f"no GEM communication with {self.handler.settings.address}:"
                f"{self.handler.settings.port} within {timeout_s:g} s"
            )

    def close(self, timeout_s: float = DISABLE_WAIT_S) -> None:
        """secsgem's ``disable``, bounded. secsgem 0.3's client connection waits without a
        bound for its connect thread to take a stop flag, which that thread reads only while
        it idles between attempts: a thread inside ``socket.connect`` when the flag goes up
        (a busy or slow equipment) ends when the connect completes without ever reading it,
        and the wait never ends (the server side has the same shape: secsgem issue #215).
        Past ``timeout_s`` the flag is put down for it once its thread has ended."""
        done = threading.Thread(target=self.handler.disable, name="gem-host-disable", daemon=True)
        done.start()
        done.join(timeout_s)
        connection = getattr(self.handler.protocol, "_connection", None)
        thread = getattr(connection, "connection_thread", None)
        while done.is_alive() and thread is not None:
            thread.join(timeout_s)
            if not thread.is_alive():
                connection.stop_connection_thread = False  # type: ignore[union-attr]
            done.join(timeout_s)

    def send(self, stream: int, function: int, data: Any = None) -> Any:
        """Send a primary message; the decoded reply (``None`` if none came within T3)."""
        function_class = self.handler.stream_function(stream, function)
        message = function_class() if data is None else function_class(data)
        reply = self.handler.send_and_waitfor_response(message)
        if reply is None:
            return None
        return self.handler.settings.streams_functions.decode(reply)

    def online(self) -> int:
        """S1F17: ONLACK (0 accepted, 1 refused, 2 already online)."""
        return int(self.send(1, 17).get())

    # -- reports ---------------------------------------------------------------------------
    def subscribe(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """One report per event (RPTID = CEID) with every data variable S1F23 lists for it,
        linked and enabled; ``names`` limits the events. Returns CE name -> CEID."""
        events = self.send(1, 23, []).get()
        variables = self.send(1, 21, []).get()
        self.vid_names = {v["VID"]: v["DVVALNAME"] for v in variables}
        wanted = set(names) if names is not None else None
        chosen = {}
        for event in events:
            if wanted is not None and event["CENAME"] not in wanted:
                continue
            if not event["VID"]:
                continue
            self.names[event["CEID"]] = event["CENAME"]
            self.handler.subscribe_collection_event(event["CEID"], event["VID"], event["CEID"])
            chosen[event["CENAME"]] = event["CEID"]
        return chosen

    def command(
        self, rcmd: str, params: Sequence[tuple[str, Any]]
    ) -> tuple[int, list[tuple[str, int]]]:
        """S2F41: HCACK and the CPACK of each refused parameter."""
        reply = self.handler.send_remote_command(rcmd, [list(p) for p in params]).get()
        return int(reply["HCACK"]), [(p["CPNAME"], int(p["CPACK"])) for p in reply["PARAMS"]]

    # -- what came in ----------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[GemHost], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.2))
        return True

    def named(self, name: str) -> list[Received]:
        with self._changed:
            return [e for e in self.events if e.name == name]

    def _on_event(self, data: dict[str, Any]) -> None:
        ceid = int(data["ceid"].get())
        values = {self.vid_names.get(v["dvid"], str(v["dvid"])): v["value"] for v in data["values"]}
        with self._changed:
            self.events.append(Received(ceid, self.names.get(ceid, str(ceid)), values))
            self._changed.notify_all()

    def _on_alarm(self, data: dict[str, Any]) -> None:
        with self._changed:
            self.alarms.append(
                (int(data["alid"].get()), int(data["code"].get()), str(data["text"].get()))
            )
            self._changed.notify_all()

    def _on_terminal(self, data: dict[str, Any]) -> None:
        with self._changed:
            self.terminal.append(str(data["text"].get()))
            self._changed.notify_all()
