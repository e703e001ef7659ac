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
