"""Site selection at city scale: ``select_sites`` end to end on a generated city, with a plain
sparse PuLP + CBC model of the same instance beside it.

One command::

    python benchmarks/bench_site_city.py --demand 100000 --candidates 20000 --add 100 \
        --json site_city.json

The city (synthetic, seeded): a jittered street grid (``benchmarks/synth.py``) of
``--nodes`` junctions (default: as many as demand points), ``--demand`` homes beside random
streets (20–200 residents each), ``--existing`` football pitches and ``--candidates`` candidate
sites beside random streets; 15 minutes at 4 km/h. ``select_sites`` runs in a process of its
own under ``--time-limit`` (the whole command: reading, searches, model, solve); printed and
written as JSON: ``{"demand", "candidates", "add", "wall_s", "objective", "bound", "gap",
"peak_mb", "stages": {…}, "peers": {…}}``. The peer is the textbook maximal covering model
(one binary per candidate, one coverage variable per demand point, one row per demand point)
built straight from the same sparse coverage matrix in PuLP and solved by CBC under the same
time limit; spopt is not run at this size (its model needs the dense demand × candidate cost
matrix: 100,000 × 20,000 × 8 bytes = 16 GB).
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

sys.path.insert(0, str(Path(__file__).parent))


def city(n_demand: int, n_cand: int, n_nodes: int, n_existing: int, seed: int = 0):
    """The generated city's inputs: (graph, facilities, residents, boundaries, candidates)."""
    import geopandas as gpd
    import pandas as pd
    import shapely
    from bench_edit import street_points
    from synth import UTM48, grid_network

    from hzspatial.network import graph_from_edges

    s = grid_network(n_nodes, 0, seed)
    xy = np.column_stack([s.x, s.y])
    graph = graph_from_edges(xy, s.u, s.v, s.lines(), UTM48, keep_largest=False,
                             source="generated grid")  # fmt: skip
    rng = np.random.default_rng(seed)
    lon, lat = street_points(graph, n_existing, rng)
    fac = pd.DataFrame({"facility_id": [f"P{i}" for i in range(n_existing)],
                        "category": "football_pitch", "lon": lon, "lat": lat, "pitches": 1.0,
                        "source": "synthetic benchmark data"})  # fmt: skip
    lon, lat = street_points(graph, n_demand, rng)
    pop = pd.DataFrame({"id": [f"H{i}" for i in range(n_demand)], "lon": lon, "lat": lat,
                        "population": rng.integers(20, 200, n_demand).astype(float),
                        "source": "synthetic benchmark data"})  # fmt: skip
    lon, lat = street_points(graph, n_cand, rng)
    cand = gpd.GeoDataFrame({"site_id": [f"C{i}" for i in range(n_cand)]},
                            geometry=shapely.points(lon, lat), crs=4326)  # fmt: skip
    hull = shapely.box(*graph.node_xy.min(axis=0), *graph.node_xy.max(axis=0)).buffer(200)
    bnd = gpd.GeoDataFrame({"district_id": ["city"], "name": ["generated city"]},
                           geometry=[hull], crs=UTM48).to_crs(4326)  # fmt: skip
    return graph, fac, pop, bnd, cand


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_ours(args) -> dict:
    """``select_sites`` end to end (the city generated first, not timed)."""
    from hzspatial.site import select_sites

    graph, fac, pop, bnd, cand = city(args.demand, args.candidates, args.nodes, args.existing)
    t = time.perf_counter()
    res = select_sites(graph, [fac], pop, bnd, category="football_pitch", add=args.add,
                       candidates=cand, time_limit=args.time_limit, gap=args.gap,
                       curve=None)  # fmt: skip
    wall = time.perf_counter() - t
    r = res.report
    return {"wall_s": round(wall, 2), "objective": r["newly_covered"], "bound": r["bound"],
            "gap": r["gap"], "status": r["status"], "solver": r["solver"],
            "demand_groups": r["demand_groups"], "candidates_kept": r["candidates"],
            "peak_mb": _peak_mb(), "stages": {k: round(v, 2) for k, v in r["timings"].items()}}


def run_pulp(args) -> dict:
    """The textbook model in PuLP + CBC from the same sparse coverage (built here with
    hzspatial's searches: the instance, not the solver, is shared)."""
    import scipy.sparse as sp

    from hzspatial import catchments as ct
    from hzspatial.network import snap_points

    graph, fac, pop, bnd, cand = city(args.demand, args.candidates, args.nodes, args.existing)
    import geopandas as gpd

    to_m = lambda df: gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]),  # noqa: E731
                                    crs=4326).to_crs(graph.crs).to_numpy()
    limit = 1000.0
    dsnap = snap_points(graph, to_m(pop), 300.0)
    fsnap = snap_points(graph, to_m(fac), 300.0)
    t0 = time.perf_counter()
    served = np.zeros(len(pop), bool)
    di, _, _ = ct.facility_demand_pairs(graph, fsnap, dsnap, limit)
    served[di] = True
    csnap = snap_points(graph, cand.to_crs(graph.crs).geometry.to_numpy(), 300.0)
    di, cj, _ = ct.facility_demand_pairs(graph, csnap, dsnap, limit)
    keep = ~served[di]
    a = sp.csr_matrix((np.ones(keep.sum()), (di[keep], cj[keep])),
                      shape=(len(pop), len(cand)))  # fmt: skip
    w = pop["population"].to_numpy(float)
    t_search = time.perf_counter() - t0
    left = max(args.time_limit - (time.perf_counter() - t0), 1.0)
    got = plain_mclp(a, w, args.add, left, args.gap)
    return {"wall_s": round(time.perf_counter() - t0, 2), "objective": got["objective"],
            "status": got["status"], "peak_mb": _peak_mb(),
            "stages": {"searches": round(t_search, 2), "model": round(got["model_s"], 2),
                       "solve": round(got["solve_s"], 2)}}  # fmt: skip


def plain_mclp(a, w, add: int, time_limit: float, gap: float) -> dict:
    """The textbook maximal covering model in PuLP + CBC, built from a sparse demand ×
    candidate coverage matrix ``a`` (rows with no candidate left out) — the plain way a
    planner's analyst would write it: x binary per candidate, y ≤ Σ x over the candidates
    covering each demand point, Σ x = ``add``."""
    import pulp

    t = time.perf_counter()
    a = a.tocsr()
    rows = np.flatnonzero(np.diff(a.indptr) > 0)
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(a.shape[1])]
    y = {i: pulp.LpVariable(f"y{i}", 0, 1) for i in rows}
    prob += pulp.lpSum(w[i] * y[i] for i in rows)
    prob += pulp.lpSum(x) == add
    for i in rows:
        prob += y[i] <= pulp.lpSum(x[j] for j in a.indices[a.indptr[i]:a.indptr[i + 1]])
    t_model = time.perf_counter() - t
    t = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=gap))
    return {"objective": pulp.value(prob.objective), "status": pulp.LpStatus[prob.status],
            "model_s": t_model, "solve_s": time.perf_counter() - t}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demand", type=int, default=100_000)
    ap.add_argument("--candidates", type=int, default=20_000)
    ap.add_argument("--add", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=None, help="junctions (default: --demand)")
    ap.add_argument("--existing", type=int, default=100, help="pitches today")
    ap.add_argument("--time-limit", type=float, default=240.0, help="seconds, each tool")
    ap.add_argument("--gap", type=float, default=1e-4, help="optimality gap accepted")
    ap.add_argument("--no-peers", action="store_true", help="hzspatial only")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.nodes = args.nodes or args.demand
    if args.worker:
        warnings.simplefilter("ignore")
        fn = run_ours if args.worker == "hzspatial" else run_pulp
        Path(args.out).write_text(json.dumps(fn(args)))
        return
    result = {"demand": args.demand, "candidates": args.candidates, "add": args.add,
              "nodes": args.nodes, "time_limit_s": args.time_limit, "peers": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for tool in ["hzspatial"] + ([] if args.no_peers else ["pulp_cbc"]):
            out = Path(tmp) / f"{tool}.json"
            proc = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--worker", tool,
                                   "--out", str(out)], capture_output=True, text=True)  # fmt: skip
            r = (json.loads(out.read_text()) if proc.returncode == 0 else
                 {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]})  # fmt: skip
            if tool == "hzspatial":
                result |= r
            else:
                result["peers"][tool] = r
            print(tool, json.dumps(r, ensure_ascii=False))
    result["peers"]["spopt"] = {"skipped": "needs the dense demand × candidate cost matrix "
                                f"({args.demand * args.candidates * 8 / 1e9:,.1f} GB)"}
    ours, cbc = result.get("objective"), result["peers"].get("pulp_cbc", {}).get("objective")
    if ours and cbc:
        print(f"objective hzspatial {ours:,.0f} vs PuLP+CBC {cbc:,.0f}; wall "
              f"{result['wall_s']} s vs {result['peers']['pulp_cbc']['wall_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
