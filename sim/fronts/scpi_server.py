"""A SCPI front on a TCP port (``TCPIP::host::port::SOCKET``) or a pty (``ASRL<dev>::INSTR``)."""

from __future__ import annotations

from sim.fronts.scpi import ScpiFront
from sim.fronts.stream import PtyEndpoint, TcpEndpoint


class ScpiServer:
    """Serves one :class:`ScpiFront`; ``transport`` is ``tcp`` or ``pty``."""

    def __init__(self, front: ScpiFront, *, transport: str = "tcp", port: int = 0) -> None:
        self.front = front
        name = front.model.tool_name
        self.endpoint: TcpEndpoint | PtyEndpoint
        if transport == "tcp":
            self.endpoint = TcpEndpoint(front.serve, port=port, name=name)
        elif transport == "pty":
            self.endpoint = PtyEndpoint(front.serve, name=name)
        else:
            raise ValueError(f"SCPI transport must be tcp or pty, not {transport!r}")

    def start(self) -> None:
        self.endpoint.start()

    def stop(self) -> None:
        self.endpoint.stop()

    @property
    def failure(self) -> str | None:
        """Why the endpoint can no longer serve, or None."""
        return self.endpoint.failure

    @property
    def address(self) -> str:
        if isinstance(self.endpoint, TcpEndpoint):
            return f"TCPIP::{self.endpoint.host}::{self.endpoint.port}::SOCKET"
        return f"ASRL{self.endpoint.device}::INSTR"
