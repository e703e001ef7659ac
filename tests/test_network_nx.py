"""GraphML / networkx graphs: edge geometries stored against their edge's direction and
parallel edges (issue 15), against hand-worked distances."""

import networkx as nx
import numpy as np
import pytest
import shapely

from hzspatial.engine import EngineInput, compute
from hzspatial.network import read_network

# UTM 48N metres near Hanzhong. A (0, 0) and B (200, 0) joined by a straight street (200 m) and
# by a curved one through (100, 100) (2 × 141.42 m); C (400, 0) east of B.
X0, Y0 = 640_000.0, 3_660_000.0
CURVE = [(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 200, Y0)]


def _graphml(tmp_path, *, curve_reversed: bool, straight: bool = True):
    import osmnx as ox

    G = nx.MultiDiGraph(crs="epsg:32648")
    for n, x in ((1, 0.0), (2, 200.0), (3, 400.0)):
        G.add_node(n, x=X0 + x, y=Y0, street_count=2)
    line = shapely.LineString([(X0, Y0), (X0 + 200, Y0)])
    curve = shapely.LineString(CURVE[::-1] if curve_reversed else CURVE)
    if straight:
        G.add_edge(1, 2, key=0, osmid=10, length=200.0, geometry=line)
    G.add_edge(1, 2, key=1, osmid=11, length=282.84, geometry=curve)  # parallel street
    G.add_edge(2, 3, key=0, osmid=12, length=200.0)
    G.add_edge(3, 2, key=0, osmid=12, length=200.0)  # the other direction of the same street
    path = tmp_path / "g.graphml"
    ox.save_graphml(G, path)
    return path


@pytest.mark.parametrize(("curve_reversed", "straight"), [(False, True), (True, True),
                                                          (True, False)])  # fmt: skip
def test_points_beside_a_parallel_curved_street_walk_along_it(tmp_path, curve_reversed,
                                                              straight):  # fmt: skip
    """A resident 2 m outside the curve, a quarter of the way along it from A (x = 50), walks
    2 m + 70.71 m to a facility at A; one at the curve's top (100, 102) 2 m + 141.42 m. Before
    the fix the curve was dropped as the longer parallel edge (the residents snapped to the
    straight street: 102 m and 100 m + 100 m) and, stored from B to A, measured from the wrong
    end (2 m + 212.13 m with the curve alone)."""
    g = read_network(_graphml(tmp_path, curve_reversed=curve_reversed, straight=straight))
    fac = shapely.points([[X0, Y0]])
    s = np.sqrt(0.5)
    homes = shapely.points([[X0 + 50 - 2 * s, Y0 + 50 + 2 * s], [X0 + 100, Y0 + 102]])
    out = compute(EngineInput(g, fac, np.array(["clinic"]), homes, {"clinic": 1000.0}))
    d = out.distance_m["clinic"]
    assert d[0] == pytest.approx(2 + 50 * np.sqrt(2), abs=0.01)
    assert d[1] == pytest.approx(2 + 100 * np.sqrt(2), abs=0.01)
    assert g.n_edges == 2 + straight  # the curve, B–C once, and the straight street


@pytest.mark.parametrize("case", ["edge_to_missing_node", "no_coordinates"])
def test_graphml_nodes_without_coordinates_are_named_not_a_crash(case, tmp_path):
    """GraphML without x/y, or with an edge to a node it does not define, was a KeyError."""
    from hzspatial.errors import InputError
    from hzspatial.network import read_network

    nodes = ('<node id="1"><data key="d0">107.03</data><data key="d1">33.07</data></node>'
             '<node id="2"><data key="d0">107.04</data><data key="d1">33.07</data></node>')
    if case == "no_coordinates":
        nodes = '<node id="1"/><node id="2"/>'
    extra = '<edge source="2" target="99"><data key="d3">900</data></edge>' \
        if case == "edge_to_missing_node" else ""  # fmt: skip
    p = tmp_path / "g.graphml"
    p.write_text(
        "<?xml version='1.0' encoding='utf-8'?>"
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="d0" for="node" attr.name="x" attr.type="string"/>'
        '<key id="d1" for="node" attr.name="y" attr.type="string"/>'
        '<key id="d2" for="graph" attr.name="crs" attr.type="string"/>'
        '<key id="d3" for="edge" attr.name="length" attr.type="string"/>'
        f'<graph edgedefault="directed"><data key="d2">epsg:4326</data>{nodes}'
        f'<edge source="1" target="2"><data key="d3">900</data></edge>{extra}</graph></graphml>'
    )
    with pytest.raises(InputError, match="without x/y"):
        read_network(p, use_cache=False)
