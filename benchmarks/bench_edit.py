"""Benchmark: an edit to a loaded study vs a full run for the same change.

One command::

    python benchmarks/bench_edit.py --json edit.json              # demo + 1,000,000 nodes
    python benchmarks/bench_edit.py --nodes 200000 --repeats 20   # a smaller generated city

Each network is measured in its own process: the study is built (:class:`hzspatial.Study`),
then every edit kind is timed ``--repeats`` times at random places after one untimed warm-up —
each edit timed alone and taken back with an untimed undo, so every repeat starts from the
study as built. ``study_mb`` is the process's resident memory with the study loaded (after the
edits); ``peak_mb`` its peak over everything, the full result and the fresh run included.
``set_minutes`` cycles 5, 10 and 20 minutes: a threshold within the widest searched is a
filter, a wider one a search from every facility of the category. ``full_run_s`` is a fresh
:func:`hzspatial.run_coverage` on the inputs after one such edit (what answering the same
question cost before the study); ``identical`` says whether the edited study's result equals
that fresh run (every category's distances to 1e-6 m, coverage, standards values).

Networks: the embedded Hanzhong demo (synthetic demo data), and a generated jittered street
grid (``benchmarks/synth.py``, 100 m blocks, 5 % of links missing) with 2,000 facilities
(4 categories × 500) and 200,000 residents' points on it, one study area.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

KINDS = ("add_facility", "move_facility", "remove_facility", "set_capacity", "set_minutes",
         "add_proposal")  # fmt: skip


def demo_case():
    from hzspatial import demo_inputs
    from hzspatial.network import read_network

    inputs = demo_inputs()
    graph = read_network(inputs["network"])
    return "Hanzhong demo (synthetic demo data)", inputs, graph


def grid_case(n_nodes: int, seed: int = 0):
    import geopandas as gpd
    import pandas as pd
    import shapely
    from synth import UTM48, grid_network

    from hzspatial.network import graph_from_edges

    s = grid_network(n_nodes, 2000, seed)
    xy = np.column_stack([s.x, s.y])
    graph = graph_from_edges(xy, s.u, s.v, s.lines(), UTM48, keep_largest=False,
                             source="generated grid")  # fmt: skip
    rng = np.random.default_rng(seed)
    to_ll = gpd.GeoSeries(shapely.points(xy[s.fac_node] + rng.uniform(-20, 20, (2000, 2))),
                          crs=UTM48).to_crs(4326)  # fmt: skip
    fac = pd.DataFrame({"facility_id": [f"F{i}" for i in range(2000)], "category": s.fac_category,
                        "lon": to_ll.x.to_numpy(), "lat": to_ll.y.to_numpy(),
                        "area_m2": 500.0, "beds": 40.0, "places": 120.0, "pitches": 1.0,
                        "source": "synthetic benchmark data"})  # fmt: skip
    homes = rng.choice(s.n_nodes, min(200_000, s.n_nodes // 2), replace=False)
    hll = gpd.GeoSeries(shapely.points(xy[homes] + rng.uniform(-30, 30, (len(homes), 2))),
                        crs=UTM48).to_crs(4326)  # fmt: skip
    pop = pd.DataFrame({"id": [f"H{i}" for i in range(len(homes))], "lon": hll.x.to_numpy(),
                        "lat": hll.y.to_numpy(), "population": rng.integers(20, 200, len(homes)),
                        "source": "synthetic benchmark data"})  # fmt: skip
    hull = shapely.box(*graph.node_xy.min(axis=0), *graph.node_xy.max(axis=0)).buffer(200)
    bnd = gpd.GeoDataFrame({"district_id": ["grid"], "name": ["generated city"]},
                           geometry=[hull], crs=UTM48).to_crs(4326)  # fmt: skip
    inputs = {"network": graph, "facilities": [fac], "population": pop, "boundaries": bnd}
    return f"generated grid {graph.n_nodes:,} nodes", inputs, graph


def street_points(graph, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Random WGS84 points 5–15 m beside random streets."""
    import geopandas as gpd
    import shapely

    e = rng.choice(graph.n_edges, n)
    a, b = graph.node_xy[graph.edge_u[e]], graph.node_xy[graph.edge_v[e]]
    d = b - a
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(*d.T), 1e-9)[:, None]
    xy = a + rng.uniform(0.2, 0.8, n)[:, None] * d + normal * rng.uniform(5, 15, n)[:, None]
    ll = gpd.GeoSeries(shapely.points(xy), crs=graph.crs).to_crs(4326)
    return ll.x.to_numpy(), ll.y.to_numpy()


def square(lon: float, lat: float, half_m: float = 150.0):
    """A proposed district: a square of ``2 × half_m`` metres around lon/lat (WGS84)."""
    import shapely

    dx = half_m / (111_320 * np.cos(np.radians(lat)))
    dy = half_m / 110_540
    return shapely.box(lon - dx, lat - dy, lon + dx, lat + dy)


def timed_edits(study, graph, repeats: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    lon, lat = street_points(graph, repeats * 4, rng)
    fac = study.facilities
    ids = fac["facility_id"].to_numpy()
    cats = list(study.minutes)
    out = {}
    edits = {
        "add_facility": lambda i: study.add_facility(cats[i % len(cats)], lon[i], lat[i],
                                                     capacity=100),  # fmt: skip
        "move_facility": lambda i: study.move_facility(ids[rng.integers(len(ids))],
                                                       lon[i + repeats], lat[i + repeats]),
        "remove_facility": lambda i: study.remove_facility(ids[rng.integers(len(ids))]),
        "set_capacity": lambda i: study.update_facility(ids[rng.integers(len(ids))],
                                                        beds=int(rng.integers(10, 200))),
        "set_minutes": lambda i: study.set_minutes(cats[i % len(cats)], [5, 10, 20][i % 3]),
        "add_proposal": lambda i: study.add_proposal(
            f"P{i}", square(lon[i + 2 * repeats], lat[i + 2 * repeats]), population=6000),
    }
    for kind in KINDS:
        edits[kind](repeats - 1)  # warm-up (first-use indexes), untimed
        study.undo()
        times = []
        for i in range(repeats):
            t = time.perf_counter()
            edits[kind](i)
            times.append(time.perf_counter() - t)
            study.undo()
        ms = np.array(times) * 1000
        out[kind] = {"p50_ms": round(float(np.percentile(ms, 50)), 2),
                     "p95_ms": round(float(np.percentile(ms, 95)), 2), "n": repeats}  # fmt: skip
    return out


def fresh_equal(study) -> tuple[bool, float]:
    """A fresh run on the study's edited inputs; whether the results agree, and its time."""
    from hzspatial import run_coverage

    t = time.perf_counter()
    fresh = run_coverage(**study.run_inputs())
    full = time.perf_counter() - t
    got = study.result()
    same = True
    for c in fresh.summary["categories"]:
        a = got.demand[f"dist_{c}_m"].to_numpy()
        b = fresh.demand[f"dist_{c}_m"].to_numpy()
        fin = np.isfinite(b)
        same &= bool((np.isfinite(a) == fin).all() and np.abs(a[fin] - b[fin]).max() < 1e-6)
        same &= bool(np.isclose(got.summary["categories"][c]["covered_population"],
                                fresh.summary["categories"][c]["covered_population"]))
    va = got.ratios.sort_values(["standard", "district_id"])["value"].to_numpy(dtype=float)
    vb = fresh.ratios.sort_values(["standard", "district_id"])["value"].to_numpy(dtype=float)
    same &= bool(va.shape == vb.shape and np.allclose(va, vb, equal_nan=True, rtol=1e-9))
    return same, full


def _rss_mb() -> int:
    """Resident memory now (MB): the loaded study, between edits."""
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) // 1024 for x in f if x.startswith("VmRSS"))


def worker(case: str, repeats: int) -> dict:
    warnings.simplefilter("ignore")
    from hzspatial import Study

    label, inputs, graph = demo_case() if case == "demo" else grid_case(int(case))
    t = time.perf_counter()
    study = Study(**inputs)
    build = time.perf_counter() - t
    edits = timed_edits(study, graph, repeats)
    loaded = _rss_mb()
    rng = np.random.default_rng(9)
    lon, lat = street_points(graph, 2, rng)
    study.add_facility(list(study.minutes)[0], lon[0], lat[0], capacity=100)
    study.add_proposal("check", square(lon[1], lat[1]), population=6000)
    identical, full = fresh_equal(study)
    return {"network": label, "nodes": graph.n_nodes, "build_s": round(build, 2),
            "study_mb": loaded,
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "full_run_s": round(full, 2), "identical": identical, "edits": edits}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, nargs="*", default=[1_000_000],
                    help="generated networks' sizes (default 1,000,000)")
    ap.add_argument("--repeats", type=int, default=30, help="timings per edit kind")
    ap.add_argument("--no-demo", action="store_true", help="skip the demo network")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        Path(args.out).write_text(json.dumps(worker(args.worker, args.repeats)))
        return
    cases = ([] if args.no_demo else ["demo"]) + [str(n) for n in args.nodes]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            out = Path(tmp) / f"{case}.json"
            proc = subprocess.run([sys.executable, __file__, "--worker", case, "--repeats",
                                   str(args.repeats), "--out", str(out)],
                                  capture_output=True, text=True)  # fmt: skip
            if proc.returncode != 0:
                r = {"network": case, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
            else:
                r = json.loads(out.read_text())
            results.append(r)
            print(json.dumps(r, ensure_ascii=False))
            if "edits" in r:
                worst = max(v["p95_ms"] for v in r["edits"].values())
                print(f"  {r['network']}: build {r['build_s']} s, full run {r['full_run_s']} s, "
                      f"worst edit p95 {worst} ms ({r['full_run_s'] * 1000 / worst:,.0f}× "
                      f"faster than a full run), peak {r['peak_mb']} MB, "
                      f"identical {r['identical']}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
