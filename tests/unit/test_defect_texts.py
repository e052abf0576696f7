"""The lot report's defect Pareto names every defect in words: the host's own codes and each
tool's manual table (defect codes are the tool's block + 500, interfaces README)."""

from __future__ import annotations

import pytest

from drivers.registry import DRIVERS
from packline.simulated_lot import defect_texts
from sequences.steps.judging import HOST_OUTSIDE_RECIPE


def test_a_site_the_host_failed_outside_the_recipe_window_reads_so_in_the_report() -> None:
    texts = defect_texts({"etch-bath"})

    assert texts[HOST_OUTSIDE_RECIPE] == "outside the master recipe's window (host judgement)"


@pytest.mark.parametrize("tool", sorted(DRIVERS))
def test_every_tool_s_defects_have_the_manual_s_words(tool: str) -> None:
    tool_codes = {code: text for code, text in defect_texts({tool}).items() if code >= 1000}

    assert tool_codes, f"{tool}: no defect table, its defects would show without words"
    assert all(text.strip() for text in tool_codes.values())
    blocks = {code // 1000 for code in tool_codes}
    assert len(blocks) == 1 and all(code % 1000 > 500 for code in tool_codes), tool_codes
