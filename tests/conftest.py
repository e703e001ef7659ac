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
