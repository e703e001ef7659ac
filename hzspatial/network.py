"""Walking networks as arrays: building the graph, components, snapping points to edges.

A :class:`WalkGraph` holds nodes and undirected edges in a metric projected CRS
(metres) and a symmetric CSR adjacency matrix (``scipy.sparse``) whose weights
are edge lengths in metres. Points (facilities, residents) are snapped to the
nearest *edge*, not node: the snap keeps the position along the edge and the
off-network leg, so distances are exact for mid-block locations.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from hzspatial import crs as _crs
from hzspatial.errors import InputError
from hzspatial.io import read_layer
from hzspatial.io._geometry import layer_to_wgs84

__all__ = ["WalkGraph", "Snap", "graph_from_lines", "read_network", "snap_points"]

logger = logging.getLogger(__name__)

#: Endpoints closer than this (metres) are the same junction.
NODE_TOLERANCE_M = 0.5
#: Default maximum distance (metres) from a point to the network when snapping.
MAX_SNAP_M = 300.0


@dataclass(frozen=True)
class WalkGraph:
    """An undirected walking network in a metric CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS of all coordinates (metres).
    node_xy : ndarray, shape (n, 2)
        Node coordinates in metres.
    edge_u, edge_v : ndarray of int, shape (m,)
        End nodes of each edge; ``edge_u`` is where the edge geometry starts.
    edge_length : ndarray of float, shape (m,)
        Edge lengths in metres (along the geometry).
    edge_geometry : ndarray of shapely.LineString, shape (m,)
        Edge geometries in ``crs``.
    adjacency : scipy.sparse.csr_matrix, shape (n, n)
        Symmetric; entry (i, j) is the shortest edge length between i and j (metres).
    dropped_nodes, dropped_length_m : int, float
        Nodes and street length removed as disconnected pieces.
    labels : tuple of str
        Provenance labels found in the input (its ``source`` attribute), e.g.
        ``("synthetic demo data",)``.
    """

    crs: pyproj.CRS
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    adjacency: sp.csr_matrix = field(repr=False)
    dropped_nodes: int = 0
    dropped_length_m: float = 0.0
    labels: tuple[str, ...] = ()

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame (``u``, ``v``, ``length_m``) in the graph's CRS."""
        return gpd.GeoDataFrame(
            {"u": self.edge_u, "v": self.edge_v, "length_m": self.edge_length},
            geometry=self.edge_geometry,
            crs=self.crs,
        )


def _adjacency(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """Symmetric CSR with the minimum weight per node pair (parallel edges collapse)."""
    a = np.concatenate([u, v])
    b = np.concatenate([v, u])
    ww = np.concatenate([w, w])
    order = np.lexsort((ww, b, a))
    a, b, ww = a[order], b[order], ww[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    # zero-length edges would vanish from a sparse matrix: keep them as 1 mm
    return sp.csr_matrix((np.maximum(ww[first], 1e-3), (a[first], b[first])), shape=(n, n))


def graph_from_lines(
    lines: np.ndarray, crs: pyproj.CRS, *, keep_largest: bool = True, source: str = "lines"
) -> WalkGraph:
    """Build a :class:`WalkGraph` from street-segment LineStrings in a metric CRS.

    Segments are joined where their endpoints coincide (within
    :data:`NODE_TOLERANCE_M`). Self-loops are dropped; parallel segments keep the
    shortest in the adjacency matrix.

    Parameters
    ----------
    lines : array of shapely.LineString
        Street segments, coordinates in metres.
    crs : pyproj.CRS
        Their projected CRS.
    keep_largest : bool
        Keep only the largest connected piece (reported in the log and on the graph).
    source : str
        Name used in messages.
    """
    lines = np.asarray(lines, dtype=object)
    lines = lines[~shapely.is_empty(lines) & (shapely.length(lines) > 0)]
    if len(lines) == 0:
        raise InputError(
            "no street segments with a length",
            file=source,
            hint="check that the layer holds line geometries",
        )
    start = shapely.get_coordinates(shapely.get_point(lines, 0))
    end = shapely.get_coordinates(shapely.get_point(lines, -1))
    keys = np.round(np.vstack([start, end]) / NODE_TOLERANCE_M).astype(np.int64)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    m = len(lines)
    u, v = inverse[:m], inverse[m:]
    node_xy = np.zeros((len(uniq), 2))
    node_xy[inverse] = np.vstack([start, end])
    keep = u != v
    u, v, lines = u[keep], v[keep], lines[keep]
    length = shapely.length(lines)
    n = len(uniq)
    dropped_nodes, dropped_len = 0, 0.0
    if keep_largest:
        adj = _adjacency(n, u, v, length)
        ncomp, labels = connected_components(adj, directed=False)
        if ncomp > 1:
            big = np.bincount(labels).argmax()
            node_keep = labels == big
            edge_keep = node_keep[u]
            dropped_nodes = int((~node_keep).sum())
            dropped_len = float(length[~edge_keep].sum())
            logger.warning(
                "%s: kept the largest connected piece; dropped %d disconnected pieces "
                "(%d nodes, %.1f km = %.1f%% of street length)",
                source,
                ncomp - 1,
                dropped_nodes,
                dropped_len / 1000,
                100 * dropped_len / length.sum(),
            )
            new_id = np.cumsum(node_keep) - 1
            u, v = new_id[u[edge_keep]], new_id[v[edge_keep]]
            lines, length = lines[edge_keep], length[edge_keep]
            node_xy = node_xy[node_keep]
            n = len(node_xy)
    return WalkGraph(
        crs=crs,
        node_xy=node_xy,
        edge_u=u.astype(np.int64),
        edge_v=v.astype(np.int64),
        edge_length=length,
        edge_geometry=lines,
        adjacency=_adjacency(n, u, v, length),
        dropped_nodes=dropped_nodes,
        dropped_length_m=dropped_len,
    )


def read_network(
    path: str | Path, *, crs_in: _crs.CrsIn | None = None, metric: pyproj.CRS | None = None
) -> WalkGraph:
    """Read a road centre-line layer (GeoJSON / GeoPackage / Shapefile) as a walking graph.

    Each feature should be a street segment between junctions (as exported from
    OpenStreetMap tools or the demo data); multi-part lines are split.

    Parameters
    ----------
    path : str or Path
        Line layer.
    crs_in : optional
        Override of the layer's CRS (``gcj02`` / ``bd09`` / EPSG code).
    metric : pyproj.CRS, optional
        Projected CRS for the graph; default the UTM zone of the layer
        (:func:`hzspatial.crs.metric_crs`).
    """
    path_s = str(path)
    gdf = layer_to_wgs84(read_layer(path), crs_in, path_s)
    geoms = shapely.get_parts(gdf.geometry.to_numpy())
    is_line = shapely.get_type_id(geoms) == 1
    if not is_line.any():
        raise InputError(
            "no line geometries (streets) in the layer",
            file=path_s,
            column="geometry",
            hint="pass a road centre-line layer",
        )
    geoms = geoms[is_line]
    c = shapely.get_coordinates(geoms)
    target = metric or _crs.metric_crs(c[:, 0], c[:, 1])
    projected = gpd.GeoSeries(geoms, crs=4326).to_crs(target).to_numpy()
    graph = graph_from_lines(projected, target, source=path_s)
    if "source" in gdf.columns:
        labels = tuple(sorted({str(x) for x in gdf["source"].dropna().unique() if str(x)}))
        graph = dataclasses.replace(graph, labels=labels)
    logger.info(
        "%s: %d nodes, %d edges, %.1f km of streets (%s)",
        path_s,
        graph.n_nodes,
        graph.n_edges,
        graph.edge_length.sum() / 1000,
        target.name,
    )
    return graph


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


def snap_points(graph: WalkGraph, points: np.ndarray, max_snap_m: float = MAX_SNAP_M) -> Snap:
    """Snap points (shapely, in the graph's CRS) to their nearest edge.

    Parameters
    ----------
    graph : WalkGraph
    points : array of shapely.Point
        In ``graph.crs`` (metres).
    max_snap_m : float
        Points farther than this from every edge get ``edge = -1``.
    """
    points = np.asarray(points, dtype=object)
    tree = shapely.STRtree(graph.edge_geometry)
    (pi, ei), dist = tree.query_nearest(
        points, max_distance=max_snap_m, return_distance=True, all_matches=False
    )
    edge = np.full(len(points), -1, dtype=np.int64)
    leg = np.full(len(points), np.nan)
    edge[pi] = ei
    leg[pi] = dist
    offset = np.full(len(points), np.nan)
    offset[pi] = shapely.line_locate_point(graph.edge_geometry[ei], points[pi])
    return Snap(edge=edge, offset_m=offset, leg_m=leg)
