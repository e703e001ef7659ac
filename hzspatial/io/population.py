"""Reading residents: polygons or points with a population or households count."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.datasets import default_persons_per_household
from hzspatial.errors import InputError, format_rows
from hzspatial.io._columns import aliases, find_columns, require, source_labels
from hzspatial.io._files import encoding_note, input_label, read_layer
from hzspatial.io._geometry import (
    check_within,
    feature_rows,
    ids_and_names,
    layer_to_wgs84,
    parse_numbers,
)
from hzspatial.io.reading import read_input

__all__ = ["MAX_FEATURE_POPULATION", "read_buildings", "read_population"]

#: More residents than this in one feature is an error, not a figure (Chongqing, the largest
#: city proper, had 32 million residents in 2020).
MAX_FEATURE_POPULATION = 50_000_000

logger = logging.getLogger(__name__)
#: Community / subdistrict names and codes also name residents areas (社区名称 …).
_AREA_FIELDS = ("community_name", "community_code", "street_name", "street_code")


def _persons(df: pd.DataFrame, found: dict, path_s: str, rows_of,
             persons_per_household: float | None) -> tuple[np.ndarray, str]:  # fmt: skip
    """Residents (persons) per row, from the population column, else households × persons
    per household; and how they were counted."""
    def column(field: str) -> np.ndarray:
        return parse_numbers(df[found[field]], path=path_s, column=found[field],
                             rows_of=rows_of, what=field, minimum=0.0)  # fmt: skip

    if "population" in found:
        return column("population"), "population"
    pph = persons_per_household or default_persons_per_household()
    if not pph > 0:
        raise InputError(f"persons per household must be > 0 (got {pph})",
                         column="persons_per_household")  # fmt: skip
    logger.info("%s: population = households × %.2f persons per household", path_s, pph)
    return column("households") * pph, f"households × {pph:.2f}"


def read_population(
    path: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    crs: _crs.CrsIn | None = None,
    default_crs: _crs.CrsIn | None = None,
    persons_per_household: float | None = None,
    study_area: shapely.Geometry | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate residents.

    Parameters
    ----------
    path : str, Path, DataFrame or GeoDataFrame
        Polygons or points (GeoJSON/GeoPackage/Shapefile), or a CSV/XLSX table with
        longitude/latitude columns, carrying ``population`` (人口, 常住人口 …) or
        ``households`` (户数 …).
    columns : mapping, optional
        Explicit ``{field: column}``; fields ``id, name, population, households, lon, lat``.
    crs : str or int, optional
        The input's coordinate system, declared (``wgs84`` | ``cgcs2000`` | ``gcj02`` |
        ``bd09`` | EPSG code); overrides what the file says.
    default_crs : str or int, optional
        For files that do not say (tables, shapefiles without ``.prj``); else WGS84.
    persons_per_household : float, optional
        Used when only households are given. Default: from the 2020 census file
        (:func:`hzspatial.datasets.default_persons_per_household`, ≈ 2.46).
    study_area : shapely geometry, optional
        WGS84 area every location must lie in.
    sheet : str or int, optional
        XLSX sheet.
    header_row : int, optional
        Row number of the header as the spreadsheet shows it (default: found).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; columns ``demand_id``, ``name``, ``population`` (persons, float),
        ``population_from``, ``source`` (provenance label, if the input has one) and the
        geometry (points or polygons).
    """
    path_s = input_label(path)
    fields = ["id", "name", "population", "households", "lon", "lat", *_AREA_FIELDS,
              *_age_fields(), *(f"{g}_share" for g in _age_fields())]
    reading = read_input(path, what="population", fields=fields, columns=columns, crs=crs,
                         default_crs=default_crs, sheet=sheet, header_row=header_row)  # fmt: skip
    df, found, rows_of, geoms = reading.table, reading.columns, reading.rows_of, reading.geometry
    if "population" not in found and "households" not in found:
        require(found, ["population"], df.columns, path_s, "residents (or households)",
                note=encoding_note(df))  # fmt: skip
    pop, how = _persons(df, found, path_s, rows_of, persons_per_household)
    for field, alt in (("name", ("community_name", "street_name")),
                       ("id", ("community_code", "street_code"))):  # fmt: skip
        if field not in found:
            col = next((found[a] for a in alt if a in found), None)
            if col is not None:
                found[field] = col
    n = len(df)
    default_ids = np.array([f"d{i + 1}" for i in range(n)], dtype=object)
    ids, names = ids_and_names(df, found, path_s, rows_of, default_ids)
    col = found.get("population", found.get("households"))
    huge = pop > MAX_FEATURE_POPULATION
    if huge.any():
        raise InputError(
            f"{pop[huge][0]:,.0f} residents in one feature — more than any city holds",
            where=format_rows(rows_of(huge)), file=path_s, column=col,
            hint="check the unit (persons, not e.g. a code) and the column read",
        )  # fmt: skip
    if n and not (pop > 0).any():
        raise InputError("every feature has 0 residents", file=path_s, column=col,
                         hint="check that the population column is the one read")  # fmt: skip
    ages, age_cols = _age_groups(df, found, pop, path_s, rows_of)
    reps = shapely.point_on_surface(geoms)
    check_within(reps, study_area, path_s, rows_of, "residents")
    out = gpd.GeoDataFrame(
        {
            "demand_id": ids,
            "name": names,
            "population": pop,
            "population_from": np.full(n, how, dtype=object),
            "source": source_labels(df),
        },
        geometry=list(geoms),
        crs=4326,
    )
    for gid, persons in ages.items():
        out[f"group_{gid}"] = persons
    out.attrs["crs_in"] = reading.crs
    out.attrs["crs_how"] = reading.crs_how
    out.attrs["group_columns"] = age_cols
    return out


def _age_fields() -> list[str]:
    """The age-group fields of ``config/columns.toml`` (``age_60plus``, ``age_3_6`` …)."""
    return [f for f in aliases() if f.startswith("age_") and not f.endswith("_share")]


def _age_groups(df: pd.DataFrame, found: dict, pop: np.ndarray, path_s: str,
                rows_of) -> tuple[dict[str, np.ndarray], dict[str, str]]:  # fmt: skip
    """Persons of each age group per row (NaN where blank), from a persons column or a share
    column (0–1 of the row's residents); and the column each came from. A percentage, a
    share above 1 or more persons than the row's residents is refused in one line."""
    out, cols = {}, {}
    for gid in _age_fields():
        col, share = found.get(gid), False
        if col is None and f"{gid}_share" in found:
            col, share = found[f"{gid}_share"], True
        if col is None:
            continue
        if any(mark in str(col) for mark in ("%", "％", "‰")):
            raise InputError(f"age column {str(col)!r} holds a percentage", file=path_s,
                             column=str(col), hint="give persons, or the share as a fraction "
                             f"0–1 in a column named {gid}_share")  # fmt: skip
        values = parse_numbers(df[col], path=path_s, column=str(col), rows_of=rows_of,
                               what=f"{gid} {'share' if share else 'persons'}",
                               allow_missing=True, minimum=0.0)  # fmt: skip
        if share:
            _refuse(values > 1.0, path_s, col, rows_of, f"a share above 1 ({{v:g}}) in {col!r}",
                    "give the share as a fraction 0–1 (24.31 % → 0.2431)", values)  # fmt: skip
            values = values * pop
        over = values > pop * (1 + 1e-9) + 1e-9
        _refuse(over, path_s, col, rows_of, f"more persons in {col!r} ({{v:,.0f}}) than the "
                "row's residents", "check that the column is the age group's persons and the "
                "population column the row's residents", values)  # fmt: skip
        out[gid], cols[gid] = values, str(col)
    return out, cols


def _refuse(mask: np.ndarray, path_s: str, col, rows_of, problem: str, hint: str,
            values: np.ndarray) -> None:  # fmt: skip
    if mask.any():
        v = values[np.flatnonzero(mask)[0]]
        raise InputError(problem.format(v=v), where=format_rows(rows_of(mask)), file=path_s,
                         column=str(col), hint=hint)  # fmt: skip


def read_buildings(
    path: str | Path | gpd.GeoDataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    crs: _crs.CrsIn | None = None,
    default_crs: _crs.CrsIn | None = None,
) -> gpd.GeoDataFrame:
    """Read residential buildings (polygons) that residents polygons are spread over.

    Parameters
    ----------
    path : str, Path or GeoDataFrame
        Polygon layer; a floors column (``层数``, ``floors``, ``building:levels`` …) is used
        when present (blank = 1 storey).
    columns : mapping, optional
        ``{"floors": column}``.
    crs, default_crs : optional
        Declared coordinate system / the default for layers that state none.

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``floors`` (storeys, ≥ 1) and the footprint geometry.
    """
    path_s = input_label(path)
    gdf = layer_to_wgs84(read_layer(path), path_s, crs=crs, default=default_crs,
                         what="buildings")  # fmt: skip
    areal = np.isin(shapely.get_type_id(gdf.geometry.to_numpy()), (3, 6))
    if not areal.all():
        raise InputError("a building must be a polygon", where=format_rows(feature_rows(~areal)),
                         file=path_s, column="geometry",
                         hint="pass building footprints as polygons")  # fmt: skip
    found = find_columns(gdf.columns, ["floors"], columns, path_s)
    floors = np.ones(len(gdf))
    if "floors" in found:
        floors = parse_numbers(gdf[found["floors"]], path=path_s, column=found["floors"],
                               rows_of=feature_rows, what="floors", allow_missing=True,
                               minimum=0)  # fmt: skip
        floors = np.where(np.isnan(floors) | (floors < 1), 1.0, floors)
    logger.info("%s: %d buildings%s", path_s, len(gdf),
                f", floors from column {found['floors']!r}" if "floors" in found
                else " (no floors column: 1 storey each)")  # fmt: skip
    return gpd.GeoDataFrame({"floors": floors}, geometry=gdf.geometry.to_numpy(), crs=4326)
