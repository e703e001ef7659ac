"""OpenStreetMap files (``.osm.pbf`` and ``.osm`` XML) → walking graph, read with pyosmium.

Ways are kept by the walk filter in ``config/osm_walk.toml`` (equivalent to
osmnx's ``network_type="walk"``); a way is cut into edges at every node it
shares with another kept way and at its ends, so the graph matches osmnx's
simplified topology. Node ids are the OSM ids.
"""

from __future__ import annotations

import logging
import re
import tomllib
import warnings
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pyproj
import shapely

from hzspatial import crs as _crs
from hzspatial.config import load as load_config
from hzspatial.errors import DataWarning, InputError
from hzspatial.io.osm import osm_read_error
from hzspatial.network._graph import WalkGraph, graph_from_edges
from hzspatial.network.rules import SnapRules, snap_rules
from hzspatial.network.tags import tags_from_osm

__all__ = ["is_walkable", "read_osm", "walk_filter", "way_filter"]

logger = logging.getLogger(__name__)


@cache
def walk_filter() -> tuple[tuple[str, ...], tuple[tuple[str, re.Pattern], ...]]:
    """(required keys, ((key, excluded-value regex), …)) from ``config/osm_walk.toml``."""
    raw = tomllib.loads(
        resources.files("hzspatial.config").joinpath("osm_walk.toml").read_text("utf-8")
    )
    return tuple(raw["require"]), tuple((k, re.compile(v)) for k, v in raw["exclude"].items())


@cache
def way_filter(mode: str = "walk") -> tuple[tuple[str, ...], tuple[tuple[str, re.Pattern], ...]]:
    """The ways a travel mode uses: walking's (:func:`walk_filter`), or the ``filter`` of
    ``[modes.<mode>]`` in ``config/travel.toml``."""
    if mode == "walk":
        return walk_filter()
    raw = load_config("travel.toml")["modes"][mode]["filter"]
    return tuple(raw["require"]), tuple((k, re.compile(v)) for k, v in raw["exclude"].items())


def is_walkable(tags: dict[str, str], mode: str = "walk") -> bool:
    """Whether a way with these tags belongs to the network of ``mode`` (walking)."""
    required, excluded = way_filter(mode)
    if any(k not in tags for k in required):
        return False
    return not any(k in tags and rx.search(tags[k]) for k, rx in excluded)


def _ways(path: Path, rules: SnapRules, mode: str):
    """Node refs, lon, lat and way index of every vertex of every way of the mode's network;
    per way whether homes and facilities may join it and its tags (:mod:`.tags`); the number
    of ways tagged highway."""
    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("reading OSM files needs pyosmium: pip install osmium") from exc
    refs, lons, lats, counts, joinable, kept = [], [], [], [], [], []
    n_ways = n_refs = n_missing = n_negative = 0
    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in fp:
            n_ways += 1
            tags = dict(way.tags)
            if not is_walkable(tags, mode):
                continue
            nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
            n_negative += sum(n.ref < 0 for n in way.nodes)
            n_refs += len(way.nodes)
            n_missing += len(way.nodes) - len(nodes)
            if len(nodes) < 2:
                continue
            r, x, y = zip(*nodes, strict=True)
            refs.extend(r)
            lons.extend(x)
            lats.extend(y)
            counts.append(len(nodes))
            joinable.append(rules.allowed(tags))
            kept.append(tags)
    except (RuntimeError, ValueError) as exc:  # libosmium: corrupt data, illegal ids
        raise osm_read_error(path, exc) from exc
    if n_negative:  # libosmium keeps no location for them: their streets would vanish
        raise InputError(
            f"{n_negative:,} nodes of walkable ways have negative ids — objects an editor "
            "(JOSM …) created but never uploaded; their locations cannot be read, so those "
            "streets would be left out",
            file=str(path),
            hint="upload the edits, or renumber the file: osmium renumber -o renumbered.osm "
            f"{Path(path).name}",
        )
    if n_refs and n_missing / n_refs > MISSING_NODES_WARN:
        warnings.warn(f"{path}: {n_missing:,} of the walkable ways' {n_refs:,} nodes are not in "
                      "the extract (ways cut at its edge, or an incomplete export): those "
                      "streets end early, and homes or facilities beyond them may read as far "
                      "from the network — export the extract with complete ways", DataWarning,
                      stacklevel=3)  # fmt: skip
    way = np.repeat(np.arange(len(counts)), counts)
    return (np.array(refs, dtype=np.int64), np.array(lons), np.array(lats), way,
            np.array(joinable, dtype=bool), tags_from_osm(kept), n_ways)  # fmt: skip


#: Above this share of way nodes missing from an extract, a warning says so.
MISSING_NODES_WARN = 0.01


def read_osm(
    path: str | Path, *, metric: pyproj.CRS | None = None, rules: SnapRules | None = None,
    mode: str = "walk",
) -> WalkGraph:
    """Read an OpenStreetMap extract as a walking graph.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf`` or ``.osm`` XML file.
    metric : pyproj.CRS, optional
        Projected CRS; default the UTM zone of the data. Edge lengths are measured
        in it (within 0.1 % of great-circle lengths inside a UTM zone).
    rules : SnapRules, optional
        Which ways homes and facilities may join (default :func:`snap_rules`).
    mode : str
        Whose ways: ``walk`` (default), ``bike``, ``ebike`` or ``car`` (:func:`way_filter`).

    Returns
    -------
    WalkGraph
        With ``node_id`` = OSM node ids.
    """
    p = Path(path)
    rules = rules or snap_rules()
    ref, lon, lat, way, way_ok, way_tags, n_highway = _ways(p, rules, mode)
    if len(ref) == 0:
        raise InputError(
            f"no {'walkable ways' if mode == 'walk' else 'ways for ' + mode} ({n_highway} ways "
            f"tagged highway, none passes the {mode} filter)",
            file=str(p),
            hint="the extract must contain streets or footways" if mode == "walk" else
            f"the extract must contain ways open to {mode} (config/travel.toml)",
        )
    first = np.r_[True, way[1:] != way[:-1]]
    last = np.r_[way[1:] != way[:-1], True]
    uniq, inv, occ = np.unique(ref, return_inverse=True, return_counts=True)
    junction = (occ[inv] > 1) | first | last
    starts = junction & ~last
    edge_of = np.cumsum(starts) - 1
    interior_j = junction & ~first & ~last
    vid = np.r_[np.arange(len(ref)), np.flatnonzero(interior_j)]
    eid = np.r_[edge_of, edge_of[interior_j] - 1]
    order = np.lexsort((vid, eid))
    vid, eid = vid[order], eid[order]
    target = metric or _crs.metric_crs(lon, lat)
    x, y = pyproj.Transformer.from_crs(4326, target, always_xy=True).transform(lon, lat)
    lines = shapely.linestrings(np.column_stack([x[vid], y[vid]]), indices=eid)
    e_first = np.r_[True, eid[1:] != eid[:-1]]
    e_last = np.r_[eid[1:] != eid[:-1], True]
    u_ref, v_ref = ref[vid[e_first]], ref[vid[e_last]]
    node_ref = np.unique(np.r_[u_ref, v_ref])
    at = np.searchsorted(uniq, node_ref)
    pos = np.zeros(len(uniq), dtype=np.int64)
    pos[inv] = np.arange(len(ref))
    node_xy = np.column_stack([x[pos[at]], y[pos[at]]])
    u = np.searchsorted(node_ref, u_ref)
    v = np.searchsorted(node_ref, v_ref)
    edge_way = way[vid[e_first]]
    graph = graph_from_edges(node_xy, u, v, lines, target, node_id=node_ref, source=str(p),
                             snap_ok=way_ok[edge_way],
                             tags={k: x[edge_way] for k, x in way_tags.items()})  # fmt: skip
    logger.info(
        "%s: %d walkable ways → %d nodes, %d edges, %.1f km (%s); %d ways not joined (%s)",
        p, int(way.max()) + 1, graph.n_nodes, graph.n_edges,
        graph.edge_length.sum() / 1000, target.name, int((~way_ok).sum()), rules.source,
    )  # fmt: skip
    return graph
