"""Declared settings, readings and commands of the text-protocol tools (SCPI, framed and line
ASCII), one row of a manual's command table each, in manual order: :class:`Setting`,
:class:`Reading` and :class:`Command`. docs/drivers.md has an example of each.

Readings and commands are called like methods (:class:`MethodLike`). A reply that does not fit
its codecs is one :class:`ProtocolError` (:meth:`drivers.base.Tool.parsing`). How a key becomes
a query and a command is the kind's ``query_form``/``command_form``: ``{key}?`` / ``{key}
{args}`` unless a manual says otherwise (the wire bonder's ``PAR? <name>``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, overload

from drivers.errors import ParameterOutOfRange, ProtocolError
from drivers.values import Codec


class Tool(Protocol):
    """What a declared setting needs from its driver (every text-protocol driver has it)."""

    def query(self, text: str) -> str: ...

    def command(self, text: str) -> None: ...

    def parsing(self, sent: str, reply: str = "") -> AbstractContextManager[None]: ...


T = TypeVar("T")
R = TypeVar("R")
#: An index placeholder of an indexed setting's key (``REFLow:ZONE<n>:TEMPerature``).
INDEX_PLACEHOLDER = re.compile(r"<[nk]>")


def parse_fields(
    reply: str, codecs: Sequence[Codec], *, sep: str = ",", maxsplit: int = -1
) -> list[Any]:
    """Split ``reply`` into one field per codec and parse each; ProtocolError if it does not fit."""
    parts = reply.split(sep, maxsplit) if len(codecs) > 1 else [reply]
    if len(parts) != len(codecs):
        raise ProtocolError(f"reply {reply!r} has {len(parts)} fields, expected {len(codecs)}")
    return [codec.parse(part) for codec, part in zip(codecs, parts, strict=True)]


class MethodLike(Generic[R]):
    """A declaration called like a method: ``tool.name(*args)`` is ``declaration(tool, *args)``
    (and ``Type.name(tool, *args)`` works as for a method)."""

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type) -> Callable[..., R]: ...

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        bound = functools.partial(self.__call__, instance)
        bound.__doc__ = self.__doc__
        return bound

    def __call__(self, tool: Any, *args: Any) -> R:
        raise NotImplementedError


class Setting(Generic[T]):
    """One row of a manual's command table: read with a query, written with a checked command.

    ``record`` (a dataclass) types a multi-value setting's reads and is accepted for writes;
    ``validate`` cross-checks the checked values (e.g. rows × cols ≤ 1024) before anything is
    sent; ``count`` is the highest index of an indexed key.
    """

    query_form: ClassVar[str] = "{key}?"
    command_form: ClassVar[str] = "{key} {args}"
    #: The reply repeats the key first (``WIRE_MAT,AU``).
    echoes_key: ClassVar[bool] = False

    def __init__(
        self,
        key: str,
        *codecs: Codec,
        doc: str,
        default: Any = None,
        record: Callable[..., Any] | None = None,
        validate: Callable[..., object] | None = None,
        count: int | None = None,
        writable: bool = True,
        readable: bool = True,
    ) -> None:
        #: The manual's name (SCPI header, ASCII keyword or parameter name).
        self.key = key
        self.codecs = codecs
        self.default = default
        self.record = record
        self.validate = validate
        self.count = count
        self.writable = writable
        self.readable = readable
        self.__doc__ = doc
        self.name = self.attribute = key

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.attribute = name
        self.owner = owner

    @property
    def codec(self) -> Codec:
        """The codec of a single-value setting."""
        if len(self.codecs) != 1:
            raise AttributeError(f"{self.attribute} has {len(self.codecs)} codecs: use codecs")
        return self.codecs[0]

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, instance: Tool, owner: type) -> T: ...

    def __get__(self, instance: Tool | None, owner: type) -> Any:
        if instance is None:
            return self
        if self.count is not None:
            return IndexedAccess(self, instance)
        return self.read(instance, self.key)

    def __set__(self, instance: Tool, value: Any) -> None:
        if self.count is not None:
            raise AttributeError(f"{self.attribute} is indexed: set {self.attribute}[k]")
        self.write(instance, self.key, value, self.attribute)

    def key_for(self, index: int) -> str:
        """The key of an indexed setting with ``index`` in place of ``<n>``/``<k>``."""
        if (
            self.count is None
            or isinstance(index, bool)
            or not isinstance(index, int)
            or not 1 <= index <= self.count
        ):
            raise ParameterOutOfRange(f"{self.attribute} index {index!r} outside 1..{self.count}")
        return INDEX_PLACEHOLDER.sub(str(index), self.key)

    def read(self, tool: Tool, key: str) -> Any:
        """Query the setting and parse its reply (a record when one is declared)."""
        if not self.readable:
            raise AttributeError(f"{self.attribute} ({key}) is write-only")
        sent = self.query_form.format(key=key)
        reply = tool.query(sent)
        with tool.parsing(sent, reply):
            if self.echoes_key:
                echoed, _, reply = reply.partition(",")
                if echoed != key:
                    raise ProtocolError(f"{sent} answered for {echoed!r}")
            values = parse_fields(reply, self.codecs)
        if self.record is not None:
            return self.record(*values)
        return values[0] if len(values) == 1 else tuple(values)

    def write(self, tool: Tool, key: str, value: Any, what: str) -> None:
        """Check ``value`` against the codecs (and ``validate``), then send the command."""
        if not self.writable:
            raise AttributeError(f"{self.attribute} ({key}) is read-only")
        checked = self.checked(value, what)
        args = ",".join(codec.format(v) for codec, v in zip(self.codecs, checked, strict=True))
        tool.command(self.command_form.format(key=key, args=args).rstrip())

    def checked(self, value: Any, what: str) -> list[Any]:
        """``value`` (one element of an indexed setting) checked against the codecs and
        ``validate``, as the values the command sends; ParameterOutOfRange naming ``what``."""
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.astuple(value)
        values = value if len(self.codecs) > 1 else (value,)
        if not isinstance(values, tuple | list) or len(values) != len(self.codecs):
            raise ParameterOutOfRange(f"{what} takes {len(self.codecs)} values, got {value!r}")
        checked = [codec.check(v, what) for codec, v in zip(self.codecs, values, strict=True)]
        if self.validate is not None:
            self.validate(*checked)
        return checked


class IndexedAccess(Generic[T]):
    """An indexed :class:`Setting` bound to one driver: ``tool.zone_temperature_c[3]``."""

    def __init__(self, setting: Setting[Any], tool: Tool) -> None:
        self.setting = setting
        self.tool = tool

    def __getitem__(self, index: int) -> T:
        value: T = self.setting.read(self.tool, self.setting.key_for(index))
        return value

    def __call__(self, index: int) -> T:
        return self[index]

    def __setitem__(self, index: int, value: T) -> None:
        key = self.setting.key_for(index)
        self.setting.write(self.tool, key, value, f"{self.setting.attribute}[{index}]")


class Reading(MethodLike[R]):
    """A query whose reply is several values, as a typed record: ``tool.consumables()``.

    ``query`` may take arguments (``ALMTXT? {0}``); ``maxsplit`` keeps commas in a last free-
    text field (``<code>,<class>,<text>``); ``doc`` is the record class's docstring unless given.
    """

    def __init__(
        self,
        query: str,
        record: Callable[..., R],
        *codecs: Codec,
        doc: str | None = None,
        maxsplit: int = -1,
    ) -> None:
        self.query = query
        self.record = record
        self.codecs = codecs
        self.maxsplit = maxsplit
        self.__doc__ = record.__doc__ if doc is None else doc

    def __call__(self, tool: Tool, *args: Any) -> R:
        """As :meth:`read` (``Laser.calibration(laser)`` works as for a method)."""
        return self.read(tool, *args)

    def read(self, tool: Tool, *args: Any) -> R:
        """Send the query and build the record from its reply."""
        sent = self.query.format(*args)
        reply = tool.query(sent)
        with tool.parsing(sent, reply):
            return self.record(*parse_fields(reply, self.codecs, maxsplit=self.maxsplit))


class Command(MethodLike[None]):
    """A command, as one row of the manual's table: ``start = Command("CYCLe:STARt", doc=...)``
    makes ``tool.start()`` send it (checked as every command of the tool is). Codecs declare
    its arguments, checked before sending and put in place of ``{}``:
    ``Command('RECipe:LOAD {}', Quoted(16, allow_empty=False), what="recipe name", ...)``."""

    def __init__(self, text: str, *codecs: Codec, doc: str, what: str = "argument") -> None:
        self.text = text
        self.codecs = codecs
        self.what = what
        self.__doc__ = doc

    def __call__(self, tool: Tool, *args: Any) -> None:
        """Check the arguments and send the command to ``tool`` (``Laser.start(laser)`` works as
        for a method)."""
        if len(args) != len(self.codecs):
            raise TypeError(f"{self.text} takes {len(self.codecs)} argument(s), got {len(args)}")
        texts = [c.format(c.check(v, self.what)) for c, v in zip(self.codecs, args, strict=True)]
        tool.command(self.text.format(*texts))
