"""Vectorised substrings and splits against shapely.ops.substring."""

import numpy as np
import pytest
import shapely
from shapely.ops import substring

from hzspatial.geometry import split_at_distances, substrings


def test_substrings_match_shapely_ops():
    rng = np.random.default_rng(7)
    lines = np.array(
        [shapely.LineString(rng.uniform(0, 100, (rng.integers(2, 7), 2))) for _ in range(200)],
        dtype=object,
    )
    length = shapely.length(lines)
    s = rng.uniform(0, 0.5, 200) * length
    e = s + rng.uniform(0.01, 0.5, 200) * length
    got = substrings(lines, s, e)
    for g, line, a, b in zip(got, lines, s, e, strict=True):
        ref = substring(line, a, b)
        assert g.length == pytest.approx(ref.length, rel=1e-9, abs=1e-9)
        assert (
            shapely.equals_exact(shapely.normalize(g), shapely.normalize(ref), 1e-9)
            or g.hausdorff_distance(ref) < 1e-9
        )


def test_split_at_distances():
    lines = np.array(
        [shapely.LineString([(0, 0), (10, 0), (10, 10)]), shapely.LineString([(0, 0), (0, 5)])],
        dtype=object,
    )
    pieces, src = split_at_distances(
        lines, np.array([0, 0, 0, 1]), np.array([15.0, 5.0, 5.0 + 1e-9, 0.0])
    )
    assert src.tolist() == [0, 0, 0, 1]
    assert [round(p.length, 9) for p in pieces] == [5.0, 10.0, 5.0, 5.0]
    assert pieces[1].coords[:] == [(5.0, 0.0), (10.0, 0.0), (10.0, 5.0)]
