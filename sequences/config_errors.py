"""Turning pydantic validation errors into messages that name the file, field and value."""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that cannot be used; ``problems`` lists every one found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


def describe_errors(error: ValidationError, model: type[BaseModel] | None = None) -> list[str]:
    """One line per problem: ``stations[2].tool: 'x' - Input should be ...``; an unknown key
    of ``model`` (or a model nested in it) gets a "did you mean" of the closest field names."""
    problems = []
    for item in error.errors():
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        value = item.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        if item["type"] == "extra_forbidden" and model is not None and item["loc"]:
            parent = model_of(resolve_loc(model, item["loc"][:-1])[2])
            fields = list(parent.model_fields) if parent is not None else []
            problems.append(unknown_key(path, str(item["loc"][-1]), fields))
            continue
        problems.append(f"{path or '<top>'}: {item['msg']}{shown}")
    return problems


def unknown_key(path: str, key: str, known: list[str]) -> str:
    """The message for a key no model field has (line configs and recipes alike): the
    closest known names as a "did you mean", then every known name."""
    close = difflib.get_close_matches(key, known, n=2, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    listed = f" (known keys: {', '.join(known)})" if known else ""
    return f"{path}: unknown key{hint}{listed}"


def resolve_loc(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, FieldInfo | None, Any]:
    """The file path of a pydantic error location in ``model`` (discriminator tags dropped),
    the field, and the annotation found there."""
    path = ""
    current: Any = model
    info: FieldInfo | None = None
    for part in loc:
        current = _without_none(current)
        if isinstance(part, int):
            path += f"[{part}]"
            args = [a for a in typing.get_args(current) if a is not Ellipsis]
            current = args[min(part, len(args) - 1)] if args else None
            continue
        tagged = tagged_members(current)
        if part in tagged:
            current = tagged[part]
            continue
        owner = model_of(current)
        if owner is not None and part in owner.model_fields:
            info = owner.model_fields[part]
            current = info.annotation
        else:
            info, current = None, None
        path = f"{path}.{part}" if path else str(part)
    return path or "<top>", info, current


def _without_none(annotation: Any) -> Any:
    if _is_union(annotation):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def tagged_members(annotation: Any) -> dict[str, Any]:
    """The members of a discriminated union by their ``method`` tag (recipe sections)."""
    if not _is_union(annotation):
        return {}
    members = {}
    for member in typing.get_args(annotation):
        owner = model_of(member)
        if owner is not None and "method" in owner.model_fields:
            for tag in typing.get_args(owner.model_fields["method"].annotation):
                members[tag] = member
    return members


def model_of(annotation: Any) -> type[BaseModel] | None:
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a broken one is a :class:`ConfigError` naming the file, line and column."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read file ({exc.strerror})"]) from exc
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"{path}", [f"not valid YAML: {where}{what}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML ({exc})"]) from exc


def validate_model(model: type[M], data: Any, source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, describe_errors(exc, model)) from exc
