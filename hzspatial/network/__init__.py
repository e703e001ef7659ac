"""Walking networks as arrays: sources, graph building, caching and snapping.

Sources, all producing the same :class:`WalkGraph` in a metric CRS (metres):
OpenStreetMap ``.osm.pbf`` / ``.osm`` (:mod:`.osm`), osmnx GraphML and online
osmnx queries (:mod:`.nx`), and road centre-line layers (:mod:`.centerlines`).
:func:`read_network` picks the reader from the file name and caches the result.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import pyproj

from hzspatial.crs import parse_crs_in
from hzspatial.errors import DataWarning, InputError
from hzspatial.io._files import input_label
from hzspatial.io.postgis import is_postgis, read_table
from hzspatial.network._graph import (
    TravelCosts,
    WalkGraph,
    adjacency_matrix,
    graph_from_edges,
    graph_from_lines,
    with_costs,
)
from hzspatial.network.cache import cache_key, load_graph, save_graph
from hzspatial.network.centerlines import graph_from_centerlines, with_streets
from hzspatial.network.nx import graph_from_networkx, graph_from_osmnx_query, read_graphml
from hzspatial.network.osm import read_osm
from hzspatial.network.rules import SnapRules, as_snap_rules, snap_rules
from hzspatial.network.snap import MAX_SNAP_M, Snap, snap_points
from hzspatial.settings import get_settings

__all__ = [
    "MAX_SNAP_M",
    "Snap",
    "SnapRules",
    "TravelCosts",
    "WalkGraph",
    "adjacency_matrix",
    "as_snap_rules",
    "graph_from_centerlines",
    "graph_from_edges",
    "graph_from_lines",
    "graph_from_networkx",
    "graph_from_osmnx_query",
    "network_format",
    "read_graphml",
    "read_network",
    "read_osm",
    "snap_points",
    "snap_rules",
    "with_costs",
    "with_streets",
]

logger = logging.getLogger(__name__)

_FORMATS = {
    ".pbf": "osm",
    ".osm": "osm",
    ".xml": "osm",
    ".graphml": "graphml",
    ".geojson": "lines",
    ".json": "lines",
    ".gpkg": "lines",
    ".shp": "lines",
}


def network_format(path: str | Path) -> str:
    """``osm``, ``graphml`` or ``lines`` for a network file (validating that it exists); a
    PostGIS table is ``lines``."""
    if is_postgis(path):
        return "lines"
    p = Path(path)
    if not p.is_file():
        raise InputError("network file not found", file=str(p), hint="check the path")
    if p.stat().st_size == 0:
        raise InputError("network file is empty", file=str(p), hint="export the network again")
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unknown network format '{p.suffix or '(no extension)'}'",
            file=str(p),
            hint="use .osm.pbf, .osm, .graphml, or a line layer (.geojson, .gpkg, .shp)",
        )
    return fmt


def read_network(
    path: str | Path | gpd.GeoDataFrame,
    *,
    crs=None,
    default_crs=None,
    metric: pyproj.CRS | None = None,
    node: bool = True,
    use_cache: bool | None = None,
    rules: SnapRules | None = None,
    mode: str = "walk",
) -> WalkGraph:
    """Read a walking network from a file, using the on-disk cache when possible.

    Parameters
    ----------
    path : str, Path or GeoDataFrame
        ``.osm.pbf`` / ``.osm`` (OpenStreetMap), ``.graphml`` (osmnx), or a road
        centre-line layer (``.geojson`` / ``.gpkg`` / ``.shp``, a GeoDataFrame of lines, or a
        PostGIS table: ``postgresql://user@host/db?table=schema.name``, read whole and never
        cached — :mod:`hzspatial.io.postgis`),
        or a networkx graph in osmnx's form (e.g. ``ox.graph_from_xml(...)``, a
        MultiDiGraph with node ``x``/``y``).
    crs : optional
        For centre-line layers: the layer's coordinate system, declared (``gcj02``,
        ``bd09``, EPSG); overrides the file's own. OpenStreetMap is always WGS84.
    default_crs : optional
        For centre-line layers that do not say (shapefiles without ``.prj``).
    metric : pyproj.CRS, optional
        Projected CRS of the graph (default: the data's UTM zone).
    node : bool
        For centre-line layers: split lines at crossings and T-junctions.
    use_cache : bool, optional
        Default from :func:`hzspatial.settings.get_settings` (``HZSPATIAL_NO_CACHE=1`` disables).
        Graphs are cached under the settings' cache folder, keyed by the file's SHA-256
        and these options.
    rules : SnapRules, optional
        Which streets homes and facilities may join (default :func:`snap_rules`: the
        ``HZSPATIAL_SNAP_RULES`` file, else ``hzspatial/config/snapping.toml``).
    mode : str
        For OpenStreetMap files and centre-line layers with ``highway`` (or Geofabrik's
        ``fclass``) columns: whose ways to read (``walk``, ``bike``, ``ebike``, ``car``;
        :func:`hzspatial.network.osm.way_filter`). Costs are not applied here
        (:func:`hzspatial.network.costs.apply_travel`).

    Returns
    -------
    WalkGraph
        Largest connected piece, metres, undirected, with its streets' tags.
    """
    rules = rules or snap_rules()
    graph = _read_network(path, crs, default_crs, metric, node, use_cache, rules, mode)
    return _some_joinable(graph, path, rules)


def _some_joinable(graph: WalkGraph, path, rules: SnapRules) -> WalkGraph:
    """Raise when the snapping rules let no home or facility join any street (every one
    would read as "too far from the network", the wrong reason)."""
    if graph.n_edges and not graph.joinable.any():
        raise InputError(
            f"the snapping rules ({rules.source}) exclude every street of the network, so no "
            "home or facility can join it",
            file=input_label(path) if isinstance(path, str | Path) else None,
            hint="loosen the [exclude] patterns of --snap-rules",
        )
    return graph


def _build(path, fmt, crs, default_crs, metric, node, rules, mode) -> WalkGraph:
    if fmt == "osm":
        return read_osm(path, metric=metric, rules=rules, mode=mode)
    if fmt == "graphml":
        return read_graphml(path, metric=metric, rules=rules)
    return graph_from_centerlines(path, crs=crs, default_crs=default_crs, metric=metric,
                                  node=node, rules=rules, mode=mode)  # fmt: skip


def _read_network(path, crs, default_crs, metric, node, use_cache, rules, mode) -> WalkGraph:
    if hasattr(path, "nodes") and hasattr(path, "edges") and hasattr(path, "graph"):
        return graph_from_networkx(path, metric=metric, source="(networkx graph)", rules=rules)
    if is_postgis(path):  # a table of road centre lines
        path = read_table(path)
    if isinstance(path, gpd.GeoDataFrame):
        return graph_from_centerlines(path, crs=crs, default_crs=default_crs, metric=metric,
                                      node=node, rules=rules, mode=mode)  # fmt: skip
    fmt = network_format(path)
    if fmt != "lines" and crs is not None and parse_crs_in(crs) != "wgs84":
        raise InputError(
            f"an {'OpenStreetMap' if fmt == 'osm' else 'osmnx GraphML'} network is in WGS84; "
            f"it cannot be declared {crs}",
            file=str(path),
            column="--network-crs",
            hint="leave --network-crs out, or declare the other inputs' systems",
        )
    settings = get_settings()
    cached = settings.use_cache if use_cache is None else use_cache
    options = {"fmt": fmt, "crs": str(crs), "default_crs": str(default_crs),
               "metric": str(metric), "node": node, "rules": rules.digest,
               "mode": mode if fmt in ("osm", "lines") else "walk"}  # fmt: skip
    key = cache_key(path, options) if cached else ""
    if cached:
        graph = load_graph(settings.cache_dir / "graphs", key)
        if graph is not None:
            return graph
    seen: list = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            graph = _build(path, fmt, crs, default_crs, metric, node, rules, mode)
    finally:  # said now (also before an error), and again whenever the cached graph is used
        for w in seen:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if cached:
        try:
            notes = [str(w.message) for w in seen if issubclass(w.category, DataWarning)]
            save_graph(graph, settings.cache_dir / "graphs", key, notes)
        except OSError as exc:
            logger.warning("could not cache the graph in %s (%s)", settings.cache_dir, exc)
    return graph
