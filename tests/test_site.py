"""hzspatial site on the hand-worked 2 km community and through the CLI."""

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from test_population import X0, Y0, street_length_within, to_lonlat

from hzspatial import FacilityInput, run_coverage
from hzspatial.errors import DataWarning
from hzspatial.site import auto_candidates, select_sites

EXE = str(Path(sys.executable).parent / "hzspatial")
#: By hand: the streets within 1,000 m of a corner of the 2 km grid hold 6,000 of its
#: 44,000 m, so 10,000 × 6/44 residents; the two corners' reaches are 4 km apart (disjoint).
CORNER = 10_000 * street_length_within(1000.0) / 44_000


def _candidates(path: Path, points: dict) -> Path:
    lon, lat = to_lonlat([p[0] for p in points.values()], [p[1] for p in points.values()])
    pd.DataFrame({"id": list(points), "name": [f"候选 {k}" for k in points], "lon": lon,
                  "lat": lat}).to_csv(path, index=False)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def chosen(tiny_world, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    cand = _candidates(
        tmp / "cand.csv", {"NE": (X0 + 2000, Y0 + 2000), "SW2": (X0 + 200, Y0 + 200)}
    )
    res = select_sites(tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
                       tiny_world / "community.geojson", tiny_world / "community.geojson",
                       category="kindergarten", candidates=cand, add=1)  # fmt: skip
    out = tmp / "out"
    res.write(out)
    return res, out


def test_the_far_corner_is_chosen_with_its_hand_worked_gain(chosen):
    res, _ = chosen
    assert res.sites["id"].tolist() == ["NE"]
    assert res.report["already_served"] == pytest.approx(CORNER, rel=1e-3)
    assert res.report["newly_covered"] == pytest.approx(CORNER, rel=1e-3)
    assert res.report["status"] == "optimal" and res.report["gap"] == 0


def test_chosen_sites_fed_back_give_the_coverage_the_choice_promised(chosen, tiny_world):
    """sites.csv read back as a facility file: the coverage engine (nearest-facility searches,
    a different code path) finds the residents the choice said would be within reach."""
    res, out = chosen
    both = [FacilityInput(tiny_world / "kg.csv"), FacilityInput(out / "sites.csv")]
    cov = run_coverage(tiny_world / "streets.gpkg", both, tiny_world / "community.geojson",
                       tiny_world / "community.geojson",
                       spread="streets")  # the spread site uses by default  # fmt: skip
    got = cov.summary["categories"]["kindergarten"]["covered_population"]
    assert got == pytest.approx(res.report["covered_after"], rel=1e-9)
    assert got == pytest.approx(2 * CORNER, rel=1e-3)
    written = json.loads((out / "site.json").read_text("utf-8"))
    assert written["sites"] == 1 and (out / "curve.png").stat().st_size > 1000
    curve = pd.read_csv(out / "curve.csv")
    assert curve["in_rank_order"].tolist() == pytest.approx([CORNER, 2 * CORNER], rel=1e-3)
    from hzspatial.maps.site_map import curve_figure

    bnd = gpd.read_file(tiny_world / "community.geojson")
    assert res.sites["district"].notna().all()  # the area's name beside its code
    assert set(res.sites["district"]) <= set(bnd.filter(regex="name|名称").iloc[:, 0])
    ticks = curve_figure(res).axes[0].get_xticks()  # sites are counted: no tick at 0.5
    assert len(ticks) and all(float(t).is_integer() for t in ticks)


def test_curve_ends_with_the_curve_and_the_plan_label_clears_the_key(chosen):
    """#25: the axis ran to the plan's number (21) while the curve stopped at 10, and the
    "plan needs" label was printed over the key; the report said "1 new sites"."""
    import dataclasses

    from hzspatial.maps.site_map import curve_figure

    res, out = chosen
    last = int(res.curve["new_sites"].max())
    for needs in (last, last + 20):
        res2 = dataclasses.replace(res, report=res.report | {"standard": {"total": needs}})
        fig = curve_figure(res2)
        ax = fig.axes[0]
        assert ax.get_xlim()[1] <= last + 0.5
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        key = ax.get_legend().get_window_extent(renderer)
        label = next(t for t in ax.texts if "plan needs" in t.get_text())
        assert not label.get_window_extent(renderer).overlaps(key)
        assert (str(needs) in label.get_text()) and (("→" in label.get_text()) == (needs > last))
    text = (out / "site_report.html").read_text("utf-8")
    assert "1 new site " in text and "1 new sites" not in text and "Where to build:" in text
    # the new sites' walking areas: solid outlines (dashes on ragged network outlines read
    # as scribbles)
    import re

    page = (out / "map.html").read_text("utf-8")
    specs = [json.loads(m) for m in re.findall(r"var s = (\{.*?\}), data = ", page)]
    walks = [x["style"] for x in specs if x["style"].get("fillOpacity") == 0.35]
    assert walks and all("dashArray" not in w for w in walks)


def test_an_undeclared_candidates_file_names_its_own_option(tiny_world, tmp_path, caplog):
    """#25: the line saying a candidates file was assumed WGS84 told the planner to declare
    it with --facilities-crs (which does not apply to candidates)."""
    import logging

    cand = _candidates(tmp_path / "cand.csv", {"NE": (X0 + 2000, Y0 + 2000)})
    with caplog.at_level(logging.INFO, logger="hzspatial"):
        select_sites(tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
                     tiny_world / "community.geojson", tiny_world / "community.geojson",
                     category="kindergarten", candidates=cand, add=1)  # fmt: skip
    said = [r.getMessage() for r in caplog.records if "cand.csv" in r.getMessage()]
    assert any("--candidates-crs" in m for m in said), said
    assert not any("--facilities-crs" in m for m in said), said


def test_the_time_limit_counts_from_the_start_of_the_run(tiny_world, tmp_path, monkeypatch):
    """#25: --time-limit was the solver's alone, so reading and searches ran on top of it,
    then writing; now it bounds the whole command: the solver gets what reading and the
    searches leave less the seconds kept for writing (at least MIN_SOLVE_S, never more than
    the limit), counted from when the command began; an exact curve shares what the choice
    leaves and its points past the limit are said not solved, not solved late. A spy on the
    real solver records what it was given."""
    from hzspatial import site, siting

    given = []
    real = siting.maximal_covering

    def spy(*args, **kwargs):
        given.append(kwargs["time_limit"])
        return real(*args, **kwargs)

    monkeypatch.setattr(siting, "maximal_covering", spy)
    cand = _candidates(tmp_path / "cand.csv", {"NE": (X0 + 2000, Y0 + 2000)})
    args = (tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
            tiny_world / "community.geojson", tiny_world / "community.geojson")  # fmt: skip
    kw = {"category": "kindergarten", "candidates": cand, "add": 1}
    t0 = time.perf_counter()
    res = select_sites(*args, **kw, time_limit=120)
    spent = time.perf_counter() - t0
    assert res.report["sites"] == 1
    kept = site.write_reserve(120)
    assert kept == 6.0  # 5 % of the limit
    before_solve = res.report["timings"]["coverage run"] + res.report["timings"][
        "candidate catchments"]  # fmt: skip
    assert 120 - spent - kept - 1e-6 < given[0] <= 120 - before_solve - kept + 1e-6
    budget = res.report["time_limit"]
    assert budget["solver_s"] == given[0] and budget["kept_for_writing_s"] == kept
    assert not budget["overrun"] and budget["used_s"] <= spent + 1e-6
    # a command that began 100 s ago (its reading): 120 − 100 − 6 s left for the solver
    res = select_sites(*args, **kw, time_limit=120, started=time.perf_counter() - 100)
    assert 14 - (time.perf_counter() - t0 - spent) < given[-1] <= 14 + 1e-6
    # one that used the limit up before solving: the solver's minimum, and said so
    res = select_sites(*args, **kw, time_limit=120, started=time.perf_counter() - 119,
                       curve="exact")  # fmt: skip
    assert given[-1] == site.MIN_SOLVE_S and res.report["time_limit"]["overrun"]
    assert res.curve["status"].iloc[1:].eq("not solved: time limit").all()
    assert res.curve["best"].iloc[1:].isna().all() and len(given) == 3  # no curve solve
    select_sites(*args, **kw, time_limit=0.01)
    assert given[-1] == pytest.approx(0.01)
    assert site.write_reserve(0.01) == 0.0025 and site.write_reserve(10) == 1.0


def test_sites_csv_keeps_the_sites_where_they_were_chosen(chosen):
    """#25: sites.csv rounded lon/lat to 4 decimals (5–10 m), so the sites fed back moved."""
    res, out = chosen
    csv = pd.read_csv(out / "sites.csv")
    want = res.sites.to_crs(4326).geometry
    assert np.abs(csv["lon"].to_numpy() - want.x.to_numpy()).max() < 1e-9
    assert np.abs(csv["lat"].to_numpy() - want.y.to_numpy()).max() < 1e-9


def test_auto_candidates_are_thinned_junctions(tiny_world):
    from hzspatial.network import read_network

    g = read_network(tiny_world / "streets.gpkg")
    every = auto_candidates(g, 1.0)
    assert len(every) == 117  # 11 × 11 nodes but the 4 corners, where a street only bends
    sparse = auto_candidates(g, 450.0)
    xy = g.node_xy[sparse]
    cells = {tuple(c) for c in np.floor(xy / 450.0).astype(int)}
    assert len(cells) == len(sparse) < 40
    assert (auto_candidates(g, 450.0) == sparse).all()  # the same on every run


def _site(args, tiny_world, tmp):
    cmd = [EXE, "site", "--network", str(tiny_world / "streets.gpkg"), "--facilities",
           str(tiny_world / "kg.csv"), "--population", str(tiny_world / "community.geojson"),
           "--boundaries", str(tiny_world / "community.geojson"), "--category", "kindergarten",
           "--out", str(tmp / "o"), *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("too_many", "2 new sites asked for, but only 1 candidates"),
        ("empty", "the table has no data rows"),
        ("unreachable", "target 100% cannot be reached"),
        ("none_left", "no candidate site is left"),
    ],
)
def test_site_errors_are_one_line_exit_2(tiny_world, tmp_path, case, message):
    if case == "empty":
        path = tmp_path / "c.csv"
        pd.DataFrame({"id": [], "name": [], "lon": [], "lat": []}).to_csv(path, index=False)
    else:
        far = (X0 + 9000, Y0) if case == "none_left" else (X0 + 2000, Y0 + 2000)
        path = _candidates(tmp_path / "c.csv", {"A": far})
    args = {"too_many": ["--add", "2"], "empty": ["--add", "1"], "none_left": ["--add", "1"],
            "unreachable": ["--objective", "target", "--target-share", "1"]}[case]  # fmt: skip
    proc = _site(["--candidates", str(path), *args], tiny_world, tmp_path)
    assert proc.returncode == 2, proc.stderr
    err = [x for x in proc.stderr.splitlines() if x.startswith("hzspatial: error")]
    assert len(err) == 1 and message in err[0], proc.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add", "1", "--capacity", "-3", "--standard", "football_pitches_per_10000"],
         "cannot read --capacity '-3'"),
        (["--add", "1", "--capacity", "1"], "--capacity needs --standard"),
        (["--add", "1", "--per-area"], "--per-area needs --standard"),
        (["--add", "1", "--budget", "5"], "--budget needs a candidate file with a cost column"),
        (["--add", "1", "--objective", "distance", "--budget", "5"],
         "--budget works with --objective coverage only"),
        (["--add", "1", "--target-share", "0.5"], "--target-share works with --objective target"),
        (["--objective", "target", "--target-share", "0.5", "--add", "2"],
         "--add does not apply to --objective target"),
        (["--add", "1", "--capacity", "1", "--per-area"], "cannot be combined"),
        (["--objective", "target"], "needs --target-share between 0 and 1"),
        (["--add", "1", "--standard", "no_such_standard"], "is not a per-capita standard"),
        ([], "how many new sites?"),
    ],
)  # fmt: skip
def test_site_option_errors_are_one_line_exit_2(tiny_world, tmp_path, args, message):
    """Options that cannot go together, or lack what they need, stop before any output with
    one line naming the option — none is silently ignored."""
    proc = _site(args, tiny_world, tmp_path)
    assert proc.returncode == 2, proc.stderr
    err = [x for x in proc.stderr.splitlines() if x.startswith("hzspatial: error")]
    assert len(err) == 1 and message in err[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_candidates_outside_or_off_the_network_are_reported(tiny_world, tmp_path):
    path = _candidates(tmp_path / "c.csv", {"NE": (X0 + 2000, Y0 + 2000), "OUT": (X0 + 9000, Y0),
                                            "FIELD": (X0 + 1100, Y0 + 1100)})  # fmt: skip
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = select_sites(tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
                           tiny_world / "community.geojson", tiny_world / "community.geojson",
                           category="kindergarten", candidates=path, add=1,
                           max_snap_m=50.0)  # fmt: skip
    texts = [str(x.message) for x in w if issubclass(x.category, DataWarning)]
    assert any("outside the boundaries" in t and "OUT" in t for t in texts)
    assert any("from the network are left out" in t and "FIELD" in t for t in texts)
    assert res.sites["id"].tolist() == ["NE"]


def test_capacity_aware_sites_serve_no_more_than_their_pitches_allow(tiny_world, tmp_path):
    """100,000 residents on the 2 km grid; one existing pitch at the south-west corner and one
    candidate at the north-east corner, each 1 pitch = 10,000 residents at the plan's 1 per
    10,000. Each corner's reach holds 100,000 × 6/44 = 13,636 residents, so capacity binds:
    10,000 served by the existing pitch, 10,000 more by the new one (27,273 without capacity)."""
    from test_population import community

    com = community(100_000.0)
    cand = _candidates(tmp_path / "c.csv", {"NE": (X0 + 2000, Y0 + 2000)})
    common = {"category": "football_pitch", "candidates": cand, "add": 1,
              "standard": "football_pitches_per_10000"}  # fmt: skip
    pitch = FacilityInput(tiny_world / "kg.csv", category="football_pitch")
    capped = select_sites(tiny_world / "streets.gpkg", [pitch], com, com, capacity=1.0, **common)
    assert capped.report["already_served"] == pytest.approx(10_000, rel=1e-6)
    assert capped.report["covered_after"] == pytest.approx(20_000, rel=1e-6)
    assert capped.sites["newly_covered"].tolist() == pytest.approx([10_000], rel=1e-6)
    free = select_sites(tiny_world / "streets.gpkg", [pitch], com, com, **common)
    assert free.report["covered_after"] == pytest.approx(2 * 100_000 * 6 / 44, rel=1e-3)


def test_distance_objective_matches_the_coverage_engine_brute_force(tiny_world, tmp_path):
    """p-median with one new site among three: the chosen one gives the least mean walk, and
    the mean walk the choice reports equals the coverage engine's with that site added."""
    pts = {"NE": (X0 + 2000, Y0 + 2000), "MID": (X0 + 1000, Y0 + 1000), "E": (X0 + 2000, Y0)}
    cand = _candidates(tmp_path / "c.csv", pts)
    kg = FacilityInput(tiny_world / "kg.csv")
    args = (tiny_world / "streets.gpkg", [kg], tiny_world / "community.geojson",
            tiny_world / "community.geojson")  # fmt: skip
    res = select_sites(*args, category="kindergarten", candidates=cand, add=1,
                       objective="distance", reach_m=5000.0)  # fmt: skip
    means = {}
    for key in pts:
        one = _candidates(tmp_path / f"{key}.csv", {key: pts[key]})
        cov = run_coverage(args[0], [kg, FacilityInput(one, category="kindergarten")], *args[2:],
                           spread="streets")  # as site places residents
        d = cov.demand
        means[key] = float((d["population"] * d["dist_kindergarten_m"]).sum()
                           / d["population"].sum())  # fmt: skip
    best = min(means, key=means.get)
    assert res.sites["id"].tolist() == [best] == ["MID"]
    assert res.report["mean_walk_m"]["after_m"] == pytest.approx(means[best], rel=1e-6)
    assert res.report["status"] == "optimal"


def test_site_demo_shares_pitches_by_shortfall(tmp_path):
    """``hzspatial site --demo --add 12 --per-area``: the plan's 1 pitch per 10,000 leaves
    汉台区 15.42 and 南郑区 4.50 pitches short (16 and 5 rounded up, 21 in all); 12 new pitches
    shared by shortfall give 12 × 15.42/19.92 = 9.29 → 9 and 2.71 → 3 (largest remainder)."""
    out = tmp_path / "s"
    proc = subprocess.run([EXE, "site", "--demo", "--add", "12", "--per-area", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rep = json.loads((out / "site.json").read_text("utf-8"))
    std = rep["standard"]
    assert std["per_area"] == {"汉台区": 16, "南郑区": 5} and std["total"] == 21
    gaps = std["gap_by_id"]
    assert gaps["610702"] == pytest.approx(15.4236, abs=1e-3)
    assert std["sites_per_area"] == {"610702": 9, "610703": 3}
    sites = pd.read_csv(out / "sites.csv", dtype={"district_id": str})
    assert sites["district_id"].value_counts().to_dict() == {"610702": 9, "610703": 3}
    assert rep["status"] == "optimal" and rep["gap"] == 0
    assert "synthetic" in proc.stdout.lower() and "汉台区 16 more" in proc.stdout
    # the proposed sites carry their provenance: fed back, the run says they are synthetic
    assert sites["source"].str.contains("synthetic demo data").all()
    for name in ("sites.geojson", "curve.csv", "curve.png", "map.html", "site_report.html"):
        assert (out / name).stat().st_size > 0


def test_within_and_exclude_mask_the_candidates_and_runs_repeat(tiny_world, tmp_path):
    """Auto candidates masked: --exclude the north-east quarter, then --within it only; the
    same input gives the same sites on every run."""
    import geopandas as gpd
    import shapely
    from test_population import UTM48

    quarter = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 1000, Y0 + 1000, X0 + 2100, Y0 + 2100)],
                               crs=UTM48).to_crs(4326)  # fmt: skip
    quarter.to_file(tmp_path / "ne.geojson")
    args = (tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
            tiny_world / "community.geojson", tiny_world / "community.geojson")  # fmt: skip
    inside = select_sites(*args, category="kindergarten", add=2, spacing_m=150.0,
                          within=tmp_path / "ne.geojson")  # fmt: skip
    outside = select_sites(*args, category="kindergarten", add=2, spacing_m=150.0,
                           exclude=tmp_path / "ne.geojson")  # fmt: skip
    again = select_sites(*args, category="kindergarten", add=2, spacing_m=150.0,
                         exclude=tmp_path / "ne.geojson")  # fmt: skip
    box = shapely.box(*quarter.total_bounds)
    assert all(
        shapely.contains_xy(box, x, y)
        for x, y in zip(inside.sites["lon"], inside.sites["lat"], strict=True)
    )
    assert not any(shapely.contains_xy(box, x, y) for x, y in zip(outside.sites["lon"],
                                                                  outside.sites["lat"],
                                                                  strict=True))  # fmt: skip
    assert again.sites["id"].tolist() == outside.sites["id"].tolist()


def test_a_parcel_is_entered_from_its_boundary(tiny_world, tmp_path):
    """A 300 m parcel in the middle of the grid (its inside point 150 m from the nearest
    junction) reaches what its edges reach: more residents than the point inside it alone."""
    import geopandas as gpd
    import shapely
    from test_population import UTM48

    box = shapely.box(X0 + 850, Y0 + 850, X0 + 1150, Y0 + 1150)
    parcel = gpd.GeoDataFrame({"id": ["P"], "name": ["空地"]}, geometry=[box], crs=UTM48)
    parcel.to_crs(4326).to_file(tmp_path / "p.geojson")
    point = _candidates(tmp_path / "p.csv", {"P": (X0 + 1000, Y0 + 1000)})
    args = (tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
            tiny_world / "community.geojson", tiny_world / "community.geojson")  # fmt: skip
    from_edges = select_sites(*args, category="kindergarten", add=1,
                              candidates=tmp_path / "p.geojson")  # fmt: skip
    from_point = select_sites(*args, category="kindergarten", add=1, candidates=point)
    assert from_edges.report["newly_covered"] > from_point.report["newly_covered"] > 0


def test_budget_picks_the_best_affordable_sites(tiny_world, tmp_path):
    """Three candidates with costs (造价): the far corner costs 10, two cheaper ones 4 and 3.
    With a budget of 8 the far corner cannot be afforded; the choice costs at most 8 and is
    the best of the affordable sets (checked by trying each)."""
    pts = {"NE": (X0 + 2000, Y0 + 2000), "E": (X0 + 2000, Y0), "N": (X0, Y0 + 2000)}
    lon, lat = to_lonlat([p[0] for p in pts.values()], [p[1] for p in pts.values()])
    pd.DataFrame({"id": list(pts), "name": list(pts), "lon": lon, "lat": lat,
                  "造价": [10.0, 4.0, 3.0]}).to_csv(tmp_path / "c.csv", index=False)  # fmt: skip
    args = (tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
            tiny_world / "community.geojson", tiny_world / "community.geojson")  # fmt: skip
    res = select_sites(*args, category="kindergarten", candidates=tmp_path / "c.csv",
                       budget=8.0)  # fmt: skip
    assert sorted(res.sites["id"]) == ["E", "N"] and res.report["cost"] == 7.0
    assert res.sites["cost"].sum() <= 8.0
    assert res.report["newly_covered"] == pytest.approx(2 * CORNER, rel=0.01)


@pytest.mark.parametrize("kind", ["missing", "csv", "vrt", "not_json"])
def test_masks_that_are_not_polygon_layers_are_refused_in_one_line(kind, tiny_world, tmp_path):
    """site --within / --exclude with a missing, CSV, VRT or non-JSON file crashed (exit 3)."""
    mask = tmp_path / {"missing": "nope.geojson", "csv": "m.csv", "vrt": "m.geojson",
                       "not_json": "n.geojson"}[kind]  # fmt: skip
    if kind == "csv":
        mask.write_text("lon,lat\n107,33\n")
    elif kind == "vrt":
        mask.write_text("<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>CSV:/etc/"
                        "passwd</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>")  # fmt: skip
    elif kind == "not_json":
        mask.write_text("this is not json")
    for option in ("--within", "--exclude"):
        proc = _site([option, str(mask), "--add", "1", "--quiet"], tiny_world, tmp_path)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert "Traceback" not in proc.stderr and lines[-1].startswith("hzspatial: error: ")
        assert str(mask) in lines[-1]


@pytest.mark.parametrize("args", [["--spacing", "0"], ["--spacing", "nan"],
                                  ["--time-limit", "-5"], ["--budget", "-1"],
                                  ["--add", "0"], ["--minutes", "1e308"]])  # fmt: skip
def test_site_numeric_options_are_checked(args, tiny_world, tmp_path):
    """--spacing 0/nan and a negative --time-limit or --budget were accepted ("gap
    2432300.00%")."""
    proc = _site([*args, "--quiet"] + ([] if "--add" in args else ["--add", "1"]),
                 tiny_world, tmp_path)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("hzspatial: error: ")
    assert args[0] in proc.stderr


def test_candidates_near_any_resident_match_brute_force():
    """The straight-line filter before the searches (one nearest-neighbour query per
    candidate) keeps exactly the candidates within the radius of some resident."""
    import shapely

    from hzspatial.site import _near_any

    rng = np.random.default_rng(25)
    homes = shapely.points(rng.uniform(0, 5000, (3000, 2)))
    cand = shapely.points(rng.uniform(-2000, 7000, (800, 2)))
    d = np.hypot(*(shapely.get_coordinates(cand)[:, None, :]
                   - shapely.get_coordinates(homes)[None, :, :]).transpose(2, 0, 1))  # fmt: skip
    for radius in (50.0, 1600.0):
        want = np.flatnonzero((d <= radius).any(axis=1))
        np.testing.assert_array_equal(_near_any(cand, homes, radius), want)
        assert 0 < len(want) < len(cand)
    assert len(_near_any(cand, homes[:0], 100.0)) == 0


def test_sites_by_bicycle_are_said_by_bicycle_not_as_a_walk(tiny_world, tmp_path):
    """A bicycle run's threshold is 15 minutes by bicycle (its metres are equivalent walking
    metres): the report, map legend, layer and curve said "步行 1,000 米内" / "within 1,000 m"."""
    res = select_sites(tiny_world / "streets.gpkg", [FacilityInput(tiny_world / "kg.csv")],
                       tiny_world / "community.geojson", tiny_world / "community.geojson",
                       category="kindergarten", add=1, mode="bike")  # fmt: skip
    assert res.report["mode"] == "bike" and res.report["threshold_minutes"] == pytest.approx(15)
    res.write(tmp_path / "out")
    report = (tmp_path / "out" / "site_report.html").read_text("utf-8")
    page = (tmp_path / "out" / "map.html").read_text("utf-8")
    assert "骑行 15 分钟内可达" in report and "within a 15-min bike ride" in report
    assert "步行 1,000" not in report and "步行" not in page
    assert "骑行 15 分钟内" in page and "bike ride from the new sites" in page


def test_walking_sites_still_say_metres_on_foot(chosen):
    _, out = chosen
    report = (out / "site_report.html").read_text("utf-8")
    assert "步行 1,000 m 内可达" in report and "within 1,000 m" in report
    assert "新址步行范围 / walk from new sites" in (out / "map.html").read_text("utf-8")
