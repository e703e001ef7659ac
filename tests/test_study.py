"""The editable study: after any sequence of edits its result equals a fresh run on the edited
inputs, field by field (distances to 1e-6 m), and undoing every edit gives the study as built.
Checked on the demo (synthetic demo data) and on the real OpenStreetMap streets of Longgang,
Shenzhen (tests/data/osm, ODbL) with facilities beside real streets."""

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _demo import near_street_points, same_values
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hzspatial import Study, demo_inputs, run_coverage
from hzspatial.errors import InputError
from hzspatial.network import read_network

LONGGANG = Path(__file__).parent / "data" / "osm" / "shenzhen_longgang.osm"


def fresh_run(study: Study, inputs: dict):
    """``run_coverage`` on the study's edited inputs: its facilities (and residents) as
    tables, its thresholds and speed — nothing shared with the study but the input files."""
    kw = study.run_inputs()
    assert kw["network"] == inputs["network"] and kw["boundaries"] == inputs["boundaries"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_coverage(**kw)


def close(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    assert (np.isnan(a) == np.isnan(b)).all(), what
    assert (np.isinf(a) == np.isinf(b)).all(), what
    ok = np.isfinite(a) & np.isfinite(b)
    np.testing.assert_allclose(a[ok], b[ok], rtol=1e-9, atol=1e-6, err_msg=what)


def assert_same(got, want):
    """Every table of two coverage results equal (numbers to 1e-9 relative / 1e-6 absolute)."""
    cats = list(want.summary["categories"])
    assert list(got.summary["categories"]) == cats
    # facilities at one spot are equally near to everyone: either may be "the nearest"
    site = {**_sites(got.facilities), **_sites(want.facilities)}
    for c in cats:
        close(got.demand[f"dist_{c}_m"], want.demand[f"dist_{c}_m"], f"distances to {c}")
        a = got.demand[f"nearest_{c}"].map(site).fillna("-").to_numpy()
        b = want.demand[f"nearest_{c}"].map(site).fillna("-").to_numpy()
        assert (a == b).all(), c
        same_values(got.summary["categories"][c], want.summary["categories"][c], c)
    key = ["standard", "district_id"]
    r1 = got.ratios.sort_values(key).reset_index(drop=True)
    r2 = want.ratios.sort_values(key).reset_index(drop=True)
    assert r1[key].equals(r2[key])
    for col in ("value", "gap", "supply", "residents", "required", "catchment_access_mean",
                "share_residents_below_target"):
        close(r1[col], r2[col], f"standards {col}")
    assert r1["met"].astype(str).equals(r2["met"].astype(str))
    assert r1["note"].fillna("").equals(r2["note"].fillna(""))
    for name in ("districts", "underserved_table", "by_area"):
        a, b = getattr(got, name), getattr(want, name)
        assert list(a.columns) == list(b.columns), name
        for col in a.columns:
            if pd.api.types.is_numeric_dtype(b[col]) and b[col].dtype != bool:
                close(a[col], b[col], f"{name}.{col}")
            else:
                assert a[col].astype(str).equals(b[col].astype(str)), f"{name}.{col}"
    f1 = got.facilities.set_index("facility_id")
    f2 = want.facilities.set_index("facility_id").loc[f1.index]
    close(f1["residents_in_reach"], f2["residents_in_reach"], "residents_in_reach")
    served1 = f1.groupby(f1.index.map(site))["residents_served"].sum()
    served2 = f2.groupby(f2.index.map(site))["residents_served"].sum()
    close(served1, served2.loc[served1.index], "residents_served")
    assert (f1["district_id"].fillna("-") == f2["district_id"].fillna("-")).all()
    u1 = got.underserved.groupby(["category", "kind"])["residents"].sum()
    u2 = want.underserved.groupby(["category", "kind"])["residents"].sum()
    close(u1, u2.loc[u1.index], "underserved areas")
    a1 = got.catchments.to_crs(3857).set_index("facility_id").area
    a2 = want.catchments.to_crs(3857).set_index("facility_id").area.loc[a1.index]
    close(a1, a2, "catchment areas")


def _sites(fac) -> dict:
    """Facility id → its spot (category and position to 1e-9°)."""
    g = fac.geometry
    return dict(zip(fac["facility_id"], fac["category"] + "@" + g.x.round(9).astype(str) + ","
                    + g.y.round(9).astype(str), strict=True))  # fmt: skip


@pytest.fixture(scope="module")
def demo():
    inputs = demo_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = Study(**inputs)
    return study, inputs, study.result()


def test_a_study_as_built_is_run_coverage(demo):
    study, inputs, base = demo
    assert_same(base, run_coverage(**inputs))
    assert study.build_seconds > 0 and "build" not in base.timings  # stages only, no sum
    assert repr(study) == (f"Study(6,910 nodes, {len(base.facilities)} facilities in 5 "
                           f"categories, {len(base.demand):,} demand points, 0 edits)")


def test_a_result_without_underserved_areas_counts_the_same(demo):
    """Siting asks for no underserved areas (4 s of tracing for a city of 100,000 homes): the
    summary and every table are those of the full result, the layer empty, nothing cached."""
    study, _, base = demo
    fresh = Study(**demo_inputs())
    quick = fresh.result(underserved_areas=False)
    assert len(quick.underserved) == 0 and len(base.underserved) > 0
    assert quick.summary["underserved"] == base.summary["underserved"]
    for name in ("underserved_table", "by_area", "districts", "ratios"):
        pd.testing.assert_frame_equal(getattr(quick, name), getattr(base, name))
    assert fresh.result() is not quick and len(fresh.result().underserved) == len(base.underserved)


def test_edits_of_every_kind_equal_a_fresh_run_and_undo_restores(demo):
    study, inputs, base = demo
    graph = read_network(inputs["network"])
    lon, lat = near_street_points(graph, n=6, seed=3)
    fac = study.facilities
    eld = fac.loc[fac["category"] == "elderly_care", "facility_id"].iloc[0]
    kg = fac.loc[fac["category"] == "kindergarten", "facility_id"].iloc[2]
    pitch = fac.loc[fac["category"] == "football_pitch", "facility_id"].iloc[1]
    changes = [
        study.add_facility("football_pitch", lon[0], lat[0], pitches=2, name="新球场"),
        study.add_facility("elderly_care", lon[1], lat[1], subtype="daycare", area_m2=600),
        study.move_facility(kg, lon[2], lat[2]),
        study.remove_facility(pitch),
        study.update_facility(eld, beds=80, area_m2=900),
        study.update_facility(eld, subtype="nursing_home"),
        study.set_minutes("clinic", 10),
        study.set_speed(3.6),
        study.add_facility("clinic", lon[3], lat[3]),
    ]
    assert len(study.edits) == 9
    assert [e["op"] for e in study.result().summary["study_edits"]] == [e["op"] for e in
                                                                       study.edits]  # fmt: skip
    # the change of an added pitch: covered residents up, its standard's supply up
    first = changes[0]
    assert first.categories["football_pitch"]["covered_after"] >= \
        first.categories["football_pitch"]["covered_before"]  # fmt: skip
    assert set(first.standards["standard"]) >= {"football_pitches_per_10000"}
    assert changes[6].categories["clinic"]["covered_after"] < \
        changes[6].categories["clinic"]["covered_before"]  # fmt: skip
    assert_same(study.result(), fresh_run(study, inputs))
    # undo three, redo one: still a fresh run's result
    study.undo()
    study.undo()
    study.undo()
    study.redo()
    assert [e["op"] for e in study.edits][-1] == "set_minutes"
    assert_same(study.result(), fresh_run(study, inputs))
    while study.undo() is not None:
        pass
    assert study.edits == []
    assert_same(study.result(), base)
    assert list(study.facilities["facility_id"]) == list(base.facilities["facility_id"])


def test_the_change_reports_what_a_fresh_run_shows(demo):
    """The Change's numbers are the results' own: covered residents, standards, districts."""
    study, inputs, base = demo
    graph = read_network(inputs["network"])
    lon, lat = near_street_points(graph, n=1, seed=8)
    change = study.add_facility("kindergarten", lon[0], lat[0], places=120)
    after = study.result()
    kg = change.categories["kindergarten"]
    assert kg["covered_before"] == pytest.approx(
        base.summary["categories"]["kindergarten"]["covered_population"])
    assert kg["covered_after"] == pytest.approx(
        after.summary["categories"]["kindergarten"]["covered_population"])
    study_rows = after.ratios.set_index(["standard", "district_id"])
    for r in change.standards.itertuples():
        want = study_rows.loc[(r.standard, r.district_id), "value"]
        assert r.value_after == pytest.approx(want, nan_ok=True)
    for r in change.districts.itertuples():
        row = after.districts.set_index("district_id").loc[r.district_id]
        assert r.covered_after == pytest.approx(row[f"{r.category}_covered"])
    u = after.summary["underserved"]["kindergarten"]
    assert change.underserved["kindergarten"]["no_facility"][1] == pytest.approx(u["no_facility"])
    assert change.to_dict()["edit"]["op"] == "add_facility"
    study.undo()


def test_edits_refused_with_one_line_and_nothing_changed(demo):
    study, _, base = demo
    fac = study.facilities
    n = len(fac)
    with pytest.raises(InputError, match="not in the study"):
        study.add_facility("hospital", 107.0, 33.0)
    with pytest.raises(InputError, match="farther than .* from every street"):
        study.add_facility("clinic", 100.0, 20.0)
    with pytest.raises(InputError, match="no facility 'nope'"):
        study.remove_facility("nope")
    with pytest.raises(InputError, match="lon"):
        study.move_facility(fac["facility_id"].iloc[0], float("nan"), 33.0)
    with pytest.raises(InputError, match="unknown facility attribute"):
        study.update_facility(fac["facility_id"].iloc[0], colour="red")
    with pytest.raises(InputError, match="unknown subtype 'daycare' for category clinic"):
        study.update_facility(fac.loc[fac["category"] == "clinic", "facility_id"].iloc[0],
                              subtype="daycare")
    with pytest.raises(InputError, match="already in the study"):
        study.add_facility("clinic", 107.02, 33.07, facility_id=fac["facility_id"].iloc[0])
    assert len(study.facilities) == n and study.edits == []


def test_the_last_facility_of_a_category_cannot_go(tmp_path):
    inputs = demo_inputs()
    fac = pd.read_csv(inputs["facilities"][0].path)
    one = pd.concat([fac[fac["category"] != "football_pitch"],
                     fac[fac["category"] == "football_pitch"].head(1)])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = Study(inputs["network"], [one], inputs["population"], inputs["boundaries"])
    only = one[one["category"] == "football_pitch"]["id"].iloc[0]
    with pytest.raises(InputError, match="last football_pitch"):
        study.remove_facility(only)


def _random_edits(study, data, lon, lat, n):
    """Up to ``n`` edits of every kind drawn by hypothesis (refused ones skipped)."""
    cats = list(study.minutes)
    for _ in range(n):
        op = data.draw(st.sampled_from(["add", "add", "move", "remove", "update", "subtype",
                                        "minutes", "speed", "undo", "redo"]))  # fmt: skip
        fac = study.facilities
        i = data.draw(st.integers(0, len(fac) - 1))
        j = data.draw(st.integers(0, len(lon) - 1))
        fid = fac["facility_id"].iloc[i]
        try:
            if op == "add":
                study.add_facility(data.draw(st.sampled_from(cats)), lon[j], lat[j],
                                   capacity=data.draw(st.integers(0, 500)))  # fmt: skip
            elif op == "move":
                study.move_facility(fid, lon[j], lat[j])
            elif op == "remove":
                study.remove_facility(fid)
            elif op == "update":
                study.update_facility(fid, beds=data.draw(st.integers(0, 200)),
                                      area_m2=data.draw(st.integers(0, 3000)))  # fmt: skip
            elif op == "subtype":
                study.update_facility(fid, subtype=data.draw(
                    st.sampled_from(["daycare", "nursing_home", "日间照料中心", "health_centre"])))
            elif op == "minutes":
                study.set_minutes(data.draw(st.sampled_from(cats)),
                                  data.draw(st.sampled_from([5, 10, 15, 20])))  # fmt: skip
            elif op == "speed":
                study.set_speed(data.draw(st.sampled_from([3.0, 4.0, 4.5])))
            elif op == "undo":
                study.undo()
            else:
                study.redo()
        except InputError:
            pass


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          phases=(Phase.generate,))  # a failing sequence is shown whole, not shrunk for hours
@given(data=st.data())
def test_property_fifty_random_edits_on_the_demo(demo, data):
    study, inputs, base = demo
    graph = read_network(inputs["network"])
    lon, lat = near_street_points(graph, n=60, seed=5)
    try:
        _random_edits(study, data, lon, lat, 50)
        assert_same(study.result(), fresh_run(study, inputs))
    finally:  # the next example starts from the study as built
        while study.undo() is not None:
            pass
        study._undone.clear()
    assert_same(study.result(), base)


@pytest.fixture(scope="module")
def longgang(tmp_path_factory):
    """Real streets; clinics, kindergartens and elderly care beside them; 200 homes."""
    tmp = tmp_path_factory.mktemp("study_osm")
    graph = read_network(LONGGANG)
    rng = np.random.default_rng(4)
    pts = graph.edge_geometry[rng.choice(graph.n_edges, 260, replace=False)]
    xy = shapely.get_coordinates(shapely.line_interpolate_point(pts, 0.5, normalized=True))
    xy += rng.uniform(-12, 12, xy.shape)
    ll = gpd.GeoSeries(shapely.points(xy), crs=graph.crs).to_crs(4326)
    cats = ["clinic"] * 8 + ["kindergarten"] * 12 + ["elderly_care"] * 10
    fac = pd.DataFrame({"facility_id": [f"F{i}" for i in range(30)], "category": cats,
                        "lon": ll.x[:30].to_numpy(), "lat": ll.y[:30].to_numpy(),
                        "beds": 30.0, "area_m2": 400.0, "places": 90.0,
                        "subtype": [("daycare" if i % 2 else "nursing_home")
                                    if c == "elderly_care" else None
                                    for i, c in enumerate(cats)]})  # fmt: skip
    fac.to_csv(tmp / "facilities.csv", index=False)
    gpd.GeoDataFrame({"population": rng.integers(100, 900, 200).astype(float)},
                     geometry=ll.to_numpy()[30:230], crs=4326).to_file(tmp / "homes.geojson")
    hull = shapely.convex_hull(shapely.multipoints(graph.node_xy)).buffer(200)
    gpd.GeoDataFrame({"name": ["龙城街道"], "adcode": ["440307"]}, geometry=[hull],
                     crs=graph.crs).to_crs(4326).to_file(tmp / "area.geojson")  # fmt: skip
    inputs = {"network": LONGGANG, "facilities": [tmp / "facilities.csv"],
              "population": tmp / "homes.geojson", "boundaries": tmp / "area.geojson",
              "require_standards": False}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = Study(**inputs)
    return study, inputs, study.result(), ll.x[230:].to_numpy(), ll.y[230:].to_numpy()


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          phases=(Phase.generate,))  # a failing sequence is shown whole, not shrunk for hours
@given(data=st.data())
def test_property_fifty_random_edits_on_real_osm_streets(longgang, data):
    study, inputs, base, lon, lat = longgang
    try:
        _random_edits(study, data, lon, lat, 50)
        assert_same(study.result(), fresh_run(study, inputs))
    finally:  # the next example starts from the study as built
        while study.undo() is not None:
            pass
        study._undone.clear()
    assert_same(study.result(), base)


def _demo_study(n: int, seed: int, **options):
    """A fresh demo study (with ``options``), its inputs, and ``n`` points beside its streets."""
    inputs = {**demo_inputs(), **options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = Study(**inputs)
    lon, lat = near_street_points(read_network(inputs["network"]), n=n, seed=seed)
    return study, inputs, lon, lat


def test_saved_study_reopens_to_the_same_state_and_batch_runs_it(tmp_path):
    from hzspatial.batch import load_scenarios, run_scenario

    study, inputs, lon, lat = _demo_study(3, 21)
    fac = study.facilities
    study.add_facility("football_pitch", lon[0], lat[0], pitches=1, name="新球场")
    study.remove_facility(fac["facility_id"].iloc[4])
    study.set_minutes("kindergarten", 10)
    study.add_proposal("规划居住区A", shapely.box(lon[1] - 0.001, lat[1] - 0.001, lon[1] + 0.001,
                                                lat[1] + 0.001), households=2000)  # fmt: skip
    written = study.save(tmp_path / "saved")
    assert {p.name for p in written} == {"study.json", "scenario.toml", "study_facilities.csv",
                                         "study_residents.geojson"}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = Study.open(tmp_path / "saved")
    assert again.edits == study.edits
    assert_same(again.result(), study.result())
    # the scenario file runs unchanged in batch (its scenario runner, in this process; the
    # workbench's exported scenario goes through run_batch): "edited" equals the study
    scenarios, baseline = load_scenarios(tmp_path / "saved" / "scenario.toml")
    assert [s.name for s in scenarios] == ["as built", "edited"] and baseline == "as built"
    assert scenarios[0].minutes == 15 and "kindergarten" not in scenarios[0].thresholds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edited = run_scenario(scenarios[1], tmp_path / "batch").summary
    for c, v in study.result().summary["categories"].items():
        assert edited["categories"][c]["covered_population"] == pytest.approx(
            v["covered_population"])
    assert edited["categories"]["kindergarten"]["threshold_minutes"] == 10
    # an input changed since: refused with one line naming it
    copy = tmp_path / "fac.csv"
    copy.write_bytes(Path(inputs["facilities"][0].path).read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s2 = Study(inputs["network"], [copy], inputs["population"], inputs["boundaries"])
    s2.save(tmp_path / "s2")
    copy.write_text(copy.read_text("utf-8").replace("ELD001", "ELD999"), "utf-8")
    with pytest.raises(InputError, match="changed since it was saved"):
        Study.open(tmp_path / "s2")


def test_accepted_sites_are_one_edit(demo):
    """Sites a siting run chose (its sites table) join the study in one edit; one undo takes
    them all back; a refused site (off the network) leaves the study as it was."""
    study, inputs, base = demo
    graph = read_network(inputs["network"])
    lon, lat = near_street_points(graph, n=3, seed=31)
    sites = pd.DataFrame({"id": ["S1", "S2", "S3"], "name": ["新址1", "新址2", "新址3"],
                          "category": "football_pitch", "lon": lon, "lat": lat})  # fmt: skip
    change = study.accept_sites(sites, pitches=1)
    assert list(study.facilities["facility_id"])[-3:] == ["S1", "S2", "S3"]
    assert change.categories["football_pitch"]["covered_after"] > \
        change.categories["football_pitch"]["covered_before"]  # fmt: skip
    assert_same(study.result(), fresh_run(study, inputs))
    study.undo()
    assert "S1" not in set(study.facilities["facility_id"]) and study.edits == []
    bad = pd.concat([sites, pd.DataFrame({"id": ["S4"], "name": ["远"], "category":
                                          "football_pitch", "lon": [100.0], "lat": [20.0]})])
    with pytest.raises(InputError, match="farther than"):
        study.accept_sites(bad)
    assert "S1" not in set(study.facilities["facility_id"]) and study.edits == []
    assert_same(study.result(), base)


def test_a_ten_minute_walk_for_every_category_is_one_edit(demo):
    study, inputs, base = demo
    change = study.set_minutes(None, 10)
    assert set(change.categories) == set(study.minutes) and set(study.minutes.values()) == {10}
    assert all(v["covered_after"] < v["covered_before"] for v in change.categories.values())
    assert_same(study.result(), fresh_run(study, inputs))
    study.undo()
    assert set(study.minutes.values()) == {15} and study.edits == []


def test_siting_on_an_edited_study_and_accepting_the_sites(demo):
    """site = a study plus candidates: siting sees the study's edits (a pitch added counts as
    existing), and the sites accepted into the study cover what the siting promised."""
    from hzspatial.site import select_sites

    study, inputs, base = demo
    graph = read_network(inputs["network"])
    lon, lat = near_street_points(graph, n=1, seed=41)
    study.add_facility("football_pitch", lon[0], lat[0], pitches=1)
    now = study.result().summary["categories"]["football_pitch"]["covered_population"]
    res = select_sites(None, (), None, study=study, category="football_pitch", add=2,
                       spacing_m=600, curve=False)  # fmt: skip
    assert res.report["already_served"] == pytest.approx(now)
    change = study.accept_sites(res.sites, pitches=1)
    assert change.categories["football_pitch"]["covered_after"] == pytest.approx(
        res.report["covered_after"], rel=1e-9)
    with pytest.raises(InputError, match="threshold and speed are its own"):
        select_sites(None, (), None, study=study, category="football_pitch", add=1,
                     minutes=10)  # fmt: skip
    study.undo()
    study.undo()
    assert study.edits == []


def _hostile_edits(lon, lat):
    big = shapely.box(lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)  # ~100 km²
    ring = shapely.Point(lon, lat).buffer(0.002, quad_segs=6000)  # 24,000 vertices
    return [
        ("add_facility", ("clinic", lon, lat), {"name": "a\x1b[2Jb"}, "control characters"),
        ("add_facility", ("clinic", lon, lat), {"facility_id": "x" * 101}, "over 100"),
        ("add_facility", ("clinic", lon, lat), {"facility_id": ["a"]}, "must be text"),
        ("add_facility", ("clinic", lon, lat), {"beds": float("inf")}, "beds"),
        ("add_facility", ("clinic", lon, lat), {"beds": "lots"}, "beds"),
        ("add_facility", ("clinic", lon, lat), {"beds": -1}, "beds"),
        ("add_facility", ("clinic", lon, lat), {"built": 1e12}, "built"),
        ("add_facility", ("clinic", lon, lat), {"inclusive": "yes"}, "true or false"),
        ("add_facility", ("clinic", float("nan"), lat), {}, "lon"),
        ("add_residents", ("P", "POINT EMPTY"), {"population": 10}, "not a valid"),
        ("add_residents", ("P", "LINESTRING (0 0, 1 1)"), {"population": 10}, "not a valid"),
        ("add_residents", ("P", "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"), {"population": 10},
         "not a valid|outside"),
        ("add_residents", ("P", "x" * 2_000_001), {"population": 10}, "over 2 MB"),
        ("add_residents", ("P", ring), {"population": 10}, "20,000 vertices"),
        ("add_residents", ("P", big), {"population": 10}, "km²"),
        ("add_residents", ("P", shapely.Point(lon, lat)), {"population": -5}, "population"),
        ("add_residents", ("P", shapely.Point(lon, lat)), {"population": 5, "households": 2},
         "one"),
        ("add_residents", ("P\nQ", shapely.Point(lon, lat)), {"population": 5}, "control"),
    ]


def test_hostile_edits_are_refused_with_one_line_and_change_nothing(demo):
    """A web workbench will pass user text and shapes to these calls: every bad value is
    refused with one line naming it, and the study is left as it was."""
    study, inputs, base = demo
    graph = read_network(inputs["network"])
    lon, lat = near_street_points(graph, n=1, seed=51)
    n_fac, n_res = len(study.facilities), len(study.residents_table())
    for op, args, kwargs, message in _hostile_edits(float(lon[0]), float(lat[0])):
        with pytest.raises(InputError, match=message):
            getattr(study, op)(*args, **kwargs)
    assert study.edits == [] and len(study.facilities) == n_fac
    assert len(study.residents_table()) == n_res
    assert_same(study.result(), base)


def test_opening_what_is_not_a_saved_study_is_one_line(tmp_path):
    with pytest.raises(InputError, match="study.json missing"):
        Study.open(tmp_path)
    (tmp_path / "study.json").write_text("{not json", "utf-8")
    with pytest.raises(InputError, match="not a saved study"):
        Study.open(tmp_path)
    (tmp_path / "study.json").write_text('{"inputs": 3, "edits": []}', "utf-8")
    with pytest.raises(InputError, match="not a saved study"):
        Study.open(tmp_path)


def test_a_facility_file_added_as_one_edit_equals_a_run_with_it(demo, tmp_path):
    """A bureau's list of new facilities, in GCJ-02 as Amap gives it (declared), added as one
    edit: the result equals a run reading both files — its numbers and its inputs (the file
    named with its SHA-256 and coordinate system); undo gives the study as built; a saved
    study reopens with it (and refuses it once changed); refusals leave the study as it was."""
    from hzspatial.crs import wgs84_to_gcj02
    from hzspatial.io import FacilityInput

    study, inputs, built = demo
    fac = study.facility_table()
    new = fac.sample(5, random_state=3).reset_index(drop=True)
    new["facility_id"] = [f"局-{i}" for i in range(5)]
    lon, lat = wgs84_to_gcj02(new["lon"].to_numpy() + 0.002, new["lat"].to_numpy() - 0.001)
    new["lon"], new["lat"] = lon, lat
    path = tmp_path / "新增设施.csv"
    new.to_csv(path, index=False, encoding="utf-8-sig")
    item = FacilityInput(path, crs="gcj02")
    study.add_facility_file(item)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = run_coverage(inputs["network"], [*inputs["facilities"], item],
                            inputs["population"], inputs["boundaries"])  # fmt: skip
    got = study.result()
    assert_same(got, want)
    named = {x["path"]: x for x in got.summary["inputs"] if x["role"] == "facilities"}
    assert named[str(path)]["crs"] == "gcj02" and named[str(path)]["sha256"]
    assert [x["path"] for x in got.summary["inputs"]] == [
        x["path"] for x in want.summary["inputs"]]
    # refused, one line each, nothing changed
    other = tmp_path / "other.csv"
    new.assign(facility_id=fac["facility_id"].iloc[:5].to_numpy()).to_csv(other, index=False)
    for bad, words in ((item, "in the study already"), (FacilityInput(other, crs="gcj02"),
                                                        "is in the study already"),
                       (FacilityInput(tmp_path / "none.csv"), "no such facility file")):
        with pytest.raises(InputError, match=words):
            study.add_facility_file(bad)
    assert len(study.edits) == 1
    study.save(tmp_path / "saved")
    assert_same(Study.open(tmp_path / "saved").result(), got)
    study.undo()
    assert_same(study.result(), built)
    assert str(path) not in {x["path"] for x in study.result().summary["inputs"]}
    new.iloc[:2].to_csv(path, index=False)  # the file changed since it was saved
    with pytest.raises(InputError, match="changed since"):
        Study.open(tmp_path / "saved")


def test_an_edit_that_is_not_one_is_refused_in_one_line(demo):
    """What a saved study.json or a caller names as an edit is one of the study's edits; any
    other (an inner helper's name, a non-text op, a compound edit without parts) is refused
    with one line and nothing changed — before, an unknown name reached a ValueError."""
    study = demo[0]
    before = len(study.edits)
    for edit in ({"op": "restore_facility", "row": None, "position": 0}, {"op": "fac"},
                 {"op": 3}, {"op": "together", "edits": "x"}, ["add_facility"]):
        with pytest.raises(InputError):
            study._apply(edit)
    assert len(study.edits) == before


def test_edits_on_the_slopes_equal_a_fresh_run_on_them():
    """With the demo's synthetic DEM every search runs on directed costs (trips home →
    facility): added, moved and removed facilities and a new threshold, kept exact by the
    study's repairs, equal a fresh run on the same DEM; a new walking speed is refused (the
    costs were made at the old one), changing nothing."""
    from hzspatial.datasets import demo_paths

    study, inputs, lon, lat = _demo_study(4, 11, dem=demo_paths()["dem"])
    fac = study.facilities
    kg = fac.loc[fac["category"] == "kindergarten", "facility_id"].iloc[5]
    eld = fac.loc[fac["category"] == "elderly_care", "facility_id"].iloc[3]
    study.add_facility("clinic", lon[0], lat[0])
    study.move_facility(kg, lon[1], lat[1])
    study.remove_facility(eld)
    study.add_facility("elderly_care", lon[2], lat[2], subtype="daycare", area_m2=500)
    study.set_minutes("kindergarten", 10)
    with pytest.raises(InputError, match="made at 4 km/h"):
        study.set_speed(3.6)
    assert len(study.edits) == 5 and study.speed_kmh == 4.0
    got = study.result()
    want = fresh_run(study, inputs)
    assert_same(got, want)
    assert got.summary["slope_effect"] == want.summary["slope_effect"]
