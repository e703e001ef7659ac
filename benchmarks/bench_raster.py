"""Benchmark: a country-sized population raster turned into demand and run on the demo network.

One command::

    python benchmarks/bench_raster.py --json raster.json

A 20,000 × 20,000-cell GeoTIFF (EPSG:4326, 0.0001° ≈ 9 × 11 m cells, 2° × 2° around the
demo; deflate-compressed tiles) is generated once into a temporary folder: the demo's
residents blocks, whose people are shared among the cells they cover (≈ 640,000 cells), and
0.4 % of all other cells holding half a person (≈ 1.6 million scattered rural cells); nodata
elsewhere — about 2.2 million populated cells, labelled synthetic in its metadata. Cells
outside Hanzhong's counties are dropped by the reader; rural ones beyond the demo network's
snapping distance are residents no facility reaches. Then, in a fresh
process, ``run_coverage`` on the demo network and facilities with that raster as the
population: the raster read (window over the boundaries' extent), the demand built, the
searches, standards and underserved areas — wall time per stage and the process's peak
memory. Targets (issue #27): ≤ 60 s and ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZE = 20_000
STEP = 0.0001
WEST, NORTH = 106.0, 34.2
#: Share of the cells outside the city holding people, and their people per cell.
RURAL_SHARE = 0.004
RURAL_PEOPLE = 0.5


def make_raster(path: Path) -> dict:
    """The raster: the demo blocks' people spread over the 0.0001° cells they cover."""
    import geopandas as gpd
    import rasterio
    from rasterio.features import rasterize
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from hzspatial.datasets import demo_paths

    blk = gpd.read_file(demo_paths()["population"])
    t = from_origin(WEST, NORTH, STEP, STEP)
    x0, y0, x1, y1 = blk.total_bounds
    c0, r0 = (int(v) for v in ~t * (x0, y1))
    c1, r1 = (int(v) + 1 for v in ~t * (x1, y0))
    wt = from_origin(WEST + c0 * STEP, NORTH - r0 * STEP, STEP, STEP)
    shape = (r1 - r0, c1 - c0)
    ids = rasterize(((g, i + 1) for i, g in enumerate(blk.geometry)), out_shape=shape,
                    transform=wt, fill=0, dtype="int32")  # fmt: skip
    cells = np.bincount(ids.ravel(), minlength=len(blk) + 1)[1:]
    per_cell = np.where(cells > 0, blk["population"].to_numpy(float) / np.maximum(cells, 1), 0)
    block = np.where(ids > 0, per_cell[np.maximum(ids - 1, 0)], 0.0)
    block = np.where(block > 0, block, -99999.0).astype("float32")
    profile = dict(driver="GTiff", height=SIZE, width=SIZE, count=1, dtype="float32",
                   crs="EPSG:4326", transform=t, nodata=-99999.0, tiled=True, blockxsize=512,
                   blockysize=512, compress="deflate", BIGTIFF="YES")  # fmt: skip
    rng = np.random.default_rng(27)
    rural_cells = rural_people = 0
    with rasterio.open(path, "w", **profile) as ds:
        ds.update_tags(source="synthetic benchmark data (hzspatial demo blocks gridded, "
                       "scattered rural cells)")  # fmt: skip
        for row in range(0, SIZE, 512):
            h = min(512, SIZE - row)
            stripe = np.full((h, SIZE), -99999.0, dtype="float32")
            lit = rng.random((h, SIZE)) < RURAL_SHARE  # farmsteads and hamlets everywhere
            stripe[lit] = RURAL_PEOPLE
            inner = slice(max(r0 - row, 0), max(min(r1 - row, h), 0))
            stripe[inner, c0:c1] = -99999.0  # the city's cells are the blocks' alone
            rural_cells += int(lit.sum() - lit[inner, c0:c1].sum())
            ds.write(stripe, 1, window=Window(0, row, SIZE, h))
        ds.write(block, 1, window=Window(c0, r0, shape[1], shape[0]))
    rural_people = rural_cells * RURAL_PEOPLE
    return {"populated_cells": int((block > 0).sum()) + rural_cells,
            "city_cells": int((block > 0).sum()), "rural_cells": rural_cells,
            "people": float(block[block > 0].sum()) + rural_people, "cells": SIZE * SIZE}


def worker(raster: str) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from hzspatial import run_coverage
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    t = time.perf_counter()
    res = run_coverage(p["network"], [p["facilities"]], raster)
    wall = time.perf_counter() - t
    return {"wall_s": round(wall, 1), "stages": {k: round(v, 2) for k, v in res.timings.items()},
            "demand_points": len(res.demand), "residents": res.summary["population"],
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="write the result here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pop_20000.tif"
        t = time.perf_counter()
        made = make_raster(path)
        made["make_s"] = round(time.perf_counter() - t, 1)
        made["file_mb"] = round(path.stat().st_size / 1e6, 1)
        print(f"raster: {SIZE:,} × {SIZE:,} cells, {made['populated_cells']:,} populated "
              f"({made['people']:,.0f} people), {made['file_mb']} MB, made in "
              f"{made['make_s']} s")  # fmt: skip
        proc = subprocess.run([sys.executable, __file__, "--worker", str(path)],
                              capture_output=True, text=True)  # fmt: skip
        if proc.returncode:
            sys.exit(proc.stderr[-2000:])
        got = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {"raster": made, **got, "targets": {"wall_s": 60, "peak_mb": 2048}}
    print(f"coverage with the raster: {got['wall_s']} s, peak {got['peak_mb']:,} MB, "
          f"{got['demand_points']:,} demand points; stages {got['stages']}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
