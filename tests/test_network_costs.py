"""Slope-aware walking and travel modes (hzspatial.network.costs), against hand-worked times and
independent references: Tobler's formula worked by hand on a ramp; networkx on directed costs
computed here (scipy's interpolation of the DEM's cells, shapely's points along the streets) on
the real OpenStreetMap streets of Longgang, Shenzhen (tests/data/osm, ODbL) with a synthetic
DEM; driving on the same streets with one-way streets, against a networkx digraph built here
from the speed table."""

import math
import re
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from scipy.interpolate import RegularGridInterpolator

from hzspatial import catchments as ct
from hzspatial.config import load
from hzspatial.errors import DataWarning, InputError
from hzspatial.network import graph_from_edges, read_network, snap_points
from hzspatial.network.costs import apply_travel, tobler_factor
from hzspatial.settings import get_settings

LONGGANG = Path(__file__).parent / "data" / "osm" / "shenzhen_longgang.osm"
UTM48 = pyproj.CRS.from_epsg(32648)
X0, Y0 = 500000.0, 3650000.0
WALK_MS = 4000 / 3600  # 4 km/h in metres per second


def write_dem(path, z, west, north, cell, crs="EPSG:4326", nodata=None, **kw):
    profile = {"driver": "GTiff", "width": z.shape[1], "height": z.shape[0], "count": 1,
               "dtype": "float32", "transform": from_origin(west, north, cell, cell), **kw}
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(z.astype("float32"), 1)
    return path


def ramp_dem(path, grade=0.1, cells=(40, 400)):
    """10 m cells in UTM 48N: z = 500 + grade × (x − X0), a plane (bilinear is exact)."""
    h, w = cells
    west = X0 - 1000
    xc = west + (np.arange(w) + 0.5) * 10
    return write_dem(path, np.tile(500 + grade * (xc - X0), (h, 1)), west, Y0 + 200, 10,
                     crs=UTM48.to_wkt())  # fmt: skip


def line_graph(xs, **kw):
    """A straight street along y = Y0 through the x positions (metres)."""
    xy = np.column_stack([X0 + np.asarray(xs, float), np.full(len(xs), Y0)])
    n = len(xs)
    return graph_from_edges(xy, np.arange(n - 1), np.arange(1, n), None, UTM48, **kw)


def seconds(metres):
    return np.asarray(metres) / WALK_MS


def test_a_ramp_walked_up_and_down_takes_toblers_time_to_the_second(tmp_path):
    """1,000 m of street up a 10 % ramp at 4 km/h on the flat. Tobler: W = 6 e^(−3.5|S+0.05|);
    up (S = 0.1): 6 e^(−0.525) = 3.5487 km/h, scaled by 4 / (6 e^(−0.175)) → 2.8188 km/h:
    1,277.16 s; down (S = −0.1): |−0.05| → the flat speed, 900.00 s."""
    dem = ramp_dem(tmp_path / "ramp.tif")
    g = apply_travel(line_graph([0, 1000]), "walk", 4.0, dem)
    up_s = 1000 / (4 / (6 * math.exp(-0.175)) * 6 * math.exp(-3.5 * 0.15) / 3.6)
    assert up_s == pytest.approx(1277.16, abs=0.01)
    np.testing.assert_allclose(seconds(g.costs.edge_cost[0]), [up_s, 900.0], atol=1e-6)
    # a facility at the top; homes at the bottom, at 300 m and 700 m: each walks uphill
    fac = snap_points(g, shapely.points([[X0 + 1000, Y0]]), 300)
    homes = snap_points(g, shapely.points([[X0, Y0], [X0 + 300, Y0], [X0 + 700, Y0 + 20]]), 300)
    d, _ = ct.demand_distances(g, ct.nearest_facility(g, fac), homes, fac)
    np.testing.assert_allclose(seconds(d), [up_s, 0.7 * up_s, 0.3 * up_s + 20 / WALK_MS],
                               atol=1e-6)  # the 20 m leg to the door: walked on the flat
    # the facility at the bottom: the same homes walk down at the flat speed
    fac = snap_points(g, shapely.points([[X0, Y0]]), 300)
    d, _ = ct.demand_distances(g, ct.nearest_facility(g, fac), homes, fac)
    np.testing.assert_allclose(seconds(d), [0.0, 270.0, 630.0 + 20 / WALK_MS], atol=1e-6)


def test_a_catchment_reaches_less_far_downhill_of_its_facility(tmp_path):
    """Homes below a facility walk up to it: within 1,000 equivalent metres (15 min) they lie
    1000 / e^0.35 = 704.7 m below it; homes above walk down at the flat speed: 1,000 m."""
    dem = ramp_dem(tmp_path / "ramp.tif")
    g = apply_travel(line_graph([-950, 0, 1200]), "walk", 4.0, dem)
    fac = snap_points(g, shapely.points([[X0 + 100, Y0]]), 300)
    poly = ct.facility_catchments(g, fac, 1000.0, buffer_m=1.0)[0]
    x0, _, x1, _ = poly.bounds
    assert x0 - X0 == pytest.approx(100 - 1000 / math.exp(0.35) - 1.0, abs=0.01)
    assert x1 - X0 == pytest.approx(100 + 1000 - 0.0 + 1.0, abs=0.01)
    flat = ct.facility_catchments(line_graph([-950, 0, 1200]), fac, 1000.0, buffer_m=1.0)[0]
    assert flat.bounds[0] - X0 == pytest.approx(100 - 1000 - 1.0, abs=0.01)
    # a proposed district's own catchment goes out from it: downhill first, so farther down
    out = ct.group_catchment(g, fac, 1000.0, buffer_m=1.0)
    assert out.bounds[0] - X0 == pytest.approx(100 - 1000 - 1.0, abs=0.01)
    assert out.bounds[2] - X0 == pytest.approx(100 + 1000 / math.exp(0.35) + 1.0, abs=0.01)


def test_bridges_take_their_ends_grade_and_steps_a_fixed_speed(tmp_path):
    """A DEM is the ground: a bridge over a 30 m deep valley must not walk down and up it
    (conveyal/r5#952 walked tunnels over hills). Steps go at 2 km/h both ways."""
    west, cell = X0 - 500, 10
    xc = west + (np.arange(200) + 0.5) * cell
    z = 500 - 30 * np.exp(-(((xc - X0 - 500) / 120) ** 2))  # the valley under the bridge
    dem = write_dem(tmp_path / "valley.tif", np.tile(z, (20, 1)), west, Y0 + 100, cell,
                    crs=UTM48.to_wkt())  # fmt: skip
    tags = {"highway": np.array(["footway", "footway", "steps"], dtype=object),
            "structure": np.array([1, 0, 0], dtype=np.int8),
            "oneway": np.zeros(3, np.int8), "oneway_bike": np.zeros(3, np.int8),
            "maxspeed": np.full(3, np.nan)}  # fmt: skip
    xy = np.array([[X0 + 200, Y0], [X0 + 800, Y0], [X0 + 200, Y0 + 50], [X0 + 800, Y0 + 50]])
    g = graph_from_edges(xy, [0, 2, 0], [1, 3, 2], None, UTM48, tags=tags, keep_largest=False)
    g = apply_travel(g, "walk", 4.0, dem)
    bridge, ground, steps = g.costs.edge_cost
    ends = tobler_factor(np.array([0.0]))[0] * 600  # the bridge's ends are level
    np.testing.assert_allclose(bridge, [ends, ends], rtol=1e-9)
    assert ground.min() > 600 * 1.02  # down into the valley and up again costs time
    np.testing.assert_allclose(steps, [50 * 4 / 2, 50 * 4 / 2])
    assert g.costs.summary["bridges"] == 1 and g.costs.summary["steps"] == 1


def test_dems_that_would_make_us_silently_wrong_are_refused(tmp_path):
    g = line_graph([0, 1000])
    no_crs = write_dem(tmp_path / "nocrs.tif", np.full((10, 10), 500.0), 0, 10, 1, crs=None)
    with pytest.raises(InputError, match="states no coordinate system"):
        apply_travel(g, "walk", 4.0, no_crs)
    elsewhere = write_dem(tmp_path / "beijing.tif", np.full((100, 100), 50.0), 116.3, 40.0,
                          1 / 3600)  # fmt: skip
    with pytest.raises(InputError, match="no elevation for 100% of the network"):
        apply_travel(g, "walk", 4.0, elsewhere)
    feet = ramp_dem(tmp_path / "ft.tif", grade=10.0)  # 500 … 10,500: not metres of ground
    with pytest.raises(InputError, match="not metres of ground height"):
        apply_travel(g, "walk", 4.0, feet)
    with pytest.raises(InputError, match="does not use it"):
        apply_travel(g, "car", 4.0, ramp_dem(tmp_path / "r.tif"))
    with pytest.raises(InputError, match="DEM file not found"):
        apply_travel(g, "walk", 4.0, tmp_path / "missing.tif")


def test_a_dem_in_decimetres_or_feet_gives_the_slopes_in_metres(tmp_path):
    """An int16 DEM stored in decimetres (scale 0.1 to metres) and one in feet (unit type
    "ft") of the same 10 % ramp: read as raw values, the first made every grade 10 × steeper
    (5,000–9,000 dm passed as metres of ground) and the second 3.3 ×. Both give the ramp's
    1,277.16 s up."""
    h, w, west = 40, 400, X0 - 1000
    metres = np.tile(500 + 0.1 * (west + (np.arange(w) + 0.5) * 10 - X0), (h, 1))
    want = apply_travel(line_graph([0, 1000]), "walk", 4.0, ramp_dem(tmp_path / "m.tif"))
    for name, values, dtype, scale, unit in (("dm", metres * 10, "int16", 0.1, "m"),
                                             ("ft", metres / 0.3048, "float32", 1.0, "ft")):
        path = tmp_path / f"{name}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype=dtype,
                           crs=UTM48.to_wkt(), transform=from_origin(west, Y0 + 200, 10, 10)
                           ) as ds:  # fmt: skip
            ds.write(np.round(values).astype(dtype) if dtype == "int16"
                     else values.astype(dtype), 1)  # fmt: skip
            ds.scales, ds.units = (scale,), (unit,)
        g = apply_travel(line_graph([0, 1000]), "walk", 4.0, path)
        np.testing.assert_allclose(seconds(g.costs.edge_cost), seconds(want.costs.edge_cost),
                                   atol=0.01, err_msg=name)  # fmt: skip
        assert seconds(g.costs.edge_cost[0, 0]) == pytest.approx(1277.16, abs=0.01)
    with rasterio.open(tmp_path / "ft.tif", "r+") as ds:
        ds.units = ("degC",)
    with pytest.raises(InputError, match="elevations are in 'degC'"):
        apply_travel(line_graph([0, 1000]), "walk", 4.0, tmp_path / "ft.tif")


def test_streets_off_the_dem_are_walked_flat_and_said(tmp_path):
    dem = ramp_dem(tmp_path / "ramp.tif")  # x from X0 − 1000 to X0 + 3000
    g = line_graph([0, 1000, 2500, 3500])
    with pytest.warns(DataWarning, match=r"1.0 km of streets \(28.6%\) .* walked as flat"):
        g = apply_travel(g, "walk", 4.0, dem)
    np.testing.assert_allclose(g.costs.edge_cost[2], [1000, 1000])
    assert g.costs.summary["flat_km_off_dem"] == pytest.approx(1.0)


def _longgang_dem(path, graph):
    """A synthetic DEM over the extract (1 arc-second, WGS84 like SRTM): two ridges."""
    lon, lat = pyproj.Transformer.from_crs(graph.crs, 4326, always_xy=True).transform(
        graph.node_xy[:, 0], graph.node_xy[:, 1])
    west, north, cell = lon.min() - 0.005, lat.max() + 0.005, 1 / 3600
    w = int((lon.max() + 0.005 - west) / cell) + 1
    h = int((north - lat.min() + 0.005) / cell) + 1
    gx, gy = np.meshgrid(np.arange(w), np.arange(h))
    z = 60 + 45 * np.sin(gx / 23.0) * np.cos(gy / 31.0) + 0.8 * gy
    write_dem(path, z, west, north, cell)
    rows = north - (np.arange(h) + 0.5) * cell
    cols = west + (np.arange(w) + 0.5) * cell
    return RegularGridInterpolator((rows[::-1], cols), z[::-1], method="linear")


def _reference_costs(graph, interp):
    """Per edge, seconds along and against its geometry: points every ≤ 30 m by shapely,
    elevations by scipy from the DEM's cells, Tobler per piece; bridges and tunnels by
    their ends; steps at 2 km/h."""
    to_ll = pyproj.Transformer.from_crs(graph.crs, 4326, always_xy=True)
    out = np.zeros((graph.n_edges, 2))
    structure, highway = graph.edge_tags["structure"], graph.edge_tags["highway"]
    for e, geom in enumerate(graph.edge_geometry):
        length = geom.length
        n = max(1, math.ceil(length / 30.0))
        pts = shapely.get_coordinates(shapely.line_interpolate_point(
            geom, np.linspace(0, length, n + 1)))  # fmt: skip
        lon, lat = to_ll.transform(pts[:, 0], pts[:, 1])
        z = interp(np.column_stack([lat, lon]))
        if highway[e] == "steps":
            out[e] = length / (2000 / 3600)
            continue
        if structure[e]:
            z = np.array([z[0], z[-1]])
            n = 1
        piece = length / n
        grade = np.diff(z) / piece
        up = np.exp(3.5 * (np.abs(grade + 0.05) - 0.05))
        down = np.exp(3.5 * (np.abs(-grade + 0.05) - 0.05))
        out[e] = [piece * up.sum() / WALK_MS, piece * down.sum() / WALK_MS]
    return out


def _digraph(graph, cost):
    G = nx.DiGraph()
    for (u, v), (a, b) in zip(zip(graph.edge_u, graph.edge_v, strict=True), cost, strict=True):
        if u == v:
            continue
        for s, t, w in ((u, v, a), (v, u, b)):
            if np.isfinite(w) and (not G.has_edge(s, t) or G[s][t]["weight"] > w):
                G.add_edge(int(s), int(t), weight=float(w))
    return G


@pytest.fixture(scope="module")
def longgang():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_network(LONGGANG, use_cache=False)


def test_slope_times_agree_with_networkx_on_real_streets(tmp_path, longgang):
    interp = _longgang_dem(tmp_path / "dem.tif", longgang)
    g = apply_travel(longgang, "walk", 4.0, tmp_path / "dem.tif")
    ref = _reference_costs(g, interp)
    np.testing.assert_allclose(seconds(g.costs.edge_cost), ref, atol=1e-3)  # float32 cells
    assert np.abs(ref[:, 0] - ref[:, 1]).max() > 30  # up and down differ on the ridges
    # residents at 300 junctions, 12 clinics at others: time to the nearest, home → clinic
    rng = np.random.default_rng(7)
    # junctions whose streets all take homes (not only tunnels, steps …: a home there joins
    # another street, and its time is not the junction's)
    closed = np.zeros(g.n_nodes, dtype=bool)
    closed[g.edge_u[~g.joinable]] = closed[g.edge_v[~g.joinable]] = True
    nodes = rng.choice(np.flatnonzero(~closed), 312, replace=False)
    fac_nodes, home_nodes = nodes[:12], nodes[12:]
    fac = snap_points(g, shapely.points(g.node_xy[fac_nodes]), 300)
    homes = snap_points(g, shapely.points(g.node_xy[home_nodes]), 300)
    got, _ = ct.demand_distances(g, ct.nearest_facility(g, fac), homes, fac)
    # a junction that also lies on a street crossing it at another level may join that one
    own = (g.edge_u[homes.edge] == home_nodes) | (g.edge_v[homes.edge] == home_nodes)
    assert own.mean() > 0.95
    assert ((g.edge_u[fac.edge] == fac_nodes) | (g.edge_v[fac.edge] == fac_nodes)).all()
    G = _digraph(g, ref)
    want = nx.multi_source_dijkstra_path_length(G.reverse(copy=True), set(fac_nodes.tolist()))
    want = np.array([want.get(int(n), np.inf) for n in home_nodes])
    np.testing.assert_allclose(seconds(got)[own], want[own], atol=1.0)  # 1 s per resident
    flat = nx.multi_source_dijkstra_path_length(
        _digraph(longgang, np.repeat(longgang.edge_length[:, None], 2, 1) / WALK_MS).reverse(),
        set(fac_nodes.tolist()))  # fmt: skip
    flat = np.array([flat.get(int(n), np.inf) for n in home_nodes])
    assert (want > flat + 1).mean() > 0.5  # the ridges slow most trips


def car_seconds(g):
    """Seconds to drive each edge (u → v, v → u), from the speed table and ``maxspeed`` by
    hand; inf against a one-way street."""
    tags, table = g.edge_tags, load("travel.toml")["modes"]["car"]
    speed = np.array([table["speeds"].get(h, table["speed_kmh"]) for h in tags["highway"]])
    speed = np.where(np.isfinite(tags["maxspeed"]), np.minimum(speed, tags["maxspeed"]), speed)
    want = np.repeat((g.edge_length / (speed / 3.6))[:, None], 2, axis=1)
    want[tags["oneway"] == 1, 1] = np.inf
    want[tags["oneway"] == -1, 0] = np.inf
    return want


def test_driving_honours_one_way_streets_on_real_streets(longgang):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        car = read_network(LONGGANG, use_cache=False, mode="car")
    g = apply_travel(car, "car", 4.0)
    tags, want = g.edge_tags, car_seconds(g)
    np.testing.assert_allclose(seconds(g.costs.edge_cost), want, rtol=1e-9)
    one = np.flatnonzero(tags["oneway"] != 0)
    assert len(one) > 20 and not np.isin(tags["highway"], ["footway", "steps"]).any()
    # every node's time to three hospitals by networkx on the digraph, and by hzspatial
    G = _digraph(g, want)
    targets = [int(x) for x in np.random.default_rng(2).choice(g.n_nodes, 3, replace=False)]
    fac = snap_points(g, shapely.points(g.node_xy[targets]), 300)
    got = seconds(ct.nearest_facility(g, fac).distance_m)
    ref = nx.multi_source_dijkstra_path_length(G.reverse(copy=True), set(targets))
    ref = np.array([ref.get(n, np.inf) for n in range(g.n_nodes)])
    # (a facility's link to its street weighs at least 1 mm: 0.001 s)
    np.testing.assert_allclose(got[np.isfinite(ref)], ref[np.isfinite(ref)], atol=0.01)
    assert np.isinf(got[~np.isfinite(ref)]).all()
    # ignoring the one-way signs would make some trips shorter: the search does not
    both = nx.multi_source_dijkstra_path_length(G.to_undirected().to_directed(), set(targets))
    both = np.array([both.get(n, np.inf) for n in range(g.n_nodes)])
    fin = np.isfinite(ref)
    assert (ref[fin] > both[fin] + 1).sum() > 10
    # homes and facilities join drivable ways only; the leg to the door is walked
    assert g.costs.summary["one_way_streets"] == len(one)


def test_a_facility_at_a_junction_is_reached_from_every_street_into_it():
    """A → B one-way, B — C both ways; a clinic at B, given a nanometre short of B (what a
    junction becomes after a round trip through degrees) snaps onto A → B: from C a car
    drives to B and is there, not sent round against the one-way street (inf here)."""
    from hzspatial.network._graph import TravelCosts, with_costs

    g = with_costs(line_graph([0, 1000, 2000]),
                   TravelCosts(np.array([[1000.0, np.inf], [1000.0, 1000.0]]), "car", 4.0, "",
                               {}))  # fmt: skip
    home = snap_points(g, shapely.points([[X0 + 2000, Y0]]), 300)
    for x in (1000 - 1e-9, 1000 - 1e-6):
        fac = snap_points(g, shapely.points([[X0 + x, Y0]]), 300)
        d, _ = ct.demand_distances(g, ct.nearest_facility(g, fac), home, fac)
        assert d[0] == pytest.approx(1000, abs=0.01)
    fac = snap_points(g, shapely.points([[X0 + 990, Y0]]), 300)  # 10 m in: the wrong way
    d, _ = ct.demand_distances(g, ct.nearest_facility(g, fac), home, fac)
    assert np.isinf(d[0])


def test_edge_tags_survive_the_graph_cache(tmp_path, monkeypatch, request):
    """A cached graph keeps its bridges, classes and one-way signs (else a second run would
    walk bridges on the ground and drive against one-way streets, silently)."""
    monkeypatch.setenv("HZSPATIAL_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = read_network(LONGGANG, use_cache=True)
        again = read_network(LONGGANG, use_cache=True)
    assert again.edge_tags is not None
    for k, x in first.edge_tags.items():
        np.testing.assert_array_equal(np.asarray(again.edge_tags[k]), np.asarray(x), err_msg=k)
    assert (first.edge_tags["structure"] == 1).sum() > 0  # Longgang has bridges


# ------------------------------------------------------------------ a mode per category


@pytest.fixture(scope="module")
def longgang_inputs(longgang):
    """4 clinics and 6 kindergartens at junctions of the real Longgang streets, 320 homes at
    others, one district around them (WGS84 frames)."""
    import geopandas as gpd
    import pandas as pd

    nodes = np.random.default_rng(3).choice(longgang.n_nodes, 330, replace=False)
    pts = gpd.GeoSeries(shapely.points(longgang.node_xy[nodes]), crs=longgang.crs).to_crs(4326)
    names = [f"龙岗社区卫生服务中心{i}" for i in range(4)] + [f"幼儿园{i}" for i in range(6)]
    fac = pd.DataFrame({"id": [f"F{i}" for i in range(10)], "name": names,
                        "category": ["clinic"] * 4 + ["kindergarten"] * 6,
                        "lon": pts.x[:10].to_numpy(), "lat": pts.y[:10].to_numpy()})  # fmt: skip
    pop = gpd.GeoDataFrame({"id": [f"R{i}" for i in range(320)], "population": 10.0},
                           geometry=pts[10:].to_numpy(), crs=4326)  # fmt: skip
    hull = shapely.convex_hull(shapely.multipoints(longgang.node_xy)).buffer(500)
    bnd = gpd.GeoDataFrame({"district_id": ["440307"], "name": ["龙岗区"]},
                           geometry=gpd.GeoSeries([hull], crs=longgang.crs).to_crs(4326))
    return fac, pop, bnd


def _build(inputs, **kw):
    from hzspatial.stages import build

    fac, pop, bnd = inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return build(LONGGANG, [fac], pop, bnd, **kw)


def test_clinics_by_car_and_kindergartens_on_foot_equal_their_own_runs(longgang_inputs):
    """``--mode clinic=car``: the clinics are searched on the car's ways and costs (one-way
    streets, no footways), the kindergartens on foot, in one run — each as its own run."""
    from hzspatial.stages import finish

    mix = _build(longgang_inputs, category_modes={"clinic": "car"})
    car = _build(longgang_inputs, mode="car")
    walk = _build(longgang_inputs)
    assert mix.modes.of == {"clinic": "car", "kindergarten": "walk"} and mix.modes.run == "walk"
    assert mix.modes.graphs["car"].n_edges < mix.graph.n_edges  # the car's own ways
    for cat, ref in (("clinic", car), ("kindergarten", walk)):
        np.testing.assert_array_equal(mix.eng.distance_m[cat], ref.eng.distance_m[cat])
        np.testing.assert_array_equal(mix.eng.nearest[cat], ref.eng.nearest[cat])
        for got, want in zip(mix.eng.pairs[cat], ref.eng.pairs[cat], strict=True):
            np.testing.assert_array_equal(got, want)
    d_car, d_walk = car.eng.distance_m["clinic"], walk.eng.distance_m["clinic"]
    both = np.isfinite(d_car) & np.isfinite(d_walk)
    assert (d_car[both] < d_walk[both]).mean() > 0.9  # minutes by car: fewer than on foot
    res, res_car = finish(mix), finish(car)
    cats = res.summary["categories"]
    assert (cats["clinic"]["mode"], cats["kindergarten"]["mode"]) == ("car", "walk")
    assert res.summary["travel"]["categories"]["clinic"]["label"] == "驾车 / car"
    # a clinic's catchment is its reach by car, drawn on the car's streets
    area = res.catchments.set_index("facility_id").to_crs(UTM48).area
    area_car = res_car.catchments.set_index("facility_id").to_crs(UTM48).area
    clinics = [f"F{i}" for i in range(4)]
    np.testing.assert_allclose(area[clinics], area_car[clinics], rtol=1e-9)
    # a walking radius (GB 50180-2018) is not judged on minutes by car; on foot it is
    notes = res.ratios.set_index("standard")["note"].fillna("")
    assert "1000 m is a walking distance, and clinic is reached by 驾车 / car" in \
        notes["health_centre_within_1000m"]  # fmt: skip
    assert "cannot check" not in notes["kindergarten_within_300m"]
    # the map says which reach is which: minutes by car, metres on foot
    from hzspatial.maps import coverage_map
    from hzspatial.report import report_page

    html = re.sub(r"\\u([0-9a-f]{4})", lambda x: chr(int(x[1], 16)),
                  coverage_map(res).get_root().render())  # layer names are JSON-escaped
    assert "驾车 15 分钟范围 / 15-min drive" in html and "no facility within a 15-min drive" in html
    assert "步行 15 分钟范围 / 15-min walk" in html and "no facility within 1,000 m" in html
    assert "驾车 15 分钟 / 15-min drive" in report_page(res)


def test_a_catalogues_travel_rules_set_mode_and_minutes_with_a_source(tmp_path, longgang_inputs):
    from hzspatial.standards import _catalogue_text, load_travel

    text = _catalogue_text("hanzhong")[0]
    rule = '\n[[travel]]\ncategory = "社区卫生服务中心"\nmode = "car"\nminutes = 30\n'
    good = tmp_path / "county.toml"
    good.write_text(text + rule + 'source = "县卫健局 乡镇卫生院 30 分钟车程"\n', "utf-8")
    b = _build(longgang_inputs, standards=str(good))
    assert b.modes.of["clinic"] == "car" and b.walk.minutes["clinic"] == 30
    assert b.walk.minutes["kindergarten"] == 15
    # the command line wins over the catalogue
    b = _build(longgang_inputs, standards=str(good), category_modes={"clinic": "walk"},
               category_minutes={"clinic": 10})  # fmt: skip
    assert b.modes.of["clinic"] == "walk" and b.walk.minutes["clinic"] == 10
    assert b.modes.graphs == {}
    for bad, needle in ((rule, "travel 1, column 'source': source missing or not text"),
                        (rule.replace('"car"', '"plane"') + 'source = "x"\n',
                         "unknown mode 'plane'"),
                        (rule.replace("30", "-5") + 'source = "x"\n', "minutes -5 is not"),
                        (rule.replace("社区卫生服务中心", "bakery") + 'source = "x"\n',
                         "unknown category 'bakery'"),
                        ((rule + 'source = "x"\n') * 2, "travel 2, column 'category': a second "
                         "rule for clinic")):  # fmt: skip
        f = tmp_path / "bad.toml"
        f.write_text(text + bad, "utf-8")
        with pytest.raises(InputError) as e:
            load_travel(f)
        assert needle in str(e.value) and str(f) in str(e.value)


def test_several_modes_refuse_what_they_cannot_answer(tmp_path, longgang, longgang_inputs):
    from hzspatial.study import Study

    fac, pop, bnd = longgang_inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        study = Study(LONGGANG, [fac], pop, bnd, category_modes={"clinic": "car"})
    assert study.result().summary["categories"]["clinic"]["mode"] == "car"
    assert study.modes == {"clinic": "car", "kindergarten": "walk"}
    with pytest.raises(InputError, match="several travel modes .clinic car, kindergarten walk"):
        study.add_facility("kindergarten", float(fac.lon[5]), float(fac.lat[5]))
    from hzspatial.workbench.session import Workbench

    with pytest.raises(InputError, match="the workbench edits a study of one travel mode"):
        Workbench(study, tmp_path / "wb")
    assert not (tmp_path / "wb").exists()
    with warnings.catch_warnings():  # one mode: the workbench says it (legend: 驾车 15 分钟内可达)
        warnings.simplefilter("ignore", DataWarning)
        by_car = Workbench(Study(LONGGANG, [fac], pop, bnd, mode="car"), tmp_path / "wb")
    assert {c["id"]: c["mode_words"] for c in by_car.categories()} == {
        "clinic": ["驾车", "drive"], "kindergarten": ["驾车", "drive"]}
    # a DEM changes walking only: with no category walking it would change nothing, silently
    with pytest.raises(InputError, match="a DEM changes walking times; --mode car"):
        _build(longgang_inputs, category_modes={"clinic": "car", "kindergarten": "car"},
               dem=ramp_dem(tmp_path / "r.tif"))  # fmt: skip
    from hzspatial.stages import build

    with pytest.raises(InputError, match="each mode reads its own ways"):
        build(longgang, [fac], pop, bnd, category_modes={"clinic": "car"})


# ------------------------------------------------ what a network file says of one-way streets


@pytest.fixture(scope="module")
def longgang_ways():
    """Every highway way of the Longgang extract as a line with its OSM tags (osmium, not
    hzspatial's reader): what a QGIS or Geofabrik export of it holds."""
    import geopandas as gpd
    import osmium

    keys = ("highway", "oneway", "junction", "maxspeed", "bridge", "tunnel", "layer")
    rows, lines = [], []
    fp = (osmium.FileProcessor(str(LONGGANG), osmium.osm.NODE | osmium.osm.WAY)
          .with_locations().with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
          .with_filter(osmium.filter.KeyFilter("highway")))  # fmt: skip
    for way in fp:
        xy = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(xy) > 1:
            rows.append({k: way.tags.get(k) for k in keys})
            lines.append(shapely.LineString(xy))
    return gpd.GeoDataFrame(rows, geometry=lines, crs=4326)


def _directions(graph):
    """Per one-way edge of a car graph: its midpoint and the unit vector of travel."""
    c = graph.costs.edge_cost
    one = np.isfinite(c[:, 0]) != np.isfinite(c[:, 1])
    mid = shapely.line_interpolate_point(graph.edge_geometry[one], 0.5, normalized=True)
    a = graph.node_xy[graph.edge_u[one]]
    b = graph.node_xy[graph.edge_v[one]]
    way = np.where(np.isfinite(c[one, 0]), 1.0, -1.0)[:, None] * (b - a)
    return mid, way / np.linalg.norm(way, axis=1)[:, None]


@pytest.fixture(scope="module")
def car_from_osm():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return apply_travel(read_network(LONGGANG, use_cache=False, mode="car"), "car")


def test_a_geofabrik_shapefile_drives_one_way_streets_as_osm_does(tmp_path, longgang_ways,
                                                                  car_from_osm):  # fmt: skip
    """Geofabrik's roads shapefile names the class ``fclass`` and writes oneway F (along the
    line) / T (against it) / B: read as booleans, F was "false" and T "true" — one-way streets
    lost and T streets driven backwards — and without ``highway`` a car could not run at all.
    Here the extract as Geofabrik writes it (half the one-way lines drawn against their
    traffic, marked T) drives like the OSM file: the same one-way streets, the same way."""
    w = longgang_ways.copy()
    one = w["oneway"].isin(["yes", "1", "true"]) | w["junction"].isin(["roundabout"])
    flip = one & (np.arange(len(w)) % 2 == 0)
    w.loc[flip, "geometry"] = shapely.reverse(w.geometry[flip].to_numpy())
    geofabrik = w.drop(columns=["highway", "junction"]).assign(
        fclass=w["highway"], oneway=np.where(flip | (w["oneway"] == "-1"), "T",
                                             np.where(one, "F", "B")),
        maxspeed=w["maxspeed"].fillna("0").str.extract(r"(\d+)")[0].fillna(0).astype(int),
        bridge=np.where(w["bridge"].isin(["yes"]), "T", "F"),
        tunnel=np.where(w["tunnel"].isin(["yes"]), "T", "F"),
        layer=w["layer"].fillna("0").astype(int))  # fmt: skip
    assert (geofabrik["oneway"] == "T").sum() > 20
    geofabrik.to_file(tmp_path / "gis_osm_roads_free_1.shp", engine="pyogrio")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = apply_travel(read_network(tmp_path / "gis_osm_roads_free_1.shp", use_cache=False,
                                      mode="car"), "car")  # fmt: skip
    assert g.costs.summary["one_way_unknown"] == 0
    ref_mid, ref_way = _directions(car_from_osm)
    mid, way = _directions(g)
    assert len(mid) >= 0.95 * len(ref_mid)
    tree = shapely.STRtree(mid)
    got = tree.query_nearest(shapely.transform(ref_mid, lambda c: c), max_distance=0.5)
    pairs = np.full(len(ref_mid), -1)
    pairs[got[0]] = got[1]
    found = pairs >= 0
    assert found.mean() > 0.95
    agree = (ref_way[found] * way[pairs[found]]).sum(axis=1) > 0.9
    assert agree.all(), f"{(~agree).sum()} one-way streets driven the wrong way"
    # the same roads are drivable: motorways kept, footways left out, by fclass
    assert g.edge_length[np.isfinite(g.costs.edge_cost).any(axis=1)].sum() == pytest.approx(
        car_from_osm.edge_length.sum(), rel=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        walk = read_network(tmp_path / "gis_osm_roads_free_1.shp", use_cache=False)
    assert not np.isin(walk.edge_tags["highway"], ["motorway", "motorway_link"]).any()
    assert np.isin(walk.edge_tags["highway"], ["footway", "steps"]).any()


def test_a_layer_with_osm_columns_keeps_what_a_car_may_use(tmp_path, longgang_ways,
                                                          car_from_osm):  # fmt: skip
    """A layer with OSM's columns was read through the walking filter whatever the mode: a
    car lost the motorways (and every road whose pavements are mapped apart, sidewalk=
    separate). Read for a car, it holds the roads the OSM file gives a car."""
    w = longgang_ways.assign(sidewalk=np.where(longgang_ways["highway"] == "primary",
                                               "separate", None))  # fmt: skip
    w.to_file(tmp_path / "roads.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = apply_travel(read_network(tmp_path / "roads.gpkg", use_cache=False, mode="car"),
                         "car")  # fmt: skip
    kept = np.isfinite(g.costs.edge_cost).any(axis=1)
    for cls in ("motorway", "primary"):
        want = car_from_osm.edge_length[car_from_osm.edge_tags["highway"] == cls].sum()
        assert want > 1000
        assert g.edge_length[kept & (g.edge_tags["highway"] == cls)].sum() == pytest.approx(
            want, rel=0.01), cls
    assert g.costs.summary["one_way_streets"] > 300


def test_a_layer_that_does_not_say_which_streets_are_one_way_is_warned_about(
        tmp_path, longgang_ways):  # fmt: skip
    longgang_ways.drop(columns=["oneway"]).to_file(tmp_path / "roads.gpkg")
    with pytest.warns(DataWarning, match=r"do not say whether they are one-way.*two-way"):
        g = apply_travel(read_network(tmp_path / "roads.gpkg", use_cache=False, mode="car"),
                         "car")  # fmt: skip
    open_to_car = np.isfinite(g.costs.edge_cost).any(axis=1).sum()
    assert g.costs.summary["one_way_unknown"] == open_to_car
    # (roundabouts say so by their junction tag: still one-way)
    assert g.costs.summary["one_way_streets"] < 100


def test_an_osmnx_walking_graph_is_refused_for_driving(car_from_osm):
    """osmnx stores a walking graph's streets both ways with oneway=False: driving on it went
    against every one-way street (365 in Longgang) without a word. Refused; a graph built
    with its one-way streets drives them."""
    import osmnx as ox

    from hzspatial.network import graph_from_networkx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        walk = graph_from_networkx(ox.graph_from_xml(LONGGANG, bidirectional=True))
        drive = graph_from_networkx(ox.graph_from_xml(LONGGANG, bidirectional=False))
    with pytest.raises(InputError, match=r"walking graph.*one-way streets are lost"):
        apply_travel(walk, "car")
    assert apply_travel(walk, "walk").costs is None  # walking on it is right
    g = apply_travel(drive, "car")
    assert g.costs.summary["one_way_streets"] == pytest.approx(
        car_from_osm.costs.summary["one_way_streets"], rel=0.02)  # (its largest piece differs)


def test_a_bureau_layer_with_chinese_road_classes_drives_by_them(tmp_path, longgang_ways):
    """A 规划局 centre-line layer names its classes in Chinese (道路等级: 主干路 …) and has no
    highway column: a car could not run on it. Read through config/road_classes_zh.toml it
    drives as the same layer with OSM's classes does, road for road (支路 at residential's
    30 km/h, as tertiary), and walking leaves out its 高速公路."""
    zh = {"motorway": "高速公路", "trunk": "快速路", "primary": "主干路", "secondary": "次干路",
          "tertiary": "支路", "residential": "支路", "unclassified": "村道"}
    roads = longgang_ways[longgang_ways["highway"].isin(list(zh))].reset_index(drop=True)
    roads[["highway", "oneway", "geometry"]].to_file(tmp_path / "osm.gpkg")
    bureau = roads.assign(道路等级=roads["highway"].map(zh), 道路名称="某路")
    bureau[["道路名称", "道路等级", "oneway", "geometry"]].to_file(tmp_path / "bureau.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = apply_travel(read_network(tmp_path / "osm.gpkg", use_cache=False, mode="car"),
                            "car")  # fmt: skip
        got = apply_travel(read_network(tmp_path / "bureau.gpkg", use_cache=False, mode="car"),
                           "car")  # fmt: skip
        walk = read_network(tmp_path / "bureau.gpkg", use_cache=False)
    assert got.n_edges == want.n_edges
    np.testing.assert_allclose(got.costs.edge_cost, want.costs.edge_cost)
    main = got.edge_tags["highway"] == "primary"
    assert main.sum() > 5  # 主干路 at 50 km/h: 4/50 of its length in walking metres
    cost = got.costs.edge_cost[main]  # (dual carriageways here: one way each)
    want_m = np.repeat(got.edge_length[main, None] * 4 / 50, 2, axis=1)
    np.testing.assert_allclose(cost[np.isfinite(cost)], want_m[np.isfinite(cost)])
    assert np.isfinite(cost).any(axis=1).all()
    assert not (walk.edge_tags["highway"] == "motorway").any()
    assert (want.edge_tags["highway"] == "motorway").any()
    # a layer of no classes at all is still refused for a car, naming what would do
    roads[["oneway", "geometry"]].to_file(tmp_path / "bare.gpkg")
    with pytest.raises(InputError, match="Chinese road classes"):
        apply_travel(read_network(tmp_path / "bare.gpkg", use_cache=False, mode="car"), "car")


def test_one_way_values_in_chinese_are_read_and_others_are_counted(tmp_path):
    """A bureau writes 单向 / 双向 / 反向 (or 是 / 否): read as values it could not parse they
    were two-way, silently. Now read; a value that is none of them is counted as unknown and
    warned about, not taken as two-way in silence."""
    import geopandas as gpd

    xs = [0, 500, 1000, 1500, 2000, 2500]
    lines = [shapely.LineString([(X0 + a, Y0), (X0 + b, Y0)]) for a, b in zip(xs[:-1], xs[1:],
                                                                              strict=True)]
    values = ["单向", "反向", "双向", "是", "单行道?"]
    gpd.GeoDataFrame({"道路等级": ["支路"] * 5, "oneway": values}, geometry=lines,
                     crs=UTM48).to_file(tmp_path / "one.gpkg")  # fmt: skip
    with pytest.warns(DataWarning, match=r"1 of 5 streets open to car do not say"):
        g = apply_travel(read_network(tmp_path / "one.gpkg", use_cache=False, node=False,
                                      mode="car"), "car")  # fmt: skip
    order = np.argsort(shapely.get_coordinates(
        shapely.line_interpolate_point(g.edge_geometry, 0.5, normalized=True))[:, 0])
    along = g.node_xy[g.edge_v, 0] > g.node_xy[g.edge_u, 0]  # u → v runs east
    east = np.where(along, np.isfinite(g.costs.edge_cost[:, 0]),
                    np.isfinite(g.costs.edge_cost[:, 1]))[order]  # fmt: skip
    west = np.where(along, np.isfinite(g.costs.edge_cost[:, 1]),
                    np.isfinite(g.costs.edge_cost[:, 0]))[order]  # fmt: skip
    assert east.tolist() == [True, False, True, True, True]
    assert west.tolist() == [False, True, True, False, True]
    assert g.costs.summary["one_way_unknown"] == 1


def test_each_residents_minutes_by_car_agree_with_networkx(car_from_osm):
    """``time_clinic_min``: each home's minutes to its nearest clinic by car, home → clinic.
    Homes and clinics stand on junctions of the car's ways; networkx on the car's directed
    costs (speeds from the table, one-way streets) gives the same, within 1 s."""
    import geopandas as gpd
    import pandas as pd

    from hzspatial.stages import finish

    g = car_from_osm
    # junctions whose streets all take homes (not motorways, tunnels …: a home there joins
    # another street, and its time is not the junction's)
    closed = np.zeros(g.n_nodes, dtype=bool)
    closed[g.edge_u[~g.joinable]] = closed[g.edge_v[~g.joinable]] = True
    nodes = np.random.default_rng(5).choice(np.flatnonzero(~closed), 205, replace=False)
    pts = gpd.GeoSeries(shapely.points(g.node_xy[nodes]), crs=g.crs).to_crs(4326)
    fac = pd.DataFrame({"id": [f"C{i}" for i in range(5)], "name": "卫生院",
                        "category": "clinic", "lon": pts.x[:5].to_numpy(),
                        "lat": pts.y[:5].to_numpy()})  # fmt: skip
    pop = gpd.GeoDataFrame({"id": [f"R{i}" for i in range(200)], "population": 10.0},
                           geometry=pts[5:].to_numpy(), crs=4326)  # fmt: skip
    hull = shapely.convex_hull(shapely.multipoints(g.node_xy)).buffer(500)
    bnd = gpd.GeoDataFrame({"district_id": ["440307"], "name": ["龙岗区"]},
                           geometry=gpd.GeoSeries([hull], crs=g.crs).to_crs(4326))
    res = finish(_build((fac, pop, bnd), mode="car"))
    want = car_seconds(g)
    ref = nx.multi_source_dijkstra_path_length(_digraph(g, want).reverse(copy=True),
                                               set(nodes[:5].tolist()))  # fmt: skip
    want_s = np.array([ref.get(int(n), np.inf) for n in nodes[5:]])
    got_s = res.demand["time_clinic_min"].to_numpy() * 60
    assert len(got_s) == 200 and np.isfinite(want_s).sum() > 150
    # (a clinic's junction, after a round trip through degrees, landed a nanometre into a
    # one-way street the wrong way in: 30 % of homes went round the block to reach it)
    agree = np.isclose(got_s, want_s, atol=1.0) | (np.isinf(got_s) & np.isinf(want_s))
    assert agree.all(), np.c_[got_s, want_s][~agree][:5]
    assert (res.demand["time_clinic_min"] <= 15).eq(res.demand["cov_clinic_15min"]).all()
    np.testing.assert_allclose(res.demand["time_clinic_min"],
                               res.demand["dist_clinic_m"] / (4000 / 60))  # fmt: skip
