"""Shortest walking distances to facilities and per-facility walking catchments.

Facilities sit on edges (see :func:`hzspatial.network.snap_points`). A
:class:`SourceGraph` extends the graph's CSR matrix with one virtual node per
facility, joined to its edge's two ends by ``leg + offset`` and
``leg + (length − offset)`` metres, so searches start exactly at the facility.

* Coverage: ONE multi-source Dijkstra per category (``scipy.sparse.csgraph``,
  ``min_only=True``) gives every node its distance to the nearest facility and
  which facility that is — never one search per facility.
* Catchments: bounded single-source searches; the polygon is built from the
  reached street segments (partial edges cut exactly at the remaining distance),
  buffered and dissolved, so it follows streets and never jumps a river.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from hzspatial.geometry import substrings
from hzspatial.network import Snap, WalkGraph

__all__ = [
    "CATCHMENT_BUFFER_M",
    "NearestFacility",
    "SourceGraph",
    "catchments_gdf",
    "demand_distances",
    "facility_catchments",
    "along",
    "facility_links",
    "facility_demand_pairs",
    "group_catchment",
    "minutes_to_metres",
    "nearest_facility",
    "same_street",
    "source_graph",
]

#: Half-width (metres) of the street band drawn around reached segments.
CATCHMENT_BUFFER_M = 30.0
#: Bytes of search results held at once in per-facility searches.
_CHUNK_BYTES = 256 * 2**20
#: Facility × demand-point distances held at once when pairs are found (4 M: 32 MB each).
PAIR_BLOCK_CELLS = 4_000_000
#: Separation (metres) of the pairs of street-piece ends that meet at one junction
#: (:func:`_through_lines`): far below any distance that matters, far above rounding.
_PAIR_STEP_M = 1e-4


def minutes_to_metres(minutes: float, speed_kmh: float) -> float:
    """Walking distance in metres covered in ``minutes`` at ``speed_kmh``."""
    return float(minutes) * float(speed_kmh) * 1000.0 / 60.0


@dataclass(frozen=True)
class SourceGraph:
    """A graph's adjacency extended with one virtual source node per snapped facility.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n + k, n + k)
        Directed: the graph's symmetric edges plus virtual node → edge-end links (metres).
    n_nodes : int
        Nodes of the underlying graph (virtual node ``j`` is row ``n_nodes + j``).
    facility : ndarray of int, shape (k,)
        Index of the facility (in the snap array) behind each virtual node.
    """

    matrix: sp.csr_matrix
    n_nodes: int
    facility: np.ndarray

    def virtual(self, facilities: np.ndarray) -> np.ndarray:
        """Virtual node ids of the given facility indices (snapped ones only)."""
        pos = np.full(int(self.facility.max(initial=-1)) + 1, -1, dtype=np.int64)
        pos[self.facility] = np.arange(len(self.facility))
        f = np.asarray(facilities, dtype=np.int64)
        f = f[(f < len(pos))]
        j = pos[f]
        return self.n_nodes + j[j >= 0]


def facility_links(
    graph: WalkGraph, snap: Snap, facilities: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each snapped facility of ``facilities`` joins the network: (graph node, metres,
    facility) — to both ends of its street, ``leg + offset`` and ``leg + (length − offset)``
    (at least 1 mm), to the one end of a loop street by the shorter way; in facility order.
    The virtual links of :func:`source_graph`, and the seeds of an edited study's searches."""
    f = np.asarray(facilities, dtype=np.int64)
    f = f[snap.edge[f] >= 0]
    e = snap.edge[f]
    k_uv, k_vu = graph.cost_per_m(e)
    leg = snap.leg_m[f]
    du = leg + along(k_uv, snap.offset_m[f])  # from the street's u end to the facility
    dv = leg + along(k_vu, graph.edge_length[e] - snap.offset_m[f])
    # two links per facility, one when its street is a loop (both ends the same node)
    two = graph.edge_u[e] != graph.edge_v[e]
    du = np.where(two, du, np.minimum(du, dv))
    ends = np.column_stack([graph.edge_u[e], graph.edge_v[e]])
    w = np.maximum(np.column_stack([du, dv]), 1e-3)
    mask = np.column_stack([np.ones(len(f), dtype=bool), two]) & np.isfinite(w)
    return ends[mask], w[mask], np.repeat(f[:, None], 2, axis=1)[mask]


def along(k: np.ndarray, metres: np.ndarray) -> np.ndarray:
    """Cost (equivalent metres) of ``metres`` walked at ``k`` per metre; 0 for none (also
    where that way is not allowed, ``k`` = inf)."""
    some = metres > 0
    return np.where(some, k * np.where(some, metres, 1.0), 0.0)


def same_street(graph: WalkGraph, edge: np.ndarray, start: np.ndarray,
                end: np.ndarray) -> np.ndarray:  # fmt: skip
    """Cost of walking along ``edge`` from offset ``start`` to offset ``end`` (metres from
    its ``edge_u`` end), in that direction."""
    k_uv, k_vu = graph.cost_per_m(edge)
    gap = end - start
    return np.where(gap >= 0, along(k_uv, gap), along(k_vu, -gap))


def source_graph(graph: WalkGraph, snap: Snap) -> SourceGraph:
    """Build the :class:`SourceGraph` for all snapped facilities (once per run)."""
    a = graph.adjacency
    n = graph.n_nodes
    fac = np.flatnonzero(snap.ok)
    node, w, owner = facility_links(graph, snap, fac)
    per = np.bincount(np.searchsorted(fac, owner), minlength=len(fac))
    indptr = np.concatenate([a.indptr, a.indptr[-1] + np.cumsum(per)])
    indices = np.concatenate([a.indices, node]).astype(a.indices.dtype)
    data = np.concatenate([a.data, w])
    k = len(fac)
    m = sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
    return SourceGraph(matrix=m, n_nodes=n, facility=fac)


@dataclass(frozen=True)
class NearestFacility:
    """Network distance from every node to its nearest facility of one category.

    Attributes
    ----------
    distance_m : ndarray, shape (n_nodes,)
        Metres; ``inf`` where no facility is reachable (within ``limit_m`` if set).
    facility : ndarray of int, shape (n_nodes,)
        Index (into the snap array) of the nearest facility; −1 if none.
    limit_m : float
        Search bound in metres (``inf`` for an unbounded search).
    """

    distance_m: np.ndarray
    facility: np.ndarray
    limit_m: float


def nearest_facility(
    graph: WalkGraph,
    snap: Snap,
    limit_m: float = np.inf,
    *,
    members: np.ndarray | None = None,
    sources: SourceGraph | None = None,
) -> NearestFacility:
    """One multi-source Dijkstra from a set of facilities.

    Parameters
    ----------
    graph : WalkGraph
    snap : Snap
        Snaps of the facilities; only snapped ones (``snap.ok``) take part.
    limit_m : float
        Stop the search beyond this many metres (``inf``: full distances).
    members : array of int, optional
        Facilities (indices into ``snap``) to search from; default all.
    sources : SourceGraph, optional
        Prebuilt for ``snap`` (reuse it across categories).
    """
    n = graph.n_nodes
    sg = sources or source_graph(graph, snap)
    virt = sg.virtual(np.arange(len(snap.edge)) if members is None else members)
    if len(virt) == 0:
        return NearestFacility(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), limit_m)
    dist, _, src = dijkstra(
        sg.matrix, directed=True, indices=virt, min_only=True, limit=limit_m,
        return_predecessors=True,
    )  # fmt: skip
    src = src[:n]
    fac = np.where(src >= n, sg.facility[np.clip(src - n, 0, len(sg.facility) - 1)], -1)
    return NearestFacility(dist[:n], fac.astype(np.int64), limit_m)


def demand_distances(
    graph: WalkGraph,
    near: NearestFacility,
    demand: Snap,
    facilities: Snap,
    members: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (metres) from each demand point to its nearest facility, and which one.

    Combines the node distances at both ends of the demand point's edge with its
    position and off-network leg; a facility on the same edge is also reached
    directly along it. Points that did not snap, or beyond ``near.limit_m``, get
    ``inf`` / −1. ``members`` restricts the same-edge check to those facilities.
    """
    e = demand.edge
    ok = e >= 0
    es = np.where(ok, e, 0)
    u, v = graph.edge_u[es], graph.edge_v[es]
    k_uv, k_vu = graph.cost_per_m(es)
    via_u = near.distance_m[u] + along(k_vu, demand.offset_m)
    via_v = near.distance_m[v] + along(k_uv, graph.edge_length[es] - demand.offset_m)
    best = np.minimum(via_u, via_v) + demand.leg_m
    which = np.where(via_u <= via_v, near.facility[u], near.facility[v])
    fac = np.flatnonzero(facilities.ok)
    if members is not None:
        fac = np.intersect1d(fac, members)
    if len(fac):
        # pair demand points and facilities that share an edge (sorted-merge on edge id)
        fe = facilities.edge[fac]
        order = np.argsort(fe, kind="stable")
        fe, fac = fe[order], fac[order]
        dpts = np.flatnonzero(ok)
        lo = np.searchsorted(fe, e[dpts], side="left")
        hi = np.searchsorted(fe, e[dpts], side="right")
        cnt = hi - lo
        if cnt.sum():
            d_rep = np.repeat(dpts, cnt)
            f_rep = fac[np.repeat(lo - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(cnt.sum())]
            direct = ((demand.leg_m[d_rep] + facilities.leg_m[f_rep])
                      + same_street(graph, e[d_rep], demand.offset_m[d_rep],
                                    facilities.offset_m[f_rep]))  # fmt: skip
            better = direct < best[d_rep]
            # several facilities may share the edge: apply the smallest last
            o = np.argsort(-direct[better], kind="stable")
            best[d_rep[better][o]] = direct[better][o]
            which[d_rep[better][o]] = f_rep[better][o]
    best = np.where(ok & (best <= near.limit_m), best, np.inf)
    which = np.where(np.isfinite(best), which, -1)
    return best, which


def _incidence(graph: WalkGraph) -> tuple[np.ndarray, np.ndarray]:
    """Node → incident edge ids as CSR arrays (indptr, edge ids)."""
    nodes = np.concatenate([graph.edge_u, graph.edge_v])
    edges = np.tile(np.arange(graph.n_edges), 2)
    order = np.argsort(nodes, kind="stable")
    indptr = np.zeros(graph.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(nodes, minlength=graph.n_nodes), out=indptr[1:])
    return indptr, edges[order]


def _reached_pieces(graph, inc, dist, keep, local, limit_m):
    """(owner row, piece geometry) of every street piece reached in ``dist``.

    ``dist`` is rows × (subgraph nodes + 1) with ``inf`` in the last column; ``keep`` maps
    subgraph columns to graph nodes and ``local`` graph nodes to columns (−1: not in it).
    """
    indptr, inc_edges = inc
    L = graph.edge_length
    r, col = np.nonzero(dist[:, :-1] <= limit_m)
    node = keep[col]
    cnt = indptr[node + 1] - indptr[node]
    total = int(cnt.sum())
    start = np.repeat(indptr[node] - np.cumsum(np.r_[0, cnt[:-1]]), cnt)
    edge = inc_edges[start + np.arange(total)]
    owner = np.repeat(r, cnt)
    key = np.unique(owner.astype(np.int64) * graph.n_edges + edge)
    owner, edge = key // graph.n_edges, key % graph.n_edges
    a = limit_m - dist[owner, local[graph.edge_u[edge]]]  # cost left at u (−inf: unreached)
    b = limit_m - dist[owner, local[graph.edge_v[edge]]]
    k_uv, k_vu = graph.cost_per_m(edge)
    # metres of the street from which u (v) is reached in time: walked towards it
    # (an unreached end behind a one-way street: −inf / inf, nothing walked from it)
    with np.errstate(invalid="ignore"):
        a = np.clip(np.nan_to_num(np.minimum(a / k_vu, L[edge]), nan=0.0), 0, None)
        b = np.clip(np.nan_to_num(np.minimum(b / k_uv, L[edge]), nan=0.0), 0, None)
    full = a + b >= L[edge]
    pu = ~full & (a > 0)
    pv = ~full & (b > 0)
    geoms = [
        graph.edge_geometry[edge[full]],
        substrings(graph.edge_geometry[edge[pu]], np.zeros(pu.sum()), a[pu]),
        substrings(graph.edge_geometry[edge[pv]], L[edge[pv]] - b[pv], L[edge[pv]]),
    ]
    return np.concatenate([owner[full], owner[pu], owner[pv]]), np.concatenate(geoms)


def _bounded_searches(graph: WalkGraph, sg: SourceGraph, limit_m: float):
    """Per-facility searches bounded by ``limit_m``, in chunks.

    Only nodes within ``limit_m`` of some facility can matter, so the searches run on that
    subgraph; many facilities spread over a large network are searched tile by tile, each
    tile's on the streets within ``limit_m`` (straight line) of it — a search's cost grows
    with the nodes it is given, not only those it reaches. Yields ``(rows, dist, keep,
    local)``: facility rows (virtual node order), distances rows × (subgraph nodes + 1) with
    ``inf`` in the last column, subgraph column → graph node, and graph node → column (−1: not
    in the subgraph; index −1 = that last column).
    """
    n = graph.n_nodes
    for rows in _source_tiles(graph, sg, limit_m):
        base = (np.arange(n) if len(rows) == len(sg.facility)
                else _nodes_near(graph, sg, rows, limit_m))  # fmt: skip
        idx = np.concatenate([base, n + rows])
        m = sg.matrix[idx][:, idx].tocsr()
        nb, k = len(base), len(rows)
        reach_any = dijkstra(m, directed=True, indices=nb + np.arange(k), min_only=True,
                             limit=limit_m)[:nb]  # fmt: skip
        kept = np.flatnonzero(reach_any <= limit_m)
        keep = base[kept]
        local = np.full(n + 1, -1, dtype=np.int64)
        local[keep] = np.arange(len(keep))
        sub_idx = np.concatenate([kept, nb + np.arange(k)])
        sub = m[sub_idx][:, sub_idx].tocsr()
        ns = len(keep)
        chunk = max(1, _CHUNK_BYTES // (8 * (ns + k + 1)))
        for c0 in range(0, k, chunk):
            r = np.arange(c0, min(c0 + chunk, k))
            d_sub = dijkstra(sub, directed=True, indices=ns + r, limit=limit_m)[:, :ns]
            yield rows[r], np.column_stack([d_sub, np.full(len(r), np.inf)]), keep, local[:n]


#: Facilities searched together on the whole reached network; more are searched by tile.
_TILE_SOURCES = 512


def _source_tiles(graph: WalkGraph, sg: SourceGraph, limit_m: float):
    """The facilities' virtual rows in groups: all together when few, else by square tiles
    of side ``2 × limit_m`` (by the first street end each joins)."""
    k = len(sg.facility)
    if k <= _TILE_SOURCES or not np.isfinite(limit_m) or not _never_shorter(graph):
        yield np.arange(k)
        return
    xy = graph.node_xy[_first_link(sg, np.arange(k))]
    cell = np.floor((xy - xy.min(axis=0)) / max(2.0 * graph.reach_m(limit_m), 1.0)).astype(np.int64)
    tile = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    order = np.argsort(tile, kind="stable")
    cuts = np.flatnonzero(np.diff(tile[order])) + 1
    yield from np.split(order, cuts)


def _never_shorter(graph: WalkGraph) -> bool:
    """Whether no street is shorter than the straight line between its ends (what tiling
    relies on; a graph imported with odd lengths is searched whole)."""
    xy = graph.node_xy
    chord = np.hypot(*(xy[graph.edge_u] - xy[graph.edge_v]).T)
    return bool((graph.edge_length >= chord * (1 - 1e-9) - 1e-6).all())


def _first_link(sg: SourceGraph, rows: np.ndarray) -> np.ndarray:
    """The street node each virtual source row first links to."""
    a = sg.matrix
    return a.indices[a.indptr[sg.n_nodes + rows]]


def _nodes_near(graph: WalkGraph, sg: SourceGraph, rows: np.ndarray,
                limit_m: float) -> np.ndarray:  # fmt: skip
    """Street nodes within reach of ``limit_m`` in a straight line of the box around the
    nodes the ``rows`` link to: no walk costing ``limit_m`` from them reaches beyond (a walk
    is never shorter than the straight line, and costs at least
    :attr:`~hzspatial.network.WalkGraph.least_cost_per_m` per metre)."""
    ends = sg.matrix[sg.n_nodes + rows].indices
    reach = graph.reach_m(limit_m)
    lo = graph.node_xy[ends].min(axis=0) - reach
    hi = graph.node_xy[ends].max(axis=0) + reach
    xy = graph.node_xy
    return np.flatnonzero((xy[:, 0] >= lo[0]) & (xy[:, 0] <= hi[0])
                          & (xy[:, 1] >= lo[1]) & (xy[:, 1] <= hi[1]))  # fmt: skip


def facility_demand_pairs(
    graph: WalkGraph, facilities: Snap, demand: Snap, limit_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (demand point, facility) pairs within ``limit_m`` walking metres, with distances.

    Exact like :func:`demand_distances` (edge ends, offsets, legs, same-edge walks), from
    bounded per-facility searches — never a dense facilities × demand matrix of the whole area.

    Returns
    -------
    demand_index, facility_index, distance_m : arrays
        Indices into the demand and facility snaps.
    """
    sg = source_graph(graph, facilities)
    if len(sg.facility) == 0 or not demand.ok.any():
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    dpt = np.flatnonzero(demand.ok)
    e = demand.edge[dpt]
    L = graph.edge_length[e]
    k_uv, k_vu = graph.cost_per_m(e)
    parts = []
    for rows, dist, _, local in _bounded_searches(graph, sg, limit_m):
        lu, lv = local[graph.edge_u[e]], local[graph.edge_v[e]]
        cand = np.flatnonzero((lu >= 0) | (lv >= 0))
        # the facilities × points block is taken a slice of points at a time: whole, a batch
        # of 85 kindergartens by 640,000 raster cells held 1.3 GB at once
        step = max(1, PAIR_BLOCK_CELLS // max(len(rows), 1))
        for k in range(0, len(cand), step):
            ci = cand[k:k + step]
            pi = dpt[ci]
            du = dist[:, lu[ci]] + along(k_vu[ci], demand.offset_m[pi])
            dv = dist[:, lv[ci]] + along(k_uv[ci], L[ci] - demand.offset_m[pi])
            d = np.minimum(du, dv) + demand.leg_m[pi]
            r, c = np.nonzero(d <= limit_m)
            parts.append((pi[c], sg.facility[rows][r], d[r, c]))
    # the same edge, walked directly
    f = sg.facility
    order = np.argsort(facilities.edge[f], kind="stable")
    fe, fs = facilities.edge[f][order], f[order]
    lo = np.searchsorted(fe, e, side="left")
    cnt = np.searchsorted(fe, e, side="right") - lo
    if cnt.sum():
        di = np.repeat(dpt, cnt)
        fj = fs[np.repeat(lo - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(cnt.sum())]
        direct = ((demand.leg_m[di] + facilities.leg_m[fj])
                  + same_street(graph, facilities.edge[fj], demand.offset_m[di],
                                facilities.offset_m[fj]))  # fmt: skip
        ok = direct <= limit_m
        parts.append((di[ok], fj[ok], direct[ok]))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    di, fj, d = (np.concatenate(x) for x in zip(*parts, strict=True))
    if len(d) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    key = di.astype(np.int64) * len(facilities.edge) + fj
    # each pair once, at its shortest: one integer sort, then the least of each run
    order = np.argsort(key, kind="stable")
    key, d = key[order], d[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    key, d = key[first], np.minimum.reduceat(d, first)
    return key // len(facilities.edge), key % len(facilities.edge), d


def _bend(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0 where two line ends (outgoing directions ``x``, ``y`` in radians) continue each
    other straight, up to pi for a U-turn."""
    return np.abs(np.pi - np.abs((x - y + np.pi) % (2 * np.pi) - np.pi))


def _through_lines(geoms: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Street pieces (LineStrings, metric CRS) whose ends at each junction are taken in pairs,
    for :func:`shapely.line_merge` to join into lines that run through junctions; returned
    with their owners, in an order and direction that do not depend on how they were found
    (each from its lower end, sorted by owner and ends), so that a tiled run buffers exactly
    what a whole run does.

    A catchment's band is the buffer of its reached pieces; buffered piece by piece, every
    piece ending at a junction adds a round cap there and GEOS spends most of its time
    unioning those overlapping caps. Here the ends meeting at one point (per ``owner``) are
    paired — opposite ones in angular order, at a T its straightest pair — and each pair (and
    each end left alone) is moved ``_PAIR_STEP_M``·k along x, so that every pair is a point
    where exactly two ends meet. The band is the same (to a tenth of a millimetre per
    junction), buffered several times faster.
    """
    geoms, owner = np.asarray(geoms, dtype=object), np.asarray(owner)
    if len(geoms) < 2:
        return geoms, owner
    # the pieces' coordinates are handled as one array: each piece turned to start from its
    # lower end and the pieces put in order by moving coordinates, not geometries
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(idx, minlength=len(geoms))
    start = np.r_[0, np.cumsum(counts)[:-1]]
    has = counts > 0
    qs = np.full((len(geoms), 2), np.nan)
    qe = qs.copy()
    qs[has] = np.round(coords[start[has]] * 1000)
    qe[has] = np.round(coords[start[has] + counts[has] - 1] * 1000)
    flip = (qe[:, 0] < qs[:, 0]) | ((qe[:, 0] == qs[:, 0]) & (qe[:, 1] < qs[:, 1]))
    lo, hi = np.where(flip[:, None], qe, qs), np.where(flip[:, None], qs, qe)
    length = np.round(shapely.length(geoms) * 1000)
    order = np.lexsort((length, hi[:, 1], hi[:, 0], lo[:, 1], lo[:, 0], owner))
    geoms, owner, counts, flip = geoms[order], owner[order], counts[order], flip[order]
    new_start = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(len(coords)) - np.repeat(new_start, counts)
    rank = np.where(np.repeat(flip, counts), np.repeat(counts, counts) - 1 - rank, rank)
    coords = coords[np.repeat(start[order], counts) + rank]
    ok = np.flatnonzero(counts >= 2)
    first = np.r_[0, np.cumsum(counts)[:-1]][ok]
    last = first + counts[ok] - 1
    end_at = np.concatenate([first, last])
    step = coords[np.concatenate([first + 1, last - 1])] - coords[end_at]
    angle = np.arctan2(step[:, 1], step[:, 0])
    q = np.round(coords[end_at] * 1000).astype(np.int64)  # ends within 1 mm: one junction
    far = coords[np.concatenate([last, first])]  # each end's other end: a tie-break, so
    own = owner[np.concatenate([ok, ok])]  # the order of the input cannot matter
    # directions to a microradian: pieces overlapping along one street (a facility's own
    # piece and that street's) tie, and are ordered by their other ends, not by rounding noise
    order = np.lexsort((np.round(far[:, 1] * 1000), np.round(far[:, 0] * 1000),
                        np.round(angle * 1e6), q[:, 1], q[:, 0], own))  # fmt: skip
    q, own, angle = q[order], own[order], angle[order]
    new = np.r_[True, (own[1:] != own[:-1]) | (q[1:] != q[:-1]).any(axis=1)]
    gstart = np.flatnonzero(new)
    deg = np.diff(np.r_[gstart, len(order)])
    g = np.cumsum(new) - 1
    k = np.arange(len(order)) - gstart[g]  # rank by direction within the junction
    half = deg[g] // 2
    # the k-th end pairs with the (k + d//2)-th, opposite in angular order (a crossing's
    # straight pairs); an odd one out gets its own place
    slot = np.where(k < 2 * half, np.where(k < half, k, k - half), half + k)
    three = gstart[deg == 3]
    if len(three):  # a T: its straightest pair stays, the third end moves
        a = [angle[three + j] for j in range(3)]
        bends = np.column_stack([_bend(a[0], a[1]), _bend(a[1], a[2]), _bend(a[0], a[2])])
        lone = np.array([2, 0, 1])[np.argmin(bends, axis=1)]
        for j in range(3):
            slot[three + j] = lone == j
    shift = np.empty(len(order))
    shift[order] = slot * _PAIR_STEP_M
    coords[end_at, 0] += shift
    out = geoms.copy()  # pieces without coordinates stay as they are
    shapely.linestrings(coords, indices=np.repeat(np.arange(len(geoms)), counts), out=out)
    return out, owner


def facility_catchments(
    graph: WalkGraph,
    snap: Snap,
    limit_m: float,
    *,
    buffer_m: float = CATCHMENT_BUFFER_M,
    sources: SourceGraph | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """Street-following catchment polygon of each facility within ``limit_m`` metres.

    Parameters
    ----------
    graph : WalkGraph
    snap : Snap
        Facility snaps (un-snapped facilities get an empty polygon).
    limit_m : float
        Walking distance bound in metres.
    buffer_m : float
        Half-width of the street band drawn around reached segments (metres).
    sources : SourceGraph, optional
        Prebuilt for ``snap``.
    workers : int, optional
        Threads for buffering (shapely releases the GIL); default the CPU count.

    Returns
    -------
    ndarray of shapely geometry
        One (Multi)Polygon per facility in ``graph.crs``.
    """
    k = len(snap.edge)
    out = np.array([shapely.Polygon()] * k, dtype=object)
    sg = sources or source_graph(graph, snap)
    if len(sg.facility) == 0:
        return out
    inc = _incidence(graph)
    multi = np.full(len(sg.facility), None, dtype=object)
    for rows, dist, keep, local in _bounded_searches(graph, sg, limit_m):
        owner, geoms = _reached_pieces(graph, inc, dist, keep, local, limit_m)
        # each facility's own edge, walked directly from where it stands
        f = sg.facility[rows]
        own, e, s, t = _own_street(graph, snap, f, limit_m)
        owner = np.concatenate([owner, np.flatnonzero(own)])
        geoms = np.concatenate([geoms, substrings(graph.edge_geometry[e], s, t)])
        order = np.argsort(owner, kind="stable")
        part = np.full(len(rows), None, dtype=object)
        shapely.multilinestrings(geoms[order], indices=owner[order], out=part)
        multi[rows] = part
    has = ~shapely.is_missing(multi)
    polys = _buffer_parallel(_join_through(multi[has]), buffer_m, workers)
    out[sg.facility[has]] = polys
    return out


def _own_street(graph: WalkGraph, snap: Snap, f: np.ndarray, limit_m: float):
    """The part of each facility's (of ``f``) own street from which it is reached directly
    within ``limit_m``: (which of ``f`` reach any, their edges, start and end offsets)."""
    reach = limit_m - snap.leg_m[f]
    own = reach > 0
    e = snap.edge[f][own]
    k_uv, k_vu = graph.cost_per_m(e)
    off = snap.offset_m[f][own]
    s = np.clip(off - reach[own] / k_uv, 0, None)  # homes before it walk towards edge_v
    t = np.minimum(off + reach[own] / k_vu, graph.edge_length[e])
    return own, e, s, t


def _join_through(multi: np.ndarray) -> np.ndarray:
    """Each MultiLineString's pieces merged where two meet (:func:`shapely.line_merge`), then
    paired through junctions (:func:`_through_lines`): what is paired depends only on the
    streets reached, not on how the search split them into pieces."""
    parts, owner = shapely.get_parts(shapely.line_merge(multi), return_index=True)
    parts, owner = _through_lines(parts, owner)
    out = np.array([shapely.MultiLineString()] * len(multi), dtype=object)
    if len(parts):
        res = np.full(len(multi), None, dtype=object)
        shapely.multilinestrings(parts, indices=owner, out=res)
        got = ~shapely.is_missing(res)
        out[got] = res[got]
    return out


def _buffer_parallel(lines: np.ndarray, buffer_m: float, workers: int | None) -> np.ndarray:
    """Merge and buffer line collections on several threads (shapely releases the GIL)."""
    if len(lines) == 0:
        return lines

    def work(part: np.ndarray) -> np.ndarray:
        return shapely.buffer(shapely.line_merge(part), buffer_m, quad_segs=2)

    w = max(1, workers or os.cpu_count() or 1)
    if w == 1 or len(lines) < 4:
        return work(lines)
    parts = np.array_split(lines, min(len(lines), 4 * w))
    with ThreadPoolExecutor(max_workers=w) as pool:
        return np.concatenate(list(pool.map(work, parts)))


def catchments_gdf(
    facilities: gpd.GeoDataFrame, polygons: np.ndarray, crs, minutes: float, metres: float
) -> gpd.GeoDataFrame:
    """Catchments as a GeoDataFrame: facility id, name, category, minutes, metres, area (m²)."""
    return gpd.GeoDataFrame(
        {
            "facility_id": facilities["facility_id"].to_numpy(),
            "name": facilities["name"].to_numpy(),
            "category": facilities["category"].to_numpy(),
            "minutes": float(minutes),
            "metres": float(metres),
            "area_m2": shapely.area(polygons),
        },
        geometry=list(polygons),
        crs=crs,
    )


def group_catchment(
    graph: WalkGraph, snap: Snap, limit_m: float, *, buffer_m: float = CATCHMENT_BUFFER_M
) -> shapely.Geometry:
    """One street-following catchment reached from any of several points (e.g. the entrances
    or boundary of a proposed district) within ``limit_m`` metres; empty if none snapped.
    On a graph with directed costs, the trips go *from* the points."""
    graph = graph.reversed()
    sg = source_graph(graph, snap)
    n = graph.n_nodes
    if len(sg.facility) == 0:
        return shapely.Polygon()
    d = dijkstra(sg.matrix, directed=True, indices=n + np.arange(len(sg.facility)),
                 min_only=True, limit=limit_m)[:n]  # fmt: skip
    dist = np.concatenate([d, [np.inf]])[None, :]
    ids = np.arange(n)
    _, geoms = _reached_pieces(graph, _incidence(graph), dist, ids, ids, limit_m)
    _, e, s, t = _own_street(graph, snap, sg.facility, limit_m)
    geoms = np.concatenate([geoms, substrings(graph.edge_geometry[e], s, t)])
    if len(geoms) == 0:
        return shapely.Polygon()
    lines = _join_through(np.array([shapely.multilinestrings(geoms)], dtype=object))[0]
    return shapely.buffer(shapely.line_merge(lines), buffer_m, quad_segs=2)
