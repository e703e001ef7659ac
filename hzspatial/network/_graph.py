"""The array walking graph: nodes, edges, CSR adjacency, connected components."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from hzspatial.errors import DataWarning, InputError

__all__ = ["NODE_TOLERANCE_M", "TravelCosts", "WalkGraph", "graph_from_edges", "graph_from_lines",
           "with_costs"]

logger = logging.getLogger(__name__)

#: Endpoints closer than this (metres) are the same junction.
NODE_TOLERANCE_M = 0.5
#: Zero-length edges would vanish from a sparse matrix: they weigh 1 mm instead.
_MIN_WEIGHT_M = 1e-3


@dataclass(frozen=True)
class TravelCosts:
    """Direction-dependent costs of a graph's edges (see :mod:`hzspatial.network.costs`).

    Costs are *equivalent metres*: seconds of travel × the reference speed, so a threshold of
    ``minutes`` is ``minutes × speed`` metres as for flat walking, and flat streets walked at
    the reference speed cost their length.

    Attributes
    ----------
    edge_cost : ndarray, shape (m, 2)
        Per edge, equivalent metres from ``edge_u`` to ``edge_v`` and back; ``inf`` where the
        mode may not go that way (one-way streets, footways by car).
    mode : str
        ``walk``, ``bike``, ``ebike`` or ``car``.
    speed_kmh : float
        Reference speed (km/h): what one equivalent metre per 1/speed hour means.
    dem : str
        The elevation model the costs came from ("" without one).
    summary : dict
        What the costs took into account (DEM samples, bridges, steps, one-way streets …),
        for summaries.
    """

    edge_cost: np.ndarray
    mode: str
    speed_kmh: float
    dem: str = ""
    summary: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WalkGraph:
    """A street network in a metric CRS: undirected lengths, and optionally directed costs.

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
        Entry (i, j) is the cheapest way to go from j to i along one edge: its length in
        metres (symmetric) without :attr:`costs`, else equivalent metres. A search *from*
        facilities over it gives every node its cost *to reach* them: trips home → facility.
    node_id : ndarray of int64, optional
        Source ids of the nodes (OSM node ids) when the input had them.
    dropped_nodes, dropped_length_m : int, float
        Nodes and street length removed as disconnected pieces.
    labels : tuple of str
        Provenance labels found in the input (its ``source`` attribute).
    snap_ok : ndarray of bool, shape (m,), optional
        Edges a home or facility may join (see :mod:`hzspatial.network.rules`); None: all.
        Excluded edges (tunnels, steps …) are still walked.
    edge_tags : dict, optional
        Per edge, what the costs of travel modes and slope need (:mod:`.costs`):
        ``highway`` (str), ``structure`` (0 ground, 1 bridge, 2 tunnel), ``oneway`` (1 along
        the geometry, −1 against it, 0 both ways), ``maxspeed`` (km/h, NaN unknown).
    costs : TravelCosts, optional
        Directed costs (None: flat walking, costs = lengths).
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
    snap_ok: np.ndarray | None = field(default=None, repr=False)
    edge_tags: dict[str, np.ndarray] | None = field(default=None, repr=False)
    costs: TravelCosts | None = field(default=None, repr=False)

    def cost_per_m(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per edge of ``edges``: equivalent metres per metre walked along it from ``edge_u``
        towards ``edge_v``, and back (1 without :attr:`costs`; ``inf`` where not allowed).
        A part of a street costs its share of the whole street's cost."""
        if self.costs is None:
            one = np.ones(len(np.atleast_1d(edges)))
            return one, one
        c = self.costs.edge_cost[edges]
        length = np.maximum(self.edge_length[edges], _MIN_WEIGHT_M)
        return c[..., 0] / length, c[..., 1] / length

    @cached_property
    def least_cost_per_m(self) -> float:
        """The lowest cost per metre anywhere (legs to streets are walked: 1): a cost of
        ``c`` never takes one farther than ``c / least_cost_per_m`` metres in a straight
        line."""
        if self.costs is None:
            return 1.0
        k = self.costs.edge_cost / np.maximum(self.edge_length, _MIN_WEIGHT_M)[:, None]
        k = k[np.isfinite(k)]
        return float(min(k.min(initial=1.0), 1.0))

    def reach_m(self, cost: float) -> float:
        """Straight-line metres a travel cost of ``cost`` equivalent metres can cover."""
        return float(cost) / self.least_cost_per_m

    def reversed(self) -> WalkGraph:
        """The same graph with each edge's two directions swapped: searches over it give
        trips *from* their sources (a proposed district's homes going out)."""
        if self.costs is None:
            return self
        c = self.costs.edge_cost[:, ::-1].copy()
        return replace(self, adjacency=self.adjacency.T.tocsr(),
                       costs=replace(self.costs, edge_cost=c))  # fmt: skip

    @cached_property
    def edge_geometry(self) -> np.ndarray:
        """Edge LineStrings in ``crs`` (straight segments built on first use when ``lines`` is
        None)."""
        if self.lines is not None:
            return self.lines
        return shapely.linestrings(
            np.stack([self.node_xy[self.edge_u], self.node_xy[self.edge_v]], axis=1)
        )

    @cached_property
    def snap_tree(self) -> tuple[np.ndarray, shapely.STRtree]:
        """The joinable edges' indices and a search tree of their geometries (built once:
        every snap of homes, facilities and the datum checks queries it)."""
        allowed = np.flatnonzero(self.joinable)
        return allowed, shapely.STRtree(self.edge_geometry[allowed])

    @property
    def joinable(self) -> np.ndarray:
        """Per edge, whether homes and facilities may join it (:attr:`snap_ok`, all when
        None)."""
        return np.ones(self.n_edges, dtype=bool) if self.snap_ok is None else self.snap_ok

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


def adjacency_matrix(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray,
                     w_back: np.ndarray | None = None) -> sp.csr_matrix:  # fmt: skip
    """CSR (n × n) keeping the minimum weight per node pair: symmetric (metres), or with
    ``w_back`` the cost from ``v`` to ``u`` (entry (i, j) = the cost from j to i; ``inf``
    weights left out)."""
    a = np.concatenate([v, u]).astype(np.int64)
    b = np.concatenate([u, v]).astype(np.int64)
    ww = np.concatenate([w, w if w_back is None else w_back])
    if w_back is not None:
        fin = np.isfinite(ww)
        a, b, ww = a[fin], b[fin], ww[fin]
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


#: Dropping disconnected pieces holding more than this share of the street length is a
#: warning (a half-connected network analysed as half the area), not only a log line.
DROPPED_WARN_SHARE = 0.10


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
    snap_ok: np.ndarray | None = None,
    tags: dict[str, np.ndarray] | None = None,
) -> WalkGraph:
    """Build a :class:`WalkGraph` from nodes and edges.

    Self-loops (a closed footway meeting the network at one node) with a geometry are kept
    as streets to join; they never shorten a path, so the adjacency leaves them out.

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
    snap_ok : ndarray of bool, optional
        Per input edge: whether homes and facilities may join it (default all).
    tags : dict of arrays, optional
        Per input edge: :attr:`WalkGraph.edge_tags`.
    """
    tags = None if tags is None else {k: np.asarray(x) for k, x in tags.items()}
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keep = u != v
    if lines is not None:  # a loop with a geometry is a street; without one it is nothing
        lines = np.asarray(lines, dtype=object)
        keep |= shapely.length(lines) > 0
        lines = lines[keep]
    u, v = u[keep], v[keep]
    if snap_ok is not None:
        snap_ok = np.asarray(snap_ok, dtype=bool)[keep]
    if tags is not None:
        tags = {k: x[keep] for k, x in tags.items()}
    if (u == v).all():
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
        node_keep, dropped_nodes, dropped_len = _largest_piece(used, u, v, length, xy, source)
        edge_keep = node_keep[u]
        if not edge_keep.all():
            u, v, length = u[edge_keep], v[edge_keep], length[edge_keep]
            lines = lines[edge_keep] if lines is not None else None
            snap_ok = snap_ok[edge_keep] if snap_ok is not None else None
            tags = None if tags is None else {k: x[edge_keep] for k, x in tags.items()}
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
        adjacency=_adjacency(n, u, v, length),
        node_id=None if node_id is None else np.asarray(node_id)[node_keep],
        dropped_nodes=dropped_nodes if keep_largest else 0,
        dropped_length_m=dropped_len,
        snap_ok=None if snap_ok is None or snap_ok.all() else snap_ok,
        edge_tags=tags,
    )


def with_costs(graph: WalkGraph, costs: TravelCosts | None) -> WalkGraph:
    """``graph`` searched on ``costs`` (directed), or on its lengths again (None)."""
    loop = graph.edge_u == graph.edge_v
    u, v = graph.edge_u[~loop], graph.edge_v[~loop]
    if costs is None:
        adj = adjacency_matrix(graph.n_nodes, u, v, graph.edge_length[~loop])
    else:
        c = costs.edge_cost[~loop]
        adj = adjacency_matrix(graph.n_nodes, u, v, c[:, 0], c[:, 1])
    return replace(graph, adjacency=adj, costs=costs)


def _largest_piece(used: np.ndarray, u: np.ndarray, v: np.ndarray, length: np.ndarray,
                   xy: np.ndarray, source: str) -> tuple[np.ndarray, int, float]:  # fmt: skip
    """The nodes of the largest connected piece, the nodes dropped and their street length
    (metres); what is dropped is logged, and warned about when over
    :data:`DROPPED_WARN_SHARE` of the street length."""
    n = len(used)
    ncomp, labels = connected_components(_adjacency(n, u, v, length), directed=False)
    if ncomp == 1:
        return used, int((~used).sum()), 0.0
    sizes = np.bincount(labels[used], minlength=ncomp)
    big = int(sizes.argmax())
    node_keep = used & (labels == big)
    dropped_pieces = int((sizes > 0).sum()) - 1
    dropped_nodes = int((used & ~node_keep).sum())
    dropped_len = float(length[~node_keep[u]].sum())
    if dropped_pieces:
        share = dropped_len / length.sum()
        # where: the largest dropped piece's extent, in the graph's coordinates
        by_len = np.bincount(labels[u], weights=length, minlength=ncomp)
        by_len[big] = -1
        second = labels == int(by_len.argmax())
        x0, y0 = xy[second].min(axis=0)
        x1, y1 = xy[second].max(axis=0)
        text = (f"{source}: kept the largest connected piece; dropped "
                f"{dropped_pieces} disconnected pieces ({dropped_nodes} nodes, "
                f"{dropped_len / 1000:.1f} km = {100 * share:.1f}% of street length; "
                f"the largest, {by_len.max() / 1000:.1f} km, spans x {x0:.5g}–{x1:.5g}"
                f", y {y0:.5g}–{y1:.5g})")  # fmt: skip
        if share > DROPPED_WARN_SHARE:
            warnings.warn(f"{text} — residents and facilities there are not reached; "
                          "join the pieces (a missing bridge or crossing?) or check "
                          "the network's coordinate system", DataWarning,
                          stacklevel=4)  # fmt: skip
        else:
            logger.warning("%s", text)
    return node_keep, dropped_nodes, dropped_len


def _adjacency(n: int, u: np.ndarray, v: np.ndarray, length: np.ndarray) -> sp.csr_matrix:
    """The search graph: shortest edge per node pair, self-loops left out."""
    loop = u == v
    if loop.any():
        return adjacency_matrix(n, u[~loop], v[~loop], length[~loop])
    return adjacency_matrix(n, u, v, length)


def _cluster(ends: np.ndarray, length: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Line ends → junctions: (junction of each end, first end of each junction).

    ``ends`` holds the m lines' first points, then their last points; ``length`` the lines'
    lengths (metres). Ends at the same coordinates are one junction. A *dangling* end (no
    other line ends there) joins the nearest end within ``tol`` metres that short lines
    (< 2 ``tol``) do not already connect it to: that closes the small gaps of drawn layers.
    Places where lines do meet are never merged, and a curve drawn as segments shorter than
    ``tol`` keeps its length.
    """
    from scipy.spatial import cKDTree  # loaded here: ~0.1 s that most runs do not need

    _, first, same = np.unique(ends, axis=0, return_index=True, return_inverse=True)
    same = same.ravel()
    u = ends[first]
    k, m = len(u), len(length)
    pairs = cKDTree(u).query_pairs(tol, output_type="ndarray")
    dangling = np.bincount(same, minlength=k) == 1
    if len(pairs):
        short = length < 2 * tol
        chain = sp.coo_matrix((np.ones(int(short.sum())), (same[:m][short], same[m:][short])),
                              shape=(k, k))  # fmt: skip
        piece = connected_components(chain, directed=False)[1]
        a = np.concatenate([pairs[:, 0], pairs[:, 1]])
        b = np.concatenate([pairs[:, 1], pairs[:, 0]])
        on = dangling[a] & (piece[a] != piece[b])
        a, b = a[on], b[on]
        d = np.hypot(*(u[a] - u[b]).T)
        order = np.lexsort((b, d, a))  # per dangling end: the nearest (then lowest) other end
        a, b = a[order], b[order]
        nearest = np.r_[True, a[1:] != a[:-1]] if len(a) else np.zeros(0, dtype=bool)
        pairs = np.column_stack([a[nearest], b[nearest]])
    if len(pairs) == 0:
        return same, first
    link = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(k, k))
    n_clusters, label = connected_components(link, directed=False)
    logger.info("closed %d gaps of less than %g m between line ends", len(pairs), tol)
    rep = np.full(n_clusters, len(ends), dtype=np.int64)
    np.minimum.at(rep, label, first)  # each junction's first end in the input
    rank = np.argsort(np.argsort(rep))  # junctions numbered in input order
    return rank[label][same], np.sort(rep)


def graph_from_lines(
    lines: np.ndarray,
    crs: pyproj.CRS,
    *,
    keep_largest: bool = True,
    source: str = "lines",
    snap_ok: np.ndarray | None = None,
    tags: dict[str, np.ndarray] | None = None,
) -> WalkGraph:
    """Build a :class:`WalkGraph` from street segments joined at shared endpoints.

    Each LineString must run between junctions (see
    :func:`hzspatial.network.centerlines.node_lines` to split crossing lines first).
    Ends at the same place are one node; a dangling end within :data:`NODE_TOLERANCE_M`
    metres of other ends joins the nearest (see :func:`_cluster`).
    ``snap_ok`` (per line) marks the lines homes and facilities may join (default all);
    ``tags`` (per line) are kept as :attr:`WalkGraph.edge_tags`.
    """
    lines = np.asarray(lines, dtype=object)
    usable = ~shapely.is_empty(lines) & (shapely.length(lines) > 0)
    lines = lines[usable]
    if snap_ok is not None:
        snap_ok = np.asarray(snap_ok, dtype=bool)[usable]
    if tags is not None:
        tags = {k: np.asarray(x)[usable] for k, x in tags.items()}
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
    inverse, rep = _cluster(ends, shapely.length(lines), NODE_TOLERANCE_M)
    m = len(lines)
    return graph_from_edges(
        ends[rep], inverse[:m], inverse[m:], lines, crs, keep_largest=keep_largest,
        source=source, snap_ok=snap_ok, tags=tags,
    )  # fmt: skip
