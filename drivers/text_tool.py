"""Base of the text-protocol drivers: SCPI over VISA, line ASCII and framed ASCII.

Their manuals say two things alike in their own words: an identity query answering
``<vendor>,<model>,<serial>,<firmware>`` and an active-alarms query answering
``<n>[,<code>...]``. A driver names its two queries; reading them is written once here.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import ClassVar, TypeVar

from drivers.base import Tool
from drivers.records import Identity
from drivers.values import counted_list

T = TypeVar("T")


class TextTool(Tool):
    """A driver whose tool answers text queries (:meth:`query`)."""

    #: The identity query of the manual (``*IDN?``, ``IDN?``, ``ID?``).
    identity_query: ClassVar[str]
    #: The active-alarms query of the manual (``ALARm:ACTive?``, ``ALM?``, ``AL?``).
    alarms_query: ClassVar[str]

    @abstractmethod
    def query(self, text: str, /) -> str:
        """Send a query and return the tool's reply."""

    def ask(self, sent: str, parse: Callable[[str], T], *, quote_reply: bool = False) -> T:
        """Send the query ``sent`` and ``parse`` its reply: a reply that does not parse is one
        ProtocolError naming the tool, its address, ``sent`` and (``quote_reply``) the reply."""
        reply = self.query(sent)
        with self.parsing(sent, reply if quote_reply else ""):
            return parse(reply)

    def identify(self) -> Identity:
        """The identity query: vendor, model, serial number, firmware."""
        return self.ask(self.identity_query, Identity.parse)

    def active_alarms(self) -> list[int]:
        """The active-alarms query: alarm codes in order of occurrence."""
        return self.ask(self.alarms_query, counted_list, quote_reply=True)
