"""A tiny hand-worked world: every coverage, ratio, 2SFCA value and gap computed by hand.

One straight street 3 km long (UTM 48N, nodes every 500 m), two districts split at
x = 1500 m, two elderly-care centres and five homes on the street (distances exact):

    home   x (m)   residents   to F1 (x=250)   to F2 (x=2750)   district
    H1        0       1000          250            2750             A
    H2     1000       2000          750            1750             A
    H5     1500        500         1250            1250             B
    H3     2000       1000         1750             750             B
    H4     3000       1000         2750             250             B
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hzspatial import FacilityInput, run_coverage
from hzspatial.errors import InputError
from hzspatial.evaluation import STUDY_AREA

X0, Y0 = 690_000.0, 3_660_000.0

STANDARDS = """
[[standard]]
id = "land"
category = "elderly_care"
metric = "supply_per_capita"
supply = "area_m2"
per = 1
target = 0.1
unit = "m² per resident"
source = "hand-worked test"

[[standard]]
id = "centres_per_10000"
category = "elderly_care"
metric = "supply_per_capita"
supply = "count"
per = 10000
target = 3
unit = "per 10,000 residents"
source = "hand-worked test"

[[standard]]
id = "within_500m"
category = "elderly_care"
metric = "share_within"
distance_m = 500
target = 1.0
unit = "share of residents"
source = "hand-worked test"
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("world")
    xs = np.arange(0, 3001, 500.0)
    lines = [
        shapely.LineString([(X0 + a, Y0), (X0 + b, Y0)])
        for a, b in zip(xs[:-1], xs[1:], strict=True)
    ]
    gpd.GeoDataFrame(geometry=lines, crs=32648).to_file(tmp / "street.gpkg")
    gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["district A", "district B"], "population": [3000, None]},
        geometry=[
            shapely.box(X0 - 500, Y0 - 500, X0 + 1499, Y0 + 500),
            shapely.box(X0 + 1499, Y0 - 500, X0 + 3500, Y0 + 500),
        ],
        crs=32648,
    ).to_file(tmp / "districts.gpkg")
    pd.DataFrame(
        {
            "id": ["F1", "F2"],
            "category": "elderly_care",
            "x": [X0 + 250, X0 + 2750],
            "y": Y0,
            "area_m2": [300, 150],
            "beds": [10, 5],
        }
    ).to_csv(tmp / "fac.csv", index=False)
    pd.DataFrame(
        {
            "id": ["H1", "H2", "H5", "H3", "H4"],
            "x": X0 + np.array([0, 1000, 1500, 2000, 3000]),
            "y": Y0,
            "population": [1000, 2000, 500, 1000, 1000],
        }
    ).to_csv(tmp / "homes.csv", index=False)
    (tmp / "standards.toml").write_text(STANDARDS)
    res = run_coverage(
        tmp / "street.gpkg",
        [FacilityInput(tmp / "fac.csv")],
        tmp / "homes.csv",
        tmp / "districts.gpkg",
        standards=tmp / "standards.toml",
        crs_in=32648,
    )
    return tmp, res


def row(res, district, standard):
    r = res.ratios
    return r[(r["district_id"] == district) & (r["standard"] == standard)].iloc[0]


def test_distances_and_coverage(world):
    _, res = world
    d = res.demand.set_index("demand_id")
    assert d.loc[["H1", "H2", "H5", "H3", "H4"], "dist_elderly_care_m"].tolist() == pytest.approx(
        [250, 750, 1250, 750, 250]
    )
    assert d.loc[["H1", "H2", "H3", "H4"], "nearest_elderly_care"].tolist() == [
        "F1",
        "F1",
        "F2",
        "F2",
    ]
    c = res.summary["categories"]["elderly_care"]
    assert c["covered_population"] == 5000 and c["coverage_share"] == pytest.approx(5000 / 5500)
    assert c["median_distance_m"] == pytest.approx(750)  # the 2,750th of 5,500 residents
    assert c["p90_distance_m"] == pytest.approx(750)  # the 4,950th
    by_d = res.districts.set_index("district_id")
    assert by_d.loc["A", "elderly_care_coverage_share"] == 1.0
    assert (
        by_d.loc["B", "elderly_care_covered"] == 2000
        and by_d.loc["B", "elderly_care_uncovered"] == 500
    )
    assert by_d.loc["B", "census_note"] == "population unknown"


def test_per_capita_ratios_and_gaps(world):
    _, res = world
    a, b, s = (row(res, k, "land") for k in ("A", "B", STUDY_AREA))
    assert a["value"] == pytest.approx(0.1) and a["met"] and a["gap"] == 0
    assert b["value"] == pytest.approx(0.06) and not b["met"]
    assert b["required"] == pytest.approx(250) and b["gap"] == pytest.approx(100)
    assert s["value"] == pytest.approx(450 / 5500) and s["gap"] == pytest.approx(100)
    c = row(res, STUDY_AREA, "centres_per_10000")
    assert c["value"] == pytest.approx(2 / 5500 * 10000) and c["met"]


def test_two_step_floating_catchment(world):
    _, res = world
    # R1 = 300 m² / (1000 + 2000) = 0.1; R2 = 150 / (1000 + 1000) = 0.075; H5 reaches none
    acc = res.demand.set_index("demand_id")["access_land"]
    assert acc[["H1", "H2", "H3", "H4", "H5"]].tolist() == pytest.approx(
        [0.1, 0.1, 0.075, 0.075, 0.0]
    )
    s = row(res, STUDY_AREA, "land")
    assert s["catchment_access_mean"] == pytest.approx(450 / 5500)  # all supply counted once
    assert s["share_residents_below_target"] == pytest.approx(2500 / 5500)
    assert row(res, "A", "land")["share_residents_below_target"] == 0
    assert row(res, "B", "land")["catchment_access_mean"] == pytest.approx(150 / 2500)


def test_share_within_and_gap(world):
    _, res = world
    s, a, b = (row(res, k, "within_500m") for k in (STUDY_AREA, "A", "B"))
    assert s["value"] == pytest.approx(2000 / 5500)
    assert a["value"] == pytest.approx(1000 / 3000) and a["gap"] == pytest.approx(2000)
    assert b["value"] == pytest.approx(1000 / 2500) and b["gap"] == pytest.approx(1500)


def test_underserved_areas(world):
    _, res = world
    u = res.underserved
    far = u[u["kind"] == "no_facility"]
    assert far["residents"].sum() == 500 and set(far["district_id"]) == {"B"}
    low = u[u["kind"] == "below_standard"]
    assert low["residents"].sum() == 2000 and set(low["district_id"]) == {"B"}
    assert "land below 0.1" in low["reason"].iloc[0]


def test_underserved_counted_once_per_category_and_area(world):
    """H3/H4 (2,000 in B) are in reach but below the land standard, H5 (500) has no centre in
    reach: B's 2,500 residents are all underserved once, A's none (the old table summed the
    reasons' rows and could exceed the residents)."""
    _, res = world
    t = res.underserved_table.set_index(["category", "district_id"])
    b = t.loc[("elderly_care", "B")]
    assert (b["residents_analysed"], b["no_facility"], b["below_standard"]) == (2500, 500, 2000)
    assert b["underserved"] == 2500 and b["underserved_share"] == 1.0
    assert t.loc[("elderly_care", "A"), "underserved"] == 0
    assert res.summary["underserved"]["elderly_care"]["underserved"] == 2500


def test_category_without_standard_is_an_error(world, tmp_path):
    tmp, _ = world
    pd.DataFrame({"id": ["K1"], "category": "kindergarten", "x": [X0 + 100], "y": [Y0]}).to_csv(
        tmp_path / "k.csv", index=False
    )
    with pytest.raises(InputError, match="no standard for facility category kindergarten") as e:
        run_coverage(
            tmp / "street.gpkg",
            [FacilityInput(tmp_path / "k.csv")],
            tmp / "homes.csv",
            tmp / "districts.gpkg",
            standards=tmp / "standards.toml",
            crs_in=32648,
        )
    assert "standards.toml" in str(e.value)
    res = run_coverage(
        tmp / "street.gpkg",
        [FacilityInput(tmp_path / "k.csv")],
        tmp / "homes.csv",
        tmp / "districts.gpkg",
        standards=tmp / "standards.toml",
        crs_in=32648,
        require_standards=False,
    )
    assert res.summary["categories"]["kindergarten"]["facilities"] == 1
    notes = res.ratios["note"].tolist()
    assert all(n.startswith("cannot check: no elderly_care facilities") for n in notes)


def test_boundaries_not_covering_the_network(world, tmp_path):
    """Boundaries away from the network stop the run; boundaries over part of it (a few 社区
    inside a city extract) are a study area, not an error."""
    tmp, _ = world
    gpd.GeoDataFrame(
        {"id": ["Z"]},
        geometry=[shapely.box(X0 - 100, Y0 - 100, X0 + 600, Y0 + 100)],
        crs=32648,
    ).to_file(tmp_path / "small.gpkg")
    gpd.GeoDataFrame(
        {"id": ["Z"]},
        geometry=[shapely.box(X0 + 50_000, Y0 - 100, X0 + 50_600, Y0 + 100)],
        crs=32648,
    ).to_file(tmp_path / "far.gpkg")
    pd.DataFrame({"id": ["F1"], "category": "elderly_care", "x": [X0 + 250], "y": [Y0]}).to_csv(
        tmp_path / "f.csv", index=False
    )
    pd.DataFrame({"id": ["H"], "x": [X0], "y": [Y0], "population": [5]}).to_csv(
        tmp_path / "h.csv", index=False
    )
    res = run_coverage(tmp / "street.gpkg", [FacilityInput(tmp_path / "f.csv")],
                       tmp_path / "h.csv", tmp_path / "small.gpkg",
                       standards=tmp / "standards.toml", crs_in=32648)  # fmt: skip
    assert res.summary["population"] == 5
    with pytest.raises(InputError, match="outside the study area|do not overlap"):  # either
        run_coverage(
            tmp / "street.gpkg",
            [FacilityInput(tmp_path / "f.csv")],
            tmp_path / "h.csv",
            tmp_path / "far.gpkg",
            standards=tmp / "standards.toml",
            crs_in=32648,
        )


def test_a_subtype_standard_with_none_says_which_subtypes_there_are(world, tmp_path):
    """health_centre_within_1000m said "no health_centre facilities" beside three clinics
    the categories had filed elsewhere: the note now lists the subtypes found."""
    tmp, _ = world
    pd.DataFrame({"id": ["F1", "F2"], "name": ["甲诊所", "乙卫生室"], "category": "clinic",
                  "x": [X0 + 250, X0 + 300], "y": [Y0, Y0]}).to_csv(
        tmp_path / "f.csv", index=False)  # fmt: skip
    pd.DataFrame({"id": ["H"], "x": [X0], "y": [Y0], "population": [5]}).to_csv(
        tmp_path / "h.csv", index=False)  # fmt: skip
    res = run_coverage(tmp / "street.gpkg", [FacilityInput(tmp_path / "f.csv")],
                       tmp_path / "h.csv", crs_in=32648, require_standards=False)  # fmt: skip
    note = res.ratios.set_index("standard").loc["health_centre_within_1000m", "note"]
    if isinstance(note, pd.Series):
        note = note.iloc[0]
    assert "private_clinic 1" in note and "health_station 1" in note
