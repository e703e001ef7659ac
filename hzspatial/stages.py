"""The stages of a coverage run, in order: read (:func:`_load_inputs`), check, place the
residents (:func:`_place_demand`), search (:func:`_search`) — together :func:`build` — then
coverage per category, the standards, underserved residents and the tables — :func:`finish`.

:func:`hzspatial.run.run_coverage` is ``finish(build(...))`` through a
:class:`hzspatial.study.Study`, which keeps what :func:`build` returns loaded and edits it.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import __version__
from hzspatial import analysis as an
from hzspatial import catchments as ct
from hzspatial import crs as _crs
from hzspatial._memory import give_back
from hzspatial.categories import resolve_category
from hzspatial.config import load
from hzspatial.datasets import bundled_boundary, default_persons_per_household, demo_paths
from hzspatial.engine import EngineInput, EngineOutput, compute, compute_tiled
from hzspatial.errors import DataWarning, InputError, check_number, check_walk_options
from hzspatial.evaluation import STUDY_AREA, Pairs, StandardsInput, evaluate_standards
from hzspatial.geometry import overlaps
from hzspatial.groups import ALL, GroupCounts, builtin_groups, group_counts, served_group
from hzspatial.io import (
    FacilityInput,
    facility_items,
    file_sha256,
    read_boundaries,
    read_buildings,
    read_facility_inputs,
    read_population,
)
from hzspatial.io._files import input_label
from hzspatial.io._geometry import check_within
from hzspatial.io.facilities import known_categories
from hzspatial.io.osm import read_osm_facilities, read_osm_residents
from hzspatial.io.raster import is_raster, read_population_raster
from hzspatial.network import (
    MAX_SNAP_M,
    SnapRules,
    WalkGraph,
    as_snap_rules,
    network_format,
    read_network,
    snap_points,
    with_costs,
)
from hzspatial.network.costs import (
    MODES,
    apply_travel,
    check_travel,
    minutes_note,
    mode_label,
)
from hzspatial.network.datum import network_may_shift, warn_datums
from hzspatial.population import (
    AREA_GRID_M,
    BOUNDARY_TOLERANCE_M,
    GRID_M,
    PIECE_M,
    SPREADS,
    spread_residents,
)
from hzspatial.results import CoverageResult, cov_column
from hzspatial.standards import TravelRule, jurisdiction_of, load_standards, load_travel

__all__ = ["Built", "build", "draw_catchments", "finish", "subtype_groups",
           "underserved_masks"]

logger = logging.getLogger(__name__)


@dataclass
class Modes:
    """How each category's facilities are reached in a run.

    Attributes
    ----------
    of : dict
        Category id → travel mode (``walk``, ``bike``, ``ebike``, ``car``).
    run : str
        The mode of the run's own graph (:attr:`Built.graph`), on which residents are placed
        and checked.
    graphs, engines : dict
        For every other mode of ``of``: its graph (the mode's ways and costs) and the
        searches of its categories on it (facilities and demand points snapped to it).
    """

    of: dict[str, str]
    run: str
    graphs: dict[str, WalkGraph] = field(default_factory=dict)
    engines: dict[str, EngineOutput] = field(default_factory=dict)

    @property
    def mixed(self) -> bool:
        """Whether the categories are reached by more than one mode."""
        return len(set(self.of.values())) > 1


@dataclass
class Built:
    """Stages 1–3 of a coverage run — inputs read, residents placed, searches done: what a
    :class:`hzspatial.study.Study` keeps loaded and :func:`finish` turns into a result."""

    src: _Inputs
    graph: WalkGraph
    dem: _Demand
    walk: _Walk
    eng: EngineOutput
    stds: list
    options: dict
    timings: dict[str, float]
    modes: Modes | None = None

    def searched(self, category: str) -> tuple[WalkGraph, EngineOutput]:
        """The graph a category's facilities are reached on, and the searches whose snaps
        belong to it (distances and pairs of every category are in :attr:`eng`)."""
        m = self.modes
        if m is None or m.of.get(category, m.run) == m.run:
            return self.graph, self.eng
        mode = m.of[category]
        return m.graphs[mode], m.engines[mode]


def build(
    network: str | Path | WalkGraph | gpd.GeoDataFrame,
    facilities: Sequence[FacilityInput | str | Path | pd.DataFrame],
    population: str | Path | pd.DataFrame | None,
    boundaries: str | Path | gpd.GeoDataFrame | None = None,
    *,
    facilities_from_osm: bool = False,
    residents_from_osm: bool = False,
    population_total: float | None = None,
    age_rasters: str | Path | Sequence[str | Path] | None = None,
    control_totals: bool = False,
    buildings: str | Path | gpd.GeoDataFrame | None = None,
    spread: str | None = None,
    buildings_crs: str | int | None = None,
    minutes: float = 15.0,
    speed_kmh: float = 4.0,
    category_minutes: Mapping[str, float] | None = None,
    standards: str | Path = "hanzhong",
    crs_in: str | int | None = None,
    network_crs: str | int | None = None,
    facilities_crs: str | int | None = None,
    population_crs: str | int | None = None,
    boundaries_crs: str | int | None = None,
    boundary_level: str | None = None,
    strict: bool = False,
    max_snap_m: float = MAX_SNAP_M,
    extra_categories: Iterable[str] = (),
    category_map: Mapping[str, str] | None = None,
    persons_per_household: float | None = None,
    require_standards: bool = True,
    tiles: str | None = None,
    submit: Callable | None = None,
    area: Sequence[str] | None = None,
    exclude_facilities: Sequence[str] = (),
    snap_rules: SnapRules | str | Path | None = None,
    mode: str = "walk",
    dem: str | Path | None = None,
    category_modes: Mapping[str, str] | None = None,
) -> Built:
    """Read the inputs, place the residents and run the searches (stages 1–3); parameters
    as :func:`hzspatial.run.run_coverage`."""
    minutes, speed_kmh, max_snap_m, persons_per_household, category_minutes = check_walk_options(
        minutes, speed_kmh, max_snap_m, persons_per_household, category_minutes
    )
    population_total = _population_total(population_total, residents_from_osm, population)
    timings: dict[str, float] = {}
    clock, extra = _Clock(timings), list(extra_categories)
    stds = load_standards(standards, extra)
    rules_travel = load_travel(standards, extra)
    default_boundaries = boundaries is None
    boundaries = demo_paths()["boundaries"] if boundaries is None else boundaries
    with clock("read"):
        src = _load_inputs(
            network, facilities, population, boundaries, extra,
            facilities_from_osm=facilities_from_osm, residents_from_osm=residents_from_osm,
            population_total=population_total, crs_in=crs_in, facilities_crs=facilities_crs,
            population_crs=population_crs, boundaries_crs=boundaries_crs,
            age_rasters=age_rasters, control_totals=control_totals,
            boundary_level=boundary_level, category_map=category_map,
            persons_per_household=persons_per_household, exclude_facilities=exclude_facilities,
            default_boundaries=default_boundaries,
        )  # fmt: skip
    rules = as_snap_rules(snap_rules)
    modes = category_travel(src.facilities, mode, category_modes, rules_travel, extra,
                            dem, network)  # fmt: skip
    with clock("graph"):
        graph, modes.graphs = _mode_graph(network, modes.run, rules, network_crs, crs_in,
                                          speed_kmh, dem), {
            m: _mode_graph(network, m, rules, network_crs, crs_in, speed_kmh, dem)
            for m in dict.fromkeys(modes.of.values()) if m != modes.run}  # fmt: skip
    with clock("checks"):
        src = _checked(src, graph, boundaries, area, strict,
                       network_may_shift(network, network_crs))  # fmt: skip
    metres = ct.minutes_to_metres(minutes, speed_kmh)
    logger.info("threshold: %g min at %g km/h = %.0f m", minutes, speed_kmh, metres)
    with clock("residents"):
        dem = _place_demand(src, graph, buildings, buildings_crs, crs_in,
                            spread_method(spread, buildings, network, residents_from_osm),
                            network,
                            same_layer=_same_file(population, boundaries))  # fmt: skip
    with clock("search"):
        walk = _walk_limits(src.facilities, stds, extra,
                            {**{c: r.minutes for c, r in rules_travel.items() if r.minutes},
                             **(category_minutes or {})}, minutes, speed_kmh,
                            require_standards, standards)  # fmt: skip
        eng = _search(graph, src, dem, walk, stds, max_snap_m, tiles, submit, modes)
    options = {"minutes": minutes, "speed_kmh": speed_kmh, "metres": metres,
               "pph": persons_per_household or default_persons_per_household(),
               "strict": strict, "network_shift": network_may_shift(network, network_crs),
               "crs_in": crs_in, "where": _where_set(standards, src.boundaries, boundaries),
               "network": network, "boundaries": boundaries,
               "rules": None if isinstance(network, WalkGraph) else rules.source,
               "max_snap_m": max_snap_m, "extra": extra, "standards": standards,
               "category_minutes": dict(category_minutes or {}),
               "require_standards": require_standards, "tiles": tiles,
               "mode": mode, "dem": None if dem is None else str(dem),
               "category_modes": dict(category_modes or {})}  # fmt: skip
    return Built(src, graph, dem, walk, eng, stds, options, timings, modes)


def category_travel(fac: pd.DataFrame, mode: str, category_modes: Mapping[str, str] | None,
                    rules: Mapping[str, TravelRule], extra: Iterable[str] = (),
                    dem: str | Path | None = None, network=None) -> Modes:  # fmt: skip
    """Each category's travel mode: ``category_modes`` (category id or alias → mode, the
    command line's ``--mode clinic=car``), else the catalogue's ``[[travel]]`` rule, else
    ``mode``. The run's own mode is ``mode`` when a category uses it, else the first
    category's.

    Raises
    ------
    InputError
        An unknown category or mode; a DEM when no category walks (it would change nothing,
        silently); several modes over a graph object (each mode reads its own ways).
    """
    check_travel(mode, None)
    known = known_categories(list(extra))
    given = {}
    for name, m in (category_modes or {}).items():
        cid = resolve_category(str(name), known)
        if cid is None:
            raise InputError(f"travel mode for unknown category {name!r}; known: "
                             f"{', '.join(known)}", column="--mode",
                             hint="write CATEGORY=MODE with a category id or alias")  # fmt: skip
        if m not in MODES:
            raise InputError(f"unknown travel mode {m!r} for {cid}", column="--mode",
                             hint=f"use one of {', '.join(MODES)}")  # fmt: skip
        given[cid] = m
    cats = list(dict.fromkeys(fac["category"]))
    of = {c: given.get(c, rules[c].mode if c in rules else mode) for c in cats}
    run = mode if mode in of.values() or not of else of[cats[0]]
    if dem is not None and "walk" not in of.values():
        check_travel(run, dem)  # a DEM changes walking only
    if len(set(of.values())) > 1 and isinstance(network, WalkGraph):
        raise InputError("categories reached by several travel modes need the network as a "
                         "file or table: each mode reads its own ways", column="--mode",
                         hint="pass the network's path, or run one mode at a time")  # fmt: skip
    for c, m in of.items():
        if m != "walk" or len(set(of.values())) > 1:
            logger.info("%s: %s%s", c, mode_label(m),
                        f" ({rules[c].source})" if c in rules and c not in given else "")
    return Modes(of, run)


def _mode_graph(network, mode: str, rules: SnapRules, network_crs, crs_in, speed_kmh: float,
                dem) -> WalkGraph:  # fmt: skip
    """The network read for ``mode`` (its ways) with its travel costs (the DEM's slopes for
    walking); a graph object as given (with its own costs, or the mode's)."""
    graph = network if isinstance(network, WalkGraph) else read_network(
        network, crs=network_crs, default_crs=crs_in, rules=rules, mode=mode)  # fmt: skip
    if graph.costs is None:
        graph = apply_travel(graph, mode, speed_kmh, dem if mode == "walk" else None)
    return graph


def _checked(src: _Inputs, graph: WalkGraph, boundaries, area, strict: bool,
             network_shift: bool) -> _Inputs:  # fmt: skip
    """Stage 1b — the inputs checked against each other (boundaries over the network, each
    file's datum, overlapping residents), narrowed to ``area`` when given."""
    _check_boundaries_cover(graph, src.boundaries, input_label(boundaries))
    _check_datums(graph, src.facilities, src.residents, src.population_label, strict,
                  network_shift)  # fmt: skip
    if area is not None:
        src = _select_area(src, area, input_label(boundaries))
    _check_overlaps(src.residents, src.population_label, graph.crs)
    return src


def _population_total(population_total, residents_from_osm: bool,
                      population=None) -> float | None:  # fmt: skip
    """``--population-total`` checked: a number, and only with ``--residents-from-osm`` or a
    population raster (both spread a total the input does not fix)."""
    if population_total is None:
        return None
    population_total = check_number(population_total, "--population-total")
    if not residents_from_osm and not is_raster(population):
        raise InputError(
            "--population-total is for --residents-from-osm (the persons spread over the "
            "OSM homes) or a population raster; the residents file gives its own",
            column="--population-total",
            hint="drop --population-total, or use --residents-from-osm")  # fmt: skip
    return population_total


def finish(b: Built, *, areas: bool = True) -> CoverageResult:
    """Stages 4–6 — coverage per category, the standards, underserved residents and the
    tables of a :class:`CoverageResult`, from what :func:`build` (or an edited study) holds.
    Without ``areas`` the underserved residents are counted (table, summary) but their areas
    not traced (an empty layer: siting has no use for them)."""
    o = b.options
    timings = dict(b.timings)
    clock = _Clock(timings)
    src, dem, walk, eng = b.src, b.dem, b.walk, b.eng
    with clock("catchments"):
        draw_catchments(b)
        people = dem.frame["population"].to_numpy(dtype=float) * eng.demand_ok
        served = served_people(dem.groups, walk.categories, eng.demand_ok)
        cat = _per_category(b.graph, src.facilities, dem, walk, eng, people, o["max_snap_m"])
        for c, info in cat.summary.items():
            info["mode"] = b.modes.of.get(c, b.modes.run) if b.modes else "walk"
        _served_summary(cat.summary, dem, eng, walk, served, people)
    with clock("standards"):
        ratios, access = _evaluate(b.stds, src, dem, walk, eng, cat, people, o["pph"],
                                   served=served, modes=b.modes.of if b.modes else None,
                                   **o["where"])  # fmt: skip
    with clock("underserved"):
        under, under_table = _underserved(b.stds, src.boundaries, dem, cat, access, people,
                                          served, areas=areas)  # fmt: skip
    with clock("slope"):
        flat = _flat_distances(b)
    with clock("assemble"):
        res = _assemble(
            src, b.graph, dem, cat, ratios, under, under_table, people, b.stds,
            minutes=o["minutes"], speed_kmh=o["speed_kmh"], metres=o["metres"], pph=o["pph"],
            network=o["network"], boundaries=o["boundaries"], timings=timings, rules=o["rules"],
            modes=b.modes,
        )  # fmt: skip
        if flat:
            slope_effect(res, flat, served, people)
        return res


def _flat_distances(b: Built) -> dict[str, np.ndarray]:
    """Per category walked with a DEM, each demand point's walking distance to its nearest
    facility on the flat (the same streets and snaps, lengths instead of slope costs): what
    slope changed. Empty without a DEM."""
    cats = b.src.facilities["category"].to_numpy()
    out, flat_of = {}, {}
    for cat in b.walk.categories:
        graph, eng = b.searched(cat)
        if graph.costs is None or not graph.costs.dem:
            continue
        if id(graph) not in flat_of:
            flat = with_costs(graph, None)
            fsnap, dsnap = eng.facility_snap, eng.demand_snap
            if fsnap is None or dsnap is None:  # a tiled run keeps no snaps: the same again
                fsnap = snap_points(flat, b.dem.facilities_m.geometry.to_numpy(),
                                    b.options["max_snap_m"])  # fmt: skip
                dsnap = snap_points(flat, b.dem.points, b.options["max_snap_m"])
            flat_of[id(graph)] = flat, fsnap, dsnap
        flat, fsnap, dsnap = flat_of[id(graph)]
        sel = np.flatnonzero((cats == cat) & b.eng.facility_ok)
        near = ct.nearest_facility(flat, fsnap, members=sel)
        out[cat] = ct.demand_distances(flat, near, dsnap, fsnap, members=sel)[0]
    return out


def slope_effect(res: CoverageResult, flat: dict[str, np.ndarray],
                 served: dict[str, np.ndarray], people: np.ndarray) -> None:  # fmt: skip
    """Coverage on the flat beside coverage with slope, per category and district: the
    summary's ``slope_effect``, ``coverage_share_flat`` in the district table, a sentence
    each (e.g. "留坝县：考虑坡度后 15 分钟步行可达养老服务设施的居民由 62% 降至 48%")."""
    pop, summary = res.demand, res.summary
    district = pop["district_id"].to_numpy()
    names = dict(zip(res.districts["district_id"], res.districts["name"], strict=True)) \
        if len(res.districts) else {}  # fmt: skip
    out = {}
    for cat, d_flat in flat.items():
        info = summary["categories"][cat]
        w = served.get(cat, people)
        limit, minutes = info["threshold_m"], info["threshold_minutes"]
        d_slope = pop[f"dist_{cat}_m"].to_numpy()
        rows = []
        for did in res.districts["district_id"] if len(res.districts) else []:
            m = district == did
            total = float(w[m].sum())
            if total <= 0:
                continue
            a = float(w[m][d_flat[m] <= limit].sum()) / total
            b = float(w[m][d_slope[m] <= limit].sum()) / total
            rows.append({"district_id": did, "name": names.get(did, did), "share_flat": a,
                         "share": b, "text": _slope_sentence(names.get(did, did), minutes,
                                                             info, a, b)})  # fmt: skip
            res.districts.loc[res.districts["district_id"] == did,
                              f"{cat}_coverage_share_flat"] = a  # fmt: skip
        total = float(w.sum())
        a = float(w[d_flat <= limit].sum()) / total if total else 0.0
        b = float(w[d_slope <= limit].sum()) / total if total else 0.0
        pop[f"dist_{cat}_flat_m"] = d_flat
        out[cat] = {"share_flat": a, "share": b,
                    "text": _slope_sentence("研究区 / study area", minutes, info, a, b),
                    "districts": rows}  # fmt: skip
    summary["slope_effect"] = out


def _slope_sentence(place: str, minutes: float, info: dict, flat: float, slope: float) -> str:
    """"<place>：考虑坡度后 15 分钟步行可达<category>的居民由 62% 降至 48%" and its English."""
    zh = info["label"].split(" / ")[0]
    who = info.get("serves", {}).get("label", "居民 / residents").split(" / ")
    who_zh, who_en = (who + who)[:2]
    a, b = round(100 * flat), round(100 * slope)  # the verb says what the figures show
    change = f"由 {a}% {'降至' if b < a else '升至'} {b}%" if a != b else f"仍为 {b}%"
    return (f"{place}：考虑坡度后 {minutes:g} 分钟步行可达{zh}的{who_zh}{change} / with slope, "
            f"{who_en} within {minutes:g} min walk of {info['label'].split(' / ')[-1]}: "
            f"{a}% → {b}%")


class _Clock:
    """``with clock("stage"):`` adds the seconds spent to ``timings["stage"]``."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    @contextmanager
    def __call__(self, stage: str):
        t = time.perf_counter()
        yield
        spent = time.perf_counter() - t
        if spent > GIVE_BACK_AFTER_S:  # a large stage: what it freed returned before the next
            give_back()
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t


#: Stages longer than this (seconds) return the memory they freed to the system
#: (:func:`hzspatial._memory.give_back`); shorter ones freed little.
GIVE_BACK_AFTER_S = 0.5


@dataclass
class _Inputs:
    """Stage 1 — what was read: boundaries, facilities (WGS84, ``attrs["crs_in"]``), residents
    features (WGS84) and the label naming the residents' source."""

    boundaries: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    residents: gpd.GeoDataFrame
    population_label: str
    items: list[FacilityInput]


def _load_inputs(network, facilities, population, boundaries, extra, *, facilities_from_osm,
                 residents_from_osm, population_total, crs_in, facilities_crs, population_crs,
                 boundaries_crs, boundary_level, category_map, persons_per_household,
                 exclude_facilities, default_boundaries=False, age_rasters=None,
                 control_totals=False) -> _Inputs:  # fmt: skip
    """Read boundaries, facilities and residents, each in its own coordinate system. With the
    default boundaries (Hanzhong's counties) and residents wholly outside them, the inputs'
    extent becomes the one study area, and a warning says so."""
    if residents_from_osm and population is not None:
        raise InputError("both --population and --residents-from-osm given",
                         column="--residents-from-osm",
                         hint="give residents one way: a file, or the OSM homes")  # fmt: skip
    _raster_options(population, age_rasters, control_totals, population_total)
    bnd = read_boundaries(boundaries, crs=boundaries_crs, default_crs=crs_in,
                          level=boundary_level)  # fmt: skip
    study_area = shapely.union_all(bnd.geometry.to_numpy())
    items = facility_items(facilities, facilities_crs, category_map)
    if not items and not facilities_from_osm:
        raise InputError(
            "no facility file given", column="--facilities", hint="pass at least one facility file"
        )
    osm_file = _osm_source(network) if (facilities_from_osm or residents_from_osm) else None
    fac = _read_all_facilities(items, crs_in, extra, osm_file if facilities_from_osm else None)
    if exclude_facilities:
        unknown = sorted(set(exclude_facilities) - set(fac["facility_id"]))
        if unknown:
            raise InputError(
                f"facility ids to remove not found: {', '.join(unknown[:8])}",
                column="remove_facilities",
                hint="use ids of the facility files",
            )
        keep = ~fac["facility_id"].isin(list(exclude_facilities))
        gone = sorted(set(fac["category"]) - set(fac.loc[keep, "category"]))
        if gone:  # a category without facilities would vanish from every table
            raise InputError(
                f"removing {', '.join(sorted(exclude_facilities)[:8])} leaves no "
                f"{', '.join(gone)} facility: a category is measured from its facilities",
                column="remove_facilities",
                hint="keep at least one of the category, or leave its facilities' file out",
            )  # fmt: skip
        crs_used = fac.attrs["crs_in"]
        fac = fac[keep].reset_index(drop=True)
        fac.attrs["crs_in"] = crs_used
    if residents_from_osm:
        pop = read_osm_residents(osm_file, population_total=population_total, boundaries=bnd)
        label = f"{osm_file} (OpenStreetMap homes)"
        inside = shapely.contains_xy(shapely.buffer(study_area, 0), *shapely.get_coordinates(
            shapely.point_on_surface(pop.geometry.to_numpy())).T)  # fmt: skip
        if not inside.any():
            raise InputError("no home of the extract lies inside the boundaries", file=osm_file,
                             hint="pass --boundaries of the extract's area")  # fmt: skip
        if (~inside).any():
            logger.info("%d homes outside the boundaries left out", int((~inside).sum()))
        pop = pop[inside].reset_index(drop=True)
        pop.attrs["crs_in"] = "wgs84"
    elif population is None:
        raise InputError("no residents given", column="--population",
                         hint="pass --population FILE, or --residents-from-osm")  # fmt: skip
    elif is_raster(population):
        label = input_label(population)
        wanted = {served_group(str(c)) for c in fac["category"].unique()}
        pop = read_population_raster(population, crs=population_crs, default_crs=crs_in,
                                     study_area=study_area, population_total=population_total,
                                     age_rasters=age_rasters,
                                     groups={g.id: g.ages for g in wanted if g.ages},
                                     control_areas=bnd if control_totals else None)  # fmt: skip
    else:
        label = input_label(population)
        pop = read_population(population, crs=population_crs, default_crs=crs_in,
                              study_area=None if default_boundaries else study_area,
                              persons_per_household=persons_per_household)  # fmt: skip
        if default_boundaries:
            bnd = _default_area(bnd, study_area, pop, fac, label)
    return _Inputs(bnd, fac, pop, label, items)


def _raster_options(population, age_rasters, control_totals: bool, population_total) -> None:
    """``--age-rasters`` and ``--control-totals`` go with a population raster only, and
    ``--control-totals`` not with ``--population-total`` (two totals for the same people)."""
    for given, option in ((age_rasters, "--age-rasters"), (control_totals, "--control-totals")):
        if given and not is_raster(population):
            raise InputError(f"{option} goes with a population raster (--population pop.tif)",
                             column=option, hint="give the residents as a raster, or put "
                             "age columns in the residents file")  # fmt: skip
    if control_totals and population_total is not None:
        raise InputError("both --control-totals and --population-total given",
                         column="--control-totals",
                         hint="rescale to one total: the boundaries' or the given one")  # fmt: skip


def _default_area(bnd, hanzhong, pop, fac, label) -> gpd.GeoDataFrame:
    """The default boundaries for residents read without any: Hanzhong's counties when the
    residents lie in them (else the usual "outside the study area" error for the ones that do
    not); when none does, one area around the inputs (residents and facilities, 500 m
    beyond), said in a warning — a run in another city is not Hanzhong's."""
    reps = shapely.point_on_surface(pop.geometry.to_numpy())
    inside = shapely.contains_xy(shapely.buffer(hanzhong, 50 / 111_000), shapely.get_x(reps),
                                 shapely.get_y(reps))  # fmt: skip
    if inside.any():
        check_within(reps, hanzhong, label, lambda m: [int(i) + 1 for i in np.flatnonzero(m)],
                     "residents")  # fmt: skip
        return bnd
    geoms = np.concatenate([pop.geometry.to_numpy(), fac.geometry.to_numpy()])
    hull = shapely.convex_hull(shapely.union_all(geoms))
    c = shapely.get_coordinates(hull)
    utm = _crs.metric_crs(c[:, 0], c[:, 1])
    area = gpd.GeoSeries([hull], crs=4326).to_crs(utm).buffer(500).to_crs(4326)
    out = gpd.GeoDataFrame({"district_id": ["study_area"],
                            "name": ["研究范围（输入数据范围） / Study area (the inputs' extent)"],
                            "population": [np.nan]},
                           geometry=area.to_numpy(), crs=4326)  # fmt: skip
    out.attrs["level"] = "district"
    out.attrs["population_from"] = None
    out.attrs["inputs_extent"] = True
    warnings.warn(f"{label}: the residents lie outside Hanzhong (the default boundaries): the "
                  "inputs' extent (500 m beyond residents and facilities) is the one study "
                  "area — pass --boundaries for districts, 街道 or 社区", DataWarning,
                  stacklevel=4)  # fmt: skip
    return out


def _select_area(src: _Inputs, area: Sequence[str], label: str) -> _Inputs:
    """Keep the districts ``area`` names and the residents inside them."""
    bnd = src.boundaries
    wanted = [str(a) for a in area]
    missing = sorted(set(wanted) - set(bnd["district_id"]))
    if missing:
        raise InputError(
            f"area district(s) {', '.join(missing)} not in the boundaries",
            file=label,
            column="area",
            hint=f"use ids of {', '.join(bnd['district_id'][:12])}",
        )
    bnd = bnd[bnd["district_id"].isin(wanted)].reset_index(drop=True)
    pop = src.residents
    inside = an.assign_to_areas(shapely.point_on_surface(pop.geometry.to_numpy()),
                                bnd.geometry.to_numpy()) >= 0  # fmt: skip
    if not inside.any():
        raise InputError("no residents inside the selected area", column="area",
                         hint="check the district ids")  # fmt: skip
    crs_used = pop.attrs.get("crs_in")
    pop = pop[inside].reset_index(drop=True)
    pop.attrs["crs_in"] = crs_used
    return _Inputs(bnd, src.facilities, pop, src.population_label, src.items)


@dataclass
class _Demand:
    """Stage 2 — residents placed on the network: one row per demand point (WGS84) with its
    metric point and cell, and the area (district) index of each demand point and facility."""

    frame: gpd.GeoDataFrame
    points: np.ndarray
    cells: np.ndarray
    area: np.ndarray
    facility_area: np.ndarray
    facilities_m: gpd.GeoDataFrame
    outside_facilities: int
    spread: str = "area"
    owner: np.ndarray | None = None
    polygons: np.ndarray | None = None
    homes: gpd.GeoDataFrame | None = None
    groups: GroupCounts | None = None  # persons of the groups the categories serve


#: How each spread is described in summary.json and the report.
SPREAD_TEXT = {
    "buildings": "residents polygons spread over their residential buildings by footprint × "
                 "floors (polygons without buildings: evenly over their area)",
    "area": f"residents polygons spread evenly over their area (grid ≤ {AREA_GRID_M:g} m), each "
            "point walking its own straight leg to the nearest street",
    "streets": f"residents polygons spread along the streets inside them (every ≤ {PIECE_M:g} "
               f"m; without streets a {GRID_M:g} m grid)",
}  # fmt: skip


def spread_method(spread, buildings, network, residents_from_osm: bool = False) -> str:
    """The spread asked for, checked; by default ``buildings`` where a buildings layer or an
    OpenStreetMap network file is at hand, else ``area`` — and ``streets`` for homes taken from
    OpenStreetMap, which are buildings already (each stays one point, as before)."""
    if spread is None and residents_from_osm:
        return "streets"
    if spread is None:
        osm = isinstance(network, str | Path) and network_format(network) == "osm"
        return "buildings" if buildings is not None or osm else "area"
    if spread not in SPREADS:
        raise InputError(f"unknown spread {spread!r}", column="--spread",
                         hint=f"use one of {', '.join(SPREADS)}")  # fmt: skip
    return spread


def residential_homes(buildings, buildings_crs, crs_in, network, method,
                      graph) -> gpd.GeoDataFrame | None:  # fmt: skip
    """Residential buildings in the graph's CRS with ``floors``: the buildings layer, else
    (for the ``buildings`` spread) the homes of the OpenStreetMap network file."""
    if buildings is not None:
        return read_buildings(buildings, crs=buildings_crs, default_crs=crs_in).to_crs(graph.crs)
    if method != "buildings" or not (isinstance(network, str | Path)
                                     and network_format(network) == "osm"):  # fmt: skip
        return None
    try:
        osm = read_osm_residents(str(network), population_total=1.0)
    except InputError:
        return None  # no home mapped: polygons are spread over their area
    if not osm["population_from"].iloc[0].endswith("(footprint × levels)"):
        return None  # landuse areas, not buildings
    osm = osm.to_crs(graph.crs)
    osm["floors"] = osm["population"] / osm.area  # only footprint × levels ratios matter
    return osm


def spread_over(geoms: np.ndarray, population: np.ndarray, graph: WalkGraph,
                homes: gpd.GeoDataFrame | None, method: str):
    """Residents geometries (graph CRS) spread into demand points by ``method``, over the
    residential buildings ``homes`` where given (:func:`hzspatial.population.spread_residents`)."""
    return spread_residents(
        geoms, population, graph,
        buildings=None if homes is None else homes.geometry.to_numpy(),
        floors=None if homes is None else homes["floors"].to_numpy(),
        method="streets" if method == "streets" else "area",
    )  # fmt: skip


def facility_areas(points: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Area index of each facility (graph CRS): one on an area's boundary line lies inside
    (within :data:`~hzspatial.population.BOUNDARY_TOLERANCE_M`); −1 outside every area."""
    return _with_edge_points(points, areas, an.assign_to_areas(points, areas),
                             BOUNDARY_TOLERANCE_M)  # fmt: skip


def demand_areas(points: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Area index of each demand point (graph CRS); points on or just outside an area's edge
    belong to it (:data:`EDGE_TOLERANCE_M`), −1 outside every area."""
    return _with_edge_points(points, areas, an.assign_to_areas(points, areas))


def demand_rows(residents: gpd.GeoDataFrame, spread, graph: WalkGraph,
                boundaries: gpd.GeoDataFrame, areas: np.ndarray):  # fmt: skip
    """The demand frame of spread residents (:func:`_demand_frame`) with each point's area
    index and ``district_id``."""
    frame = _demand_frame(residents, spread, graph.crs)
    area = demand_areas(spread.points, areas)
    frame["district_id"] = np.where(area >= 0, boundaries["district_id"].to_numpy()[area], None)
    return frame, area


def _own_areas(polygons: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """For each residents polygon, the index of the area with the same geometry (-1: none)."""
    own = np.full(len(polygons), -1)
    a, b = shapely.STRtree(areas).query(polygons, predicate="intersects")
    same = shapely.equals_exact(polygons[a], areas[b], tolerance=1e-6) | shapely.equals(
        polygons[a], areas[b])  # fmt: skip
    own[a[same]] = b[same]
    return own


def _same_file(a, b) -> bool:
    """Whether two inputs are the same file (one 社区 layer as residents and boundaries)."""
    try:
        return (isinstance(a, str | Path) and isinstance(b, str | Path)
                and Path(a).resolve() == Path(b).resolve())  # fmt: skip
    except OSError:
        return False


def _place_demand(
    src: _Inputs,
    graph: WalkGraph,
    buildings,
    buildings_crs,
    crs_in,
    method: str = "area",
    network=None,
    same_layer: bool = False,
) -> _Demand:
    """Spread residents polygons (``method``: :data:`hzspatial.population.SPREADS`) and
    assign demand points and facilities to areas. With ``same_layer`` (the residents are the
    boundaries' own polygons), every point of a polygon belongs to that polygon's area, so
    that each area's residents equal its recorded population exactly."""
    pop, fac, bnd = src.residents, src.facilities, src.boundaries
    homes = residential_homes(buildings, buildings_crs, crs_in, network, method, graph)
    pop_m = pop.to_crs(graph.crs).geometry.to_numpy()  # once: 1.5 M raster cells are 130 MB
    spread = spread_over(pop_m, pop["population"].to_numpy(dtype=float), graph, homes, method)
    spreads = np.isin(spread.how, ("street", "grid", "building", "area"))
    if spreads.any():
        logger.info("residents spread by %s: %d polygons over %d points — %d buildings, %d "
                    "along streets (≤ %g m apart), %d on a %g m grid, %d on a ≤ %g m area grid",
                    method, len(np.unique(spread.owner[spreads])), int(spreads.sum()),
                    int((spread.how == "building").sum()), int((spread.how == "street").sum()),
                    PIECE_M, int((spread.how == "grid").sum()), GRID_M,
                    int((spread.how == "area").sum()), AREA_GRID_M)  # fmt: skip
    areas = bnd.to_crs(graph.crs).geometry.to_numpy()
    frame, area = demand_rows(pop, spread, graph, bnd, areas)
    if same_layer and len(pop) == len(bnd):
        own = _own_areas(pop_m, areas)
        area = np.where(own[spread.owner] >= 0, own[spread.owner], area)
        frame["district_id"] = np.where(area >= 0, bnd["district_id"].to_numpy()[area], None)
    fac_m = fac.to_crs(graph.crs)
    fac_pts = fac_m.geometry.to_numpy()
    fac_area = facility_areas(fac_pts, areas)
    fac["district_id"] = np.where(fac_area >= 0, bnd["district_id"].to_numpy()[fac_area], None)
    outside = int((fac_area < 0).sum())
    if outside:
        logger.info("%d facilities lie outside the boundaries; they are kept and may serve "
                    "residents inside", outside)  # fmt: skip
    groups = demand_groups(frame, area, bnd, fac["category"].unique(), src.population_label,
                           src.residents.attrs.get("group_info"))  # fmt: skip
    return _Demand(frame, spread.points, spread.cells, area, fac_area, fac_m, outside, method,
                   spread.owner, pop_m, homes, groups)  # fmt: skip


def demand_groups(frame: pd.DataFrame, area: np.ndarray, bnd: gpd.GeoDataFrame, categories,
                  label: str = "the residents input",
                  given_info: Mapping | None = None) -> GroupCounts:  # fmt: skip
    """Persons of each group that ``categories`` serve at each demand point of ``frame``
    (its ``group_<id>`` columns where the input had age columns, else census shares of the
    point's area; :func:`hzspatial.groups.group_counts`)."""
    wanted = {served_group(str(c)).id for c in categories}
    given = {str(c)[6:]: frame[c].to_numpy(dtype=float) for c in frame.columns
             if str(c).startswith("group_")}  # fmt: skip
    return group_counts(frame["population"].to_numpy(dtype=float), given, area,
                        bnd["district_id"].to_numpy(), wanted, label, given_info)  # fmt: skip


@dataclass
class _Walk:
    """Categories in the run, their thresholds (minutes, metres) and subtype searches."""

    categories: list[str]
    minutes: dict[str, float]
    limits: dict[str, float]
    groups: dict[str, np.ndarray]


def _walk_limits(fac, stds, extra, category_minutes, minutes, speed_kmh, require_standards,
                 standards) -> _Walk:  # fmt: skip
    """Thresholds per category, checked against the standards catalogue."""
    categories = list(dict.fromkeys(fac["category"]))
    known = known_categories(extra)
    thresholds = {}
    for name, value in (category_minutes or {}).items():
        cid = resolve_category(name, known)
        if cid is None:
            raise InputError(
                f"threshold for unknown category {name!r}; known: {', '.join(known)}",
                column="--threshold",
                hint="use a category id or alias",
            )
        thresholds[cid] = float(value)
    if require_standards:
        covered_cats = {x.category for x in stds if x.evaluated}
        missing = [c for c in categories if c not in covered_cats]
        if missing:
            raise InputError(
                f"no standard for facility categor{'y' if len(missing) == 1 else 'ies'} "
                f"{', '.join(missing)} in the standards catalogue",
                file=str(standards),
                column="category",
                hint="add a [[standard]] for it to a --standards file, or pass "
                "--no-standards-check to report coverage only",
            )
    cat_minutes = {c: thresholds.get(c, float(minutes)) for c in categories}
    limits = {c: ct.minutes_to_metres(m, speed_kmh) for c, m in cat_minutes.items()}
    return _Walk(categories, cat_minutes, limits, subtype_groups(fac, stds, limits))


def draw_catchments(b: Built) -> None:
    """Catchment polygons of the facilities that have none yet (None): after a build, and
    for facilities an edit added, moved or whose threshold changed."""
    polys = b.eng.catchments
    missing = np.fromiter((p is None for p in polys), bool, len(polys))
    cats = b.src.facilities["category"].to_numpy()
    for cat in b.walk.categories:
        idx = np.flatnonzero(missing & (cats == cat))
        if len(idx):
            graph, eng = b.searched(cat)
            polys[idx] = ct.facility_catchments(graph, eng.facility_snap.take(idx),
                                                b.walk.limits[cat])  # fmt: skip


def subtype_groups(fac: pd.DataFrame, stds, limits: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Facilities searched as a group of their own (a standard on some subtypes of a
    category, e.g. day-care centres among elderly care): distance key → mask over ``fac``."""
    cat, sub = fac["category"].to_numpy(), fac["subtype"].to_numpy()
    return {
        s.distance_key: mask
        for s in stds
        if s.evaluated and s.subtypes and s.category in limits
        and (mask := (cat == s.category)
             & np.fromiter((x in s.subtypes for x in sub), bool, len(sub))).any()
    }  # fmt: skip


def _search(graph, src: _Inputs, dem: _Demand, walk: _Walk, stds, max_snap_m, tiles, submit,
            modes: Modes | None = None):  # fmt: skip
    """Stage 3 — bounded multi-source searches: per category the nearest facility of every
    demand point, pairs within the threshold and each facility's catchment; each category on
    the graph of its travel mode (``modes``), merged into one output."""
    fac = src.facilities
    cats = fac["category"].to_numpy()
    modes = modes or Modes({c: "walk" for c in walk.categories}, "walk")
    eng = _search_mode(graph, src, dem, _walk_of(walk, modes, modes.run, cats), stds,
                       max_snap_m, tiles, submit)  # fmt: skip
    eng.facility_ok = eng.facility_ok.copy()  # not the snaps' own array: merged below
    for m, g in modes.graphs.items():
        part = _search_mode(g, src, dem, _walk_of(walk, modes, m, cats), stds, max_snap_m,
                            tiles, submit)  # fmt: skip
        mine = np.isin(cats, [c for c, x in modes.of.items() if x == m])
        eng.facility_ok[mine] = part.facility_ok[mine]
        eng.catchments[mine] = part.catchments[mine]  # tiled runs draw them as they search
        for table in ("distance_m", "nearest", "pairs", "node"):
            getattr(eng, table).update(getattr(part, table))
        modes.engines[m] = part
        lost = eng.demand_ok & ~part.demand_ok
        if lost.any():
            ids = dem.frame.loc[lost, "demand_id"].astype(str).tolist()
            warnings.warn(
                f"{src.population_label}: {len(ids)} resident locations lie farther than "
                f"{max_snap_m:g} m from the ways of {mode_label(m)}; for "
                f"{', '.join(c for c, x in modes.of.items() if x == m)} they count as not "
                f"reached ({', '.join(ids[:8])}{'…' if len(ids) > 8 else ''})",
                DataWarning,
                stacklevel=3,
            )
    pop = dem.frame
    if not eng.demand_ok.any():
        raise InputError(
            f"no resident location lies within {max_snap_m:g} m of the network",
            file=src.population_label,
            hint="check that network and residents overlap and share a coordinate system",
        )
    if (~eng.demand_ok).any():
        ids = pop.loc[~eng.demand_ok, "demand_id"].astype(str).tolist()
        warnings.warn(
            f"{src.population_label}: {len(ids)} resident locations farther than "
            f"{max_snap_m:g} m from the network are excluded ({', '.join(ids[:8])}"
            f"{'…' if len(ids) > 8 else ''})",
            DataWarning,
            stacklevel=3,
        )
    fac["snapped"] = eng.facility_ok
    if (~eng.facility_ok).any():
        ids = fac.loc[~eng.facility_ok, "facility_id"].astype(str).tolist()
        warnings.warn(
            f"{len(ids)} facilities farther than {max_snap_m:g} m from the network are "
            f"excluded: {', '.join(ids[:8])}{'…' if len(ids) > 8 else ''}",
            DataWarning,
            stacklevel=3,
        )
    return eng


def _walk_of(walk: _Walk, modes: Modes, mode: str, cats: np.ndarray) -> _Walk:
    """The part of ``walk`` whose categories are reached by ``mode`` (with their subtype
    searches)."""
    mine = [c for c in walk.categories if modes.of.get(c, modes.run) == mode]
    return _Walk(mine, {c: walk.minutes[c] for c in mine}, {c: walk.limits[c] for c in mine},
                 {k: v for k, v in walk.groups.items() if v.any() and cats[v][0] in mine})


def _search_mode(graph, src: _Inputs, dem: _Demand, walk: _Walk, stds, max_snap_m, tiles,
                 submit) -> EngineOutput:  # fmt: skip
    """The searches of ``walk``'s categories on one graph, whole or tiled by district."""
    fac = src.facilities
    inp = EngineInput(graph, dem.facilities_m.geometry.to_numpy(), fac["category"].to_numpy(),
                      dem.points, walk.limits, max_snap_m, groups=walk.groups)  # fmt: skip
    if tiles is None:  # catchment polygons are drawn when a result is made (finish)
        eng = compute(inp, catchment_of=np.zeros(len(fac), dtype=bool))
        eng.catchments = np.full(len(fac), None, dtype=object)
        return eng
    if tiles == "district":
        areas = src.boundaries.to_crs(graph.crs).geometry.to_numpy()
        reach = [x.distance_m for x in stds if x.evaluated and x.distance_m]
        buffer_m = max([*walk.limits.values(), *reach, max_snap_m]) + 50.0
        return compute_tiled(inp, areas, _nearest_area(dem.points, areas, dem.area),
                             _nearest_area(dem.facilities_m.geometry.to_numpy(), areas,
                                           dem.facility_area), buffer_m, submit=submit)  # fmt: skip
    raise InputError(f"unknown tiling {tiles!r}", column="tiles", hint="use 'district'")


@dataclass
class _PerCategory:
    """Coverage per category: summary dicts, catchment polygons and pairs within reach."""

    summary: dict[str, dict]
    catchments: gpd.GeoDataFrame
    pairs: dict[str, Pairs]


def _per_category(graph, fac, dem: _Demand, walk: _Walk, eng, people, max_snap_m) -> _PerCategory:
    """Distances, coverage columns and statistics per category; catchment polygons."""
    pop = dem.frame
    known = known_categories(list(walk.categories))
    summary, frames, pairs = {}, [], {}
    in_reach, served = np.zeros(len(fac)), np.zeros(len(fac))
    for cat in walk.categories:
        sel = np.flatnonzero(fac["category"].to_numpy() == cat)
        cat_min, limit = walk.minutes[cat], walk.limits[cat]
        if not eng.facility_ok[sel].any():
            raise InputError(
                f"no {cat} facility lies within {max_snap_m:g} m of the network",
                file=str(fac["input"].iloc[sel[0]]),
                column="lon/lat",
                hint="check the facilities' coordinates and --crs-in",
            )
        dist, which = eng.distance_m[cat], eng.nearest[cat]
        pop[f"dist_{cat}_m"] = dist
        pop[f"time_{cat}_min"] = dist * (cat_min / limit)  # equivalent metres are minutes × speed
        # categorical: a facility's id once, not once per demand point (640,000 raster cells
        # held 40 MB of ids per category)
        pop[f"nearest_{cat}"] = pd.Categorical(np.where(
            which >= 0, fac["facility_id"].to_numpy()[np.maximum(which, 0)], None))
        pop[cov_column(cat, cat_min)] = dist <= limit
        summary[cat] = {
            "label": known[cat].label if cat in known else cat,
            "facilities": int(eng.facility_ok[sel].sum()),
            "threshold_minutes": cat_min,
            "threshold_m": limit,
            **an.coverage_stats(dist, people, limit),
        }
        frames.append(ct.catchments_gdf(fac.iloc[sel], eng.catchments[sel], graph.crs,
                                        cat_min, limit))  # fmt: skip
        pairs[cat] = Pairs(*eng.pairs[cat], limit)
        di, fj, _ = eng.pairs[cat]
        in_reach += np.bincount(fj, weights=people[di], minlength=len(fac))
        near = (which >= 0) & (dist <= limit)
        served += np.bincount(which[near], weights=people[near], minlength=len(fac))
    fac["residents_in_reach"] = in_reach
    fac["residents_served"] = served
    catchments = pd.concat(frames, ignore_index=True).to_crs(4326)
    return _PerCategory(summary, catchments, pairs)


def served_people(groups: GroupCounts | None, categories: Iterable[str],
                  demand_ok: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    """Per category serving a group whose persons are known: those persons per demand point
    (0 off the network). Categories serving everyone, or a group not known, are left out
    (they count all residents)."""
    out = {}
    for c in categories:
        g = served_group(c).id
        if g != ALL and groups is not None and g in groups.persons:
            out[c] = groups.persons[g] * demand_ok
    return out


def _served_summary(summary: dict, dem: _Demand, eng, walk: _Walk, served: dict,
                    people: np.ndarray) -> None:  # fmt: skip
    """Each category's ``serves`` block: its group, how many of them, how many reach it, and
    where the numbers came from; the demand frame gets the groups' persons per point."""
    for c, info in summary.items():
        g = served_group(c)
        known = dem.groups.info.get(g.id, {}) if dem.groups is not None else {}
        if c in served:
            dem.frame[f"persons_{g.id}"] = dem.groups.persons[g.id]
            stats = an.coverage_stats(eng.distance_m[c], served[c], walk.limits[c])
            covered, share, persons = (stats["covered_population"], stats["coverage_share"],
                                       float(served[c].sum()))  # fmt: skip
        else:
            covered, share = info["covered_population"], info["coverage_share"]
            persons = float(people.sum())
        label = g.label if c in served else builtin_groups()[ALL].label
        info["serves"] = {
            "group": g.id if c in served else ALL, "label": label,
            "persons": persons, "covered": covered, "share": share,
            "source": known.get("source", "all residents"),
            "estimated": bool(known.get("estimated", False)) and c in served,
            "method": known.get("method", "") if c in served else "",
        }  # fmt: skip


def _where_set(standards, bnd: gpd.GeoDataFrame, boundaries) -> dict:
    """Whether the study area is the catalogue's whole jurisdiction (``whole_city``) and, if
    it lies outside it, the jurisdiction's name (``outside``; warned once)."""
    name, key = jurisdiction_of(standards)
    path = bundled_boundary(key) if key else None
    if path is None:
        return {"whole_city": False, "outside": ""}
    jur = shapely.union_all(gpd.read_file(path, engine="pyogrio").geometry.to_numpy())
    study = shapely.union_all(bnd.geometry.to_numpy())
    c = shapely.get_coordinates(study)
    utm = _crs.metric_crs(c[:, 0], c[:, 1])
    a, b = gpd.GeoSeries([study, shapely.intersection(study, jur)], crs=4326).to_crs(utm).area
    outside = name if a > 0 and b / a < 0.5 else ""
    if outside:
        warnings.warn(f"the study area lies outside {name}, whose plan the standards catalogue "
                      f"{standards!r} holds: its targets are shown for reference, not judged "
                      "(national rules still are) — pass --standards with your city's "
                      "catalogue", DataWarning, stacklevel=3)  # fmt: skip
    whole = isinstance(boundaries, str | Path) and _same_file(
        boundaries, demo_paths()["boundaries"]
    )
    out = {"whole_city": bool(whole and not bnd.attrs.get("inputs_extent")), "outside": outside}
    bnd.attrs["jurisdiction"] = {"name": name, "study_area_outside": bool(outside),
                                 "whole_jurisdiction": out["whole_city"]}  # fmt: skip
    return out


def _evaluate(stds, src: _Inputs, dem: _Demand, walk: _Walk, eng, cat: _PerCategory, people,
              pph, whole_city: bool = False, outside: str = "",
              served: dict | None = None, modes: Mapping[str, str] | None = None,
              ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:  # fmt: skip
    """Stage 4 — the standards per area and for the study area, and 2SFCA accessibility per
    demand point (added to the demand frame as ``access_<standard>``)."""
    bnd, pop = src.boundaries, dem.frame
    logger.info("evaluating %d standards", len(stds))
    ev = evaluate_standards(stds, StandardsInput(
        facilities=src.facilities, facility_area=dem.facility_area,
        area_ids=bnd["district_id"].to_numpy(), area_names=bnd["name"].to_numpy(),
        demand_area=dem.area, people=people,
        distance_m={c: pop[f"dist_{c}_m"].to_numpy() for c in walk.categories}
        | {k: eng.distance_m[k] for k in walk.groups}, pairs=cat.pairs,
        persons_per_household=pph, area_level=bnd.attrs.get("level", "district"),
        whole_city=whole_city, outside=outside, served=dict(served or {}), modes=modes or {},
    ))  # fmt: skip
    for sid, acc in ev.access.items():
        pop[f"access_{sid}"] = acc
    return ev.ratios, ev.access


def _polygon_district_codes(dem: _Demand, district: np.ndarray) -> np.ndarray | None:
    """One code per (residents polygon, district) pair of each demand point."""
    if dem.owner is None:
        return None
    d_codes, _ = pd.factorize(pd.Series(district, dtype=object), use_na_sentinel=False)
    return pd.factorize(dem.owner.astype(np.int64) * (int(d_codes.max()) + 2) + d_codes)[0]


def _whole_polygons(dem: _Demand, sel: np.ndarray, people: np.ndarray, district: np.ndarray,
                    codes: np.ndarray | None = None):  # fmt: skip
    """The selected demand points' cells, points, residents, districts and location counts,
    with every residents polygon whose points are all selected (and in one district) given
    as the polygon itself and one point: a community spread over 500 grid points that is
    wholly underserved is one shape to dissolve, not 500. ``codes``:
    :func:`_polygon_district_codes` (computed once per run)."""
    idx = np.flatnonzero(sel)
    if dem.owner is None or not len(idx):
        return dem.cells[idx], dem.points[idx], people[idx], district[idx], None
    if codes is None:
        codes = _polygon_district_codes(dem, district)
    everywhere = np.bincount(codes)
    chosen = np.bincount(codes[idx], minlength=len(everywhere))
    per_owner = np.bincount(dem.owner)
    whole = (
        (chosen[codes[idx]] == everywhere[codes[idx]])
        & (everywhere[codes[idx]] == per_owner[dem.owner[idx]])
        & (everywhere[codes[idx]] > 1)
    )
    keep = idx[~whole]
    merged = idx[whole]
    first = merged[np.unique(codes[merged], return_index=True)[1]]
    sums = np.bincount(codes[merged], weights=people[merged], minlength=len(everywhere))
    cells = dem.cells[keep]
    square = dem.frame["placed"].to_numpy()[keep] == "area"  # grid squares: clipped to draw
    cells[square] = shapely.intersection(cells[square], dem.polygons[dem.owner[keep[square]]])
    cells = np.concatenate([cells, dem.polygons[dem.owner[first]]])
    points = np.concatenate([dem.points[keep], dem.points[first]])
    ppl = np.concatenate([people[keep], sums[codes[first]]])
    dist = np.concatenate([district[keep], district[first]])
    counts = np.concatenate([np.ones(len(keep), np.int64), everywhere[codes[first]]])
    return cells, points, ppl, dist, counts


def underserved_masks(
    category: str,
    covered: np.ndarray,
    access: Mapping[str, np.ndarray],
    by_id: Mapping,
    people: np.ndarray,
):
    """Demand points of one category beyond reach (``far``), in reach but below a catchment
    standard (``short``), and per such standard the points below it (``missed``)."""
    short = np.zeros(len(covered), bool)
    missed = []
    for sid, acc in access.items():
        std = by_id[sid]
        if std.category == category:
            low = covered & (acc < std.target)
            short |= low
            missed.append((std, low))
    return ~covered & (people > 0), short & (people > 0), missed


#: Above this many demand points the underserved areas are traced one category and kind at a
#: time (memory: 0.2 GB less at 1.5 M raster cells, 2.5 s more).
DISSOLVE_ALONE_ABOVE = 500_000


def _underserved(stds, bnd, dem: _Demand, cat: _PerCategory, access, people, served=None,
                 areas: bool = True):  # fmt: skip
    """Underserved residents per category, each counted once: the areas (layer) and the table
    per category and area (:func:`hzspatial.analysis.underserved_table`) — in the persons
    each category serves (``served``; all residents for the others)."""
    pop = dem.frame
    by_id = {s.id: s for s in stds}
    jobs, tables = [], []
    district = pop["district_id"].to_numpy()
    for c, info in cat.summary.items():
        counted = (served or {}).get(c, people)
        covered = pop[cov_column(c, info["threshold_minutes"])].to_numpy()
        far, short, missed = underserved_masks(c, covered, access, by_id, counted)
        jobs.append((counted, far, c, info["threshold_m"], "no_facility",
                     f"no facility within {info['threshold_m']:.0f} m"))  # fmt: skip
        if short.any():
            why = "in reach, catchment " + "; ".join(
                f"{s.id} below {s.target:g} {s.unit}" for s, _ in missed
            )
            jobs.append((counted, short, c, info["threshold_m"], "below_standard", why))
        table = an.underserved_table(c, dem.area, counted, far, short, missed, bnd)
        table.insert(1, "counted", info["serves"]["label"])
        tables.append(table)
    codes = _polygon_district_codes(dem, district)

    def dissolve(job):
        counted, sel, *rest = job
        *geo, counts = _whole_polygons(dem, sel, counted, district, codes)
        return an.underserved_areas(*geo, *rest, counts=counts)

    # GEOS releases the GIL: the dissolves run side by side on the machine's cores — one at a
    # time for very many points, each of whose rasters holds ~0.2 GB while it is traced
    side = 1 if len(pop) > DISSOLVE_ALONE_ABOVE else max(1, min(os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(side) as pool:
        rows = [row for part in pool.map(dissolve, jobs if areas else []) for row in part]
    layer = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=dem.facilities_m.crs).to_crs(4326)
        if rows
        else gpd.GeoDataFrame(
            {"category": [], "district_id": [], "kind": [], "residents": [], "reason": []},
            geometry=[], crs=4326,
        )
    )  # fmt: skip
    # "residents" are the persons the category serves (its group): the layer says which
    layer.insert(1, "counted", layer["category"].map(
        {c: info["serves"]["label"] for c, info in cat.summary.items()}).astype(object))
    return layer, pd.concat(tables, ignore_index=True)


def _assemble(src: _Inputs, graph, dem: _Demand, cat: _PerCategory, ratios, under, under_table,
              people, stds, *, minutes, speed_kmh, metres, pph, network, boundaries,
              timings, rules, modes: Modes | None = None) -> CoverageResult:  # fmt: skip
    """Stage 5 — tables, provenance and ``summary.json`` into a :class:`CoverageResult`."""
    bnd, fac, pop, residents = src.boundaries, src.facilities, dem.frame, src.residents
    categories = list(cat.summary)
    districts = _district_table(bnd, pop, fac, people, categories, cat.summary, ratios)
    _check_against_boundaries(districts, src.population_label)
    inputs = _coverage_inputs(src, graph, network, boundaries,
                              list(modes.graphs.values()) if modes else [])  # fmt: skip
    labels = sorted({x for i in inputs for x in i["labels"]})
    by_area = _area_table(residents, pop, people, categories, cat.summary)
    study = ratios[ratios["district_id"] == STUDY_AREA]
    summary = {
        "version": __version__,
        "population": int(round(float(people.sum()))),
        "threshold_minutes": float(minutes),
        "speed_kmh": float(speed_kmh),
        "threshold_m": metres,
        "persons_per_household": pph,
        "network": _network_summary(graph, rules),
        "travel": travel_summary(graph, modes),
        "categories": cat.summary,
        "districts": [
            _district_summary(r, categories, ratios) for r in districts.to_dict("records")
        ],  # fmt: skip
        "standards": [_standard_summary(r) for r in study.to_dict("records")],
        "underserved": _underserved_summary(under_table),
        "data_labels": labels,
        "synthetic_inputs": [
            f"{i['role']} ({Path(i['path']).name})" for i in inputs if i["synthetic"]
        ],
        "boundary_level": bnd.attrs.get("level", "district"),
        "boundary_population_from": bnd.attrs.get("population_from"),
        "standards_jurisdiction": bnd.attrs.get("jurisdiction"),
        "residents_spread": {
            "method": dem.spread,
            "description": SPREAD_TEXT[dem.spread],
            "points": {k: int(v) for k, v in pd.Series(dem.frame["placed"]).value_counts().items()},
        },  # fmt: skip
        "outside_facilities": dem.outside_facilities,
        "inputs": inputs,
    }
    return CoverageResult(
        summary=summary,
        demand=pop,
        facilities=fac,
        catchments=cat.catchments,
        underserved=under,
        districts=districts,
        ratios=ratios,
        boundaries=bnd,
        standards=tuple(stds),
        by_area=by_area,
        residents=residents,
        underserved_table=under_table,
        streets=gpd.GeoSeries(graph.edge_geometry, crs=graph.crs),
        timings=timings,
    )


def travel_summary(graph: WalkGraph, modes: Modes | None = None) -> dict:
    """``summary.json``'s ``travel``: how minutes were measured — mode, DEM, direction, what
    the costs took into account; with categories reached by several modes, ``categories``:
    each one's mode and what its minutes mean."""
    if graph.costs is None:
        out = {"mode": "walk", "label": mode_label("walk"), "dem": None,
               "direction": "either way (flat: the same)",
               "note": "walking on the flat: every street at the walking speed"}  # fmt: skip
    else:
        out = {"dem": graph.costs.dem or None, **graph.costs.summary,
               "note": minutes_note(graph.costs)}
    if modes is not None and modes.mixed:
        graphs = {modes.run: graph, **modes.graphs}
        out["categories"] = {
            c: {"mode": m, "label": mode_label(m), "note": minutes_note(graphs[m].costs)}
            for c, m in modes.of.items()
        }  # fmt: skip
        out["modes"] = {m: ({"dem": g.costs.dem or None, **g.costs.summary}
                            if g.costs is not None else {"mode": "walk", "dem": None})
                        for m, g in graphs.items()}  # fmt: skip
    return out


def _coverage_inputs(src: _Inputs, graph: WalkGraph, network, boundaries,
                     other_graphs: Sequence[WalkGraph] = ()) -> list[dict]:  # fmt: skip
    """The inputs of a coverage result: role, path, provenance labels, coordinate system,
    ``synthetic`` and, for files, SHA-256 (``other_graphs``: other modes', for their DEM)."""
    bnd, fac, residents = src.boundaries, src.facilities, src.residents
    fac_crs = fac.attrs["crs_in"]
    fac_labels = fac.groupby("input")["source"].agg(lambda v: sorted({x for x in v if x}))
    inputs = [
        {"role": "network", "path": input_label(network) if not isinstance(network, WalkGraph)
         else "(graph object)", "labels": sorted(graph.labels), "crs": graph.crs.to_string()},
        *({"role": "facilities", "path": input_label(i.path),
           "labels": fac_labels.get(input_label(i.path), []),
           "crs": fac_crs.get(input_label(i.path))} for i in src.items),
        {"role": "population", "path": src.population_label,
         "labels": sorted({x for x in residents["source"] if x}),
         "crs": residents.attrs.get("crs_in")},
        {"role": "boundaries", "path": "(the inputs' extent)" if bnd.attrs.get("inputs_extent")
         else input_label(boundaries), "labels": [],
         "level": bnd.attrs.get("level", "district")},
    ]  # fmt: skip
    walked = [g for g in (graph, *other_graphs) if g.costs is not None and g.costs.dem]
    if walked:
        inputs.append({"role": "dem", "path": walked[0].costs.dem,
                       "labels": list(walked[0].costs.summary.get("labels", []))})  # fmt: skip
    for i in inputs:
        i["synthetic"] = any("synthetic" in x for x in i["labels"])
        if Path(i["path"]).is_file():
            i["sha256"] = file_sha256(i["path"])
    return inputs


def _network_summary(graph: WalkGraph, rules) -> dict:
    """The network's size (nodes, edges, km), CRS, what building it dropped and the
    snapping rules, for ``summary.json``."""
    return {
        "nodes": graph.n_nodes,
        "edges": graph.n_edges,
        "length_km": float(graph.edge_length.sum() / 1000),
        "crs": graph.crs.to_string(),
        "dropped_nodes": graph.dropped_nodes,
        "dropped_length_km": graph.dropped_length_m / 1000,
        "edges_not_joined": int((~graph.joinable).sum()),
        "snapping_rules": rules,
    }


def _underserved_summary(table: pd.DataFrame) -> dict:
    """Per category, the study area's underserved residents, counted once, by reason."""
    cols = ["underserved", "no_facility", "below_standard"]
    total = table.groupby("category", sort=False)[cols].sum()
    return {c: {k: float(v) for k, v in row.items()} for c, row in total.iterrows()}


def _osm_source(network) -> str:
    """The network's OpenStreetMap file, for facilities / residents from its tags."""
    if isinstance(network, str | Path) and network_format(network) == "osm":
        return str(network)
    raise InputError(
        "facilities or residents from OpenStreetMap need --network to be an .osm.pbf/.osm file",
        column="--facilities-from-osm",
        hint="pass the OpenStreetMap extract as --network",
    )


def _read_all_facilities(items, crs_in, extra, osm_file) -> gpd.GeoDataFrame:
    """Facility files and, with ``osm_file``, the facilities tagged in it (``input`` names
    each source; ``attrs["crs_in"]`` the coordinate system of each)."""
    frames, used, declared = [], {}, {}
    if items:
        files = read_facility_inputs(items, crs_in, extra)
        frames.append(files)
        used |= files.attrs["crs_in"]
        declared |= files.attrs["crs_declared"]
    if osm_file is not None:
        osm = read_osm_facilities(osm_file)
        if osm.empty:
            raise InputError("no facility tagged in the extract", file=osm_file,
                             hint="see config/osm_facilities.toml for the tags read")  # fmt: skip
        osm["input"] = f"{osm_file} (OpenStreetMap tags)"
        frames.append(osm)
        used[osm["input"].iloc[0]] = "wgs84"
    fac = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)
    fac.attrs["crs_in"] = used
    fac.attrs["crs_declared"] = declared
    return fac


def _demand_frame(residents: gpd.GeoDataFrame, spread, crs) -> gpd.GeoDataFrame:
    """One row per demand point (WGS84 points): the residents row's attributes, ``area_id``
    (the residents feature it belongs to), its share of the population and ``placed``
    (street / grid / polygon / point)."""
    rows = residents.drop(columns=residents.geometry.name).iloc[spread.owner]
    rows = rows.reset_index(drop=True)
    many = np.bincount(spread.owner, minlength=len(residents))[spread.owner] > 1
    seq = np.arange(len(spread.owner)) - np.searchsorted(spread.owner, spread.owner)
    rows["area_id"] = rows["demand_id"]
    if many.any():  # the points of a spread feature: "<id>#1", "<id>#2", …
        ids = rows["demand_id"].to_numpy(dtype=object).copy()
        ids[many] = (rows["demand_id"][many].astype(str) + "#"
                     + (seq[many] + 1).astype(str)).to_numpy()  # fmt: skip
        rows["demand_id"] = ids
    rows["population"] = spread.population
    feature_pop = residents["population"].to_numpy(dtype=float)[spread.owner]
    for col in [c for c in rows.columns if str(c).startswith("group_")]:
        with np.errstate(divide="ignore", invalid="ignore"):  # a point's part of its feature's
            part = np.where(feature_pop > 0, spread.population / feature_pop, 0.0)
        rows[col] = rows[col].to_numpy(dtype=float) * part
    rows["placed"] = spread.how
    # a residents point is its own demand point: its WGS84 geometry is the residents' own (no
    # second copy of 1.5 M raster cells made by projecting back); the others are projected
    own = (spread.how == "point") if residents.crs is not None and residents.crs.equals(
        "EPSG:4326") else np.zeros(len(spread.how), bool)  # fmt: skip
    pts = np.empty(len(spread.how), dtype=object)
    pts[own] = residents.geometry.to_numpy()[spread.owner[own]]
    if not own.all():
        pts[~own] = gpd.GeoSeries(spread.points[~own], crs=crs).to_crs(4326).to_numpy()
    return gpd.GeoDataFrame(rows, geometry=pts, crs=4326)


def _area_table(residents, demand, people, categories, cat_summary) -> pd.DataFrame:
    """``coverage_by_area.csv``: per residents feature (community, block, point) its residents
    analysed and, per category, the residents and share within the threshold."""
    owner = pd.Index(residents["demand_id"]).get_indexer(demand["area_id"])
    n = len(residents)
    total = np.bincount(owner, weights=people, minlength=n)
    out = pd.DataFrame({
        "area_id": residents["demand_id"].to_numpy(),
        "name": residents["name"].to_numpy(),
        "population": residents["population"].to_numpy(dtype=float),
        "residents_analysed": total,
        "demand_points": np.bincount(owner, minlength=n),
    })  # fmt: skip
    first = pd.Series(demand["district_id"].to_numpy()).groupby(owner).first()
    out["district_id"] = first.reindex(range(n)).to_numpy()
    for cat in categories:
        cov = demand[cov_column(cat, cat_summary[cat]["threshold_minutes"])].to_numpy()
        covered = np.bincount(owner, weights=people * cov, minlength=n)
        out[f"{cat}_covered"] = covered
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{cat}_share"] = np.where(total > 0, covered / total, np.nan)
    return out


def _check_datums(graph: WalkGraph, fac: gpd.GeoDataFrame, pop: gpd.GeoDataFrame,
                  pop_label: str, strict: bool, network_shift: bool) -> None:  # fmt: skip
    """Warn (or with ``strict`` raise) when facilities or residents sit on the streets as if
    they were in another coordinate system than the one they were read in — each file judged
    on its own points; files whose system the user declared are not second-guessed."""
    checks = [(label, "facilities", fac.attrs["crs_in"].get(label, "wgs84"),
               grp.geometry.to_numpy(), fac.attrs.get("crs_declared", {}).get(label, False))
              for label, grp in fac.groupby("input", sort=False)]  # fmt: skip
    checks.append((pop_label, "population", pop.attrs.get("crs_in", "wgs84"),
                   pop.geometry.to_numpy(), pop.attrs.get("crs_how") == "declared"))  # fmt: skip
    warn_datums(graph, checks, strict, network_shift)


def _check_overlaps(pop: gpd.GeoDataFrame, label: str, metric_crs) -> None:
    """Warn about residents counted twice: identical features, or polygons overlapping by
    more than ``overlap_share`` of the smaller one (``config/checks.toml``; areas measured in
    ``metric_crs``, the network's)."""
    geoms = pop.geometry.to_numpy()
    wkb = pd.Series(shapely.to_wkb(geoms, hex=True))
    key = wkb + "|" + pop["population"].astype(str).to_numpy()
    dup = key.duplicated(keep="first").to_numpy()
    if dup.any():
        ids = pop.loc[dup, "demand_id"].astype(str).tolist()
        warnings.warn(
            f"{label}: {len(ids)} residents features repeat an earlier one exactly "
            f"({', '.join(ids[:5])}{' …' if len(ids) > 5 else ''}); their residents are "
            "counted twice — remove the copies",
            DataWarning,
            stacklevel=3,
        )
    areal = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (3, 6)) & ~dup)
    if len(areal) < 2:
        return
    metric = gpd.GeoSeries(geoms[areal], crs=4326).to_crs(metric_crs).to_numpy()
    a, b, share = overlaps(metric)
    if not len(a):
        return
    over = share > load("checks.toml")["overlap_share"]
    if over.any():
        pairs = [f"{pop['demand_id'].iat[areal[i]]}/{pop['demand_id'].iat[areal[j]]}"
                 for i, j in zip(a[over][:3], b[over][:3], strict=True)]  # fmt: skip
        warnings.warn(f"{label}: {int(over.sum())} pairs of residents polygons overlap "
                      f"({', '.join(pairs)}{' …' if over.sum() > 3 else ''}); people in the "
                      "overlap are counted in both", DataWarning, stacklevel=3)  # fmt: skip


def _check_against_boundaries(districts: pd.DataFrame, label: str) -> None:
    """Warn where the residents analysed exceed what the boundaries record by more than
    ``residents_over_boundary_factor`` (``config/checks.toml``)."""
    factor = load("checks.toml")["residents_over_boundary_factor"]
    rec = districts["census_population"].astype(float)
    high = districts[(rec > 0) & (districts["residents_analysed"] > factor * rec)]
    for r in high.itertuples():
        warnings.warn(
            f"{label}: {r.residents_analysed:,.0f} residents analysed in {r.name} "
            f"({r.district_id}), {r.residents_analysed / r.census_population:.1f}× the "
            f"{r.census_population:,.0f} its boundaries record — check for overlapping or "
            "repeated blocks, households given as persons, or a figure for a larger area",
            DataWarning,
            stacklevel=3,
        )


#: Demand points this close to an area (metres) belong to it: residents spread over a
#: community's boundary street lie on the boundary, not inside (the readers accept residents
#: up to 50 m outside the study area, for the same reason).
EDGE_TOLERANCE_M = 50.0


def _with_edge_points(points: np.ndarray, areas: np.ndarray, assigned: np.ndarray,
                      tolerance_m: float = EDGE_TOLERANCE_M) -> np.ndarray:  # fmt: skip
    """``assigned`` with points on or within ``tolerance_m`` outside an area's edge given the
    nearest area."""
    out = assigned.copy()
    miss = np.flatnonzero(out < 0)
    if len(miss) and len(areas):
        pi, ai = shapely.STRtree(areas).query_nearest(points[miss], max_distance=tolerance_m,
                                                       all_matches=False)  # fmt: skip
        out[miss[pi]] = ai
    return out


def _nearest_area(points: np.ndarray, areas: np.ndarray, assigned: np.ndarray) -> np.ndarray:
    """``assigned`` with points outside every area given the nearest one."""
    out = assigned.copy()
    miss = np.flatnonzero(out < 0)
    if len(miss):
        out[miss] = shapely.STRtree(areas).query_nearest(points[miss], all_matches=False)[1]
    return out


def _check_boundaries_cover(graph: WalkGraph, bnd: gpd.GeoDataFrame, path) -> None:
    """Raise when the boundaries miss the network (boundaries elsewhere, or in another
    coordinate system); when they cover part of it — a few 社区 inside a city extract, the
    normal case — say so: the streets beyond are walked on, residents there not analysed."""
    area = shapely.union_all(bnd.to_crs(graph.crs).geometry.to_numpy())
    step = max(1, graph.n_nodes // 20_000)
    xy = graph.node_xy[::step]
    within = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    inside = within.mean()
    near = shapely.contains_xy(shapely.buffer(area, 20.0), xy[:, 0], xy[:, 1])
    if not near.any():  # no street in or along them: boundaries elsewhere (or a wrong system)
        net = gpd.GeoSeries([shapely.Point(np.median(xy, axis=0))], crs=graph.crs).to_crs(4326)
        b = shapely.point_on_surface(shapely.union_all(bnd.geometry.to_numpy()))
        raise InputError(
            f"the boundaries and the network do not overlap (the network lies around lon "
            f"{net.x.iloc[0]:.4f}, lat {net.y.iloc[0]:.4f}; the boundaries around lon "
            f"{b.x:.4f}, lat {b.y:.4f})",
            file=str(path),
            hint="check the coordinate system of each (--network-crs, --boundaries-crs), or "
            "pass --boundaries of the network's area",
        )
    if inside < 0.5:
        logger.info(
            "%s: the boundaries cover %.0f%% of the network's nodes: residents inside "
            "them are analysed, the streets beyond are walked on",
            path,
            100 * inside,
        )


def _district_table(bnd, pop, fac, people, categories, cat_summary, ratios) -> pd.DataFrame:
    """``coverage_by_district.csv``: districts holding analysed residents, in boundary order."""
    rows = []
    for i, d in enumerate(bnd["district_id"]):
        in_d = (pop["district_id"] == d).to_numpy()
        if not in_d.any():
            continue
        census = bnd.loc[i, "population"]
        row = {
            "district_id": d,
            "name": bnd.loc[i, "name"],
            "residents_analysed": float(people[in_d].sum()),
            "census_population": None if pd.isna(census) else float(census),
            "census_note": "population unknown" if pd.isna(census) else "",
        }
        for cat in categories:
            s = an.coverage_stats(pop[f"dist_{cat}_m"].to_numpy()[in_d], people[in_d],
                                  cat_summary[cat]["threshold_m"])  # fmt: skip
            row[f"{cat}_facilities"] = int(
                ((fac["category"] == cat) & (fac["district_id"] == d) & fac["snapped"]).sum()
            )
            row[f"{cat}_covered"] = s["covered_population"]
            row[f"{cat}_uncovered"] = float(people[in_d].sum()) - s["covered_population"]
            row[f"{cat}_coverage_share"] = s["coverage_share"]
            row[f"{cat}_median_distance_m"] = s["median_distance_m"]
            gid = cat_summary[cat]["serves"]["group"]
            if gid != ALL:  # the persons it serves: the group
                gp = pop[f"persons_{gid}"].to_numpy(dtype=float)[in_d] * (people[in_d] > 0)
                g = an.coverage_stats(pop[f"dist_{cat}_m"].to_numpy()[in_d], gp,
                                      cat_summary[cat]["threshold_m"])  # fmt: skip
                row[f"{cat}_group"] = gid
                row[f"{cat}_group_persons"] = float(gp.sum())
                row[f"{cat}_group_covered"] = g["covered_population"]
                row[f"{cat}_group_share"] = g["coverage_share"]
        for r in ratios[ratios["district_id"] == d].to_dict("records"):
            row[f"{r['standard']}_value"] = r["value"]
            row[f"{r['standard']}_met"] = r["met"]
            row[f"{r['standard']}_gap"] = r["gap"]
        rows.append(row)
    return pd.DataFrame(rows)


def _standard_summary(r: dict) -> dict:
    keys = ("category", "metric", "target", "value", "unit", "met", "gap", "verified", "source",
            "note", "catchment_access_mean", "share_residents_below_target")  # fmt: skip
    return {"id": r["standard"], "label": r["label"]} | {k: r.get(k) for k in keys}


def _district_summary(row: dict, categories: list[str], ratios: pd.DataFrame) -> dict:
    mine = ratios[ratios["district_id"] == row["district_id"]]
    return {
        "adcode": row["district_id"],
        "name": row["name"],
        "population": row["residents_analysed"],
        "census_population": None
        if pd.isna(row["census_population"])
        else row["census_population"],
        "census_note": row["census_note"],
        "coverage": {
            c: {
                "covered_population": row[f"{c}_covered"],
                "coverage_share": row[f"{c}_coverage_share"],
            } | ({"group": row[f"{c}_group"], "group_persons": row[f"{c}_group_persons"],
                  "group_covered": row[f"{c}_group_covered"],
                  "group_share": row[f"{c}_group_share"]} if f"{c}_group" in row else {})
            for c in categories
        },
        "ratios": {
            r["standard"]: {k: r[k] for k in ("value", "target", "unit", "met", "gap")}
            for r in mine.to_dict("records")
        },
    }
