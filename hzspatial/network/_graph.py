"""The array walking graph: nodes, edges, CSR adjacency, connected components."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from hzspatial.errors import InputError

__all__ = ["WalkGraph", "graph_from_edges", "graph_from_lines", "NODE_TOLERANCE_M"]

logger = logging.getLogger(__name__)

#: Endpoints closer than this (metres) are the same junction.
NODE_TOLERANCE_M = 0.5
#: Zero-length edges would vanish from a sparse matrix: they weigh 1 mm instead.
_MIN_WEIGHT_M = 1e-3


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
    lines : ndarray of shapely.LineString or None
        Edge geometries in ``crs``; None for straight segments between the nodes (an edge
        list), created only when something needs them (see :attr:`edge_geometry`).
    adjacency : scipy.sparse.csr_matrix, shape (n, n)
        Symmetric; entry (i, j) is the shortest edge length between i and j (metres).
    node_id : ndarray of int64, optional
        Source ids of the nodes (OSM node ids) when the input had them.
    dropped_nodes, dropped_length_m : int, float
        Nodes and street length removed as disconnected pieces.
    labels : tuple of str
        Provenance labels found in the input (its ``source`` attribute).
    """

    crs: pyproj.CRS
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    lines: np.ndarray | None = field(repr=False)
    adjacency: sp.csr_matrix = field(repr=False)
    node_id: np.ndarray | None = field(default=None, repr=False)
    dropped_nodes: int = 0
    dropped_length_m: float = 0.0
    labels: tuple[str, ...] = ()

    @cached_property
    def edge_geometry(self) -> np.ndarray:
        """Edge LineStrings in ``crs`` (straight segments built on first use when ``lines`` is
        None)."""
        if self.lines is not None:
            return self.lines
        return shapely.linestrings(
            np.stack([self.node_xy[self.edge_u], self.node_xy[self.edge_v]], axis=1)
        )

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


def adjacency_matrix(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """Symmetric CSR (n × n) keeping the minimum weight per node pair (metres)."""
    a = np.concatenate([u, v]).astype(np.int64)
    b = np.concatenate([v, u]).astype(np.int64)
    ww = np.concatenate([w, w])
    key = a * n + b
    order = np.argsort(key, kind="stable")
    key, ww = key[order], ww[order]
    first = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(first)
    weight = np.minimum.reduceat(ww, starts) if len(starts) else ww
    key = key[starts]
    rows, cols = key // n, key % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if n < 2**31 else np.int64
    m = sp.csr_matrix(
        (np.maximum(weight, _MIN_WEIGHT_M), cols.astype(idx_dtype), indptr), shape=(n, n)
    )
    m.has_sorted_indices = True
    return m


def graph_from_edges(
    node_xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    lines: np.ndarray | None,
    crs: pyproj.CRS,
    *,
    node_id: np.ndarray | None = None,
    keep_largest: bool = True,
    source: str = "network",
) -> WalkGraph:
    """Build a :class:`WalkGraph` from nodes and edges (self-loops dropped).

    Parameters
    ----------
    node_xy : ndarray (n, 2)
        Node coordinates in metres.
    u, v : ndarray of int
        Edge end nodes; ``lines[i]`` runs from ``u[i]`` to ``v[i]``.
    lines : ndarray of LineString or None
        Edge geometries in ``crs`` (metres); None for straight segments between the nodes
        (lengths from the coordinates, geometries built only if needed).
    crs : pyproj.CRS
        Projected CRS.
    node_id : ndarray, optional
        Source node ids kept on the graph.
    keep_largest : bool
        Keep only the largest connected piece; what is dropped is logged and recorded.
    source : str
        Name used in messages.
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keep = u != v
    u, v = u[keep], v[keep]
    if lines is not None:
        lines = np.asarray(lines, dtype=object)[keep]
    if len(u) == 0:
        raise InputError(
            "no street segments between distinct junctions",
            file=source,
            hint="check that the input holds connected street lines",
        )
    xy = np.asarray(node_xy, dtype=float)
    length = (shapely.length(lines) if lines is not None
              else np.hypot(*(xy[u] - xy[v]).T))  # fmt: skip
    n = len(node_xy)
    used = np.zeros(n, dtype=bool)
    used[u] = used[v] = True
    dropped_nodes, dropped_len = int((~used).sum()), 0.0
    node_keep = used
    if keep_largest:
        ncomp, labels = connected_components(adjacency_matrix(n, u, v, length), directed=False)
        if ncomp > 1:
            sizes = np.bincount(labels[used], minlength=ncomp)
            big = int(sizes.argmax())
            node_keep = used & (labels == big)
            edge_keep = node_keep[u]
            dropped_pieces = int((sizes > 0).sum()) - 1
            dropped_nodes = int((used & ~node_keep).sum())
            dropped_len = float(length[~edge_keep].sum())
            if dropped_pieces:
                logger.warning(
                    "%s: kept the largest connected piece; dropped %d disconnected pieces "
                    "(%d nodes, %.1f km = %.1f%% of street length)",
                    source, dropped_pieces, dropped_nodes, dropped_len / 1000,
                    100 * dropped_len / length.sum(),
                )  # fmt: skip
            u, v, length = u[edge_keep], v[edge_keep], length[edge_keep]
            lines = lines[edge_keep] if lines is not None else None
    new_id = np.cumsum(node_keep) - 1
    u, v = new_id[u], new_id[v]
    node_xy = np.asarray(node_xy, dtype=float)[node_keep]
    n = len(node_xy)
    return WalkGraph(
        crs=crs,
        node_xy=node_xy,
        edge_u=u,
        edge_v=v,
        edge_length=length,
        lines=lines,
        adjacency=adjacency_matrix(n, u, v, length),
        node_id=None if node_id is None else np.asarray(node_id)[node_keep],
        dropped_nodes=dropped_nodes if keep_largest else 0,
        dropped_length_m=dropped_len,
    )


def graph_from_lines(
    lines: np.ndarray, crs: pyproj.CRS, *, keep_largest: bool = True, source: str = "lines"
) -> WalkGraph:
    """Build a :class:`WalkGraph` from street segments joined at shared endpoints.

    Each LineString must run between junctions (see
    :func:`hzspatial.network.centerlines.node_lines` to split crossing lines first).
    Endpoints within :data:`NODE_TOLERANCE_M` metres are the same node.
    """
    lines = np.asarray(lines, dtype=object)
    lines = lines[~shapely.is_empty(lines) & (shapely.length(lines) > 0)]
    if len(lines) == 0:
        raise InputError(
            "no street segments with a length",
            file=source,
            hint="check that the layer holds line geometries",
        )
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    last = np.flatnonzero(np.r_[owner[1:] != owner[:-1], True])
    first = np.r_[0, last[:-1] + 1]
    ends = np.vstack([coords[first], coords[last]])
    grid = np.round(ends / NODE_TOLERANCE_M).astype(np.int64)
    grid -= grid.min(axis=0)
    key = grid[:, 0] * (int(grid[:, 1].max()) + 1) + grid[:, 1]  # one int per grid cell
    _, rep, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    m = len(lines)
    return graph_from_edges(
        ends[rep], inverse[:m], inverse[m:], lines, crs, keep_largest=keep_largest, source=source
    )
