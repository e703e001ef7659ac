"""User-facing errors and warnings.

Every problem with a user's input is raised as :class:`InputError`, whose message
is a single line naming the file, the row or feature, the column, what was
expected and what to do. The CLI prints that line and exits with code 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["InputError", "DataWarning", "format_rows", "check_number", "check_walk_options"]


class DataWarning(UserWarning):
    """Input data were usable but something was repaired, dropped or assumed."""


def format_rows(rows: Iterable[int], limit: int = 8) -> str:
    """Return ``"rows 2, 5, 9"`` style text (1-based data rows), truncated after ``limit``."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" (and {len(rows) - limit} more)" if len(rows) > limit else ""
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {shown}{more}"


class InputError(ValueError):
    """A problem with user input, reported as one line.

    Parameters
    ----------
    problem : str
        What is wrong, e.g. ``"'lon' is not a number"``.
    file : str, optional
        Path of the offending file.
    where : str, optional
        Row(s) or feature(s), e.g. ``"row 7"`` or ``"rows 3, 4"``.
    column : str, optional
        Column or attribute name.
    hint : str, optional
        What the user should do about it.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        where: str | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.where = where
        self.column = column
        self.hint = hint
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message."""
        head: Sequence[str] = [
            p
            for p in (
                self.file,
                self.where,
                None if self.column is None
                else f"option '{self.column}'" if str(self.column).startswith("--")
                else f"column '{self.column}'",
            )
            if p
        ]
        text = (", ".join(head) + ": " if head else "") + self.problem
        if self.hint:
            text += f" — {self.hint}"
        # user text may carry terminal escape sequences (ESC[…): shown, never obeyed
        text = "".join(ch if ord(ch) >= 32 and ord(ch) != 127 and not 0x80 <= ord(ch) < 0xA0
                       else " " if ch in "\t\n\r" else f"\\x{ord(ch):02x}" for ch in text)
        return " ".join(text.split())


def check_number(value, option: str, *, minimum: float = 0.0, strict: bool = True,
                 maximum: float | None = None) -> float:  # fmt: skip
    """``value`` as a finite float above ``minimum`` (or at least it with ``strict=False``)
    and at most ``maximum``, else an :class:`InputError` naming the option — for ``--minutes
    inf``, ``--max-snap nan``, ``--minutes 1e308``, ``minutes = "fifteen"`` in a scenarios
    file and the like."""
    import math

    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x) or (x <= minimum if strict else x < minimum):
        need = f"> {minimum:g}" if strict else f"≥ {minimum:g}"
        raise InputError(
            f"{option} must be a finite number {need} (got {value!r})",
            hint=f"give a plain number {need}",
        )
    if maximum is not None and x > maximum:
        raise InputError(f"{option} {x:g} is beyond any sensible value (at most {maximum:g})",
                         hint=f"give a number up to {maximum:g}")  # fmt: skip
    return x


def check_walk_options(minutes, speed_kmh, max_snap_m, persons_per_household, category_minutes):
    """The walking options every analysis takes (coverage, review), each checked with
    :func:`check_number`: ``(minutes, speed_kmh, max_snap_m, persons_per_household or None,
    {category: minutes})``."""
    pph = persons_per_household
    return (
        check_number(minutes, "--minutes", maximum=24 * 60),  # a day's walk at most
        check_number(speed_kmh, "--speed", maximum=200.0),
        check_number(max_snap_m, "--max-snap", maximum=50_000.0),
        None if pph is None else check_number(pph, "--persons-per-household", maximum=100.0),
        {k: check_number(v, f"--threshold {k}", maximum=24 * 60)
         for k, v in (category_minutes or {}).items()},
    )
