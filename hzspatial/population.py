"""Where residents are: residents polygons spread over where people live inside them.

A community (社区) or village polygon with a population figure is the resident data planners
most often hold. Counted as one point, a community half inside a catchment would be 0 % or
100 % covered. Instead, its population is spread over demand points by one of three methods
(:data:`SPREADS`):

``buildings``
    one point per residential building inside the polygon, weighted by footprint × floors
    (polygons without buildings fall back on ``area``);
``area``
    evenly over the polygon's area, at the centres of a grid of at most :data:`AREA_GRID_M`
    (25 m) for polygons of 10 ha or more (communities, 小区) — coarser only where a polygon
    would need more than :data:`AREA_MAX_POINTS` points — and of :data:`BLOCK_GRID_M` (50 m)
    for smaller polygons (single blocks). Each point then walks its own straight leg to the
    nearest street it may join: people live in buildings inside 小区, and the walk to the
    gate is part of the 15 minutes;
``streets``
    along the walkable streets inside the polygon (and on its boundary), in proportion to
    street length; a polygon with no street inside gets a :data:`GRID_M` grid and one
    smaller than a cell stays one point — the method of earlier versions, which puts
    people on the street itself and so overstates coverage.

A polygon's points always sum to its population exactly; resident points stay one point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from hzspatial.network import WalkGraph

__all__ = ["AREA_FINE_M2", "AREA_GRID_M", "AREA_MAX_POINTS", "BLOCK_GRID_M",
           "BOUNDARY_TOLERANCE_M", "Demand", "GRID_M",
           "PIECE_M", "SPREADS", "spread_residents"]  # fmt: skip

#: The ways residents polygons are spread (see the module's text).
SPREADS = ("buildings", "area", "streets")
#: Largest grid spacing (metres) of the ``area`` spread for a polygon of AREA_FINE_M2 or more
#: and up to AREA_MAX_POINTS cells (10 ha – 1.25 km²: communities, 小区).
AREA_GRID_M = 25.0
#: Polygons smaller than this (m²; 10 ha) — single blocks, whose streets run round them — are
#: spread on a grid of BLOCK_GRID_M: a 1 ha block gets 4 points, a 4 ha block 16.
AREA_FINE_M2 = 100_000.0
#: Grid spacing (metres) of the ``area`` spread for polygons under AREA_FINE_M2.
BLOCK_GRID_M = 50.0
#: Most demand points one polygon gets from the ``area`` spread (larger polygons — townships,
#: villages of several km² — get a coarser grid).
AREA_MAX_POINTS = 2000

#: Longest street piece (metres) represented by one demand point.
PIECE_M = 50.0
#: Streets up to this far (metres) outside a polygon count as its own: community polygons
#: are bounded by streets, and a boundary street must not fall in or out by rounding.
BOUNDARY_TOLERANCE_M = 2.0
#: Grid spacing (metres) for polygons without streets; polygons smaller than one cell
#: (GRID_M², 1 ha) stay one point.
GRID_M = 100.0


@dataclass(frozen=True)
class Demand:
    """Demand points in the graph's metric CRS.

    Attributes
    ----------
    owner : ndarray of int
        Row of the residents input each point belongs to.
    population : ndarray of float
        Persons at each point (a polygon's points sum to its population).
    points : ndarray of Point
        Where the persons are (metres).
    cells : ndarray of geometry
        The part of the residents polygon each point stands for (for drawing areas), or the
        point itself for resident points; for the ``area`` spread the grid square, which
        may reach past the polygon's edge (clip it with the polygon to draw it).
    how : ndarray of str
        ``building`` (spread by floor area), ``street`` (by street length), ``grid``,
        ``polygon`` (one point for a small polygon) or ``point``.
    """

    owner: np.ndarray
    population: np.ndarray
    points: np.ndarray
    cells: np.ndarray
    how: np.ndarray


def spread_residents(
    geoms: np.ndarray,
    population: np.ndarray,
    graph: WalkGraph,
    piece_m: float = PIECE_M,
    grid_m: float = GRID_M,
    buildings: np.ndarray | None = None,
    floors: np.ndarray | None = None,
    method: str = "streets",
) -> Demand:
    """Demand points for residents polygons and points.

    Parameters
    ----------
    geoms : array of geometry
        Residents polygons or points in ``graph.crs`` (metres).
    population : array of float
        Persons per geometry.
    graph : WalkGraph
        Its edges are the streets residents are spread along.
    piece_m : float
        Street inside a polygon is cut into pieces of at most this length (metres), one
        demand point at each piece's middle with the piece's share of the population.
    grid_m : float
        Grid spacing (metres) for polygons with no street inside.
    buildings : array of Polygon, optional
        Residential building footprints (metres). A residents polygon holding buildings is
        spread over them instead — one point per building, weighted by footprint × floors.
    floors : array of float, optional
        Storeys per building (default 1).
    method : {"streets", "area", "buildings"}
        How polygons holding no building are spread (``buildings`` spreads them as
        ``area``). Buildings, when given, are used first whatever the method.

    Returns
    -------
    Demand
    """
    geoms = np.asarray(geoms, dtype=object)
    population = np.asarray(population, dtype=float)
    n = len(geoms)
    areal = np.isin(shapely.get_type_id(geoms), (3, 6))
    out = []
    housed = np.zeros(n, dtype=bool)
    if buildings is not None and len(buildings) and areal.any():
        homes = _building_points(geoms, np.flatnonzero(areal), buildings, floors)
        out.append(homes)
        housed[homes[0]] = True
    if method == "streets":
        big = areal & ~housed & (shapely.area(geoms) >= grid_m * grid_m)
    else:
        big = areal & ~housed
    single = np.flatnonzero(~big & ~housed)
    pts = geoms[single]  # a point is its own demand point (the same object: no copy)
    poly = areal[single]
    pts[poly] = shapely.point_on_surface(pts[poly])
    out.append((single, np.ones(len(single)), pts, geoms[single],
                np.array(["point", "polygon"], dtype=object)[poly.astype(np.intp)]))  # fmt: skip
    big_idx = np.flatnonzero(big)
    if len(big_idx) and method == "streets":
        street = _street_points(geoms, big_idx, graph, piece_m)
        out.append(street)
        no_street = np.setdiff1d(big_idx, street[0])
        if len(no_street):
            out.append(_grid_points(geoms, no_street, np.full(len(no_street), grid_m)))
    elif len(big_idx):
        area = shapely.area(geoms[big_idx])
        cell = np.where(area < AREA_FINE_M2, BLOCK_GRID_M,
                        np.maximum(AREA_GRID_M, np.sqrt(area / AREA_MAX_POINTS)))  # fmt: skip
        out.append(_grid_points(geoms, big_idx, cell, how="area"))
    owner = np.concatenate([o[0] for o in out]).astype(np.int64)
    weight = np.concatenate([o[1] for o in out])
    points = np.concatenate([o[2] for o in out])
    cells = np.concatenate([o[3] for o in out])
    how = np.concatenate([o[4] for o in out]).astype(object)
    order = np.argsort(owner, kind="stable")
    owner, weight, points, cells, how = (a[order] for a in (owner, weight, points, cells, how))
    total = np.bincount(owner, weights=weight, minlength=n)
    share = weight / total[owner]
    return Demand(owner, population[owner] * share, points, cells, how)


def _building_points(geoms, idx, buildings, floors):
    """One point per building inside polygons ``geoms[idx]``, weighted by floor area."""
    buildings = np.asarray(buildings, dtype=object)
    floors = np.ones(len(buildings)) if floors is None else np.asarray(floors, dtype=float)
    pts = shapely.point_on_surface(buildings)
    bi, pi = shapely.STRtree(geoms[idx]).query(pts, predicate="within")
    bi, first = np.unique(bi, return_index=True)  # a building counts once
    owner = idx[pi[first]]
    weight = shapely.area(buildings[bi]) * floors[bi]
    return owner, weight, pts[bi], buildings[bi], np.full(len(bi), "building", dtype=object)


def _street_points(geoms, idx, graph: WalkGraph, piece_m: float):
    """Points every ≤ ``piece_m`` along the streets inside polygons ``geoms[idx]``."""
    polys = shapely.buffer(geoms[idx], BOUNDARY_TOLERANCE_M, join_style="mitre")
    edges = graph.edge_geometry
    pi, ei = shapely.STRtree(edges).query(polys, predicate="intersects")
    clipped = shapely.intersection(edges[ei], polys[pi])
    parts, src = shapely.get_parts(clipped, return_index=True)
    line = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 0)
    parts, src = parts[line], src[line]
    length = shapely.length(parts)
    count = np.maximum(np.ceil(length / piece_m - 1e-9), 1).astype(np.int64)
    part_of = np.repeat(np.arange(len(parts)), count)
    k = np.arange(len(part_of)) - np.repeat(np.cumsum(count) - count, count)
    frac = (k + 0.5) / count[part_of]
    pts = shapely.line_interpolate_point(parts[part_of], frac, normalized=True)
    owner = idx[pi[src[part_of]]]
    weight = (length / count)[part_of]
    cells = shapely.intersection(shapely.buffer(pts, piece_m * 0.8, quad_segs=4), geoms[owner])
    return owner, weight, pts, cells, np.full(len(pts), "street", dtype=object)


def _grid_points(geoms, idx, grid_m: np.ndarray, how: str = "grid"):
    """Cell centres of a grid (spacing ``grid_m[i]`` metres for polygon ``geoms[idx[i]]``)
    inside each polygon (at least one point each: its representative point)."""
    owners, pts, cells = [], [], []
    bounds = shapely.bounds(geoms[idx])
    nx = np.maximum(np.ceil((bounds[:, 2] - bounds[:, 0]) / grid_m), 1).astype(np.int64)
    ny = np.maximum(np.ceil((bounds[:, 3] - bounds[:, 1]) / grid_m), 1).astype(np.int64)
    # the grid is centred on the polygon's bounds, so a thin polygon is not missed by half
    x0 = (bounds[:, 0] + bounds[:, 2]) / 2 - nx * grid_m / 2
    y0 = (bounds[:, 1] + bounds[:, 3]) / 2 - ny * grid_m / 2
    per = nx * ny
    which = np.repeat(np.arange(len(idx)), per)
    k = np.arange(len(which)) - np.repeat(np.cumsum(per) - per, per)
    g = grid_m[which]
    shapely.prepare(geoms[idx])  # every cell centre and corner is tested against them
    x = x0[which] + (k % nx[which] + 0.5) * g
    y = y0[which] + (k // nx[which] + 0.5) * g
    inside = shapely.contains_xy(geoms[idx][which], x, y)
    owners.append(idx[which[inside]])
    pts.append(shapely.points(x[inside], y[inside]))
    half = g[inside] / 2
    boxes = shapely.box(x[inside] - half, y[inside] - half, x[inside] + half,
                        y[inside] + half)  # fmt: skip
    # the ``area`` spread's many fine cells stay squares (they may reach half a cell past the
    # polygon's edge): whoever draws them clips the few it needs (clipping all costs seconds)
    cells.append(boxes if how == "area" else
                 shapely.intersection(boxes, geoms[idx[which[inside]]]))  # fmt: skip
    empty = np.setdiff1d(np.arange(len(idx)), which[inside])
    owners.append(idx[empty])
    pts.append(shapely.point_on_surface(geoms[idx[empty]]))
    cells.append(geoms[idx[empty]])
    owner = np.concatenate(owners)
    return (owner, np.ones(len(owner)), np.concatenate(pts), np.concatenate(cells),
            np.full(len(owner), how, dtype=object))  # fmt: skip
