"""Reading facility inventories (CSV / XLSX / GeoJSON / GeoPackage / Shapefile)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.categories import Category, builtin_categories, resolve_category, user_category
from hzspatial.errors import InputError, format_rows
from hzspatial.io._columns import find_columns, require, source_labels
from hzspatial.io._files import is_table, read_layer, read_table
from hzspatial.io._geometry import (
    check_within,
    feature_rows,
    ids_and_names,
    layer_to_wgs84,
    parse_flags,
    parse_numbers,
    points_from_table,
    table_rows,
)

__all__ = [
    "FACILITY_COLUMNS",
    "FacilityInput",
    "known_categories",
    "read_facilities",
    "read_facility_inputs",
]

logger = logging.getLogger(__name__)

#: Columns of the GeoDataFrame returned by :func:`read_facilities`.
FACILITY_COLUMNS = [
    "facility_id", "name", "category", "area_m2", "floor_area_m2", "beds", "places",
    "pitches", "doctors", "nurses", "capacity", "inclusive", "area_from", "source", "geometry",
]  # fmt: skip
_NUMERIC = ("area_m2", "floor_area_m2", "beds", "places", "pitches", "doctors", "nurses",
            "capacity")  # fmt: skip
_FLAGS = ("inclusive",)


def known_categories(extra: Iterable[str] = ()) -> dict[str, Category]:
    """Built-in categories plus user-named ones."""
    known = dict(builtin_categories())
    for name in extra:
        if resolve_category(name, known) is None:
            known[name] = user_category(name)
    return known


def read_facilities(
    path: str | Path,
    *,
    category: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs_in: _crs.CrsIn | None = None,
    study_area: shapely.Geometry | None = None,
    extra_categories: Iterable[str] = (),
    sheet: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a facility file.

    Parameters
    ----------
    path : str or Path
        CSV/TSV (UTF-8 or GBK/GB18030), XLSX, GeoJSON, GeoPackage or Shapefile.
        Tables need longitude/latitude columns (``lon``/``lat``, ``经度``/``纬度`` …);
        layers may hold points or polygons (a polygon becomes its representative
        point, and its area in m² fills ``area_m2`` when no area column is given).
    category : str, optional
        Category for every row (id or alias, e.g. ``"kindergarten"`` or ``"幼儿园"``);
        otherwise a category column (``category``, ``类型``, ``类别`` …) is required.
    columns : mapping, optional
        Explicit ``{field: column}`` mapping overriding header detection; fields are
        ``id, name, category, lon, lat, area_m2, floor_area_m2, beds, places, pitches, capacity``.
    crs_in : str or int, optional
        Coordinate system of the input: ``wgs84`` | ``cgcs2000`` | ``gcj02`` | ``bd09`` |
        an EPSG code. Default: WGS84 for tables, the layer's own CRS for layers.
    study_area : shapely geometry, optional
        WGS84 area that every facility must lie in (50 m tolerance).
    extra_categories : iterable of str
        Category names accepted besides the built-in ones.
    sheet : str or int, optional
        XLSX sheet (default: the first).

    Returns
    -------
    geopandas.GeoDataFrame
        One point per facility in EPSG:4326 with :data:`FACILITY_COLUMNS`; areas in m²,
        ``beds``/``places``/``pitches``/``capacity`` as counts (NaN when not given).

    Raises
    ------
    InputError
        One line naming the file, rows/features and column of the first problem found.
    """
    path_s = str(path)
    known = known_categories(extra_categories)
    fields = ["id", "name", "category", "lon", "lat", *_NUMERIC, *_FLAGS]
    if is_table(path):
        df = read_table(path, sheet=sheet)
        rows_of = table_rows
        found = find_columns(df.columns, fields, columns, path_s)
        require(found, ["lon", "lat"], df.columns, path_s, "facility coordinates")
        points = points_from_table(df, found["lon"], found["lat"], crs_in or "wgs84", path_s)
        polygon_area = np.full(len(df), np.nan)
    else:
        gdf = layer_to_wgs84(read_layer(path), crs_in, path_s)
        rows_of = feature_rows
        found = find_columns(gdf.columns, fields, columns, path_s)
        geoms = gdf.geometry.to_numpy()
        gtype = shapely.get_type_id(geoms)
        lines = np.isin(gtype, (1, 2, 5))
        if lines.any():
            raise InputError(
                "line geometry where a facility point or polygon was expected",
                where=format_rows(feature_rows(lines)),
                file=path_s,
                column="geometry",
                hint="facilities must be points or polygons",
            )
        areal = np.isin(gtype, (3, 6))
        points = np.where(areal, shapely.point_on_surface(geoms), geoms)
        multi = shapely.get_type_id(points) == 4
        points[multi] = shapely.centroid(points[multi])
        polygon_area = np.full(len(gdf), np.nan)
        if areal.any():
            c = shapely.get_coordinates(geoms[areal])
            utm = _crs.metric_crs(c[:, 0], c[:, 1])
            polygon_area[areal] = gpd.GeoSeries(geoms[areal], crs=4326).to_crs(utm).area.to_numpy()
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    n = len(df)

    if category is not None:
        cat = resolve_category(category, known)
        if cat is None:
            raise InputError(
                f"unknown category {category!r}; known: {', '.join(known)}",
                file=path_s,
                column="category",
                hint="use a known category, or declare it with --extra-category NAME",
            )
        cats = np.full(n, cat, dtype=object)
    else:
        require(found, ["category"], df.columns, path_s, "facility category")
        col = found["category"]
        raw = df[col].astype("string").str.strip()
        cats = np.array(
            [resolve_category(v, known) if pd.notna(v) else None for v in raw], dtype=object
        )
        bad = pd.isna(cats)
        if bad.any():
            first = raw.iloc[int(np.flatnonzero(bad)[0])]
            raise InputError(
                f"unknown category {first!r}; known: {', '.join(known)}",
                where=format_rows(rows_of(bad)),
                file=path_s,
                column=col,
                hint="use a known category or alias, or declare it with --extra-category NAME",
            )

    default_ids = np.array([f"{c}-{i + 1}" for i, c in enumerate(cats)], dtype=object)
    ids, names = ids_and_names(df, found, path_s, rows_of, default_ids)

    out = {"facility_id": ids, "name": names, "category": cats}
    for field in _NUMERIC:
        if field in found:
            out[field] = parse_numbers(
                df[found[field]],
                path=path_s,
                column=found[field],
                rows_of=rows_of,
                what=field,
                allow_missing=True,
                minimum=0.0,
            )
        else:
            out[field] = np.full(n, np.nan)
    area_from = np.where(np.isnan(out["area_m2"]), "missing", "input").astype(object)
    use_poly = np.isnan(out["area_m2"]) & ~np.isnan(polygon_area)
    out["area_m2"] = np.where(use_poly, polygon_area, out["area_m2"])
    area_from[use_poly] = "polygon"
    out["area_from"] = area_from
    for field in _FLAGS:
        out[field] = (parse_flags(df[found[field]], path=path_s, column=found[field],
                                  rows_of=rows_of) if field in found
                      else np.full(n, None, dtype=object))  # fmt: skip
    out["source"] = source_labels(df)

    check_within(points, study_area, path_s, rows_of, "facility")
    result = gpd.GeoDataFrame(out, geometry=list(points), crs=4326)
    logger.info(
        "%s: %d facilities (%s)",
        path_s,
        n,
        ", ".join(f"{k} {v}" for k, v in result["category"].value_counts().items()),
    )
    return result[FACILITY_COLUMNS]


@dataclass(frozen=True)
class FacilityInput:
    """A facility file and, optionally, the category of all its rows."""

    path: str | Path
    category: str | None = None
    columns: Mapping[str, str] | None = None


def read_facility_inputs(
    items: Sequence[FacilityInput], crs_in, study_area, extra
) -> gpd.GeoDataFrame:
    """Read several facility files into one frame (column ``input`` = the file); ids must be
    unique across files."""
    frames = []
    for item in items:
        f = read_facilities(
            item.path,
            category=item.category,
            columns=item.columns,
            crs_in=crs_in,
            study_area=study_area,
            extra_categories=extra,
        )
        f["input"] = str(item.path)
        frames.append(f)
    fac = pd.concat(frames, ignore_index=True)
    dup = fac["facility_id"].duplicated(keep=False)
    if dup.any():
        first = fac.loc[dup, "facility_id"].iloc[0]
        files = sorted(set(fac.loc[fac["facility_id"] == first, "input"]))
        raise InputError(
            f"facility id {first!r} appears in several files ({', '.join(files)})",
            file=files[0],
            column="id",
            hint="give facilities unique ids across files",
        )
    return gpd.GeoDataFrame(fac, geometry="geometry", crs=4326)
