"""The one shape of a step's set-points: a frozen dataclass whose fields are the driver's
writable declared members by name, in the manual's order, in their units and with their
defaults (``MoldRecipe(cure_s=90)`` holds ``MoldPress.cure_s``), naming its driver
(``class MoldRecipe(SetPoints, driver=MoldPress)``). ``check`` judges each value by the
member's own declaration, then the manual's cross-field rules (``check_rules``); ``None`` is
not written. ``sequences.steps.setup.apply_setpoints`` writes a record to its tool.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self

from drivers.errors import ParameterOutOfRange


class SetPoints:
    """Base of the set-point records (subclasses are frozen dataclasses)."""

    #: The driver class whose declared members the fields are.
    driver: ClassVar[type]

    def __init_subclass__(cls, *, driver: type | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if driver is not None:
            cls.driver = driver

    def values(self) -> dict[str, Any]:
        """The set-points to write, by driver member, in the manual's order (None left out)."""
        return {
            field.name: value
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
            if (value := getattr(self, field.name)) is not None
        }

    @classmethod
    def read_from(cls, tool: Any) -> Self:
        """The tool's working values of every field (an indexed row as a tuple)."""
        values = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            declaration = getattr(cls.driver, field.name)
            value = getattr(tool, field.name)
            if getattr(declaration, "count", None) is not None and hasattr(declaration, "codecs"):
                value = tuple(value[index] for index in range(1, declaration.count + 1))
            values[field.name] = value
        return cls(**values)

    def declaration(self, member: str) -> Any:
        """The driver's declaration of ``member`` (a Setting or a Register)."""
        return getattr(self.driver, member)

    def check(self) -> None:
        """Every value against its declared range, then the manual's cross-field rules; raise
        :class:`ParameterOutOfRange` naming the member. Nothing is sent."""
        for member, value in self.values().items():
            check_member(self.declaration(member), value, member)
        self.check_rules()

    def check_rules(self) -> None:
        """The manual's cross-field rules among these set-points (none by default)."""


def check_member(declaration: Any, value: Any, what: str) -> None:
    """``value`` against one declared member: a setting's codecs (each element of an indexed
    setting's tuple), a register's type and range (a bool as 0/1)."""
    if not getattr(declaration, "writable", True):
        raise ParameterOutOfRange(f"{what} is read-only")
    if hasattr(declaration, "codecs"):  # a text-protocol Setting
        if declaration.count is None:
            declaration.checked(value, what)
            return
        if not isinstance(value, tuple | list) or len(value) != declaration.count:
            raise ParameterOutOfRange(f"{what} takes {declaration.count} values, got {value!r}")
        for index, item in enumerate(value, start=1):
            declaration.checked(item, f"{what}[{index}]")
        return
    declaration.to_words(int(value) if isinstance(value, bool) else value)
