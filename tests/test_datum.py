"""Datum-mismatch detection on the demo streets: GCJ-02 / BD-09 points read as WGS84 (and
WGS84 points declared GCJ-02) are flagged; correctly read points and the demo's own
facilities and blocks are not."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _demo import near_street_points

from hzspatial import crs
from hzspatial.datasets import demo_paths
from hzspatial.network import read_network
from hzspatial.network.datum import check_datum


@pytest.fixture(scope="module")
def graph():
    return read_network(demo_paths()["network"])


def test_gcj02_points_read_as_wgs84_are_flagged(graph):
    lon, lat = near_street_points(graph)
    found = check_datum(graph, *crs.wgs84_to_gcj02(lon, lat), "wgs84")
    assert found is not None and found.system == "gcj02"
    assert found.better_median_m < found.median_m


def test_correct_points_are_not_flagged(graph):
    lon, lat = near_street_points(graph)
    assert check_datum(graph, lon, lat, "wgs84") is None


def test_wgs84_points_declared_gcj02_are_flagged(graph):
    lon, lat = near_street_points(graph)
    read = crs.gcj02_to_wgs84(lon, lat)  # what declaring them GCJ-02 does to WGS84 points
    found = check_datum(graph, *read, "gcj02")
    assert found is not None and found.system == "wgs84"


def test_demo_inputs_are_not_flagged_but_shifted_blocks_are(graph):
    fac = pd.read_csv(demo_paths()["facilities"])
    assert check_datum(graph, fac["lon"].to_numpy(), fac["lat"].to_numpy(), "wgs84") is None
    blocks = gpd.read_file(demo_paths()["population"])
    xy = shapely.get_coordinates(shapely.boundary(blocks.geometry.to_numpy()))
    assert check_datum(graph, xy[:, 0], xy[:, 1], "wgs84") is None
    found = check_datum(graph, *crs.wgs84_to_gcj02(xy[:, 0], xy[:, 1]), "wgs84")
    assert found is not None and found.system == "gcj02"


def test_projected_and_tiny_inputs_are_not_checked(graph):
    lon, lat = near_street_points(graph, n=5)
    assert check_datum(graph, *crs.wgs84_to_gcj02(lon, lat), "wgs84") is None
    lon, lat = near_street_points(graph)
    assert check_datum(graph, lon, lat, "EPSG:4545") is None
