"""Snapping points to the nearest edge of a walking graph."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from hzspatial.network._graph import WalkGraph

__all__ = ["Snap", "snap_points", "MAX_SNAP_M"]

#: Default maximum distance (metres) from a point to the network when snapping.
MAX_SNAP_M = 300.0


@dataclass(frozen=True)
class Snap:
    """Points snapped to graph edges.

    Attributes
    ----------
    edge : ndarray of int
        Edge index per point (−1 where the point is beyond the snap distance).
    offset_m : ndarray of float
        Distance along the edge from ``edge_u`` to the snapped position (metres).
    leg_m : ndarray of float
        Straight-line distance from the point to the network (metres).
    """

    edge: np.ndarray
    offset_m: np.ndarray
    leg_m: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """True for points within the snap distance."""
        return self.edge >= 0

    def take(self, index: np.ndarray) -> Snap:
        """The snaps of a subset of the points (index array or boolean mask)."""
        return Snap(self.edge[index], self.offset_m[index], self.leg_m[index])


def snap_points(graph: WalkGraph, points: np.ndarray, max_snap_m: float = MAX_SNAP_M) -> Snap:
    """Snap points to their nearest edge (not node) that may be joined.

    Edges the snapping rules exclude (``graph.snap_ok``: tunnels, steps …) are skipped: a
    point beside one joins the nearest allowed edge within ``max_snap_m``. Ties (equal
    distances) go to the lowest edge index, so the same input always snaps the same way.

    Parameters
    ----------
    graph : WalkGraph
    points : array of shapely.Point
        In ``graph.crs`` (metres).
    max_snap_m : float
        Points farther than this (metres) from every allowed edge get ``edge = -1``.
    """
    points = np.asarray(points, dtype=object)
    if graph.lines is None and len(points) and "edge_geometry" not in graph.__dict__:
        return _snap_straight(graph, shapely.get_coordinates(points), max_snap_m)
    allowed, tree = graph.snap_tree
    # the nearest edge of every point, then those too far dropped: given max_distance, GEOS
    # first gathers every edge in a box that size around each point (3-4× slower here)
    (pi, ei), dist = tree.query_nearest(points, return_distance=True, all_matches=True)
    near = dist <= max_snap_m
    pi, ei, dist = pi[near], allowed[ei[near]], dist[near]
    order = np.lexsort((ei, pi))  # equidistant edges: the lowest index
    pi, ei, dist = pi[order], ei[order], dist[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, dtype=bool)
    pi, ei, dist = pi[first], ei[first], dist[first]
    edge = np.full(len(points), -1, dtype=np.int64)
    leg = np.full(len(points), np.nan)
    offset = np.full(len(points), np.nan)
    edge[pi] = ei
    leg[pi] = dist
    offset[pi] = shapely.line_locate_point(graph.edge_geometry[ei], points[pi])
    return Snap(edge=edge, offset_m=_at_ends(offset, graph, edge), leg_m=leg)


#: A point this close (metres) to an end of its street is at that end: a junction's point,
#: after a round trip through degrees, lands a nanometre into one of its streets — on a
#: one-way street, the wrong way in (a car would go round the block to reach it).
END_TOLERANCE_M = 1e-3


def _at_ends(offset: np.ndarray, graph: WalkGraph, edge: np.ndarray) -> np.ndarray:
    """Offsets within :data:`END_TOLERANCE_M` of either end of their edge put on that end."""
    length = graph.edge_length[np.maximum(edge, 0)]
    out = np.where(offset <= END_TOLERANCE_M, 0.0, offset)
    return np.where(length - out <= END_TOLERANCE_M, length, out)


#: Most (point, edge) candidates a sweep over the midpoints' x order may gather; beyond it a
#: k-d tree (whose import alone costs ~0.1 s) finds them.
SWEEP_CANDIDATES = 2_000_000


def _near_midpoints(mid: np.ndarray, xy: np.ndarray, radius: float):
    """(point, midpoint) index pairs with the midpoint within ``radius`` of the point on both
    axes (a superset of the disc: exact distances choose afterwards)."""
    if not len(mid) or not len(xy):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    x0 = float(mid[:, 0].min())
    width = float(mid[:, 0].max()) - x0 or 1.0
    n_bins = int(width // radius) + 1
    if (n_bins < np.iinfo(np.int16).max
            and len(xy) * len(mid) * min(1.0, 3 * radius / width) <= SWEEP_CANDIDATES):
        # midpoints in x strips ``radius`` wide (small integer keys: a linear radix sort);
        # a point's candidates are in its strip and the two beside it
        keys = ((mid[:, 0] - x0) // radius).astype(np.int16)
        order = np.argsort(keys, kind="stable")
        starts = np.r_[0, np.cumsum(np.bincount(keys, minlength=n_bins))]
        b = np.floor((xy[:, 0] - x0) / radius)
        lo = starts[np.clip(b - 1, 0, n_bins).astype(np.int64)]
        counts = starts[np.clip(b + 2, 0, n_bins).astype(np.int64)] - lo
        pi = np.repeat(np.arange(len(xy)), counts)
        at = np.repeat(lo - np.cumsum(np.r_[0, counts[:-1]]), counts) + np.arange(counts.sum())
        ei = order[at]
        keep = (np.abs(mid[ei, 1] - xy[pi, 1]) <= radius) & (np.abs(mid[ei, 0] - xy[pi, 0])
                                                              <= radius)  # fmt: skip
        return pi[keep], ei[keep]
    from scipy.spatial import cKDTree  # loaded here: ~0.1 s that most runs do not need

    # built for one query: an unbalanced tree builds 2-3× faster, queries as fast
    tree = cKDTree(mid, balanced_tree=False, compact_nodes=False)
    cand = tree.query_ball_point(xy, radius)
    counts = np.fromiter((len(c) for c in cand), dtype=np.int64, count=len(xy))
    pi = np.repeat(np.arange(len(xy)), counts)
    ei = np.fromiter((e for c in cand for e in c), dtype=np.int64, count=int(counts.sum()))
    return pi, ei


def _snap_straight(graph: WalkGraph, xy: np.ndarray, max_snap_m: float) -> Snap:
    """Nearest straight edge of an edge-list graph without building geometries.

    A segment within ``r`` of a point has its midpoint within ``r`` plus half its length on
    both axes, so midpoints near the point give every candidate; exact point–segment distances
    pick the nearest (ties: the lowest edge index, like the STRtree path). Candidates are first
    gathered close (:data:`FIRST_SNAP_M`): a point whose nearest edge lies within that is
    done — no edge left out can be as near — and only the others are searched to ``max_snap_m``.
    """
    a, b = graph.node_xy[graph.edge_u], graph.node_xy[graph.edge_v]
    allowed = np.flatnonzero(graph.joinable)
    mid = (a[allowed] + b[allowed]) / 2
    half = float(graph.edge_length[allowed].max(initial=0)) / 2
    edge = np.full(len(xy), -1, dtype=np.int64)
    leg = np.full(len(xy), np.nan)
    t = np.full(len(xy), np.nan)
    todo = np.arange(len(xy))
    for reach in dict.fromkeys((min(FIRST_SNAP_M, max_snap_m), max_snap_m)):
        pi, ei, ti, dist = _nearest_segments(a, b, allowed, mid, xy[todo], reach + half)
        ok = dist <= reach
        done = todo[pi[ok]]
        edge[done], leg[done], t[done] = ei[ok], dist[ok], ti[ok]
        todo = np.setdiff1d(todo, done)
        if not len(todo):
            break
    offset = np.where(edge >= 0, t * graph.edge_length[np.maximum(edge, 0)], np.nan)
    return Snap(edge=edge, offset_m=_at_ends(offset, graph, edge), leg_m=leg)


#: First reach (metres) of :func:`_snap_straight`: most points lie this near a street, and a
#: close search gathers a fraction of the candidates of one to ``max_snap_m``.
FIRST_SNAP_M = 40.0


def _nearest_segments(a, b, allowed, mid, xy, radius):
    """Per point of ``xy`` with a midpoint of an ``allowed`` segment (ends ``a``, ``b``)
    within ``radius``: the point, its nearest such segment (the lowest index among equals),
    the position along it (0–1) and the distance (metres)."""
    pi, ei = _near_midpoints(mid, xy, radius)
    ei = allowed[ei]
    d = b[ei] - a[ei]
    len2 = (d**2).sum(axis=1)
    t = np.clip(((xy[pi] - a[ei]) * d).sum(axis=1) / np.where(len2 > 0, len2, 1.0), 0, 1)
    dist = np.hypot(*(a[ei] + t[:, None] * d - xy[pi]).T)
    order = np.lexsort((ei, dist, pi))
    pi, ei, t, dist = pi[order], ei[order], t[order], dist[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
    return pi[first], ei[first], t[first], dist[first]
