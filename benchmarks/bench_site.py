"""Site selection benchmark: hzspatial's maximal covering against PySAL spopt's MCLP.

One command::

    python benchmarks/bench_site.py                    # demo subsets, p = 10
    python benchmarks/bench_site.py --demand 99999 --candidates 99999   # the demo's full instance
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
compute one). Beside them the plain sparse model in PuLP + CBC (``bench_site_city.plain_mclp``:
the 25-line model an analyst would write, from the same sparse coverage). Printed per size and
p: each tool's time (model build + solve) and objective, the ratios, and whether the objectives
agree. spopt and the plain model run PuLP + CBC (``pip install spopt``).
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


def run_plain(cover, w, p):
    """The plain sparse model in PuLP + CBC (``bench_site_city.plain_mclp``), built from the
    same coverage matrix: model build + solve."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_site_city import plain_mclp

    t = time.perf_counter()
    got = plain_mclp(cover, w, p, 3600.0, 0.0)
    return time.perf_counter() - t, float(got["objective"])


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
    ap.add_argument("--no-spopt", action="store_true",
                    help="leave spopt out (its dense model takes minutes on the full demo)")
    args = ap.parse_args(argv)
    print("| demand | candidates | p | hzspatial s | plain PuLP+CBC s | spopt s | plain / "
          "hzspatial | spopt / hzspatial | objective hzspatial | plain | spopt | equal |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n, m in zip(args.demand, args.candidates, strict=True):
        cover, w, cost = instance(n, m)
        for p in args.p:
            t_ours, ours, status = run_ours(cover, w, p)
            t_pl, plain = run_plain(cover, w, p)
            t_sp, theirs = (np.nan, np.nan) if args.no_spopt else run_spopt(cost, w, p)
            same = all(abs(ours - v) < 1e-6 * max(1, ours) for v in (plain, theirs) if v == v)
            print(f"| {cover.shape[0]:,} | {cover.shape[1]:,} | {p} | {t_ours:.2f} | "
                  f"{t_pl:.2f} | {t_sp:.2f} | {t_pl / t_ours:.1f}× | {t_sp / t_ours:.1f}× | "
                  f"{ours:,.1f} | {plain:,.1f} | {theirs:,.1f} | {'yes' if same else 'NO'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
