"""Per-street attributes that travel costs need, from OSM tags or a layer's columns.

:attr:`hzspatial.network.WalkGraph.edge_tags` holds, per edge: ``highway`` (the OSM class,
"" unknown), ``structure`` (0 on the ground, 1 bridge, 2 tunnel — the DEM is the ground's
surface, not theirs), ``oneway`` and ``oneway_bike`` (1 only along the line's direction, −1
only against it, 0 both ways) and ``maxspeed`` (km/h, NaN unknown).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["GROUND", "BRIDGE", "TUNNEL", "tags_from_columns", "tags_from_osm"]

GROUND, BRIDGE, TUNNEL = 0, 1, 2
_YES = {"yes", "true", "1", "y", "t"}
_NO = {"no", "false", "0", "n", "f", ""}
_REVERSE = {"-1", "reverse"}
_MPH = 1.609344
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(mph|km/h|kmh|kph)?\s*$")


def _structure(bridge: str | None, tunnel: str | None) -> int:
    if tunnel is not None and tunnel.strip().lower() not in _NO:
        return TUNNEL
    if bridge is not None and bridge.strip().lower() not in _NO:
        return BRIDGE
    return GROUND


def _oneway(value: str | None, implied: bool) -> int:
    if value is None:
        return 1 if implied else 0
    v = value.strip().lower()
    if v in _YES:
        return 1
    if v in _REVERSE:
        return -1
    if v in _NO:
        return 0
    return 1 if implied else 0  # "alternating", "reversible": not one fixed way


def _maxspeed(value: str | None) -> float:
    if value is None:
        return np.nan
    m = _NUMBER.match(value.split(";")[0])
    if not m:
        return np.nan  # "CN:urban", "none", "signals": the class speed applies
    speed = float(m.group(1))
    return speed * _MPH if m.group(2) == "mph" else speed


def _one(tags: Mapping[str, str]) -> tuple:
    highway = tags.get("highway", "")
    implied = tags.get("junction") in ("roundabout", "circular") or highway == "motorway"
    oneway = _oneway(tags.get("oneway"), implied)
    bike = tags.get("oneway:bicycle")
    structure = _structure(tags.get("bridge"), tags.get("tunnel"))
    bike_way = oneway if bike is None else _oneway(bike, False)
    return highway, structure, oneway, bike_way, _maxspeed(tags.get("maxspeed"))


def _arrays(rows: list[tuple]) -> dict[str, np.ndarray]:
    highway, structure, oneway, oneway_bike, maxspeed = (
        list(zip(*rows, strict=True)) if rows else [()] * 5)  # fmt: skip
    return {
        "highway": np.array(highway, dtype=object),
        "structure": np.array(structure, dtype=np.int8),
        "oneway": np.array(oneway, dtype=np.int8),
        "oneway_bike": np.array(oneway_bike, dtype=np.int8),
        "maxspeed": np.array(maxspeed, dtype=float),
    }


def tags_from_osm(ways: Iterable[Mapping[str, str]]) -> dict[str, np.ndarray]:
    """Edge tags, one per way, from OSM tag dicts."""
    return _arrays([_one(t) for t in ways])


def tags_from_columns(attrs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Edge tags, one per row, from a layer's ``highway`` / ``bridge`` / ``tunnel`` /
    ``oneway`` / ``oneway:bicycle`` / ``junction`` / ``maxspeed`` columns (any case; missing
    ones unknown)."""
    cols = {str(c).lower(): c for c in attrs.columns}
    keys = ("highway", "bridge", "tunnel", "oneway", "oneway:bicycle", "junction", "maxspeed")
    present = [k for k in keys if k in cols]
    values = {k: attrs[cols[k]].astype("string").to_numpy(dtype=object, na_value=None)
              for k in present}  # fmt: skip
    rows = [{k: values[k][i] for k in present if values[k][i] is not None}
            for i in range(len(attrs))]  # fmt: skip
    return tags_from_osm(rows)
