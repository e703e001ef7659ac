"""Shared geometry validation: coordinates from tables, layer geometries, study area."""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.errors import DataWarning, InputError, format_rows

logger = logging.getLogger(__name__)


def table_rows(df: pd.DataFrame):
    """Row numbering of a table from :func:`~hzspatial.io.read_table`: ``mask`` → the rows'
    numbers as the spreadsheet shows them (its index: ``5``, or ``设施:5`` when several
    sheets were read together)."""
    numbers = df.index.to_numpy()
    return lambda mask: [numbers[i] for i in np.flatnonzero(mask)]


def feature_rows(mask: np.ndarray) -> list[int]:
    """1-based feature numbers in a vector layer."""
    return [int(i) + 1 for i in np.flatnonzero(mask)]


def parse_numbers(
    values: pd.Series,
    *,
    path: str,
    column: str,
    rows_of,
    what: str,
    allow_missing: bool = False,
    minimum: float | None = None,
) -> np.ndarray:
    """Parse a column as floats, naming rows that are not numbers or below ``minimum``."""
    raw = values.astype("string").str.strip()
    # a comma is a thousands separator only in groups of three (1,234.5); "107,03" is a
    # decimal comma, which read as 10703 would move a point 10,000 km: said, not guessed
    comma = raw.str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool)
    grouped = raw.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?").fillna(False).to_numpy(
        dtype=bool)  # fmt: skip

    def refuse(mask: np.ndarray, problem: str, hint: str) -> None:
        if mask.any():
            first = values.iloc[int(np.flatnonzero(mask)[0])]
            raise InputError(problem.format(first=first), where=format_rows(rows_of(mask)),
                             file=path, column=column, hint=hint)  # fmt: skip

    refuse(comma & ~grouped, f"{what} has a decimal comma or stray comma (e.g. {{first!r}})",
           "write decimals with a point (107.03), or save the sheet with a point as the "
           "decimal sign")  # fmt: skip
    text = raw.str.replace(",", "", regex=False)
    nums = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    blank = text.isna().to_numpy() | (text.fillna("") == "").to_numpy()
    bad = np.isnan(nums) & ~blank
    if not allow_missing:
        bad |= blank
    refuse(bad, f"{what} is not a number (e.g. {{first!r}})",
           "enter plain numbers (no units or text)")
    refuse(np.isinf(nums), f"{what} is not a finite number (e.g. {{first!r}})",
           "enter the real figure (inf, 1e999 … are not values)")
    if minimum is not None:
        low = nums < minimum
        if low.any():
            rows = rows_of(low)
            first = nums[np.flatnonzero(low)[0]]
            raise InputError(
                f"{what} must be ≥ {minimum:g} (found {first:g})",
                where=format_rows(rows),
                file=path,
                column=column,
                hint="correct the values",
            )
    return nums


_TRUE = {"1", "true", "yes", "y", "t", "是", "普惠", "普惠性", "公办", "规划", "拟建", "在建",
         "planned"}  # fmt: skip
_FALSE = {"0", "false", "no", "n", "f", "否", "非普惠", "民办", "已建", "建成", "现状", "existing"}


def parse_flags(values: pd.Series, *, path: str, column: str, rows_of) -> np.ndarray:
    """Parse yes/no values (English or Chinese: 是/否, 普惠/非普惠); blank → None."""
    text = values.astype("string").str.strip().str.lower()
    out = np.full(len(values), None, dtype=object)
    is_true = text.isin(_TRUE).to_numpy(dtype=bool)
    is_false = text.isin(_FALSE).to_numpy(dtype=bool)
    blank = text.isna().to_numpy() | (text.fillna("") == "").to_numpy()
    bad = ~(is_true | is_false | blank)
    if bad.any():
        first = values.iloc[int(np.flatnonzero(bad)[0])]
        raise InputError(
            f"expected yes/no (是/否) but found {first!r}",
            where=format_rows(rows_of(bad)),
            file=path,
            column=column,
            hint="write yes or no, 是 or 否",
        )
    out[is_true] = True
    out[is_false] = False
    return out


def points_from_table(
    df: pd.DataFrame, lon_col: str, lat_col: str, crs_in, path: str
) -> np.ndarray:
    """WGS84 shapely points from coordinate columns, with validation.

    Detects non-numeric values, impossible coordinates and swapped lon/lat
    (for geographic ``crs_in``) and names the rows. ``lon_col`` may name a single column
    holding ``"lon,lat"`` pairs (Amap's ``location``) when ``lat_col`` is the same column.
    """
    kind = _crs.parse_crs_in(crs_in)
    rows_of = table_rows(df)
    if lon_col == lat_col:
        pair = (
            df[lon_col]
            .astype("string")
            .str.strip()
            .str.split(r"\s*[,，;；\s]\s*", n=1, expand=True, regex=True)
        )
        if pair.shape[1] < 2:
            pair[1] = None
        xs, ys = pair[0], pair[1]
        ok = xs.notna() & ys.notna()
        if not ok.all():
            first = df[lon_col].iloc[int(np.flatnonzero(~ok.to_numpy())[0])]
            raise InputError(
                f"expected 'longitude,latitude' but found {first!r}",
                where=format_rows(rows_of(~ok.to_numpy())),
                file=path,
                column=lon_col,
                hint="write both numbers separated by a comma, e.g. 107.0234,33.0712",
            )
    else:
        xs, ys = df[lon_col], df[lat_col]
    x = parse_numbers(xs, path=path, column=lon_col, rows_of=rows_of, what="the coordinate")
    y = parse_numbers(ys, path=path, column=lat_col, rows_of=rows_of, what="the coordinate")
    if isinstance(kind, str):  # geographic degrees
        check_degrees(x, y, path, lon_col, lat_col, rows_of)
    lon, lat = _crs.to_wgs84(x, y, crs_in)
    return shapely.points(lon, lat)


def check_degrees(
    x: np.ndarray, y: np.ndarray, path: str, lon_col: str, lat_col: str, rows_of
) -> None:
    """Raise for impossible or swapped longitude/latitude values (degrees)."""
    swapped = ~_crs.in_china(x, y) & _crs.in_china(y, x)
    if swapped.any():
        rows = rows_of(swapped)
        i = int(np.flatnonzero(swapped)[0])
        raise InputError(
            f"longitude and latitude look swapped "
            f"(lon={x[i]:g}, lat={y[i]:g} is outside China; swapped it is inside)",
            where=format_rows(rows),
            file=path,
            column=f"{lon_col}/{lat_col}",
            hint=f"swap the '{lon_col}' and '{lat_col}' columns",
        )
    impossible = (np.abs(x) > 180) | (np.abs(y) > 90)
    if impossible.any():
        rows = rows_of(impossible)
        i = int(np.flatnonzero(impossible)[0])
        raise InputError(
            f"impossible coordinates (lon={x[i]:g}, lat={y[i]:g}); "
            "longitude must be within ±180 and latitude within ±90",
            where=format_rows(rows),
            file=path,
            column=f"{lon_col}/{lat_col}",
            hint="projected coordinates need --crs-in with their EPSG code",
        )


def clean_geometries(gdf: gpd.GeoDataFrame, path: str) -> np.ndarray:
    """The layer's geometries: null ones reported (one line), invalid ones repaired (warning)."""
    null = gdf.geometry.isna().to_numpy() | gdf.geometry.is_empty.to_numpy()
    if null.any():
        raise InputError(
            "feature has no geometry",
            where=format_rows(feature_rows(null)),
            file=path,
            column="geometry",
            hint="delete those features or draw their geometry",
        )
    geoms = gdf.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        warnings.warn(
            f"{path}: {format_rows(feature_rows(invalid))}: invalid geometry repaired "
            "(shapely.make_valid)",
            DataWarning,
            stacklevel=3,
        )
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


def crs_of_input(declared, own, default, label: str, what: str):
    """The coordinate system an input is read in, logged with where it came from.

    A system declared for this input (``--facilities-crs`` …) wins: GCJ-02 / BD-09 files
    claim WGS84, so only the user can say otherwise. Else the file's own (``.prj``,
    GeoPackage SRS, GeoJSON = WGS84 by RFC 7946), else the run's default (``--crs-in``),
    else WGS84 — said in the log, as an assumption.
    """
    crs, how = pick_crs(declared, own, default)
    if how == "assumed":
        logger.info("%s: no coordinate system in the file; assumed WGS84 (declare it with "
                    "--%s-crs)", label, what)  # fmt: skip
    elif how != "file":
        logger.info("%s: coordinates read as %s (%s)", label, crs, how)
    return crs


def table_crs(declared, said, default, df: pd.DataFrame, lon_col: str, lat_col: str,
              label: str, what: str, quiet: bool = False):  # fmt: skip
    """:func:`crs_of_input` for a table's coordinate columns, except that a projected
    ``--crs-in`` default is not applied to columns that plainly hold degrees in China
    (``经度`` 107.03, ``纬度`` 33.07): those are read as WGS84 and the log says so.
    ``quiet``: the caller logs the system used itself."""
    crs, how = pick_crs(declared, said, default)
    if how == "--crs-in" and not isinstance(_crs.parse_crs_in(crs), str) and lon_col != lat_col:
        x = pd.to_numeric(df[lon_col], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(df[lat_col], errors="coerce").to_numpy(dtype=float)
        ok = ~(np.isnan(x) | np.isnan(y))
        if ok.any() and _crs.in_china(x[ok], y[ok]).all():
            logger.info("%s: columns %s/%s hold degrees; read as WGS84, not %s (declare "
                        "--%s-crs to override)", label, lon_col, lat_col, crs, what)  # fmt: skip
            return "wgs84"
    return crs if quiet else crs_of_input(declared, said, default, label, what)


def pick_crs(declared, own, default) -> tuple:
    """``(crs, how)`` by the rule of :func:`crs_of_input`; ``how`` is ``declared``, ``file``,
    ``--crs-in`` or ``assumed``."""
    if declared is not None:
        return declared, "declared"
    if own is not None:
        return own, "file"
    if default is not None:
        return default, "--crs-in"
    return "wgs84", "assumed"


def layer_to_wgs84(
    gdf: gpd.GeoDataFrame, path: str, *, crs=None, default=None, what: str = "input",
    quiet: bool = False,
) -> gpd.GeoDataFrame:
    """Reproject a layer to WGS84.

    ``crs`` (declared for this input) overrides the file's own CRS; ``default`` applies
    only when the file has none (see :func:`crs_of_input`). GCJ-02 / BD-09 are not EPSG
    systems: files in them usually claim EPSG:4326, so the user declares ``crs="gcj02"``
    and the shift is removed here. ``attrs["crs_in"]`` keeps the system used. ``quiet``: the
    caller logs the system used itself.
    """
    geoms = clean_geometries(gdf, path)
    src = pick_crs(crs, gdf.crs, default)[0] if quiet else crs_of_input(crs, gdf.crs, default,
                                                                        path, what)  # fmt: skip
    kind = _crs.parse_crs_in(src)
    if isinstance(kind, str):
        coords = shapely.get_coordinates(geoms)
        if len(coords):
            check_degrees(
                coords[:, 0],
                coords[:, 1],
                path,
                "x",
                "y",
                lambda m: feature_rows(_coord_owner_mask(geoms, m)),
            )
    else:
        check_not_degrees(geoms, src, path, what)
    out = _crs.geometries_to_wgs84(geoms, kind) if kind != "wgs84" else geoms
    res = gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=list(out), crs=4326)
    res.attrs = dict(gdf.attrs) | {"crs_in": kind if isinstance(kind, str) else src}
    return res


def check_not_degrees(geoms: np.ndarray, src, path: str, what: str) -> None:
    """Raise when a layer read in a projected system holds what are plainly degrees in China
    (all within 73–135° E, 18–54° N): read as metres, its whole extent would be a few dozen
    metres across — a wrongly declared system, and a network noded in a 60 m square takes
    minutes before failing on something else."""
    c = shapely.get_coordinates(geoms)
    if len(c) and _crs.in_china(c[:, 0], c[:, 1]).all():
        raise InputError(
            f"the coordinates are degrees (e.g. {c[0, 0]:.5f}, {c[0, 1]:.5f}), not the metres "
            f"of {src}",
            file=path,
            column="geometry",
            hint=f"leave the {what} system undeclared (the file says it), or declare wgs84 / "
            "gcj02 / bd09",
        )


def _coord_owner_mask(geoms: np.ndarray, coord_mask: np.ndarray) -> np.ndarray:
    counts = shapely.get_num_coordinates(geoms)
    owner = np.repeat(np.arange(len(geoms)), counts)
    mask = np.zeros(len(geoms), dtype=bool)
    mask[owner[coord_mask]] = True
    return mask


def check_within(
    points: np.ndarray, area, path: str, rows_of, what: str, tolerance_m: float = 50.0
) -> None:
    """Raise naming rows whose WGS84 points fall outside ``area`` (a WGS84 geometry)."""
    if area is None:
        return
    buffered = shapely.buffer(area, tolerance_m / 111_000.0)
    shapely.prepare(buffered)
    outside = ~shapely.contains_xy(buffered, shapely.get_x(points), shapely.get_y(points))
    if outside.any():
        rows = rows_of(outside)
        i = int(np.flatnonzero(outside)[0])
        p = points[i]
        raise InputError(
            f"{what} outside the study area (e.g. lon={p.x:.5f}, lat={p.y:.5f})",
            where=format_rows(rows),
            file=path,
            hint="check the coordinates and their coordinate system (--crs-in, or the "
            "input's own --…-crs), or remove those rows",
        )


def check_unique(values: pd.Series, path: str, column: str, rows_of) -> None:
    """Raise naming rows whose id repeats an earlier row."""
    dup = values.duplicated(keep=False).to_numpy()
    if dup.any():
        first = values[dup].iloc[0]
        raise InputError(
            f"duplicate id {first!r}",
            where=format_rows(rows_of(dup)),
            file=path,
            column=column,
            hint="give every row its own id",
        )


def ids_and_names(
    df: pd.DataFrame, found: dict, path: str, rows_of, default_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row ids (checked non-empty and unique) and names (falling back on the id).

    ``default_ids`` are used when the file has no id column.
    """
    if "id" in found:
        col = found["id"]
        ids = df[col].astype("string").str.strip()
        blank = ids.isna().to_numpy() | (ids.fillna("") == "").to_numpy()
        if blank.any():
            raise InputError(
                "empty id",
                where=format_rows(rows_of(blank)),
                file=path,
                column=col,
                hint="give every row an id",
            )
        check_unique(ids, path, col, rows_of)
        ids = ids.to_numpy(dtype=object)
    else:
        ids = np.asarray(default_ids, dtype=object)
    if "name" not in found:
        return ids, ids.copy()
    names = df[found["name"]].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    return ids, np.where(names == "", ids, names)
