"""Demand counted for the group a facility serves (elderly care → 60+, kindergarten → 3–6 …):
hand-worked on a tiny world in Hanzhong, census shares by county, and the refusals."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hzspatial import Study, run_coverage
from hzspatial.errors import InputError
from hzspatial.groups import builtin_groups, census_shares, served_group
from hzspatial.io import read_population

LAT = 33.07
M_PER_DEG = 111_320 * np.cos(np.radians(LAT))  # metres per degree of longitude, roughly

def _within(category: str, label: str) -> str:
    """A share-within standard: 40 % of those the category serves within 1,000 m."""
    return f"""
[[standard]]
id = "{category}_within_1000m"
label_zh = "{label}"
label_en = "{label}"
category = "{category}"
metric = "share_within"
distance_m = 1000
target = 0.4
comparison = ">="
unit = "share of residents"
scope = "district"
jurisdiction = "national"
source = "test"
verified = false
"""


STANDARDS = (
    """
[meta]
name = "tiny"
title_zh = "测试标准"
title_en = "test standards"
"""
    + _within("elderly_care", "elderly care within 1000 m")
    + _within("clinic", "clinic within 1000 m")
    + """
[[standard]]
id = "beds_per_1000"
label_zh = "每千人养老床位"
label_en = "Elderly beds per 1,000 residents"
category = "elderly_care"
metric = "supply_per_capita"
supply = "beds"
per = 1000
target = 4
comparison = ">="
unit = "beds per 1,000 residents"
scope = "district"
jurisdiction = "national"
source = "test"
verified = false
"""
)


def lon_at(metres: float) -> float:
    return 107.0 + metres / M_PER_DEG


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A 3 km street running east in Hanzhong; elderly care (10 beds) and a clinic at its
    west end; block A (1,000 residents, 100 aged 60+) 400 m along, block B (1,000, 600 aged
    60+) 2.5 km along; areas split at 1.5 km: the west one 勉县's code, the east 汉台区's."""
    tmp = tmp_path_factory.mktemp("groups")
    xs = [lon_at(m) for m in range(0, 3001, 250)]
    net = gpd.GeoDataFrame({"highway": ["residential"] * (len(xs) - 1)},
                           geometry=[shapely.LineString([(a, LAT), (b, LAT)])
                                     for a, b in zip(xs[:-1], xs[1:], strict=True)],
                           crs=4326)  # fmt: skip
    net.to_file(tmp / "streets.geojson", driver="GeoJSON")
    pd.DataFrame({"id": ["E1", "C1"], "name": ["日间照料中心", "卫生站"],
                  "category": ["elderly_care", "clinic"], "lon": [lon_at(0), lon_at(0)],
                  "lat": [LAT + 0.0001] * 2, "beds": [10, 0]}).to_csv(
        tmp / "facilities.csv", index=False)  # fmt: skip
    homes = pd.DataFrame({"id": ["A", "B"], "lon": [lon_at(400), lon_at(2500)],
                          "lat": [LAT + 0.0001] * 2, "population": [1000, 1000]})  # fmt: skip
    homes.assign(**{"60岁及以上": [100, 600]}).to_csv(tmp / "ages.csv", index=False)
    homes.to_csv(tmp / "plain.csv", index=False)
    dy = 0.01
    west = shapely.box(lon_at(-200), LAT - dy, lon_at(1500), LAT + dy)
    east = shapely.box(lon_at(1500), LAT - dy, lon_at(3200), LAT + dy)
    for name, ids in (("areas", ["610725", "610702"]), ("elsewhere", ["X1", "X2"])):
        gpd.GeoDataFrame({"adcode": ids, "name": ["west", "east"]},
                         geometry=[west, east], crs=4326).to_file(
            tmp / f"{name}.geojson", driver="GeoJSON")  # fmt: skip
    (tmp / "tiny.toml").write_text(STANDARDS, encoding="utf-8")
    return tmp


def run(world, residents="ages.csv", areas="areas.geojson"):
    return run_coverage(network=world / "streets.geojson",
                        facilities=[world / "facilities.csv"], population=world / residents,
                        boundaries=world / areas, standards=world / "tiny.toml",
                        require_standards=False)  # fmt: skip


def ratio(result, sid):
    r = result.ratios
    return r[(r["standard"] == sid) & (r["district_id"] == "study area")].iloc[0]


def test_the_60plus_count_changes_the_daycare_verdict_not_the_clinics(world):
    res = run(world)
    cats = res.summary["categories"]
    # all residents: half reach both (block A); the elderly: 100 of 700
    assert cats["elderly_care"]["coverage_share"] == pytest.approx(0.5)
    g = cats["elderly_care"]["serves"]
    assert g["group"] == "age_60plus" and not g["estimated"]
    assert g["persons"] == pytest.approx(700) and g["covered"] == pytest.approx(100)
    assert g["share"] == pytest.approx(100 / 700)
    assert "age columns" in g["source"]
    assert cats["clinic"]["serves"]["group"] == "all"
    assert cats["clinic"]["serves"]["share"] == pytest.approx(0.5)
    elderly, clinic = ratio(res, "elderly_care_within_1000m"), ratio(res, "clinic_within_1000m")
    assert elderly["value"] == pytest.approx(100 / 700) and not elderly["met"]
    assert clinic["value"] == pytest.approx(0.5) and clinic["met"]
    # the plan's per-capita figure keeps its denominator, all residents: 10 beds / 2,000
    beds = ratio(res, "beds_per_1000")
    assert beds["value"] == pytest.approx(5.0) and beds["met"]
    # 2SFCA: block A's 100 elderly demand the 10 beds, scaled to resident units
    # (× 2,000 / 700): 10 / 285.714 × 1,000 = 35 beds per 1,000; counting all ages gave 10
    access = res.demand["access_beds_per_1000"].to_numpy()
    a = res.demand["area_id"].to_numpy() == "A"
    assert access[a] == pytest.approx(35.0)
    # underserved elderly: the 600 in block B; the clinic's: all 1,000 there
    under = res.summary["underserved"]
    assert under["elderly_care"]["no_facility"] == pytest.approx(600)
    assert under["clinic"]["no_facility"] == pytest.approx(1000)


def test_census_shares_by_county_when_the_input_has_no_ages(world):
    res = run(world, residents="plain.csv")
    g = res.summary["categories"]["elderly_care"]["serves"]
    # block A lies in 勉县 (60+ 26.55 % in its census bulletin), B in 汉台区 (city's 24.31 %)
    assert g["persons"] == pytest.approx(1000 * 0.2655 + 1000 * 0.2431)
    assert g["covered"] == pytest.approx(265.5)
    assert g["estimated"] and "勉县" in g["source"] and "city share" in g["source"]
    assert "census" in g["method"]
    d = {x["adcode"]: x["coverage"]["elderly_care"] for x in res.summary["districts"]}
    assert d["610725"]["group_persons"] == pytest.approx(265.5)
    assert d["610725"]["group_share"] == pytest.approx(1.0)
    assert d["610702"]["group_share"] == pytest.approx(0.0)


def test_outside_the_census_areas_all_residents_are_counted_and_said(world):
    res = run(world, residents="plain.csv", areas="elsewhere.geojson")
    g = res.summary["categories"]["elderly_care"]["serves"]
    assert g["group"] == "all" and not g["estimated"]
    assert "counted in all residents" in g["source"]
    assert g["share"] == pytest.approx(0.5)


def test_census_shares_and_the_stated_method():
    groups = builtin_groups()
    shares, used = census_shares(groups["age_3_6"], ["610725", "610702", "610725001001", "x"])
    # 勉县 0–14 14.09 %; 汉台区 not published → city 16.08 %; × 3/15 for ages 3, 4, 5
    assert shares[:3] == pytest.approx([0.1409 * 0.2, 0.1608 * 0.2, 0.1409 * 0.2])
    assert np.isnan(shares[3]) and used[3] is None
    assert "3/15" in groups["age_3_6"].method and "3/15" in groups["age_0_3"].method
    assert served_group("elderly_care").id == "age_60plus"
    assert served_group("kindergarten").id == "age_3_6"
    assert served_group("childcare").id == "age_0_3"
    assert served_group("clinic").id == "all" and served_group("my_category").id == "all"


@pytest.mark.parametrize("column, values, message", [
    ("60岁及以上", [1200, 600], "more persons in '60岁及以上'"),
    ("60岁及以上(%)", [24.3, 26.5], "holds a percentage"),
    ("老年人口占比", [24.3, 0.2], "a share above 1"),
])  # fmt: skip
def test_age_columns_that_would_mislead_are_refused(tmp_path, column, values, message):
    path = tmp_path / "homes.csv"
    pd.DataFrame({"id": ["A", "B"], "lon": [107.0, 107.01], "lat": [LAT, LAT],
                  "population": [1000, 1000], column: values}).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_population(path)
    text = str(err.value)
    assert message in text and "homes.csv" in text and column in text
    assert "row" in text or "%" in column  # a percentage column is refused as a whole


def test_a_share_column_gives_persons(tmp_path):
    path = tmp_path / "homes.csv"
    pd.DataFrame({"id": ["A"], "lon": [107.0], "lat": [LAT], "population": [1000],
                  "pop_60plus_share": [0.25]}).to_csv(path, index=False)
    got = read_population(path)
    assert got["group_age_60plus"].iloc[0] == pytest.approx(250)
    assert got.attrs["group_columns"] == {"age_60plus": "pop_60plus_share"}


def test_a_study_counts_groups_as_a_fresh_run(world):
    study = Study(network=world / "streets.geojson", facilities=[world / "facilities.csv"],
                  population=world / "ages.csv", boundaries=world / "areas.geojson",
                  standards=world / "tiny.toml", require_standards=False)  # fmt: skip
    near = shapely.box(lon_at(200), LAT - 0.001, lon_at(600), LAT + 0.001)
    study.add_proposal("P", near, population=500)  # no ages: 勉县's census share
    study.add_facility("elderly_care", lon_at(2500), LAT + 0.0001, beds=5)
    got = study.result()
    fresh = run_coverage(**study.run_inputs())
    for c in ("elderly_care", "clinic"):
        a, b = got.summary["categories"][c]["serves"], fresh.summary["categories"][c]["serves"]
        assert a["persons"] == pytest.approx(b["persons"], rel=1e-12)
        assert a["covered"] == pytest.approx(b["covered"], rel=1e-12)
        assert a["source"].split(" + ")[1:] == b["source"].split(" + ")[1:]  # input named apart
    assert got.summary["categories"]["elderly_care"]["serves"]["persons"] == pytest.approx(
        700 + 500 * 0.2655)  # fmt: skip
    state = study.indicators()["elderly_care"]
    assert state["group_covered"] == pytest.approx(
        got.summary["categories"]["elderly_care"]["serves"]["covered"])  # fmt: skip
    assert state["no_facility"] == pytest.approx(got.summary["underserved"]["elderly_care"][
        "no_facility"])  # fmt: skip
    va = got.ratios.sort_values(["standard", "district_id"])["value"].to_numpy(float)
    vb = fresh.ratios.sort_values(["standard", "district_id"])["value"].to_numpy(float)
    assert np.allclose(va, vb, equal_nan=True, rtol=1e-9)
    json.dumps(got.summary, default=str)  # the summary stays writable


def test_sites_are_chosen_for_the_group_the_category_serves(world, tmp_path):
    """Block D (2,000 residents, 50 aged 60+) 1.5 km along, block B moved to 2.9 km (1,000,
    600 aged 60+); a day-care site at D or at B. Counting all residents D wins (2,000 against
    1,000); counting whom day care serves, B does (600 elderly against 50)."""
    from hzspatial.site import select_sites

    pd.DataFrame({"id": ["A", "D", "B"], "lon": [lon_at(400), lon_at(1500), lon_at(2900)],
                  "lat": [LAT + 0.0001] * 3, "population": [1000, 2000, 1000],
                  "60岁及以上": [100, 50, 600]}).to_csv(tmp_path / "homes.csv", index=False)
    pd.DataFrame({"id": ["X", "Y"], "name": ["at D", "at B"],
                  "lon": [lon_at(1500), lon_at(2900)], "lat": [LAT + 0.0001] * 2}).to_csv(
        tmp_path / "sites.csv", index=False)  # fmt: skip
    res = select_sites(world / "streets.geojson", [world / "facilities.csv"],
                       tmp_path / "homes.csv", world / "areas.geojson", category="elderly_care",
                       candidates=tmp_path / "sites.csv", add=1, curve=False,
                       standards=world / "tiny.toml")  # fmt: skip
    assert list(res.sites["id"]) == ["Y"]
    rep = res.report
    assert rep["counted"]["group"] == "age_60plus" and not rep["counted"]["estimated"]
    assert rep["residents"] == pytest.approx(750) and rep["already_served"] == pytest.approx(100)
    assert rep["newly_covered"] == pytest.approx(600)
