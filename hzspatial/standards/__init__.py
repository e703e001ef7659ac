"""Planning standards as data: the built-in Hanzhong catalogue and user files.

A standard has an id, a facility category, a metric, a target, a unit, a scope
and a source (document + chapter), and says whether its figure was verified
against the source text. Catalogues are TOML files; :func:`load_standards`
reads the built-in one by name or a user's file by path.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hzspatial.errors import InputError

__all__ = ["Standard", "load_standards", "METRICS", "SUPPLIES"]

METRICS = ("supply_per_capita", "share_within")
SUPPLIES = ("area_m2", "beds", "places", "pitches", "count")
_REQUIRED = ("id", "category", "metric", "target", "unit", "source")


@dataclass(frozen=True)
class Standard:
    """One planning standard.

    Attributes
    ----------
    id, category, metric : str
    target : float
        In ``unit`` (e.g. 0.1 m² per resident; 1.0 pitch per 10,000 residents).
    unit : str
    per : float
        Residents the target refers to (1, 1,000, 10,000).
    supply : str
        Facility attribute summed (``area_m2``, ``beds``, ``places``, ``pitches``, ``count``).
    typical : float or None
        Supply assumed for a facility lacking the attribute (flagged in outputs).
    comparison : str
        ``>=`` or ``<=``.
    distance_m : float or None
        For ``share_within``: walking distance in metres.
    scope, source, label_zh, label_en : str
    verified : bool
        Whether the figure was read in the source text.
    """

    id: str
    category: str
    metric: str
    target: float
    unit: str
    source: str
    per: float = 1.0
    supply: str = "count"
    typical: float | None = None
    comparison: str = ">="
    distance_m: float | None = None
    scope: str = "district"
    label_zh: str = ""
    label_en: str = ""
    verified: bool = False

    def met(self, value: float) -> bool | None:
        """Whether ``value`` satisfies the target (None when value is unknown)."""
        if value is None or value != value:
            return None
        return bool(value >= self.target if self.comparison == ">=" else value <= self.target)


def load_standards(name_or_path: str | Path = "hanzhong") -> list[Standard]:
    """Load a standards catalogue: ``"hanzhong"`` (built in) or a TOML file path.

    Raises
    ------
    InputError
        For a missing file, bad TOML, or an entry lacking a field / with a bad value
        (the message names the file, the entry number and the field).
    """
    key = str(name_or_path)
    builtin = resources.files("hzspatial.standards").joinpath(f"{key}.toml")
    if builtin.is_file():
        text, label = builtin.read_text("utf-8"), f"built-in standards '{key}'"
    else:
        path = Path(key)
        if not path.is_file():
            raise InputError(
                "standards file not found",
                file=key,
                hint="use 'hanzhong' or the path of a TOML standards file",
            )
        text, label = path.read_text("utf-8"), key
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"not valid TOML ({exc})",
            file=label,
            hint="fix the syntax (see hzspatial/standards/hanzhong.toml)",
        ) from exc
    entries = raw.get("standard")
    if not isinstance(entries, list) or not entries:
        raise InputError(
            "no [[standard]] entries",
            file=label,
            hint="add entries as in hzspatial/standards/hanzhong.toml",
        )
    out: list[Standard] = []
    fields = set(Standard.__dataclass_fields__)
    for i, e in enumerate(entries, start=1):
        where = f"standard {i}"
        missing = [f for f in _REQUIRED if f not in e]
        if missing:
            raise InputError(
                f"missing field(s) {', '.join(missing)}",
                file=label,
                where=where,
                hint=f"every standard needs {', '.join(_REQUIRED)}",
            )
        unknown = sorted(set(e) - fields)
        if unknown:
            raise InputError(
                f"unknown field(s) {', '.join(unknown)}",
                file=label,
                where=where,
                hint=f"allowed: {', '.join(sorted(fields))}",
            )
        if e["metric"] not in METRICS:
            raise InputError(
                f"unknown metric {e['metric']!r}",
                file=label,
                where=where,
                column="metric",
                hint=f"use one of {', '.join(METRICS)}",
            )
        if e.get("supply", "count") not in SUPPLIES:
            raise InputError(
                f"unknown supply {e['supply']!r}",
                file=label,
                where=where,
                column="supply",
                hint=f"use one of {', '.join(SUPPLIES)}",
            )
        if not isinstance(e["target"], int | float) or isinstance(e["target"], bool):
            raise InputError(
                f"target must be a number (got {e['target']!r})",
                file=label,
                where=where,
                column="target",
            )
        if e["metric"] == "share_within" and not e.get("distance_m"):
            raise InputError(
                "share_within needs distance_m",
                file=label,
                where=where,
                column="distance_m",
                hint="give the walking distance in metres",
            )
        out.append(Standard(**e))
    ids = [s.id for s in out]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        raise InputError(
            f"duplicate standard id(s) {', '.join(dup)}",
            file=label,
            hint="give each standard its own id",
        )
    return out
