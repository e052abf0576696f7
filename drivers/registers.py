"""Declared Modbus registers, coils and blocks: one row of a manual's register table each
(docs/drivers.md has an example of each). Writes check the range first and then send one
request (FC06 for 16-bit values, one FC16 for 32-bit values and strings, as the manual
requires). The tool side (requests, errors) is :mod:`drivers.modbus_tool`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from drivers.errors import ParameterOutOfRange, ProtocolError
from drivers.settings import MethodLike
from drivers.values import check_identifier

if TYPE_CHECKING:
    from drivers.modbus_tool import ModbusTool


class RegType(Enum):
    """Register data types of README §9.2."""

    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    STRING = "string"


U16, S16, U32, STRING = RegType.U16, RegType.S16, RegType.U32, RegType.STRING


def encode(value: int, reg_type: RegType) -> list[int]:
    """Raw integer -> register words (u32 high word first, s16 as two's complement)."""
    if reg_type is RegType.U32:
        return [(value >> 16) & 0xFFFF, value & 0xFFFF]
    return [value & 0xFFFF]


def decode(words: Sequence[int], reg_type: RegType) -> int:
    """Register words -> raw integer."""
    if reg_type is RegType.S16:
        return words[0] - 0x10000 if words[0] & 0x8000 else words[0]
    if reg_type is RegType.U32:
        return (words[0] << 16) | words[1]
    return words[0]


def encode_string(text: str, registers: int) -> list[int]:
    """Two characters per register, first in the high byte, padded with 0x00."""
    data = text.encode("ascii").ljust(registers * 2, b"\x00")
    return [(data[i] << 8) | data[i + 1] for i in range(0, registers * 2, 2)]


def decode_string(words: Sequence[int]) -> str:
    data = b"".join(bytes([(w >> 8) & 0xFF, w & 0xFF]) for w in words)
    return data.split(b"\x00", 1)[0].decode("ascii", errors="replace")


class Register:
    """A declared register (holding or input), read and written in engineering units.

    One row of a manual's register table: address, type, scale, range (``limits``), unit,
    default and doc (which starts with the manual's name). ``count`` > 1 declares a run of
    like registers (``POS_RESULT_1..8``, ``STRIP_ID_1..4``), read as a tuple; ``enum`` an
    enumeration code, read and written as the ``IntEnum``.
    """

    table: ClassVar[str] = "input"

    def __init__(
        self,
        address: int,
        reg_type: RegType = U16,
        *,
        scale: float = 1.0,
        limits: tuple[float, float] | None = None,
        unit: str = "",
        length: int = 10,
        count: int = 1,
        enum: type[IntEnum] | None = None,
        default: Any = None,
        doc: str,
    ) -> None:
        self.address = address
        self.reg_type = reg_type
        self.scale = scale
        self.enum = enum
        if enum is not None and limits is None:
            codes = [int(member) for member in enum]
            limits = (min(codes), max(codes))
        self.limits = limits
        self.unit = unit
        self.length = (
            length if reg_type is RegType.STRING else (2 if reg_type is RegType.U32 else 1)
        )
        self.count = count
        self.default = default
        self.__doc__ = doc
        self.name = f"{self.table}[{address}]"
        #: The manual's name: the doc starts with it (``CURE_S: in-mold cure time.``).
        manual = re.match(r"[A-Z][A-Z0-9_]*", doc)
        self.key = manual.group(0) if manual else self.name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner

    @property
    def words(self) -> int:
        """Registers the declaration spans (``length`` × ``count``)."""
        return self.length * self.count

    @property
    def addresses(self) -> range:
        """Addresses of every element (one per register run element)."""
        return range(self.address, self.address + self.words, self.length)

    @overload
    def __get__(self, instance: None, owner: type) -> Register: ...

    @overload
    def __get__(self, instance: ModbusTool, owner: type) -> Any: ...

    def __get__(self, instance: ModbusTool | None, owner: type) -> Any:
        if instance is None:
            return self
        return instance.read_values(self)[self.name]

    def from_words(self, words: Sequence[int]) -> Any:
        """Decode this register's words (a tuple for a run of ``count`` registers)."""
        if self.count > 1:
            return tuple(
                self._decode_one(words[k : k + self.length])
                for k in range(0, self.words, self.length)
            )
        return self._decode_one(words)

    def _decode_one(self, words: Sequence[int]) -> Any:
        if self.reg_type is RegType.STRING:
            return decode_string(words)
        raw = decode(words, self.reg_type)
        if self.enum is not None:
            try:
                return self.enum(raw)
            except ValueError:
                raise ProtocolError(
                    f"bad {self.key} {raw}: not a {self.enum.__name__} code"
                ) from None
        return raw if self.scale == 1.0 else round(raw * self.scale, 6)

    def to_words(self, value: Any) -> list[int]:
        """Check ``value`` against the manual's range and encode it (one element of a run)."""
        if self.reg_type is RegType.STRING:
            return encode_string(
                check_identifier(value, self.name, max_len=self.length * 2), self.length
            )
        if self.enum is not None:
            return [self._enum_code(value)]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterOutOfRange(f"{self.name} must be a number, got {value!r}")
        if self.limits is not None and not self.limits[0] <= value <= self.limits[1]:
            lo, hi = self.limits
            raise ParameterOutOfRange(
                f"{self.name} = {value} outside {lo}..{hi} {self.unit}".rstrip()
            )
        raw = round(value / self.scale)
        return encode(raw, self.reg_type)

    def _enum_code(self, value: Any) -> int:
        assert self.enum is not None
        if isinstance(value, str) and value.upper() in self.enum.__members__:
            value = self.enum[value.upper()]
        if isinstance(value, bool) or not isinstance(value, int) or value not in set(self.enum):
            allowed = ", ".join(f"{c.name} ({int(c)})" for c in self.enum)
            raise ParameterOutOfRange(f"{self.name} = {value!r} not one of {allowed}")
        return int(value)

    def set_item(self, instance: ModbusTool, index: int, value: Any) -> None:
        """Write element ``index`` (1-based) of a run with one request (FC06 or FC16)."""
        if self.table != "holding":
            raise AttributeError(f"{self.name} is an input register")
        if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= self.count:
            raise ParameterOutOfRange(f"{self.name} index {index} outside 1..{self.count}")
        instance.write_registers(
            self.addresses[index - 1],
            self.to_words(value),
            sent_as=f"{self.name}_{index}={value!r}",
        )


R = TypeVar("R")


class Block(MethodLike[R]):
    """Declared registers of one table read in one request, as a typed record.

    ``Block(ModbusStatus, state=tool_state, doc=...)`` reads the registers the record's fields
    are named after (declared on the same driver class), or the register a field is given under
    its keyword, in one request over their span, and builds the record. Called as a method:
    ``tool.status()``. ``doc`` is the record's docstring unless given.
    """

    #: Record fields that are not registers of the block (a result block's ``positions``).
    derived: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, record: Callable[..., R], *, doc: str | None = None, **renamed: Register
    ) -> None:
        self.record = record
        self.renamed = renamed
        self.registers: tuple[Register, ...] = ()
        self.__doc__ = record.__doc__ if doc is None else doc

    def __set_name__(self, owner: type, name: str) -> None:
        """Find the registers of the record's fields among ``owner``'s members."""
        fields = [
            field.name
            for field in dataclasses.fields(self.record)  # type: ignore[arg-type]
            if field.name not in self.renamed and field.name not in self.derived
        ]
        registers: list[Register] = []
        for field in fields:
            register = getattr(owner, field, None)
            if not isinstance(register, Register):
                raise TypeError(f"{owner.__name__}.{field} is not a register for {name}")
            registers.append(register)
        self.registers = tuple(registers)

    def __call__(self, tool: ModbusTool) -> R:
        """As :meth:`read` (``EtchBath.etch_progress(bath)`` works as for a method)."""
        return self.read(tool)

    def read(self, tool: ModbusTool) -> R:
        """Read the block in one request and build the record."""
        return self.record(**self.fields(tool))

    def fields(self, tool: ModbusTool) -> dict[str, Any]:
        """The block's values in one request, keyed by record field."""
        values = tool.read_values(*self.registers, *self.renamed.values())
        fields = {register.name: values[register.name] for register in self.registers}
        fields.update({key: values[register.name] for key, register in self.renamed.items()})
        return fields


class Holding(Register):
    """A read/write holding register."""

    table = "holding"

    def __set__(self, instance: ModbusTool, value: Any) -> None:
        if self.count > 1:
            raise AttributeError(f"{self.name} is a run of {self.count} registers: use set_item")
        instance.write_registers(
            self.address, self.to_words(value), sent_as=f"{self.name}={value!r}"
        )


class Input(Register):
    """A read-only input register."""

    table = "input"


class DiscreteInput:
    """A read-only discrete input bit."""

    def __init__(self, address: int, *, doc: str) -> None:
        self.address = address
        self.__doc__ = doc

    def __get__(self, instance: ModbusTool | None, owner: type) -> Any:
        return self if instance is None else self.read(instance)

    def read(self, tool: ModbusTool) -> bool:
        return tool.read_discrete_inputs(self.address, 1)[0]


class LevelCoil(DiscreteInput):
    """A read/write level coil (e.g. HEATER_ENABLE)."""

    def read(self, tool: ModbusTool) -> bool:
        return tool.read_coils(self.address, 1)[0]

    def __set__(self, instance: ModbusTool, value: bool) -> None:
        if not isinstance(value, bool):
            raise ParameterOutOfRange(f"coil {self.address} takes True or False, got {value!r}")
        instance.write_coil(self.address, value)


class Pulse(MethodLike[None]):
    """A command coil, as one row of the manual's coil table: ``start = Pulse(2, "START",
    doc=...)`` makes ``tool.start()`` pulse coil 2 once (never repeated on a timeout)."""

    def __init__(self, coil: int, name: str, *, doc: str) -> None:
        self.coil = coil
        self.key = name
        self.__doc__ = doc

    def __call__(self, tool: ModbusTool) -> None:
        """Pulse the coil on ``tool`` (``MoldPress.start(press)`` works as for a method)."""
        tool.pulse(self.coil, self.key)
