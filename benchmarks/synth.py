"""Generated street networks for benchmarks: jittered grids with missing links (seeded).

Coordinates are metres in UTM 48N (central Hanzhong), so every tool sees the same
planar network; blocks are ~100 m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

UTM48 = pyproj.CRS.from_epsg(32648)
ORIGIN = (640_000.0, 3_600_000.0)
CATEGORIES = ("elderly_care", "clinic", "football_pitch", "kindergarten")


@dataclass(frozen=True)
class SynthNetwork:
    """Nodes (x, y metres), undirected edges (u, v, length metres) and facilities."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    fac_node: np.ndarray
    fac_category: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    def lines(self) -> np.ndarray:
        xy = np.column_stack([self.x, self.y])
        return shapely.linestrings(np.stack([xy[self.u], xy[self.v]], axis=1))


def grid_network(
    n_nodes: int, n_facilities: int = 200, seed: int = 0, spacing: float = 100.0
) -> SynthNetwork:
    """A ~square jittered grid with ``n_nodes`` nodes and 5 % of links removed.

    Facilities sit on random nodes, in 4 categories of equal size.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    ny = int(np.ceil(n_nodes / side))
    idx = np.arange(side * ny).reshape(ny, side)
    gx, gy = np.meshgrid(np.arange(side) * spacing, np.arange(ny) * spacing)
    x = ORIGIN[0] + gx.ravel() + rng.normal(0, spacing * 0.08, idx.size)
    y = ORIGIN[1] + gy.ravel() + rng.normal(0, spacing * 0.08, idx.size)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.05
    u, v = u[keep], v[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    fac = rng.choice(idx.size, n_facilities, replace=False)
    cats = np.array(CATEGORIES)[np.arange(n_facilities) % len(CATEGORIES)]
    return SynthNetwork(x, y, u, v, length, fac, cats)
