"""``packline recipe check NAME|FILE...``: validate master recipes and print their route sheets.

For a good recipe the sheet says what the recipe makes and how: the die-attach or film
variant, every step with its tool, tool recipe, key set-points and the claims it implements,
and the pre-lot checks it passed (claim 3, etch depth and guard, reflow profile, cure). For a
bad one it lists every problem, each with its field, value and allowed range, and the command
exits with 2, before anything touches a tool.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from sequences.config_errors import ConfigError
from sequences.recipe import RECIPES_DIR, load_recipe
from sequences.route import route_for

EXIT_OK, EXIT_PROBLEMS = 0, 2


def resolve_recipe(text: str | Path) -> Path:
    """A recipe given as a path, or as a name of configs/recipes (``heat-slug-die-equal``).

    What names an existing file is that file; a bare name (no ``/``, no ``.yaml``) is looked up
    in configs/recipes. Anything else stays a path, so loading it reports the missing file."""
    path = Path(text)
    if path.is_file() or "/" in str(text) or str(text).endswith(".yaml"):
        return path
    named = RECIPES_DIR / f"{text}.yaml"
    if named.is_file():
        return named
    known = ", ".join(p.stem for p in sorted(RECIPES_DIR.glob("*.yaml")))
    raise ConfigError(str(text), [f"no recipe file or recipe name {str(text)!r}; names: {known}"])


def check_recipes(paths: Sequence[str | Path], out: TextIO | None = None) -> int:
    """Check each recipe (file or name); print a route sheet or the problems. 2 if any has problems."""
    out = out or sys.stdout
    worst = EXIT_OK
    for index, path in enumerate(paths):
        if index:
            print(file=out)
        try:
            route = route_for(load_recipe(resolve_recipe(path)))
        except ConfigError as exc:
            print(f"{path}: {len(exc.problems)} problem(s)", file=out)
            for problem in exc.problems:
                print(f"  - {problem}", file=out)
            worst = EXIT_PROBLEMS
            continue
        print(f"{path}: ok", file=out)
        for line in route.describe():
            print(f"  {line}", file=out)
    return worst
