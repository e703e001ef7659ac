"""Per-street attributes that travel costs need, from OSM tags or a layer's columns.

:attr:`hzspatial.network.WalkGraph.edge_tags` holds, per edge: ``highway`` (the OSM class,
"" unknown), ``structure`` (0 on the ground, 1 bridge, 2 tunnel — the DEM is the ground's
surface, not theirs), ``oneway`` and ``oneway_bike`` (1 only along the line's direction, −1
only against it, 0 both ways), ``oneway_known`` (1 the source says which streets are one-way,
0 it does not — a layer without a ``oneway`` column —, −1 it did and the file lost it: an
osmnx walking graph, stored both ways with ``oneway=False``) and ``maxspeed`` (km/h, NaN
unknown).

Geofabrik's shapefiles (``gis_osm_roads_free_1.shp``) name the OSM class ``fclass`` and write
``oneway`` as ``F`` (along the line), ``T`` (against it) and ``B`` (both ways); a bureau's
layer names its classes in Chinese (主干路, 县道 …): :func:`osm_columns` reads both as OSM's
``highway`` and ``oneway``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from hzspatial.config import load as load_config

__all__ = ["GROUND", "BRIDGE", "TUNNEL", "osm_columns", "tags_from_columns", "tags_from_osm"]

GROUND, BRIDGE, TUNNEL = 0, 1, 2
_YES = {"yes", "true", "1", "y", "t", "是", "单向", "单行", "正向"}
_NO = {"no", "false", "0", "n", "f", "", "否", "双向", "双行"}
_REVERSE = {"-1", "reverse", "反向", "逆向"}
_NEITHER = {"alternating", "reversible"}  # one way at a time, not one fixed way: both ways
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
    return 1 if implied else 0  # "alternating", "reversible", or not a value hzspatial reads


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
    read = _readable(tags.get("oneway")) and _readable(bike)
    return highway, structure, oneway, bike_way, _maxspeed(tags.get("maxspeed")), read


def _readable(value: str | None) -> bool:
    return value is None or value.strip().lower() in _YES | _NO | _REVERSE | _NEITHER


def _arrays(rows: list[tuple], oneway_known: int) -> dict[str, np.ndarray]:
    highway, structure, oneway, oneway_bike, maxspeed, read = (
        list(zip(*rows, strict=True)) if rows else [()] * 6)  # fmt: skip
    return {
        "highway": np.array(highway, dtype=object),
        "structure": np.array(structure, dtype=np.int8),
        "oneway": np.array(oneway, dtype=np.int8),
        "oneway_bike": np.array(oneway_bike, dtype=np.int8),
        "oneway_known": np.where(np.array(read, dtype=bool), oneway_known, 0).astype(np.int8),
        "maxspeed": np.array(maxspeed, dtype=float),
    }


def tags_from_osm(ways: Iterable[Mapping[str, str]], oneway_known: int = 1
                  ) -> dict[str, np.ndarray]:  # fmt: skip
    """Edge tags, one per way, from OSM tag dicts (``oneway_known``: whether the source
    says which ways are one-way; in OSM a way without a ``oneway`` tag is two-way)."""
    return _arrays([_one(t) for t in ways], oneway_known)


#: Geofabrik's ``oneway`` letters: F along the line (forward), T against it, B both ways.
_GEOFABRIK_ONEWAY = {"F": "yes", "T": "-1", "B": "no"}


def osm_columns(attrs: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """A layer's attributes with OSM's names and values, and the layout they were read from
    (None: already OSM's, or no classes at all):

    - Geofabrik's shapefiles: ``fclass`` for ``highway``; ``oneway`` F / T / B (read as
      booleans, ``F`` would be "false" and ``T`` "true" — one-way streets lost, and the others
      turned round);
    - a bureau's layer with Chinese road classes (快速路, 主干路 …, 国道 … 村道) in a column
      of its own: ``highway`` by ``config/road_classes_zh.toml``.
    """
    cols = {str(c).lower(): c for c in attrs.columns}
    if "highway" in cols:
        return attrs, None
    if "fclass" not in cols:
        return _zh_classes(attrs)
    out = attrs.rename(columns={cols["fclass"]: "highway"})
    if "oneway" in cols:
        letters = out[cols["oneway"]].astype("string").str.strip()
        seen = set(letters.dropna().unique())
        if seen and seen <= set(_GEOFABRIK_ONEWAY) and "B" in seen:
            out[cols["oneway"]] = letters.map(_GEOFABRIK_ONEWAY, na_action="ignore")
    return out, "Geofabrik's (fclass as highway, oneway F/T/B)"


def _zh_classes(attrs: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """``highway`` from the first column whose values are Chinese road classes (at least
    the table's ``share`` of its filled rows; other values: class unknown)."""
    cfg = load_config("road_classes_zh.toml")
    table = cfg["classes"]
    for c in attrs.columns:
        if c == getattr(attrs, "_geometry_column_name", None) or not (
                pd.api.types.is_object_dtype(attrs[c])
                or pd.api.types.is_string_dtype(attrs[c])):  # fmt: skip
            continue
        values = attrs[c].astype("string").str.strip()
        filled = values[values.notna() & (values != "")]
        if len(filled) and filled.isin(table).mean() >= float(cfg["share"]):
            out = attrs.copy()
            out["highway"] = values.map(table, na_action="ignore").fillna("").astype(object)
            return out, f"Chinese road classes in column {str(c)!r} (config/road_classes_zh.toml)"
    return attrs, None


def tags_from_columns(attrs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Edge tags, one per row, from a layer's ``highway`` / ``bridge`` / ``tunnel`` /
    ``oneway`` / ``oneway:bicycle`` / ``junction`` / ``maxspeed`` columns (any case; missing
    ones unknown; without a ``oneway`` column, which streets are one-way is unknown)."""
    cols = {str(c).lower(): c for c in attrs.columns}
    keys = ("highway", "bridge", "tunnel", "oneway", "oneway:bicycle", "junction", "maxspeed")
    present = [k for k in keys if k in cols]
    values = {k: attrs[cols[k]].astype("string").to_numpy(dtype=object, na_value=None)
              for k in present}  # fmt: skip
    rows = [{k: values[k][i] for k in present if values[k][i] is not None}
            for i in range(len(attrs))]  # fmt: skip
    return tags_from_osm(rows, oneway_known=int("oneway" in cols))
