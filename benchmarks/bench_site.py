"""Site selection benchmark: hzspatial's maximal covering against PySAL spopt's MCLP.

One command::

    python benchmarks/bench_site.py                    # demo subsets, p = 10
    python benchmarks/bench_site.py --demand 2000 --candidates 1000 --p 10 20
    python benchmarks/bench_site.py --demand 100000 --candidates 20000 --add 100 --json out.json

With ``--add`` or ``--json`` it runs one generated city end to end instead
(``bench_site_city.py``: ``select_sites`` with a plain sparse PuLP + CBC model beside it;
JSON ``{"demand", "candidates", "add", "wall_s", "objective", "bound", "gap", "peak_mb",
"stages", "peers"}``).

Both tools get the same instance, built from the embedded demo (synthetic): the residents'
demand points not yet within 1,000 m of a football pitch and the network junctions (150 m
apart) as candidates, subsampled (seeded) to the sizes asked; the walking distances come from
hzspatial's searches (spopt needs the dense demand × candidate cost matrix; it does not
compute one). Printed per size and p: each tool's time (model build + solve) and objective,
their ratio, and whether the objectives agree. spopt runs PuLP + CBC (``pip install spopt``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def instance(n_demand: int, n_cand: int, seed: int = 1):
    """(coverage matrix demand × candidates, residents, dense cost matrix in metres)."""
    import logging

    logging.disable(logging.INFO)
    warnings.simplefilter("ignore")
    from hzspatial import catchments as ct
    from hzspatial.network import read_network, snap_points
    from hzspatial.run import demo_inputs, run_coverage
    from hzspatial.site import auto_candidates

    inp = demo_inputs()
    graph = read_network(inp.pop("network"))
    cov = run_coverage(graph, **inp)
    d = cov.demand
    unserved = np.flatnonzero(d["dist_football_pitch_m"].to_numpy() > 1000.0)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(unserved, min(n_demand, len(unserved)), replace=False))
    nodes = auto_candidates(graph, 150.0)
    nodes = np.sort(rng.choice(nodes, min(n_cand, len(nodes)), replace=False))
    import shapely

    dsnap = snap_points(graph, d.to_crs(graph.crs).geometry.to_numpy()[pick], 300.0)
    csnap = snap_points(graph, shapely.points(graph.node_xy[nodes]), 300.0)
    di, cj, dist = ct.facility_demand_pairs(graph, csnap, dsnap, 1000.0)
    cost = np.full((len(pick), len(nodes)), 1e6)
    cost[di, cj] = dist
    cover = sp.csr_matrix((np.ones(len(di), bool), (di, cj)), shape=cost.shape)
    return cover, d["population"].to_numpy(float)[pick], cost


def run_ours(cover, w, p):
    from hzspatial import siting

    t = time.perf_counter()
    red = siting.reduce_problem(cover, w)
    sol = siting.maximal_covering(red.cover, red.weight, p)
    return time.perf_counter() - t, sol.objective, sol.status


def run_spopt(cost, w, p):
    import pulp
    from spopt.locate import MCLP

    t = time.perf_counter()
    m = MCLP.from_cost_matrix(cost, w, service_radius=1000.0, p_facilities=p)
    m.solve(pulp.PULP_CBC_CMD(msg=False))
    return time.perf_counter() - t, float(pulp.value(m.problem.objective))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--add" in argv or "--json" in argv:  # one instance at city scale, end to end
        sys.path.insert(0, str(Path(__file__).parent))
        import bench_site_city

        sys.argv = [str(Path(bench_site_city.__file__)), *argv]
        bench_site_city.main()
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--demand", type=int, nargs="+", default=[500, 1500])
    ap.add_argument("--candidates", type=int, nargs="+", default=[300, 800])
    ap.add_argument("--p", type=int, nargs="+", default=[10])
    args = ap.parse_args(argv)
    print("| demand | candidates | p | hzspatial s | spopt s | spopt / hzspatial | "
          "objective hzspatial | objective spopt | equal |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, m in zip(args.demand, args.candidates, strict=True):
        cover, w, cost = instance(n, m)
        for p in args.p:
            t_ours, ours, status = run_ours(cover, w, p)
            t_sp, theirs = run_spopt(cost, w, p)
            print(f"| {cover.shape[0]:,} | {cover.shape[1]:,} | {p} | {t_ours:.2f} | {t_sp:.2f} | "
                  f"{t_sp / t_ours:.1f}× | {ours:,.1f} | {theirs:,.1f} | "
                  f"{'yes' if abs(ours - theirs) < 1e-6 * max(1, ours) else 'NO'} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
