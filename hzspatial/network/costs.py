"""Travel costs per street and direction: slope-aware walking from a DEM, cycling and driving.

Every cost is in *equivalent metres*: time × the walking speed (``speed_kmh``, default 4 km/h),
so a threshold stays ``minutes × speed`` and flat streets walked cost their length. Searches
over the costs give the time of the trip from a home to a facility (uphill and downhill
differ; :class:`~hzspatial.network.WalkGraph` explains the direction).

* **Walking with a DEM** — elevation is sampled along every street at least every
  ``sample_m`` (30 m); each piece between samples takes Tobler's hiking function, scaled so
  that flat ground gives ``speed_kmh`` (Tobler 1993: W = 6·exp(−3.5·|S + 0.05|) km/h; time per
  metre relative to flat ``exp(3.5·(|S + 0.05| − 0.05))``). Bridges and tunnels take the
  grade between their end points (a DEM is the ground, not the deck or the bore); steps a
  fixed speed both ways.
* **Cycling, e-bikes, driving** — the mode's ways (``config/travel.toml``, osmnx's filters),
  its speed (per OSM ``highway`` class and ``maxspeed`` for cars), one-way streets honoured.
  Homes and facilities join the mode's ways only; the leg to the door is walked.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import numpy as np

from hzspatial.config import load as load_config
from hzspatial.errors import DataWarning, InputError
from hzspatial.network._graph import TravelCosts, WalkGraph, with_costs
from hzspatial.network.tags import BRIDGE, TUNNEL

__all__ = ["MODES", "apply_travel", "check_travel", "mode_costs", "mode_label", "mode_words",
           "slope_costs", "street_samples", "tobler_factor"]  # fmt: skip

logger = logging.getLogger(__name__)

#: Travel modes, as ``--mode`` takes them.
MODES = ("walk", "bike", "ebike", "car")


def _config() -> dict:
    return load_config("travel.toml")


def mode_label(mode: str) -> str:
    """The bilingual name of a travel mode (``"驾车 / car"``)."""
    return _config()["modes"][mode]["label"]


def mode_words(mode: str) -> tuple[str, str]:
    """How a threshold of a mode is said: ``("驾车", "drive")`` as in "15 分钟驾车" /
    "15-min drive"."""
    zh, en = _config()["modes"][mode]["words"]
    return zh, en


def tobler_factor(grade: np.ndarray, a: float | None = None,
                  s0: float | None = None) -> np.ndarray:  # fmt: skip
    """Walking time per metre on ``grade`` (rise / run; + uphill) relative to flat ground:
    Tobler's hiking function scaled to 1 at grade 0 (0.84 at −5 %, the fastest; 1.19 at +5 %;
    about 2.2 at +20 %)."""
    cfg = _config()["slope"]
    a = cfg["tobler_a"] if a is None else a
    s0 = cfg["tobler_s0"] if s0 is None else s0
    return np.exp(a * (np.abs(np.asarray(grade, dtype=float) + s0) - s0))


def street_samples(graph: WalkGraph, sample_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along every edge, evenly spaced at most ``sample_m`` apart, both ends
    included: (xy in ``graph.crs``, shape (p, 2); per edge the index of its first point —
    edge ``e`` has ``ceil(length / sample_m) + 1`` points from ``edge_u`` to ``edge_v``)."""
    length = graph.edge_length
    pieces = np.maximum(1, np.ceil(length / sample_m)).astype(np.int64)
    first = np.r_[0, np.cumsum(pieces + 1)[:-1]]
    owner = np.repeat(np.arange(graph.n_edges), pieces + 1)
    t = (np.arange(len(owner)) - first[owner]) * (length / pieces)[owner]  # metres along
    if graph.lines is None:  # straight edges
        a, b = graph.node_xy[graph.edge_u][owner], graph.node_xy[graph.edge_v][owner]
        frac = np.where(length[owner] > 0, t / np.maximum(length[owner], 1e-12), 0.0)
        return a + (b - a) * frac[:, None], first
    import shapely

    coords, idx = shapely.get_coordinates(graph.lines, return_index=True)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    seg[idx[1:] != idx[:-1]] = 0.0  # no segment between two lines
    cum = np.r_[0.0, np.cumsum(seg)]
    start = np.searchsorted(idx, np.arange(graph.n_edges))  # each line's first vertex
    stop = np.r_[start[1:], len(idx)] - 1  # and last
    pos = cum[start][owner] + t
    k = np.searchsorted(cum, pos, side="right") - 1
    k = np.clip(k, start[owner], np.maximum(stop[owner] - 1, start[owner]))
    step = np.where(seg[np.minimum(k, len(seg) - 1)] > 0, seg[np.minimum(k, len(seg) - 1)], 1.0)
    frac = np.clip((pos - cum[k]) / step, 0.0, 1.0)
    nxt = np.minimum(k + 1, stop[owner])
    return coords[k] + (coords[nxt] - coords[k]) * frac[:, None], first


def slope_costs(graph: WalkGraph, dem: str | Path,
                speed_kmh: float = 4.0) -> tuple[np.ndarray, dict]:  # fmt: skip
    """Walking costs (equivalent metres at ``speed_kmh`` on the flat, (m, 2): from
    ``edge_u`` and back) on the DEM's slopes, and what they took into account.

    Streets with any sample off the DEM (outside it, or on a void) are walked as flat and
    counted; above ``outside_error`` of the street length the DEM is refused (it does not
    cover the network: another area, or a CRS it misstates).
    """
    from hzspatial.io.dem import dem_labels, sample_dem

    cfg = _config()["slope"]
    xy, first = street_samples(graph, float(cfg["sample_m"]))
    z = sample_dem(dem, xy, graph.crs)
    length = graph.edge_length
    pieces = np.maximum(1, np.ceil(length / float(cfg["sample_m"]))).astype(np.int64)
    last = first + pieces
    # per piece between consecutive samples of one edge
    owner = np.repeat(np.arange(graph.n_edges), pieces)
    lo = np.delete(np.arange(len(z)), last)  # each piece's first sample
    piece_m = (length / pieces)[owner]
    grade = np.where(piece_m > 0, (z[lo + 1] - z[lo]) / np.maximum(piece_m, 1e-9), 0.0)
    up = np.add.reduceat(piece_m * tobler_factor(grade), first - np.arange(graph.n_edges))
    down = np.add.reduceat(piece_m * tobler_factor(-grade), first - np.arange(graph.n_edges))
    tags = graph.edge_tags or {}
    structure = tags.get("structure", np.zeros(graph.n_edges, dtype=np.int8))
    above = np.isin(structure, (BRIDGE, TUNNEL))
    end_grade = np.where(length > 0, (z[last] - z[first]) / np.maximum(length, 1e-9), 0.0)
    up = np.where(above, length * tobler_factor(end_grade), up)
    down = np.where(above, length * tobler_factor(-end_grade), down)
    missing = np.bincount(owner, weights=np.isnan(grade), minlength=graph.n_edges) > 0
    missing |= above & np.isnan(end_grade)
    up = np.where(missing, length, up)
    down = np.where(missing, length, down)
    steps = tags.get("highway", np.full(graph.n_edges, "", dtype=object)) == "steps"
    cost = np.column_stack([up, down])
    cost[steps] = (length[steps] * speed_kmh / float(cfg["steps_kmh"]))[:, None]
    off_km = float(length[missing].sum() / 1000)
    share = off_km * 1000 / max(float(length.sum()), 1e-9)
    if share > float(cfg["outside_error"]):
        raise InputError(
            f"the DEM gives no elevation for {100 * share:.0f}% of the network's street "
            "length (outside it or on its voids)",
            file=str(dem),
            hint="give a DEM that covers the study area, in the coordinate system it states",
        )
    if off_km > 0:
        warnings.warn(f"{dem}: {off_km:,.1f} km of streets ({100 * share:.1f}%) lie outside the "
                      "DEM or on its voids and are walked as flat", DataWarning,
                      stacklevel=3)  # fmt: skip
    rise = np.maximum(z[last] - z[first], z[first] - z[last])
    summary = {
        "dem": str(dem), "labels": dem_labels(dem), "sample_m": float(cfg["sample_m"]),
        "samples": int(len(z)),
        "elevation_m": [float(np.nanmin(z)), float(np.nanmax(z))] if np.isfinite(z).any()
        else None,
        "bridges": int((structure == BRIDGE).sum()), "tunnels": int((structure == TUNNEL).sum()),
        "steps": int(steps.sum()), "steps_kmh": float(cfg["steps_kmh"]),
        "flat_km_off_dem": off_km,
        "steepest_street_grade": float(np.nanmax(np.where(length >= 20, rise / length, 0),
                                                initial=0.0)),
        "formula": "time per metre = flat time × exp(3.5 × (|S + 0.05| − 0.05)), S = rise/run "
                   "(Tobler 1993, scaled to the walking speed on the flat)",
    }  # fmt: skip
    return cost, summary


def _highway_allowed(graph: WalkGraph, mode: str) -> np.ndarray:
    """Per edge, whether the mode's filter lets it use the street by its class; streets of
    unknown class are allowed (OpenStreetMap files are read with the mode's filter)."""
    raw = _config()["modes"][mode].get("filter", {}).get("exclude", {})
    highway = (graph.edge_tags or {}).get("highway")
    if "highway" not in raw or highway is None:
        return np.ones(graph.n_edges, dtype=bool)
    rx = re.compile(raw["highway"])
    classes, inv = np.unique(highway.astype(str), return_inverse=True)
    bad = np.array([bool(c) and rx.search(c) is not None for c in classes], dtype=bool)
    return ~bad[inv]


def mode_costs(graph: WalkGraph, mode: str, speed_kmh: float) -> tuple[np.ndarray, np.ndarray,
                                                                          dict]:  # fmt: skip
    """Costs of cycling or driving (equivalent metres at ``speed_kmh``, (m, 2)), the edges
    the mode may use, and what was taken into account."""
    cfg = _config()["modes"][mode]
    tags = graph.edge_tags
    if tags is None or not np.any(tags["highway"].astype(str) != ""):
        raise InputError(
            f"--mode {mode} needs the streets' road classes (OSM highway tags) to know which "
            "ways it may use and how fast; this network has none",
            column="highway",
            hint="use an OpenStreetMap extract, or a centre-line layer with a highway column "
                 "(OSM classes) or a column of Chinese road classes (快速路 主干路 次干路 支路, "
                 "国道 … 村道: config/road_classes_zh.toml)",
        )
    allowed = _highway_allowed(graph, mode)
    speed = np.full(graph.n_edges, float(cfg["speed_kmh"]))
    table = cfg.get("speeds", {})
    if table:
        classes, inv = np.unique(tags["highway"].astype(str), return_inverse=True)
        speed = np.array([table.get(c, float(cfg["speed_kmh"])) for c in classes])[inv]
        maxspeed = tags["maxspeed"]
        speed = np.where(np.isfinite(maxspeed) & (maxspeed > 0), np.minimum(speed, maxspeed),
                         speed)  # fmt: skip
    length = graph.edge_length
    cost = np.repeat((length * speed_kmh / speed)[:, None], 2, axis=1)
    oneway = tags["oneway_bike" if mode in ("bike", "ebike") else "oneway"]
    unknown = np.zeros(graph.n_edges, dtype=bool)
    if cfg.get("oneway", False):
        unknown = _oneway_unknown(graph, mode, allowed)
        cost[oneway == 1, 1] = np.inf
        cost[oneway == -1, 0] = np.inf
    cost[~allowed] = np.inf
    summary = {
        "speed_kmh": float(cfg["speed_kmh"]) if not table else
        {c: float(table.get(c, cfg["speed_kmh"])) for c in sorted(set(tags["highway"]))
         if c and c in table},
        "one_way_streets": int(((oneway != 0) & allowed).sum()) if cfg.get("oneway") else 0,
        "one_way_unknown": int(unknown.sum()),
        "streets_not_for_mode": int((~allowed).sum()),
        "free_flow": mode == "car",
    }  # fmt: skip
    return cost, allowed, summary


def _oneway_unknown(graph: WalkGraph, mode: str, allowed: np.ndarray) -> np.ndarray:
    """The streets open to ``mode`` whose source does not say whether they are one-way
    (warned about: taken as two-way); an osmnx walking graph, whose one-way tags osmnx
    erased, is refused — every street would be driven both ways."""
    known = (graph.edge_tags or {}).get("oneway_known")
    if known is None:
        return np.zeros(graph.n_edges, dtype=bool)
    if (known[allowed] < 0).any():
        raise InputError(
            f"--mode {mode} on a walking graph: it stores every street both ways with "
            "oneway=False, as osmnx builds walking networks (network_type='walk'), so its "
            "one-way streets are lost (and roads closed to walkers are missing)",
            column="oneway",
            hint="build the graph with network_type='drive' (or 'bike', 'all'), or give "
                 "the OpenStreetMap file itself",
        )  # fmt: skip
    unknown = allowed & (known == 0)
    if unknown.any():
        warnings.warn(
            f"{int(unknown.sum()):,} of {int(allowed.sum()):,} streets open to {mode} do not "
            "say whether they are one-way (no oneway column, or a value it cannot read): "
            f"taken as two-way, so {mode_label(mode)} times may run against one-way streets "
            "— give a oneway column (yes / -1 / no; 是 / 反向 / 否), or use an OpenStreetMap "
            "extract",
            DataWarning, stacklevel=3,
        )  # fmt: skip
    return unknown


def check_travel(mode: str, dem: str | Path | None) -> None:
    """Raise :class:`InputError` for a mode hzspatial does not know, or a DEM given with a
    mode it does not change (cycling and driving times do not follow slopes here: a DEM
    silently ignored would be a wrong answer, r5r#555)."""
    if mode not in MODES:
        raise InputError(f"unknown travel mode {mode!r}", column="--mode",
                         hint=f"use one of {', '.join(MODES)}")  # fmt: skip
    if mode != "walk" and dem is not None:
        raise InputError(
            f"a DEM changes walking times; --mode {mode} does not use it",
            column="--dem",
            hint="leave --dem out, or use --mode walk",
        )


def apply_travel(graph: WalkGraph, mode: str = "walk", speed_kmh: float = 4.0,
                 dem: str | Path | None = None) -> WalkGraph:  # fmt: skip
    """``graph`` with the costs of a travel mode (and the DEM's slopes for walking); the
    graph unchanged for flat walking.

    Parameters
    ----------
    graph : WalkGraph
        As read for ``mode`` (:func:`hzspatial.network.read_network`).
    mode : str
        One of :data:`MODES`.
    speed_kmh : float
        Walking speed on the flat (km/h): the unit of every cost, and the speed of legs.
    dem : str or Path, optional
        Elevation model (GeoTIFF, metres, any CRS it states): walking only.
    """
    check_travel(mode, dem)
    if mode == "walk" and dem is None:
        return graph
    base = {"mode": mode, "label": mode_label(mode),
            "direction": "home → facility", "walking_speed_kmh": float(speed_kmh)}  # fmt: skip
    if mode == "walk":
        cost, info = slope_costs(graph, dem, speed_kmh)
        logger.info("walking on slopes from %s: %d elevation samples, %d bridges and %d "
                    "tunnels at their ends' grade, %d steps at %g km/h", dem, info["samples"],
                    info["bridges"], info["tunnels"], info["steps"], info["steps_kmh"])  # fmt: skip
        return with_costs(graph, TravelCosts(cost, mode, float(speed_kmh), str(dem),
                                             {**base, **info}))  # fmt: skip
    cost, allowed, info = mode_costs(graph, mode, speed_kmh)
    joinable = graph.joinable & allowed
    if not joinable.any():
        raise InputError(f"no street of the network is open to {mode}", column="--mode",
                         hint="check the network's highway classes")  # fmt: skip
    logger.info("%s: %d one-way streets honoured, %d streets not open to it", mode,
                info["one_way_streets"], info["streets_not_for_mode"])  # fmt: skip
    from dataclasses import replace

    graph = replace(graph, snap_ok=None if joinable.all() else joinable)
    return with_costs(graph, TravelCosts(cost, mode, float(speed_kmh), "", {**base, **info}))


def minutes_note(costs: TravelCosts | None) -> str:
    """One line saying what the minutes mean (for logs and summaries)."""
    if costs is None:
        return "walking on the flat"
    if costs.dem:
        return (f"walking with the slopes of {Path(costs.dem).name} (trip from home to "
                "facility)")
    return f"{costs.summary.get('label', costs.mode)} (trip from home to facility)"

