"""Scale benchmark: a prefecture-sized walking network across Hanzhong's 11 counties.

One command::

    python benchmarks/bench_scale.py                       # 0.1 M … 2 M nodes
    python benchmarks/bench_scale.py --sizes 2000000 --json scale.json

A jittered street grid (5 % of links missing) is generated inside the real county
boundaries (UTM 48N) with the requested number of nodes; 1,000 facilities (4 categories
× 250) and 200,000 residents' locations (at most half the nodes) sit on random nodes. For
each size the full engine — nearest-facility distances for the 4 categories, 1,000
street-following catchment polygons and the 2SFCA pairs, all within 15 minutes at 4 km/h
(1,000 m) — runs

* serially on the whole graph, and
* tiled by county on a Dask LocalCluster with 2 workers (the largest size only, unless
  ``--dask-all``),

each in its own process; wall time and peak memory (driver + workers) are printed, and
the tiled results are checked to equal the serial ones (covered residents per category).
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIMIT_M = 1000.0
CATS = np.array(["elderly_care", "clinic", "football_pitch", "kindergarten"])


def generate(n_nodes: int, path: Path, seed: int = 7) -> dict:
    """Write the generated network, facilities and residents for ``n_nodes`` to ``path``."""
    import geopandas as gpd
    import shapely

    counties = gpd.read_file(ROOT / "data/boundaries/hanzhong_counties.geojson").to_crs(32648)
    area = shapely.union_all(counties.geometry.to_numpy())
    total = area.area
    spacing = np.sqrt(total / n_nodes)
    x0, y0, x1, y1 = area.bounds
    rng = np.random.default_rng(seed)
    xs = np.arange(x0, x1, spacing)
    ys = np.arange(y0, y1, spacing)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + rng.normal(0, spacing * 0.08, gx.shape)
    gy = gy + rng.normal(0, spacing * 0.08, gy.shape)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, gx, gy)
    idx = np.full(gx.shape, -1, dtype=np.int64)
    idx[inside] = np.arange(inside.sum())
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    ok = (u >= 0) & (v >= 0) & (rng.random(len(u)) > 0.05)
    u, v = u[ok], v[ok]
    x, y = gx[inside], gy[inside]
    n = len(x)
    fac = rng.choice(n, 1000, replace=False)
    dem = rng.choice(n, min(200_000, n // 2), replace=False)
    county = counties.geometry.to_numpy()
    np.savez(path, x=x, y=y, u=u, v=v, fac=fac, cats=CATS[np.arange(1000) % 4], dem=dem,
             county_wkb=np.array(shapely.to_wkb(county, hex=True), dtype=str))  # fmt: skip
    return {"nodes": n, "edges": len(u), "spacing_m": round(float(spacing), 1)}


def _engine_input(path: str):
    import pyproj
    import shapely

    from hzspatial.engine import EngineInput
    from hzspatial.network import graph_from_edges

    z = np.load(path)
    xy = np.column_stack([z["x"], z["y"]])
    lines = shapely.linestrings(np.stack([xy[z["u"]], xy[z["v"]]], axis=1))
    t = time.perf_counter()
    g = graph_from_edges(xy, z["u"], z["v"], lines, pyproj.CRS.from_epsg(32648),
                         keep_largest=False)  # fmt: skip
    build = time.perf_counter() - t
    fac_pts = shapely.points(xy[z["fac"]])
    dem_pts = shapely.points(xy[z["dem"]])
    inp = EngineInput(g, fac_pts, z["cats"], dem_pts, {c: LIMIT_M for c in CATS})
    return inp, shapely.from_wkb(z["county_wkb"]), build


def worker(mode: str, path: str, out: str) -> None:
    import shapely

    from hzspatial import analysis as an
    from hzspatial.engine import compute, compute_tiled

    t0 = time.perf_counter()
    inp, counties, build = _engine_input(path)
    extra_mb = 0.0
    if mode == "serial":
        res = compute(inp, bound_m=LIMIT_M * 1.05)
    else:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None, memory_limit="8GB") as cluster, \
                Client(cluster) as client:  # fmt: skip
            dem_t = an.assign_to_areas(inp.demand_points, counties)
            fac_t = an.assign_to_areas(inp.facility_points, counties)
            for arr, pts in ((dem_t, inp.demand_points), (fac_t, inp.facility_points)):
                miss = np.flatnonzero(arr < 0)
                if len(miss):
                    arr[miss] = shapely.STRtree(counties).query_nearest(
                        pts[miss], all_matches=False)[1]  # fmt: skip
            submit = functools.partial(client.submit, pure=False)  # no hashing of big inputs
            res = compute_tiled(inp, counties, dem_t, fac_t, LIMIT_M + 50, submit=submit)
            extra_mb = max(
                client.run(
                    lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                ).values()
            )
    total = time.perf_counter() - t0
    covered = {str(c): int((res.distance_m[c] <= LIMIT_M).sum()) for c in CATS}
    driver_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps({
        "seconds": total, "graph_build_s": build, "covered": covered,
        "catchments": int((~shapely.is_empty(res.catchments)).sum()),
        "pairs": int(sum(len(p[0]) for p in res.pairs.values())),
        "driver_peak_mb": driver_mb, "worker_peak_mb": extra_mb,
        "peak_mb": driver_mb + 2 * extra_mb,
    }))  # fmt: skip


def measure(mode: str, data: Path) -> dict:
    out = data.with_suffix(f".{mode}.json")
    proc = subprocess.run([sys.executable, __file__, "--worker", mode, "--data", str(data),
                           "--out", str(out)], capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 500_000, 1_000_000, 2_000_000]
    )
    ap.add_argument("--dask-all", action="store_true", help="run Dask at every size")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out)
        return
    rows = []
    print(f"{'nodes':>10} {'edges':>10} {'mode':>14} {'wall s':>8} {'graph s':>8} "
          f"{'peak MB':>9} {'covered (4 categories)':>26} {'agree':>6}")  # fmt: skip
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "net.npz"
            info = generate(size, data)
            modes = ["serial"] + (["dask-2-tiled"] if args.dask_all or size == max(args.sizes)
                                  else [])  # fmt: skip
            res = {m: measure("serial" if m == "serial" else "dask", data) for m in modes}
            for m, r in res.items():
                agree = "—"
                if m != "serial" and "covered" in r and "covered" in res["serial"]:
                    agree = "yes" if r["covered"] == res["serial"]["covered"] else "NO"
                row = {"nodes": info["nodes"], "edges": info["edges"], "mode": m} | r
                rows.append(row)
                if "error" in r:
                    print(f"{info['nodes']:>10,} {info['edges']:>10,} {m:>14}  failed: "
                          f"{r['error']}")  # fmt: skip
                    continue
                cov = sum(r["covered"].values())
                print(f"{info['nodes']:>10,} {info['edges']:>10,} {m:>14} {r['seconds']:>8.1f} "
                      f"{r['graph_build_s']:>8.1f} {r['peak_mb']:>9,.0f} {cov:>26,} "
                      f"{agree:>6}", flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
