"""Coverage and ratio maths on hand-worked arrays."""

import numpy as np
import pandas as pd
import pytest
import shapely

from hzspatial import analysis as an
from hzspatial.standards import Standard

LAND = Standard(
    id="land",
    category="elderly_care",
    metric="supply_per_capita",
    target=0.1,
    unit="m² per resident",
    source="test",
    per=1,
    supply="area_m2",
)
PITCH = Standard(
    id="pitch",
    category="football_pitch",
    metric="supply_per_capita",
    target=1.0,
    unit="per 10,000",
    source="test",
    per=10000,
    supply="pitches",
    typical=1,
)


def test_coverage_stats_hand_worked():
    # three blocks: 100 persons at 400 m, 300 at 900 m, 600 unreachable; threshold 1000 m
    s = an.coverage_stats(np.array([400.0, 900.0, np.inf]), np.array([100, 300, 600]), 1000.0)
    assert s["covered_population"] == 400
    assert s["coverage_share"] == pytest.approx(0.4)
    assert s["share_beyond_threshold"] == pytest.approx(0.6)
    assert s["median_distance_m"] == np.inf  # the 500th person is unreachable
    s2 = an.coverage_stats(np.array([400.0, 900.0, 1500.0]), np.array([100, 300, 100]), 1000.0)
    assert s2["median_distance_m"] == 900.0 and s2["p90_distance_m"] == 1500.0


def test_weighted_quantile_ignores_zero_weights():
    assert an.weighted_quantile(np.array([1.0, 50.0, 2.0]), np.array([1, 0, 1]), 1.0) == 2.0
    assert np.isnan(an.weighted_quantile(np.array([1.0]), np.array([0.0]), 0.5))


def test_district_ratios_hand_worked():
    # district 0: 12,000 residents, elderly land 800 + 300 m² → 0.0917 m²/resident, gap 100 m²
    # district 1: 5,000 residents, 600 m² → 0.12, met; one facility outside all districts
    supply = np.array([800.0, 300.0, 600.0, 999.0])
    area = np.array([0, 0, 1, -1])
    r = an.district_ratios(supply, area, np.array([12_000.0, 5_000.0]), LAND)
    assert r["value"].tolist() == pytest.approx([1100 / 12000, 0.12])
    assert r["met"].tolist() == [False, True]
    assert r["required"].tolist() == pytest.approx([1200.0, 500.0])
    assert r["gap"].tolist() == pytest.approx([100.0, 0.0])


def test_pitches_typical_value_and_flag():
    fac = pd.DataFrame({"pitches": [2.0, np.nan, np.nan]})
    supply, assumed = an.facility_supply(fac, PITCH)
    assert supply.tolist() == [2.0, 1.0, 1.0] and assumed.tolist() == [False, True, True]
    r = an.district_ratios(supply, np.array([0, 0, 0]), np.array([30_000.0]), PITCH)
    assert r["value"].iloc[0] == pytest.approx(4 / 3)  # 4 pitches per 30,000 = 1.33 per 10,000
    assert r["met"].tolist() == [True]


def test_district_without_residents_has_no_ratio():
    r = an.district_ratios(np.array([10.0]), np.array([0]), np.array([0.0]), LAND)
    assert np.isnan(r["value"].iloc[0]) and r["met"].iloc[0] is None


def test_assign_to_areas():
    areas = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    pts = shapely.points([5, 15, 30], [5, 5, 5])
    assert an.assign_to_areas(pts, areas).tolist() == [0, 1, -1]


def test_two_step_fca_hand_worked():
    # F1 600 m², F2 300 m²; D1 (1000 people) 200 m from F1; D2 (2000) 600 m from F1 and
    # 400 m from F2; D3 (1000) 300 m from F2; D3–F1 is 1200 m, beyond the 1000 m catchment.
    demand = np.array([0, 1, 1, 2, 2])
    facility = np.array([0, 0, 1, 1, 0])
    dist = np.array([200.0, 600.0, 400.0, 300.0, 1200.0])
    ratio, acc = an.two_step_fca(
        demand, facility, dist, np.array([600.0, 300.0]), np.array([1000.0, 2000.0, 1000.0]), 1000.0
    )
    assert ratio.tolist() == pytest.approx([600 / 3000, 300 / 3000])  # 0.2 and 0.1 m²/person
    assert acc.tolist() == pytest.approx([0.2, 0.3, 0.1])
    assert (acc * [1000, 2000, 1000]).sum() == pytest.approx(900)  # supply counted once
    _, acc1000 = an.two_step_fca(
        demand,
        facility,
        dist,
        np.array([600.0, 300.0]),
        np.array([1000.0, 2000.0, 1000.0]),
        1000.0,
        per=1000,
    )
    assert acc1000.tolist() == pytest.approx([200, 300, 100])


def test_two_step_fca_gaussian_decay():
    # one facility (100 units), residents at 0 m and at 1000 m (= d0: weight 0)
    ratio, acc = an.two_step_fca(
        np.array([0, 1]),
        np.array([0, 0]),
        np.array([0.0, 1000.0]),
        np.array([100.0]),
        np.array([50.0, 50.0]),
        1000.0,
        decay="gaussian",
    )
    assert ratio[0] == pytest.approx(2.0) and acc.tolist() == pytest.approx([2.0, 0.0])
    # 10 people at the facility (w = 1) and 10 at 500 m, where
    # w = (e^-0.125 − e^-0.5) / (1 − e^-0.5) = (0.8824969 − 0.6065307) / 0.3934693 = 0.701366
    _, acc = an.two_step_fca(
        np.array([0, 1]),
        np.array([0, 0]),
        np.array([0.0, 500.0]),
        np.array([10.0]),
        np.array([10.0, 10.0]),
        1000.0,
        decay="gaussian",
    )
    w = 0.701366
    r = 10 / (10 + 10 * w)
    assert acc.tolist() == pytest.approx([r, w * r], rel=1e-5)


def test_supply_share_and_areas_served():
    std = Standard(
        id="s",
        category="kindergarten",
        metric="supply_share",
        target=0.9,
        unit="share",
        source="t",
        supply="places",
        flag="inclusive",
    )
    r = an.supply_share(
        np.array([300.0, 100.0, 200.0]), np.array([True, False, None]), np.array([0, 0, 1]), 2, std
    )
    assert r["value"].iloc[0] == pytest.approx(0.75) and r["gap"].iloc[0] == pytest.approx(60)
    assert np.isnan(r["value"].iloc[1])  # unknown flag: cannot say
    every = Standard(
        id="a", category="elderly_care", metric="areas_served", target=1.0, unit="share", source="t"
    )
    r = an.areas_served(np.array([0, 0, 2]), np.array([10.0, 20.0, 0.0, 5.0]), every)
    assert r["value"].tolist()[:2] == [1.0, 0.0] and np.isnan(r["value"].iloc[2])
    assert r["met"].tolist()[:2] == [True, False]


def test_underserved_table_counts_each_resident_once():
    """Hand-worked: 4 demand points in 2 areas. Point 1 is below two standards at once, point 2
    below one, point 3 has no facility in reach. Each is counted once in ``underserved``."""
    area = np.array([0, 0, 1, 1])
    people = np.array([100.0, 50.0, 30.0, 20.0])
    far = np.array([False, False, True, False])
    below_land = np.array([True, True, False, False])
    below_beds = np.array([True, False, False, False])
    short = below_land | below_beds
    areas = pd.DataFrame({"district_id": ["A", "B"], "name": ["甲", "乙"]})
    beds = Standard(id="beds", category="elderly_care", metric="supply_per_capita", target=43.5,
                    unit="per 1,000", source="test", per=1000, supply="beds")  # fmt: skip
    t = an.underserved_table("elderly_care", area, people, far, short,
                             [(LAND, below_land), (beds, below_beds)], areas)  # fmt: skip
    assert t["underserved"].tolist() == [150, 30]
    assert t["no_facility"].tolist() == [0, 30] and t["below_standard"].tolist() == [150, 0]
    assert t["below_land"].tolist() == [150, 0] and t["below_beds"].tolist() == [100, 0]
    assert t["residents_analysed"].tolist() == [150, 50]
    assert (t["underserved"] <= t["residents_analysed"]).all()
    with pytest.raises(ValueError):
        an.underserved_table("x", area, people, far, far, [], areas)


def _blocks():
    """A 3 × 3 grid of 80 m blocks with 10 m streets between them, and one block 300 m east."""
    xs = [0, 90, 180]
    boxes = [shapely.box(x, y, x + 80, y + 80) for x in xs for y in xs] + [
        shapely.box(560, 0, 640, 80)
    ]
    cells = np.array(boxes, dtype=object)
    return cells, shapely.centroid(cells)


def test_raster_dissolve_agrees_with_the_polygon_union():
    """The raster tracing used for very many locations closes the 10 m streets like the
    polygon union (two areas here) and covers the same ground to within a few pixels."""
    cells, pts = _blocks()
    vec = shapely.get_parts(an._dissolve(cells))
    ras, owner = an._dissolve_raster(cells, pts)
    assert len(vec) == len(ras) == 2
    assert owner.tolist() == [owner[0]] * 9 + [1 - owner[0]]
    a, b = shapely.union_all(vec), shapely.union_all(ras)
    iou = shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b))
    assert iou > 0.93
    assert shapely.area(b) == pytest.approx(shapely.area(a), rel=0.05)


def test_raster_dissolve_of_a_wide_district_stays_small():
    """Two groups of blocks 60 km apart (one district of a prefecture-sized network): the raster
    grows its pixels instead of allocating 12,000 × 12,000 of them (several GB at 5 m; a 1M-node
    study's result ran out of memory). Both groups stay separate areas with their points."""
    import tracemalloc

    cells, pts = _blocks()
    far = shapely.transform(cells, lambda c: c + [60_000.0, 60_000.0])
    cells2 = np.concatenate([cells, far])
    pts2 = shapely.centroid(cells2)
    tracemalloc.start()
    parts, owner = an._dissolve_raster(cells2, pts2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 600 * 2**20
    assert len(parts) == 4  # each group: the 9 blocks and the one beyond the street
    assert len(set(owner[:10])) == 2 and not set(owner[:10]) & set(owner[10:])
    west = shapely.union_all(parts[np.unique(owner[:10])])
    assert shapely.contains(west.buffer(30), shapely.union_all(cells)).item()


def test_underserved_areas_count_every_resident_on_either_path(monkeypatch):
    cells, pts = _blocks()
    people = np.arange(1.0, 11.0)
    district = np.array(["A"] * 10, dtype=object)
    args = (cells, pts, people, district, "clinic", 1000.0, "no_facility", "none")
    vec = an.underserved_areas(*args)
    monkeypatch.setattr(an, "RASTER_ABOVE", 3)
    ras = an.underserved_areas(*args)
    for rows in (vec, ras):
        assert sorted(r["residents"] for r in rows) == [10.0, 45.0]
        assert sum(r["locations"] for r in rows) == 10


def test_dissolve_matches_the_plain_closing_of_irregular_blocks():
    """Underserved areas (outlines thinned before shrinking) against the closing computed
    directly — grow 12 m, union, shrink 6 m: the same areas holding the same points, and
    the same ground to 0.1 %. Blocks with jittered, densely spaced vertices, as digitised."""
    rng = np.random.default_rng(4)
    cells = []
    for x in range(0, 600, 90):
        for y in range(0, 600, 90):
            t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
            r = 40 / np.maximum(np.abs(np.cos(t)), np.abs(np.sin(t)))  # a square, many points
            xy = np.c_[x + 40 + r * np.cos(t), y + 40 + r * np.sin(t)] + rng.normal(0, 0.3, (60, 2))
            cells.append(shapely.Polygon(xy))
    cells.append(shapely.box(900, 0, 980, 80))
    cells = np.array(cells, dtype=object)
    pts = shapely.point_on_surface(cells)
    ours = shapely.get_parts(an._dissolve(cells))
    grown = shapely.union_all(shapely.buffer(cells, 12.0, join_style="mitre"))
    plain = shapely.get_parts(shapely.buffer(grown, -6.0, join_style="mitre"))
    assert len(ours) == len(plain) == 2
    for parts in (ours, plain):
        assert shapely.contains(parts[:, None], pts[None, :]).sum(axis=0).tolist() == [1] * len(pts)
    assert shapely.area(ours).sum() == pytest.approx(shapely.area(plain).sum(), rel=1e-3)
    diff = shapely.symmetric_difference(shapely.union_all(ours), shapely.union_all(plain))
    assert shapely.area(diff) < 1e-3 * shapely.area(plain).sum()


def test_assign_to_areas_matches_a_point_by_point_check():
    """Against a plain loop over shapely.contains: overlapping areas give the lowest index,
    points outside or on an edge get −1."""
    rng = np.random.default_rng(7)
    areas = np.array([shapely.box(0, 0, 10, 10), shapely.box(5, 5, 15, 15),
                      shapely.Point(20, 5).buffer(4, quad_segs=64)], dtype=object)  # fmt: skip
    xy = np.vstack([rng.uniform(-2, 25, (400, 2)), [[0, 5], [10, 10], [30, 30]]])
    pts = shapely.points(xy)
    expect = [next((i for i, a in enumerate(areas) if a.contains(p)), -1) for p in pts]
    assert an.assign_to_areas(pts, areas).tolist() == expect
    assert expect[-3:] == [-1, 1, -1] and {0, 1, 2, -1} <= set(expect)
