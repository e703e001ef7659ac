"""Shared fixtures: small hand-built networks in a metric CRS."""

import numpy as np
import pyproj
import pytest
import shapely

from hzspatial.network import graph_from_lines

UTM48 = pyproj.CRS.from_epsg(32648)


def lines(*coords):
    return np.array([shapely.LineString(c) for c in coords], dtype=object)


@pytest.fixture
def river_graph():
    """Two parallel east-west streets 100 m apart (a river between them), 4 km long,
    joined only by a bridge at x = 2000 m. Nodes every 100 m."""
    segs = []
    for y in (0.0, 100.0):
        segs += [((x, y), (x + 100.0, y)) for x in np.arange(0.0, 4000.0, 100.0)]
    segs.append(((2000.0, 0.0), (2000.0, 100.0)))  # the bridge
    return graph_from_lines(lines(*segs), UTM48)


def pytest_configure(config):
    """Keep the graph cache of test runs out of the user's cache folder."""
    import os
    import tempfile

    os.environ.setdefault("HZSPATIAL_CACHE_DIR", tempfile.mkdtemp(prefix="hzspatial-test-cache-"))


def pytest_collection_modifyitems(config, items):
    import os

    if os.environ.get("HZSPATIAL_ONLINE") == "1":
        return
    skip = pytest.mark.skip(reason="needs internet (set HZSPATIAL_ONLINE=1 to run)")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory):
    """`hzspatial demo` run once through the real console script: (output folder, process)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("hzspatial") or str(Path(sys.executable).parent / "hzspatial")
    out = tmp_path_factory.mktemp("demo") / "hanzhong_demo"
    proc = subprocess.run([exe, "demo", "--out", str(out)], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.fixture(scope="session")
def demo_run():
    """``run_coverage`` on the demo's inputs, once: the reference of tests comparing another
    path (tiles, the CLI, QGIS, PostGIS) with a plain run. Read it, never change it."""
    from hzspatial import demo_inputs, run_coverage

    return run_coverage(**demo_inputs())


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory):
    """The hand-worked 2 km community of tests/test_population.py written as files:
    streets.gpkg, community.geojson (residents and boundaries) and kg.csv (one kindergarten
    in the south-west corner)."""
    from test_population import X0, Y0, community, grid_streets, kindergarten_at

    tmp = tmp_path_factory.mktemp("tiny")
    grid_streets().to_file(tmp / "streets.gpkg")
    community().to_file(tmp / "community.geojson")
    kindergarten_at(X0, Y0).to_csv(tmp / "kg.csv", index=False)
    return tmp


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny Hanzhong street of tests/test_groups.py with its people as a raster (60 cells
    of 100 people along it; tests/test_raster.py, tests/test_agesex.py)."""
    import geopandas as gpd
    import pandas as pd
    from rasterio.transform import from_origin
    from test_groups import LAT, lon_at
    from test_raster import NODATA, write_raster

    tmp = tmp_path_factory.mktemp("rtiny")
    xs = [lon_at(m) for m in range(0, 3001, 250)]
    gpd.GeoDataFrame(geometry=[shapely.LineString([(a, LAT), (b, LAT)])
                               for a, b in zip(xs[:-1], xs[1:], strict=True)],
                     crs=4326).to_file(tmp / "streets.geojson")  # fmt: skip
    pd.DataFrame({"id": ["E1", "P1"], "name": ["日间照料中心", "足球场"],
                  "category": ["elderly_care", "football_pitch"],
                  "lon": [lon_at(0), lon_at(2900)], "lat": [LAT + 0.0001] * 2,
                  "beds": [10, None], "pitches": [None, 1]}).to_csv(
        tmp / "facilities.csv", index=False)  # fmt: skip
    a = np.full((3, 60), NODATA)
    a[1, :] = 100.0  # 60 cells of 100 people along the street
    write_raster(tmp / "pop.tif", a, "EPSG:4326",
                 from_origin(lon_at(0), LAT + 0.00075, 0.0005, 0.0005))  # fmt: skip
    gpd.GeoDataFrame({"adcode": ["610702"], "name": ["汉台区"]},
                     geometry=[shapely.box(lon_at(-300), LAT - 0.01, lon_at(3300), LAT + 0.01)],
                     crs=4326).to_file(tmp / "area.geojson")  # fmt: skip
    gpd.GeoDataFrame({"id": ["N1"], "name": ["新区"], "population": [3000]},
                     geometry=[shapely.box(lon_at(1200), LAT - 0.001, lon_at(1600),
                                           LAT + 0.001)], crs=4326).to_file(
        tmp / "proposal.geojson")  # fmt: skip
    return tmp
