"""Distances and catchments against networkx and hand-worked examples."""

import networkx as nx
import numpy as np
import pytest
import shapely

from hzspatial import catchments as ct
from hzspatial.datasets import demo_paths
from hzspatial.io import read_facilities
from hzspatial.network import read_network, snap_points


def test_minutes_to_metres():
    assert ct.minutes_to_metres(15, 4.0) == pytest.approx(1000.0)
    assert ct.minutes_to_metres(5, 3.6) == pytest.approx(300.0)


def test_river_barrier_home_across_river_not_covered(river_graph):
    # clinic at x=100 on the south bank; a home 100 m away across the river (north bank)
    fac = snap_points(river_graph, np.array([shapely.Point(100, -5)]))
    home = snap_points(river_graph, np.array([shapely.Point(100, 105), shapely.Point(600, -5)]))
    near = ct.nearest_facility(river_graph, fac)
    d, which = ct.demand_distances(river_graph, near, home, fac)
    # walk: 5 m leg + 1900 m east + 100 m bridge + 1900 m west + 5 m leg
    assert d[0] == pytest.approx(3910.0)
    assert d[1] == pytest.approx(510.0)  # same bank, same street: 5 + 500 + 5
    assert which.tolist() == [0, 0]
    poly = ct.facility_catchments(river_graph, fac, 1000.0)[0]
    assert not poly.contains(shapely.Point(100, 100))  # the opposite bank is not in it
    assert poly.contains(shapely.Point(900, 0)) and not poly.contains(shapely.Point(1300, 0))


def test_bounded_search_marks_unreachable(river_graph):
    fac = snap_points(river_graph, np.array([shapely.Point(100, 0)]))
    home = snap_points(river_graph, np.array([shapely.Point(100, 100)]))
    near = ct.nearest_facility(river_graph, fac, limit_m=1000)
    d, which = ct.demand_distances(river_graph, near, home, fac)
    assert np.isinf(d[0]) and which[0] == -1


def test_same_edge_direct_walk(river_graph):
    # facility and home on the same 100 m block: 30 m apart along it
    fac = snap_points(river_graph, np.array([shapely.Point(1020, 0)]))
    home = snap_points(river_graph, np.array([shapely.Point(1050, 0)]))
    near = ct.nearest_facility(river_graph, fac)
    d, _ = ct.demand_distances(river_graph, near, home, fac)
    assert d[0] == pytest.approx(30.0)


def test_partial_edge_cut_in_catchment(river_graph):
    # from x=1000 on the south street with 250 m: reaches x∈[750, 1250] only
    fac = snap_points(river_graph, np.array([shapely.Point(1000, 0)]))
    poly = ct.facility_catchments(river_graph, fac, 250.0, buffer_m=10.0)[0]
    assert poly.contains(shapely.Point(1240, 0)) and not poly.contains(shapely.Point(1265, 0))
    assert poly.contains(shapely.Point(760, 0)) and not poly.contains(shapely.Point(735, 0))
    assert poly.area == pytest.approx(500 * 20 + np.pi * 100, rel=0.02)


def test_facility_outside_network_excluded(river_graph):
    fac = snap_points(river_graph, np.array([shapely.Point(100, 0), shapely.Point(100, 5000)]))
    assert fac.ok.tolist() == [True, False]
    near = ct.nearest_facility(river_graph, fac)
    assert set(np.unique(near.facility)) == {0}
    polys = ct.facility_catchments(river_graph, fac, 500.0)
    assert polys[1].is_empty and not polys[0].is_empty


@pytest.fixture(scope="module")
def demo():
    g = read_network(demo_paths()["network"])
    f = read_facilities(demo_paths()["facilities"]).to_crs(g.crs)
    return g, f


def _nx_graph(g):
    G = nx.Graph()
    for u, v, w in zip(g.edge_u, g.edge_v, g.edge_length, strict=True):
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(int(u), int(v), weight=float(w))
    return G


def test_multi_source_matches_networkx_on_demo(demo):
    g, f = demo
    kg = f[f["category"] == "kindergarten"]
    snap = snap_points(g, kg.geometry.to_numpy())
    near = ct.nearest_facility(g, snap)
    # independent reference: networkx multi-source Dijkstra from a super-source joined to
    # each facility's edge ends with the same leg + offset weights
    G = _nx_graph(g)
    e = snap.edge
    for j in range(len(e)):
        src = ("f", j)
        G.add_edge(src, int(g.edge_u[e[j]]), weight=snap.leg_m[j] + snap.offset_m[j])
        G.add_edge(
            src, int(g.edge_v[e[j]]), weight=snap.leg_m[j] + g.edge_length[e[j]] - snap.offset_m[j]
        )
    ref = nx.multi_source_dijkstra_path_length(G, [("f", j) for j in range(len(e))])
    ref_arr = np.array([ref.get(i, np.inf) for i in range(g.n_nodes)])
    np.testing.assert_allclose(near.distance_m, ref_arr, rtol=1e-9, atol=1e-6)


def test_nearest_facility_is_truly_nearest(demo):
    g, f = demo
    cl = f[f["category"] == "clinic"]
    snap = snap_points(g, cl.geometry.to_numpy())
    near = ct.nearest_facility(g, snap)
    G = _nx_graph(g)
    rng = np.random.default_rng(3)
    for node in rng.choice(g.n_nodes, 5, replace=False):
        dist = nx.single_source_dijkstra_path_length(G, int(node))
        per_fac = [
            min(dist[int(g.edge_u[e])] + o, dist[int(g.edge_v[e])] + g.edge_length[e] - o) + leg
            for e, o, leg in zip(snap.edge, snap.offset_m, snap.leg_m, strict=True)
        ]
        assert near.distance_m[node] == pytest.approx(min(per_fac))
        assert per_fac[near.facility[node]] == pytest.approx(min(per_fac))


def test_catchment_contains_exactly_the_reached_nodes(demo):
    g, f = demo
    pt = f[f["category"] == "football_pitch"].iloc[[0]]
    snap = snap_points(g, pt.geometry.to_numpy())
    poly = ct.facility_catchments(g, snap, 1000.0, buffer_m=20.0)[0]
    near = ct.nearest_facility(g, snap, limit_m=1000.0)
    nodes = shapely.points(g.node_xy)
    inside = shapely.contains(poly, nodes)
    reached = np.isfinite(near.distance_m)
    assert inside[reached].all()
    # an unreached node may lie inside only when it is within the 20 m street band of a
    # reached piece, i.e. at most limit + 20 m away along the network (blocks are ≥ 80 m)
    full = ct.nearest_facility(g, snap).distance_m
    extra = ~reached & inside
    assert (full[extra] <= 1000.0 + 20.0 + 1e-6).all()


def test_several_facilities_on_one_edge_and_member_subsets(river_graph):
    # three facilities on the block x∈[1000, 1100] of the south street; home at x=1040
    fac = snap_points(
        river_graph,
        np.array([shapely.Point(1010, 0), shapely.Point(1090, 0), shapely.Point(1050, 3)]),
    )
    home = snap_points(river_graph, np.array([shapely.Point(1040, 0)]))
    sg = ct.source_graph(river_graph, fac)
    near = ct.nearest_facility(river_graph, fac, sources=sg)
    d, which = ct.demand_distances(river_graph, near, home, fac)
    assert d[0] == pytest.approx(13.0) and which[0] == 2  # 10 m along + 3 m leg
    sub = np.array([0, 1])
    near = ct.nearest_facility(river_graph, fac, members=sub, sources=sg)
    d, which = ct.demand_distances(river_graph, near, home, fac, members=sub)
    assert d[0] == pytest.approx(30.0) and which[0] == 0


def test_street_pieces_run_through_junctions_and_buffer_the_same():
    """Catchment bands are buffered from lines that run through junctions (far fewer round
    caps for GEOS to union): a crossing of four arms becomes its two straight streets, a T its
    straight street and the stem; the band is the same to within a square metre, and neither
    the order nor the direction of the pieces changes the result."""
    import shapely

    from hzspatial.catchments import _join_through

    arms = [((0, 0), (100, 0)), ((0, 0), (-100, 0)), ((0, 0), (0, 100)), ((0, 0), (0, -100)),
            # a T at (300, 0): a street bending by 10 degrees through it, and a stem
            ((300, 0), (200, 0)), ((300, 0), (398.5, 17.4)), ((300, 0), (300, -80))]  # fmt: skip
    pieces = shapely.linestrings(arms)
    multi = np.array([shapely.multilinestrings(pieces[:4]), shapely.multilinestrings(pieces[4:])],
                     dtype=object)  # fmt: skip
    joined = shapely.line_merge(_join_through(multi))
    assert list(shapely.get_num_geometries(joined)) == [2, 2]
    straight = sorted(shapely.length(shapely.get_parts(joined[1])).round(1))
    assert straight == [80.0, 200.0]  # the bent street through the T, the stem alone
    before = shapely.buffer(shapely.line_merge(multi), 30, quad_segs=2)
    after = shapely.buffer(joined, 30, quad_segs=2)
    assert (shapely.area(shapely.symmetric_difference(before, after)) < 1.0).all()
    # pieces shuffled and some reversed: exactly the same band
    rng = np.random.default_rng(1)
    order = rng.permutation(4)
    flipped = np.where(rng.random(4) < 0.5, shapely.reverse(pieces[:4]), pieces[:4])[order]
    again = shapely.line_merge(_join_through(np.array([shapely.multilinestrings(flipped)])))
    assert shapely.equals_exact(shapely.buffer(again[0], 30, quad_segs=2), after[0], 1e-9)


def _nx_pairs(g, fsnap, dsnap, limit):
    """(demand, facility) → metres within ``limit`` by networkx, one search per facility
    from its edge ends (leg + offset), to each demand point's edge ends (and along a shared
    edge directly)."""
    G = _nx_graph(g)
    out = {}
    for j in np.flatnonzero(fsnap.ok):
        e = fsnap.edge[j]
        start = {int(g.edge_u[e]): fsnap.leg_m[j] + fsnap.offset_m[j],
                 int(g.edge_v[e]): fsnap.leg_m[j] + g.edge_length[e] - fsnap.offset_m[j]}
        dist = {}
        for node, d0 in start.items():
            for k, d in nx.single_source_dijkstra_path_length(G, node, cutoff=limit).items():
                dist[k] = min(dist.get(k, np.inf), d0 + d)
        for i in np.flatnonzero(dsnap.ok):
            ed = dsnap.edge[i]
            d = min(dist.get(int(g.edge_u[ed]), np.inf) + dsnap.offset_m[i],
                    dist.get(int(g.edge_v[ed]), np.inf) + g.edge_length[ed] - dsnap.offset_m[i])
            if ed == e:
                d = min(d, fsnap.leg_m[j] + abs(fsnap.offset_m[j] - dsnap.offset_m[i]))
            d += dsnap.leg_m[i]
            if d <= limit:
                out[(int(i), int(j))] = d
    return out


def test_many_facilities_searched_by_tiles_equal_networkx(monkeypatch):
    """Hundreds of candidate sites spread over a city are searched tile by tile, each on the
    streets within reach of its tile (the whole network per search cost 124 s of a 100,000 ×
    20,000 siting run, now 12 s): the pairs within reach equal networkx's, and equal the
    untiled searches; a network with a street shorter than its straight line (lengths
    imported from elsewhere) is searched whole."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from synth import UTM48, grid_network

    from hzspatial.network import graph_from_edges

    s = grid_network(2500, 0, seed=4)
    xy = np.column_stack([s.x, s.y])
    g = graph_from_edges(xy, s.u, s.v, s.lines(), UTM48, keep_largest=False, source="grid")
    rng = np.random.default_rng(5)
    pts = lambda n: shapely.points(xy[rng.integers(0, len(xy), n)] + rng.uniform(-40, 40, (n, 2)))  # noqa: E731
    fsnap, dsnap = snap_points(g, pts(40), 100.0), snap_points(g, pts(300), 100.0)
    monkeypatch.setattr(ct, "_TILE_SOURCES", 8)  # 40 sources: tiles of ~2 × 400 m
    assert len(list(ct._source_tiles(g, ct.source_graph(g, fsnap), 400.0))) > 4
    di, fj, d = ct.facility_demand_pairs(g, fsnap, dsnap, 400.0)
    got = dict(zip(zip(di.tolist(), fj.tolist(), strict=True), d.tolist(), strict=True))
    want = _nx_pairs(g, fsnap, dsnap, 400.0)
    assert got.keys() == want.keys() and len(got) > 100
    np.testing.assert_allclose([got[k] for k in want], list(want.values()), rtol=1e-9, atol=1e-6)
    monkeypatch.setattr(ct, "_TILE_SOURCES", 10**9)
    whole = ct.facility_demand_pairs(g, fsnap, dsnap, 400.0)
    assert sorted(zip(whole[0].tolist(), whole[1].tolist(), strict=True)) == sorted(got)
    # a street imported shorter than the straight line between its ends: no tiles
    monkeypatch.setattr(ct, "_TILE_SOURCES", 8)
    g.edge_length[0] = 0.5 * np.hypot(*(xy[g.edge_u[0]] - xy[g.edge_v[0]]))
    assert len(list(ct._source_tiles(g, ct.source_graph(g, fsnap), 400.0))) == 1
