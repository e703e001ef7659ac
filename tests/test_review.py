"""Land-use review, hand-worked on small files (UTM 48N, metres):

north street  y = 100   ───────────────────────────────── (proposal A above it)
              river (100 m wide), one bridge at x = 2000
south street  y = 0     ───────────────────────────────── clinic at x = 100,
                                                         kindergarten at x = 3000
"""

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hzspatial import FacilityInput
from hzspatial.errors import InputError
from hzspatial.review import review_districts

X0, Y0 = 690_000.0, 3_660_000.0
EXE = str(Path(sys.executable).parent / "hzspatial")

KINDERGARTEN_STANDARDS = """
[[standard]]
id = "kindergarten_places_per_1000"
category = "kindergarten"
metric = "supply_per_capita"
supply = "places"
per = 1000
target = 30
unit = "places per 1,000 residents"
source = "test rule"

[[standard]]
id = "kindergarten_within_300m"
category = "kindergarten"
metric = "share_within"
distance_m = 300
target = 1.0
unit = "share of residents"
source = "GB 50180-2018 (5-minute circle)"
"""


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    segs = [
        shapely.LineString([(X0 + x, Y0 + y), (X0 + x + 100, Y0 + y)])
        for y in (0.0, 100.0)
        for x in np.arange(0, 4000, 100.0)
    ]
    segs.append(shapely.LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 100)]))  # the bridge
    gpd.GeoDataFrame(geometry=segs, crs=32648).to_file(tmp / "streets.gpkg")
    gpd.GeoDataFrame(
        {"id": ["Z"], "name": ["zone"]}, geometry=[box(-500, -1000, 4500, 1000)], crs=32648
    ).to_file(tmp / "zone.gpkg")
    pd.DataFrame(
        {
            "id": ["C1", "E1", "F1", "T1", "K1"],
            "category": [
                "社区卫生服务中心",
                "elderly_care",
                "football_pitch",
                "childcare",
                "kindergarten",
            ],  # fmt: skip
            "x": X0 + np.array([100, 3500, 3600, 3700, 3000]),
            "y": Y0 - 5,
            "area_m2": [200, 800, 4000, 300, 3000],
            "beds": [0, 20, None, None, None],
            "places": [None, None, None, 40, 100],
        }
    ).to_csv(tmp / "fac.csv", index=False)
    # 5,000 existing residents next to the kindergarten (they need 150 of its 100 places)
    pd.DataFrame({"id": ["E"], "x": [X0 + 3100], "y": [Y0 - 5], "population": [5000]}).to_csv(
        tmp / "existing.csv", index=False
    )
    (tmp / "kg.toml").write_text(KINDERGARTEN_STANDARDS)
    return tmp


def proposals(tmp, geoms, **attrs):
    p = tmp / f"proposals_{len(list(tmp.glob('proposals_*')))}.gpkg"
    gpd.GeoDataFrame(attrs, geometry=geoms, crs=32648).to_file(p)
    return p


def review(world, district, **kw):
    return review_districts(
        district,
        world / "streets.gpkg",
        [FacilityInput(world / "fac.csv")],
        residents_file=world / "existing.csv",
        boundaries=world / "zone.gpkg",
        crs_in=32648,
        **kw,
    )


def check(res, pid, standard):
    p = next(p for p in res.report["proposals"] if p["proposal_id"] == pid)
    return next(c for c in p["checks"] if c["standard"] == standard)


def test_requirements_for_12000_residents(world):
    d = proposals(world, [box(50, 110, 250, 300)], id=["A"], population=[12000])
    res = review(world, d)
    assert check(res, "A", "elderly_land_per_resident")["requirement"] == pytest.approx(1200)
    assert check(res, "A", "football_pitches_per_10000")["requirement"] == pytest.approx(1.2)
    assert check(res, "A", "childcare_places_per_1000")["requirement"] == pytest.approx(55.2)
    assert check(res, "A", "elderly_beds_per_1000")["requirement"] == pytest.approx(522)


def test_across_the_river_from_the_only_clinic_fails(world):
    d = proposals(world, [box(50, 110, 250, 300)], id=["A"], population=[12000])
    c = check(review(world, d), "A", "health_centre_within_1000m")
    assert c["verdict"] == "fail" and c["reason"] == "too far"
    # from the boundary's east corner (x = 250): a 10 m step onto the north street,
    # 1,750 m east, the 100 m bridge, 1,900 m back west, the clinic's 5 m leg
    assert c["nearest_existing_m"] == pytest.approx(10 + 1750 + 100 + 1900 + 5, abs=0.01)
    assert c["shortfall"] == pytest.approx(c["nearest_existing_m"] - 1000)


def test_full_kindergarten_fails_on_capacity_not_distance(world):
    d = proposals(world, [box(2900, -300, 3100, -110)], id=["B"], population=[2000])
    res = review(world, d, standards=world / "kg.toml")
    near = check(res, "B", "kindergarten_within_300m")
    assert near["verdict"] == "pass" and near["nearest_existing_m"] <= 300
    cap = check(res, "B", "kindergarten_places_per_1000")
    assert cap["requirement"] == pytest.approx(60)  # 30 per 1,000 × 2,000
    assert cap["reachable_existing_supply"] == pytest.approx(100)
    assert cap["spare_capacity"] == pytest.approx(0)  # 5,000 residents need 150 > 100
    assert cap["verdict"] == "fail" and cap["reason"] == "not enough spare capacity"
    assert cap["shortfall"] == pytest.approx(60)
    assert res.exit_code == 1


def test_declared_on_site_provision_turns_fail_into_pass(world):
    d = proposals(
        world,
        [box(2900, -300, 3100, -110)],
        id=["B"],
        population=[2000],
        onsite_kindergarten_places=[60.0],
    )
    res = review(world, d, standards=world / "kg.toml")
    cap = check(res, "B", "kindergarten_places_per_1000")
    assert cap["provided_on_site"] == 60 and cap["verdict"] == "pass"
    assert res.exit_code == 0


def test_spare_capacity_is_shared_by_supply(world):
    # existing 1,000 residents need 30 places of K1's 100 → 70 spare; a 2,000-resident
    # proposal needs 60 → pass
    pd.DataFrame({"id": ["E"], "x": [X0 + 3100], "y": [Y0 - 5], "population": [1000]}).to_csv(
        world / "few.csv", index=False
    )
    d = proposals(world, [box(2900, -300, 3100, -110)], id=["B"], population=[2000])
    res = review_districts(
        d,
        world / "streets.gpkg",
        [FacilityInput(world / "fac.csv")],
        residents_file=world / "few.csv",
        boundaries=world / "zone.gpkg",
        crs_in=32648,
        standards=world / "kg.toml",
    )
    cap = check(res, "B", "kindergarten_places_per_1000")
    assert cap["spare_capacity"] == pytest.approx(70) and cap["verdict"] == "pass"


def test_existing_residents_are_spread_over_their_area_not_put_at_one_point(world):
    """#22: review put an existing residents polygon at one inner point (here 1,525 m from
    the kindergarten, so it loaded nothing). Spread over its area, the part within 1,000 m
    loads it. By hand: residents even over x 0–3,000, y −40–0 (street at y = 0, K1 at
    x = 3,000 with a 5 m leg); those with (3,000 − x) + |y| + 5 ≤ 1,000 hold
    (40 × 995 − 40²/2) / 120,000 = 0.325 of 3,000 = 975, needing 29.25 of K1's 100 places."""
    gpd.GeoDataFrame({"id": ["S"], "population": [3000]}, geometry=[box(0, -40, 3000, 0)],
                     crs=32648).to_file(world / "strip.gpkg")  # fmt: skip
    d = proposals(world, [box(2900, -300, 3100, -110)], id=["B"], population=[2000])
    res = review_districts(d, world / "streets.gpkg", [FacilityInput(world / "fac.csv")],
                           residents_file=world / "strip.gpkg", boundaries=world / "zone.gpkg",
                           crs_in=32648, standards=world / "kg.toml")  # fmt: skip
    cap = check(res, "B", "kindergarten_places_per_1000")
    assert cap["spare_capacity"] == pytest.approx(100 - 29.25, abs=0.5)
    assert res.report["residents_spread"]["method"] == "area"
    assert "evenly over their area" in res.report["residents_spread"]["text"]


def test_households_and_missing_residents(world):
    d = proposals(world, [box(2900, -300, 3100, -110)], id=["B"], households=[1000])
    res = review(world, d, standards=world / "kg.toml", persons_per_household=3.0)
    assert res.report["proposals"][0]["residents"] == 3000
    bad = proposals(world, [box(2900, -300, 3100, -110)], id=["B"])
    with pytest.raises(InputError, match="no residents") as e:
        review(world, bad)
    assert bad.name in str(e.value)


def test_cli_exit_codes_and_outputs(world, tmp_path):
    d = proposals(world, [box(2900, -300, 3100, -110)], id=["B"], population=[2000])
    args = [
        EXE,
        "review",
        str(d),
        "--network",
        str(world / "streets.gpkg"),
        "--facilities",
        str(world / "fac.csv"),
        "--residents",
        str(world / "existing.csv"),
        "--boundaries",
        str(world / "zone.gpkg"),
        "--crs-in",
        "32648",
        "--standards",
        str(world / "kg.toml"),
    ]
    out = tmp_path / "fail"
    proc = subprocess.run([*args, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "fail" in proc.stdout and "capacity" in proc.stdout
    rep = json.loads((out / "review.json").read_text("utf-8"))
    assert rep["exit_code"] == 1 and rep["proposals"][0]["verdict"] == "fail"
    for name in ("review.html", "review.md", "map.html"):
        assert (out / name).stat().st_size > 0
    md = (out / "review.md").read_text("utf-8")
    assert "不通过 / fail" in md and "kindergarten" in md
    ok = proposals(
        world,
        [box(2900, -300, 3100, -110)],
        id=["B"],
        population=[2000],
        onsite_kindergarten_places=[60.0],
    )
    args[2] = str(ok)
    proc = subprocess.run(
        [*args, "--out", str(tmp_path / "ok")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    args[2] = str(tmp_path / "missing.gpkg")
    proc = subprocess.run(
        [*args, "--out", str(tmp_path / "bad")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 2 and "missing.gpkg" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "bad").exists()


def test_demo_review_runs(tmp_path):
    proc = subprocess.run(
        [EXE, "review", "--demo", "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    rep = json.loads((tmp_path / "r" / "review.json").read_text("utf-8"))
    assert [p["proposal_id"] for p in rep["proposals"]] == ["P1", "P2"]
    assert rep["data_labels"] == ["synthetic demo data"]
    p1 = rep["proposals"][0]
    land = next(c for c in p1["checks"] if c["standard"] == "elderly_land_per_resident")
    assert land["requirement"] == pytest.approx(1200) and land["provided_on_site"] == 1200
    assert land["verdict"] == "pass"


def test_gcj02_facilities_beside_wgs84_streets_stop_a_strict_review(tmp_path):
    """An Amap kindergarten list read as WGS84 next to the demo streets (synthetic demo data):
    --strict stops with the option that fixes it; declared, the review runs."""
    from _demo import near_street_points

    from hzspatial import crs
    from hzspatial.datasets import demo_paths
    from hzspatial.network import read_network

    p = demo_paths()
    lon, lat = crs.wgs84_to_gcj02(*near_street_points(read_network(p["network"])))
    pd.DataFrame({"名称": [f"幼儿园{i}" for i in range(len(lon))], "类别": "幼儿园",
                  "经度": lon, "纬度": lat}).to_csv(tmp_path / "kg.csv", index=False)  # fmt: skip
    args = (p["proposals"], p["network"], [FacilityInput(tmp_path / "kg.csv")])
    with pytest.raises(InputError, match=r"kg\.csv.*--facilities-crs gcj02"):
        review_districts(*args, strict=True)
    res = review_districts(*args, facilities_crs="gcj02", strict=True)
    assert res.report["proposals"]


def test_hostile_proposal_names_are_escaped(tmp_path):
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    props = gpd.read_file(p["proposals"])
    props["name"] = '</script><img src=x onerror=alert("XSS")>{{ 7*7 }}{% if 1 %}JINJA{% endif %}'
    props["id"] = [f"`${{alert({i})}}`" for i in range(len(props))]
    props.to_file(tmp_path / "hostile.geojson")
    res = review_districts(
        tmp_path / "hostile.geojson", p["network"], [FacilityInput(p["facilities"])],
        residents_file=p["population"],
    )  # fmt: skip
    res.write(tmp_path / "out")
    for name in ("map.html", "review.html"):
        text = (tmp_path / "out" / name).read_text("utf-8")
        assert "</script><img" not in text and "${alert" not in text, name
        assert "49JINJA" not in text, name  # never run as a template


def test_every_requirement_is_stated_even_without_such_facilities(tmp_path):
    """Without the demo's childcare centres, a 12,000-resident proposal still gets its 55.2
    places (4.6 per 1,000, plan line 174) listed, and "cannot check" naming what is missing:
    absent data is not a measured shortfall (a proposal used to fail every absent category)."""
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    fac = pd.read_csv(p["facilities"])
    fac[fac["category"] != "childcare"].to_csv(tmp_path / "no_childcare.csv", index=False)
    res = review_districts(p["proposals"], p["network"],
                           [FacilityInput(tmp_path / "no_childcare.csv")],
                           residents_file=p["population"])  # fmt: skip
    (p1,) = [x for x in res.report["proposals"] if x["residents"] == 12000]
    c = next(c for c in p1["checks"] if c["standard"] == "childcare_places_per_1000")
    assert c["requirement"] == pytest.approx(55.2) and c["provided_on_site"] == 0
    assert c["verdict"] == "cannot check" and c["reason"].startswith("no 托育机构")
    assert "requirement 55.2 places" in c["reason"] and c["shortfall"] is None
    assert res.exit_code == 1
    k = next(c for c in p1["checks"] if c["standard"] == "kindergarten_within_300m")
    assert k["requirement"] == "a 幼儿园 / Kindergarten within 300 m"


def test_new_district_compliance_is_the_share_of_proposals_passing(tmp_path):
    """The plan's 配套建设养老服务设施达标率 100 % (line 194), over the reviewed proposals."""
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    res = review_districts(p["proposals"], p["network"], [FacilityInput(p["facilities"])],
                           residents_file=p["population"])  # fmt: skip
    (c,) = res.report["compliance"]
    verdicts = [x["verdict"] for r in res.report["proposals"] for x in r["checks"]
                if x["standard"] == "elderly_land_per_resident"]  # fmt: skip
    assert c["proposals"] == len(verdicts) == 2
    assert c["value"] == verdicts.count("pass") / 2 and c["met"] == (c["value"] >= 1)
    res.write(tmp_path / "out")
    assert "配套建设养老服务设施达标率" in (tmp_path / "out" / "review.html").read_text("utf-8")


def test_review_markdown_keeps_user_text_as_text():
    """review.md carried proposal names as raw HTML: rendered by a CommonMark viewer, a
    script ran. Rendered now (markdown-it-py, CommonMark), names stay text."""
    markdown_it = pytest.importorskip("markdown_it")
    from hzspatial.review_report import review_markdown

    evil = "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    report = {"synthetic_inputs": [], "compliance": [], "threshold_minutes": 15,
              "speed_kmh": 4.0, "threshold_m": 1000.0, "version": "test",
              "proposals": [{"name": evil, "proposal_id": "| *id* |", "verdict": "fail",
                             "residents": 100.0, "residents_from": "<b>x</b>",
                             "area_m2": 1e4, "checks": [], "not_assessed": []}]}  # fmt: skip
    html = markdown_it.MarkdownIt("commonmark").render(review_markdown(report))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "href" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as the characters


def test_an_outline_around_the_whole_area_is_named_as_such(tmp_path):
    """A proposal drawn around the whole county (its outline far from every street, every
    street inside) was refused as "more than 300 m from every street" — true of the outline,
    wrong about the district: the error now says what was drawn."""
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    county = gpd.read_file(p["boundaries"])
    whole = gpd.GeoDataFrame({"name": ["全覆盖"], "population": [50_000]},
                             geometry=[shapely.box(*county.total_bounds)], crs=4326)  # fmt: skip
    whole.to_file(tmp_path / "whole.geojson")
    with pytest.raises(InputError, match=r"junctions lie inside .* km² — an outline around"):
        review_districts(tmp_path / "whole.geojson", p["network"], [p["facilities"]])


def _numbers(report):
    """The verdicts and numbers of every check, keyed by proposal and standard."""
    return {(p["proposal_id"], c["standard"]): (c["verdict"], c.get("shortfall"),
                                                 c.get("spare_capacity"),
                                                 c.get("nearest_existing_m"))
            for p in report["proposals"] for c in p["checks"]}  # fmt: skip


def test_review_on_an_edited_study_equals_a_fresh_review_of_the_edited_files(tmp_path):
    """review = a study plus proposals: after edits (a kindergarten closed, a clinic added,
    a proposal added to the study as residents) the study's review equals `review` run on
    files holding the edited facilities and residents, with the proposal not competing
    with itself."""
    from hzspatial import Study
    from hzspatial.datasets import demo_paths
    from hzspatial.review import review_study

    p = demo_paths()
    study = Study(p["network"], [FacilityInput(p["facilities"])], p["population"],
                  p["boundaries"])  # fmt: skip
    fac = study.facilities
    kg = fac.loc[fac["category"] == "kindergarten", "facility_id"].iloc[0]
    study.remove_facility(str(kg))
    props = gpd.read_file(p["proposals"])
    c = props.geometry.iloc[0].centroid
    study.add_facility("clinic", c.x + 0.004, c.y)
    own = props.geometry.iloc[0]
    study.add_proposal("P-own", own, population=5000)
    got = review_study(study, p["proposals"], exclude=["P-own"])

    study.facility_table().to_csv(tmp_path / "fac.csv", index=False)
    res = study.residents_table()
    res[res["id"] != "P-own"].to_file(tmp_path / "res.geojson")
    want = review_districts(p["proposals"], p["network"],
                            [FacilityInput(tmp_path / "fac.csv", crs="wgs84")],
                            residents_file=tmp_path / "res.geojson", residents_crs="wgs84",
                            boundaries=p["boundaries"])  # fmt: skip
    a, b = _numbers(got.report), _numbers(want.report)
    assert a.keys() == b.keys() and len(a) >= 10
    for key in a:
        assert a[key][0] == b[key][0], key
        for x, y in zip(a[key][1:], b[key][1:], strict=True):
            assert (x is None and y is None) or x == pytest.approx(y, rel=1e-9, abs=1e-6), key
    # the study's edits are named among the inputs; the proposal itself did compete before
    assert any(x["role"] == "study edits" for x in got.report["inputs"])
    with pytest.raises(InputError, match="P-typo"):
        review_study(study, p["proposals"], exclude=["P-typo"])
    mixed = review_study(study, p["proposals"])
    spare = [v[2] for k, v in _numbers(mixed.report).items() if v[2] is not None]
    assert sum(spare) < sum(v[2] for v in a.values() if v[2] is not None)


def test_proposals_without_a_stated_system_take_crs_in_when_reviewed_on_a_study(tmp_path):
    """`review --crs-in gcj02 --population …` reviews on a study; a proposals shapefile with no
    .prj is then read in the study's --crs-in, as before — not as WGS84 in silence."""
    from hzspatial.crs import wgs84_to_gcj02
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    props = gpd.read_file(p["proposals"])
    gcj = props.copy()
    gcj["geometry"] = shapely.transform(
        props.geometry.to_numpy(), lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    gcj.to_file(tmp_path / "proposals.shp")
    (tmp_path / "proposals.prj").unlink()
    res = review_districts(tmp_path / "proposals.shp", p["network"],
                           [FacilityInput(p["facilities"], crs="wgs84")],
                           residents_file=p["population"], boundaries=p["boundaries"],
                           crs_in="gcj02")  # fmt: skip
    moved = res.proposals.to_crs(32649).geometry.centroid.distance(
        props.to_crs(32649).geometry.centroid)
    assert moved.max() < 2.0  # metres: converted back, not left ~500 m off


def test_a_review_on_a_study_names_the_buildings_it_spread_residents_over(tmp_path):
    """The buildings layer a review's residents were spread over stays among review.json's
    inputs (with its SHA-256) now that the review runs on a study."""
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    props = gpd.read_file(p["proposals"])
    gpd.GeoDataFrame({"floors": [6]}, geometry=[props.geometry.iloc[0].buffer(-0.0005)],
                     crs=4326).to_file(tmp_path / "buildings.geojson")  # fmt: skip
    res = review_districts(p["proposals"], p["network"], [FacilityInput(p["facilities"])],
                           residents_file=p["population"], boundaries=p["boundaries"],
                           buildings=tmp_path / "buildings.geojson")  # fmt: skip
    named = {x["role"]: x for x in res.report["inputs"]}
    assert named["buildings"]["sha256"] and named["residents"]["sha256"]


def test_a_proposal_below_a_hill_fails_what_it_passes_on_the_flat(world, tmp_path):
    """A proposal 230 m along the street below a kindergarten on a 10 % rise: 235 m on the flat
    (within 300 m), but uphill Tobler's walk of 230 m takes as long as 326 m on the flat —
    beyond the 300 m the standard allows. The proposal's new street is
    joined and walked on the same slopes; review.json says how times were measured."""
    import rasterio
    from rasterio.transform import from_origin

    xc = X0 - 600 + (np.arange(520) + 0.5) * 10
    with rasterio.open(tmp_path / "rise.tif", "w", driver="GTiff", width=520, height=220,
                       count=1, dtype="float32", crs="EPSG:32648",
                       transform=from_origin(X0 - 600, Y0 + 1100, 10, 10)) as ds:
        ds.write(np.tile(500 + 0.1 * (xc - X0), (220, 1)).astype("float32"), 1)
    d = proposals(world, [box(2740, -40, 2770, -10)], id=["H"], population=[300])
    street = tmp_path / "new_street.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(X0 + 2755, Y0), (X0 + 2755, Y0 - 25)])],
                     crs=32648).to_file(street)  # fmt: skip
    flat = check(review(world, d, standards=world / "kg.toml", streets=street), "H",
                 "kindergarten_within_300m")  # fmt: skip
    res = review(world, d, standards=world / "kg.toml", streets=street, dem=tmp_path / "rise.tif")
    hill = check(res, "H", "kindergarten_within_300m")
    assert flat["verdict"] == "pass" and hill["verdict"] == "fail"
    assert hill["nearest_existing_m"] > flat["nearest_existing_m"] * 1.2
    assert res.report["travel"]["dem"].endswith("rise.tif")
    assert res.report["travel"]["direction"] == "home → facility"


def test_a_walking_radius_is_not_judged_by_car(world, tmp_path):
    """GB 50180-2018's "a kindergarten within 300 m" is a walk: a review by car cannot check it
    (4.5 minutes of driving, 2.25 km at 30 km/h, passed it silently)."""
    streets = gpd.read_file(world / "streets.gpkg").assign(highway="residential")
    streets.to_file(tmp_path / "roads.gpkg")
    d = proposals(world, [box(2500, -40, 2530, -10)], id=["D"], population=[300])
    kw = dict(residents_file=world / "existing.csv", boundaries=world / "zone.gpkg",
              standards=world / "kg.toml", crs_in=32648)  # fmt: skip
    fac = [FacilityInput(world / "fac.csv")]
    walk = check(review_districts(d, tmp_path / "roads.gpkg", fac, **kw), "D",
                 "kindergarten_within_300m")  # fmt: skip
    car = check(review_districts(d, tmp_path / "roads.gpkg", fac, mode="car", **kw), "D",
                "kindergarten_within_300m")  # fmt: skip
    assert walk["verdict"] == "fail" and walk["nearest_existing_m"] > 300
    assert car["verdict"] == "cannot check"
    assert "300 m is a walking distance, and this review travels by 驾车 / car" in car["reason"]
