"""Datum-mismatch check: hit and false-alarm rates on real OpenStreetMap positions.

One command::

    python benchmarks/bench_datum.py              # 200 trials per row
    python benchmarks/bench_datum.py --trials 50  # quicker

The streets are the real OpenStreetMap extract of Longgang, Shenzhen shipped for the tests
(``tests/data/osm``, ODbL). Files of ``n`` points are drawn (seeded) in three placements:

* ``near`` — address points 3–25 m beside a random street, as POI exports place them;
* ``homes`` — centroids of the extract's mapped buildings (139), where a workbook's geocoded
  addresses or a 小区's centre fall, often tens of metres from any street;
* ``random`` — uniform in the street area, with no regard to the streets at all (the hardest
  case for a false alarm: nothing ties them to the streets).

Points stay 700 m inside the extract so that a datum's shift keeps them over streets. Each file
is judged as a correctly read WGS84 file (a warning is a **false alarm**), as GCJ-02 and as
BD-09 coordinates read as WGS84 (a warning naming the right system is a **hit**), and as
WGS84 coordinates declared GCJ-02. OpenStreetMap streets are WGS84, so "the streets are
GCJ-02" is not among the conversions tried (as in a run on an OSM network). The rule before
this change (median distances; ``old``) is replayed on the same evidence for comparison.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
LONGGANG = ROOT / "tests" / "data" / "osm" / "shenzhen_longgang.osm"


def old_rule(ev) -> str | None:
    """The rule of round 2 (median distances, 16 random moves, best of the conversions)."""
    m0 = float(np.median(ev.as_read))
    best, best_m = None, np.inf
    for system, d in ev.converted.items():
        if np.median(d) < best_m:
            best, best_m = system, float(np.median(d))
    moved = np.median(ev.moved[best][::3], axis=1)  # 16 of the 48 directions
    clearly = m0 >= 3 * best_m and m0 - best_m >= 50
    aligned = best_m <= 0.8 * np.quantile(moved, 0.1)
    as_read_random = m0 >= 0.8 * np.median(moved)
    return best if clearly or (aligned and as_read_random) else None


def placements(graph, rng, n: int, kind: str, homes: np.ndarray, box) -> np.ndarray:
    """``n`` points (graph CRS, metres) of a placement kind inside ``box``."""
    x0, y0, x1, y1 = box
    out = np.empty((0, 2))
    while len(out) < n:
        if kind == "near":
            e = rng.integers(graph.n_edges, size=4 * n)
            line = graph.edge_geometry[e]
            t = rng.uniform(0.1, 0.9, 4 * n)
            p = shapely.get_coordinates(shapely.line_interpolate_point(line, t, normalized=True))
            q = shapely.get_coordinates(
                shapely.line_interpolate_point(line, np.minimum(t + 0.02, 1), normalized=True))
            d = q - p
            nrm = np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(*d.T), 1e-9)[:, None]
            side = rng.uniform(3, 25, 4 * n) * rng.choice([-1, 1], 4 * n)
            xy = p + nrm * side[:, None]
        elif kind == "homes":
            xy = homes[rng.choice(len(homes), min(len(homes), 4 * n), replace=False)]
        else:
            xy = np.column_stack([rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)])
        ok = (xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)
        out = np.vstack([out, xy[ok]])
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--sizes", type=int, nargs="+", default=[6, 12, 30])
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    from hzspatial import crs
    from hzspatial.network import read_network
    from hzspatial.network.datum import datum_evidence, judge

    graph = read_network(LONGGANG)
    mp = gpd.read_file(LONGGANG, layer="multipolygons", engine="pyogrio")
    homes = shapely.get_coordinates(
        mp[mp["building"].notna()].to_crs(graph.crs).geometry.centroid.to_numpy())
    x0, y0 = graph.node_xy.min(axis=0) + 700
    x1, y1 = graph.node_xy.max(axis=0) - 700
    box = (x0, y0, x1, y1)
    rng = np.random.default_rng(20261203)
    t0 = time.perf_counter()
    print(f"streets: {LONGGANG.name} (OpenStreetMap, ODbL), {graph.n_edges} edges; "
          f"{args.trials} trials per row; buildings mapped: {len(homes)}")
    head = (f"{'placement':9} {'n':>3}  {'false alarm':>12} {'(old)':>7}  {'GCJ-02 hit':>11} "
            f"{'(old)':>7}  {'BD-09 hit':>10} {'(old)':>7}  {'declared-GCJ hit':>16} {'(old)':>7}")
    print(head)
    print("-" * len(head))
    for kind in ("near", "homes", "random"):
        for n in args.sizes:
            counts = {k: [0, 0] for k in ("fa", "gcj", "bd", "decl")}
            for _ in range(args.trials):
                xy = placements(graph, rng, n, kind, homes, box)
                pts = gpd.GeoSeries(shapely.points(xy), crs=graph.crs).to_crs(4326)
                lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
                cases = {
                    "fa": (lon, lat, "wgs84", None),
                    "gcj": (*crs.wgs84_to_gcj02(lon, lat), "wgs84", "gcj02"),
                    "bd": (*crs.wgs84_to_bd09(lon, lat), "wgs84", "bd09"),
                    "decl": (*crs.gcj02_to_wgs84(lon, lat), "gcj02", "wgs84"),
                }
                for key, (a, b, read_as, truth) in cases.items():
                    ev = datum_evidence(graph, a, b, read_as, network_may_shift=False,
                                        all_moves=True)
                    new = judge(ev)
                    new = None if new is None else new.system
                    old = old_rule(ev)
                    if truth is None:
                        counts[key][0] += new is not None
                        counts[key][1] += old is not None
                    else:
                        counts[key][0] += new == truth
                        counts[key][1] += old == truth
            pct = {k: [f"{100 * v / args.trials:.1f}%" for v in c] for k, c in counts.items()}
            print(f"{kind:9} {n:>3}  {pct['fa'][0]:>12} {pct['fa'][1]:>7}  {pct['gcj'][0]:>11} "
                  f"{pct['gcj'][1]:>7}  {pct['bd'][0]:>10} {pct['bd'][1]:>7}  "
                  f"{pct['decl'][0]:>16} {pct['decl'][1]:>7}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
