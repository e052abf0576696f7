"""The line's GEM equipment handler: secsgem's ``GemEquipmentHandler`` with the catalogue,
the messages it lacks, and E30 rules it does not enforce.

What it adds or changes, and why:
- Offline means offline (E30): while the control state is not online, every primary message
  but S1F13 and S1F17 is answered with SxF0.
- Every S6F11 and S5F1 goes through the spool (:class:`~packline.gem.outbox.Outbox`), built
  when the event happens, so the host gets them in order even after being away.
- S2F41 is answered by :mod:`~packline.gem.remote_commands` (HCACK 0 or a refusal with a
  CPACK per bad parameter), not by secsgem's HCACK 4 + ``rcmd_*`` flow, and only online remote.
- S1F21/S1F23 namelists, S2F17/S2F31 clock, S6F23 spool request, S7 process programs.
- S2F15 checks every value's type and range before setting any (all or nothing).
"""

from __future__ import annotations

import datetime
import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import secsgem.common
import secsgem.gem
import secsgem.hsms
import secsgem.secs
from secsgem.common.tcp_server_connection import TcpServerConnection
from secsgem.gem.communication_state_machine import CommunicationState
from secsgem.gem.control_state_machine import ControlState
from secsgem.secs import variables

from packline import __version__
from packline.gem import catalogue, host_setup
from packline.gem.alarm_ids import AlarmId
from packline.gem.fresh_link import FreshCommunication
from packline.gem.functions import SecsS07F06Empty
from packline.gem.items import Item, ascii_text, item, to_secs
from packline.gem.outbox import Outbox
from packline.gem.process_programs import ProcessPrograms
from packline.gem.relisten import ListenAgain
from packline.gem.remote_commands import HCACK_CANNOT_NOW, Answer
from packline.store import StoreError

log = logging.getLogger("packline.gem")

ALLOWED_OFFLINE = {(1, 13), (1, 17)}
ONLINE = (ControlState.ONLINE, ControlState.ONLINE_LOCAL, ControlState.ONLINE_REMOTE)
ALCD_SET = 0x80
MDLN = "packline"  # model name in S1F2/S1F14 (at most 20 characters)

#: ``status(svid)``: the current value of a status variable as an item.
StatusSource = Callable[[int], Item]
#: ``command(name, params)``: run a remote command.
CommandRunner = Callable[[str, Sequence[tuple[str, Any]]], Answer]

_VALUE_TYPE: dict[str, type[variables.Base]] = {
    "A": variables.String,
    "U4": variables.U4,
    "F8": variables.F8,
    "BOOLEAN": variables.Boolean,
    "L<A>": variables.Array,
}


class PacklineEquipment(FreshCommunication, secsgem.gem.GemEquipmentHandler):
    """One GEM equipment for the whole line."""

    def __init__(
        self,
        settings: secsgem.hsms.HsmsSettings,
        *,
        station_svs: Sequence[catalogue.Variable],
        alarms: Sequence[AlarmId],
        status: StatusSource,
        command: CommandRunner,
        programs: ProcessPrograms,
        outbox_store: Any,
        online_substate: str = "remote",
        spooling: bool = True,
        on_constant: Callable[[str, int], None] | None = None,
    ) -> None:
        super().__init__(settings, initial_online_control_state=online_substate.upper())
        connection = self.protocol._connection
        self._listen_again = (
            ListenAgain(connection) if isinstance(connection, TcpServerConnection) else None
        )
        self._mdln, self._softrev = MDLN, __version__
        self._status = status
        self._command = command
        self.programs = programs
        self._on_constant = on_constant
        self._clock_offset_s = 0.0
        self._host_asked_offline = False
        self._lock = threading.RLock()  # report definitions vs. events being built
        self.spooling = spooling
        self.outbox = Outbox(outbox_store, self._send_spooled, self._host_can_take)
        self._store = outbox_store
        self.status_variables.update(
            {
                v.vid: secsgem.gem.StatusVariable(v.vid, v.name, v.unit, _VALUE_TYPE[v.format])
                for v in (*catalogue.LINE_SVS, *station_svs)
            }
        )
        self.sv_formats = {v.vid: v.format for v in (*catalogue.LINE_SVS, *station_svs)}
        self.data_values.update(
            {
                v.vid: secsgem.gem.DataValue(v.vid, v.name, _VALUE_TYPE[v.format])
                for v in catalogue.DVS
            }
        )
        for cmd_ceid in (20, 21):  # secsgem's START/STOP command-done events: not ours
            self.collection_events.pop(cmd_ceid, None)
        self.collection_events.update(
            {
                e.ceid: secsgem.gem.CollectionEvent(e.ceid, e.name, list(e.dvids))
                for e in catalogue.EVENTS
            }
        )
        self.remote_commands.clear()
        self.equipment_constants.update(
            {
                c.ecid: secsgem.gem.EquipmentConstant(
                    c.ecid, c.name, c.min_value, c.max_value, c.default, c.unit, variables.U4
                )
                for c in catalogue.CONSTANTS
            }
        )
        for standard in catalogue.STANDARD_CONSTANTS:  # secsgem's, with our units ("s")
            self.equipment_constants[standard.ecid].unit = standard.unit
        self.alarm_ids = {a.alid: a for a in alarms}
        self.alarms.update(
            {
                a.alid: secsgem.gem.Alarm(
                    a.alid,
                    a.altx,
                    a.altx,
                    a.category,
                    catalogue.CE["AlarmSet"],
                    catalogue.CE["AlarmCleared"],
                )
                for a in alarms
            }
        )
        self._control_state.online_local.events.enter.register(self._on_online)
        self._control_state.online_remote.events.enter.register(self._on_online)

    # -- life ------------------------------------------------------------------------------
    def enable(self) -> None:
        self.outbox.start()
        if self._listen_again is not None:
            self._listen_again.open()
        super().enable()

    def disable(self) -> None:
        # secsgem 0.3 closes its listening socket under the thread that waits in accept(); the
        # thread dies and disable() then waits for it forever. Let the thread leave its loop
        # first (it checks the flag every select timeout), then disable.
        connection = self.protocol._connection
        if self._listen_again is not None:
            self._listen_again.close()
        _stop_listener(connection)
        super().disable()
        # A host that dropped the link just before: secsgem's disconnect handler (on its
        # receiver thread) may have seen the connection still enabled and listened again.
        # That listener thread is no daemon: left running, the process never exits.
        for _ in range(LISTENER_RACE_CHECKS):
            if not _stop_listener(connection):
                time.sleep(LISTENER_RACE_PAUSE_S)
        self.outbox.stop()

    def constant(self, name: str) -> int:
        """The current value of an equipment constant of the catalogue, by name."""
        for constant in self.equipment_constants.values():
            if constant.name == name:
                return int(constant.value)
        raise KeyError(name)

    def set_constant(self, name: str, value: int) -> None:
        for constant in self.equipment_constants.values():
            if constant.name == name:
                self._set_ec_value(constant, value)
                return
        raise KeyError(name)

    # -- what may be sent ------------------------------------------------------------------------
    @property
    def online(self) -> bool:
        return self._control_state.current in ONLINE

    @property
    def online_remote(self) -> bool:
        return self._control_state.current == ControlState.ONLINE_REMOTE

    def _host_can_take(self) -> bool:
        communicating = self._communication_state.current == CommunicationState.COMMUNICATING
        return communicating and self.online

    def _keep(self) -> bool:
        """Whether a message raised now is kept: yes if the host can take it or is away
        (spooling on); no if the host itself asked to be offline (E30: not reported)."""
        if self._host_can_take():
            return True
        return self.spooling and not self._host_asked_offline

    def _on_online(self, _: Any) -> None:
        self._host_asked_offline = False
        self.outbox.kick()

    # -- events and alarms -------------------------------------------------------------------
    def trigger_collection_events(self, ceids: list[int | str | Any]) -> None:
        """secsgem's own events (control state changes) take the same path as ours."""
        for ceid in ceids if isinstance(ceids, list) else [ceids]:
            value = ceid.value if isinstance(ceid, enum.Enum) else ceid
            self.raise_event(int(value), {})

    def raise_event(self, ceid: int, data: Mapping[int, Item]) -> None:
        """Report ``ceid`` with data variables ``data`` (DVID -> item) if the host enabled it."""
        with self._lock:
            link = self.registered_collection_events.get(ceid)
            if link is None or not link.enabled or not self._keep():
                return
            reports = []
            for rptid in list(link.reports):
                report = self.registered_reports.get(rptid)
                if report is None:
                    continue
                values = [self._value_item(vid, data) for vid in report.vars]
                reports.append({"RPTID": rptid, "V": values})
        self.outbox.put(6, 11, {"CEID": ceid, "RPT": reports})

    def _value_item(self, vid: int, data: Mapping[int, Item]) -> Item:
        if vid in data:
            return data[vid]
        if vid in self.sv_formats:
            return self._status(vid)
        if vid == 1001:
            return item("A", self._get_clock())
        return item("A", "")  # a data variable not valid with this event: zero length

    def raise_alarm(self, alid: int, *, is_set: bool) -> bool:
        """Set or clear ``alid``; S5F1 if the host enabled it. False if it was already so."""
        alarm = self.alarms.get(alid)
        if alarm is None:
            log.warning("GEM: no ALID %s", alid)
            return False
        with self._lock:
            if alarm.set == is_set:
                return False
            alarm.set = is_set
        if alarm.enabled and self._keep():
            code = alarm.code | (ALCD_SET if is_set else 0)
            self.outbox.put(5, 1, {"ALCD": code, "ALID": alid, "ALTX": alarm.text})
        return True

    def _send_spooled(self, stream: int, function: int, body: Any) -> bool:
        if (stream, function) == (6, 11):
            message = self.stream_function(6, 11)(
                {
                    "DATAID": 0,
                    "CEID": body["CEID"],
                    "RPT": [
                        {"RPTID": r["RPTID"], "V": [to_secs(v) for v in r["V"]]}
                        for r in body["RPT"]
                    ],
                }
            )
        else:
            message = self.stream_function(5, 1)(body)
        return answered(self.send_and_waitfor_response(message), stream)

    def terminal(self, text: str) -> None:
        """Show ``text`` on the host's terminal (S10F1), for reasons S2F42/S7F4 cannot carry.
        Not spooled; sent from its own thread (a reply must not wait for another reply)."""
        if not self._host_can_take():
            return

        def send() -> None:
            self.send_and_waitfor_response(
                self.stream_function(10, 1)({"TID": 0, "TEXT": ascii_text(text)[:240]})
            )

        threading.Thread(target=send, name="gem-terminal", daemon=True).start()

    # -- offline rule ----------------------------------------------------------------------------
    def _handle_stream_function(self, message: secsgem.common.Message) -> None:
        header = message.header
        if not self.online and (header.stream, header.function) not in ALLOWED_OFFLINE:
            if header.require_response:
                self.send_response(self.stream_function(header.stream, 0)(), header.system)
            return
        super()._handle_stream_function(message)

    def _on_s01f15(self, handler: Any, message: Any) -> Any:
        reply = super()._on_s01f15(handler, message)
        self._host_asked_offline = True
        return reply

    # -- status variables ------------------------------------------------------------------------
    def on_sv_value_request(self, svid: Any, status_variable: Any) -> variables.Base:
        return to_secs(self._status(int(status_variable.svid)))

    # -- namelists (S1F21, S1F23) -----------------------------------------------------------------
    def _on_s01f21(self, handler: Any, message: Any) -> Any:
        asked = self.settings.streams_functions.decode(message).get()
        known = {v.vid: v for v in catalogue.DVS}
        answer = [
            {
                "VID": vid,
                "DVVALNAME": known[vid].name if vid in known else "",
                "UNITS": known[vid].unit if vid in known else "",
            }
            for vid in (asked or list(known))
        ]
        return self.stream_function(1, 22)(answer)

    def _on_s01f23(self, handler: Any, message: Any) -> Any:
        asked = self.settings.streams_functions.decode(message).get()
        events = {e.ceid: e for e in (*catalogue.STANDARD_EVENTS, *catalogue.EVENTS)}
        answer = [
            {
                "CEID": ceid,
                "CENAME": events[ceid].name if ceid in events else "",
                "VID": list(events[ceid].dvids) if ceid in events else [],
            }
            for ceid in (asked or list(events))
        ]
        return self.stream_function(1, 24)(answer)

    # -- clock (S2F17, S2F31) ------------------------------------------------------------------
    def now(self) -> datetime.datetime:
        """The equipment clock: UTC, shifted by what the host set with S2F31."""
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(
            seconds=self._clock_offset_s
        )

    def _get_clock(self) -> str:
        now = self.now()
        if self._time_format == 0:
            return now.strftime("%y%m%d%H%M%S")
        if self._time_format == 2:
            return now.isoformat()
        return now.strftime("%Y%m%d%H%M%S") + now.strftime("%f")[:2]

    def _on_s02f17(self, handler: Any, message: Any) -> Any:
        return self.stream_function(2, 18)(self._get_clock())

    def _on_s02f31(self, handler: Any, message: Any) -> Any:
        text = self.settings.streams_functions.decode(message).get()
        when = parse_clock(str(text))
        if when is None:
            log.warning("GEM: S2F31 time %r not understood", text)
            return self.stream_function(2, 32)(1)
        self._clock_offset_s = (when - datetime.datetime.now(datetime.UTC)).total_seconds()
        log.info(
            "GEM: host set the clock to %s (offset %.3f s)", when.isoformat(), self._clock_offset_s
        )
        return self.stream_function(2, 32)(0)

    # -- equipment constants -----------------------------------------------------------------------
    def _on_s02f15(self, handler: Any, message: Any) -> Any:
        function = self.settings.streams_functions.decode(message)
        eac = 0
        updates = []
        for entry in function.get():
            constant = self.equipment_constants.get(entry["ECID"])
            value = entry["ECV"]
            if constant is None:
                eac = max(eac, 1)
            elif (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not constant.min_value <= value <= constant.max_value
            ):
                eac = max(eac, 3)
            else:
                updates.append((constant, value))
        if eac == 0:
            for constant, value in updates:
                self._set_ec_value(constant, value)
            self.save_setup()
        return self.stream_function(2, 16)(eac)

    def on_ec_value_update(self, ecid: Any, constant: Any, value: int | float) -> None:
        constant.value = value
        if self._on_constant is not None:
            self._on_constant(constant.name, int(value))

    # -- the host's set-up, kept across restarts (host_setup) --------------------------------------
    def save_setup(self) -> None:
        with self._lock:
            setup = host_setup.snapshot(self)
        try:
            self._store.save_gem_state(setup)
        except StoreError:
            log.exception("GEM: could not save the host's set-up; a restart would forget it")

    def restore_setup(self) -> None:
        """The set-up the host made before the daemon restarted, if any."""
        setup = self._store.gem_state()
        if setup is None:
            return
        with self._lock:
            skipped = host_setup.restore(self, setup)
        for what in skipped:
            log.warning("GEM: saved host set-up not restored: %s", what)
        log.info(
            "GEM: host set-up restored: %d reports, %d linked events",
            len(self.registered_reports),
            len(self.registered_collection_events),
        )

    def _on_s02f33(self, handler: Any, message: Any) -> Any:
        return self._saving(super()._on_s02f33, handler, message)

    def _on_s02f35(self, handler: Any, message: Any) -> Any:
        return self._saving(super()._on_s02f35, handler, message)

    def _on_s02f37(self, handler: Any, message: Any) -> Any:
        return self._saving(super()._on_s02f37, handler, message)

    def _on_s05f03(self, handler: Any, message: Any) -> Any:
        return self._saving(super()._on_s05f03, handler, message)

    def _saving(self, answer: Callable[[Any, Any], Any], handler: Any, message: Any) -> Any:
        with self._lock:
            reply = answer(handler, message)
        self.save_setup()
        return reply

    # -- remote commands ---------------------------------------------------------------------------
    def _on_s02f41(self, handler: Any, message: Any) -> Any:
        function = self.settings.streams_functions.decode(message)
        name = function.RCMD.get()
        if not self.online_remote:
            answer = Answer(HCACK_CANNOT_NOW, reason=f"{name}: equipment is online local")
        else:
            params = [(p["CPNAME"], p["CPVAL"]) for p in function.PARAMS.get()]
            answer = self._command(name, params)
        if answer.reason:
            log.info(
                "GEM: remote command %s refused (HCACK %d): %s", name, answer.hcack, answer.reason
            )
            self.terminal(f"{name} refused: {answer.reason}")
        return self.stream_function(2, 42)(
            {
                "HCACK": answer.hcack,
                "PARAMS": [{"CPNAME": n, "CPACK": c} for n, c in answer.cpacks],
            }
        )

    # -- spool (S6F23) -------------------------------------------------------------------------------
    def _on_s06f23(self, handler: Any, message: Any) -> Any:
        rsdc = self.settings.streams_functions.decode(message).get()
        if not self.outbox.store.spool_count():
            return self.stream_function(6, 24)(2)  # RSDA 2: no spooled data
        if rsdc == 1:
            purged = self.outbox.purge()
            log.info("GEM: host purged %d spooled messages", purged)
        else:
            self.outbox.kick()
        return self.stream_function(6, 24)(0)

    # -- process programs (S7) -----------------------------------------------------------------------
    def _on_s07f19(self, handler: Any, message: Any) -> Any:
        return self.stream_function(7, 20)(self.programs.directory())

    def _on_s07f05(self, handler: Any, message: Any) -> Any:
        ppid = self.settings.streams_functions.decode(message).get()
        text = self.programs.upload(ppid)
        if text is None:
            return SecsS07F06Empty([])
        return self.stream_function(7, 6)({"PPID": ppid, "PPBODY": text})

    def _on_s07f03(self, handler: Any, message: Any) -> Any:
        function = self.settings.streams_functions.decode(message)
        ppid, body = function.PPID.get(), function.PPBODY.get()
        if isinstance(body, list):  # a binary PPBODY decodes as a list of bytes
            body = bytes(body)
        reply = self.programs.download(ppid, body)
        self._report_program_reply("download", ppid, reply.ackc7, reply.reason)
        return self.stream_function(7, 4)(reply.ackc7)

    def _on_s07f17(self, handler: Any, message: Any) -> Any:
        ppids = self.settings.streams_functions.decode(message).get()
        reply = self.programs.delete(ppids)
        self._report_program_reply("delete", ", ".join(ppids), reply.ackc7, reply.reason)
        return self.stream_function(7, 18)(reply.ackc7)

    def _report_program_reply(self, what: str, ppid: str, ackc7: int, reason: str) -> None:
        if reason:
            log.info("GEM: process program %s %s refused (ACKC7 %d): %s", what, ppid, ackc7, reason)
            self.terminal(reason)
        else:
            log.info("GEM: process program %s %s done", what, ppid)


def parse_clock(text: str) -> datetime.datetime | None:
    """A host's TIME (E5: 12 or 16 characters, or ISO 8601) as UTC; None if not a time."""
    try:
        if len(text) == 12 and text.isdigit():
            return datetime.datetime.strptime(text, "%y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
        if len(text) == 16 and text.isdigit():
            when = datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S")
            return when.replace(microsecond=int(text[14:]) * 10000, tzinfo=datetime.UTC)
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def answered(reply: Any, stream: int) -> bool:
    """Whether ``reply`` is the host's answer to a primary of ``stream``: a data message of that
    stream (the secondary, or its F0 abort). A host that is closing answers with an HSMS
    Reject.req instead (secsgem hands that over as the reply): the message was not taken and
    must stay in the spool."""
    if reply is None:
        return False
    header = reply.header
    return int(getattr(header.s_type, "value", header.s_type)) == 0 and header.stream == stream


#: After a disable: how often, and how far apart, to look for a listener secsgem restarted.
LISTENER_RACE_CHECKS = 3
LISTENER_RACE_PAUSE_S = 0.02


def _stop_listener(connection: object) -> bool:
    """Stop secsgem's listening thread of a passive ``connection`` if it runs (bounded; its
    loop checks the flag every select timeout) and close its socket. Whether one ran."""
    thread = getattr(connection, "_server_thread", None)
    if not isinstance(connection, TcpServerConnection) or thread is None or not thread.is_alive():
        return False
    connection._stop_server_thread = True
    thread.join(5.0)
    if connection._server_sock is not None:
        connection._server_sock.close()
    return True
