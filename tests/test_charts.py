"""The report's SVG charts, read back as XML and checked against hand-worked numbers."""

import xml.etree.ElementTree as ET

import numpy as np

from hzspatial.charts import MAX_BARS, MAX_LEGEND, cumulative_share, distance_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
# the curve panel's plot box in viewBox units (distance_chart_svg)
X0, X1, Y0, Y1 = 54.0, 350.0, 12.0, 182.0


def _parse(svg: str) -> ET.Element:
    # html_text writes HTML entities that XML does not define by name; numeric ones parse
    return ET.fromstring(svg)


def _curves(root) -> dict[str, np.ndarray]:
    out = {}
    for pl in root.iter(f"{SVG}polyline"):
        pts = np.array([p.split(",") for p in pl.get("points").split()], dtype=float)
        out[pl.find(f"{SVG}title").text] = pts
    return out


def test_cumulative_share_hand_worked():
    """Residents 1, 2 and 1 at 100 m, 200 m and out of reach: a quarter within 100 m, three
    quarters within 200 m and beyond (the unreached one never counts as within)."""
    d = np.array([200.0, 100.0, np.inf])
    w = np.array([2.0, 1.0, 1.0])
    got = cumulative_share(d, w, np.array([0.0, 99.9, 100.0, 150.0, 200.0, 1e9]))
    assert np.allclose(got, [0, 0, 0.25, 0.25, 0.75, 0.75])
    assert np.allclose(cumulative_share(d[:0], w[:0], np.array([5.0])), [0.0])


def test_chart_reads_back_the_numbers():
    """At the threshold the study area's curve stands at the share of residents within it,
    each area's curve at its own share, and each bar is as long as its area's share."""
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 2500, 400)
    d[::9] = np.inf
    w = rng.integers(1, 50, 400).astype(float)
    area = np.arange(400) % 2 == 0
    groups = [("all", np.ones(400, bool)), ("North 北区", area), ("South 南区", ~area)]
    share = {n: w[m][d[m] <= 1000].sum() / w[m].sum() for n, m in groups}
    bars = [("North 北区", share["North 北区"]), ("South 南区", share["South 南区"])]
    root = _parse(distance_chart_svg(d, w, 1000.0, groups, bars))
    curves = _curves(root)
    assert set(curves) == {"all", "North 北区", "South 南区"}
    for name, pts in curves.items():
        at = pts[np.argmin(np.abs(pts[:, 0] - (X0 + X1) / 2))]  # x = threshold, mid-panel
        assert abs((Y1 - at[1]) / (Y1 - Y0) - share[name]) < 0.002, name
        assert np.all(np.diff(pts[:, 1]) <= 0)  # never falls with distance
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#4d4d4d"]
    widths = np.array([float(r.get("width")) for r in rects])
    assert np.allclose(widths / widths.max(), [s / max(share["North 北区"], share["South 南区"])
                                               for _, s in bars], atol=0.003)  # fmt: skip
    texts = "".join(root.itertext())
    assert "1,000 m" in texts and "步行距离" in texts
    assert f"{share['North 北区'] * 100:.1f}%" in texts


def test_hostile_names_are_text():
    """Area names are escaped: a name that closes the SVG and opens a script stays text."""
    bad = '</svg><script>alert(1)</script> & "q" $x$ `t`'
    d, w = np.array([10.0, 20.0]), np.array([1.0, 1.0])
    svg = distance_chart_svg(d, w, 15.0, [("all", np.ones(2, bool)), (bad, np.ones(2, bool))],
                             [(bad, 0.5)])  # fmt: skip
    assert "<script" not in svg and "</svg><" not in svg[:-6]
    root = _parse(svg)
    assert bad in "".join(t.text or "" for t in root.iter(f"{SVG}title"))


def test_many_areas_grey_curves_and_lowest_bars():
    """With dozens of areas the curves are grey under one legend entry and only the lowest
    shares get bars, with a note that the table lists them all."""
    n = 40
    rng = np.random.default_rng(5)
    d = rng.uniform(0, 2000, n * 10)
    w = np.ones(n * 10)
    which = np.repeat(np.arange(n), 10)
    groups = [("all", np.ones(n * 10, bool))] + [(f"社区{i}", which == i) for i in range(n)]
    shares = rng.uniform(0, 1, n)
    bars = [(f"社区{i}", s) for i, s in enumerate(shares)]
    root = _parse(distance_chart_svg(d, w, 1000.0, groups, bars))
    colours = {pl.get("stroke") for pl in root.iter(f"{SVG}polyline")}
    assert colours == {"#222", "#aaa"} and n > MAX_LEGEND
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#4d4d4d"]
    assert len(rects) == MAX_BARS
    labels = [t.find(f"{SVG}title").text for t in root.iter(f"{SVG}text")
              if t.find(f"{SVG}title") is not None]  # fmt: skip
    lowest = {f"社区{i}" for i in np.argsort(shares)[:MAX_BARS]}
    assert set(labels) == lowest
    assert "全部见下表" in "".join(root.itertext())
