"""Recipe, line-config and scenario loaders fed mutated files: a file either loads or is
refused with the loader's own error (ConfigError / ScenarioError) whose every problem names
the field (or entry) that is wrong; no other exception ever comes out.

Mutations start from the shipped files: a value replaced by another type or an extreme
number, a key deleted or added, a list entry duplicated, or the text cut short.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import strategies as st

from sequences.config_errors import ConfigError
from sequences.line_config import load_line_config
from sequences.recipe.loading import load_recipe
from sim.scenario import ScenarioError, load_scenario
from tests.fuzz.seeded import run_seeded

ROOT = Path(__file__).resolve().parents[2]
CASES = 30
#: A problem line starts with the field path (``stations[2].tool:``, ``<top>:``) or names
#: the scenario entry (``fault 3 ...``), or says the file could not be read at all.
FIELD_FIRST = re.compile(r"^([\w<>\[\].\-]+: |fault \d+ |cannot read|not valid YAML|a scenario)")

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from([[], {}, [1, 2], {"x": 1}, "1e999", 10**400]),
)


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a parsed YAML document."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_of(value, (*prefix, index))
    return found


def mutate(data: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        paths = paths_of(data)
        if not paths:
            return draw(ODD_VALUES)
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add", "duplicate"]))
        if action == "replace":
            parent[key] = draw(ODD_VALUES)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.from_regex(r"[a-z_]{1,8}", fullmatch=True))] = draw(ODD_VALUES)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return data


def mutated_files(original: Path) -> st.SearchStrategy[str]:
    data = yaml.safe_load(original.read_text())

    @st.composite
    def build(draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
        text = yaml.safe_dump(mutate(data, draw), allow_unicode=True)
        if draw(st.integers(0, 9)) == 0:
            text = text[: draw(st.integers(0, len(text)))]  # cut short
        return text

    return build()


def check_loader(
    original: Path,
    load: Callable[[Path], Any],
    error: type[ValueError],
    tmp_path: Path,
    *,
    cases: int = CASES,
) -> None:
    target = tmp_path / original.name

    def case(text: str) -> None:
        target.write_text(text)
        try:
            load(target)
        except error as refused:
            problems: list[str] = refused.problems  # type: ignore[attr-defined]
            assert problems, "refused without a problem"
            for problem in problems:
                assert FIELD_FIRST.match(problem), f"problem without a field: {problem!r}"

    run_seeded(mutated_files(original), case, cases=cases, seed_value=11)


@pytest.mark.parametrize(
    ("recipe", "cases"),
    [
        ("heat-slug-die-equal.yaml", CASES),
        ("film-etch-wire.yaml", 2 * CASES),
    ],
)
def test_recipe_loader_refuses_mutated_recipes_only_with_config_errors(
    tmp_path: Path, recipe: str, cases: int
) -> None:
    check_loader(
        ROOT / "configs" / "recipes" / recipe, load_recipe, ConfigError, tmp_path, cases=cases
    )


def test_line_config_loader_refuses_mutated_configs_only_with_config_errors(
    tmp_path: Path,
) -> None:
    check_loader(ROOT / "configs" / "line.yaml", load_line_config, ConfigError, tmp_path)


def test_scenario_loader_refuses_mutated_scenarios_only_with_scenario_errors(
    tmp_path: Path,
) -> None:
    stations = [
        (s.name, s.tool) for s in load_line_config(ROOT / "configs" / "line.yaml").expanded()
    ]
    check_loader(
        ROOT / "configs" / "scenarios" / "line-faults.yaml",
        lambda path: load_scenario(path, stations=stations),
        ScenarioError,
        tmp_path,
    )
