"""Snapping rules: which streets a home or a facility may join (``config/snapping.toml``).

Rules are data: ``[exclude]`` maps an OpenStreetMap key to a regular expression matched
against the whole value, ``[levels] lowest_layer`` excludes underground ways. Excluded
streets stay in the walking network; they are only not entry points.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hzspatial.config import load
from hzspatial.errors import InputError

__all__ = ["SnapRules", "as_snap_rules", "snap_rules"]


@dataclass(frozen=True)
class SnapRules:
    """Parsed snapping rules.

    Attributes
    ----------
    exclude : tuple of (key, pattern)
        A way whose ``key`` fully matches ``pattern`` (case-insensitive) is not joined.
    lowest_layer : float
        Ways with a ``layer`` below this are not joined (``-inf``: no level rule).
    source : str
        Where the rules came from (shown in logs and the cache key).
    """

    exclude: tuple[tuple[str, str], ...]
    lowest_layer: float
    source: str = "hzspatial/config/snapping.toml"

    @classmethod
    def from_dict(cls, raw: dict, source: str) -> SnapRules:
        """Rules from the TOML structure (``exclude`` table, ``levels.lowest_layer``); an
        unknown table or key stops with one line (a misspelt rule would otherwise be ignored)."""
        unknown = [k for k in raw if k not in ("exclude", "levels")] + [
            f"levels.{k}" for k in (raw.get("levels") or {}) if k != "lowest_layer"]  # fmt: skip
        if unknown:
            raise InputError(f"unknown snapping rule {unknown[0]!r}", file=source,
                             hint="use the tables [exclude] and [levels] (lowest_layer) of "
                             "hzspatial/config/snapping.toml")  # fmt: skip
        for key, value in (raw.get("exclude") or {}).items():
            if not isinstance(value, str):
                raise InputError(f"snapping rule exclude.{key} is not text", file=source,
                                 hint='write one regular expression in quotes, e.g. '
                                 'highway = "steps|motorway_link"')  # fmt: skip
        try:
            exclude = tuple((str(k), str(v)) for k, v in raw.get("exclude", {}).items())
            for key, pattern in exclude:
                re.compile(pattern)
                why = _slow_shape(pattern)
                if why:
                    raise InputError(
                        f"snapping rule exclude.{key} = {pattern!r} {why}: it can take "
                        "minutes or hours on a long tag", file=source,
                        hint='write a plain list of values, e.g. "steps|motorway_link"')
            lowest = float(raw.get("levels", {}).get("lowest_layer", -np.inf))
        except InputError:
            raise
        except (AttributeError, TypeError, ValueError, re.error) as exc:
            raise InputError(
                f"bad snapping rules ({exc})",
                file=source,
                hint="see hzspatial/config/snapping.toml for the format",
            ) from exc
        return cls(exclude=exclude, lowest_layer=lowest, source=source)

    @property
    def digest(self) -> str:
        """A short hash of the rules (for cache keys)."""
        text = json.dumps([self.exclude, self.lowest_layer])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _rx(self, pattern: str) -> re.Pattern:
        return re.compile(f"(?:{pattern})", re.IGNORECASE)

    def allowed(self, tags: dict) -> bool:
        """Whether a way (OSM tags, or an osmnx edge's attributes) may be joined.

        Values may be lists (an osmnx edge merged from several ways): a rule excludes the
        edge only when every value matches.
        """
        for key, pattern in self.exclude:
            values = _values(tags.get(key))
            rx = self._rx(pattern)
            if values and all(rx.fullmatch(v) for v in values):
                return False
        if np.isfinite(self.lowest_layer):
            layers = [_number(v) for v in _values(tags.get("layer"))]
            if layers and all(x is not None and x < self.lowest_layer for x in layers):
                return False
        return True

    def allowed_columns(self, attrs: pd.DataFrame) -> np.ndarray:
        """Per row of a centre-line layer's attributes (column names in any case)."""
        ok = np.ones(len(attrs), dtype=bool)
        cols = {str(c).lower(): c for c in attrs.columns}
        for key, pattern in self.exclude:
            if key.lower() in cols:
                values = attrs[cols[key.lower()]].astype("string").str.strip()
                hit = values.str.fullmatch(pattern, case=False).fillna(False)
                ok &= ~hit.to_numpy(dtype=bool)
        if np.isfinite(self.lowest_layer) and "layer" in cols:
            layer = pd.to_numeric(attrs[cols["layer"]], errors="coerce").to_numpy(dtype=float)
            ok &= ~(layer < self.lowest_layer)
        return ok


def _slow_shape(pattern: str) -> str | None:
    """Why a rule's regular expression could take exponential time in Python's backtracking
    engine, or None: a repeat inside a repeat (``(a+)+``), a repeated alternation
    (``(a|aa)+``) or a back-reference — the shapes of catastrophic backtracking. Rules name
    tag values; they need none of these."""
    from re import _constants as c
    from re import _parser

    def walk(items, inside_repeat: bool) -> str | None:
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                lo, hi, body = av
                many = hi is c.MAXREPEAT or hi > 1
                if many and inside_repeat:
                    return "repeats inside a repeat"
                found = walk(body, inside_repeat or many)
                if found:
                    return found
            elif op is c.BRANCH:
                if inside_repeat:
                    return "repeats an alternation"
                for alt in av[1]:
                    if found := walk(alt, inside_repeat):
                        return found
            elif op is c.SUBPATTERN:
                if found := walk(av[3], inside_repeat):
                    return found
            elif op in (c.GROUPREF, c.GROUPREF_EXISTS):
                return "uses a back-reference"
            elif op in (c.ASSERT, c.ASSERT_NOT):
                if found := walk(av[1], inside_repeat):
                    return found
        return None

    return walk(_parser.parse(pattern), False)


def _values(value) -> list[str]:
    """A tag value as a list of strings (osmnx stores merged values as lists, and GraphML
    as their text ``"['footway', 'steps']"``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value.strip()]
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def snap_rules(
    path: str | Path | None = None, *, option: str = "HZSPATIAL_SNAP_RULES"
) -> SnapRules:
    """The snapping rules: from ``path``, else ``HZSPATIAL_SNAP_RULES``, else the shipped
    ``hzspatial/config/snapping.toml`` (``option`` names where a bad file came from)."""
    from hzspatial.settings import get_settings

    path = path or get_settings().snap_rules
    if path is None:
        return SnapRules.from_dict(load("snapping.toml"), "hzspatial/config/snapping.toml")
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise InputError(
            f"cannot read the snapping rules ({exc})",
            file=str(p),
            column=option,
            hint="a TOML file like hzspatial/config/snapping.toml",
        ) from exc
    return SnapRules.from_dict(raw, str(p))


def as_snap_rules(rules: SnapRules | str | Path | None, *, option: str = "snap_rules") -> SnapRules:
    """``rules`` as :class:`SnapRules`: given, read from a TOML file, or the default
    (:func:`snap_rules`)."""
    if isinstance(rules, SnapRules):
        return rules
    return snap_rules(rules, option=option) if rules is not None else snap_rules()
