"""Snapping rules (config/snapping.toml): which streets homes and facilities may join, on
hand-built OpenStreetMap files, GraphML and centre-line layers."""

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from hzspatial.errors import InputError
from hzspatial.network import graph_from_networkx, read_network, snap_points, snap_rules
from hzspatial.network.rules import SnapRules

LON0, LAT0 = 107.02, 33.07
M_LAT = 110_950.0  # metres per degree of latitude near 33° N (approximate: tests allow 1 %)
M_LON = M_LAT * np.cos(np.radians(LAT0))


def deg(x: float, y: float) -> tuple[float, float]:
    return LON0 + x / M_LON, LAT0 + y / M_LAT


def osm_file(path: Path, ways: list[tuple[list[tuple[float, float]], dict]]) -> Path:
    """An .osm XML file of ways given as metre coordinates (shared points share a node)."""
    ids: dict[tuple[float, float], int] = {}
    for coords, _ in ways:
        for c in coords:
            ids.setdefault(c, len(ids) + 1)
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6'>"]
    for (x, y), i in ids.items():
        lon, lat = deg(x, y)
        lines.append(f"<node id='{i}' version='1' lat='{lat:.8f}' lon='{lon:.8f}'/>")
    for w, (coords, tags) in enumerate(ways, start=1):
        nds = "".join(f"<nd ref='{ids[c]}'/>" for c in coords)
        tg = "".join(f"<tag k='{k}' v='{v}'/>" for k, v in tags.items())
        lines.append(f"<way id='{w}' version='1'>{nds}{tg}</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


STREET = {"highway": "residential"}
# a street along y = 0 and, 10 m north of it, another way joining it at both ends
BESIDE = [([(0, 0), (100, 0), (200, 0)], STREET)]


def twin(tags: dict) -> list:
    return [*BESIDE, ([(0, 0), (0, 10), (200, 10), (200, 0)], tags)]


def home_leg(tmp_path: Path, tags: dict, **kw) -> float:
    """Leg (m) of a home 2 m south of the northern way (8 m north of the street)."""
    kw.setdefault("use_cache", False)
    g = read_network(osm_file(tmp_path / "n.osm", twin(tags)), **kw)
    x, y = deg(100, 8)
    import pyproj

    pt = pyproj.Transformer.from_crs(4326, g.crs, always_xy=True).transform(x, y)
    snap = snap_points(g, shapely.points([pt]))
    return float(snap.leg_m[0])


@pytest.mark.parametrize(
    "tags",
    [
        {"highway": "footway", "tunnel": "yes"},
        {"highway": "footway", "layer": "-1"},
        {"highway": "steps"},
        {"highway": "trunk_link"},
        {"highway": "service", "access": "no"},
        {"highway": "footway", "tunnel": "YES"},
    ],
)
def test_excluded_way_is_walked_but_not_joined(tmp_path, tags):
    """The home is 2 m from the excluded way and 8 m from the street: it joins the street
    (before the rules it joined whichever was nearest: 2 m)."""
    assert home_leg(tmp_path, tags) == pytest.approx(8.0, rel=0.02)
    g = read_network(tmp_path / "n.osm", use_cache=False)
    assert g.snap_ok is not None and (~g.snap_ok).sum() == 1  # still part of the network
    assert g.edge_length.sum() == pytest.approx(200 + 220, rel=0.01)


@pytest.mark.parametrize(
    "tags",
    [{"highway": "footway"}, {"highway": "footway", "tunnel": "no"}, {"highway": "footway",
     "layer": "1", "bridge": "yes"}, {"highway": "footway", "access": "yes"}],
)  # fmt: skip
def test_allowed_way_is_joined(tmp_path, tags):
    assert home_leg(tmp_path, tags) == pytest.approx(2.0, rel=0.02)


def test_rules_file_replaces_the_shipped_rules(tmp_path, monkeypatch):
    from hzspatial.settings import get_settings

    rules = tmp_path / "rules.toml"
    rules.write_text('[exclude]\nhighway = "footway"\n', encoding="utf-8")
    monkeypatch.setenv("HZSPATIAL_SNAP_RULES", str(rules))
    monkeypatch.setenv("HZSPATIAL_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    try:
        assert snap_rules().source == str(rules)
        # tunnels are joined now, footways not; the cache keeps the two apart
        assert home_leg(tmp_path, {"highway": "path", "tunnel": "yes"}, use_cache=True) == (
            pytest.approx(2.0, rel=0.02))  # fmt: skip
        assert home_leg(tmp_path, {"highway": "footway"}, use_cache=True) == pytest.approx(
            8.0, rel=0.02)  # fmt: skip
        rules.write_text("[exclude]\nhighway = 'steps(\n", encoding="utf-8")
        with pytest.raises(InputError, match="rules.toml"):
            snap_rules()
        rules.write_text('[exlude]\nhighway = "steps"\n', encoding="utf-8")  # misspelt
        with pytest.raises(InputError, match="unknown snapping rule 'exlude'"):
            snap_rules()
        rules.write_text('[exclude]\nhighway = ["steps", "trunk_link"]\n', encoding="utf-8")
        with pytest.raises(InputError, match="exclude.highway is not text"):
            snap_rules()
        rules.write_text("[levels]\nlowest = 0\n", encoding="utf-8")
        with pytest.raises(InputError, match="levels.lowest"):
            snap_rules()
    finally:
        get_settings.cache_clear()


def test_shipped_rules_say_what_the_readme_says():
    r = snap_rules()
    assert dict(r.exclude) == {"tunnel": "yes|true|1|y|t|是", "access": "no",
                               "highway": "steps|motorway_link|trunk_link"}  # fmt: skip
    assert r.lowest_layer == 0
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    assert "config/snapping.toml" in readme and "HZSPATIAL_SNAP_RULES" in readme


def test_nothing_allowed_within_max_snap_leaves_the_point_off_network(tmp_path):
    g = read_network(osm_file(tmp_path / "n.osm", twin({"highway": "steps"})), use_cache=False)
    import pyproj

    pt = pyproj.Transformer.from_crs(4326, g.crs, always_xy=True).transform(*deg(100, 12))
    snap = snap_points(g, shapely.points([pt]), max_snap_m=5.0)  # steps 2 m, street 12 m
    assert not snap.ok[0]


def test_merged_osmnx_edges_are_excluded_only_when_every_part_is():
    r = SnapRules.from_dict({"exclude": {"highway": "steps"}}, "t")
    assert not r.allowed({"highway": "steps"})
    assert not r.allowed({"highway": ["steps", "steps"]})
    assert not r.allowed({"highway": "['steps', 'steps']"})  # as GraphML stores lists
    assert r.allowed({"highway": ["footway", "steps"]})
    assert r.allowed({"highway": "['footway', 'steps']"})
    assert r.allowed({})


def test_graphml_edge_attributes(tmp_path):
    """An osmnx graph whose second street is a tunnel: the edge stays, homes skip it."""
    import osmnx as ox

    G = nx.MultiDiGraph(crs="epsg:32648")
    for n, (x, y) in enumerate([(0, 0), (200, 0)]):
        G.add_node(n, x=x + 500_000.0, y=y + 3_660_000.0)
    north = shapely.LineString([(500_000, 3_660_000), (500_000, 3_660_010),
                                (500_200, 3_660_010), (500_200, 3_660_000)])  # fmt: skip
    G.add_edge(0, 1, highway="residential", length=200.0)
    G.add_edge(0, 1, highway="footway", tunnel="yes", geometry=north, length=220.0)
    ox.save_graphml(G, tmp_path / "g.graphml")
    for g in (graph_from_networkx(G), read_network(tmp_path / "g.graphml", use_cache=False)):
        assert g.n_edges == 2 and g.snap_ok.tolist().count(False) == 1
        snap = snap_points(g, shapely.points([(500_100, 3_660_008)]))
        assert snap.leg_m[0] == pytest.approx(8.0)


@pytest.mark.parametrize("flag", ["yes", "1", "TRUE", "Y", "是"])
def test_centerline_tunnel_flags_as_planners_write_them(tmp_path, flag):
    gdf = gpd.GeoDataFrame(
        {"tunnel": [None, flag]},
        geometry=[shapely.LineString([(0, 0), (200, 0)]),
                  shapely.LineString([(0, 0), (0, 10), (200, 10), (200, 0)])],
        crs=32648,
    )  # fmt: skip
    gdf.geometry = gdf.geometry.translate(500_000, 3_660_000)
    gdf.to_file(tmp_path / "c.gpkg")
    g = read_network(tmp_path / "c.gpkg", use_cache=False)
    snap = snap_points(g, shapely.points([(500_050, 3_660_008)]))
    assert snap.leg_m[0] == pytest.approx(8.0)


def test_centerline_columns_and_pieces(tmp_path):
    """A centre-line layer with a TUNNEL column: the tunnel line, split where a street
    meets it, keeps its rule on every piece."""
    gdf = gpd.GeoDataFrame(
        {"TUNNEL": [None, "yes", None], "name": ["路", "隧道", "支路"]},
        geometry=[shapely.LineString([(0, 0), (200, 0)]),
                  shapely.LineString([(0, 0), (0, 10), (200, 10), (200, 0)]),
                  shapely.LineString([(100, 10), (100, 60)])],
        crs=32648,
    )  # fmt: skip
    gdf.geometry = gdf.geometry.translate(500_000, 3_660_000)
    gdf.to_file(tmp_path / "c.gpkg")
    g = read_network(tmp_path / "c.gpkg", use_cache=False)
    assert g.n_edges == 4 and (~g.snap_ok).sum() == 2  # the tunnel in two pieces
    snap = snap_points(g, shapely.points([(500_050, 3_660_008), (500_100, 3_660_030)]))
    assert snap.leg_m == pytest.approx([8.0, 0.0])


def test_equidistant_streets_go_to_the_lowest_edge():
    from conftest import UTM48, lines

    from hzspatial.network import graph_from_lines

    g = graph_from_lines(lines([(0, 0), (0, 100)], [(0, 100), (20, 100)], [(20, 100), (20, 0)],
                               [(20, 0), (0, 0)]), UTM48)  # fmt: skip
    pts = shapely.points([(10, 50)] * 3)
    snap = snap_points(g, pts)
    left = [i for i in range(g.n_edges) if np.allclose(g.node_xy[[g.edge_u[i], g.edge_v[i]], 0], 0)]
    right = [i for i in range(g.n_edges) if np.allclose(g.node_xy[[g.edge_u[i], g.edge_v[i]], 0],
                                                         20)]  # fmt: skip
    assert (snap.edge == min(left + right)).all()


def test_edge_list_graph_honours_the_rules_like_the_geometry_graph():
    from conftest import UTM48

    from hzspatial.network import graph_from_edges

    xy = np.array([[0, 0], [100, 0], [0, 10], [100, 10]], dtype=float)
    u, v, ok = np.array([0, 2, 0, 1]), np.array([1, 3, 2, 3]), np.array([True, False, True, True])
    pts = shapely.points([(50, 8), (50, 2), (50, 30)])
    straight = snap_points(graph_from_edges(xy, u, v, None, UTM48, snap_ok=ok), pts)
    lines = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    drawn = snap_points(graph_from_edges(xy, u, v, lines, UTM48, snap_ok=ok), pts)
    assert straight.edge.tolist() == drawn.edge.tolist() == [0, 0, 0]
    assert straight.leg_m == pytest.approx([8.0, 2.0, 30.0])


def test_cli_snap_rules_option(tiny_world, tmp_path):
    """--snap-rules replaces the shipped rules for the run (here: no street may be joined, so
    no resident reaches the network) and a bad file stops the run in one line."""
    import json
    import subprocess
    import sys

    exe = str(Path(sys.executable).parent / "hzspatial")
    args = [exe, "coverage", "--network", str(tiny_world / "streets.gpkg"), "--facilities",
            str(tiny_world / "kg.csv"), "--population", str(tiny_world / "community.geojson"),
            "--boundaries", str(tiny_world / "community.geojson"),
            "--no-standards-check"]  # fmt: skip
    env = {"HZSPATIAL_NO_CACHE": "1", "PATH": "/usr/bin:/bin"}
    ok = tmp_path / "ok<b>.toml"  # the report names it, escaped
    ok.write_text('[exclude]\nhighway = "steps"\n', encoding="utf-8")
    proc = subprocess.run([*args, "--snap-rules", str(ok), "--out", str(tmp_path / "a"), "--json",
                           "--quiet"], capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["network"]["snapping_rules"] == str(ok.resolve())
    report = (tmp_path / "a" / "report.html").read_text("utf-8")
    assert "ok&lt;b&gt;.toml" in report and "ok<b>" not in report
    none = tmp_path / "none.toml"
    none.write_text('[exclude]\nhighway = "residential"\n', encoding="utf-8")
    proc = subprocess.run([*args, "--snap-rules", str(none), "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 2 and "of the network" in proc.stderr, proc.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[exclude\n", encoding="utf-8")
    proc = subprocess.run([*args, "--snap-rules", str(bad), "--out", str(tmp_path / "c")],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 2 and "bad.toml" in proc.stderr and "--snap-rules" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "c").exists()


def test_new_streets_of_a_proposal_are_joinable_and_old_rules_stay(tmp_path):
    """with_streets (review): the tunnel stays not joinable after the merge, even the pieces
    of it that a new street splits; the new street may be joined."""
    from hzspatial.network import with_streets

    g = read_network(osm_file(tmp_path / "n.osm", twin({"highway": "footway", "tunnel": "yes"})),
                     use_cache=False)  # fmt: skip
    import pyproj

    tr = pyproj.Transformer.from_crs(4326, g.crs, always_xy=True)
    (ax, bx), (ay, by) = tr.transform([deg(100, 10)[0], deg(100, 60)[0]],
                                      [deg(100, 10)[1], deg(100, 60)[1]])  # fmt: skip
    merged = with_streets(g, np.array([shapely.LineString([(ax, ay), (bx, by)])]))
    tunnel = ~merged.snap_ok
    assert tunnel.sum() == 2  # the tunnel, split where the new street meets it
    assert merged.edge_length[tunnel].sum() == pytest.approx(g.edge_length[~g.snap_ok].sum())
    x, y = tr.transform(*deg(140, 8))  # 2 m from the tunnel, 8 m from the old street
    assert snap_points(merged, shapely.points([(x, y)])).leg_m[0] == pytest.approx(8, rel=0.02)
    x, y = tr.transform(*deg(103, 40))  # 3 m from the new street
    assert snap_points(merged, shapely.points([(x, y)])).leg_m[0] == pytest.approx(3, rel=0.02)


def test_auto_site_candidates_are_not_underground(tmp_path):
    """Junctions reached only by excluded ways (a tunnel's dead end) are no candidate sites."""
    from hzspatial.site import auto_candidates

    ways = [*BESIDE, ([(100, 0), (100, -40)], {"highway": "footway", "tunnel": "yes"}),
            ([(200, 0), (200, -40)], {"highway": "footway"})]  # fmt: skip
    g = read_network(osm_file(tmp_path / "n.osm", ways), use_cache=False)
    import pyproj

    tr = pyproj.Transformer.from_crs(4326, g.crs, always_xy=True)
    xy = g.node_xy[auto_candidates(g, spacing_m=1.0)]
    lonlat = np.column_stack(tr.transform(*xy.T, direction="INVERSE"))
    dead_tunnel, dead_path = np.array(deg(100, -40)), np.array(deg(200, -40))
    assert not np.isclose(lonlat, dead_tunnel, atol=1e-7).all(axis=1).any()
    assert np.isclose(lonlat, dead_path, atol=1e-7).all(axis=1).any()


@pytest.mark.parametrize("pattern", ["(a+)+", "(a|aa)+", "(x)\\\\1", "(?:a{1,2}){2,}"])
def test_rules_that_could_backtrack_for_ever_are_refused(pattern, tmp_path):
    """A rule (a+)+ against a long tag ran past 7 minutes: such shapes stop at once."""
    from hzspatial.network.rules import snap_rules

    p = tmp_path / "rules.toml"
    p.write_text(f'[exclude]\nhighway = "{pattern}"\n', encoding="utf-8")
    with pytest.raises(InputError, match="exclude.highway") as e:
        snap_rules(p)
    assert "hours" in str(e.value)


def test_rules_excluding_every_street_are_named_not_blamed_on_distance(tmp_path):
    """Rules excluding every street made every home and facility "too far" (wrong reason)."""
    import geopandas as gpd
    import shapely

    from hzspatial.network import read_network
    from hzspatial.network.rules import snap_rules

    p = tmp_path / "streets.geojson"
    gpd.GeoDataFrame({"highway": ["residential", "footway"]},
                     geometry=[shapely.LineString([(107.03, 33.07), (107.04, 33.07)]),
                               shapely.LineString([(107.04, 33.07), (107.04, 33.08)])],
                     crs=4326).to_file(p)  # fmt: skip
    r = tmp_path / "rules.toml"
    r.write_text('[exclude]\nhighway = "residential|footway"\n', encoding="utf-8")
    with pytest.raises(InputError, match="exclude every street"):
        read_network(p, use_cache=False, rules=snap_rules(r))
