"""Facilities and residents straight from a real OpenStreetMap extract of Longgang, Shenzhen
(ODbL, tests/data/osm), against an independent computation: osmnx's features and walk
graph, edges densified every 2 m, homes and facilities joined to the nearest vertex by a
straight geodesic leg, networkx Dijkstra."""

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

pytest.importorskip("osmnx")
import osmnx as ox  # noqa: E402
from _helsinki import osmnx_walk_graph  # noqa: E402

from hzspatial import run_coverage  # noqa: E402
from hzspatial.io.osm import OSM_SOURCE, read_osm_facilities, read_osm_residents  # noqa: E402

LONGGANG = Path(__file__).parent / "data" / "osm" / "shenzhen_longgang.osm"

GEOD = pyproj.Geod(ellps="WGS84")
HOMES = ["residential", "apartments", "house", "detached", "semidetached_house", "terrace",
         "dormitory", "bungalow"]  # fmt: skip


def osmnx_features():
    """Kindergartens, soccer pitches and homes as osmnx reads them (one row per feature)."""
    f = ox.features_from_xml(LONGGANG, tags={"amenity": "kindergarten", "leisure": "pitch",
                                             "building": HOMES})  # fmt: skip
    f = f.reset_index()
    kg = f[f.get("amenity").eq("kindergarten")]
    sport = f.get("sport").fillna("").str.split(";").map(lambda v: "soccer" in v)
    pitch = f[f.get("leisure").eq("pitch") & sport]
    homes = f[f.get("building").isin(HOMES) & (f.geom_type != "Point")]
    return kg, pitch, homes


def reference_distances(G, sources, targets, step=2.0):
    """Metres from the nearest source to each target: every osmnx edge densified to ≤ step,
    points joined to their nearest vertex by a geodesic leg, networkx multi-source Dijkstra."""
    H = nx.Graph()
    xy = []
    for a, b, k, d in G.to_undirected().edges(keys=True, data=True):
        line = d.get("geometry") or shapely.LineString(
            [(G.nodes[a]["x"], G.nodes[a]["y"]), (G.nodes[b]["x"], G.nodes[b]["y"])])  # fmt: skip
        start = np.array(line.coords[0])
        if np.hypot(*(start - (G.nodes[a]["x"], G.nodes[a]["y"]))) > np.hypot(
            *(start - (G.nodes[b]["x"], G.nodes[b]["y"]))
        ):  # undirected copies may store the geometry from b to a
            line = line.reverse()
        length = GEOD.geometry_length(line)
        n = max(1, int(np.ceil(length / step)))
        pts = shapely.get_coordinates(shapely.line_interpolate_point(
            line, np.linspace(0, 1, n + 1), normalized=True))  # fmt: skip
        ids = [("n", a)] + [("e", a, b, k, i) for i in range(1, n)] + [("n", b)]
        for i in range(n):
            _, _, w = GEOD.inv(*pts[i], *pts[i + 1])
            H.add_edge(ids[i], ids[i + 1], length=abs(w))
        xy += list(zip(ids, pts, strict=True))
    keys = [k for k, _ in xy]
    coords = np.array([p for _, p in xy])
    # nearest vertex in metres (a local equirectangular scale), not in degrees
    scale = np.array([np.cos(np.radians(coords[:, 1].mean())), 1.0])
    tree = shapely.STRtree(shapely.points(coords * scale))

    def join(points):
        local = shapely.points(shapely.get_coordinates(points) * scale)
        idx = tree.query_nearest(local, all_matches=False)[1]
        legs = [abs(GEOD.inv(p.x, p.y, *coords[i])[2]) for p, i in zip(points, idx, strict=True)]
        return [keys[i] for i in idx], np.array(legs)

    src, src_leg = join(sources)
    for s, leg in zip(src, src_leg, strict=True):
        H.add_edge("source", s, length=min(leg, H["source"][s]["length"])
                   if H.has_edge("source", s) else leg)  # fmt: skip
    dist = nx.single_source_dijkstra_path_length(H, "source", weight="length")
    tgt, tgt_leg = join(targets)
    return np.array([dist.get(t, np.inf) for t in tgt]) + tgt_leg


def study_area(G) -> gpd.GeoDataFrame:
    """One area around the street network (the hull of osmnx's nodes, +~200 m)."""
    nodes = shapely.multipoints([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
    return gpd.GeoDataFrame({"name": ["龙岗"]}, geometry=[shapely.convex_hull(nodes).buffer(0.002)],
                            crs=4326)  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    G = osmnx_walk_graph(tmp_path_factory.mktemp("longgang"), LONGGANG)
    return G, osmnx_features()


def test_facilities_from_osm_tags_match_osmnx(reference):
    _, (kg, pitch, _) = reference
    fac = read_osm_facilities(LONGGANG)
    assert sorted(fac.loc[fac["category"] == "kindergarten", "name"]) == sorted(kg["name"])
    got = fac[fac["category"] == "football_pitch"]
    assert sorted(got["facility_id"].str.split("-").str[-1].astype(int)) == sorted(pitch["id"])
    assert (fac["source"] == OSM_SOURCE).all()
    areas = got["area_m2"].to_numpy()
    ref_areas = pitch.set_index("id").loc[
        got["facility_id"].str.split("-").str[-1].astype(int), "geometry"]  # fmt: skip
    geod_areas = [abs(GEOD.geometry_area_perimeter(g)[0]) for g in ref_areas]
    assert areas == pytest.approx(geod_areas, rel=2e-3)


def test_residents_spread_by_floor_area(reference):
    """10,000 persons over the homes osmnx reads, by footprint (geodesic) × building:levels."""
    _, (_, _, homes) = reference
    res = read_osm_residents(LONGGANG, population_total=10_000)
    assert res["population"].sum() == pytest.approx(10_000)
    levels = pd.to_numeric(homes["building:levels"], errors="coerce").fillna(1).clip(lower=1)
    assert levels.max() > 1  # the extract maps some storeys
    floor = [abs(GEOD.geometry_area_perimeter(g)[0]) for g in homes.geometry] * levels
    expected = pd.Series((10_000 * floor / floor.sum()).to_numpy(), index=homes["id"].to_numpy())
    got = pd.Series(res["population"].to_numpy(),
                    index=res["demand_id"].str.split("-").str[-1].astype(int))  # fmt: skip
    assert got.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy(), rel=2e-3)


def test_coverage_from_osm_alone_agrees_with_networkx(reference):
    G, (kg, pitch, homes) = reference
    res = run_coverage(LONGGANG, [], None, study_area(G), facilities_from_osm=True,
                       residents_from_osm=True, population_total=10_000)  # fmt: skip
    d = res.demand
    assert (d["placed"] == "polygon").all() and len(d) == len(homes)
    home_pts = (pd.Series(shapely.point_on_surface(homes.geometry.to_numpy()),
                          index=homes["id"].to_numpy()))  # fmt: skip
    ids = d["area_id"].str.split("-").str[-1].astype(int)
    for cat, feats in (("kindergarten", kg), ("football_pitch", pitch)):
        ref = reference_distances(G, shapely.point_on_surface(feats.geometry.to_numpy()),
                                  home_pts.loc[ids].to_numpy())  # fmt: skip
        got = d[f"dist_{cat}_m"].to_numpy()
        # 2 m densification (two joins) + UTM scale vs the ellipsoid (≤ 0.1 %)
        tol = 2.0 + 1e-3 * ref
        assert (np.abs(got - ref) < tol).all(), cat
        clear = np.abs(ref - 1000.0) > 3.0
        assert (got[clear] <= 1000.0).tolist() == (ref[clear] <= 1000.0).tolist()
    assert res.summary["synthetic_inputs"] == []


def test_cli_runs_on_an_osm_extract_alone(reference, tmp_path):
    import json
    import subprocess
    import sys

    study_area(reference[0]).to_file(tmp_path / "area.geojson")
    exe = str(Path(sys.executable).parent / "hzspatial")
    out = tmp_path / "out"
    proc = subprocess.run(
        [exe, "coverage", "--network", str(LONGGANG), "--facilities-from-osm",
         "--residents-from-osm", "--population-total", "10000", "--boundaries",
         str(tmp_path / "area.geojson"), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["population"] == 10_000
    assert set(summary["categories"]) == {"kindergarten", "football_pitch"}
    assert "DATA: synthetic" not in proc.stdout
    bad = subprocess.run([exe, "coverage", "--network", str(tmp_path / "area.geojson"),
                          "--facilities-from-osm", "--residents-from-osm",
                          "--population-total", "5"],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    errors = [ln for ln in bad.stderr.splitlines() if ln.startswith("hzspatial: error")]
    assert bad.returncode == 2 and len(errors) == 1 and "Traceback" not in bad.stderr
    assert "--network to be an .osm.pbf/.osm file" in errors[0]
