"""SECS-II messages secsgem 0.3 does not define: S2F31/S2F32 (date and time set)."""

from __future__ import annotations

from typing import ClassVar

from secsgem.secs import variables
from secsgem.secs.data_items import PPID, TIME, DataItemBase
from secsgem.secs.functions.base import SecsStreamFunction
from secsgem.secs.functions.streams_functions import StreamsFunctions


class TIACK(DataItemBase):
    """Time acknowledge (E5): 0 accepted, 1 error, not done."""

    name = "TIACK"
    __type__ = variables.Binary
    __count__ = 1

    ACK = 0
    ERROR = 1


class SecsS02F31(SecsStreamFunction):
    """Date and time set request: the host sets the equipment clock."""

    _stream = 2
    _function = 31
    _data_format = TIME
    _to_host = False
    _to_equipment = True
    _has_reply = True
    _is_reply_required = True
    _is_multi_block = False


class SecsS02F32(SecsStreamFunction):
    """Date and time set acknowledge."""

    _stream = 2
    _function = 32
    _data_format = TIACK
    _to_host = True
    _to_equipment = False
    _has_reply = False
    _is_reply_required = False
    _is_multi_block = False


def add_missing_functions(functions: StreamsFunctions) -> StreamsFunctions:
    """``functions`` with the messages above added (host and equipment both need them)."""
    functions.update(SecsS02F31)
    functions.update(SecsS02F32)
    return functions


class SecsS07F06Empty(SecsStreamFunction):
    """S7F6 as E5 answers an unknown PPID: a zero-length list (secsgem's S7F6 is always L[2])."""

    _stream = 7
    _function = 6
    _data_format: ClassVar[list[type[DataItemBase]]] = [PPID]
    _to_host = True
    _to_equipment = True
    _has_reply = False
    _is_reply_required = False
    _is_multi_block = False
