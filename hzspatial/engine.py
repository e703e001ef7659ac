"""The search engine of a coverage run, whole or tiled (optionally in parallel on Dask).

Given a graph, facility points with categories and demand points (all in the graph's metric
CRS), it computes per category every demand point's walking distance to the nearest
facility and which one, each facility's catchment polygon, and the (demand, facility)
pairs within the category's threshold for 2SFCA.

Tiling splits a large area into tiles (e.g. districts). Each tile is searched on the
subgraph within ``buffer_m`` of it, with the facilities inside that buffer: any walk of at
most ``buffer_m`` from a point in the tile stays inside the buffer, so every distance up to
``buffer_m`` — hence coverage, catchments and 2SFCA within the thresholds — is identical to
the untiled run. Distances beyond ``buffer_m`` are reported as unreachable (``inf``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import shapely

from hzspatial import catchments as ct
from hzspatial.network import (
    Snap,
    TravelCosts,
    WalkGraph,
    graph_from_edges,
    snap_points,
    with_costs,
)

__all__ = ["EngineInput", "EngineOutput", "compute", "compute_tiled", "subgraph"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineInput:
    """Inputs of the searches (metric CRS of ``graph``).

    Attributes
    ----------
    graph : WalkGraph
    facility_points, demand_points : arrays of Point
    facility_category : array of str
    limits : dict
        Category → walking threshold (metres).
    max_snap_m : float
    unbounded : bool
        Whether nearest-facility distances are searched without bound (for medians and
        p90 beyond the threshold). Tiled runs bound them by the tile buffer.
    groups : dict
        Key → boolean mask over the facilities (e.g. the day-care centres among elderly
        care): nearest distances to each group are searched too, under its key.
    """

    graph: WalkGraph
    facility_points: np.ndarray
    facility_category: np.ndarray
    demand_points: np.ndarray
    limits: dict[str, float]
    max_snap_m: float = 300.0
    unbounded: bool = True
    groups: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class EngineOutput:
    """Per-category results, indexed like the inputs.

    Attributes
    ----------
    facility_ok, demand_ok : arrays of bool
        Snapped within ``max_snap_m``.
    distance_m, nearest : dict
        Category → per demand point: metres to the nearest facility (``inf`` none), its index.
    catchments : array of geometry
        Per facility (its category's threshold).
    pairs : dict
        Category → (demand index, facility index, metres) within the threshold.
    facility_snap, demand_snap : Snap, optional
        Where facilities and demand points join the streets (untiled runs).
    node : dict
        Key → :class:`~hzspatial.catchments.NearestFacility` per graph node (untiled runs):
        what an edited study updates instead of searching again.
    """

    facility_ok: np.ndarray
    demand_ok: np.ndarray
    distance_m: dict[str, np.ndarray] = field(default_factory=dict)
    nearest: dict[str, np.ndarray] = field(default_factory=dict)
    catchments: np.ndarray | None = None
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    facility_snap: Snap | None = None
    demand_snap: Snap | None = None
    node: dict[str, ct.NearestFacility] = field(default_factory=dict)


def compute(inp: EngineInput, *, bound_m: float = np.inf,
            catchment_of: np.ndarray | None = None) -> EngineOutput:  # fmt: skip
    """Run every search on one graph.

    Parameters
    ----------
    inp : EngineInput
    bound_m : float
        Bound of the nearest-facility searches (``inf`` unless tiled).
    catchment_of : array of bool, optional
        Facilities whose catchments to draw (default all).
    """
    g = inp.graph
    fsnap = snap_points(g, inp.facility_points, inp.max_snap_m)
    dsnap = snap_points(g, inp.demand_points, inp.max_snap_m)
    out = EngineOutput(facility_ok=fsnap.ok, demand_ok=dsnap.ok, facility_snap=fsnap,
                       demand_snap=dsnap)  # fmt: skip
    polys = np.array([shapely.Polygon()] * len(inp.facility_points), dtype=object)
    sources = ct.source_graph(g, fsnap)
    bound = bound_m if inp.unbounded else min(bound_m, max(inp.limits.values(), default=0))
    for cat, limit in inp.limits.items():
        sel = np.flatnonzero(inp.facility_category == cat)
        logger.info("%s: nearest facilities, %d catchments and 2SFCA pairs (%.0f m)", cat,
                    len(sel), limit)  # fmt: skip
        near = ct.nearest_facility(g, fsnap, bound, members=sel, sources=sources)
        dist, which = ct.demand_distances(g, near, dsnap, fsnap, members=sel)
        out.distance_m[cat], out.nearest[cat], out.node[cat] = dist, which, near
        draw = sel if catchment_of is None else sel[catchment_of[sel]]
        if len(draw):
            polys[draw] = ct.facility_catchments(g, fsnap.take(draw), limit)
        di, fj, d = ct.facility_demand_pairs(g, fsnap.take(sel), dsnap, limit)
        out.pairs[cat] = (di, sel[fj], d)
    for key, mask in inp.groups.items():
        sel = np.flatnonzero(mask)
        near = ct.nearest_facility(g, fsnap, bound, members=sel, sources=sources)
        out.distance_m[key], out.nearest[key] = ct.demand_distances(g, near, dsnap, fsnap,
                                                                    members=sel)  # fmt: skip
        out.node[key] = near
    out.catchments = polys
    return out


def subgraph(graph: WalkGraph, area: shapely.Geometry) -> WalkGraph:
    """The part of ``graph`` whose edges lie within ``area`` (both ends inside)."""
    inside = shapely.contains_xy(area, graph.node_xy[:, 0], graph.node_xy[:, 1])
    keep = inside[graph.edge_u] & inside[graph.edge_v]
    sub = graph_from_edges(graph.node_xy, graph.edge_u[keep], graph.edge_v[keep],
                           graph.edge_geometry[keep], graph.crs, keep_largest=False,
                           source="tile", snap_ok=graph.joinable[keep])  # fmt: skip
    return _costs_of(sub, graph.costs, keep)


def _costs_of(sub: WalkGraph, costs: TravelCosts | None, keep: np.ndarray) -> WalkGraph:
    """``sub`` (the edges ``keep`` of a graph, in order) with that graph's directed costs."""
    if costs is None:
        return sub
    return with_costs(sub, replace(costs, edge_cost=costs.edge_cost[keep]))


def _pack(graph: WalkGraph, fac_pts, dem_pts) -> tuple:
    """Plain arrays for a worker: shapely objects pickle one by one, arrays in one piece."""
    coords, owner = shapely.get_coordinates(graph.edge_geometry, return_index=True)
    counts = np.bincount(owner, minlength=graph.n_edges)
    return (graph.node_xy, graph.edge_u, graph.edge_v, coords, counts, graph.crs.to_wkt(),
            graph.joinable, shapely.get_coordinates(fac_pts),
            shapely.get_coordinates(dem_pts), graph.costs)  # fmt: skip


def _unpack(packed: tuple):
    import pyproj

    node_xy, u, v, coords, counts, wkt, joinable, fac_xy, dem_xy, costs = packed
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(counts)), counts))
    g = graph_from_edges(node_xy, u, v, lines, pyproj.CRS.from_wkt(wkt), keep_largest=False,
                         source="tile", snap_ok=joinable)  # fmt: skip
    g = _costs_of(g, costs, np.ones(len(u), dtype=bool))
    return g, shapely.points(fac_xy), shapely.points(dem_xy)


def _tile_task(args: tuple) -> tuple:
    """One tile, self-contained for a Dask worker: (inputs) → (tile index arrays, output)."""
    packed, fac_idx, fac_cat, own_fac, dem_idx, limits, max_snap, bound, groups = args
    sub, fac_pts, dem_pts = _unpack(packed)
    inp = EngineInput(sub, fac_pts, fac_cat, dem_pts, limits, max_snap, unbounded=True,
                      groups=groups)  # fmt: skip
    r = compute(inp, bound_m=bound, catchment_of=own_fac)
    r.catchments = shapely.to_wkb(r.catchments)  # bytes travel back fast
    return fac_idx, dem_idx, own_fac, r


def compute_tiled(
    inp: EngineInput,
    tiles: np.ndarray,
    demand_tile: np.ndarray,
    facility_tile: np.ndarray,
    buffer_m: float,
    *,
    submit: Callable | None = None,
) -> EngineOutput:
    """Run the searches tile by tile and merge the results.

    Parameters
    ----------
    inp : EngineInput
    tiles : array of Polygon
        Tile shapes (metric CRS), e.g. districts.
    demand_tile, facility_tile : arrays of int
        The tile each demand point / facility belongs to (its results come from that tile).
    buffer_m : float
        Searches extend this far around each tile (metres, equivalent metres on a graph with
        costs: the tile's area reaches as far as that cost can go in a straight line); at
        least the largest threshold.
    submit : callable, optional
        ``submit(fn, args) -> future`` (e.g. ``dask.distributed.Client.submit``); futures
        must have ``.result()``. Default: run tiles one after another.
    """
    n_f, n_d = len(inp.facility_points), len(inp.demand_points)
    out = EngineOutput(facility_ok=np.zeros(n_f, bool), demand_ok=np.zeros(n_d, bool))
    out.catchments = np.array([shapely.Polygon()] * n_f, dtype=object)
    for cat in [*inp.limits, *inp.groups]:
        out.distance_m[cat] = np.full(n_d, np.inf)
        out.nearest[cat] = np.full(n_d, -1, dtype=np.int64)
    pair_parts: dict[str, list] = {cat: [] for cat in inp.limits}
    jobs = []
    for t, tile in enumerate(tiles):
        dem_idx = np.flatnonzero(demand_tile == t)
        own = facility_tile == t
        if len(dem_idx) == 0 and not own.any():
            continue
        area = shapely.buffer(tile, inp.graph.reach_m(buffer_m))
        fac_in = shapely.contains_xy(area, shapely.get_x(inp.facility_points),
                                     shapely.get_y(inp.facility_points))  # fmt: skip
        fac_idx = np.flatnonzero(fac_in | own)
        sub = subgraph(inp.graph, area)
        packed = _pack(sub, inp.facility_points[fac_idx], inp.demand_points[dem_idx])
        args = (packed, fac_idx, inp.facility_category[fac_idx], own[fac_idx], dem_idx,
                inp.limits, inp.max_snap_m, buffer_m,
                {k: m[fac_idx] for k, m in inp.groups.items()})  # fmt: skip
        jobs.append(submit(_tile_task, args) if submit else _tile_task(args))
        logger.info("tile %d: %d nodes, %d facilities, %d demand points", t, sub.n_nodes,
                    len(fac_idx), len(dem_idx))  # fmt: skip
    for job in jobs:
        fac_idx, dem_idx, own_fac, r = job.result() if submit else job
        out.demand_ok[dem_idx] = r.demand_ok
        out.facility_ok[fac_idx[own_fac]] = r.facility_ok[own_fac]
        out.catchments[fac_idx[own_fac]] = shapely.from_wkb(r.catchments[own_fac])
        for cat in [*inp.limits, *inp.groups]:
            out.distance_m[cat][dem_idx] = r.distance_m[cat]
            which = r.nearest[cat]
            out.nearest[cat][dem_idx] = np.where(which >= 0, fac_idx[np.maximum(which, 0)], -1)
        for cat in inp.limits:
            di, fj, d = r.pairs[cat]
            pair_parts[cat].append((dem_idx[di], fac_idx[fj], d))
    for cat, parts in pair_parts.items():
        if parts:
            out.pairs[cat] = tuple(np.concatenate(x) for x in zip(*parts, strict=True))
        else:
            out.pairs[cat] = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    return out
