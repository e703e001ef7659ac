"""Reading district boundaries (counties, streets, planning units)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.errors import DataWarning, InputError, format_rows
from hzspatial.geometry import overlaps
from hzspatial.io._columns import find_columns
from hzspatial.io._files import input_label, is_table, read_layer
from hzspatial.io._geometry import feature_rows, ids_and_names, layer_to_wgs84, parse_numbers

__all__ = ["LEVELS", "level_label", "read_boundaries"]

logger = logging.getLogger(__name__)


#: Boundary levels, most detailed first: (key, 中文, English, plural English).
LEVELS = {
    "community": ("社区", "Community", "Communities"),
    "street": ("街道", "Subdistrict", "Subdistricts (街道/乡镇)"),
    "district": ("区县", "District", "Districts"),
}
#: Length of a Chinese administrative code at each level (6 county, 9 township, 12 village).
_CODE_LENGTH_LEVEL = {6: "district", 9: "street", 12: "community"}


def level_label(level: str) -> str:
    """``"社区 / Communities"`` for a boundary level."""
    zh, _, plural = LEVELS.get(level, LEVELS["district"])
    return f"{zh} / {plural}"


#: Boundaries overlapping by more than this share of the smaller one are reported.
OVERLAP_SHARE = 0.01


def _check_overlaps(geoms: np.ndarray, path: str) -> None:
    """Areas drawn twice stop the run (one of them would silently vanish); areas overlapping
    by more than :data:`OVERLAP_SHARE` of the smaller are warned about, with the rule applied:
    residents and facilities in an overlap count in the first of the areas, in file order."""
    if len(geoms) < 2:
        return
    c = shapely.get_coordinates(geoms)
    metric = gpd.GeoSeries(geoms, crs=4326).to_crs(_crs.metric_crs(c[:, 0], c[:, 1])).to_numpy()
    a, b, share = overlaps(metric)
    if not len(a):
        return
    same = share > 0.99
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise InputError(
            f"features {a[i] + 1} and {b[i] + 1} are the same area drawn twice",
            file=path,
            column="geometry",
            hint="delete one of them (each area must be drawn once)",
        )
    big = share > OVERLAP_SHARE
    if big.any():
        pairs = ", ".join(f"{a[i] + 1}/{b[i] + 1} ({share[i]:.0%})"
                          for i in np.flatnonzero(big)[:5])  # fmt: skip
        warnings.warn(
            f"{path}: {int(big.sum())} pair(s) of areas overlap (features {pairs}): residents "
            "and facilities in an overlap are counted in the first of them, in file order — "
            "fix the boundaries if they should not overlap",
            DataWarning,
            stacklevel=3,
        )


def _population_from(gdf, found: dict) -> str | None:
    """Where the boundaries' population figures come from, in words: the column, and the
    file's own ``population_source`` when it names one (e.g. the 2020 census)."""
    if "population" not in found:
        return None
    col = found["population"]
    src = (pd.Series(gdf["population_source"]).dropna().astype(str).unique()
           if "population_source" in gdf.columns else [])  # fmt: skip
    if len(src) == 1:
        return f"column {col!r} ({src[0]})"
    return f"column {col!r}" + (" (source per area: population_source)" if len(src) else "")


def _columns_and_level(gdf: gpd.GeoDataFrame, columns: Mapping[str, str] | None,
                       level: str | None, path_s: str) -> tuple[dict, str]:  # fmt: skip
    """The boundary layer's ``id`` / ``name`` / ``population`` columns and the areas' level:
    as given, else from per-level columns (社区名称, 街道名称, …) and code lengths."""
    per_level = [f"{lv}_{k}" for lv in LEVELS for k in ("name", "code")]
    found = find_columns(gdf.columns, ["id", "name", "population", *per_level], columns, path_s)
    found_level = next((lv for lv in LEVELS
                        if f"{lv}_name" in found or f"{lv}_code" in found), None)  # fmt: skip
    mapping = dict(columns or {})
    if found_level is not None:
        code = found.get(f"{found_level}_code")
        name = found.get(f"{found_level}_name")
        if code is not None and found_level == "district":
            lengths = gdf[code].astype("string").str.strip().str.len().dropna()
            if len(lengths) and lengths.nunique() == 1:
                found_level = _CODE_LENGTH_LEVEL.get(int(lengths.iloc[0]), found_level)
        mapping.setdefault("id", code or name)
        if name is not None:
            mapping.setdefault("name", name)
        found = find_columns(gdf.columns, ["id", "name", "population"], mapping, path_s)
    return found, level or found_level or "district"


def read_boundaries(
    path: str | Path | gpd.GeoDataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    crs: _crs.CrsIn | None = None,
    default_crs: _crs.CrsIn | None = None,
    level: str | None = None,
) -> gpd.GeoDataFrame:
    """Read area polygons at any level: districts (区县), subdistricts or townships (街道/乡镇),
    communities or villages (社区/村).

    Parameters
    ----------
    path : str, Path or GeoDataFrame
        GeoJSON / GeoPackage / Shapefile of polygons.
    columns : mapping, optional
        ``{field: column}`` for ``id`` (e.g. ``adcode``), ``name``, ``population``.
    crs : str or int, optional
        The layer's coordinate system, declared (``gcj02`` for Amap-derived files);
        overrides the file's own.
    default_crs : str or int, optional
        For layers that do not say (shapefiles without ``.prj``).
    level : {"district", "street", "community"}, optional
        The areas' level; default from the columns found (社区名称 → community, 街道名称 /
        乡镇 → street, else from the length of administrative codes, else district).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; ``district_id`` (str: the area's code, else its name), ``name``,
        ``population`` (persons; NaN means *population unknown*), geometry (polygons).
        ``attrs["level"]`` holds the level.
    """
    path_s = input_label(path)
    if is_table(path):
        raise InputError(
            "boundaries must be a polygon layer (GeoJSON/GeoPackage/Shapefile)",
            file=path_s,
            hint="export the districts as polygons",
        )
    if level is not None and level not in LEVELS:
        raise InputError(f"unknown boundary level {level!r}", column="--boundary-level",
                         hint=f"use one of {', '.join(LEVELS)}")  # fmt: skip
    gdf = layer_to_wgs84(read_layer(path), path_s, crs=crs, default=default_crs,
                         what="boundaries")  # fmt: skip
    areal = np.isin(shapely.get_type_id(gdf.geometry.to_numpy()), (3, 6))
    if not areal.all():
        raise InputError(
            "not a polygon",
            where=format_rows(feature_rows(~areal)),
            file=path_s,
            column="geometry",
            hint="boundaries must be polygons",
        )
    _check_overlaps(gdf.geometry.to_numpy(), path_s)
    found, lvl = _columns_and_level(gdf, columns, level, path_s)
    n = len(gdf)
    default_ids = np.array([str(i + 1) for i in range(n)], dtype=object)
    if "id" not in found and "name" in found:
        found["id"] = found["name"]
    ids, names = ids_and_names(gdf, found, path_s, feature_rows, default_ids)
    if "id" not in found:
        warnings.warn(
            f"{path_s}: no name or code column found for the areas (columns: "
            f"{', '.join(str(c) for c in gdf.columns if c != gdf.geometry.name)}); they are "
            "numbered 1, 2, … — pass a column mapping, e.g. name=<column>",
            DataWarning,
            stacklevel=2,
        )
    pop = (
        parse_numbers(
            gdf[found["population"]],
            path=path_s,
            column=found["population"],
            rows_of=feature_rows,
            what="population",
            allow_missing=True,
            minimum=0,
        )
        if "population" in found
        else np.full(n, np.nan)
    )
    extra = [c for c in ("population_note",) if c in gdf.columns]
    out = gpd.GeoDataFrame(
        {"district_id": ids, "name": names, "population": pop},
        geometry=gdf.geometry.to_numpy(),
        crs=4326,
    )
    for c in extra:
        out[c] = pd.Series(gdf[c]).to_numpy()
    out.attrs["level"] = lvl
    out.attrs["population_from"] = _population_from(gdf, found)
    logger.info("%s: %d areas, level %s", path_s, n, level_label(lvl))
    return out
