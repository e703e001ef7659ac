"""Land-use review of proposed residential districts (居住区): pass / fail per standard.

For each proposal and each applicable standard: the requirement computed from its
residents, what it declares on site, the existing facilities reachable on foot from its
boundary (or its new streets), their spare capacity after the residents they already
serve, and a verdict — ``pass``, ``fail`` (with the shortfall in the standard's units) or
``cannot check`` (with the data missing).

Spare capacity: every existing resident's requirement (target × residents ÷ per) is split
among the facilities within walking reach of them in proportion to the facilities' supply —
the allocation behind the two-step floating catchment — and a facility's spare capacity is
its supply minus the load it receives (never below 0).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import __version__
from hzspatial import analysis as an
from hzspatial import catchments as ct
from hzspatial.categories import resolve_category
from hzspatial.datasets import default_persons_per_household
from hzspatial.errors import InputError, check_number, check_walk_options, format_rows
from hzspatial.geometry import boundary_points
from hzspatial.io import (
    FacilityInput,
    facility_items,
    file_sha256,
    read_facility_inputs,
    read_layer,
)
from hzspatial.io._columns import aliases, find_columns, source_labels
from hzspatial.io._files import input_label
from hzspatial.io._geometry import feature_rows, ids_and_names, layer_to_wgs84, parse_numbers
from hzspatial.io.facilities import known_categories
from hzspatial.network import (
    MAX_SNAP_M,
    Snap,
    SnapRules,
    WalkGraph,
    as_snap_rules,
    read_network,
    snap_points,
    with_streets,
)
from hzspatial.network.costs import apply_travel, mode_label
from hzspatial.network.datum import network_may_shift, warn_datums
from hzspatial.results import ReviewResult
from hzspatial.stages import SPREAD_TEXT, travel_summary
from hzspatial.standards import Standard, load_standards
from hzspatial.study import Study

__all__ = ["ReviewResult", "review_districts", "review_study", "read_proposals", "VERDICTS"]

logger = logging.getLogger(__name__)

VERDICTS = ("pass", "fail", "cannot check")
#: Spacing (metres) of the access points sampled along a proposal's boundary.
ACCESS_SPACING_M = 25.0
_ONSITE = re.compile(r"^onsite_(?P<cat>.+)_(?P<supply>area_m2|floor_area_m2|beds|places|pitches|"
                     r"doctors|nurses|count)$")  # fmt: skip


def read_proposals(
    path: str | Path,
    *,
    residents: float | None = None,
    households: float | None = None,
    persons_per_household: float | None = None,
    crs=None,
    default_crs=None,
) -> gpd.GeoDataFrame:
    """Read proposed districts: polygons with residents and declared on-site provision.

    Residents come from a ``population`` (人口) column, else ``households`` (户数) × persons
    per household, else the ``residents`` / ``households`` arguments (one value for all).
    Declared provision comes from ``onsite_<category>_<supply>`` columns or their Chinese
    aliases (``config/columns.toml``).

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``proposal_id``, ``name``, ``residents`` (persons), ``residents_from``, and one
        ``onsite_<category>_<supply>`` column per declared provision.
    """
    path_s = input_label(path)
    gdf = layer_to_wgs84(read_layer(path), path_s, crs=crs, default=default_crs,
                         what="proposals")  # fmt: skip
    areal = np.isin(shapely.get_type_id(gdf.geometry.to_numpy()), (3, 6))
    if not areal.all():
        raise InputError("a proposed district must be a polygon", where=format_rows(
            feature_rows(~areal)), file=path_s, column="geometry",
            hint="draw the district boundary as a polygon")  # fmt: skip
    onsite_fields = [k for k in aliases() if k.startswith("onsite_")]
    found = find_columns(gdf.columns, ["id", "name", "population", "households", *onsite_fields],
                         None, path_s)  # fmt: skip
    for col in gdf.columns:
        if _ONSITE.match(str(col)) and str(col) not in found:
            found[str(col)] = str(col)
    pph = persons_per_household or default_persons_per_household()
    n = len(gdf)
    if "population" in found:
        res = parse_numbers(gdf[found["population"]], path=path_s, column=found["population"],
                            rows_of=feature_rows, what="population", minimum=0)  # fmt: skip
        how = "population attribute"
    elif "households" in found:
        res = parse_numbers(gdf[found["households"]], path=path_s, column=found["households"],
                            rows_of=feature_rows, what="households", minimum=0) * pph  # fmt: skip
        how = f"households attribute × {pph:.2f}"
    elif residents is not None or households is not None:
        res = np.full(n, float(residents) if residents is not None else float(households) * pph)
        how = "--population" if residents is not None else f"--households × {pph:.2f}"
    else:
        raise InputError(
            "no residents: the layer has no population or households column",
            file=path_s, column="population",
            hint="add a population (人口) or households (户数) column, or pass --population N",
        )  # fmt: skip
    ids, names = ids_and_names(pd.DataFrame(gdf), found, path_s, feature_rows,
                               np.array([f"P{i + 1}" for i in range(n)], dtype=object))  # fmt: skip
    out = gpd.GeoDataFrame(
        {"proposal_id": ids, "name": names, "residents": res, "residents_from": how},
        geometry=gdf.geometry.to_numpy(),
        crs=4326,
    )
    out.attrs["labels"] = sorted({x for x in source_labels(gdf) if x})
    out.attrs["crs_in"] = gdf.attrs["crs_in"]
    known = known_categories()
    for key, col in found.items():
        m = _ONSITE.match(key)
        if not m:
            continue
        cat = resolve_category(m.group("cat"), known)
        if cat is None:
            raise InputError(f"unknown category {m.group('cat')!r} in an on-site column",
                             file=path_s, column=col,
                             hint=f"use onsite_<category>_<supply> with a category of "
                                  f"{', '.join(known)}")  # fmt: skip
        out[f"onsite_{cat}_{m.group('supply')}"] = parse_numbers(
            gdf[col], path=path_s, column=col, rows_of=feature_rows, what="on-site provision",
            allow_missing=True, minimum=0)  # fmt: skip
    return out


def _loads(pairs: tuple[np.ndarray, np.ndarray], supply: np.ndarray,
           requirement: np.ndarray) -> np.ndarray:  # fmt: skip
    """Load on each facility: each resident's requirement split among the facilities within
    reach in proportion to their supply."""
    di, fj = pairs
    reach_supply = np.bincount(di, weights=supply[fj], minlength=len(requirement))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(reach_supply[di] > 0, supply[fj] / reach_supply[di], 0.0)
    return np.bincount(fj, weights=requirement[di] * share, minlength=len(supply))


def review_districts(
    districts: str | Path,
    network: str | Path | WalkGraph,
    facilities: Sequence[FacilityInput | str | Path],
    *,
    residents_file: str | Path | None = None,
    boundaries: str | Path | None = None,
    residents: float | None = None,
    households: float | None = None,
    streets: str | Path | None = None,
    minutes: float = 15.0,
    speed_kmh: float = 4.0,
    category_minutes: Mapping[str, float] | None = None,
    standards: str | Path = "hanzhong",
    crs_in=None,
    network_crs=None,
    facilities_crs=None,
    residents_crs=None,
    proposals_crs=None,
    streets_crs=None,
    max_snap_m: float = MAX_SNAP_M,
    persons_per_household: float | None = None,
    strict: bool = False,
    extra_categories: Sequence[str] = (),
    snap_rules: SnapRules | str | Path | None = None,
    spread: str | None = None,
    buildings: str | Path | None = None,
    buildings_crs=None,
    population_total: float | None = None,
    age_rasters=None,
    control_totals: bool = False,
    mode: str = "walk",
    dem: str | Path | None = None,
) -> ReviewResult:
    """Review proposed residential districts against the standards.

    Parameters
    ----------
    districts : path
        Polygon layer of proposals (one or many features).
    network : path or WalkGraph
        Walking network (as :func:`hzspatial.run_coverage`).
    facilities : sequence
        Existing facility files.
    residents_file : path, optional
        Existing residents (polygons/points with population or households); needed for the
        spare capacity of existing facilities.
    boundaries : path, optional
        Study-area districts used to validate locations (default: Hanzhong's counties).
    residents, households : float, optional
        Residents (or households) of every proposal when the layer has no such column.
    streets : path, optional
        New streets inside the proposals (lines); otherwise each proposal is reached from
        its boundary, connected to the nearest streets.
    minutes, speed_kmh, category_minutes
        Walking thresholds, as in :func:`hzspatial.run_coverage` (default 15 min at 4 km/h).
    standards : str or path
        Catalogue name or TOML file.
    crs_in : optional
        Coordinate system of inputs that do not state one (tables, shapefiles without
        ``.prj``): ``wgs84``, ``gcj02``, EPSG …
    network_crs, facilities_crs, residents_crs, proposals_crs, streets_crs : optional
        An input's own coordinate system, declared; overrides what its file says.
    max_snap_m : float
        Metres: boundary points and facilities farther from every street are not connected.
    persons_per_household : float, optional
        Default from the 2020 census (≈ 2.46).
    strict : bool
        Raise instead of warning when an input looks like it is in another coordinate
        system than the one it was read in (:mod:`hzspatial.network.datum`).
    extra_categories : sequence of str
        Category names accepted besides the built-in ones.
    snap_rules : SnapRules or path, optional
        Which streets homes and facilities may join (default ``config/snapping.toml``); a
        proposal's new streets may always be joined.
    spread : {"buildings", "area", "streets"}, optional
        How the existing residents' polygons are spread (as :func:`hzspatial.run_coverage`),
        which decides the load already on each facility and so its spare capacity; default
        ``buildings`` where ``buildings`` or an OpenStreetMap network file is at hand, else
        ``area``. The proposals themselves are reached from their boundary.
    buildings : path, optional
        Residential building footprints (``floors`` / 层数 optional) for the ``buildings``
        spread; ``buildings_crs`` declares their coordinate system.
    population_total, age_rasters, control_totals : optional
        For a population raster as ``residents_file`` (as :func:`hzspatial.run_coverage`):
        its total, WorldPop age/sex rasters on its grid, rescaling to the boundaries' totals.
    """
    if residents_file is None and (population_total is not None or age_rasters
                                   or control_totals):  # fmt: skip
        raise InputError("--population-total, --age-rasters and --control-totals go with the "
                         "existing residents as a raster", column="--residents",
                         hint="give --residents pop.tif, or drop those options")  # fmt: skip
    minutes, speed_kmh, max_snap_m, persons_per_household, category_minutes = check_walk_options(
        minutes, speed_kmh, max_snap_m, persons_per_household, category_minutes
    )
    if residents_file is not None:  # the existing world as coverage sees it: a study
        study = Study(network, facilities, residents_file, boundaries, minutes=minutes,
                      speed_kmh=speed_kmh, category_minutes=category_minutes,
                      standards=standards, crs_in=crs_in, network_crs=network_crs,
                      facilities_crs=facilities_crs, population_crs=residents_crs,
                      strict=strict, max_snap_m=max_snap_m, extra_categories=extra_categories,
                      persons_per_household=persons_per_household, require_standards=False,
                      snap_rules=snap_rules, spread=spread, buildings=buildings,
                      buildings_crs=buildings_crs, population_total=population_total,
                      age_rasters=age_rasters, control_totals=control_totals, mode=mode,
                      dem=dem)  # fmt: skip
        return review_study(study, districts, residents=residents, households=households,
                            streets=streets, streets_crs=streets_crs,
                            proposals_crs=proposals_crs, strict=strict)  # fmt: skip
    rules = _Rules(minutes, speed_kmh, dict(category_minutes or {}), max_snap_m,
                   persons_per_household or default_persons_per_household(), standards,
                   list(extra_categories), crs_in)  # fmt: skip
    props = _proposals(districts, residents, households, rules, proposals_crs)
    items = facility_items(facilities, facilities_crs)
    fac = read_facility_inputs(items, crs_in, extra_categories) if items else None
    graph = _review_graph(network, network_crs, crs_in, snap_rules, streets, streets_crs,
                          (mode, speed_kmh, dem))  # fmt: skip
    warn_datums(graph, [_proposal_check(districts, props, proposals_crs), *_facility_checks(fac)],
                strict, network_may_shift(network, network_crs))  # fmt: skip
    fsnap = (snap_points(graph, fac.to_crs(graph.crs).geometry.to_numpy(), max_snap_m)
             if fac is not None else None)  # fmt: skip
    inputs = [*_network_input(network, graph),
              *[{"role": "facilities", "path": input_label(i.path),
                 "labels": _facility_labels(fac).get(input_label(i.path), [])} for i in items]]
    existing = _Existing(graph, fac, fsnap, inputs=inputs)
    return _review(existing, districts, props, rules, streets, buildings)


def review_study(
    study: Study,
    districts: str | Path | gpd.GeoDataFrame,
    *,
    residents: float | None = None,
    households: float | None = None,
    streets: str | Path | None = None,
    streets_crs=None,
    proposals_crs=None,
    strict: bool = False,
    exclude: Sequence[str] = (),
) -> ReviewResult:
    """Review proposed residential districts against a loaded (and possibly edited)
    :class:`~hzspatial.study.Study`: its network, its facilities now and its residents as
    placed — the spare capacity of a facility is what the study's residents leave of it.

    Parameters
    ----------
    study : Study
        The existing world; its thresholds (minutes per category, walking speed in km/h),
        standards catalogue, snapping distance and persons per household are the review's.
    districts : path or GeoDataFrame
        Polygon layer of proposals (a GeoDataFrame states its CRS).
    residents, households, streets, streets_crs, proposals_crs, strict
        As :func:`review_districts`.
    exclude : sequence of str
        Ids of the study's residents features left out of the existing demand — a proposal
        already added to the study as residents is not its own competition.

    Returns
    -------
    ReviewResult
        As :func:`review_districts`; ``inputs`` names the study's inputs and its edits.
    """
    o = study._b.options
    rules = _Rules(float(o["minutes"]), study.speed_kmh, study.minutes, float(o["max_snap_m"]),
                   float(o["pph"]), o["standards"], list(o["extra"] or ()),
                   o.get("crs_in"))  # fmt: skip
    props = _proposals(districts, residents, households, rules, proposals_crs)
    base = study.graph
    graph = _review_graph(base, None, rules.crs_in, None, streets, streets_crs)
    warn_datums(graph, [_proposal_check(districts, props, proposals_crs)], strict,
                network_may_shift(o["network"], None))  # fmt: skip
    fac = study.facilities
    lon, lat, people = study.demand_points()
    b = study._b
    if graph is base:  # the study's own snaps; new streets may be nearer: snap again
        fsnap, esnap = b.eng.facility_snap, b.eng.demand_snap
    else:
        fsnap = snap_points(graph, b.dem.facilities_m.geometry.to_numpy(), rules.max_snap_m)
        esnap = snap_points(graph, b.dem.points, rules.max_snap_m)
    if len(exclude):
        ids = study.residents_table()["id"].astype(str).to_numpy()
        unknown = sorted({str(x) for x in exclude} - set(ids))
        if unknown or b.dem.owner is None:
            raise InputError(f"no residents {unknown[0][:80]!r} in the study to leave out"
                             if unknown else "this study's demand points are not tied to "
                             "their residents features", column="exclude",
                             hint="name residents by their id (Study.residents_table())")
        gone = np.flatnonzero(np.isin(ids, [str(x) for x in exclude]))
        people = np.where(np.isin(b.dem.owner, gone), 0.0, people)
    existing = _Existing(graph, fac, fsnap, esnap, people * esnap.ok, b.dem.spread,
                         inputs=_study_inputs(study))  # fmt: skip
    return _review(existing, districts, props, rules, streets, study._inputs.get("buildings"))


@dataclass
class _Rules:
    """How a review measures: default minutes, walking speed (km/h), minutes per category,
    snapping distance (m), persons per household, the standards and extra categories."""

    minutes: float
    speed_kmh: float
    category_minutes: dict[str, float]
    max_snap_m: float
    pph: float
    standards: str | Path
    extra: list[str]
    crs_in: Any


@dataclass
class _Existing:
    """What proposals are reviewed against: the walking network (metric CRS), the existing
    facilities (WGS84) and their snaps, and the existing residents as demand points (their
    snaps, persons per point — 0 where none is counted — and how they were spread)."""

    graph: WalkGraph
    fac: gpd.GeoDataFrame | None
    fsnap: Snap | None
    esnap: Snap | None = None
    people: np.ndarray | None = None
    method: str | None = None
    inputs: list[dict] = field(default_factory=list)


def _proposals(districts, residents, households, rules: _Rules, proposals_crs):
    """The proposals read, with the one-value residents / households checked."""
    if residents is not None:
        residents = check_number(residents, "--proposal-population", strict=False)
    if households is not None:
        households = check_number(households, "--proposal-households", strict=False)
    return read_proposals(districts, residents=residents, households=households,
                          persons_per_household=rules.pph, crs=proposals_crs,
                          default_crs=rules.crs_in)  # fmt: skip


def _review(existing: _Existing, districts, props, rules: _Rules, streets,
            buildings) -> ReviewResult:  # fmt: skip
    """Stage — every standard checked for every proposal against ``existing``."""
    catalogue = load_standards(rules.standards, rules.extra)
    stds = [s for s in catalogue if s.evaluated
            and s.metric in ("supply_per_capita", "share_within")]  # fmt: skip
    graph = existing.graph
    props_m = props.to_crs(graph.crs)
    pts, owner = boundary_points(props_m.geometry.to_numpy(), ACCESS_SPACING_M)
    asnap = snap_points(graph, pts, rules.max_snap_m)
    _check_reachable(props, props_m, owner, asnap, graph, rules.max_snap_m, districts)
    known = known_categories()
    thresholds = {resolve_category(k, known) or k: float(v)
                  for k, v in rules.category_minutes.items()}  # fmt: skip
    per_cat = _category_reach(graph, existing.fac, existing.fsnap, asnap, existing.esnap, stds,
                              thresholds, rules.minutes, rules.speed_kmh)  # fmt: skip
    limit15 = ct.minutes_to_metres(rules.minutes, rules.speed_kmh)
    rows, counted, catchments = _verdicts(props, props_m, owner, asnap, graph, stds, per_cat,
                                          existing.fac, rules.pph, existing.people,
                                          limit15)  # fmt: skip
    exit_code = 0 if all(r["verdict"] == "pass" for r in rows) else 1
    inputs = _review_inputs(districts, props, existing.inputs, streets, buildings)
    labels = {y for x in inputs for y in x["labels"]}
    method = existing.method if existing.people is not None else None
    report = {"version": __version__, "threshold_minutes": float(rules.minutes),
              "speed_kmh": float(rules.speed_kmh), "threshold_m": limit15,
              "persons_per_household": rules.pph, "standards": str(rules.standards),
              "travel": travel_summary(existing.graph),
              "residents_spread": None if method is None else {
                  "method": method, "text": SPREAD_TEXT[method]},
              "data_labels": sorted(labels), "inputs": inputs, "exit_code": exit_code,
              "synthetic_inputs": [f"{x['role']} ({Path(x['path']).name})" for x in inputs
                                   if x["synthetic"]],
              "compliance": _compliance(catalogue, rows), "proposals": rows}  # fmt: skip
    cgdf = gpd.GeoDataFrame({"proposal_id": props["proposal_id"], "metres": limit15},
                            geometry=catchments, crs=graph.crs).to_crs(4326)  # fmt: skip
    counted_gdf = (gpd.GeoDataFrame(counted, geometry="geometry", crs=4326) if counted else
                   gpd.GeoDataFrame({"proposal_id": []}, geometry=[], crs=4326))  # fmt: skip
    return ReviewResult(report=report, proposals=props, catchments=cgdf, counted=counted_gdf)


def _review_graph(network, network_crs, crs_in, snap_rules, streets, streets_crs,
                  travel: tuple = ("walk", 4.0, None)) -> WalkGraph:  # fmt: skip
    """The network, with a proposal's new streets (``--streets``) joined to it, on the costs
    of ``travel`` (mode, walking speed, DEM) — a built graph keeps its own."""
    mode, speed_kmh, dem = travel
    graph = (network if isinstance(network, WalkGraph) else read_network(
        network, crs=network_crs, default_crs=crs_in, rules=as_snap_rules(snap_rules),
        mode=mode))  # fmt: skip
    if graph.costs is not None:
        mode, speed_kmh, dem = graph.costs.mode, graph.costs.speed_kmh, graph.costs.dem or None
    if streets is not None:
        s_gdf = layer_to_wgs84(read_layer(streets), input_label(streets), crs=streets_crs,
                               default=crs_in, what="streets").to_crs(graph.crs)  # fmt: skip
        lines = shapely.get_parts(s_gdf.geometry.to_numpy())
        graph = with_streets(graph, lines[shapely.get_type_id(lines) == 1], source=str(streets))
    return graph if graph.costs is not None else apply_travel(graph, mode, speed_kmh, dem)


def _proposal_check(districts, props, proposals_crs) -> tuple:
    """The proposals, for the datum check."""
    return (input_label(districts), "proposals", props.attrs["crs_in"],
            props.geometry.to_numpy(), proposals_crs is not None)  # fmt: skip


def _facility_checks(fac) -> list[tuple]:
    """Each facility file, for the datum check (each judged on its own)."""
    if fac is None:
        return []
    return [(label, "facilities", fac.attrs["crs_in"].get(label, "wgs84"),
             grp.geometry.to_numpy(), fac.attrs["crs_declared"].get(label, False))
            for label, grp in fac.groupby("input", sort=False)]  # fmt: skip


def _check_reachable(props, props_m, owner, asnap, graph, max_snap_m, districts) -> None:
    """Refuse a proposal none of whose boundary points joins a street."""
    for i, pid in enumerate(props["proposal_id"]):
        if asnap.ok[owner == i].any():
            continue
        poly = props_m.geometry.iat[i]
        inside = int(shapely.contains_xy(poly, graph.node_xy[:, 0], graph.node_xy[:, 1]).sum())
        km2 = poly.area / 1e6
        raise InputError(
            f"proposal {pid!r}: its outline lies more than {max_snap_m:g} m from every "
            "street" + (f", while {inside:,} street junctions lie inside its {km2:,.1f} km² "
                        "— an outline around the whole area, not the district" if inside
                        else ""),
            file=str(districts),
            where=f"feature {i + 1}",
            hint="draw the proposed district's own outline" if inside
            else "pass its new streets with --streets, or check its location",
        )  # fmt: skip


def _category_reach(graph, fac, fsnap, asnap, esnap, stds, thresholds, minutes,
                    speed_kmh) -> dict:  # fmt: skip
    """Per category: its facilities, threshold, (access point, facility, metres) pairs within
    the farthest distance its standards read, the existing residents' pairs within the
    threshold, and each access point's distance to the nearest facility (of each subtype a
    standard counts, too)."""
    per_cat = {}
    categories = sorted(set(fac["category"])) if fac is not None else []
    for cat in categories:
        sel = np.flatnonzero((fac["category"] == cat).to_numpy() & fsnap.ok)
        if len(sel) == 0:
            continue
        limit = ct.minutes_to_metres(thresholds.get(cat, minutes), speed_kmh)
        sub = fsnap.take(sel)
        far = max([limit] + [s.distance_m for s in stds if s.category == cat and s.distance_m])
        ai, fj, d = ct.facility_demand_pairs(graph, sub, asnap, far)
        ep = ct.facility_demand_pairs(graph, sub, esnap, limit) if esnap is not None else None
        if ep is not None:
            ep = (ep[0], sel[ep[1]], ep[2])
        near = ct.nearest_facility(graph, fsnap, members=sel)
        nearest, _ = ct.demand_distances(graph, near, asnap, fsnap, members=sel)
        # the whole category's distances, under the key standards without subtypes read
        per_cat[cat] = {"sel": sel, "limit": limit, "access": (ai, sel[fj], d), "existing": ep,
                        "nearest": nearest, cat: nearest}  # fmt: skip
        for std in stds:
            if std.category == cat and std.subtypes:
                members = sel[fac["subtype"].to_numpy()[sel].astype(object) != None]  # noqa: E711
                members = members[np.isin(fac["subtype"].to_numpy()[members], std.subtypes)]
                if len(members):
                    near_s = ct.nearest_facility(graph, fsnap, members=members)
                    per_cat[cat][std.distance_key] = ct.demand_distances(
                        graph, near_s, asnap, fsnap, members=members)[0]  # fmt: skip
    return per_cat


def _verdicts(props, props_m, owner, asnap, graph, stds, per_cat, fac, pph, people,
              limit15) -> tuple[list, list, list]:  # fmt: skip
    """Every standard checked for every proposal: the proposals' rows, the facilities each
    check counted, and each proposal's walking catchment."""
    rows, counted, catchments = [], [], []
    mode = graph.costs.mode if graph.costs is not None else "walk"
    for i, prop in enumerate(props.itertuples()):
        mine = np.flatnonzero(owner == i)
        catchments.append(ct.group_catchment(graph, asnap.take(mine), limit15))
        checks, not_assessed = [], []
        for std in stds:
            onsite_col = f"onsite_{std.category}_{std.supply}"
            onsite_any = [c for c in props.columns if c.startswith(f"onsite_{std.category}_")]
            onsite = float(getattr(prop, onsite_col, np.nan)) if onsite_col in props else np.nan
            declared = any(np.nan_to_num(props.loc[i, c]) > 0 for c in onsite_any)
            check, used = _check(std, prop, owner, i, per_cat.get(std.category), fac, onsite,
                                 declared, pph, people, mode)  # fmt: skip
            checks.append(check)
            for j, dist_m, spare in used:
                counted.append({"proposal_id": prop.proposal_id, "standard": std.id,
                                "facility_id": fac["facility_id"].iloc[j],
                                "name": fac["name"].iloc[j], "category": std.category,
                                "distance_m": dist_m, "spare": spare,
                                "geometry": fac.geometry.iloc[j]})  # fmt: skip
        counts = {v: sum(c["verdict"] == v for c in checks) for v in VERDICTS}
        rows.append({
            "proposal_id": prop.proposal_id, "name": prop.name, "residents": prop.residents,
            "residents_from": prop.residents_from,
            "households": prop.residents / pph,
            "area_m2": float(props_m.geometry.iloc[i].area),
            "access_points": int(asnap.ok[mine].sum()),
            "verdict": "fail" if counts["fail"] else ("cannot check" if counts["cannot check"]
                                                      else "pass"),
            "verdicts": counts, "checks": checks, "not_assessed": not_assessed,
        })  # fmt: skip
    return rows, counted, catchments


def _facility_labels(fac) -> dict:
    """Input file → the provenance labels of its facilities."""
    if fac is None or "input" not in fac:
        return {}
    return fac.groupby("input")["source"].agg(lambda v: sorted({x for x in v if x})).to_dict()


def _network_input(network, graph: WalkGraph) -> list[dict]:
    """The network as an input of the review (none when a loaded graph was passed)."""
    if isinstance(network, WalkGraph):
        return []
    return [{"role": "network", "path": input_label(network), "labels": sorted(graph.labels)}]


def _study_inputs(study: Study) -> list[dict]:
    """The inputs of a study as review inputs: its network, facility and residents files
    (tables passed as frames are named as such) and, once edited, its edits."""
    kw = study._inputs
    inputs = _network_input(kw["network"], study.graph)
    labels = _facility_labels(study.facilities)
    for item in facility_items(kw["facilities"], kw.get("facilities_crs")):
        path = input_label(item.path)
        inputs.append({"role": "facilities", "path": path, "labels": labels.get(path, [])})
    res = study.residents_table()
    inputs.append({"role": "residents", "path": input_label(kw["population"]),
                   "labels": sorted({x for x in res["source"] if x})})  # fmt: skip
    if study.edits:
        inputs.append({"role": "study edits", "path": "", "labels": [],
                       "edits": [e["op"] for e in study.edits]})  # fmt: skip
    return inputs


def _review_inputs(districts, props, existing: list[dict], streets, buildings) -> list[dict]:
    """The inputs of a review with their roles, provenance labels and SHA-256 (of files)."""
    inputs = [{"role": "districts", "path": input_label(districts),
               "labels": props.attrs["labels"]}, *existing]  # fmt: skip
    if streets is not None:
        inputs.append({"role": "streets", "path": str(streets), "labels": []})
    if buildings is not None and not isinstance(buildings, gpd.GeoDataFrame):
        inputs.append({"role": "buildings", "path": str(buildings), "labels": []})
    for x in inputs:
        x["sha256"] = file_sha256(x["path"]) if x["path"] and Path(x["path"]).is_file() else None
        x["synthetic"] = any("synthetic" in y for y in x["labels"])
    return inputs


def _check(std: Standard, prop, owner: np.ndarray, i: int, info, fac, onsite: float,
           declared: bool, pph: float, people,
           mode: str = "walk") -> tuple[dict, list]:  # fmt: skip
    """One standard for one proposal: the check dict and the facilities it counted (a
    distance standard — a walking radius — only when the review walks: ``mode``)."""
    base = {"standard": std.id, "label": std.label, "category": std.category,
            "metric": std.metric, "target": std.target, "unit": std.unit, "level": std.level,
            "source": std.source, "verified": std.verified}  # fmt: skip
    access = info["access"] if info else (np.empty(0, int), np.empty(0, int), np.empty(0))
    ai, fj, d = access
    # the proposal's access points are owned by proposal i: pick its pairs
    mine = owner[ai] == i
    fj, d = fj[mine], d[mine]
    if std.metric == "share_within" and mode != "walk":
        return _distance_unchecked(std, base, declared, f"{std.distance_m:g} m is a walking "
                                   f"distance, and this review travels by {mode_label(mode)} "
                                   "(review it walking)"), []  # fmt: skip
    if std.metric == "share_within":
        return _check_distance(std, base, owner, i, info, fj, d, declared)
    return _check_supply(std, base, prop, info, fac, fj, d, onsite, pph, people)


def _distance_unchecked(std: Standard, base: dict, declared: bool, reason: str) -> dict:
    """A distance standard's check that cannot be made, and why."""
    return base | {
        "requirement": f"a {_what(std)} within {std.distance_m:g} m",
        "distance_m": std.distance_m, "provided_on_site": declared,
        "nearest_existing_m": None, "reachable_existing_supply": None,
        "spare_capacity": None, "verdict": "cannot check", "reason": reason,
        "shortfall": None, "shortfall_unit": "m",
    }  # fmt: skip


def _check_distance(std: Standard, base: dict, owner: np.ndarray, i: int, info, fj: np.ndarray,
                    d: np.ndarray, declared: bool) -> tuple[dict, list]:  # fmt: skip
    """A distance standard for proposal ``i``: its nearest facility of the kind counted, from
    its best access point."""
    what = _what(std)
    dist = info.get(std.distance_key) if info else None
    near_all = dist[owner == i] if dist is not None else np.array([np.inf])
    nearest = float(near_all.min()) if len(near_all) else float("inf")
    ok = declared or nearest <= std.distance_m
    none = dist is None
    if none and not declared:  # nothing measured: absent data is not a shortfall
        return _distance_unchecked(std, base, declared, f"no {what} in the input — pass the "
                                   f"{what} facilities (or declare on-site provision) to "
                                   "check it"), []  # fmt: skip
    return base | {
        "requirement": f"a {what} within {std.distance_m:g} m",
        "distance_m": std.distance_m, "provided_on_site": declared,
        "nearest_existing_m": nearest if np.isfinite(nearest) else None,
        "reachable_existing_supply": None, "spare_capacity": None,
        "verdict": "pass" if ok else "fail",
        "reason": "provided on site" if declared and nearest > std.distance_m else (
            "within distance" if ok else (f"none in the input (no {what} given)" if none
                                          else "too far")),
        "shortfall": 0.0 if ok else (nearest - std.distance_m if np.isfinite(nearest)
                                     else None),
        "shortfall_unit": "m",
    }, [(int(j), float(x), None) for j, x in _closest(fj, d, std.distance_m)]  # fmt: skip


def _check_supply(std: Standard, base: dict, prop, info, fac, fj: np.ndarray, d: np.ndarray,
                  onsite: float, pph: float, people) -> tuple[dict, list]:  # fmt: skip
    """A per-capita standard for a proposal: its requirement against what it provides on
    site and the spare capacity of the facilities within reach."""
    what = _what(std)
    scale = 1.0 / pph if std.per_unit == "households" else 1.0
    req = std.target * prop.residents * scale / std.per
    onsite = 0.0 if np.isnan(onsite) else onsite
    limit = info["limit"] if info else None
    within = d <= limit if info else np.zeros(0, bool)
    reach_fac, reach_d = _closest(fj[within], d[within], np.inf).T if within.any() else ([], [])
    reach_fac = np.asarray(reach_fac, dtype=np.int64)
    out = base | {"requirement": req, "requirement_unit": _supply_unit(std),
                  "provided_on_site": onsite}  # fmt: skip
    if len(reach_fac) and info:
        supply_all = np.zeros(len(fac))
        s, assumed = an.facility_supply(fac.iloc[info["sel"]], std)
        supply_all[info["sel"]] = s
        reachable = float(supply_all[reach_fac].sum())
        out["reachable_existing_supply"] = reachable
        out["assumed_supply_facilities"] = int(assumed.sum())
        if people is None:
            spare = None
        else:
            ei, ef, _ = info["existing"]
            load = _loads((ei, ef), supply_all, std.target * people * scale / std.per)
            spare_j = np.maximum(supply_all - load, 0.0)
            spare = float(spare_j[reach_fac].sum())
    else:
        out["reachable_existing_supply"] = 0.0
        spare = 0.0
        spare_j = None
    out["spare_capacity"] = spare
    used = [(int(j), float(x), (float(spare_j[j]) if spare_j is not None else None))
            for j, x in zip(reach_fac, reach_d, strict=True)]  # fmt: skip
    if spare is None:
        if onsite >= req:
            return out | {"verdict": "pass", "reason": "provided on site", "shortfall": 0.0}, used
        return out | {"verdict": "cannot check", "reason": "spare capacity needs the existing "
                      "residents (--residents FILE)", "shortfall": None}, used  # fmt: skip
    have = onsite + spare
    if have >= req:
        return out | {"verdict": "pass", "reason": "on site + spare capacity",
                      "shortfall": 0.0}, used  # fmt: skip
    unmeasured = _unmeasured(fac, info, std)
    if info is None or unmeasured:
        missing = (f"no {what} in the input" if info is None else
                   f"none of the {unmeasured} {what} facilities gives {_supply_label(std)}")
        return out | {"verdict": "cannot check", "shortfall": None,
                      "reason": f"{missing} — requirement {req:,.1f} {_supply_unit(std)}"
                      + (f", {onsite:,.1f} on site" if onsite else "")}, used  # fmt: skip
    if info is None:
        reason = f"none in the input (no {what} given)" + ("; on site short" if onsite else "")
    elif len(reach_fac):
        reason = "not enough spare capacity" + ("; on site short" if onsite else "")
    else:
        reason = f"too far (no {what} within {limit:.0f} m)"
    return out | {"verdict": "fail", "reason": reason, "shortfall": req - have}, used


def _unmeasured(fac, info, std: Standard) -> int:
    """The number of facilities of the standard's category when none of them gives the
    supply the standard counts (no land area for a m²-per-resident rule, and no typical
    value to assume), else 0."""
    if info is None or std.supply == "count" or std.typical is not None:
        return 0
    vals = fac.iloc[info["sel"]][std.supply].to_numpy(dtype=float)
    return len(vals) if len(vals) and np.isnan(vals).all() else 0


def _supply_label(std: Standard) -> str:
    return {"area_m2": "a land area (面积 / area_m2)", "floor_area_m2": "a floor area "
            "(建筑面积)", "beds": "beds (床位)", "places": "places (托位 / 学位)",
            "pitches": "pitches (场地数)", "nursing_beds": "nursing beds (护理型床位)"}.get(
                std.supply, std.supply)  # fmt: skip


def _compliance(catalogue: list[Standard], rows: list[dict]) -> list[dict]:
    """Review-level standards (``proposals_compliant``): the share of the reviewed proposals
    that pass the standard each names — e.g. the plan's 100 % of new districts providing
    elderly-care land (line 194)."""
    out = []
    for std in catalogue:
        if std.metric != "proposals_compliant":
            continue
        verdicts = [c["verdict"] for r in rows for c in r["checks"] if c["standard"] == std.of]
        value = sum(v == "pass" for v in verdicts) / len(verdicts) if verdicts else None
        out.append({"standard": std.id, "label": std.label, "of": std.of, "target": std.target,
                    "unit": std.unit, "value": value, "proposals": len(verdicts),
                    "met": None if value is None else std.met(value), "source": std.source,
                    "verified": std.verified})  # fmt: skip
    return out


def _what(std: Standard) -> str:
    """``"幼儿园 / Kindergarten"`` (or its subtypes' labels) for messages."""
    cat = known_categories().get(std.category)
    if cat is None:
        return std.category
    if std.subtypes:
        return " or ".join(s.label for s in cat.subtypes if s.id in std.subtypes)
    return cat.label


def _closest(fj: np.ndarray, d: np.ndarray, limit: float) -> np.ndarray:
    """(facility, min distance) pairs within ``limit``, one per facility."""
    keep = d <= limit
    if not keep.any():
        return np.empty((0, 2))
    f, dd = fj[keep], d[keep]
    order = np.lexsort((dd, f))
    f, dd = f[order], dd[order]
    first = np.r_[True, f[1:] != f[:-1]]
    return np.column_stack([f[first], dd[first]])


def _supply_unit(std: Standard) -> str:
    return {"area_m2": "m²", "floor_area_m2": "m² floor area", "beds": "beds",
            "places": "places", "pitches": "pitches", "doctors": "doctors",
            "nurses": "nurses", "count": "facilities"}[std.supply]  # fmt: skip
