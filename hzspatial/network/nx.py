"""networkx / osmnx graphs → walking graph: GraphML files and online osmnx queries.

Online queries (place name, polygon, bounding box) need internet access to the
Overpass API; they go through osmnx with ``network_type="walk"`` and the same
conversion as GraphML files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely

from hzspatial import crs as _crs
from hzspatial.errors import InputError
from hzspatial.network._graph import WalkGraph, graph_from_edges
from hzspatial.network.rules import SnapRules, snap_rules
from hzspatial.network.tags import tags_from_osm

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["graph_from_networkx", "read_graphml", "graph_from_osmnx_query"]

logger = logging.getLogger(__name__)


def graph_from_networkx(
    G: nx.Graph,
    *,
    metric: pyproj.CRS | None = None,
    source: str = "graph",
    rules: SnapRules | None = None,
) -> WalkGraph:
    """Convert an osmnx-style networkx graph (nodes with ``x``/``y``, edges with optional
    ``geometry``) to a :class:`WalkGraph`. The two directions of a street are one edge; a
    directed graph's streets stored one way only are marked one-way (for cycling and driving,
    :mod:`.costs`).

    The graph's ``crs`` attribute gives its coordinate system (default WGS84);
    edge lengths are measured along the geometries in the metric CRS. Edge attributes
    (``highway``, ``tunnel``, ``access``, ``layer``) decide which edges homes and facilities
    may join (``rules``, default :func:`snap_rules`). Self-loops with a geometry are kept.
    """
    rules = rules or snap_rules()
    if G.number_of_edges() == 0:
        raise InputError("the graph has no edges", file=source, hint="check the graph file")
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    xy = _node_coordinates(G, nodes, source)
    src_crs = pyproj.CRS.from_user_input(G.graph.get("crs", "epsg:4326"))
    edges: dict = {}
    reversed_geoms = duplicates = 0
    grid = 1e-3 if src_crs.is_projected else 1e-7  # ~1 mm / ~1 cm: the same street twice
    for a, b, data in G.edges(data=True):
        key = (a, b) if index[a] <= index[b] else (b, a)
        geom = data.get("geometry")
        if isinstance(geom, str):
            geom = shapely.from_wkt(geom)
        if geom is None:
            geom = shapely.LineString([xy[index[key[0]]], xy[index[key[1]]]])
        else:
            # a stored geometry may run either way (GraphML after to_undirected, other
            # tools' exports): oriented by its end points, from a to b, then as the key
            c = shapely.get_coordinates(geom)
            pa, pb = xy[index[a]], xy[index[b]]
            if np.hypot(*(c[0] - pa)) + np.hypot(*(c[-1] - pb)) > (
                np.hypot(*(c[0] - pb)) + np.hypot(*(c[-1] - pa))
            ):
                geom = shapely.reverse(geom)
                reversed_geoms += 1
            if key[0] != a:
                geom = shapely.reverse(geom)
            if a == b:  # a loop's two directions: one canonical orientation
                back = shapely.reverse(geom)
                geom = min(geom, back, key=shapely.to_wkb)
        # parallel edges with their own geometry stay (snapping targets); the two directions
        # of one street (a MultiDiGraph's u→v and v→u) are one edge
        fingerprint = shapely.to_wkb(shapely.set_precision(geom, grid))
        way = 1 if key[0] == a else -1  # along the kept geometry, or against it
        if fingerprint in edges.setdefault(key, {}):
            duplicates += 1
            edges[key][fingerprint][3].add(way)
            continue
        edges[key][fingerprint] = (geom, rules.allowed(data), data, {way})
    pairs = [(k, g) for k, by_geom in edges.items() for g in by_geom.values()]
    parallel = sum(len(v) - 1 for v in edges.values())
    if reversed_geoms or parallel:
        logger.info("%s: %d edge geometries stored against their edge's direction were "
                    "turned round; %d parallel edges kept as streets of their own (%d "
                    "reverse directions of one street merged)", source, reversed_geoms,
                    parallel, duplicates)  # fmt: skip
    keys = [k for k, _ in pairs]
    u = np.array([index[k[0]] for k in keys], dtype=np.int64)
    v = np.array([index[k[1]] for k in keys], dtype=np.int64)
    lines = np.empty(len(pairs), dtype=object)
    lines[:] = [g for _, (g, *_) in pairs]
    joinable = np.array([ok for _, (_, ok, *_) in pairs], dtype=bool)
    tags = _edge_tags(G, pairs)
    if src_crs.is_projected:
        target = metric or src_crs
    else:
        target = metric or _crs.metric_crs(xy[:, 0], xy[:, 1])
    if target != src_crs:
        tr = pyproj.Transformer.from_crs(src_crs, target, always_xy=True)
        xy = np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
        lines = shapely.transform(lines, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    try:
        node_id = np.array(nodes, dtype=np.int64)
    except (TypeError, ValueError):
        node_id = None
    if not joinable.all():
        logger.info("%s: %d edges not joined by homes or facilities (%s)", source,
                    int((~joinable).sum()), rules.source)  # fmt: skip
    return graph_from_edges(xy, u, v, lines, target, node_id=node_id, source=source,
                            snap_ok=joinable, tags=tags)  # fmt: skip


def _edge_tags(G: nx.Graph, pairs: list) -> dict[str, np.ndarray]:
    """Edge tags (:mod:`.tags`) from the edges' attributes (a list, as osmnx keeps merged
    ways', gives its first value); in a directed graph, a street stored one way only is
    one-way that way, whatever its ``oneway`` attribute says."""
    def text(value):
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        return None if value is None else str(value)

    keys = ("highway", "bridge", "tunnel", "oneway", "oneway:bicycle", "junction", "maxspeed")
    rows = [{k: text(data.get(k)) for k in keys if data.get(k) is not None}
            for _, (_, _, data, _) in pairs]  # fmt: skip
    tags = tags_from_osm(rows, oneway_known=int(G.is_directed()))
    if G.is_directed():
        ways = [dirs for _, (*_, dirs) in pairs]
        one = np.array([next(iter(d)) if len(d) == 1 else 0 for d in ways], dtype=np.int8)
        tags["oneway"] = one
        tags["oneway_bike"] = one
        tags["oneway_known"][:] = 1  # its storage says
    else:  # one-way where an edge says so (along its stored geometry)
        tags["oneway_known"] = np.array(["oneway" in r or "junction" in r for r in rows],
                                        dtype=np.int8)  # fmt: skip
    if _walking_graph(rows, tags["highway"]):
        tags["oneway_known"][:] = -1
    return tags


#: Classes only a walking network holds (osmnx's "drive" and "bike" filters leave them out).
_FOOT_ONLY = {"footway", "steps", "pedestrian"}
_FALSE = {"False", "false", "0", "no"}


def _walking_graph(rows: list[dict], highway: np.ndarray) -> bool:
    """Whether a graph is an osmnx walking graph (``network_type="walk"``, or
    ``bidirectional=True``), whose one-way tags osmnx erased: ``oneway`` False on every edge
    (every street stored both ways), with footways or steps in it."""
    return (len(rows) > 0 and all(r.get("oneway") in _FALSE for r in rows)
            and bool(_FOOT_ONLY & set(highway)))


def _node_coordinates(G: nx.Graph, nodes: list, source: str) -> np.ndarray:
    """Every node's x/y as an (n, 2) array, checked: present, numbers, finite."""
    missing = [n for n in nodes if "x" not in G.nodes[n] or "y" not in G.nodes[n]]
    if missing:
        raise InputError(
            f"{len(missing)} node(s) without x/y coordinates (e.g. node {str(missing[0])[:40]!r}"
            "; an edge to a node the file does not define also makes one)",
            file=source,
            hint="save the graph with osmnx.save_graphml, every node with its x and y",
        )
    try:
        xy = np.array([(float(G.nodes[n]["x"]), float(G.nodes[n]["y"])) for n in nodes])
    except (TypeError, ValueError) as exc:
        raise InputError(f"a node's x/y is not a number ({exc})", file=source,
                         hint="node coordinates must be numbers") from exc  # fmt: skip
    if not np.isfinite(xy).all():
        raise InputError("a node's x/y is not a finite number", file=source,
                         hint="node coordinates must be finite numbers")  # fmt: skip
    return xy


def read_graphml(
    path: str | Path, *, metric: pyproj.CRS | None = None, rules: SnapRules | None = None
) -> WalkGraph:
    """Read a GraphML file written by osmnx (``ox.save_graphml``)."""
    import osmnx as ox

    try:
        G = ox.load_graphml(path)
    except Exception as exc:  # osmnx/networkx raise many kinds on malformed files
        raise InputError(
            f"cannot read as osmnx GraphML ({type(exc).__name__}: {exc})",
            file=str(path),
            hint="save the graph with osmnx.save_graphml",
        ) from exc
    return graph_from_networkx(G, metric=metric, source=str(path), rules=rules)


def graph_from_osmnx_query(
    *, place: str | None = None, polygon=None, bbox=None, metric: pyproj.CRS | None = None
) -> WalkGraph:
    """Download a walking network with osmnx (needs internet access to Overpass).

    Exactly one of ``place`` (a name osmnx can geocode, e.g. ``"汉台区, 汉中市, 陕西省"``),
    ``polygon`` (WGS84 shapely polygon) or ``bbox`` ((west, south, east, north), degrees).
    """
    import osmnx as ox

    if sum(x is not None for x in (place, polygon, bbox)) != 1:
        raise InputError("give exactly one of place, polygon or bbox", column="--place")
    try:
        if place is not None:
            G = ox.graph_from_place(place, network_type="walk")
        elif polygon is not None:
            G = ox.graph_from_polygon(polygon, network_type="walk")
        else:
            G = ox.graph_from_bbox(tuple(bbox), network_type="walk")
    except (ConnectionError, OSError) as exc:
        raise InputError(
            f"cannot download the network ({type(exc).__name__})",
            column="--place",
            hint="online queries need internet access; pass a network file instead",
        ) from exc
    return graph_from_networkx(G, metric=metric, source=str(place or bbox or "polygon"))
