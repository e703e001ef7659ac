"""Graph building and edge snapping against hand-worked geometry."""

import numpy as np
import pytest
import shapely
from conftest import UTM48, lines

from hzspatial.datasets import demo_paths
from hzspatial.errors import InputError
from hzspatial.network import graph_from_edges, graph_from_lines, read_network, snap_points


def test_shared_endpoints_become_junctions():
    g = graph_from_lines(
        lines([(0, 0), (100, 0)], [(100, 0), (100, 50)], [(100, 50), (0, 0)]), UTM48
    )
    assert g.n_nodes == 3 and g.n_edges == 3
    assert sorted(g.edge_length.round(6)) == [50.0, 100.0, round(np.hypot(100, 50), 6)]
    assert (g.adjacency != g.adjacency.T).nnz == 0


def test_parallel_edges_keep_shortest_and_loops_kept_for_snapping():
    loop = [(0, 0), (-10, 10), (-20, 0), (-10, -10), (0, 0)]
    g = graph_from_lines(lines([(0, 0), (100, 0)], [(0, 0), (50, 40), (100, 0)], loop), UTM48)
    assert g.n_nodes == 2 and g.n_edges == 3
    assert g.adjacency[0, 1] == pytest.approx(100.0)
    assert g.adjacency.diagonal().sum() == 0  # a loop never shortens a path
    # a home beside the loop's far side joins the loop: 2 m leg + half its length
    snap = snap_points(g, shapely.points([(-22, 0)]))
    assert g.edge_u[snap.edge[0]] == g.edge_v[snap.edge[0]]
    assert snap.leg_m[0] == pytest.approx(2.0)
    from hzspatial import catchments as ct

    fac = snap_points(g, shapely.points([(100, 0)]))
    near = ct.nearest_facility(g, fac)
    d, _ = ct.demand_distances(g, near, snap, fac)
    assert d[0] == pytest.approx(100 + 2 * np.hypot(10, 10) + 2.0)


def test_disconnected_piece_dropped_and_reported():
    from hzspatial.errors import DataWarning

    with pytest.warns(DataWarning, match="dropped 1 disconnected pieces"):  # 20 %: a warning
        g = graph_from_lines(
            lines([(0, 0), (100, 0)], [(100, 0), (200, 0)], [(500, 500), (530, 540)]), UTM48
        )
    assert g.n_nodes == 3 and g.dropped_nodes == 2
    assert g.dropped_length_m == pytest.approx(50.0)


def test_snap_mid_block_keeps_offset_and_leg():
    g = graph_from_lines(lines([(0, 0), (200, 0)], [(200, 0), (200, 200)]), UTM48)
    s = snap_points(
        g,
        np.array([shapely.Point(70, 30), shapely.Point(230, 120), shapely.Point(900, 900)]),
        max_snap_m=300,
    )
    e0 = int(
        np.flatnonzero(
            (g.edge_length == 200)
            & (g.node_xy[g.edge_u][:, 1] == 0)
            & (g.node_xy[g.edge_v][:, 1] == 0)
        )[0]
    )
    assert s.edge[0] == e0 and s.offset_m[0] == pytest.approx(
        70 if g.node_xy[g.edge_u[e0]][0] == 0 else 130
    )
    assert s.leg_m[0] == pytest.approx(30) and s.leg_m[1] == pytest.approx(30)
    assert not s.ok[2]


def test_demo_network_reads_and_is_large_enough():
    g = read_network(demo_paths()["network"])
    assert g.n_nodes >= 5000
    assert g.crs.to_epsg() == 32648
    assert g.labels == ("synthetic demo data",)


def test_network_without_lines(tmp_path):
    import geopandas as gpd

    p = tmp_path / "pts.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(107, 33)], crs=4326).to_file(p)
    with pytest.raises(InputError, match="no walkable street lines") as e:
        read_network(p)
    assert "pts.geojson" in str(e.value)


def test_edge_list_graph_snaps_like_geometry_graph():
    """Straight-segment graphs (no geometries) snap with a k-d tree; same answers as STRtree."""
    from hzspatial.network import graph_from_edges

    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 2000, (400, 2))
    u = rng.integers(0, 400, 900)
    v = rng.integers(0, 400, 900)
    lines = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    with_geom = graph_from_edges(xy, u, v, lines, UTM48, keep_largest=False)
    bare = graph_from_edges(xy, u, v, None, UTM48, keep_largest=False)
    assert bare.lines is None
    np.testing.assert_allclose(bare.edge_length, with_geom.edge_length)
    pts = shapely.points(rng.uniform(-100, 2100, (300, 2)))
    s1 = snap_points(with_geom, pts, max_snap_m=150)
    s2 = snap_points(bare, pts, max_snap_m=150)
    assert "edge_geometry" not in bare.__dict__  # no geometry was built to snap
    np.testing.assert_array_equal(s1.ok, s2.ok)
    np.testing.assert_allclose(s2.leg_m[s2.ok], s1.leg_m[s1.ok], atol=1e-9)
    # the same snapped position (the edge may differ where several edges tie, e.g. at a node)
    ok = s1.ok
    p1 = shapely.line_interpolate_point(with_geom.edge_geometry[s1.edge[ok]], s1.offset_m[ok])
    p2 = shapely.line_interpolate_point(bare.edge_geometry[s2.edge[ok]], s2.offset_m[ok])
    assert shapely.distance(p1, p2).max() < 1e-6
    assert shapely.equals_exact(bare.edge_geometry, with_geom.edge_geometry, 1e-9).all()


def test_truncated_cache_file_is_discarded_and_rebuilt(tmp_path, monkeypatch, caplog):
    """A cache entry cut short (disk full, killed run) must not break every later run."""
    from hzspatial.datasets import demo_paths
    from hzspatial.network import read_network
    from hzspatial.settings import get_settings

    monkeypatch.setenv("HZSPATIAL_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        first = read_network(demo_paths()["network"])
        (entry,) = (tmp_path / "graphs").glob("*.npz")
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
        again = read_network(demo_paths()["network"])
        assert again.n_edges == first.n_edges
        assert "discarding unreadable cached graph" in caplog.text
        assert np.load(entry)["edge_u"].shape == first.edge_u.shape  # cached again, whole
    finally:
        get_settings.cache_clear()


def test_line_ends_meet_by_distance_without_folding_short_segments(caplog):
    """A dead end 0.3 m from a junction closes the gap; two junctions 0.3 m apart stay two;
    a 20 m curve drawn as 0.2 m segments keeps its 20 m (a 0.5 m grid folded it, and split
    ends 0.1 m apart that straddle a cell edge)."""
    import logging

    from hzspatial import catchments as ct

    caplog.set_level(logging.INFO, logger="hzspatial")
    r = 40 / np.pi  # a quarter circle of 20 m from (100, 0) to (100 + r, r), 0.2 m segments
    t = np.linspace(0, np.pi / 2, 101)
    arc = np.column_stack([100 + r * np.sin(t), r - r * np.cos(t)])
    segs = [[tuple(arc[i]), tuple(arc[i + 1])] for i in range(100)]
    g = graph_from_lines(lines(
        [(0, 0), (50, 0)], [(50, 0), (50, 50)], [(50.3, 0.0), (100, 0)],  # a gap of 0.3 m
        [(50, 50), (60, 30)], [(60, 30), (0, 0)],  # a junction, and 0.28 m from it another
        [(60.2, 30.2), (50, 50)], [(60.2, 30.2), (90, 80)], *segs), UTM48)  # fmt: skip
    fac = snap_points(g, shapely.points([(0, 0)]))
    home = snap_points(g, shapely.points([(100 + r, r)]))
    d, _ = ct.demand_distances(g, ct.nearest_facility(g, fac), home, fac)
    assert d[0] == pytest.approx(100 - 0.3 + 20, abs=0.01)
    for xy in ((60.2, 30.2), (60, 30)):
        assert (np.hypot(*(g.node_xy - xy).T) < 0.01).sum() == 1
    assert "closed 1 gaps of less than 0.5 m between line ends" in caplog.text


def test_a_network_in_two_halves_says_how_much_is_dropped_and_where(tmp_path):
    """A disconnected network silently dropped 44 % of its streets and ran on half the area."""
    import warnings

    import geopandas as gpd
    import shapely

    from hzspatial.errors import DataWarning
    from hzspatial.network import read_network

    west = [shapely.LineString([(107.00 + i * 0.002, 33.00), (107.00 + i * 0.002, 33.01)])
            for i in range(5)] + [shapely.LineString([(107.00, 33.005), (107.008, 33.005)])]
    east = [shapely.affinity.translate(g, xoff=0.05) for g in west[:-1]] + [
        shapely.LineString([(107.05, 33.005), (107.058, 33.005)])]  # a shorter half
    p = tmp_path / "halves.geojson"
    gpd.GeoDataFrame({"highway": ["residential"] * 12}, geometry=west + east,
                     crs=4326).to_file(p)  # fmt: skip
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        read_network(p, use_cache=False)
    text = " ".join(str(w.message) for w in seen if issubclass(w.category, DataWarning))
    assert "dropped 1 disconnected pieces" in text and "% of street length" in text
    assert "spans x" in text


def test_a_cached_network_says_again_what_its_build_said(tmp_path, monkeypatch):
    """The warnings of a network's build (here half its streets dropped) were said on the
    first run only: a run on the cached graph was silent about them."""
    import warnings

    import geopandas as gpd
    import shapely

    from hzspatial.errors import DataWarning
    from hzspatial.network import read_network
    from hzspatial.settings import get_settings

    monkeypatch.setenv("HZSPATIAL_CACHE_DIR", str(tmp_path / "cache"))
    west = [shapely.LineString([(107.00 + i * 0.002, 33.00), (107.00 + i * 0.002, 33.01)])
            for i in range(5)] + [shapely.LineString([(107.00, 33.005), (107.008, 33.005)])]
    east = [shapely.affinity.translate(g, xoff=0.05) for g in west[:-1]] + [
        shapely.LineString([(107.05, 33.005), (107.058, 33.005)])]
    p = tmp_path / "halves.geojson"
    gpd.GeoDataFrame(geometry=west + east, crs=4326).to_file(p)
    said = []
    get_settings.cache_clear()
    try:
        for _ in range(2):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                read_network(p, use_cache=True)
            said.append(sorted(str(w.message) for w in seen
                               if issubclass(w.category, DataWarning)))  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert any("dropped 1 disconnected pieces" in x for x in said[0])
    assert said[1] == said[0]
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 1  # the second came from it


def test_zero_length_lines_are_skipped_with_a_count(tmp_path):
    """Lines whose points are all the same (exports leave them) crashed the noding with a
    GEOSException; they are skipped and counted like other unusable features."""
    import geopandas as gpd
    import shapely

    from hzspatial.errors import DataWarning
    from hzspatial.network import read_network

    grid = [shapely.LineString([(107.0 + i * 0.002, 33.0), (107.0 + i * 0.002, 33.01)])
            for i in range(3)] + [shapely.LineString([(107.0, 33.005), (107.004, 33.005)])]
    x, y = 107.002, 33.005
    flat = [shapely.LineString([(x, y), (x, y)]), shapely.LineString([(x, y), (x, y), (x, y)])]
    p = tmp_path / "flat.geojson"
    gpd.GeoDataFrame(geometry=grid + flat, crs=4326).to_file(p)
    with pytest.warns(DataWarning, match=r"2 features with no length .* skipped \(features 5, 6"):
        g = read_network(p, use_cache=False)
    assert g.n_edges >= 4
    bad = tmp_path / "one_point.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {}, "geometry": {"type": "LineString", "coordinates": '
                   '[[107.0, 33.0]]}}]}')  # fmt: skip
    with pytest.raises(InputError, match="one_point.geojson.*a geometry cannot be read"):
        read_network(bad, use_cache=False)


def test_edge_list_snapping_sweep_equals_the_kd_tree(monkeypatch):
    """Few points are snapped by a sweep over the edges' midpoints (no k-d tree import, ~0.1 s);
    many by the k-d tree: both give the same edge, offset and leg for every point."""
    import pyproj

    from hzspatial.network import snap as snap_mod

    rng = np.random.default_rng(3)
    side = 40
    xy = np.stack(np.meshgrid(np.arange(side) * 90.0, np.arange(side) * 110.0), -1).reshape(-1, 2)
    xy += rng.normal(0, 8, xy.shape)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    g = graph_from_edges(xy, u, v, None, pyproj.CRS.from_epsg(32648), keep_largest=False)
    pts = shapely.points(rng.uniform(-400, 4000, (300, 2)))
    sweep = snap_mod.snap_points(g, pts, 300.0)
    monkeypatch.setattr(snap_mod, "SWEEP_CANDIDATES", 0)
    tree = snap_mod.snap_points(g, pts, 300.0)
    assert (sweep.edge == tree.edge).all() and (sweep.edge >= 0).sum() > 200
    ok = sweep.edge >= 0
    np.testing.assert_array_equal(sweep.offset_m[ok], tree.offset_m[ok])
    np.testing.assert_array_equal(sweep.leg_m[ok], tree.leg_m[ok])
    # both equal to the nearest street by GEOS on the streets' geometries, whether the point
    # lies within the first close reach (FIRST_SNAP_M) or only within max_snap_m
    assert len(g.edge_geometry) == g.n_edges  # built: snap_points now takes the STRtree path
    geos = snap_mod.snap_points(g, pts, 300.0)
    assert (sweep.edge == geos.edge).all()
    np.testing.assert_allclose(sweep.leg_m[ok], geos.leg_m[ok], atol=1e-9)
    np.testing.assert_allclose(sweep.offset_m[ok], geos.offset_m[ok], atol=1e-6)
    near = sweep.leg_m[ok] <= snap_mod.FIRST_SNAP_M
    assert near.sum() > 50 and (~near).sum() > 50


def test_unsaved_editor_objects_with_negative_ids_are_named(tmp_path):
    """A street drawn in JOSM and not uploaded has nodes with negative ids; libosmium keeps no
    location for them, so the street silently vanished (or the file was said to have no
    walkable ways). Now the file is refused with the reason and the fix."""
    nodes = "".join(f"<node id='{i}' lat='33.07{i % 10}' lon='107.02{i % 10}'/>"
                    for i in (1, 2, 3))  # fmt: skip
    nodes += "<node id='-1' lat='33.075' lon='107.025'/><node id='-2' lat='33.076' lon='107.025'/>"
    ways = ("<way id='10'><nd ref='1'/><nd ref='2'/><nd ref='3'/>"
            "<tag k='highway' v='residential'/></way>"
            "<way id='-3'><nd ref='3'/><nd ref='-1'/><nd ref='-2'/>"
            "<tag k='highway' v='footway'/></way>")  # fmt: skip
    path = tmp_path / "edited.osm"
    path.write_text(f"<?xml version='1.0'?><osm version='0.6'>{nodes}{ways}</osm>", "utf-8")
    with pytest.raises(InputError, match=r"2 nodes of walkable ways have negative ids.*renumber"):
        read_network(path, use_cache=False)
