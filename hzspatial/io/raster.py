"""Population rasters (WorldPop, GHS-POP: people per cell, GeoTIFF in any CRS) as residents.

Each populated cell becomes demand at its centre; a cell wider than :data:`SPLIT_M` is split
into a k × k grid of points sharing its people. Nodata, NaN and zero cells are dropped; cells
outside the study area too, and both are counted in the log line and ``attrs["raster"]``.
The raster is read window by window, never whole.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from hzspatial import crs as _crs
from hzspatial.errors import DataWarning, InputError
from hzspatial.io.agesex import find_age_rasters, group_weights

__all__ = ["RASTER_SUFFIXES", "SPLIT_M", "is_raster", "read_population_raster"]

logger = logging.getLogger(__name__)

#: File endings read as rasters.
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc")
#: Cells wider than this (metres) are split into points this far apart at most (the grid
#: residents polygons fall back to without streets, hzspatial.population.GRID_M).
SPLIT_M = 100.0
#: Cells read at once (a window of whole rows).
WINDOW_CELLS = 8_000_000
#: GDAL's block cache while a raster is read (MB).
GDAL_CACHE_MB = 64


def is_raster(path) -> bool:
    """Whether ``path`` names a raster file by its ending."""
    return isinstance(path, str | Path) and str(path).lower().endswith(RASTER_SUFFIXES)


def read_population_raster(path: str | Path, *, crs: _crs.CrsIn | None = None,
                           default_crs: _crs.CrsIn | None = None,
                           study_area: shapely.Geometry | None = None,
                           population_total: float | None = None,
                           split_m: float = SPLIT_M, age_rasters=None,
                           groups: Mapping[str, tuple[float, float]] | None = None,
                           control_areas: gpd.GeoDataFrame | None = None,
                           ) -> gpd.GeoDataFrame:  # fmt: skip
    """Read a population raster as residents points.

    Parameters
    ----------
    path : str or Path
        GeoTIFF (or any raster GDAL reads) of people per cell, band 1.
    crs : str or int, optional
        The raster's coordinate system, declared; overrides the file's.
    default_crs : str or int, optional
        For a raster that states none (``--crs-in``); never overrides what the file says.
    study_area : shapely geometry, optional
        WGS84 area: cells whose centre (or sub-point) lies outside are dropped and counted.
    population_total : float, optional
        Rescale the kept people to this total (persons).
    split_m : float
        Cells wider than this many metres become k × k points (k = ⌈width / split_m⌉).
    age_rasters : folder, file or list of files, optional
        WorldPop age/sex rasters on the same grid (:mod:`hzspatial.io.agesex`): summed into
        ``groups`` as ``group_<id>`` persons per point (at most the cell's people).
    groups : mapping, optional
        Group id → ages ``(from, to)`` in years (``to`` inf: and over), for ``age_rasters``.
    control_areas : GeoDataFrame, optional
        WGS84 areas with ``district_id``, ``name`` and ``population`` (the boundaries): the
        people in each area that records a population are rescaled to it (per-district
        control totals).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points: ``demand_id`` (``r<row>c<col>``, ``/<i>`` for split points), ``name``,
        ``population`` (persons), ``population_from``, ``source``; ``attrs["raster"]`` holds the
        window read (the boundaries' extent: cells beyond it are not read), the cells read and
        dropped (nodata, zero) and the people read, outside the boundaries and kept.
    """
    import rasterio
    import rasterio.errors

    label = str(path)
    with contextlib.ExitStack() as stack:
        # each window is read once: GDAL's block cache (5 % of the machine's memory by
        # default) would only hold what was read — 1.4 GB here for a 20,000² raster
        stack.enter_context(rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB))
        try:
            ds = stack.enter_context(rasterio.open(path))
        except rasterio.errors.RasterioIOError as exc:
            raise InputError(f"not a raster GDAL can read ({str(exc)[:120]})", file=label,
                             hint="give a GeoTIFF of people per cell") from None  # fmt: skip
        src_crs = _raster_crs(ds, crs, default_crs, label)
        how = "declared" if crs is not None else "file" if ds.crs is not None else "assumed"
        t, bounds = ds.transform, ds.bounds
        height, width = ds.height, ds.width
        ages = _AgeGroups.open(age_rasters, groups or {}, ds, stack) if age_rasters else None
        r0, r1, c0, c1 = _window_of(ds, src_crs, study_area)
        rows, cols, people, stats = _read_cells(ds, (r0, r1, c0, c1), ages, label)
    grouped = ages.cells() if ages is not None else {}
    read_sum, n_cells = float(people.sum()), len(people)
    k = _split(t, src_crs, bounds, split_m)
    lon, lat, people, sub = _points(t, rows, cols, people, k, src_crs)
    inside = (np.ones(len(lon), bool) if study_area is None
              else shapely.contains_xy(study_area, lon, lat))  # fmt: skip
    out_people = float(people[~inside].sum())
    lon, lat, people, rows, cols, sub = (x[inside] for x in (lon, lat, people, np.repeat(
        rows, k * k), np.repeat(cols, k * k), sub))  # fmt: skip
    grouped = {g: np.repeat(v / (k * k), k * k)[inside] for g, v in grouped.items()}
    if not len(people):
        raise InputError("no populated cell of the raster lies inside the boundaries",
                         file=label, hint="check the raster's area and coordinate system, "
                         "or pass --boundaries of its area")  # fmt: skip
    factor = np.ones(len(people))
    if population_total is not None:
        factor *= float(population_total) / people.sum()
    if control_areas is not None:
        factor *= _control_factors(control_areas, lon, lat, people, label, stats)
    people = people * factor
    grouped = {g: v * factor for g, v in grouped.items()}
    ids = _cell_ids(rows, cols, sub, k)
    stats |= {"populated_cells": n_cells, "people_read": read_sum, "people_outside": out_people,
              "people_kept": float(people.sum()), "split": k, "crs": src_crs.to_string()}
    stats["window"] = {"rows": [r0, r1], "columns": [c0, c1], "of": [height, width]}
    _log_read(label, how, stats)
    out = gpd.GeoDataFrame(
        {"demand_id": ids, "name": ids, "population": people,
         "population_from": pd.Categorical.from_codes(np.zeros(len(ids), int), ["raster cell"]),
         "source": pd.Categorical.from_codes(np.zeros(len(ids), int), [Path(label).name])},
        geometry=shapely.points(lon, lat), crs=4326)  # fmt: skip
    for g, v in grouped.items():
        out[f"group_{g}"] = v
    out.attrs |= {"crs_in": src_crs.to_string(), "crs_how": how, "raster": stats,
                  "group_columns": {}, "group_info": ages.info if ages is not None else {}}
    return out


def _read_cells(ds, window: tuple[int, int, int, int], ages, label: str):
    """Rows, columns and people (persons) of the populated cells in ``window`` (rows r0–r1,
    columns c0–c1), read a band of rows at a time; nodata and zero cells counted, a negative
    one refused; ``ages`` (:class:`_AgeGroups`) read alongside."""
    from rasterio.windows import Window

    r0, r1, c0, c1 = window
    nodata = ds.nodata
    rows_per = max(1, WINDOW_CELLS // max(c1 - c0, 1))
    parts, stats = [], {"cells": 0, "nodata": 0, "zero": 0}
    for row in range(r0, r1, rows_per):
        win = Window(c0, row, c1 - c0, min(rows_per, r1 - row))
        a = ds.read(1, window=win).astype(np.float64)
        bad = ~np.isfinite(a) | ((a == nodata) if nodata is not None else False)
        stats["cells"] += a.size
        stats["nodata"] += int(bad.sum())
        neg = ~bad & (a < 0)
        if neg.any():
            i, j = np.argwhere(neg)[0]
            raise InputError(f"negative people ({a[i, j]:g}) in a cell that is not nodata",
                             where=f"row {row + i}, column {c0 + j}", file=label,
                             hint="set the raster's nodata value, or give people per "
                             "cell")  # fmt: skip
        stats["zero"] += int((~bad & (a == 0)).sum())
        i, j = np.nonzero(~bad & (a > 0))
        parts.append((i + row, j + c0, a[i, j]))
        if ages is not None:
            ages.add(win, i, j, a[i, j])
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), stats
    rows, cols, people = (np.concatenate(x) for x in zip(*parts, strict=True))
    return rows, cols, people, stats


def _log_read(label: str, how: str, stats: dict) -> None:
    """One log line: the raster's system and why, the window read, cells kept and dropped."""
    (r0, r1), (c0, c1), (height, width) = (stats["window"][k] for k in ("rows", "columns", "of"))
    k = stats["split"]
    logger.info("%s: raster, %s (%s); read rows %d–%d, columns %d–%d of %d × %d (the boundaries' "
                "extent); %d populated cells (%s people)%s; %d nodata and %d zero cells "
                "dropped; %s people in cells outside the boundaries dropped", label,
                stats["crs"], {"declared": "declared", "file": "the file says so",
                               "assumed": "the file does not say: --crs-in"}[how],
                r0, r1, c0, c1, height, width, stats["populated_cells"],
                f"{stats['people_read']:,.0f}",
                f", each split into {k}×{k} points" if k > 1 else "", stats["nodata"],
                stats["zero"], f"{stats['people_outside']:,.0f}")  # fmt: skip


def _raster_crs(ds, declared, default, label: str) -> pyproj.CRS:
    """The raster's CRS: as declared, else as the file states, else the default for files
    that do not say; one of them must say."""
    if declared is None and ds.crs is None:
        declared = default
    if declared is not None:
        parsed = _crs.parse_crs_in(declared)
        if isinstance(parsed, str):
            if parsed != "wgs84":
                raise InputError(f"a raster in {parsed.upper()} is not supported", file=label,
                                 hint="give the raster in WGS84 or a projected system")
            return pyproj.CRS.from_epsg(4326)
        return parsed
    if ds.crs is None:
        raise InputError("the raster states no coordinate system", file=label,
                         hint="declare it with --population-crs (e.g. 4326)")  # fmt: skip
    return pyproj.CRS.from_user_input(ds.crs.to_wkt())


def _window_of(ds, src_crs: pyproj.CRS, area) -> tuple[int, int, int, int]:
    """Rows r0:r1 and columns c0:c1 of the raster covering ``area`` (WGS84), or all."""
    if area is None:
        return 0, ds.height, 0, ds.width
    tr = pyproj.Transformer.from_crs(4326, src_crs, always_xy=True)
    x0, y0, x1, y1 = tr.transform_bounds(*shapely.bounds(area), densify_pts=21)
    inv = ~ds.transform
    cols, rows = zip(*(inv @ (x, y) for x in (x0, x1) for y in (y0, y1)), strict=True)
    r0, r1 = max(0, math.floor(min(rows)) - 1), min(ds.height, math.ceil(max(rows)) + 1)
    c0, c1 = max(0, math.floor(min(cols)) - 1), min(ds.width, math.ceil(max(cols)) + 1)
    return r0, max(r0, r1), c0, max(c0, c1)


def _split(t, src_crs: pyproj.CRS, bounds, split_m: float) -> int:
    """How many points a cell side becomes: ⌈cell width in metres / split_m⌉."""
    w, h = abs(t.a), abs(t.e)
    if src_crs.is_geographic:
        lat = math.radians((bounds.top + bounds.bottom) / 2)
        w, h = w * 111_320 * math.cos(lat), h * 110_540
    return max(1, math.ceil(max(w, h) / split_m - 1e-9))


def _points(t, rows, cols, people, k: int, src_crs: pyproj.CRS):
    """Cell centres (k = 1) or k × k sub-points per cell, in WGS84, with their people and
    each point's index within its cell."""
    sub = np.arange(k * k)
    fx = ((sub % k) + 0.5) / k
    fy = ((sub // k) + 0.5) / k
    c = (cols[:, None] + fx[None, :]).ravel()
    r = (rows[:, None] + fy[None, :]).ravel()
    x = t.c + c * t.a + r * t.b
    y = t.f + c * t.d + r * t.e
    lon, lat = _crs.to_wgs84(x, y, src_crs)
    return (np.asarray(lon), np.asarray(lat), np.repeat(people / (k * k), k * k),
            np.tile(sub, len(rows)))  # fmt: skip


def _cell_ids(rows: np.ndarray, cols: np.ndarray, sub: np.ndarray, k: int) -> np.ndarray:
    """``r<row>c<col>`` per point, with ``/<i>`` for the points of a split cell."""
    base = np.char.add(np.char.add("r", rows.astype(str)), np.char.add("c", cols.astype(str)))
    if k > 1:
        base = np.char.add(np.char.add(base, "/"), sub.astype(str))
    return base.astype(object)


class _AgeGroups:
    """WorldPop age/sex rasters read window by window beside the population raster: per
    populated cell, each group's persons (its bands × their weights), at most the cell's
    people. Age people where the population raster has none, and age people above a cell's
    people, are counted and warned of above 1 % of a group."""

    def __init__(self, weights: dict[str, dict], files: dict, info: dict[str, dict]):
        self.weights, self.files, self.info = weights, files, info
        self.parts: dict[str, list[np.ndarray]] = {g: [] for g in weights}
        self.lost = dict.fromkeys(weights, 0.0)
        self.over = dict.fromkeys(weights, 0.0)
        self.total = dict.fromkeys(weights, 0.0)

    @classmethod
    def open(cls, source, groups: Mapping[str, tuple[float, float]], ds,
             stack: contextlib.ExitStack) -> _AgeGroups:  # fmt: skip
        import rasterio

        found = find_age_rasters(source)
        weights, info = {}, {}
        for gid, (lo, hi) in sorted(groups.items()):
            w, text, split = group_weights(found, lo, hi, gid)
            weights[gid], info[gid] = w, {"source": found.label, "estimated": split,
                                          "method": text}  # fmt: skip
        files = {}
        for path in sorted({p for w in weights.values() for b in w for p in found.bands[b][1]}):
            other = stack.enter_context(rasterio.open(path))
            same = (other.shape == ds.shape and other.transform.almost_equals(ds.transform)
                    and (other.crs is None or ds.crs is None or other.crs == ds.crs))  # fmt: skip
            if not same:
                raise InputError(f"its grid ({other.width} × {other.height} cells, {other.crs}) "
                                 f"is not the population raster's ({ds.width} × {ds.height}, "
                                 f"{ds.crs})", file=str(path), column="--age-rasters",
                                 hint="use the age/sex rasters of the population raster's "
                                 "release and resolution")  # fmt: skip
            files[path] = other
        bands = {b: found.bands[b][1] for w in weights.values() for b in w}
        return cls({g: {bands[b]: x for b, x in w.items()} for g, w in weights.items()},
                   files, info)  # fmt: skip

    def add(self, window, i: np.ndarray, j: np.ndarray, people: np.ndarray) -> None:
        """The groups' persons at the populated cells (i, j) of ``window``."""
        values = {}
        for path, f in self.files.items():
            a = f.read(1, window=window).astype(np.float64)
            bad = ~np.isfinite(a) | ((a == f.nodata) if f.nodata is not None else False)
            if (~bad & (a < 0)).any():
                r, c = np.argwhere(~bad & (a < 0))[0]
                where = f"row {window.row_off + r}, column {window.col_off + c}"
                raise InputError("negative people in a cell that is not nodata", where=where,
                                 file=str(path), column="--age-rasters",
                                 hint="set the raster's nodata value")  # fmt: skip
            values[path] = np.where(bad, 0.0, a)
        for gid, w in self.weights.items():
            whole = sum(x * sum(values[p] for p in files) for files, x in w.items())
            at = whole[i, j]
            kept = np.minimum(at, people)
            self.total[gid] += float(whole.sum())
            self.lost[gid] += float(whole.sum() - at.sum())
            self.over[gid] += float((at - kept).sum())
            self.parts[gid].append(kept)

    def cells(self) -> dict[str, np.ndarray]:
        """Per group, its persons in each populated cell (in reading order)."""
        for gid in self.weights:
            for what, amount in (("in cells the population raster leaves empty", self.lost[gid]),
                                 ("above their cells' people", self.over[gid])):
                if amount > 0.01 * max(self.total[gid], 1e-9):
                    warnings.warn(f"{self.info[gid]['source']}: {amount:,.0f} of the "
                                  f"{self.total[gid]:,.0f} people of {gid} lie {what} and are "
                                  "not counted — are the rasters of the same year and release?",
                                  DataWarning, stacklevel=4)  # fmt: skip
            self.info[gid] |= {"not_counted": self.lost[gid] + self.over[gid]}
        return {g: np.concatenate(v) if v else np.empty(0) for g, v in self.parts.items()}


def _control_factors(areas: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray,
                     people: np.ndarray, label: str, stats: dict) -> np.ndarray:  # fmt: skip
    """Per point, the factor that makes its area's people its ``population`` (1 in
    areas that record none); an area that records people but holds no populated cell is
    refused (its people cannot be placed)."""
    factor = np.ones(len(people))
    pts = shapely.points(lon, lat)
    tree = shapely.STRtree(pts)
    rescaled = []
    for geom, aid, name, target in zip(areas.geometry, areas["district_id"], areas["name"],
                                       areas["population"], strict=True):  # fmt: skip
        if not (target == target and target > 0):  # NaN or 0: nothing recorded
            continue
        idx = tree.query(geom, predicate="intersects")
        have = float(people[idx].sum())
        if have <= 0:
            raise InputError(f"area {name} ({aid}) records {target:,.0f} people but no populated "
                             "cell of the raster lies in it", file=label,
                             column="--control-totals", hint="check the raster covers the "
                             "boundaries, or drop --control-totals")  # fmt: skip
        factor[idx] = float(target) / have
        rescaled.append((str(aid), have, float(target)))
    if not rescaled:
        raise InputError("the boundaries record no population to rescale the raster to",
                         column="--control-totals", hint="give boundaries with a population "
                         "column (人口), or drop --control-totals")  # fmt: skip
    stats["control_totals"] = [{"district_id": a, "raster": h, "total": t} for a, h, t in rescaled]
    if rescaled:
        f = [t / h for _, h, t in rescaled]
        logger.info("%s: people rescaled to the boundaries' populations in %d areas (factors "
                    "%.3f–%.3f)", label, len(rescaled), min(f), max(f))  # fmt: skip
    return factor
