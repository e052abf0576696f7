"""Base of the text-protocol drivers: SCPI over VISA, line ASCII and framed ASCII.

Their manuals say two things alike in their own words: an identity query answering
``<vendor>,<model>,<serial>,<firmware>`` and an active-alarms query answering
``<n>[,<code>...]``. A driver names its two queries; reading them is written once here.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from drivers.base import Tool
from drivers.records import Identity
from drivers.values import counted_list


class TextTool(Tool):
    """A driver whose tool answers text queries (:meth:`query`)."""

    #: The identity query of the manual (``*IDN?``, ``IDN?``, ``ID?``).
    identity_query: ClassVar[str]
    #: The active-alarms query of the manual (``ALARm:ACTive?``, ``ALM?``, ``AL?``).
    alarms_query: ClassVar[str]

    @abstractmethod
    def query(self, text: str, /) -> str:
        """Send a query and return the tool's reply."""

    def identify(self) -> Identity:
        """The identity query: vendor, model, serial number, firmware."""
        reply = self.query(self.identity_query)
        with self.parsing(self.identity_query):
            return Identity.parse(reply)

    def active_alarms(self) -> list[int]:
        """The active-alarms query: alarm codes in order of occurrence."""
        reply = self.query(self.alarms_query)
        with self.parsing(self.alarms_query, reply):
            return counted_list(reply)
