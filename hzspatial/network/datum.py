"""Detecting inputs in the wrong coordinate system from how they sit on the streets.

GCJ-02 (Amap, Tencent) and BD-09 (Baidu) points read as WGS84 — or WGS84 points on a
GCJ-02 street layer — are offset by 300–700 m in one direction. Nothing in such a file
says so; the answers are simply wrong. Facilities and residents are placed by where people
are, which is along streets: read in the right system, they lie measurably closer to the
streets than the same points moved by the datum offset in any direction. This module
compares the median distance to the nearest street of the points as read, of the points
under each plausible conversion, and of the points moved by the same offset in random
directions (what "misplaced" looks like on this network). A conversion is suggested when

* it brings the points clearly closer than as read (≥ ``ratio`` × and ≥ ``min_gain_m``), or
* it aligns them with the streets better than ``aligned_share`` of random moves do, while as
  read they are no closer than a typical random move — the test that works on dense street
  grids, where any point is within a few tens of metres of a street.

Thresholds are configuration (``config/datum_check.toml``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from hzspatial import crs as _crs
from hzspatial.config import load
from hzspatial.errors import DataWarning, InputError
from hzspatial.network._graph import WalkGraph
from hzspatial.network.snap import snap_points

__all__ = ["DatumFinding", "check_datum", "sample_points", "warn_datums"]


def _settings() -> dict:
    return load("datum_check.toml")


@dataclass(frozen=True)
class DatumFinding:
    """A conversion that fits the streets much better than the input as read.

    Attributes
    ----------
    system : str
        ``gcj02`` / ``bd09`` / ``wgs84``: what the input looks like it really is, or
        ``network-gcj02`` when the streets look like GCJ-02 and the points WGS84.
    median_m, better_median_m, random_median_m : float
        Median distance (metres) to the nearest street: as read, converted, moved randomly.
    """

    system: str
    median_m: float
    better_median_m: float
    random_median_m: float


def sample_points(lon: np.ndarray, lat: np.ndarray, limit: int | None = None):
    """A deterministic subset of at most ``limit`` points (default from the settings)."""
    limit = limit or int(_settings()["max_points"])
    if len(lon) <= limit:
        return lon, lat
    pick = np.random.default_rng(0).choice(len(lon), limit, replace=False)
    return lon[pick], lat[pick]


def _median_leg(graph: WalkGraph, xy: np.ndarray, cap: float) -> float:
    snap = snap_points(graph, shapely.points(xy), cap)
    return float(np.median(np.where(snap.ok, snap.leg_m, cap)))


def check_datum(
    graph: WalkGraph, lon: np.ndarray, lat: np.ndarray, read_as: str
) -> DatumFinding | None:
    """Whether points (WGS84 degrees, after reading) would fit the streets much better in
    another coordinate system.

    Parameters
    ----------
    graph : WalkGraph
    lon, lat : arrays of float
        The input's points as read (WGS84 degrees), e.g. facilities or samples along
        residents polygons.
    read_as : str
        The system the input was read in (``wgs84``, ``gcj02``, ``bd09``); other systems
        (projected EPSG codes) are not checked.

    Returns
    -------
    DatumFinding or None
    """
    cfg = _settings()
    if read_as not in ("wgs84", "gcj02", "bd09") or len(lon) < int(cfg["min_points"]):
        return None
    lon, lat = sample_points(np.asarray(lon, float), np.asarray(lat, float))
    inside = _crs.in_china(lon, lat)
    if inside.mean() < 0.5:
        return None
    lon, lat = lon[inside], lat[inside]
    raw = _crs.from_wgs84(lon, lat, read_as)
    candidates = {s: _crs.to_wgs84(*raw, s) for s in ("wgs84", "gcj02", "bd09") if s != read_as}
    if read_as == "wgs84":
        candidates["network-gcj02"] = _crs.wgs84_to_gcj02(lon, lat)
    to_m = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(graph.crs)
    xy = shapely.get_coordinates(to_m.to_numpy())
    cap = float(cfg["cap_m"])
    m0 = _median_leg(graph, xy, cap)
    best, best_m, best_shift = None, np.inf, 0.0
    for system, (clon, clat) in candidates.items():
        cxy = shapely.get_coordinates(
            gpd.GeoSeries(shapely.points(clon, clat), crs=4326).to_crs(graph.crs).to_numpy()
        )
        m = _median_leg(graph, cxy, cap)
        if m < best_m:
            best, best_m = system, m
            best_shift = float(np.median(np.hypot(*(cxy - xy).T)))
    rng = np.random.default_rng(int(cfg["seed"]))
    angles = rng.uniform(0, 2 * np.pi, int(cfg["random_moves"]))
    moved = np.array([_median_leg(graph, xy + best_shift * np.array([np.cos(a), np.sin(a)]),
                                  cap) for a in angles])  # fmt: skip
    clearly_closer = m0 >= cfg["ratio"] * best_m and m0 - best_m >= cfg["min_gain_m"]
    aligned = best_m <= cfg["aligned_factor"] * np.quantile(moved, cfg["aligned_share"])
    as_read_random = m0 >= cfg["random_factor"] * np.median(moved)
    if clearly_closer or (aligned and as_read_random):
        return DatumFinding(best, m0, best_m, float(np.median(moved)))
    return None


def warn_datums(graph: WalkGraph, inputs, strict: bool = False) -> None:
    """Check inputs and warn (``DataWarning``), or with ``strict`` raise ``InputError``, for
    each that looks like it is in another coordinate system.

    Parameters
    ----------
    graph : WalkGraph
    inputs : iterable of (label, what, read_as, geometries)
        File label, the option stem (``facilities`` → ``--facilities-crs``), the system it was
        read in, and its WGS84 geometries: points are checked as they are, polygons by the
        vertices of their boundaries (community boundaries follow streets).
    strict : bool
    """
    for label, what, read_as, geoms in inputs:
        geoms = np.asarray(geoms, dtype=object)
        areal = np.isin(shapely.get_type_id(geoms), (3, 6))
        xy = np.vstack([shapely.get_coordinates(geoms[~areal]),
                        shapely.get_coordinates(shapely.boundary(geoms[areal]))])  # fmt: skip
        found = check_datum(graph, xy[:, 0], xy[:, 1], read_as)
        if found is None:
            continue
        if found.system == "network-gcj02":
            fix = "--network-crs gcj02 (the streets look like GCJ-02)"
        else:
            fix = f"--{what}-crs {found.system}"
        msg = (f"{label}: the {what} look like {found.system.replace('network-', '').upper()} "
               f"coordinates, not {read_as.upper()}: median distance to the nearest street "
               f"{found.median_m:.0f} m as read, {found.better_median_m:.0f} m converted "
               f"(random placement: {found.random_median_m:.0f} m)")  # fmt: skip
        if strict:
            raise InputError(msg, hint=f"declare the coordinate system with {fix}")
        warnings.warn(f"{msg} — if so, declare it with {fix} (--strict makes this an error)",
                      DataWarning, stacklevel=3)  # fmt: skip
