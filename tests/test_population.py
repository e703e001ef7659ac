"""Residents polygons spread over their streets, checked by hand on a 2 km community whose
street grid makes every walking distance from its corner a Manhattan distance."""

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from hzspatial import run_coverage
from hzspatial.population import BOUNDARY_TOLERANCE_M, spread_residents

UTM48 = pyproj.CRS.from_epsg(32648)
X0, Y0 = 510_000.0, 3_660_000.0  # UTM 48N, near 105.1° E 33.1° N (southern Shaanxi)


#: These hand-worked cases are of the street spread (people along the streets inside a
#: community); the area spread is checked against an independent reference in
#: tests/test_bureau_files.py.
_street_spread = functools.partial(run_coverage, spread="streets")


def grid_streets(stub_m: float = 0.0) -> gpd.GeoDataFrame:
    """Streets every 200 m over a 2 km square (11 × 11 lines, each cut at every junction),
    plus an optional street ``stub_m`` long leading west from the south-west corner."""
    segs = []
    for c in np.arange(0.0, 2001.0, 200.0):
        for a in np.arange(0.0, 2000.0, 200.0):
            segs.append(shapely.LineString([(X0 + a, Y0 + c), (X0 + a + 200, Y0 + c)]))
            segs.append(shapely.LineString([(X0 + c, Y0 + a), (X0 + c, Y0 + a + 200)]))
    if stub_m:
        segs.append(shapely.LineString([(X0 - stub_m, Y0), (X0, Y0)]))
    return gpd.GeoDataFrame({"highway": ["residential"] * len(segs)}, geometry=segs, crs=UTM48)


def to_lonlat(x, y):
    return pyproj.Transformer.from_crs(UTM48, 4326, always_xy=True).transform(x, y)


def community(population=10_000.0):
    return gpd.GeoDataFrame(
        {"社区名称": ["北关社区"], "常住人口": [population]},
        geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)],
        crs=UTM48,
    )


def kindergarten_at(x, y) -> pd.DataFrame:
    lon, lat = to_lonlat(x, y)
    return pd.DataFrame({"名称": ["角落幼儿园"], "类型": ["幼儿园"], "经度": [lon], "纬度": [lat]})


def street_length_within(limit_m: float, start_m: float = 0.0) -> float:
    """By hand: grid street length whose Manhattan distance from the corner, plus
    ``start_m``, is at most ``limit_m`` (lines y = c: x ≤ limit − start − c; same for x = c)."""
    reach = limit_m - start_m
    return 2 * sum(max(0.0, min(2000.0, reach - c)) for c in np.arange(0.0, 2001.0, 200.0))


def test_community_in_a_corner_is_covered_by_its_street_share():
    """10,000 residents, one kindergarten in a corner: covered = share of the community's
    44 km of streets within 1,000 m walk (6 km) = 1,363.6 residents, not 0 or 10,000."""
    res = _street_spread(
        grid_streets(), [kindergarten_at(X0, Y0)], community(), community(),
        require_standards=False,
    )  # fmt: skip
    total = 2 * 11 * 2000.0
    expected = 10_000 * street_length_within(1000.0) / total
    assert street_length_within(1000.0) == 6000.0
    info = res.summary["categories"]["kindergarten"]
    assert info["covered_population"] == pytest.approx(expected, abs=1e-6)
    row = res.by_area.iloc[0]
    assert row["name"] == "北关社区" and row["kindergarten_share"] == pytest.approx(6000 / total)
    assert res.demand["population"].sum() == pytest.approx(10_000)
    assert (res.demand["area_id"] == res.by_area["area_id"].iloc[0]).all()


def test_facility_outside_the_boundaries_serves_residents_inside():
    """The kindergarten stands 100 m outside the community boundary on a street leading in:
    it is kept, counted as outside, and covers the streets within 900 m of the corner."""
    lon, lat = to_lonlat(X0 - 100.0, Y0)
    fac = pd.DataFrame({"name": ["across the line"], "category": ["kindergarten"],
                        "lon": [lon], "lat": [lat]})  # fmt: skip
    res = _street_spread(grid_streets(stub_m=200.0), [fac], community(), community(),
                       require_standards=False)  # fmt: skip
    assert res.summary["outside_facilities"] == 1
    # the community's streets reach BOUNDARY_TOLERANCE_M onto the stub (walked from 98 m)
    tol = BOUNDARY_TOLERANCE_M
    expected = 10_000 * (street_length_within(1000.0, start_m=100.0) + tol) / (44_000 + tol)
    assert street_length_within(1000.0, start_m=100.0) == 5000.0
    cov = res.summary["categories"]["kindergarten"]["covered_population"]
    assert cov == pytest.approx(expected, abs=1e-6)


def test_small_polygons_and_points_stay_one_point_and_streetless_polygons_use_a_grid():
    lines = grid_streets()
    from hzspatial.network import read_network

    graph = read_network(lines)
    small = shapely.box(X0 + 20, Y0 + 20, X0 + 80, Y0 + 80)  # 0.36 ha, no street inside
    block = shapely.box(X0 + 10, Y0 + 10, X0 + 190, Y0 + 190)  # 3.2 ha, no street inside
    point = shapely.Point(X0 + 300, Y0 + 300)
    d = spread_residents(np.array([small, block, point], dtype=object),
                         np.array([50.0, 400.0, 7.0]), graph)  # fmt: skip
    assert np.bincount(d.owner).tolist() == [1, 4, 1]  # the block gets a 2 × 2 grid of 100 m
    assert sorted(set(d.how)) == ["grid", "point", "polygon"]
    assert np.bincount(d.owner, weights=d.population).tolist() == [50.0, 400.0, 7.0]


def test_map_shades_each_community_by_its_share_covered():
    from hzspatial.maps import coverage_map

    res = _street_spread(grid_streets(), [kindergarten_at(X0, Y0)], community(), community(),
                       require_standards=False)  # fmt: skip
    html = coverage_map(res).get_root().render()
    assert "share covered per area" in html and "13.6%" in html


def test_community_spread_over_its_buildings_by_floor_area():
    """Two buildings: 20 × 20 m, 6 floors (2,400 m²) near the kindergarten's corner, and
    40 × 30 m, 2 floors (2,400 m²) in the far corner: half the residents each, and only the
    near half is within 1,000 m. A building outside the community is ignored."""
    near = shapely.box(X0 + 100, Y0 + 20, X0 + 120, Y0 + 40)
    far = shapely.box(X0 + 1900, Y0 + 1920, X0 + 1940, Y0 + 1950)
    outside = shapely.box(X0 - 100, Y0 - 100, X0 - 80, Y0 - 80)
    bld = gpd.GeoDataFrame({"层数": [6, 2, 30]}, geometry=[near, far, outside], crs=UTM48)
    res = _street_spread(grid_streets(), [kindergarten_at(X0, Y0)], community(), community(),
                       buildings=bld, require_standards=False)  # fmt: skip
    d = res.demand
    assert sorted(d["placed"]) == ["building", "building"]
    assert d["population"].tolist() == pytest.approx([5_000, 5_000])
    assert res.summary["categories"]["kindergarten"]["covered_population"] == pytest.approx(5_000)


def test_residents_counted_twice_or_beyond_the_boundaries_population_are_reported():
    """Two copies of the community, a block overlapping it, and boundaries that record
    only 5,000 residents: each is said, the run still finishes."""
    from hzspatial.errors import DataWarning

    com = community()
    extra = gpd.GeoDataFrame({"社区名称": ["北关社区", "新村"], "常住人口": [10_000.0, 500.0]},
                             geometry=[com.geometry.iloc[0],
                                       shapely.box(X0 + 1500, Y0 + 1500, X0 + 2500, Y0 + 2500)],
                             crs=UTM48)  # fmt: skip
    residents = pd.concat([com, extra], ignore_index=True)
    area = community(population=None).drop(columns="常住人口")
    area["population"] = 5_000.0
    area.geometry = area.buffer(1200)
    with pytest.warns(DataWarning) as caught:
        _street_spread(grid_streets(), [kindergarten_at(X0, Y0)], residents, area,
                     require_standards=False)  # fmt: skip
    text = " ".join(str(w.message) for w in caught)
    assert "1 residents features repeat an earlier one exactly (d2)" in text
    assert "1 pairs of residents polygons overlap (d1/d3)" in text
    assert "20,500 residents analysed in" in text and "4.1× the 5,000" in text


def test_community_standards_need_community_boundaries():
    """daycare_in_every_community is read on 社区 areas only; on districts it says so."""
    lon, lat = to_lonlat(X0 + 10, Y0 + 10)
    fac = pd.DataFrame({"名称": ["日间照料中心"], "类型": ["日间照料中心"],
                        "经度": [lon], "纬度": [lat]})  # fmt: skip
    on_communities = _street_spread(grid_streets(), [fac], community(), community())
    row = on_communities.ratios.set_index(["standard", "district_id"]).loc[
        ("daycare_in_every_community", "study area")]  # fmt: skip
    assert on_communities.boundaries.attrs["level"] == "community" and row["value"] == 1.0
    district = community().rename(columns={"社区名称": "name"})
    on_districts = _street_spread(grid_streets(), [fac], community(), district)
    note = on_districts.ratios.set_index("standard").loc["daycare_in_every_community", "note"]
    assert note.startswith("cannot check: the areas are district boundaries, not communities")


def test_daycare_radius_counts_day_care_centres_not_nursing_homes():
    """A nursing home (养老院) in one corner, a day-care centre (日间照料中心) in the opposite
    one. By hand: streets within 300 m of a corner = 300 + 100 m on each of the two grid
    directions = 800 m of the community's 44,000 m. Counting the nursing home too would
    double it."""
    lon, lat = to_lonlat([X0, X0 + 2000], [Y0, Y0 + 2000])
    fac = pd.DataFrame({"名称": ["北关养老院", "城南日间照料中心"], "类型": ["养老服务设施"] * 2,
                        "经度": lon, "纬度": lat, "床位": [100, 20]})  # fmt: skip
    res = _street_spread(grid_streets(), [fac], community(), community())
    assert res.facilities["subtype"].tolist() == ["nursing_home", "daycare"]
    row = res.ratios.set_index(["standard", "district_id"]).loc[
        ("daycare_within_300m", "study area")]  # fmt: skip
    assert row["value"] == pytest.approx(800 / 44_000)
    beds = res.ratios.set_index(["standard", "district_id"]).loc[
        ("elderly_beds_per_1000", "study area")]  # fmt: skip
    assert beds["value"] == pytest.approx(120 / 10_000 * 1000)  # totals count every subtype


def test_build_target_progress_from_build_years_and_planned_flags():
    """Four pitch records: built 2019, 2021 (two pitches), 2023年, and one planned. Since
    2021 the plan's target counts 3 pitches built; the planned one is reported beside."""
    lon, lat = to_lonlat([X0 + 400, X0 + 800, X0 + 1200, X0 + 1600], [Y0 + 400] * 4)
    fac = pd.DataFrame({"名称": ["旧场", "新场", "新场二", "规划场"], "类型": ["足球场"] * 4,
                        "经度": lon, "纬度": lat, "球场数": [1, 2, None, 1],
                        "建成年份": ["2019", "2021", "2023年", None],
                        "规划": ["否", "否", "否", "是"]})  # fmt: skip
    res = _street_spread(grid_streets(), [fac], community(), community())
    row = res.ratios.set_index("standard").loc["new_football_pitches_2021_2025"]
    assert row["value"] == 3 and not row["met"]
    assert "planned: 1" in row["note"] and "of 81" in row["note"]
    demo_like = fac.drop(columns=["建成年份", "规划"])
    res = _street_spread(grid_streets(), [demo_like], community(), community())
    note = res.ratios.set_index("standard").loc["new_football_pitches_2021_2025", "note"]
    assert note.startswith("cannot check: the football_pitch facilities carry no build year")


def test_nursing_bed_share_counts_nursing_homes_only():
    """Two nursing homes: 100 beds (60 nursing-type) and 50 (20); a day-care centre with 30
    beds does not count. By hand: 80 / 150 = 53.3 % < 55 % (plan line 193)."""
    lon, lat = to_lonlat([X0 + 400, X0 + 800, X0 + 1200], [Y0 + 400] * 3)
    fac = pd.DataFrame({"名称": ["甲养老院", "乙敬老院", "丙日间照料中心"],
                        "类型": ["养老服务设施"] * 3, "经度": lon, "纬度": lat,
                        "床位": [100, 50, 30], "护理型床位": [60, 20, None]})  # fmt: skip
    res = _street_spread(grid_streets(), [fac], community(), community())
    row = res.ratios.set_index(["standard", "district_id"]).loc[("nursing_bed_share", "study area")]
    assert row["value"] == pytest.approx(80 / 150) and not row["met"]
    assert row["gap"] == pytest.approx(0.55 * 150 - 80)
