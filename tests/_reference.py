"""An independent walking-distance reference for the differential tests, written with osmnx,
networkx, shapely and pyproj only (nothing from hzspatial).

Every street of an osmnx graph is kept with its own geometry (parallel streets and loops
included, each geometry oriented by its end points), in a local azimuthal equidistant
projection centred on the data (true metres within a few km). A point joins the nearest
point of the nearest street that the snapping rules allow (written out again below, not read
from hzspatial), by a straight leg; each street becomes a chain of its own vertices and of
every join point on it, in order, and networkx Dijkstra walks the chains.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pyproj
import shapely

#: the shipped rules of config/snapping.toml, written out independently
_EXCLUDE = {
    "tunnel": r"yes|true|1|y|t|是",
    "highway": r"steps|motorway_link|trunk_link",
    "access": r"no",
}


def _values(v) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, str) and v.startswith("["):
        v = ast.literal_eval(v)
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def joinable(tags: dict) -> bool:
    """The default snapping rules: an osmnx edge merged from several ways is excluded only
    when all its values match."""
    for key, rx in _EXCLUDE.items():
        vals = _values(tags.get(key))
        if vals and all(re.fullmatch(rx, x, re.IGNORECASE) for x in vals):
            return False
    layers = _values(tags.get("layer"))
    try:
        return not (layers and all(float(x) < 0 for x in layers))
    except ValueError:
        return True


def wholly_joinable(tags: dict) -> bool:
    """No part of the edge is excluded (every value of a merged osmnx edge allowed)."""
    for key, vals in tags.items():
        for v in _values(vals) if key in (*_EXCLUDE, "layer") else []:
            if not joinable({key: v}):
                return False
    return True


@dataclass
class Joined:
    edge: np.ndarray  # street index (−1: nothing allowed within max_snap)
    along: np.ndarray  # metres from the street's first vertex
    leg: np.ndarray  # metres, straight
    tie: np.ndarray  # bool: another allowed street's nearest point is within 1 m as near


class Reference:
    """Streets of an osmnx graph (WGS84) in local metres, largest connected piece only."""

    def __init__(self, G: nx.MultiDiGraph, rules=joinable, *, merge_within: float = 0.0):
        """``merge_within`` (metres): a dead end this close to other nodes joins the nearest
        (the rule of centre-line layers, whose drawn ends do not always meet)."""
        lon = np.array([d["x"] for _, d in G.nodes(data=True)])
        lat = np.array([d["y"] for _, d in G.nodes(data=True)])
        self.crs = pyproj.CRS.from_proj4(
            f"+proj=aeqd +lat_0={lat.mean()} +lon_0={lon.mean()} +ellps=WGS84 +units=m"
        )
        self.to_local = pyproj.Transformer.from_crs(4326, self.crs, always_xy=True)
        x, y = self.to_local.transform(lon, lat)
        xy = dict(zip(G.nodes, zip(x, y, strict=True), strict=True))
        U = G.to_undirected()
        if merge_within:
            nodes = list(G.nodes)
            pts = shapely.points(np.column_stack([x, y]))
            tree = shapely.STRtree(pts)
            C = nx.Graph()
            C.add_nodes_from(nodes)
            for i, n in enumerate(nodes):
                if U.degree(n) != 1:
                    continue
                near = [
                    j
                    for j in tree.query(pts[i], predicate="dwithin", distance=merge_within)
                    if j != i
                ]
                if near:
                    j = min(near, key=lambda j: (shapely.distance(pts[i], pts[j]), j))
                    C.add_edge(n, nodes[j])
            one = {n: min(c) for c in nx.connected_components(C) for n in c}
            U = nx.relabel_nodes(U, one)  # each merged junction at its lowest id's place
        big = max(nx.connected_components(U), key=len)
        self.edges, lines, ok, seen = [], [], [], set()
        for a, b, d in U.edges(data=True):
            if a not in big:
                continue
            if "geometry" in d:
                c = np.column_stack(self.to_local.transform(*np.asarray(d["geometry"].xy)))
                if np.hypot(*(c[0] - xy[a])) > np.hypot(*(c[0] - xy[b])):
                    c = c[::-1]
            elif a == b:
                continue
            else:
                c = np.array([xy[a], xy[b]])
            line = shapely.LineString(c)
            key = (
                min(a, b),
                max(a, b),
                shapely.to_wkb(shapely.set_precision(line if a <= b else line.reverse(), 1e-3)),
            )
            if key in seen:  # a street's two directions
                continue
            seen.add(key)
            self.edges.append((a, b))
            lines.append(line)
            ok.append(rules(d))
        self.lines = np.array(lines, dtype=object)
        self.ok = np.array(ok, dtype=bool)
        self.allowed = np.flatnonzero(self.ok)
        self.tree = shapely.STRtree(self.lines[self.allowed])

    def local(self, lonlat: np.ndarray) -> np.ndarray:
        return shapely.points(np.column_stack(self.to_local.transform(*lonlat.T)))

    def join(self, lonlat: np.ndarray, max_snap: float = 300.0) -> Joined:
        pts = self.local(lonlat)
        n = len(pts)
        edge, along = np.full(n, -1), np.full(n, np.nan)
        leg, tie = np.full(n, np.nan), np.zeros(n, dtype=bool)
        for i, p in enumerate(pts):
            j = self.tree.query_nearest(p, max_distance=max_snap)
            if len(j) == 0:
                continue
            e = self.allowed[j[0]]
            d = shapely.distance(p, self.lines[e])
            edge[i], leg[i] = e, d
            along[i] = shapely.line_locate_point(self.lines[e], p)
            spot = shapely.line_interpolate_point(self.lines[e], along[i])
            near = self.allowed[self.tree.query(p, predicate="dwithin", distance=d + 1.0)]
            spots = shapely.line_interpolate_point(
                self.lines[near], shapely.line_locate_point(self.lines[near], p)
            )
            tie[i] = bool((shapely.distance(spots, spot) > 1.0).any())
        return Joined(edge, along, leg, tie)

    def walk_graph(self, *joins: Joined) -> tuple[nx.Graph, list[list]]:
        """The streets as chains with every join point on them; the join nodes per set."""
        on = defaultdict(list)
        names = []
        for s, j in enumerate(joins):
            names.append([("j", s, i) if e >= 0 else None for i, e in enumerate(j.edge)])
            for i in np.flatnonzero(j.edge >= 0):
                on[int(j.edge[i])].append((float(j.along[i]), ("j", s, int(i))))
        H = nx.Graph()
        for e, ((a, b), line) in enumerate(zip(self.edges, self.lines, strict=True)):
            c = shapely.get_coordinates(line)
            cum = np.r_[0, np.cumsum(np.hypot(*np.diff(c, axis=0).T))]
            chain = [(0.0, ("n", a))] + [(cum[k], ("v", e, k)) for k in range(1, len(c) - 1)]
            chain += [(cum[-1], ("n", b))] + on.get(e, [])
            chain.sort(key=lambda t: t[0])
            for (t0, p), (t1, q) in zip(chain[:-1], chain[1:], strict=True):
                w = t1 - t0
                if p != q and (not H.has_edge(p, q) or H[p][q]["length"] > w):
                    H.add_edge(p, q, length=w)
        return H, names
