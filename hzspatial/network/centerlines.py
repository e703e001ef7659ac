"""Road centre-line layers (as planning bureaus hold them) → noded street segments.

Lines are split where they cross on the same level and wherever a line's end
touches another line. Levels come from ``layer``, ``bridge`` and ``tunnel``
attributes (OSM conventions: ``bridge=yes`` without a layer is level 1,
``tunnel=yes`` level −1), so an over-pass crossing a street does not become a
junction; bridges join the streets at their ends.
"""

from __future__ import annotations

import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from hzspatial import crs as _crs
from hzspatial.errors import DataWarning, InputError, format_rows
from hzspatial.geometry import split_at_distances
from hzspatial.io import read_layer
from hzspatial.io._files import input_label
from hzspatial.io._geometry import (
    check_not_degrees,
    clean_geometries,
    layer_to_wgs84,
    pick_crs,
)
from hzspatial.network._graph import NODE_TOLERANCE_M, WalkGraph, graph_from_lines
from hzspatial.network.osm import way_filter
from hzspatial.network.rules import SnapRules, snap_rules
from hzspatial.network.tags import osm_columns, tags_from_columns, tags_from_osm

__all__ = ["levels", "node_lines", "graph_from_centerlines", "with_streets"]

logger = logging.getLogger(__name__)
_TRUE = {"yes", "true", "1", "y", "t", "viaduct", "aqueduct", "covered", "building_passage"}


def _flag(values: pd.Series | None, n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    return values.astype("string").str.strip().str.lower().isin(_TRUE).to_numpy(dtype=bool)


def levels(attrs: pd.DataFrame) -> np.ndarray:
    """Level code per line from ``layer`` / ``bridge`` / ``tunnel`` columns (any case).

    Lines on different levels are never joined except at a line's end. The code
    combines the layer with the bridge/tunnel flags, so a bridge never meets a
    street mid-span even when both claim the same layer.
    """
    n = len(attrs)
    cols = {str(c).lower(): c for c in attrs.columns}
    bridge = _flag(attrs[cols["bridge"]] if "bridge" in cols else None, n)
    tunnel = _flag(attrs[cols["tunnel"]] if "tunnel" in cols else None, n)
    if "layer" in cols:
        layer = pd.to_numeric(attrs[cols["layer"]], errors="coerce").to_numpy(dtype=float)
    else:
        layer = np.full(n, np.nan)
    layer = np.where(np.isnan(layer), np.where(bridge, 1, np.where(tunnel, -1, 0)), layer)
    return layer.astype(np.int64) * 4 + bridge.astype(np.int64) * 2 + tunnel.astype(np.int64)


def _query(tree: shapely.STRtree, geoms: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(geoms, **kw)`` split over threads (the spatial index releases the GIL)."""
    workers = os.cpu_count() or 1
    if workers == 1 or len(geoms) < 100_000:
        return tree.query(geoms, **kw)
    starts = np.linspace(0, len(geoms), 4 * workers + 1).astype(int)

    def one(i: int) -> np.ndarray:
        a, b = tree.query(geoms[starts[i] : starts[i + 1]], **kw)
        return np.vstack([a + starts[i], b])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        out = np.hstack(list(pool.map(one, range(len(starts) - 1))))
    return out[0], out[1]


def _segment_crossings(lines: np.ndarray, a: np.ndarray, b: np.ndarray):
    """Proper crossings of two-point segments ``lines[a]`` × ``lines[b]`` (interiors meet in
    one point; touching ends and collinear overlaps excluded, as ``shapely.crosses``).

    Returns (index into the pairs, crossing points).
    """
    if len(a) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    c = shapely.get_coordinates(lines[np.concatenate([a, b])]).reshape(2, len(a), 2, 2)
    p1, p2, q1, q2 = c[0, :, 0], c[0, :, 1], c[1, :, 0], c[1, :, 1]

    def orient(o, x, y):
        return (x[:, 0] - o[:, 0]) * (y[:, 1] - o[:, 1]) - (x[:, 1] - o[:, 1]) * (y[:, 0] - o[:, 0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    hit = np.flatnonzero((d1 * d2 < 0) & (d3 * d4 < 0))
    t = d1[hit] / (d1[hit] - d2[hit])
    xy = p1[hit] + t[:, None] * (p2[hit] - p1[hit])
    return hit, shapely.points(xy)


def node_lines(
    lines: np.ndarray,
    level: np.ndarray,
    tol: float = NODE_TOLERANCE_M,
    *,
    return_index: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Split lines into segments between junctions.

    Parameters
    ----------
    lines : array of LineString
        In a metric CRS.
    level : array of int
        Level code per line (see :func:`levels`).
    tol : float
        Metres within which a line end touches another line.
    return_index : bool
        Also return the index of the line each segment came from.

    Returns
    -------
    ndarray of LineString
        Segments: split where same-level lines cross and where any line end meets
        another line's interior.
    ndarray of int
        With ``return_index``: the source line of each segment.
    """
    lines = np.asarray(lines, dtype=object)
    tree = shapely.STRtree(lines)
    split_line, split_pt = [], []
    # 1. proper crossings on the same level: straight two-point segments (most street
    #    segments) by vectorised orientation tests, the others by shapely
    a, b = _query(tree, lines)
    keep = (a < b) & (level[a] == level[b])
    a, b = a[keep], b[keep]
    two = shapely.get_num_coordinates(lines) == 2
    fast = two[a] & two[b]
    pa, pb = _segment_crossings(lines, a[fast], b[fast])
    if len(pa):
        split_line += [a[fast][pa], b[fast][pa]]
        split_pt += [pb, pb]
    sa, sb = a[~fast], b[~fast]
    cross = shapely.crosses(lines[sa], lines[sb])
    sa, sb = sa[cross], sb[cross]
    if len(sa):
        inter = shapely.intersection(lines[sa], lines[sb])
        parts, idx = shapely.get_parts(inter, return_index=True)
        pts, pidx = shapely.get_parts(shapely.boundary(parts), return_index=True)
        is_pt = shapely.get_type_id(parts) == 0
        pts = np.concatenate([parts[is_pt], pts])
        owner = np.concatenate([idx[is_pt], idx[pidx]])
        for side in (sa, sb):
            split_line.append(side[owner])
            split_pt.append(pts)
    # 2. line ends touching another line's interior (any level)
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    end_owner = np.tile(np.arange(len(lines)), 2)
    pi, li = _query(tree, ends, predicate="dwithin", distance=tol)
    keep = li != end_owner[pi]
    pi, li = pi[keep], li[keep]
    if len(pi):
        d = shapely.line_locate_point(lines[li], ends[pi])
        interior = (d > tol) & (d < shapely.length(lines[li]) - tol)
        split_line.append(li[interior])
        split_pt.append(ends[pi][interior])
    if not split_line:
        return (lines, np.arange(len(lines))) if return_index else lines
    sl = np.concatenate(split_line)
    sp_ = np.concatenate(split_pt)
    dist = shapely.line_locate_point(lines[sl], sp_)
    pieces, src = split_at_distances(lines, sl, dist)
    return (pieces, src) if return_index else pieces


def graph_from_centerlines(
    path: str | Path | gpd.GeoDataFrame,
    *,
    crs=None,
    default_crs=None,
    metric: pyproj.CRS | None = None,
    node: bool = True,
    rules: SnapRules | None = None,
    mode: str = "walk",
) -> WalkGraph:
    """Read a centre-line layer (GeoJSON / GeoPackage / Shapefile) as a walking graph.

    Parameters
    ----------
    path : str, Path or GeoDataFrame
    crs : optional
        The layer's coordinate system, declared (``gcj02`` / ``bd09`` / EPSG code);
        overrides the file's own.
    default_crs : optional
        For layers that do not say (shapefiles without ``.prj``, GeoDataFrames without CRS).
    metric : pyproj.CRS, optional
        Projected CRS of the graph; default the layer's own CRS when it is projected,
        else the UTM zone of the layer.
    node : bool
        Split lines at crossings and T-junctions (default). Pass False for layers
        already split at every junction, which is faster.
    rules : SnapRules, optional
        Which lines homes and facilities may join, by the layer's ``highway`` / ``tunnel`` /
        ``access`` / ``layer`` columns when it has them (default :func:`snap_rules`).
    mode : str
        Whose lines to keep when the layer has OSM ``highway`` classes (or Geofabrik's
        ``fclass``): the ways of ``walk``, ``bike``, ``ebike`` or ``car``
        (:func:`hzspatial.network.osm.way_filter`), as for OpenStreetMap files.
    """
    rules = rules or snap_rules()
    path_s = input_label(path)
    layer, layout = osm_columns(read_layer(path))
    if layout:
        logger.info("%s: road classes read from %s", path_s, layout)
    raw = _walkable_lines(layer, path_s, mode)
    own = _crs.parse_crs_in(pick_crs(crs, raw.crs, default_crs)[0])
    keep_own = metric is None and isinstance(own, pyproj.CRS) and own.is_projected
    if keep_own:  # a projected layer (e.g. CGCS2000 Gauss–Krüger) keeps its own metres
        own_geoms = clean_geometries(raw, path_s)
        check_not_degrees(own_geoms, own.to_string(), path_s, "network")
        gdf = gpd.GeoDataFrame(raw.drop(columns=raw.geometry.name),
                               geometry=own_geoms, crs=own)  # fmt: skip
    else:
        gdf = layer_to_wgs84(raw, path_s, crs=crs, default=default_crs, what="network")
    geoms = gdf.geometry.to_numpy()
    if (shapely.get_type_id(geoms) == 1).all():  # single lines: nothing to split into parts
        src = np.arange(len(geoms))
    else:
        geoms, src = shapely.get_parts(geoms, return_index=True)
    if keep_own:
        target, projected = own, geoms
    else:
        c = shapely.get_coordinates(geoms)
        target = metric or _crs.metric_crs(c[:, 0], c[:, 1])
        projected = gpd.GeoSeries(geoms, crs=4326).to_crs(target).to_numpy()
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).iloc[src].reset_index(drop=True)
    joinable = rules.allowed_columns(attrs)
    tags = tags_from_columns(attrs)
    if node:
        projected, piece_of = node_lines(projected, levels(attrs), return_index=True)
        joinable = joinable[piece_of]
        tags = {k: x[piece_of] for k, x in tags.items()}
    graph = graph_from_lines(projected, target, source=path_s, snap_ok=joinable, tags=tags)
    if graph.n_edges and (np.bincount(np.r_[graph.edge_u, graph.edge_v]) > 1).sum() == 0:
        raise InputError(
            "the lines never meet: no two streets share an end or cross",
            file=path_s,
            hint="check that the layer is a connected street network",
        )
    if "source" in gdf.columns:
        labels = tuple(sorted({str(x) for x in gdf["source"].dropna().unique() if str(x)}))
        graph = _with_labels(graph, labels)
    logger.info(
        "%s: %d nodes, %d edges, %.1f km of streets (%s)",
        path_s, graph.n_nodes, graph.n_edges, graph.edge_length.sum() / 1000, target.name,
    )  # fmt: skip
    return graph


def _walkable_lines(gdf: gpd.GeoDataFrame, path: str, mode: str = "walk") -> gpd.GeoDataFrame:
    """The layer's usable street lines: features without geometry, with a NaN or infinite
    coordinate, that are not lines or have no length (repeated points) are skipped with a
    count; when the layer carries OSM-style ``highway`` tags, the way filter of ``mode``
    applies to the lines that have one (walking: ``config/osm_walk.toml`` — motorways,
    private ways … are not walked; a car keeps motorways and roads whose pavements are
    mapped apart)."""
    geoms = gdf.geometry.to_numpy()
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    coords_ok = np.ones(len(gdf), dtype=bool)
    if usable.any():
        xy = shapely.get_coordinates(geoms[usable])
        owner = np.repeat(np.flatnonzero(usable), shapely.get_num_coordinates(geoms[usable]))
        coords_ok[owner[~np.isfinite(xy).all(axis=1)]] = False
    kinds = shapely.get_type_id(geoms)
    line = np.isin(kinds, (1, 5))
    flat = np.zeros(len(gdf), dtype=bool)
    flat[usable & line] = shapely.length(geoms[usable & line]) == 0
    for mask, what in ((~usable, "without geometry"), (usable & ~coords_ok,
                       "with a NaN or infinite coordinate"), (usable & coords_ok & ~line,
                       "that are not lines (points, polygons)"),
                       (usable & coords_ok & flat,
                        "with no length (every point the same)")):  # fmt: skip
        if mask.any():
            warnings.warn(f"{path}: {int(mask.sum())} features {what} skipped "
                          f"({format_rows(np.flatnonzero(mask) + 1).replace('row', 'feature')})",
                          DataWarning, stacklevel=3)  # fmt: skip
    keep = usable & coords_ok & line & ~flat
    cols = {str(c).lower(): c for c in gdf.columns}
    if "highway" in cols:
        highway = gdf[cols["highway"]].astype("string").str.strip()
        tagged = (highway.notna() & (highway != "")).to_numpy(dtype=bool)
        excluded = np.zeros(len(gdf), dtype=bool)
        for key, rx in way_filter(mode)[1]:  # the same rules as OSM ways, one column at a time
            if key in cols:
                values = gdf[cols[key]].astype("string")
                excluded |= values.str.contains(rx.pattern, regex=True).fillna(False).to_numpy(
                    dtype=bool)  # fmt: skip
        walk = ~(tagged & excluded)
        dropped = keep & ~walk
        if dropped.any():
            logger.info("%s: %d lines not walkable by their highway tags (motorway, private "
                        "…) left out", path, int(dropped.sum()))  # fmt: skip
        keep &= walk
    if not keep.any():
        raise InputError(
            "no walkable street lines in the layer" if mode == "walk" else
            f"no street lines in the layer open to {mode}",
            file=path,
            hint="pass a road centre-line layer (lines, with walkable highway tags if any)",
        )
    return gdf[keep]


def _with_labels(graph: WalkGraph, labels: tuple[str, ...]) -> WalkGraph:
    import dataclasses

    return dataclasses.replace(graph, labels=labels)


def with_streets(graph: WalkGraph, lines: np.ndarray, *, source: str = "streets") -> WalkGraph:
    """The graph with extra street lines (e.g. a proposed district's new streets) joined in.

    The new lines and the existing edges they touch are noded together (crossings and
    T-junctions on the same level); everything else is kept as it is.

    Parameters
    ----------
    graph : WalkGraph
    lines : array of LineString
        New streets in ``graph.crs`` (metres).
    """
    lines = np.asarray(lines, dtype=object)
    if len(lines) == 0:
        return graph
    tree = shapely.STRtree(graph.edge_geometry)
    near = np.unique(tree.query(lines, predicate="dwithin", distance=NODE_TOLERANCE_M)[1])
    rest = np.setdiff1d(np.arange(graph.n_edges), near)
    mixed = np.concatenate([graph.edge_geometry[near], lines])
    pieces, piece_of = node_lines(mixed, np.zeros(len(mixed), dtype=np.int64), return_index=True)
    ok = graph.joinable
    mixed_ok = np.r_[ok[near], np.ones(len(lines), dtype=bool)]  # new streets are joinable
    tags = None
    if graph.edge_tags is not None:  # new streets: on the ground, both ways, class unknown
        new = tags_from_osm([{}] * len(lines))
        mixed = {k: np.concatenate([x[near], new[k]]) for k, x in graph.edge_tags.items()}
        tags = {k: np.concatenate([x[rest], mixed[k][piece_of]])
                for k, x in graph.edge_tags.items()}  # fmt: skip
    merged = graph_from_lines(
        np.concatenate([graph.edge_geometry[rest], pieces]), graph.crs, source=source,
        snap_ok=np.r_[ok[rest], mixed_ok[piece_of]], tags=tags,
    )  # fmt: skip
    return _with_labels(merged, graph.labels)
