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
from dataclasses import dataclass, replace
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
from hzspatial.errors import DataWarning, InputError, check_number, format_rows
from hzspatial.geometry import boundary_points
from hzspatial.groups import ALL, builtin_groups
from hzspatial.io import FacilityInput, read_facilities
from hzspatial.io._files import input_label, read_layer, read_table
from hzspatial.io._geometry import feature_rows, layer_to_wgs84, table_rows
from hzspatial.io.facilities import known_categories
from hzspatial.network import MAX_SNAP_M, WalkGraph, snap_points
from hzspatial.population import BOUNDARY_TOLERANCE_M
from hzspatial.results import SiteResult
from hzspatial.study import Study

__all__ = ["OBJECTIVES", "auto_candidates", "demo_site_inputs", "select_sites"]

logger = logging.getLogger(__name__)

OBJECTIVES = ("coverage", "distance", "target")
#: Seconds the solver gets even when reading and searching used up the time limit: enough
#: for greedy, swaps and a Lagrangian bound on a city-sized model.
MIN_SOLVE_S = 5.0
#: Seconds of the time limit kept for writing the outputs (site.json, tables, curve, map and
#: report: 0.4–0.6 s on the demo): this share of the limit, at least WRITE_MIN_S.
WRITE_SHARE = 0.05
WRITE_MIN_S = 1.0


def write_reserve(time_limit: float) -> float:
    """Seconds of ``time_limit`` kept for writing: :data:`WRITE_SHARE` of it, at least
    :data:`WRITE_MIN_S`, never more than a quarter of it."""
    return min(max(WRITE_MIN_S, WRITE_SHARE * time_limit), time_limit / 4)


def demo_site_inputs() -> dict:
    """Keyword arguments of :func:`select_sites` for the demo: 10 new football pitches."""
    p = demo_paths()
    return {"network": p["network"], "facilities": [FacilityInput(p["facilities"])],
            "population": p["population"], "boundaries": p["boundaries"],
            "category": "football_pitch", "add": 10}  # fmt: skip


def auto_candidates(graph: WalkGraph, spacing_m: float = 150.0,
                    area: shapely.Geometry | None = None) -> np.ndarray:  # fmt: skip
    """Candidate sites at the network's junctions (nodes where three or more streets meet,
    or dead ends) on a street that may be joined (not only tunnels, steps …: see
    :mod:`hzspatial.network.rules`), thinned to at most one per ``spacing_m`` square (the
    lowest node index in each: the same on every run), optionally inside ``area`` (metric
    CRS). Returns node indices."""
    ends = np.concatenate([graph.edge_u, graph.edge_v])
    deg = np.bincount(ends, minlength=graph.n_nodes)
    nodes = np.flatnonzero(deg != 2)
    door = np.zeros(graph.n_nodes, dtype=bool)
    door[ends[np.tile(graph.joinable, 2)]] = True
    nodes = nodes[door[nodes]]
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
    started: float | None = None,
    gap: float = siting.MIP_GAP,
    minutes: float | None = None,
    speed_kmh: float = 4.0,
    crs_in=None,
    candidates_crs=None,
    max_snap_m: float = MAX_SNAP_M,
    capacity: float | bool | None = None,
    reach_m: float | None = None,
    per_area: bool = False,
    budget: float | None = None,
    study=None,
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
    objective : {"coverage", "distance", "target"}
        ``coverage``: the ``add`` sites newly covering the most residents (maximal covering);
        ``distance``: the ``add`` sites making the residents' total walk to their nearest
        facility shortest, existing ones included (p-median; walks beyond ``reach_m`` count as
        ``reach_m``); ``target``: the fewest sites bringing the share of residents within the
        threshold to ``target_share`` (set covering).
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
        Seconds for the whole command, counted from ``started``: what reading, the coverage
        run and the candidates' searches leave, less the time kept for writing
        (:func:`write_reserve`), goes to the solver — at least :data:`MIN_SOLVE_S` (or the
        limit, when smaller); ``exact`` curve points get what the choice leaves, and those
        past it are not solved. The best choice found is given with a proven bound and its
        gap; ``report["time_limit"]`` says how the seconds went and whether reading and
        searching alone overran the limit.
    started : float, optional
        :func:`time.perf_counter` when the command began (the CLI passes its start, so that
        its own reading counts); default: when this call began.
    gap : float
        Relative optimality gap accepted for the coverage objective (default 1e-4): a
        choice proven within it of the best possible is returned without solving further.
    minutes, speed_kmh : float
        Walking threshold (default the category's in the coverage run: 15 min).
    crs_in, candidates_crs : optional
        Coordinate systems as in :func:`hzspatial.run_coverage`.
    max_snap_m : float
        Candidates farther from every street are left out (listed in a warning).
    capacity : float or True, optional
        Capacity-aware coverage: each site serves at most as many residents as its supply
        (places, beds, pitches) allows at the ``standard``'s rate — ``per`` ÷ ``target``
        residents per unit (1 pitch per 10,000 → 10,000). A number is every new site's supply;
        True takes it from the candidate file's supply column. Existing facilities keep their
        own supply and serve first; residents may be split between sites.
    per_area : bool
        Share the ``add`` sites (default: the standard's total) among the districts in
        proportion to their shortfall against ``standard`` (largest remainders), each district's
        sites among its own candidates, all chosen together (coverage objective).
    budget : float, optional
        Coverage within a budget: the candidate file's cost column (``cost``, ``造价``,
        ``费用``, ``投资``) summed over the chosen sites stays within it; ``add`` (if given)
        becomes at most that many sites.
    reach_m : float, optional
        For ``distance``: how far the searches from each candidate go (default twice the
        threshold).
    study : hzspatial.Study, optional
        Site on a loaded (possibly edited) study instead of a new coverage run: its network,
        residents, facilities and thresholds; ``network`` … ``boundaries`` are then not read
        (pass None). The chosen sites can be accepted into it with
        :meth:`hzspatial.Study.accept_sites`.
    **coverage_options
        Passed to :func:`hzspatial.run_coverage` (``network_crs``, ``population_crs``,
        ``snap_rules`` …). ``spread`` defaults to ``streets`` here (not coverage's ``area``):
        the siting model grows with the demand points (the demo's 42,844 area points make
        ``--per-area`` minutes long); pass ``spread="area"`` for the finer placement.
    """
    t0 = time.perf_counter()
    begun = t0 if started is None else min(float(started), t0)
    timings: dict[str, float] = {}
    spacing_m, time_limit, max_snap_m, budget, reach_m = _checked_numbers(
        spacing_m, time_limit, max_snap_m, budget, reach_m, add, objective)
    gap = check_number(gap, "--gap", strict=False, maximum=0.5)
    extra = list(coverage_options.pop("extra_categories", ()))
    if coverage_options.get("spread") is None:
        coverage_options["spread"] = "streets"
    cat = resolve_category(category, known_categories(extra))
    if cat is None:
        raise InputError(f"unknown category {category!r}", column="--category",
                         hint=f"use one of {', '.join(known_categories(extra))}")  # fmt: skip
    _check_combinations(objective, capacity, per_area, budget, target_share, add)
    graph, cov = _site_coverage(study, network, facilities, population, boundaries, cat,
                                minutes, speed_kmh, crs_in, max_snap_m, extra,
                                coverage_options)  # fmt: skip
    timings["coverage run"] = time.perf_counter() - t0
    t = time.perf_counter()
    mo = _site_model(cov, graph, cat, candidates, minutes, speed_kmh, spacing_m, within, exclude,
                     crs_in, candidates_crs, max_snap_m, budget, per_area)  # fmt: skip
    timings["candidate catchments"] = time.perf_counter() - t
    need = _needed_by_standard(cov, cat, standard) if standard else None
    t = time.perf_counter()
    reserve = write_reserve(time_limit)
    solve_s = max(time_limit - (t - begun) - reserve, min(MIN_SOLVE_S, time_limit))
    budget_note = {"limit_s": time_limit, "before_solve_s": t - begun, "solver_s": solve_s,
                   "kept_for_writing_s": reserve,
                   "overrun": bool(t - begun + reserve + min(MIN_SOLVE_S, time_limit)
                                   > time_limit)}  # fmt: skip
    sol, chosen, saved, capacity_note = _solve_sites(
        mo, cov, graph, cat, objective, add, need, budget, capacity, per_area, target_share,
        reach_m, max_snap_m, solve_s, gap)  # fmt: skip
    timings["solve"] = time.perf_counter() - t
    sites = _sites_frame(mo, cov, cat, chosen, sol, saved, capacity_note)
    t = time.perf_counter()
    points = (_exact_curve(mo, len(chosen), begun + time_limit - reserve)
              if curve == "exact" else None)  # fmt: skip
    curve_df = _curve_table(sites, points, mo.already, mo.total) if curve else None
    timings["curve"] = time.perf_counter() - t
    remaining = mo.served | (np.asarray(mo.cover[:, chosen].sum(axis=1)).ravel() > 0)
    report = _site_report(mo, cov, cat, objective, sol, chosen, saved, capacity, capacity_note,
                          budget, candidates, spacing_m, target_share, need, remaining,
                          timings | {"total": time.perf_counter() - t0})  # fmt: skip
    report["time_limit"] = budget_note | {"used_s": time.perf_counter() - begun}
    if budget_note["overrun"]:
        proven = report.get("status") in ("optimal", "within gap")
        logger.warning("--time-limit %g s: reading and searching took %.1f s, so the solver "
                       "was given its minimum %.1f s — %s", time_limit,
                       budget_note["before_solve_s"], solve_s,
                       f"its choice is still proven {report['status']}" if proven else
                       "the choice is the best found in it, with its proven bound; raise "
                       "--time-limit for a closer one")  # fmt: skip
    return SiteResult(report=report, sites=sites, curve=curve_df, coverage=cov,
                      unserved=mo.demand[~remaining & (mo.people > 0)].copy(),
                      catchments=_catchments(graph, mo.csnap, chosen, mo.limit, sites))  # fmt: skip


def _exact_curve(mo: _Model, n: int, deadline: float) -> list:
    """1 … ``n`` sites each solved on its own, sharing the seconds left before ``deadline``
    (a :func:`time.perf_counter` value); points past it are ``None`` (not solved)."""
    points = []
    for k in range(1, n + 1):
        left = deadline - time.perf_counter()
        if left <= 0:
            points.append(None)
            continue
        points.append(siting.maximal_covering(mo.red.cover, mo.red.weight, k,
                                              time_limit=left / (n - k + 1)))  # fmt: skip
    return points


def _sites_frame(mo: _Model, cov, cat: str, chosen, sol, saved, capacity_note) -> pd.DataFrame:
    """The chosen sites' table: each site's area (code and name), whom it covers, provenance,
    and the distance saved or the cumulative coverage when the objective gives them."""
    sites = _site_table(mo.cand, chosen, sol, mo.cover, mo.people, mo.served, mo.demand, cat,
                        mo.already, mo.total)  # fmt: skip
    names = dict(zip(cov.boundaries["district_id"], cov.boundaries["name"], strict=True))
    # the area's name beside its code (a 12-digit 社区 code alone says nothing to a reader)
    sites.insert(int(sites.columns.get_loc("district_id")) + 1, "district",
                 sites["district_id"].map(names).to_numpy())  # fmt: skip
    _provenance(sites, cov.summary["synthetic_inputs"])
    if saved is not None:
        sites["distance_saved_m"] = saved.pop("per_site") / mo.total
    if capacity_note is not None:
        sites["cumulative_covered"] = capacity_note["cumulative"]
        sites["newly_covered"] = np.diff(np.concatenate([[mo.already],
                                                         capacity_note["cumulative"]]))  # fmt: skip
        sites["cumulative_share"] = sites["cumulative_covered"] / mo.total
    return sites


def _checked_numbers(spacing_m, time_limit, max_snap_m, budget, reach_m, add,
                     objective) -> tuple:  # fmt: skip
    """The numeric options checked (metres, seconds, budget), ``add`` a whole number ≥ 1 and
    the objective a known one: one line naming the option otherwise."""
    spacing_m = check_number(spacing_m, "--spacing", maximum=50_000.0)
    time_limit = check_number(time_limit, "--time-limit", maximum=7 * 24 * 3600.0)
    max_snap_m = check_number(max_snap_m, "--max-snap", maximum=50_000.0)
    if budget is not None:
        budget = check_number(budget, "--budget")
    if reach_m is not None:
        reach_m = check_number(reach_m, "reach_m", maximum=1_000_000.0)
    if add is not None and (isinstance(add, bool) or not isinstance(add, int | np.integer)
                            or add < 1):  # fmt: skip
        raise InputError(f"--add must be a whole number ≥ 1 (got {add!r})", column="--add",
                         hint="the number of new sites, e.g. --add 10")  # fmt: skip
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}", column="--objective",
                         hint=f"use one of {', '.join(OBJECTIVES)}")  # fmt: skip
    return spacing_m, time_limit, max_snap_m, budget, reach_m


def _check_combinations(objective, capacity, per_area, budget, target_share, add) -> None:
    """Options that cannot go together, or lack what they need: one line naming the option,
    none silently ignored."""
    options = (
        ("--capacity", capacity is not None),
        ("--per-area", per_area),
        ("--budget", budget is not None),
    )
    only_coverage = [name for name, used in options if used]
    if objective != "coverage" and only_coverage:
        raise InputError(f"{' and '.join(only_coverage)} "
                         f"work{'s' if len(only_coverage) == 1 else ''} with --objective "
                         "coverage only",
                         column=only_coverage[0],
                         hint="drop it or use --objective coverage")  # fmt: skip
    if len(only_coverage) > 1:
        raise InputError(f"{' and '.join(only_coverage)} cannot be combined",
                         column=only_coverage[1], hint="choose one of them")  # fmt: skip
    if target_share is not None and objective != "target":
        raise InputError("--target-share works with --objective target only",
                         column="--target-share",
                         hint="drop it, or use --objective target")  # fmt: skip
    if objective == "target" and add is not None:
        raise InputError("--add does not apply to --objective target, which finds the fewest "
                         "sites reaching --target-share", column="--add",
                         hint="drop --add, or use --objective coverage")  # fmt: skip
    if objective == "target" and not (target_share and 0 < target_share <= 1):
        raise InputError("the target objective needs --target-share between 0 and 1",
                         column="--target-share", hint="e.g. --target-share 0.9")  # fmt: skip


def _site_coverage(study, network, facilities, population, boundaries, cat, minutes,
                   speed_kmh, crs_in, max_snap_m, extra, coverage_options):  # fmt: skip
    """The graph and today's coverage the sites are chosen against: a study's — the one
    given, else one built on the inputs (as ``coverage`` builds it)."""
    if study is None:
        built = Study(network, facilities, population, boundaries, minutes=minutes or 15.0,
                      speed_kmh=speed_kmh, crs_in=crs_in, max_snap_m=max_snap_m,
                      require_standards=False, extra_categories=extra,
                      **coverage_options)  # fmt: skip
        return built.graph, built.result(underserved_areas=False)
    return _from_study(study, cat, minutes, speed_kmh)


@dataclass
class _Model:
    """The siting model: candidates within reach, residents (snapped, weighted), who is
    served today, which candidate reaches whom, and the reduced problem."""

    cand: gpd.GeoDataFrame
    given: int
    demand: gpd.GeoDataFrame
    people: np.ndarray
    dcol: str
    served: np.ndarray
    dsnap: object
    csnap: object
    cover: sp.csr_matrix
    total: float
    already: float
    costs: np.ndarray | None
    red: siting.Reduced
    area_m: shapely.Geometry
    limit: float


def _counted(cov, cat: str) -> dict:
    """Whom the sites are chosen for: the group the category serves (its persons per demand
    point, as coverage counts them: children 3–6 for kindergartens …), else all residents."""
    serves = cov.summary["categories"].get(cat, {}).get("serves") or {}
    column = f"persons_{serves.get('group')}"
    if serves.get("group") in (None, "all") or column not in cov.demand:
        return {"group": ALL, "label": builtin_groups()[ALL].label, "column": "population",
                "source": "all residents", "estimated": False}  # fmt: skip
    return {"group": serves["group"], "label": serves["label"], "column": column,
            "source": serves.get("source"), "estimated": bool(serves.get("estimated"))}


def _site_model(cov, graph, cat, candidates, minutes, speed_kmh, spacing_m, within, exclude,
                crs_in, candidates_crs, max_snap_m, budget, per_area) -> _Model:  # fmt: skip
    limit = cov.summary["categories"].get(cat, {}).get("threshold_m")
    if limit is None:
        limit = ct.minutes_to_metres(minutes or 15.0, speed_kmh)
    area_m = shapely.buffer(
        shapely.union_all(cov.boundaries.to_crs(graph.crs).geometry.to_numpy()),
        BOUNDARY_TOLERANCE_M,
    )  # a site on the boundary line is inside
    cand = _candidates(candidates, graph, cat, area_m, spacing_m, within, exclude, crs_in,
                       candidates_crs, max_snap_m)  # fmt: skip
    demand = cov.demand
    dpts = demand.to_crs(graph.crs).geometry.to_numpy()
    people = demand[_counted(cov, cat)["column"]].to_numpy(dtype=float)
    dcol = f"dist_{cat}_m"
    served = (demand[dcol].to_numpy() <= limit) if dcol in demand else np.zeros(len(demand), bool)
    dsnap = snap_points(graph, dpts, max_snap_m)
    people = people * dsnap.ok
    given = len(cand)
    cpts = cand.to_crs(graph.crs).geometry.to_numpy()
    # a site farther than the threshold (+ the snapping legs) in a straight line from every
    # resident not yet served cannot serve any of them: left out before the searches
    near = _near_any(cpts, dpts[~served & (people > 0)], graph.reach_m(limit) + 2 * max_snap_m)
    cand = cand.iloc[near].reset_index(drop=True)
    csnap = snap_points(graph, cpts[near], max_snap_m)
    di, cj, _ = _site_pairs(graph, cand, dsnap, limit, max_snap_m, csnap)
    cover = sp.csr_matrix((np.ones(len(di), bool), (di, cj)), shape=(len(demand), len(cand)))
    costs = None
    if budget is not None:
        costs = cand["cost"].to_numpy(float) if "cost" in cand else np.full(len(cand), np.nan)
        if np.isnan(costs).all():
            raise InputError("--budget needs a candidate file with a cost column",
                             column="--budget",
                             hint="pass --candidates FILE with a 造价 / cost column")  # fmt: skip
    red = siting.reduce_problem(cover, people, served,
                                merge_candidates=not per_area and budget is None)  # fmt: skip
    logger.info("%d candidates (%d after merging identical catchments), %d demand groups",
                len(cand), len(red.candidates), len(red.weight))  # fmt: skip
    return _Model(cand, given, demand, people, dcol, served, dsnap, csnap, cover,
                  float(people.sum()), float(people[served].sum()), costs, red, area_m, limit)


def _solve_sites(mo: _Model, cov, graph, cat, objective, add, need, budget, capacity, per_area,
                 target_share, reach_m, max_snap_m, time_limit, gap):  # fmt: skip
    """The sites for the objective: (solution, chosen candidates in rank order, walking
    saved for ``distance``, the capacity note for ``--capacity``). ``mo.already`` becomes the
    capacity-aware residents served today when ``capacity`` is given."""
    red, people, total, saved, n = mo.red, mo.people, mo.total, None, None
    if objective in ("coverage", "distance"):
        n = add if add is not None else (need["total"] if need else None)
        if n is None and budget is not None:
            n = len(red.candidates)
        if n is None or n < 1:
            raise InputError("how many new sites? pass --add N or --standard ID",
                             column="--add", hint="e.g. --add 10")  # fmt: skip
        if n > len(red.candidates) and budget is None:
            raise InputError(
                f"{n} new sites asked for, but only {len(red.candidates)} candidates reach "
                "residents not yet served", column="--add",
                hint="lower --add, add candidates, or reduce --spacing")  # fmt: skip
        if objective == "distance":
            reach = reach_m or 2 * mo.limit
            t = time.perf_counter()
            pdi, pcj, pdist = _site_pairs(graph, mo.cand, mo.dsnap, reach, max_snap_m)
            # the pairs' searches are part of the solver's seconds
            time_limit = max(time_limit - (time.perf_counter() - t),
                             min(MIN_SOLVE_S, time_limit))  # fmt: skip
            now = (mo.demand[mo.dcol].to_numpy(float) if mo.dcol in mo.demand
                   else np.full(len(mo.demand), np.inf))  # fmt: skip
            now = np.minimum(now, reach)
            sol = siting.p_median(pdi, pcj, pdist, people, now, n, len(mo.cand),
                                  time_limit=time_limit)  # fmt: skip
            order, per_site = _saving_order(pdi, pcj, pdist, people, now, sol.chosen)
            sol = replace(sol, chosen=sol.chosen[order])
            saved = {"per_site": per_site, "before_m": float((people * now).sum() / total),
                     "after_m": float((people * now).sum() - sol.objective) / total,
                     "reach_m": reach}  # fmt: skip
            return sol, sol.chosen, saved, None
        if capacity is None:
            quota = _quota(cov, graph, mo.cand, red, need, n, mo.area_m) if per_area else None
            sol = siting.maximal_covering(
                red.cover, red.weight, min(n, len(red.candidates)), time_limit=time_limit,
                quota=quota, budget=budget, gap=gap,
                cost=None if mo.costs is None else mo.costs[red.candidates])  # fmt: skip
            return sol, red.candidates[sol.chosen], None, None
        sol, mo.already, cap_order, note = _capacitated(
            cov, graph, cat, need, capacity, mo.cand, mo.cover, people, mo.dsnap, mo.limit,
            max_snap_m, n, time_limit)  # fmt: skip
        return sol, sol.chosen[cap_order], None, note
    goal = target_share * total - mo.already
    if goal <= 0:
        raise InputError(f"{mo.already / total:.1%} of residents are already within "
                         f"{mo.limit:,.0f} m, at or above the target {target_share:.0%}",
                         column="--target-share", hint="raise the target")  # fmt: skip
    try:
        sol = siting.set_covering(red.cover, red.weight, goal, time_limit=time_limit)
    except ValueError as e:
        raise InputError(f"target {target_share:.0%} cannot be reached: {e} (with "
                         f"{mo.already:,.0f} already served of {total:,.0f})",
                         column="--target-share",
                         hint="lower the target or give more candidates") from None  # fmt: skip
    return sol, red.candidates[sol.chosen], None, None


def _site_report(mo: _Model, cov, cat, objective, sol, chosen, saved, capacity, capacity_note,
                 budget, candidates, spacing_m, target_share, need, remaining,
                 timings) -> dict:  # fmt: skip
    """``site.json``."""
    people, served = mo.people, mo.served
    travel = cov.summary["travel"]
    info = cov.summary["categories"].get(cat, {})
    per_minute = travel.get("walking_speed_kmh", travel.get("speed_kmh", 4.0)) * 1000 / 60
    return {
        "version": __version__,
        "category": cat,
        "objective": objective,
        "threshold_m": mo.limit,
        "threshold_minutes": info.get("threshold_minutes", mo.limit / per_minute),
        "mode": info.get("mode", travel.get("mode", "walk")),
        "residents_spread": cov.summary["residents_spread"]["method"],
        "travel": cov.summary["travel"],
        "counted": {k: v for k, v in _counted(cov, cat).items() if k != "column"},
        "residents": mo.total,
        "already_served": mo.already,
        "newly_covered": (sol.objective - mo.already if capacity is not None else sol.objective)
        if objective == "coverage" else float(people[remaining & ~served].sum()),
        "covered_after": sol.objective if capacity is not None
        else float(people[remaining].sum()),
        "mean_walk_m": saved,
        "capacity": capacity_note and {k: v for k, v in capacity_note.items()
                                       if k != "cumulative"},
        "sites": int(len(chosen)),
        "budget": budget,
        "cost": float(np.nansum(mo.cand["cost"].to_numpy(float)[chosen]))
        if "cost" in mo.cand else None,
        "bound": sol.bound,
        "gap": sol.gap,
        "solver": sol.solver,
        "status": sol.status,
        "candidates": {"given": int(mo.given), "within_reach": int(len(mo.cand)),
                       "distinct_catchments": int(len(mo.red.candidates)),
                       "source": "auto" if isinstance(candidates, str) and candidates == "auto"
                       else input_label(candidates), "spacing_m": spacing_m},
        "demand_groups": int(len(mo.red.weight)),
        "target_share": target_share,
        "standard": need,
        "timings": timings,
        "inputs": cov.summary["inputs"],
        "synthetic_inputs": cov.summary["synthetic_inputs"],
    }  # fmt: skip


def _from_study(study, cat: str, minutes, speed_kmh) -> tuple[WalkGraph, object]:
    """The graph and current result of a study to site on; its thresholds are the study's."""
    if minutes is not None or speed_kmh != 4.0:
        raise InputError("a study's threshold and speed are its own", column="minutes",
                         hint="change them on the study (set_minutes, set_speed) first")
    if cat not in study.minutes:
        raise InputError(f"the study has no {cat} facilities", column="--category",
                         hint=f"use one of {', '.join(study.minutes)}")  # fmt: skip
    return study.graph, study.result()


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
        fac = read_facilities(candidates, category=cat, crs=candidates_crs, default_crs=crs_in,
                              role="candidates")  # fmt: skip
        if fac.empty:
            raise InputError("the candidate file holds no site", file=input_label(candidates),
                             hint="give points or parcels of possible sites")  # fmt: skip
        raw = _raw_candidates(candidates, len(fac))
        gdf = gpd.GeoDataFrame({"site_id": fac["facility_id"].astype(str), "name": fac["name"],
                                "capacity": fac.get("capacity"), "area_m2": fac["area_m2"],
                                "parcel": _parcels(raw, candidates, candidates_crs, crs_in,
                                                   len(fac))},
                               geometry=fac.geometry.to_numpy(), crs=4326)  # fmt: skip
        for supply in ("places", "beds", "pitches"):
            if supply in fac:
                gdf[supply] = fac[supply].to_numpy()
        gdf["cost"] = _costs(raw, candidates, len(fac))
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
        poly = layer_to_wgs84(read_layer(layer), input_label(layer), crs=None,
                              default=crs_in, what="mask")  # fmt: skip
        polys = np.isin(shapely.get_type_id(poly.geometry.to_numpy()), (3, 6))
        if not polys.all():
            raise InputError("a mask layer must hold polygons", file=input_label(layer),
                             where=f"feature {int(np.flatnonzero(~polys)[0]) + 1}",
                             column="geometry", hint="pass the areas as polygons")  # fmt: skip
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


LAYER_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
#: Parcels are entered from points this far apart (metres) along their boundary.
ACCESS_SPACING_M = 25.0


def _near_any(points: np.ndarray, others: np.ndarray, radius: float) -> np.ndarray:
    """Indices of ``points`` within ``radius`` (metres, straight line) of any of ``others``
    (one nearest-neighbour query each: a candidate amid thousands of residents gave a pair
    with each of them)."""
    if not len(others) or not len(points):
        return np.empty(0, np.int64)
    from scipy.spatial import cKDTree

    tree = cKDTree(shapely.get_coordinates(others))
    dist, _ = tree.query(shapely.get_coordinates(points), k=1, distance_upper_bound=radius)
    return np.flatnonzero(dist <= radius)


def _site_pairs(graph, cand, dsnap, limit, max_snap_m, csnap=None):
    """(demand point, candidate, metres) within ``limit``: a point candidate from its point, a
    parcel from the nearest of the points every 25 m along its boundary (as review does).
    ``csnap``: the candidates' points already snapped (used when no candidate is a parcel)."""
    if csnap is not None and ("parcel" not in cand or cand["parcel"].isna().all()):
        return ct.facility_demand_pairs(graph, csnap, dsnap, limit)  # pairs unique already
    pts = cand.to_crs(graph.crs).geometry.to_numpy()
    owner = np.arange(len(cand))
    par = cand["parcel"].to_numpy() if "parcel" in cand else np.full(len(cand), None)
    has = pd.notna(par)
    if has.any():
        polys = gpd.GeoSeries(list(par[has]), crs=4326).to_crs(graph.crs).to_numpy()
        bp, bo = boundary_points(polys, ACCESS_SPACING_M)
        pts = np.concatenate([pts[~has], bp])
        owner = np.concatenate([np.flatnonzero(~has), np.flatnonzero(has)[bo]])
    snap = snap_points(graph, pts, max_snap_m)
    di, pj, d = ct.facility_demand_pairs(graph, snap, dsnap, limit)
    cj = owner[pj]
    order = np.lexsort((d, cj, di))
    di, cj, d = di[order], cj[order], d[order]
    first = np.r_[True, (di[1:] != di[:-1]) | (cj[1:] != cj[:-1])]
    return di[first], cj[first], d[first]


def _raw_candidates(candidates, n_read: int):
    """The candidate file as written (frame, row labels, is a layer), for the columns the
    facility reader does not keep (parcel outlines, costs); None when the reader left rows out,
    so the rows cannot be matched."""
    layer = isinstance(candidates, gpd.GeoDataFrame) or (
        isinstance(candidates, str | Path) and Path(candidates).suffix.lower() in LAYER_SUFFIXES
    )
    raw = read_layer(candidates) if layer else read_table(candidates)
    if len(raw) != n_read:
        return None
    rows = feature_rows if layer else table_rows(raw)
    return raw, rows, layer


def _parcels(raw, candidates, candidates_crs, crs_in, n: int) -> np.ndarray:
    """The candidate file's polygons (WGS84) by row, None for points (and for tables)."""
    none = np.full(n, None, dtype=object)
    if raw is None or not raw[2]:
        if raw is None:
            warnings.warn(f"{input_label(candidates)}: rows were left out, so parcels are "
                          "taken at a point inside them, not entered from their boundary",
                          DataWarning, stacklevel=4)  # fmt: skip
        return none
    gdf = layer_to_wgs84(raw[0], input_label(candidates), crs=candidates_crs, default=crs_in,
                         what="candidates")  # fmt: skip
    geoms = gdf.geometry.to_numpy()
    return np.where(np.isin(shapely.get_type_id(geoms), (3, 6)), geoms, None)


#: Column names read as a candidate's cost (any unit; the budget is in the same unit).
COST_COLUMNS = ("cost", "造价", "费用", "投资", "投资额", "估算投资")


def _costs(raw, candidates, n: int) -> np.ndarray:
    """Each candidate's cost from the file's cost column (NaN when there is none)."""
    frame = None if raw is None else raw[0]
    col = None if frame is None else next(
        (c for c in frame.columns if str(c).strip().lower() in COST_COLUMNS), None)  # fmt: skip
    if col is None:
        return np.full(n, np.nan)
    cost = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        raise InputError(f"{int(bad.sum())} candidates have no cost or a negative one",
                         where=format_rows(raw[1](bad)), file=input_label(candidates),
                         column=str(col), hint="give every candidate a cost ≥ 0")  # fmt: skip
    return cost


def _quota(cov, graph, cand, red, need, n, area_m) -> tuple[np.ndarray, np.ndarray]:
    """Sites per district for ``per_area``: ``n`` shared in proportion to each district's
    shortfall against the standard (largest remainders), and each candidate's district."""
    if need is None:
        raise InputError("--per-area needs --standard (the shortfall shares the sites out)",
                         column="--per-area",
                         hint="e.g. --standard football_pitches_per_10000")  # fmt: skip
    ids = list(need["gap_by_id"])
    gap = np.array([need["gap_by_id"][i] for i in ids])
    if gap.sum() <= 0:
        raise InputError(f"every district meets {need['id']}: nothing to share out",
                         column="--per-area", hint="drop --per-area")  # fmt: skip
    raw = n * gap / gap.sum()
    share = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - share), kind="stable")[: n - share.sum()]:
        share[k] += 1
    bnd = cov.boundaries.set_index("district_id").loc[ids].to_crs(graph.crs)
    pts = cand.to_crs(graph.crs).geometry.to_numpy()[red.candidates]
    tree = shapely.STRtree(bnd.geometry.to_numpy())
    pi, ai = tree.query_nearest(pts, max_distance=BOUNDARY_TOLERANCE_M, all_matches=False)
    group = np.full(len(pts), len(ids))  # candidates in no district: a group with no sites
    group[pi] = ai
    have = np.bincount(group, minlength=len(ids) + 1)[: len(ids)]
    short = [f"{i} ({share[k]} sites, {have[k]} candidates)" for k, i in enumerate(ids)
             if have[k] < share[k]]  # fmt: skip
    if short:
        raise InputError("too few candidates in " + ", ".join(short), column="--per-area",
                         hint="add candidates there or reduce --spacing")  # fmt: skip
    need["sites_per_area"] = {i: int(share[k]) for k, i in enumerate(ids)}
    return group, np.append(share, 0)


def _saving_order(di, sj, d, w, now, chosen):
    """``chosen`` in the order of their person-metre savings (largest first, each counted
    after the ones before it), and those savings."""
    pos = np.full(int(sj.max(initial=-1)) + 1, -1)
    pos[chosen] = np.arange(len(chosen))
    mine = (sj < len(pos)) & (pos[np.minimum(sj, len(pos) - 1)] >= 0)
    di, k, d = di[mine], pos[sj[mine]], d[mine]
    best = now.copy()
    done = np.zeros(len(chosen), bool)
    order, saved = [], []
    for _ in range(len(chosen)):
        gain = np.bincount(k, weights=w[di] * np.maximum(best[di] - d, 0), minlength=len(chosen))
        gain[done] = -1.0
        pick = int(np.argmax(gain))
        order.append(pick)
        saved.append(float(gain[pick]))
        done[pick] = True
        sel = k == pick
        np.minimum.at(best, di[sel], d[sel])
    return np.array(order, np.int64), np.array(saved)


def _capacitated(cov, graph, cat, need, capacity, cand, cover, people, dsnap, limit, max_snap_m,
                 n, time_limit):  # fmt: skip
    """Capacity-aware choice: existing facilities (their supply) open, ``n`` new sites."""
    from hzspatial import analysis as an

    if need is None:
        raise InputError("--capacity needs --standard: its per-capita rate turns places into "
                         "residents served", column="--capacity",
                         hint="e.g. --standard football_pitches_per_10000")  # fmt: skip
    std = next(s for s in cov.standards if s.id == need["id"])
    rate = std.per / std.target
    fac = cov.facilities[(cov.facilities["category"] == cat) & cov.facilities["snapped"]]
    supply = an.facility_supply(fac, std)[0] if len(fac) else np.zeros(0)
    esnap = snap_points(graph, fac.to_crs(graph.crs).geometry.to_numpy(), max_snap_m)
    edi, ej, _ = ct.facility_demand_pairs(graph, esnap, dsnap, limit)
    ne = len(fac)
    existing = sp.csr_matrix((np.ones(len(edi), bool), (edi, ej)), shape=(cover.shape[0], ne))
    if capacity is True:
        col = std.supply if std.supply in cand else "capacity"
        own = pd.to_numeric(cand.get(col), errors="coerce")
        if own is None or own.isna().any():
            raise InputError(f"--capacity file: every candidate needs its {std.supply}",
                             column=std.supply,
                             hint="fill the column or give --capacity N")  # fmt: skip
        per_site = own.to_numpy(float)
    else:
        per_site = np.full(len(cand), float(capacity))
    full = sp.hstack([existing, cover], format="csr")
    caps = np.concatenate([supply, per_site]) * rate
    red = siting.reduce_problem(full, people, merge_candidates=False)
    fixed = np.arange(full.shape[1]) < ne
    # today's service, then the new sites: the seconds shared, a third and two thirds
    base = siting.capacitated_covering(red.cover, red.weight, caps, 0, fixed,
                                       time_limit=time_limit / 3)  # fmt: skip
    sol = siting.capacitated_covering(red.cover, red.weight, caps, n, fixed,
                                      time_limit=time_limit * 2 / 3)  # fmt: skip
    new = sol.chosen - ne
    # build order: largest capacity-capped gain first; cumulative residents by the exact LP
    left = red.weight.copy()
    rows_of = red.cover.tocsc()
    for j in np.flatnonzero(fixed):
        left[rows_of.indices[rows_of.indptr[j] : rows_of.indptr[j + 1]]] = 0
    gain = np.minimum(np.asarray(rows_of[:, sol.chosen].T @ left).ravel(), caps[sol.chosen])
    order = np.argsort(-gain, kind="stable")
    open_ = fixed.copy()
    cumulative = []
    for k in order:
        open_[sol.chosen[k]] = True
        cumulative.append(siting._assignment_lp(red.cover, red.weight, caps, open_))
    note = {"standard": std.id, "residents_per_unit": rate, "per_site": per_site.tolist()
            if capacity is True else float(capacity), "existing_supply": float(supply.sum()),
            "cumulative": np.array(cumulative)}  # fmt: skip
    return replace(sol, chosen=new), base.objective, order, note


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
    gaps = {str(r["district_id"]): float(r["gap"]) if r["gap"] == r["gap"] else 0.0
            for r in rows.to_dict("records")}  # fmt: skip
    return {"id": sid, "label": std.label, "target": std.target, "unit": std.unit,
            "gap_by_id": gaps,
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
        "lon": pts.x.to_numpy(),
        "lat": pts.y.to_numpy(),
        "district_id": area_of,
        "newly_covered": gains,
        "cumulative_covered": cum,
        "cumulative_share": np.array(cum) / total if total else np.nan,
        "already_served": already,
    }, geometry=pts.to_numpy(), crs=4326)  # fmt: skip
    if "cost" in sites and sites["cost"].notna().any():
        out.insert(10, "cost", sites["cost"].to_numpy(float))
    out["site_id"] = out["id"]
    return out


def _provenance(sites: gpd.GeoDataFrame, synthetic: list[str]) -> None:
    """A ``source`` column naming how the sites were made — read back as the facilities'
    provenance label, so a coverage run on them says "synthetic" when its inputs were."""
    label = f"proposed by hzspatial site {__version__}"
    if synthetic:
        label += " from synthetic demo data (" + ", ".join(synthetic) + ")"
    sites.insert(len(sites.columns) - 2, "source", label)


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
        out["best"] = [already] + [np.nan if p is None else already + p.objective
                                   for p in points]  # fmt: skip
        out["bound"] = [already] + [np.nan if p is None else already + p.bound for p in points]
        out["status"] = ["—"] + ["not solved: time limit" if p is None else p.status
                                 for p in points]  # fmt: skip
    return out


def _catchments(graph, csnap, chosen, limit, sites) -> gpd.GeoDataFrame:
    polys = ct.facility_catchments(graph, csnap.take(chosen), limit)
    return gpd.GeoDataFrame({"rank": sites["rank"].to_numpy(), "id": sites["id"].to_numpy()},
                            geometry=list(polys), crs=graph.crs).to_crs(4326)  # fmt: skip
