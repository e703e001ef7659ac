"""Detecting inputs in the wrong coordinate system from how they sit on the streets.

GCJ-02 (Amap, Tencent) and BD-09 (Baidu) points read as WGS84 — or WGS84 points on a
GCJ-02 street layer — are offset by 300–700 m in one direction. Nothing in such a file
says so; the answers are simply wrong. Facilities and residents are placed by where people
are, which is along streets: read in the right system, they lie measurably closer to the
streets than the same points moved by the datum offset in any other direction.

The evidence (:func:`datum_evidence`) is each point's distance to the nearest street as
read, under each plausible conversion, and after moving all points by the conversion's
offset in ``random_moves`` evenly spread directions. Its score is the mean of
``log(distance + floor_m)`` — a geometric mean that every point moves, unlike the median.
The judgement (:func:`judge`) suggests a conversion only when all three hold:

* converted, the points fit the streets better than after **every** random move of the
  same length (a one-in-``random_moves`` event for points placed without regard to the
  streets, so a correct file far from its streets is not accused);
* converted, they are closer than as read by at least ``spread`` standard deviations of the
  random moves' scores, and at least ``ratio`` × closer (geometric mean) — on a dense
  street grid every placement is within tens of metres of a street, so the spread of the
  moves, not a fixed ratio, says what "clearly closer" is;
* as read, they fit no better than the ``as_read_quantile`` of the random moves — a file
  that already sits on its streets is never accused, whatever a conversion scores.

Thresholds are configuration (``config/datum_check.toml``); ``benchmarks/bench_datum.py``
measures the hit and false-alarm rates on real OpenStreetMap positions.
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

__all__ = ["DatumEvidence", "DatumFinding", "check_datum", "datum_evidence", "judge",
           "network_may_shift", "sample_points", "warn_datums"]  # fmt: skip


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
        Median distance (metres) to the nearest street: as read, converted, and after the
        random moves (median of their medians).
    """

    system: str
    median_m: float
    better_median_m: float
    random_median_m: float


@dataclass(frozen=True)
class DatumEvidence:
    """Distances (metres, capped) from each point to the nearest street.

    Attributes
    ----------
    as_read : array (n,)
    converted : dict system → array (n,)
    moved : dict system → array (random_moves, n)
        The points moved by that conversion's median offset in evenly spread directions.
    """

    as_read: np.ndarray
    converted: dict[str, np.ndarray]
    moved: dict[str, np.ndarray]


def sample_points(lon: np.ndarray, lat: np.ndarray, limit: int | None = None):
    """A deterministic subset of at most ``limit`` points (default from the settings)."""
    limit = limit or int(_settings()["max_points"])
    if len(lon) <= limit:
        return lon, lat
    pick = np.random.default_rng(0).choice(len(lon), limit, replace=False)
    return lon[pick], lat[pick]


def _legs(graph: WalkGraph, xy: np.ndarray, cap: float) -> np.ndarray:
    """Distance (m) from each point (rows of ``xy``, graph CRS) to the nearest joinable
    street, capped at ``cap``."""
    _, tree = graph.snap_tree
    (pi, _), dist = tree.query_nearest(shapely.points(xy), return_distance=True,
                                       all_matches=False)  # fmt: skip
    out = np.full(len(xy), cap)
    out[pi] = np.minimum(dist, cap)
    return out


def _to_metres(graph: WalkGraph, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    pts = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(graph.crs).to_numpy()
    return shapely.get_coordinates(pts)


def datum_evidence(
    graph: WalkGraph, lon: np.ndarray, lat: np.ndarray, read_as: str,
    network_may_shift: bool = True, all_moves: bool = False,
) -> DatumEvidence | None:
    """The distances :func:`judge` weighs, or None when the input is not checked (too few
    points, a projected system, mostly outside China).

    Parameters
    ----------
    graph : WalkGraph
    lon, lat : arrays of float
        The input's points as read (WGS84 degrees).
    read_as : str
        The system the input was read in (``wgs84``, ``gcj02``, ``bd09``).
    network_may_shift : bool
        Whether the streets themselves may be GCJ-02 (a centre-line layer whose system was
        not declared); OpenStreetMap streets are WGS84, so that conversion is not tried.
    all_moves : bool
        Move the points for every conversion; by default only for those that bring the points
        ``ratio`` × closer (the others cannot be suggested — a correct file, the common case,
        costs four searches instead of about eighty).

    Notes
    -----
    Random moves within ``exclude_deg`` of a conversion's direction are left out: from points
    that really are in the other system, such a move comes close to undoing the offset and
    would fit the streets as well as the conversion itself.
    """
    cfg = _settings()
    if read_as not in ("wgs84", "gcj02", "bd09") or len(lon) < int(cfg["min_points"]):
        return None
    lon, lat = sample_points(np.asarray(lon, float), np.asarray(lat, float))
    inside = _crs.in_china(lon, lat)
    if inside.mean() < 0.5 or inside.sum() < int(cfg["min_points"]):
        return None
    lon, lat = lon[inside], lat[inside]
    raw = _crs.from_wgs84(lon, lat, read_as)
    candidates = {s: _crs.to_wgs84(*raw, s) for s in ("wgs84", "gcj02", "bd09") if s != read_as}
    if read_as == "wgs84" and network_may_shift:
        candidates["network-gcj02"] = _crs.wgs84_to_gcj02(lon, lat)
    cap = float(cfg["cap_m"])
    xy = _to_metres(graph, lon, lat)
    k = int(cfg["random_moves"])
    angles = 2 * np.pi * (np.arange(k) + 0.5) / k
    converted, offsets = {}, {}
    for system, (clon, clat) in candidates.items():
        cxy = _to_metres(graph, clon, clat)
        converted[system] = _legs(graph, cxy, cap)
        offsets[system] = np.median(cxy - xy, axis=0)
    directions = np.array([np.arctan2(o[1], o[0]) for o in offsets.values()])
    gap = np.abs(np.angle(np.exp(1j * (angles[:, None] - directions[None, :]))))
    keep = (gap > np.radians(float(cfg["exclude_deg"]))).all(axis=1)
    unit = np.column_stack([np.cos(angles[keep]), np.sin(angles[keep])])
    as_read = _legs(graph, xy, cap)
    s0 = _score(as_read, float(cfg["floor_m"]))
    moved, by_length = {}, {}
    for system, offset in offsets.items():
        if not all_moves and s0 - _score(converted[system], float(cfg["floor_m"])) < np.log(
                float(cfg["ratio"])):  # fmt: skip
            continue  # not closer converted: judge() cannot suggest it, no moves needed
        shift = float(np.hypot(*offset))
        key = round(shift / 10.0)  # conversions with the same offset length share their moves
        if key not in by_length:
            by_length[key] = np.stack([_legs(graph, xy + shift * u, cap) for u in unit])
        moved[system] = by_length[key]
    return DatumEvidence(as_read, converted, moved)


def _score(d: np.ndarray, floor: float) -> np.ndarray:
    """Mean log distance over the last axis (lower = closer to the streets)."""
    return np.log(d + floor).mean(axis=-1)


def judge(evidence: DatumEvidence, cfg: dict | None = None) -> DatumFinding | None:
    """The conversion the evidence points to, or None (see the module's rules)."""
    cfg = cfg or _settings()
    floor = float(cfg["floor_m"])
    s0 = _score(evidence.as_read, floor)
    best = None
    for system, d in evidence.converted.items():
        if system not in evidence.moved:
            continue  # not closer converted (moves skipped)
        sc = _score(d, floor)
        sk = _score(evidence.moved[system], floor)
        if (
            sc < sk.min()
            and s0 - sc >= max(np.log(float(cfg["ratio"])), float(cfg["spread"]) * sk.std())
            and s0 >= np.quantile(sk, float(cfg["as_read_quantile"]))
            and (best is None or sc < best[0])
        ):
            best = (sc, system, d, evidence.moved[system])
    if best is None:
        return None
    _, system, d, moves = best
    return DatumFinding(system, float(np.median(evidence.as_read)), float(np.median(d)),
                        float(np.median(np.median(moves, axis=1))))  # fmt: skip


def check_datum(
    graph: WalkGraph, lon: np.ndarray, lat: np.ndarray, read_as: str,
    network_may_shift: bool = True,
) -> DatumFinding | None:
    """Whether points (WGS84 degrees, after reading) would fit the streets much better in
    another coordinate system (:func:`datum_evidence` weighed by :func:`judge`).

    Parameters
    ----------
    graph : WalkGraph
    lon, lat : arrays of float
        The input's points as read (WGS84 degrees), e.g. facilities or samples along
        residents polygons.
    read_as : str
        The system the input was read in (``wgs84``, ``gcj02``, ``bd09``); other systems
        (projected EPSG codes) are not checked.
    network_may_shift : bool
        Whether to consider that the streets, not the points, are GCJ-02.

    Returns
    -------
    DatumFinding or None
    """
    evidence = datum_evidence(graph, lon, lat, read_as, network_may_shift)
    return None if evidence is None else judge(evidence)


def network_may_shift(network, network_crs=None) -> bool:
    """Whether the streets themselves might be GCJ-02: a centre-line layer whose system was
    not declared. OpenStreetMap files and osmnx GraphML are WGS84; a built graph is the
    caller's."""
    if network_crs is not None or isinstance(network, WalkGraph):
        return False
    name = str(network).lower()
    return not name.endswith((".osm", ".pbf", ".graphml", ".osm.xml"))


def warn_datums(graph: WalkGraph, inputs, strict: bool = False,
                network_shift: bool = True) -> None:  # fmt: skip
    """Check inputs and warn (``DataWarning``), or with ``strict`` raise ``InputError``, for
    each that looks like it is in another coordinate system. Each input is judged on its
    own points only; inputs whose system the user declared are not checked.

    Parameters
    ----------
    graph : WalkGraph
    inputs : iterable of (label, what, read_as, geometries[, declared])
        File label, the option stem (``facilities`` → ``--facilities-crs``), the system it was
        read in, its WGS84 geometries (points are checked as they are, polygons by the
        vertices of their boundaries: community boundaries follow streets), and whether the
        system was declared by the user (then the input is skipped).
    strict : bool
    network_shift : bool
        Whether "the streets are GCJ-02" is a possible finding (:func:`network_may_shift`).
    """
    for label, what, read_as, geoms, *rest in inputs:
        if rest and rest[0]:
            continue
        geoms = np.asarray(geoms, dtype=object)
        areal = np.isin(shapely.get_type_id(geoms), (3, 6))
        xy = np.vstack([shapely.get_coordinates(geoms[~areal]),
                        shapely.get_coordinates(shapely.boundary(geoms[areal]))])  # fmt: skip
        found = check_datum(graph, xy[:, 0], xy[:, 1], read_as, network_shift)
        if found is None:
            continue
        if found.system == "network-gcj02":
            fix = "--network-crs gcj02 (the streets look like GCJ-02)"
        else:
            fix = f"--{what}-crs {found.system}"
        msg = (f"{label}: the {what} look like {found.system.replace('network-', '').upper()} "
               f"coordinates, not {read_as.upper()}: median distance to the nearest street "
               f"{found.median_m:.0f} m as read, {found.better_median_m:.0f} m converted "
               f"(moved by the same offset in other directions: {found.random_median_m:.0f} m)")
        if strict:
            raise InputError(msg, hint=f"declare the coordinate system with {fix}")
        warnings.warn(f"{msg} — if so, declare it with {fix} (--strict makes this an error)",
                      DataWarning, stacklevel=3)  # fmt: skip
