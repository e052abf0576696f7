"""The E37 timers secsgem 0.3 leaves out, on a passive HSMS-SS endpoint.

- T7 (not selected): a host that connects and does not select within T7 is disconnected.
- Linktest: sent every ``linktest_s`` while connected; one not answered within T6 is a
  communication failure and the connection is closed (secsgem only logs it and carries on).
- T3 (reply) and T6 (control transaction) are secsgem's own waits; their values are set here so
  that the equipment constants change them at run time.
T8 (network intercharacter) is not enforced: secsgem reassembles messages without a timer.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from secsgem.hsms import HsmsProtocol
from secsgem.hsms.connection_state_machine import ConnectionState

log = logging.getLogger("packline.gem")


class LinkTimers:
    """Adds T7 and linktest failure handling to ``protocol``; timer values in seconds."""

    def __init__(self, protocol: HsmsProtocol, *, t7_s: float, linktest_s: float) -> None:
        self.protocol = protocol
        self.t7_s = t7_s
        self.linktest_s = linktest_s
        self._t7: threading.Timer | None = None
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
