"""Searches kept exact under edits: what a :class:`hzspatial.study.Study` runs instead of
searching the whole network again.

Every graph node holds its walking distance to the nearest facility of a category and which
facility that is (:class:`hzspatial.catchments.NearestFacility`, from one multi-source
Dijkstra). When a facility is added, a Dijkstra from it (:func:`grow`) walks only as far as it
brings nodes closer: where it arrives no earlier than the node's current distance, no node
beyond can gain through it either, so the search stops there and the result is the minimum
of old and new — exactly what a fresh multi-source search gives. When a facility is removed,
only the nodes it was nearest to lose their distance (:func:`vacate`); they are reached again
from their neighbours outside (whose distances do not change) and from the other facilities
joined to their streets. Demand points are recomputed where an end of their street changed
(:func:`refresh_demand`); 2SFCA pairs are searched for the facilities edited only.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from hzspatial import catchments as ct
from hzspatial.network import Snap, WalkGraph

__all__ = ["GraphArrays", "add_pairs", "delete_snap", "drop_pairs_of", "grow", "insert_snap",
           "refresh_demand", "search_key", "shift_facilities", "vacate", "shift_demand",
           "drop_demand", "insert_snaps", "pairs_near"]  # fmt: skip


@dataclass(frozen=True)
class GraphArrays:
    """The graph's adjacency (CSR, metres or equivalent metres; row i: the costs *into* i)
    and its transpose (``out_*``: row i, the costs *out of* i; the same arrays when
    symmetric), and each demand point's street ends, for repairs."""

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray
    out_indptr: np.ndarray
    out_indices: np.ndarray
    out_weight: np.ndarray
    demand_u: np.ndarray
    demand_v: np.ndarray
    demand_edge: np.ndarray
    demand_ok: np.ndarray
    node_ptr: np.ndarray
    node_demand: np.ndarray

    @classmethod
    def of(cls, graph: WalkGraph, demand: Snap) -> GraphArrays:
        """Also, per node, the demand points on its streets (CSR ``node_ptr``, ``node_demand``)."""
        a = graph.adjacency
        e = np.where(demand.ok, demand.edge, 0)
        u, v = graph.edge_u[e], graph.edge_v[e]
        ok = np.flatnonzero(demand.ok)
        nodes = np.concatenate([u[ok], v[ok]])
        order = np.argsort(nodes, kind="stable")
        ptr = np.zeros(graph.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(nodes, minlength=graph.n_nodes), out=ptr[1:])
        into = (a.indptr.astype(np.int64), a.indices.astype(np.int64), a.data.astype(float))
        if graph.costs is None:
            out = into
        else:
            t = a.T.tocsr()
            out = (t.indptr.astype(np.int64), t.indices.astype(np.int64), t.data.astype(float))
        return cls(*into, *out, u, v, demand.edge, demand.ok, ptr,
                   np.concatenate([ok, ok])[order])  # fmt: skip


def _bounded(ga: GraphArrays, nodes, dists, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes within ``limit_m`` of the seeds (node, metres) and their distances (sorted by
    node): a Dijkstra that visits only them — for one facility, not the whole network."""
    ip, ix, w = memoryview(ga.indptr), memoryview(ga.indices), memoryview(ga.weight)
    heap = [(d, n) for n, d in zip(nodes.tolist(), dists.tolist(), strict=True) if d <= limit_m]
    heapq.heapify(heap)
    done: dict[int, float] = {}
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        d, v = pop(heap)
        if v in done:
            continue
        done[v] = d
        for i in range(ip[v], ip[v + 1]):
            x = ix[i]
            nd = d + w[i]
            if nd <= limit_m and x not in done:
                push(heap, (nd, x))
    keys = np.fromiter(done.keys(), np.int64, len(done))
    vals = np.fromiter(done.values(), float, len(done))
    order = np.argsort(keys)
    return keys[order], vals[order]


def pairs_near(graph: WalkGraph, ga: GraphArrays, fsnap: Snap, facility: int, demand: Snap,
               limit_m: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(demand index, metres) of the demand points within ``limit_m`` of one facility — as
    :func:`hzspatial.catchments.facility_demand_pairs` gives them, from a search that visits
    only the streets within reach."""
    ln, ld, _ = ct.facility_links(graph, fsnap, np.array([facility]))
    nodes, dist = _bounded(ga, ln, ld, limit_m)
    cnt = ga.node_ptr[nodes + 1] - ga.node_ptr[nodes]
    at = np.repeat(ga.node_ptr[nodes] - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(cnt.sum())
    e_f = fsnap.edge[facility]
    own = ga.node_demand[ga.node_ptr[graph.edge_u[e_f]]:ga.node_ptr[graph.edge_u[e_f] + 1]]
    cand = np.unique(np.concatenate([ga.node_demand[at], own[ga.demand_edge[own] == e_f]]))
    if not len(cand):
        return np.empty(0, np.int64), np.empty(0)

    def at_node(x):
        if not len(nodes):
            return np.full(len(x), np.inf)
        i = np.searchsorted(nodes, x).clip(0, len(nodes) - 1)
        return np.where(nodes[i] == x, dist[i], np.inf)

    off, leg = demand.offset_m[cand], demand.leg_m[cand]
    length = graph.edge_length[ga.demand_edge[cand]]
    k_uv, k_vu = graph.cost_per_m(ga.demand_edge[cand])
    d = np.minimum(at_node(ga.demand_u[cand]) + ct.along(k_vu, off),
                   at_node(ga.demand_v[cand]) + ct.along(k_uv, length - off)) + leg  # fmt: skip
    same = ga.demand_edge[cand] == e_f
    direct = (leg[same] + fsnap.leg_m[facility]
              + ct.same_street(graph, ga.demand_edge[cand][same], off[same],
                               np.full(int(same.sum()), fsnap.offset_m[facility])))  # fmt: skip
    d[same] = np.minimum(d[same], direct)
    keep = d <= limit_m
    return cand[keep], d[keep]


def grow(near: ct.NearestFacility, ga: GraphArrays, seeds) -> np.ndarray:
    """Dijkstra from ``seeds`` (nodes, metres, facility) that only lowers distances: nodes
    it cannot reach sooner than now stop it. Returns the nodes changed."""
    dist, owner = near.distance_m, near.facility
    dmv, omv = memoryview(dist), memoryview(owner)
    ip, ix, w = memoryview(ga.indptr), memoryview(ga.indices), memoryview(ga.weight)
    heap = []
    for node, d, f in zip(*(x.tolist() for x in seeds), strict=True):
        if d < dmv[node]:
            dmv[node] = d
            omv[node] = f
            heap.append((d, node))
    heapq.heapify(heap)
    changed = []
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        d, v = pop(heap)
        if d > dmv[v]:
            continue
        changed.append(v)
        f = omv[v]
        for i in range(ip[v], ip[v + 1]):
            x = ix[i]
            nd = d + w[i]
            if nd < dmv[x]:
                dmv[x] = nd
                omv[x] = f
                push(heap, (nd, x))
    return np.unique(np.asarray(changed, dtype=np.int64))


def vacate(near: ct.NearestFacility, ga: GraphArrays, graph: WalkGraph, snap: Snap, gone: int,
           members: np.ndarray) -> np.ndarray:  # fmt: skip
    """Facility ``gone`` removed from a search whose other facilities are ``members``: the
    nodes it was nearest to are reached again. Returns those nodes."""
    area = np.flatnonzero(near.facility == gone)
    if not len(area):
        return area
    near.distance_m[area] = np.inf
    near.facility[area] = -1
    # each node of the area, through a neighbour outside that keeps its facility: the cost
    # out of the node to the neighbour, then the neighbour's
    start, stop = ga.out_indptr[area], ga.out_indptr[area + 1]
    cnt = stop - start
    at = np.repeat(start - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(cnt.sum())
    node = np.repeat(area, cnt)
    nb = ga.out_indices[at]
    ok = near.facility[nb] >= 0
    seeds_n = [node[ok]]
    seeds_d = [near.distance_m[nb[ok]] + ga.out_weight[at[ok]]]
    seeds_f = [near.facility[nb[ok]]]
    ln, ld, lf = ct.facility_links(graph, snap, members)
    inside = np.isin(ln, area)
    seeds = (np.concatenate([*seeds_n, ln[inside]]), np.concatenate([*seeds_d, ld[inside]]),
             np.concatenate([*seeds_f, lf[inside]]))  # fmt: skip
    grow(near, ga, seeds)
    return area


def refresh_demand(eng, graph: WalkGraph, ga: GraphArrays, key: str, members: np.ndarray,
                   changed: np.ndarray, edges: np.ndarray) -> None:  # fmt: skip
    """Demand distances of ``key`` again where an end of the point's street changed or the
    point shares a street with an edited facility (``edges``)."""
    mask = np.zeros(graph.n_nodes, dtype=bool)
    mask[changed] = True
    hit = (mask[ga.demand_u] | mask[ga.demand_v] | np.isin(ga.demand_edge, edges)) & ga.demand_ok
    idx = np.flatnonzero(hit)
    if not len(idx):
        return
    d, which = ct.demand_distances(graph, eng.node[key], eng.demand_snap.take(idx),
                                   eng.facility_snap, members=members)  # fmt: skip
    eng.distance_m[key][idx] = d
    eng.nearest[key][idx] = which


def search_key(eng, graph: WalkGraph, key: str, members: np.ndarray) -> None:
    """One whole multi-source search for ``key`` (a subtype group's first member)."""
    near = ct.nearest_facility(graph, eng.facility_snap, members=members)
    eng.node[key] = near
    eng.distance_m[key], eng.nearest[key] = ct.demand_distances(
        graph, near, eng.demand_snap, eng.facility_snap, members=members)  # fmt: skip


#: Up to this many facilities, pairs are searched one facility at a time over the streets in
#: reach (:func:`pairs_near`); more at once, by :func:`~hzspatial.catchments.facility_demand_pairs`.
FEW_FACILITIES = 16


def add_pairs(eng, graph: WalkGraph, cat: str, facilities: np.ndarray, limit_m: float,
              ga: GraphArrays | None = None) -> None:  # fmt: skip
    """The (demand, facility, metres) pairs within ``limit_m`` of ``facilities``, added."""
    f = np.asarray(facilities, dtype=np.int64)
    f = f[eng.facility_snap.edge[f] >= 0]
    if not len(f):
        return
    if ga is not None and len(f) <= FEW_FACILITIES:
        found = [pairs_near(graph, ga, eng.facility_snap, j, eng.demand_snap, limit_m) for j in f]
        di = np.concatenate([x[0] for x in found])
        d = np.concatenate([x[1] for x in found])
        fj = np.repeat(np.arange(len(f)), [len(x[0]) for x in found])
    else:
        di, fj, d = ct.facility_demand_pairs(graph, eng.facility_snap.take(f), eng.demand_snap,
                                             limit_m)  # fmt: skip
    old = eng.pairs[cat]
    eng.pairs[cat] = (np.concatenate([old[0], di]), np.concatenate([old[1], f[fj]]),
                      np.concatenate([old[2], d]))  # fmt: skip


def drop_pairs_of(eng, facility: int) -> None:
    """Pairs of ``facility`` removed."""
    for cat, (di, fj, d) in eng.pairs.items():
        keep = fj != facility
        eng.pairs[cat] = (di[keep], fj[keep], d[keep])


def shift_facilities(eng, pos: int, by: int) -> None:
    """Facility indices at or after ``pos`` (``by`` = +1, a row inserted) or after it
    (``by`` = −1, a row removed) moved by ``by`` in every search result."""
    first = pos if by > 0 else pos + 1
    for arr in [*eng.nearest.values(), *(n.facility for n in eng.node.values())]:
        arr[arr >= first] += by
    for cat, (di, fj, d) in eng.pairs.items():
        fj = fj.copy()
        fj[fj >= first] += by
        eng.pairs[cat] = (di, fj, d)


def shift_demand(eng, pos: int, count: int) -> None:
    """Demand indices at or after ``pos`` moved up by ``count`` (points inserted) in pairs."""
    for cat, (di, fj, d) in eng.pairs.items():
        di = di.copy()
        di[di >= pos] += count
        eng.pairs[cat] = (di, fj, d)


def drop_demand(eng, pos: int, count: int) -> None:
    """Pairs of demand points ``pos … pos + count − 1`` removed; later indices moved down."""
    for cat, (di, fj, d) in eng.pairs.items():
        keep = (di < pos) | (di >= pos + count)
        di = di[keep]
        eng.pairs[cat] = (np.where(di >= pos + count, di - count, di), fj[keep], d[keep])


def insert_snaps(snap: Snap, pos: int, more: Snap) -> Snap:
    """``snap`` with the snaps ``more`` inserted at ``pos``."""
    return Snap(np.insert(snap.edge, pos, more.edge), np.insert(snap.offset_m, pos, more.offset_m),
                np.insert(snap.leg_m, pos, more.leg_m))  # fmt: skip


def insert_snap(snap: Snap, pos: int, one: Snap) -> Snap:
    """``snap`` with ``one`` (a single point's snap) inserted at ``pos``."""
    return Snap(np.insert(snap.edge, pos, one.edge[0]),
                np.insert(snap.offset_m, pos, one.offset_m[0]),
                np.insert(snap.leg_m, pos, one.leg_m[0]))  # fmt: skip


def replace_snap(snap: Snap, pos: int, one: Snap) -> Snap:
    """``snap`` with point ``pos``'s snap replaced by ``one`` (a single point's snap)."""
    edge, offset, leg = snap.edge.copy(), snap.offset_m.copy(), snap.leg_m.copy()
    edge[pos], offset[pos], leg[pos] = one.edge[0], one.offset_m[0], one.leg_m[0]
    return Snap(edge, offset, leg)


def delete_snap(snap: Snap, pos: int) -> Snap:
    """``snap`` without point ``pos``."""
    return Snap(np.delete(snap.edge, pos), np.delete(snap.offset_m, pos),
                np.delete(snap.leg_m, pos))  # fmt: skip
