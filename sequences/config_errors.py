"""Turning pydantic validation errors into messages that name the file, field and value."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

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
            fields = _fields_at(model, item["loc"][:-1])
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


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the model found by following ``loc`` (list indexes skipped) from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part)) if _is_model(current) else None
        if info is None:
            return []
        current = _model_in(info.annotation)
        if current is None:
            return []
    return list(current.model_fields) if _is_model(current) else []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model type inside an annotation such as ``list[Entry]`` or ``Entry | None``."""
    if _is_model(annotation):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
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
