"""Reading facility inventories (CSV / XLSX / GeoJSON / GeoPackage / Shapefile)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.categories import (
    Category,
    builtin_categories,
    resolve_category,
    resolve_subtype,
    user_category,
)
from hzspatial.errors import DataWarning, InputError, format_rows
from hzspatial.io._columns import aliases, require, source_labels
from hzspatial.io._files import encoding_note, input_label
from hzspatial.io._geometry import (
    ids_and_names,
    parse_flags,
    parse_numbers,
)
from hzspatial.io.poi import (
    level_columns,
    looks_like_paths,
    match_type_paths,
    type_parts,
)
from hzspatial.io.reading import Reading, read_input

__all__ = [
    "FACILITY_COLUMNS",
    "FacilityInput",
    "facility_items",
    "known_categories",
    "read_facilities",
    "read_facility_inputs",
]

logger = logging.getLogger(__name__)

#: Columns of the GeoDataFrame returned by :func:`read_facilities`.
FACILITY_COLUMNS = [
    "facility_id", "name", "category", "subtype", "area_m2", "floor_area_m2", "beds",
    "nursing_beds", "places",
    "pitches", "doctors", "nurses", "capacity", "inclusive", "built", "planned", "area_from",
    "source", "geometry",
]  # fmt: skip
_NUMERIC = ("area_m2", "floor_area_m2", "beds", "nursing_beds", "places", "pitches", "doctors",
            "nurses", "capacity", "built")  # fmt: skip
_FLAGS = ("inclusive", "planned")


def known_categories(extra: Iterable[str] = ()) -> dict[str, Category]:
    """Built-in categories plus user-named ones."""
    known = dict(builtin_categories())
    for name in extra:
        if resolve_category(name, known) is None:
            known[name] = user_category(name)
    return known


def read_facilities(
    path: str | Path | pd.DataFrame,
    *,
    category: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: _crs.CrsIn | None = None,
    default_crs: _crs.CrsIn | None = None,
    extra_categories: Iterable[str] = (),
    category_map: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    role: str = "facilities",
) -> gpd.GeoDataFrame:
    """Read and validate a facility file.

    Parameters
    ----------
    path : str, Path, DataFrame or GeoDataFrame
        CSV/TSV (UTF-8 or GBK/GB18030), XLSX, GeoJSON, GeoPackage or Shapefile, or a frame
        in memory. Tables need longitude/latitude columns (``lon``/``lat``, ``经度``/``纬度``
        …) or one ``location`` column of ``"lon,lat"`` (Amap); layers may hold points or
        polygons (a polygon becomes its representative point, and its area in m² fills
        ``area_m2`` when no area column is given). Amap / Baidu / Tencent POI exports are
        recognised (``config/poi.toml``).
    category : str, optional
        Category for every row (id or alias, e.g. ``"kindergarten"`` or ``"幼儿园"``);
        otherwise a category column (``category``, ``类型``, ``标签``, ``小类`` …) is required.
        Type paths such as ``"医疗保健服务;综合医院;卫生院"`` match from their most specific
        part; in POI exports rows whose type matches no category are left out and listed.
    columns : mapping, optional
        Explicit ``{field: column}`` mapping overriding header detection; fields are
        ``id, name, category, lon, lat, location, area_m2, floor_area_m2, beds, places,
        pitches, doctors, nurses, capacity, inclusive``.
    crs : str or int, optional
        The file's coordinate system, declared: ``wgs84`` | ``cgcs2000`` | ``gcj02`` |
        ``bd09`` | EPSG code. Overrides what the file says.
    default_crs : str or int, optional
        For files that do not say (tables, shapefiles without ``.prj``); else WGS84 is
        assumed and logged. A POI export's own system (Amap GCJ-02, Baidu BD-09) and
        coordinate headers such as ``经度(GCJ02)`` count as the file saying.
    extra_categories : iterable of str
        Category names accepted besides the built-in ones.
    category_map : mapping, optional
        Type name → category (``{"综合医院": "hospital", "卫生院": "clinic"}``), matched
        before the aliases.
    sheet : str or int, optional
        XLSX sheet (default: the first).
    header_row : int, optional
        Row number of the header as the spreadsheet shows it (default: found).
    role : str
        The option the file came with, in messages (``facilities``; ``candidates`` for
        ``site --candidates``, so a missing datum says ``--candidates-crs``).

    Returns
    -------
    geopandas.GeoDataFrame
        One point per facility in EPSG:4326 with :data:`FACILITY_COLUMNS`; areas in m²,
        ``beds``/``places``/``pitches``/``capacity`` as counts (NaN when not given).
        ``attrs["crs_in"]`` is the coordinate system the file was read in.

    Raises
    ------
    InputError
        One line naming the file, rows/features and column of the first problem found.
    """
    path_s = input_label(path)
    known = known_categories(extra_categories)
    fields = ["id", "name", "category", "subtype", "lon", "lat", "location", *_NUMERIC, *_FLAGS]
    _check_mapping(columns, fields)
    reading = read_input(path, what=role, fields=fields, columns=columns, crs=crs,
                         default_crs=default_crs, sheet=sheet, header_row=header_row,
                         needs=COORDINATE_NEEDS, poi=True)  # fmt: skip
    df, found, rows_of = reading.table, reading.columns, reading.rows_of
    points, polygon_area = _points_and_areas(reading.geometry)
    n = len(df)
    cats, type_values, keep = _categories(reading, category, known, category_map)
    default_ids = np.array([f"{c}-{i + 1}" for i, c in enumerate(cats)], dtype=object)
    ids, names = ids_and_names(df, found, path_s, rows_of, default_ids)
    out = {"facility_id": ids, "name": names, "category": cats,
           "subtype": subtypes_of(cats, type_values, names, known)}  # fmt: skip
    if "subtype" in found:
        out["subtype"] = given_subtypes(cats, df[found["subtype"]], out["subtype"], known,
                                        path_s, found["subtype"], rows_of)  # fmt: skip
    out |= _capacities(reading, polygon_area)
    for field in _FLAGS:
        out[field] = (parse_flags(df[found[field]], path=path_s, column=found[field],
                                  rows_of=rows_of) if field in found
                      else np.full(n, None, dtype=object))  # fmt: skip
    out["source"] = source_labels(df)

    result = gpd.GeoDataFrame(out, geometry=list(points), crs=4326)[keep].reset_index(drop=True)
    logger.info(
        "%s: %d facilities (%s)",
        path_s,
        len(result),
        ", ".join(f"{k} {v}" for k, v in result["category"].value_counts().items()),
    )
    result = result[FACILITY_COLUMNS]
    result.attrs["crs_in"] = reading.crs
    result.attrs["crs_how"] = reading.crs_how
    return result


def _categories(reading: Reading, category: str | None, known: Mapping[str, Category],
                category_map: Mapping[str, str] | None) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """Each row's category (``category`` for all, else from its category or type-path
    columns), the type values subtypes are read from, and the rows kept (a POI export's rows
    whose type matches no category are left out with a warning)."""
    df, found, label = reading.table, reading.columns, reading.label
    n = len(df)
    keep = np.ones(n, dtype=bool)
    if category is not None:
        cat = resolve_category(category, known)
        if cat is None:
            raise InputError(
                f"unknown category {category!r}; known: {', '.join(known)}",
                file=label, column="category",
                hint="use a known category, or declare it with --extra-category NAME",
            )  # fmt: skip
        return np.full(n, cat, dtype=object), pd.Series([category] * n), keep
    levels = level_columns(df.columns)
    if "category" not in found and levels:
        raw_cat = df[levels].astype("string").fillna("").agg(";".join, axis=1)
        col = "/".join(levels)
    else:
        require(found, ["category"], df.columns, label, "facility category",
                note=encoding_note(df))  # fmt: skip
        col = found["category"]
        raw_cat = df[col].astype("string").str.strip()
    codes = next((df[c] for c in df.columns if str(c).lower() == "typecode"), None)
    cats = match_type_paths(raw_cat, known, category_map, codes)
    bad = pd.isna(cats) & raw_cat.notna().to_numpy()
    paths = reading.source is not None or looks_like_paths(raw_cat) or bool(levels)
    if bad.any() and paths:
        counts = raw_cat[bad].value_counts()
        listed = "; ".join(f"{k} ({v})" for k, v in counts.head(8).items())
        warnings.warn(
            f"{label}: {int(bad.sum())} row(s) whose type matches no category are left "
            f"out: {listed}{' …' if len(counts) > 8 else ''} — map them with "
            f"--category-map TYPE=CATEGORY (e.g. 综合医院=hospital)",
            DataWarning,
            stacklevel=3,
        )
        keep &= ~bad
        if not keep.any():
            raise InputError(
                f"no row's type matches a facility category (e.g. {counts.index[0]!r})",
                file=label, column=col,
                hint="map types with --category-map TYPE=CATEGORY, or pass --category",
            )  # fmt: skip
    elif pd.isna(cats).any():
        bad = pd.isna(cats)
        first = raw_cat.iloc[int(np.flatnonzero(bad)[0])]
        raise InputError(
            f"unknown category {first!r}; known: {', '.join(known)}",
            where=format_rows(reading.rows_of(bad)), file=label, column=col,
            hint="use a known category or alias, map it with --category-map "
            f"{first}=CATEGORY, or declare a new one with --extra-category NAME",
        )  # fmt: skip
    return cats, raw_cat.reset_index(drop=True), keep


def _capacities(reading: Reading, polygon_area: np.ndarray) -> dict[str, np.ndarray]:
    """The numeric fields (areas in m², beds, places … — NaN where not given; a built year
    from ``2023年`` / ``2023-06``), a polygon's own area where no area column says, and
    ``area_from`` (``input``, ``polygon`` or ``missing``)."""
    df, found = reading.table, reading.columns
    out = {}
    for field in _NUMERIC:
        if field not in found:
            out[field] = np.full(len(df), np.nan)
            continue
        values = df[found[field]]
        if field == "built":  # 2023年 / 2023-06 → 2023
            values = values.astype("string").str.extract(r"^\s*(\d{4})")[0].where(
                values.notna(), None).fillna(values.astype("string"))  # fmt: skip
        out[field] = parse_numbers(values, path=reading.label, column=found[field],
                                   rows_of=reading.rows_of, what=field, allow_missing=True,
                                   minimum=0.0)  # fmt: skip
    area_from = np.where(np.isnan(out["area_m2"]), "missing", "input").astype(object)
    use_poly = np.isnan(out["area_m2"]) & ~np.isnan(polygon_area)
    out["area_m2"] = np.where(use_poly, polygon_area, out["area_m2"])
    area_from[use_poly] = "polygon"
    out["area_from"] = area_from
    return out


def _points_and_areas(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A facility's point (a polygon's representative point, a multipoint's centroid) and
    its polygon's area in m² (NaN for points), from WGS84 geometries."""
    gtype = shapely.get_type_id(geoms)
    areal = np.isin(gtype, (3, 6))
    points = np.where(areal, shapely.point_on_surface(geoms), geoms)
    multi = shapely.get_type_id(points) == 4
    points[multi] = shapely.centroid(points[multi])
    area = np.full(len(geoms), np.nan)
    if areal.any():
        c = shapely.get_coordinates(geoms[areal])
        utm = _crs.metric_crs(c[:, 0], c[:, 1])
        area[areal] = gpd.GeoSeries(geoms[areal], crs=4326).to_crs(utm).area.to_numpy()
    return points, area


#: A table holds facility coordinates when it has longitude and latitude, or one location.
def _coordinate_needs():
    table = aliases()
    return ((table["lon"], table["lat"]), (table["location"],))


COORDINATE_NEEDS = _coordinate_needs()


def subtypes_of(cats: np.ndarray, type_values: pd.Series, names: np.ndarray,
                known: Mapping[str, Category]) -> np.ndarray:  # fmt: skip
    """Subtype per facility (``config/categories.toml``): from its category / type value and
    the parts of a type path, else from keywords in its name; None when nothing says."""
    out = np.full(len(cats), None, dtype=object)
    for i, (cat, value, name) in enumerate(zip(cats, type_values, names, strict=True)):
        if cat in known and known[cat].subtypes:
            values, parts = ([], []) if pd.isna(value) else ([value], type_parts(str(value)))
            out[i] = resolve_subtype(known[cat], values, str(name), parts)
    return out


def given_subtypes(cats: np.ndarray, given: pd.Series, derived: np.ndarray,
                   known: Mapping[str, Category], path: str, column: str,
                   rows_of) -> np.ndarray:  # fmt: skip
    """Subtypes from a subtype column (an id or alias of ``config/categories.toml``, e.g.
    ``daycare`` or 日间照料中心); blank cells keep what the type and name say."""
    out = derived.copy()
    text = given.astype("string").str.strip().fillna("").to_numpy()
    for i in np.flatnonzero(text != ""):
        cat = known.get(cats[i])
        value = text[i].lower()
        sub = next((s.id for s in (cat.subtypes if cat else ()) if value == s.id.lower()
                    or value in s.aliases), None)  # fmt: skip
        if sub is None:
            choices = ", ".join(s.id for s in cat.subtypes) if cat and cat.subtypes else ""
            raise InputError(
                f"unknown subtype {text[i]!r} for category {cats[i]}",
                where=format_rows(rows_of(np.arange(len(text)) == i)),
                file=path,
                column=column,
                hint=f"use one of {choices}, or leave it blank" if choices
                else "this category has no subtypes: leave it blank",
            )
        out[i] = sub
    return out


def _check_mapping(columns: Mapping[str, str] | None, fields: Sequence[str]) -> None:
    unknown = sorted(set(columns or {}) - set(fields))
    if unknown:
        raise InputError(
            f"unknown field(s) {', '.join(unknown)} in the column mapping",
            column="--columns",
            hint=f"fields are {', '.join(fields)}",
        )


@dataclass(frozen=True)
class FacilityInput:
    """A facility file (or frame) and how to read it: the category of all its rows, a
    column mapping, its coordinate system (overriding what the file says), a type → category
    map for POI exports, the XLSX sheet and header row."""

    path: str | Path | pd.DataFrame
    category: str | None = None
    columns: Mapping[str, str] | None = None
    crs: str | int | None = None
    category_map: Mapping[str, str] | None = None
    sheet: str | int | None = None
    header_row: int | None = None

    @classmethod
    def of(cls, item, crs=None, category_map=None) -> FacilityInput:
        """``item`` (a FacilityInput, path or frame) with a run's facility coordinate system
        and category map as defaults for what it does not give itself."""
        item = item if isinstance(item, FacilityInput) else cls(item)
        return replace(
            item,
            crs=item.crs if item.crs is not None else crs,
            category_map=item.category_map if item.category_map is not None else category_map,
        )


def read_facility_inputs(
    items: Sequence[FacilityInput], default_crs=None, extra: Iterable[str] = ()
) -> gpd.GeoDataFrame:
    """Read several facility inputs into one frame (column ``input`` = the file; ``attrs
    ["crs_in"]`` maps each input to its coordinate system); ids must be unique across files."""
    frames, used, declared = [], {}, {}
    for item in items:
        f = read_facilities(
            item.path,
            category=item.category,
            columns=item.columns,
            crs=item.crs,
            default_crs=default_crs,
            extra_categories=extra,
            category_map=item.category_map,
            sheet=item.sheet,
            header_row=item.header_row,
        )
        f["input"] = input_label(item.path)
        used[input_label(item.path)] = f.attrs["crs_in"]
        declared[input_label(item.path)] = f.attrs.get("crs_how") == "declared"
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
    out = gpd.GeoDataFrame(fac, geometry="geometry", crs=4326)
    out.attrs["crs_in"] = used
    out.attrs["crs_declared"] = declared
    return out


def facility_items(
    facilities: Sequence, crs=None, category_map: Mapping[str, str] | None = None
) -> list[FacilityInput]:
    """The facility inputs of a run (``facilities``: a sequence, or one path or table), each
    with its own options: ``crs`` is one coordinate
    system for every file, or a sequence with one per file (in order) — the rule coverage,
    review, site and batch share. A file's own ``FacilityInput.crs`` wins.

    Raises
    ------
    InputError
        When a sequence of systems does not match the number of files.
    """
    if isinstance(facilities, str | Path | pd.DataFrame | FacilityInput):
        facilities = [facilities]  # one file or table, as scripts often pass it
    systems = list(crs) if isinstance(crs, list | tuple) else [crs]
    if len(systems) == 1:
        systems = systems * len(facilities)
    elif len(systems) == 0:
        systems = [None] * len(facilities)
    if len(systems) != len(facilities):
        raise InputError(
            f"{len(systems)} --facilities-crs values for {len(facilities)} --facilities files",
            column="--facilities-crs",
            hint="give one for all files, or one per file in the same order",
        )
    return [FacilityInput.of(f, c, category_map) for f, c in
            zip(facilities, systems, strict=True)]  # fmt: skip
