"""The E37 timers secsgem 0.3 leaves out, on a passive HSMS-SS endpoint.

- T7 (not selected): a host that connects and does not select within T7 is disconnected.
- Linktest: sent every ``linktest_s`` while connected; one not answered within T6 is a
  communication failure and the connection is closed (secsgem only logs it and carries on).
- T8 (network intercharacter): a message whose bytes stop coming for T8 is a communication
  failure and the connection is closed. secsgem 0.3 waits for the rest of a message without a
  bound, in its receiver thread, which then also blocks its own disconnect: here only whole
  messages are taken from the receive buffer and a partial one waits at most T8.
- T3 (reply) and T6 (control transaction) are secsgem's own waits; their values are set here so
  that the equipment constants change them at run time.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from typing import Any

from secsgem.hsms import HsmsBlock, HsmsProtocol
from secsgem.hsms.connection_state_machine import ConnectionState

log = logging.getLogger("packline.gem")

#: Longest a message read on a new connection waits for secsgem to mark it connected.
CONNECTED_WAIT_S = 1.0


class LinkTimers:
    """Adds T7, T8 and linktest failure handling to ``protocol``; timer values in seconds."""

    def __init__(
        self, protocol: HsmsProtocol, *, t7_s: float, t8_s: float, linktest_s: float
    ) -> None:
        self.protocol = protocol
        self.t7_s = t7_s
        self.t8_s = t8_s
        self.linktest_s = linktest_s
        self._t7: threading.Timer | None = None
        self._t8: threading.Timer | None = None
        self._t8_lock = threading.Lock()
        # secsgem's receiver thread calls this after bytes arrived (it blocks on a partial one)
        protocol._process_received_data = self._take_whole_messages
        protocol.events.connected += self._on_connected
        protocol.events.disconnected += self._on_disconnected
        # secsgem starts its linktest timer with these two attributes on every connect.
        protocol._linktest_timeout = linktest_s
        protocol._on_linktest_timer = self._on_linktest_timer

    def set_linktest_s(self, value: float) -> None:
        self.linktest_s = value
        self.protocol._linktest_timeout = value  # from the next linktest on

    def _on_connected(self, _: Any) -> None:
        self._t7 = threading.Timer(self.t7_s, self._on_t7)
        self._t7.daemon = True
        self._t7.start()

    def _on_disconnected(self, _: Any) -> None:
        if self._t7 is not None:
            self._t7.cancel()
        self._stop_t8()

    def _take_whole_messages(self) -> None:
        """Hand every whole HSMS message in the receive buffer on; a partial one stays there
        and (re)starts T8: bytes just came, so the intercharacter time starts again."""
        buffer = self.protocol._receive_buffer
        if len(buffer) >= 4:
            self._wait_connected()
        while len(buffer) >= 4:
            length = 4 + int(struct.unpack(">L", bytes(buffer.peek(4)))[0])
            if len(buffer) < length:
                break
            block = HsmsBlock.decode(bytes(buffer.pop(length)))
            self.protocol._thread.queue_block(self.protocol, block)
        if len(buffer):
            self._start_t8()
        else:
            self._stop_t8()

    def _wait_connected(self) -> None:
        """secsgem 0.3 starts reading a new connection before it marks the connection
        connected: a Select.req read in between fails its state transition and is lost (the
        host then sees no Select.rsp and T7 closes the link). Hand nothing on while the state
        is still NOT_CONNECTED (bounded: a closing connection goes on at once after)."""
        deadline = time.monotonic() + CONNECTED_WAIT_S
        while (
            self.protocol.connection_state.current == ConnectionState.NOT_CONNECTED
            and time.monotonic() < deadline
        ):
            time.sleep(0.002)

    def _start_t8(self) -> None:
        with self._t8_lock:
            if self._t8 is not None:
                self._t8.cancel()
            self._t8 = threading.Timer(self.t8_s, self._on_t8)
            self._t8.daemon = True
            self._t8.start()

    def _stop_t8(self) -> None:
        with self._t8_lock:
            if self._t8 is not None:
                self._t8.cancel()
                self._t8 = None

    def _on_t8(self) -> None:
        with self._t8_lock:
            if self._t8 is None or threading.current_thread() is not self._t8:
                return  # restarted or stopped meanwhile
            self._t8 = None
        waiting = len(self.protocol._receive_buffer)
        if waiting:
            log.warning(
                "GEM: T8 expired: %d bytes of a message, then nothing for %gs: communication"
                " failure",
                waiting,
                self.t8_s,
            )
            self._close()

    def _on_t7(self) -> None:
        state = self.protocol.connection_state.current
        if state == ConnectionState.CONNECTED_NOT_SELECTED:
            log.warning("GEM: T7 expired: the host connected and did not select in %gs", self.t7_s)
            self._close()

    def _on_linktest_timer(self) -> None:
        if self.protocol.send_linktest_req() is None:
            log.warning("GEM: linktest not answered within T6: communication failure")
            self._close()
            return
        self.protocol._start_linktest_timer()

    def _close(self) -> None:
        self.protocol._connection.disconnect()
