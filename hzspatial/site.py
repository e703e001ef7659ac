"""Where to build: sites for new facilities chosen on the walking network (``hzspatial site``).

>>> from hzspatial.site import select_sites, demo_site_inputs
>>> res = select_sites(**demo_site_inputs())                # doctest: +SKIP
>>> res.sites[["rank", "site_id", "newly_covered"]]          # doctest: +SKIP
>>> res.write("maps/sites")                                  # doctest: +SKIP

A coverage run gives every resident's walking distance to the existing facilities of the
category; each candidate site's catchment (residents within the threshold) comes from the same
bounded searches; the choice is then made by :mod:`hzspatial.siting` — exactly (HiGHS) where it
can be, with a stated bound where it cannot.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from hzspatial import __version__, siting
from hzspatial import catchments as ct
from hzspatial.categories import resolve_category
from hzspatial.datasets import demo_paths
from hzspatial.errors import DataWarning, InputError
from hzspatial.io import FacilityInput, read_facilities
from hzspatial.io._files import input_label
from hzspatial.io._geometry import layer_to_wgs84
from hzspatial.io.facilities import known_categories
from hzspatial.network import MAX_SNAP_M, WalkGraph, read_network, snap_points
from hzspatial.population import BOUNDARY_TOLERANCE_M
from hzspatial.results import SiteResult
from hzspatial.run import run_coverage

__all__ = ["OBJECTIVES", "auto_candidates", "demo_site_inputs", "select_sites"]

logger = logging.getLogger(__name__)

OBJECTIVES = ("coverage", "target")


def demo_site_inputs() -> dict:
    """Keyword arguments of :func:`select_sites` for the demo: 10 new football pitches."""
    p = demo_paths()
    return {"network": p["network"], "facilities": [FacilityInput(p["facilities"])],
            "population": p["population"], "boundaries": p["boundaries"],
            "category": "football_pitch", "add": 10}  # fmt: skip


def auto_candidates(graph: WalkGraph, spacing_m: float = 150.0,
                    area: shapely.Geometry | None = None) -> np.ndarray:  # fmt: skip
    """Candidate sites at the network's junctions (nodes where three or more streets meet,
    or dead ends), thinned to at most one per ``spacing_m`` square (the lowest node index in
    each: the same on every run), optionally inside ``area`` (metric CRS). Returns node
    indices."""
    deg = np.bincount(np.concatenate([graph.edge_u, graph.edge_v]), minlength=graph.n_nodes)
    nodes = np.flatnonzero(deg != 2)
    xy = graph.node_xy[nodes]
    if area is not None:
        shapely.prepare(area)
        inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
        nodes, xy = nodes[inside], xy[inside]
    cell = np.floor(xy / spacing_m).astype(np.int64)
    _, first = np.unique(cell, axis=0, return_index=True)
    return np.sort(nodes[first])


def select_sites(
    network: str | Path | WalkGraph,
    facilities: Sequence[FacilityInput | str | Path | pd.DataFrame],
    population,
    boundaries=None,
    *,
    category: str,
    candidates: str | Path | gpd.GeoDataFrame = "auto",
    spacing_m: float = 150.0,
    within: str | Path | gpd.GeoDataFrame | None = None,
    exclude: str | Path | gpd.GeoDataFrame | None = None,
    objective: str = "coverage",
    add: int | None = None,
    standard: str | None = None,
    target_share: float | None = None,
    curve: bool | str = True,
    time_limit: float = 60.0,
    minutes: float | None = None,
    speed_kmh: float = 4.0,
    crs_in=None,
    candidates_crs=None,
    max_snap_m: float = MAX_SNAP_M,
    **coverage_options,
) -> SiteResult:
    """Choose sites for new facilities of one category.

    Parameters
    ----------
    network, facilities, population, boundaries
        As :func:`hzspatial.run_coverage`; ``facilities`` are the existing ones (their
        residents within the threshold count as already served).
    category : str
        Category of the new facilities (id or alias).
    candidates : ``"auto"``, path or GeoDataFrame
        ``auto``: junctions of the walking network inside the boundaries, at most one per
        ``spacing_m`` square; or a file of points or parcels (vacant land, school grounds,
        planned sites — a parcel is taken at a point inside it) with an id and name column.
    within, exclude : path or GeoDataFrame, optional
        Polygons the candidates must lie in / outside (WGS84 unless they say otherwise).
    objective : {"coverage", "target"}
        ``coverage``: the ``add`` sites newly covering the most residents (maximal covering);
        ``target``: the fewest sites bringing the share of residents within the threshold to
        ``target_share`` (set covering).
    add : int, optional
        Number of new sites (``coverage``); default from ``standard``.
    standard : str, optional
        A per-capita standard of the category (e.g. ``football_pitches_per_10000``): the
        number of new sites is the supply it says is missing, summed over the areas (each
        rounded up, one unit of supply per site).
    target_share : float, optional
        For ``target``: share of residents (0–1] to be within the threshold.
    curve : bool or "exact"
        The coverage curve: residents covered as the chosen sites are built in rank order;
        ``"exact"`` also solves 1 … N sites each on its own (N solves).
    time_limit : float
        Seconds for each MIP solve; beyond it the best choice found and the bound are given.
    minutes, speed_kmh : float
        Walking threshold (default the category's in the coverage run: 15 min).
    crs_in, candidates_crs : optional
        Coordinate systems as in :func:`hzspatial.run_coverage`.
    max_snap_m : float
        Candidates farther from every street are left out (listed in a warning).
    **coverage_options
        Passed to :func:`hzspatial.run_coverage` (``network_crs``, ``population_crs`` …).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}", column="--objective",
                         hint=f"use one of {', '.join(OBJECTIVES)}")  # fmt: skip
    extra = list(coverage_options.pop("extra_categories", ()))
    cat = resolve_category(category, known_categories(extra))
    if cat is None:
        raise InputError(f"unknown category {category!r}", column="--category",
                         hint=f"use one of {', '.join(known_categories(extra))}")  # fmt: skip
    if objective == "target" and not (target_share and 0 < target_share <= 1):
        raise InputError("the target objective needs --target-share between 0 and 1",
                         column="--target-share", hint="e.g. --target-share 0.9")  # fmt: skip
    graph = (network if isinstance(network, WalkGraph)
             else read_network(network, crs=coverage_options.get("network_crs"),
                               default_crs=crs_in))  # fmt: skip
    cov = run_coverage(graph, facilities, population, boundaries, minutes=minutes or 15.0,
                       speed_kmh=speed_kmh, crs_in=crs_in, max_snap_m=max_snap_m,
                       require_standards=False, extra_categories=extra,
                       **{k: v for k, v in coverage_options.items()
                          if k != "network_crs"})  # fmt: skip
    timings["coverage run"] = time.perf_counter() - t0
    if not isinstance(network, WalkGraph):  # the run saw the graph; the report names the file
        _name_network(cov, network)
    limit = cov.summary["categories"].get(cat, {}).get("threshold_m")
    if limit is None:
        from hzspatial.catchments import minutes_to_metres

        limit = minutes_to_metres(minutes or 15.0, speed_kmh)
    t = time.perf_counter()
    area_m = shapely.buffer(
        shapely.union_all(cov.boundaries.to_crs(graph.crs).geometry.to_numpy()),
        BOUNDARY_TOLERANCE_M,
    )  # a site on the boundary line is inside
    cand = _candidates(candidates, graph, cat, area_m, spacing_m, within, exclude, crs_in,
                       candidates_crs, max_snap_m)  # fmt: skip
    demand = cov.demand
    dpts = demand.to_crs(graph.crs).geometry.to_numpy()
    people = demand["population"].to_numpy(dtype=float)
    dcol = f"dist_{cat}_m"
    served = (demand[dcol].to_numpy() <= limit) if dcol in demand else np.zeros(len(demand), bool)
    dsnap = snap_points(graph, dpts, max_snap_m)
    people = people * dsnap.ok
    given = len(cand)
    cpts = cand.to_crs(graph.crs).geometry.to_numpy()
    # a site farther than the threshold (+ the snapping legs) in a straight line from every
    # resident not yet served cannot serve any of them: left out before the searches
    far = dpts[~served & (people > 0)]
    near = np.unique(shapely.STRtree(far).query(cpts, predicate="dwithin",
                                                distance=limit + 2 * max_snap_m)[0])  # fmt: skip
    cand = cand.iloc[near].reset_index(drop=True)
    csnap = snap_points(graph, cpts[near], max_snap_m)
    di, cj, _ = ct.facility_demand_pairs(graph, csnap, dsnap, limit)
    cover = sp.csr_matrix((np.ones(len(di), bool), (di, cj)), shape=(len(demand), len(cand)))
    timings["candidate catchments"] = time.perf_counter() - t
    total = float(people.sum())
    already = float(people[served].sum())
    red = siting.reduce_problem(cover, people, served)
    logger.info("%d candidates (%d after merging identical catchments), %d demand groups",
                len(cand), len(red.candidates), len(red.weight))  # fmt: skip
    need = _needed_by_standard(cov, cat, standard) if standard else None
    t = time.perf_counter()
    if objective == "coverage":
        n = add if add is not None else (need["total"] if need else None)
        if n is None or n < 1:
            raise InputError("how many new sites? pass --add N or --standard ID",
                             column="--add", hint="e.g. --add 10")  # fmt: skip
        if n > len(red.candidates):
            raise InputError(
                f"{n} new sites asked for, but only {len(red.candidates)} candidates reach "
                "residents not yet served", column="--add",
                hint="lower --add, add candidates, or reduce --spacing")  # fmt: skip
        sol = siting.maximal_covering(red.cover, red.weight, n, time_limit=time_limit)
    else:
        goal = target_share * total - already
        if goal <= 0:
            raise InputError(f"{already / total:.1%} of residents are already within "
                             f"{limit:,.0f} m, at or above the target {target_share:.0%}",
                             column="--target-share", hint="raise the target")  # fmt: skip
        try:
            sol = siting.set_covering(red.cover, red.weight, goal, time_limit=time_limit)
        except ValueError as e:
            raise InputError(f"target {target_share:.0%} cannot be reached: {e} (with "
                             f"{already:,.0f} already served of {total:,.0f})",
                             column="--target-share",
                             hint="lower the target or give more candidates") from None  # fmt: skip
    timings["solve"] = time.perf_counter() - t
    chosen = red.candidates[sol.chosen]
    sites = _site_table(cand, chosen, sol, cover, people, served, demand, cat, already, total)
    t = time.perf_counter()
    points = None
    if curve == "exact":
        points = [siting.maximal_covering(red.cover, red.weight, k, time_limit=time_limit / 4)
                  for k in range(1, len(chosen) + 1)]  # fmt: skip
    curve_df = _curve_table(sites, points, already, total) if curve else None
    timings["curve"] = time.perf_counter() - t
    remaining = served | (np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0)
    report = {
        "version": __version__,
        "category": cat,
        "objective": objective,
        "threshold_m": limit,
        "residents": total,
        "already_served": already,
        "newly_covered": sol.objective if objective == "coverage"
        else float(people[remaining & ~served].sum()),
        "covered_after": float(people[remaining].sum()),
        "sites": int(len(chosen)),
        "bound": sol.bound,
        "gap": sol.gap,
        "solver": sol.solver,
        "status": sol.status,
        "candidates": {"given": int(given), "within_reach": int(len(cand)),
                       "distinct_catchments": int(len(red.candidates)),
                       "source": "auto" if isinstance(candidates, str) and candidates == "auto"
                       else input_label(candidates), "spacing_m": spacing_m},
        "demand_groups": int(len(red.weight)),
        "target_share": target_share,
        "standard": need,
        "timings": timings | {"total": time.perf_counter() - t0},
        "inputs": cov.summary["inputs"],
        "synthetic_inputs": cov.summary["synthetic_inputs"],
    }  # fmt: skip
    return SiteResult(report=report, sites=sites, curve=curve_df, coverage=cov,
                      unserved=demand[~remaining & (people > 0)].copy(),
                      catchments=_catchments(graph, csnap, chosen, limit, sites))  # fmt: skip


def _name_network(cov, network) -> None:
    from hzspatial.io import file_sha256

    net = cov.summary["inputs"][0]
    label = input_label(network)
    net["path"] = label
    if Path(label).is_file():
        net["sha256"] = file_sha256(label)
    cov.summary["synthetic_inputs"] = [
        f"network ({Path(label).name})" if x.startswith("network (") else x
        for x in cov.summary["synthetic_inputs"]
    ]


def _candidates(candidates, graph, cat, area_m, spacing_m, within, exclude, crs_in,
                candidates_crs, max_snap_m) -> gpd.GeoDataFrame:  # fmt: skip
    """Candidate sites (WGS84 points): ``site_id``, ``name``, ``capacity`` and ``cost`` when
    given; off-network ones dropped with a warning."""
    if isinstance(candidates, str) and candidates == "auto":
        nodes = auto_candidates(graph, spacing_m, area_m)
        pts = gpd.GeoSeries(shapely.points(graph.node_xy[nodes]), crs=graph.crs).to_crs(4326)
        ids = [f"J{n}" for n in nodes]
        gdf = gpd.GeoDataFrame({"site_id": ids, "name": [f"路口 / junction {n}" for n in nodes]},
                               geometry=pts.to_numpy(), crs=4326)  # fmt: skip
    else:
        fac = read_facilities(candidates, category=cat, crs=candidates_crs, default_crs=crs_in)
        if fac.empty:
            raise InputError("the candidate file holds no site", file=input_label(candidates),
                             hint="give points or parcels of possible sites")  # fmt: skip
        gdf = gpd.GeoDataFrame({"site_id": fac["facility_id"].astype(str), "name": fac["name"],
                                "capacity": fac.get("capacity"), "area_m2": fac["area_m2"]},
                               geometry=fac.geometry.to_numpy(), crs=4326)  # fmt: skip
        m = gdf.to_crs(graph.crs).geometry.to_numpy()
        outside = ~shapely.contains_xy(area_m, *shapely.get_coordinates(m).T)
        if outside.any():
            warnings.warn(f"{input_label(candidates)}: {int(outside.sum())} candidate sites lie "
                          f"outside the boundaries and are left out ("
                          f"{', '.join(gdf['site_id'][outside][:8])})", DataWarning,
                          stacklevel=3)  # fmt: skip
            gdf = gdf[~outside].reset_index(drop=True)
    for layer, keep_inside in ((within, True), (exclude, False)):
        if layer is None or gdf.empty:
            continue
        poly = layer_to_wgs84(layer if isinstance(layer, gpd.GeoDataFrame)
                              else gpd.read_file(layer), layer, crs=None, default=crs_in,
                              what="mask")  # fmt: skip
        shape = shapely.union_all(poly.geometry.to_numpy())
        inside = shapely.contains_xy(shape, *shapely.get_coordinates(gdf.geometry.to_numpy()).T)
        gdf = gdf[inside == keep_inside].reset_index(drop=True)
    if gdf.empty:
        raise InputError(
            "no candidate site is left",
            column="--candidates",
            hint="check the candidates, --within/--exclude and the boundaries",
        )
    snap = snap_points(graph, gdf.to_crs(graph.crs).geometry.to_numpy(), max_snap_m)
    if (~snap.ok).any():
        bad = gdf["site_id"][~snap.ok].tolist()
        warnings.warn(f"{len(bad)} candidate sites farther than {max_snap_m:g} m from the "
                      f"network are left out ({', '.join(bad[:8])})", DataWarning,
                      stacklevel=3)  # fmt: skip
        gdf = gdf[snap.ok].reset_index(drop=True)
    if gdf.empty:
        raise InputError(
            "no candidate site lies on the network",
            column="--candidates",
            hint="check the candidates' coordinates and coordinate system",
        )
    return gdf


def _needed_by_standard(cov, cat: str, sid: str) -> dict:
    """New sites a per-capita standard asks for, per area: its gap (supply units, one unit per
    site) rounded up."""
    std = next((s for s in cov.standards if s.id == sid), None)
    if std is None or std.category != cat or std.metric != "supply_per_capita":
        ok = [s.id for s in cov.standards if s.category == cat and s.metric == "supply_per_capita"]
        raise InputError(f"{sid!r} is not a per-capita standard of {cat}", column="--standard",
                         hint=f"use one of {', '.join(ok) or '(none)'}")  # fmt: skip
    rows = cov.ratios[(cov.ratios["standard"] == sid) & (cov.ratios["district_id"] != "study area")]
    per = {str(r["district"]): int(math.ceil(r["gap"] - 1e-9)) if r["gap"] == r["gap"] else 0
           for r in rows.to_dict("records")}  # fmt: skip
    return {"id": sid, "label": std.label, "target": std.target, "unit": std.unit,
            "per_area": per, "total": int(sum(per.values())), "source": std.source}  # fmt: skip


def _site_table(cand, chosen, sol, cover, people, served, demand, cat, already, total):
    """``sites.csv``: one row per chosen site in rank order, readable back as a facility file."""
    sites = cand.iloc[chosen].reset_index(drop=True)
    covered = served.copy()
    gains, cum = [], []
    for j in chosen:
        col = cover[:, j].toarray().ravel()
        new = col & ~covered
        gains.append(float(people[new].sum()))
        covered |= col
        cum.append(float(people[covered].sum()))
    pts = sites.geometry
    districts = demand.loc[demand["district_id"].notna()]
    area_of = _nearest_district(pts, districts)
    out = gpd.GeoDataFrame({
        "rank": np.arange(1, len(sites) + 1),
        "id": sites["site_id"].to_numpy(),
        "name": sites["name"].to_numpy(),
        "category": cat,
        "lon": np.round(pts.x.to_numpy(), 7),
        "lat": np.round(pts.y.to_numpy(), 7),
        "district_id": area_of,
        "newly_covered": gains,
        "cumulative_covered": cum,
        "cumulative_share": np.array(cum) / total if total else np.nan,
        "already_served": already,
    }, geometry=pts.to_numpy(), crs=4326)  # fmt: skip
    out["site_id"] = out["id"]
    return out


def _nearest_district(pts: gpd.GeoSeries, demand: gpd.GeoDataFrame) -> np.ndarray:
    if demand.empty:
        return np.full(len(pts), None, dtype=object)
    tree = shapely.STRtree(demand.geometry.to_numpy())
    idx = tree.query_nearest(pts.to_numpy(), all_matches=False)[1]
    return demand["district_id"].to_numpy()[idx]


def _curve_table(sites, points, already: float, total: float) -> pd.DataFrame:
    """Residents within the threshold with 0 … N new sites: as the chosen sites are built in
    rank order (``in_rank_order``), and, with ``points``, the best for each number solved on
    its own (``best``, with its bound)."""
    rows = [{"new_sites": 0, "in_rank_order": already, "share": already / total}]
    for k, cum in enumerate(sites["cumulative_covered"], start=1):
        rows.append({"new_sites": k, "in_rank_order": cum, "share": cum / total})
    out = pd.DataFrame(rows)
    if points is not None:
        out["best"] = [already] + [already + p.objective for p in points]
        out["bound"] = [already] + [already + p.bound for p in points]
        out["status"] = ["—"] + [p.status for p in points]
    return out


def _catchments(graph, csnap, chosen, limit, sites) -> gpd.GeoDataFrame:
    polys = ct.facility_catchments(graph, csnap.take(chosen), limit)
    return gpd.GeoDataFrame({"rank": sites["rank"].to_numpy(), "id": sites["id"].to_numpy()},
                            geometry=list(polys), crs=graph.crs).to_crs(4326)  # fmt: skip
