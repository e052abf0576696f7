"""The DS-2 cut plan: which lines a strip gets, in which order, and which sites each line bounds.

Lines are numbered 1..rows+cols+2 in cutting order: CH1 (along X, at every row boundary,
outer edges included) first, then CH2 (along Y, at every column boundary). A kerf check
follows the final pass of every line whose number is a multiple of CUT:CHECk (dicing-saw.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass

RUN_IN_MM = 10.0  # §8: line pass = (array extent + 10 mm) / feed + index
INDEX_S = 0.5


@dataclass(frozen=True)
class Line:
    """One cut line: its number, channel, boundary index, length and the sites it bounds."""

    number: int
    channel: str  # "CH1" or "CH2"
    boundary: int  # row boundary 0..rows (CH1) or column boundary 0..cols (CH2)
    extent_mm: float  # array extent along the line
    sites: tuple[int, ...]

    def pass_s(self, feed_mm_s: float) -> float:
        """Duration of one pass of this line (§8)."""
        return (self.extent_mm + RUN_IN_MM) / feed_mm_s + INDEX_S


def plan_lines(rows: int, cols: int, pitch_x_mm: float, pitch_y_mm: float) -> list[Line]:
    """Every line of a strip in cutting order (README §4 site numbering)."""

    def site(row: int, col: int) -> int:
        return (row - 1) * cols + col

    lines = [
        Line(
            b + 1,
            "CH1",
            b,
            cols * pitch_x_mm,
            tuple(site(r, c) for r in (b, b + 1) if 1 <= r <= rows for c in range(1, cols + 1)),
        )
        for b in range(rows + 1)
    ]
    lines += [
        Line(
            rows + 2 + b,
            "CH2",
            b,
            rows * pitch_y_mm,
            tuple(site(r, c) for r in range(1, rows + 1) for c in (b, b + 1) if 1 <= c <= cols),
        )
        for b in range(cols + 1)
    ]
    return lines


def bounding_lines(rows: int, cols: int) -> dict[int, tuple[int, int, int, int]]:
    """The four line numbers around each site: two CH1 (below, above), two CH2 (left, right)."""
    return {
        (row - 1) * cols + col: (row, row + 1, rows + 1 + col, rows + 2 + col)
        for row in range(1, rows + 1)
        for col in range(1, cols + 1)
    }


def is_checked(line_number: int, check_every: int) -> bool:
    """Whether the kerf camera checks this line (CUT:CHECk 0 = never)."""
    return check_every > 0 and line_number % check_every == 0
