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
    """Snap points to their nearest edge (not node).

    Parameters
    ----------
    graph : WalkGraph
    points : array of shapely.Point
        In ``graph.crs`` (metres).
    max_snap_m : float
        Points farther than this (metres) from every edge get ``edge = -1``.
    """
    points = np.asarray(points, dtype=object)
    tree = shapely.STRtree(graph.edge_geometry)
    (pi, ei), dist = tree.query_nearest(
        points, max_distance=max_snap_m, return_distance=True, all_matches=False
    )
    edge = np.full(len(points), -1, dtype=np.int64)
    leg = np.full(len(points), np.nan)
    offset = np.full(len(points), np.nan)
    edge[pi] = ei
    leg[pi] = dist
    offset[pi] = shapely.line_locate_point(graph.edge_geometry[ei], points[pi])
    return Snap(edge=edge, offset_m=offset, leg_m=leg)
