"""Helpers for tests on the embedded demo (synthetic demo data)."""

import geopandas as gpd
import numpy as np
import pytest
import shapely


def near_street_points(graph, n=40, seed=1):
    """POIs 5–15 m beside random demo streets (as address points lie), WGS84 degrees."""
    rng = np.random.default_rng(seed)
    e = rng.choice(graph.n_edges, n, replace=False)
    a, b = graph.node_xy[graph.edge_u[e]], graph.node_xy[graph.edge_v[e]]
    d = b - a
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / np.hypot(*d.T)[:, None]
    side = rng.uniform(5, 15, n) * rng.choice([-1, 1], n)
    xy = a + rng.uniform(0.2, 0.8, n)[:, None] * d + normal * side[:, None]
    pts = gpd.GeoSeries(shapely.points(xy), crs=graph.crs).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def same_values(got: dict, want: dict, what: str) -> None:
    """Two summary dicts equal: text exactly, numbers to 1e-9 relative / 1e-6 absolute."""
    for k, v in want.items():
        g = got[k]
        if isinstance(v, dict):
            same_values(g, v, f"{what}.{k}")
        elif isinstance(v, str | bool) or v is None:
            assert g == v, f"{what}.{k}"
        else:
            assert g == pytest.approx(v, rel=1e-9, abs=1e-6), f"{what}.{k}"
