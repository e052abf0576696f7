"""ALIDs for every alarm of every station's tool (the tool manuals' §6 tables).

ALID = 10000 x station number (line config order, from 1) + the tool's alarm code, so that
two stations of the same tool have different ALIDs and the code stays readable in the ALID
(wire-bonder-2, station 6, alarm 3101 -> ALID 63101). ALCD's category comes from the alarm's
class: A (abort) 2 equipment safety, H (hold) 4 parameter control error, W (warning) 6
equipment status warning. Code 0 of each station (ALID 10000 x n) is its lost tool link, which
the station records as alarm 0 of class LINK (category 7, attention flags).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.registry import driver_class
from packline.gem.items import ascii_text

ALCD_BY_CLASS = {"A": 2, "H": 4, "W": 6, "LINK": 7}
LINK_LOST = "link to the tool lost"
ALTX_MAX = 120  # E5: ALTX is at most 120 characters


@dataclass(frozen=True)
class AlarmId:
    """One ALID: which station and tool code it stands for, its ALCD category and text."""

    alid: int
    station: str
    code: int
    alarm_class: str
    text: str

    @property
    def category(self) -> int:
        return ALCD_BY_CLASS[self.alarm_class]

    @property
    def altx(self) -> str:
        return ascii_text(f"{self.station} {self.code} {self.text}")[:ALTX_MAX]


def alid_of(station_number: int, code: int) -> int:
    return 10000 * station_number + code


def alarm_ids(stations: Sequence[tuple[str, str]]) -> list[AlarmId]:
    """Every ALID of a line of ``(station, tool)`` in line config order."""
    ids = []
    for number, (station, tool) in enumerate(stations, start=1):
        ids.append(AlarmId(alid_of(number, 0), station, 0, "LINK", LINK_LOST))
        table = getattr(driver_class(tool), "alarm_table", {})
        for code, info in sorted(table.items()):
            ids.append(AlarmId(alid_of(number, code), station, code, info.alarm_class, info.text))
    return ids
