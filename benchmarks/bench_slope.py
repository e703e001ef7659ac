"""Directed searches on slopes against the undirected ones, on one large network.

Usage::

    python benchmarks/bench_slope.py                 # 1,000,000 nodes (the #28 target)
    python benchmarks/bench_slope.py --nodes 100000 --json out.json

A generated jittered grid (benchmarks/synth.py, 100 m blocks, 200 facilities in 4 categories)
and a generated DEM over it (GeoTIFF, 30 m cells, hills up to ±150 m) — synthetic, made in a
temporary folder. The same searches run on the flat graph (lengths, symmetric) and on the
graph with Tobler's directed costs: per category the multi-source search bounded at 1,000 m
and unbounded, every demand point's time (one per node), and the 200 catchments. The target:
directed ≤ 2 × undirected. Building the costs (sampling the DEM along every street) is timed
on its own, beside building the graph.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin

sys.path.insert(0, str(Path(__file__).parent))
from synth import UTM48, grid_network  # noqa: E402

from hzspatial import catchments as ct  # noqa: E402
from hzspatial.network import graph_from_edges, snap_points  # noqa: E402
from hzspatial.network.costs import apply_travel  # noqa: E402

LIMIT_M = 1000.0


def make_dem(path: Path, x: np.ndarray, y: np.ndarray, cell: float = 30.0) -> None:
    """Hills over the grid's extent: 500 m ± 150 m, wavelengths of a few kilometres."""
    west, north = x.min() - 200, y.max() + 200
    w = int((x.max() + 200 - west) / cell) + 1
    h = int((north - (y.min() - 200)) / cell) + 1
    cx = west + (np.arange(w) + 0.5) * cell
    cy = north - (np.arange(h) + 0.5) * cell
    z = (500 + 100 * np.sin(cx / 1500.0)[None, :] * np.cos(cy / 1100.0)[:, None]
         + 50 * np.sin((cx[None, :] + cy[:, None]) / 700.0)).astype("float32")  # fmt: skip
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=UTM48.to_wkt(), transform=from_origin(west, north, cell, cell),
                       compress="deflate", tiled=True) as ds:  # fmt: skip
        ds.write(z, 1)


def searches(g, snap, cats, demand) -> dict[str, float]:
    """Seconds of each search kind on ``g``."""
    sources = ct.source_graph(g, snap)
    out = {}
    t = time.perf_counter()
    for c in np.unique(cats):
        ct.nearest_facility(g, snap, LIMIT_M, members=np.flatnonzero(cats == c), sources=sources)
    out["bounded_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for c in np.unique(cats):
        sel = np.flatnonzero(cats == c)
        near = ct.nearest_facility(g, snap, members=sel, sources=sources)
        ct.demand_distances(g, near, demand, snap, members=sel)
    out["unbounded_and_demand_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ct.facility_catchments(g, snap, LIMIT_M, sources=sources)
    out["catchments_s"] = time.perf_counter() - t
    out["total_s"] = sum(out.values())
    return out


def bench(nodes: int) -> dict:
    s = grid_network(nodes, 200, seed=0)
    xy = np.column_stack([s.x, s.y])
    t = time.perf_counter()
    flat = graph_from_edges(xy, s.u, s.v, None, UTM48, keep_largest=False)
    build_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        dem = Path(tmp) / "hills.tif"
        make_dem(dem, s.x, s.y)
        t = time.perf_counter()
        hills = apply_travel(flat, "walk", 4.0, dem)
        costs_s = time.perf_counter() - t
    snap = snap_points(flat, shapely.points(xy[s.fac_node]))
    rng = np.random.default_rng(1)
    pts = xy[rng.choice(len(xy), min(len(xy), 200_000), replace=False)] + rng.uniform(-30, 30, (
        min(len(xy), 200_000), 2))  # fmt: skip
    demand = snap_points(flat, shapely.points(pts))
    undirected = searches(flat, snap, s.fac_category, demand)
    directed = searches(hills, snap, s.fac_category, demand)
    ratio = {k: directed[k] / undirected[k] for k in undirected}
    return {"nodes": flat.n_nodes, "edges": flat.n_edges, "graph_build_s": build_s,
            "dem_costs_s": costs_s, "dem_samples": hills.costs.summary["samples"],
            "undirected": undirected, "directed": directed, "ratio": ratio,
            "target": "directed ≤ 2 × undirected", "met": ratio["total_s"] <= 2.0}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    r = bench(a.nodes)
    print(f"{r['nodes']:,} nodes, {r['edges']:,} edges (synthetic grid); graph "
          f"{r['graph_build_s']:.2f} s, slope costs from the DEM {r['dem_costs_s']:.2f} s "
          f"({r['dem_samples']:,} samples)")
    print(f"{'search':28} {'undirected s':>13} {'directed s':>11} {'ratio':>7}")
    for k in r["undirected"]:
        print(f"{k:28} {r['undirected'][k]:13.2f} {r['directed'][k]:11.2f} {r['ratio'][k]:7.2f}")
    print(f"target {r['target']}: {'met' if r['met'] else 'NOT MET'}")
    if a.json:
        a.json.write_text(json.dumps(r, indent=2, ensure_ascii=False), "utf-8")


if __name__ == "__main__":
    main()
