"""Each HSMS link starts GEM communication afresh (E30 communication state, NOT COMMUNICATING).

secsgem 0.3 never takes its GEM communication state back to NOT COMMUNICATING when a link
drops (``GemHandler.on_connection_closed`` exists but nothing calls it). A link that dropped
while COMMUNICATING left the equipment believing the host could take messages; one that dropped
while the equipment waited for S1F14 (WAIT CRA, WAIT DELAY) made the next link's select fail
("Invalid source state for transition 'select'"), so a host that reconnected after a network
blip never got communications established again. Seen on a loaded machine, on both sides: the
equipment and packline's own host.
"""

from __future__ import annotations

import threading
from typing import Any

from secsgem.gem.communication_state_machine import CommunicationState
from secsgem.hsms.connection_state_machine import ConnectionState

#: States a link leaves behind that the next link must not inherit.
_STALE = (
    CommunicationState.COMMUNICATING,
    CommunicationState.WAIT_CRA,
    CommunicationState.WAIT_DELAY,
)


class FreshCommunication:
    """Mixin for a secsgem ``GemHandler``: the communication state goes back to NOT
    COMMUNICATING when the link drops, and at the latest when a new link is selected."""

    _communication_state: Any
    protocol: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._link_lock = threading.Lock()
        self.protocol.events.disconnected += self._on_link_dropped

    def _on_link_dropped(self, _: Any) -> None:
        """On the dropped link's receiver thread. A new link already up (a host reconnecting
        at once) is left alone: its select starts it afresh."""
        with self._link_lock:
            if self.protocol.connection_state.current is ConnectionState.NOT_CONNECTED:
                self._forget_communication()

    def _on_communicating(self, data: Any) -> None:
        """A link was selected: E30 communication starts from NOT COMMUNICATING."""
        with self._link_lock:
            self._forget_communication()
        super()._on_communicating(data)  # type: ignore[misc]  # select: S1F13 sent

    def _forget_communication(self) -> None:
        state = self._communication_state
        if state.current is CommunicationState.COMMUNICATING:
            state.communicationfail()
        elif state.current in _STALE:  # waiting for S1F14: no E30 transition back, so
            state.disable()  # through DISABLED (cancels the T3 and delay timers)
            state.enable()
