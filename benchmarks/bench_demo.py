"""Demo benchmark: time of each stage of ``hzspatial demo`` and its peak memory.

One command::

    python benchmarks/bench_demo.py                  # the embedded Hanzhong demo
    python benchmarks/bench_demo.py --blocks 300000  # 300,000 resident polygons instead

Prints (1) the wall time of ``hzspatial --help`` and of ``hzspatial demo`` end to end, each
in a fresh process as a user runs them (interpreter start and imports included), and (2) a
table of the stages of one run in this process — read, graph, search, catchments,
standards, underserved …, then each writer — with the peak resident memory.

``--blocks N`` replaces the demo's residents by N generated square blocks (labelled
synthetic, seeded) tiling the demo's residential area, population spread evenly: the
scaling case of issue 13 (all outputs are written).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _exe() -> str:
    return shutil.which("hzspatial") or str(Path(sys.executable).parent / "hzspatial")


def cli_times(repeat: int = 3) -> dict[str, tuple[float, float]]:
    """Best of ``repeat`` wall times of ``hzspatial --help`` and ``hzspatial demo``, each with
    the CPU seconds (user + system) of that run's whole process tree (Chromium included)."""
    import resource

    out = {}
    for name, args in (("hzspatial --help", ["--help"]), ("hzspatial demo", ["demo"])):
        best = (float("inf"), 0.0)
        for _ in range(repeat if name.endswith("help") else 1 if repeat == 1 else 2):
            with tempfile.TemporaryDirectory() as tmp:
                extra = ["--out", str(Path(tmp) / "demo")] if args == ["demo"] else []
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                subprocess.run([_exe(), *args, *extra], check=True, capture_output=True)
                wall = time.perf_counter() - t
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                best = min(best, (wall, cpu))
        out[name] = best
    return out


def blocks(n: int, seed: int = 13):
    """``n`` square blocks tiling the demo residents' extent, population evenly spread over
    the demo's total (WGS84 GeoDataFrame, labelled synthetic)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from hzspatial.datasets import demo_paths

    demo = gpd.read_file(demo_paths()["population"])
    total = float(demo["population"].sum())
    utm = demo.estimate_utm_crs()
    area = shapely.union_all(demo.to_crs(utm).geometry.to_numpy())
    x0, y0, x1, y1 = area.bounds
    side = np.sqrt(area.area / n)
    xs, ys = np.arange(x0, x1, side), np.arange(y0, y1, side)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(area)
    keep = shapely.contains_xy(area, gx + side / 2, gy + side / 2)
    gx, gy = gx[keep][:n], gy[keep][:n]
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 1.5, len(gx))
    geoms = shapely.box(gx, gy, gx + side * 0.9, gy + side * 0.9)
    return gpd.GeoDataFrame({"id": [f"B{i}" for i in range(len(gx))],
                             "population": np.round(w / w.sum() * total, 1),
                             "source": "synthetic benchmark blocks"},
                            geometry=geoms, crs=utm).to_crs(4326)  # fmt: skip


def stages(n_blocks: int | None) -> tuple[dict[str, float], float, int]:
    """Stage timings of one run and its writers, as the CLI runs them (the output writer made
    first, so that its drawing process and browser start during the analysis); peak RSS
    (MiB); residents features."""
    from hzspatial import demo_inputs, run_coverage
    from hzspatial.outputs import coverage_output

    inputs = demo_inputs()
    if n_blocks:
        inputs["population"] = blocks(n_blocks)
    writers: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        with coverage_output(Path(tmp) / "out") as writer:
            result = run_coverage(**inputs)
            run_s = time.perf_counter() - t
            writer.write(result, timings=writers)
        write_s = time.perf_counter() - t - run_s
    timings = {**{f"run: {k}": v for k, v in result.timings.items()}, "run (total)": run_s,
               **{f"write: {k}": v for k, v in writers.items()}, "write (total)": write_s,
               "run + write": run_s + write_s}  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings, peak, len(result.residents)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--blocks", type=int, default=None,
                    help="replace the demo residents by this many generated blocks")  # fmt: skip
    ap.add_argument("--no-cli", action="store_true", help="skip the fresh-process CLI timings")
    args = ap.parse_args(argv)
    import logging
    import warnings

    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    if not args.no_cli and not args.blocks:
        print("| command (fresh process) | seconds | CPU seconds (all processes) |\n"
              "|---|---:|---:|")  # fmt: skip
        for name, (wall, cpu) in cli_times().items():
            print(f"| `{name}` | {wall:.2f} | {cpu:.2f} |")
        print()
    timings, peak, n = stages(args.blocks)
    print(f"residents features: {n:,}" + (" (generated blocks)" if args.blocks else " (demo)"))
    print("| stage | seconds |\n|---|---:|")
    for k, v in timings.items():
        print(f"| {k} | {v:.2f} |")
    print(f"| peak memory (MiB) | {peak:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
