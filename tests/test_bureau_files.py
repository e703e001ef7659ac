"""Files in the shapes a district bureau sends, on the real OpenStreetMap streets of Longgang,
Shenzhen (tests/data/osm, ODbL): an Amap POI export without ``typecode`` (GBK; 经度/纬度 or one
``location`` column; GCJ-02 by the published forward formula), a 养老机构 workbook as offices
keep it (title, 合计, footer note, a summary sheet), and review with one coordinate system per
file. Positions are real street positions; names and counts are made up for the tests."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from hzspatial import FacilityInput, crs, run_coverage
from hzspatial.errors import DataWarning, InputError
from hzspatial.io import read_facilities
from hzspatial.network import read_network

LONGGANG = Path(__file__).parent / "data" / "osm" / "shenzhen_longgang.osm"
EXE = str(Path(sys.executable).parent / "hzspatial")
AMAP_COLUMNS = ["名称", "类型", "地址", "经度", "纬度", "电话", "省份", "城市", "区域"]
ELDERLY_TYPES = ["社区居家养老服务中心", "日间照料中心", "养老院", "护理院"]


def near_street_points(graph, n, seed):
    """Address points 5–15 m beside random streets of the real network (WGS84 degrees)."""
    rng = np.random.default_rng(seed)
    lines = graph.edge_geometry[graph.edge_length > 30]
    line = lines[rng.choice(len(lines), n, replace=False)]
    t = rng.uniform(0.2, 0.8, n)
    a = shapely.get_coordinates(shapely.line_interpolate_point(line, t, normalized=True))
    b = shapely.get_coordinates(shapely.line_interpolate_point(line, t + 0.05, normalized=True))
    d = (b - a) / np.hypot(*(b - a).T)[:, None]
    side = rng.uniform(5, 15, n) * rng.choice([-1, 1], n)
    xy = a + np.column_stack([-d[:, 1], d[:, 0]]) * side[:, None]
    pts = gpd.GeoSeries(shapely.points(xy), crs=graph.crs).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def amap_rows(lon, lat, kind):
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    t = {"clinic": "医疗保健服务;诊所;诊所", "kindergarten": "科教文化服务;学校;幼儿园"}[kind]
    stem = {"clinic": "诊所", "kindergarten": "幼儿园"}[kind]
    return pd.DataFrame({
        "名称": [f"龙岗{stem}{i}" for i in range(len(lon))], "类型": t,
        "地址": "龙岗区龙城街道", "经度": np.round(glon, 6), "纬度": np.round(glat, 6),
        "电话": "0755-12345678", "省份": "广东省", "城市": "深圳市", "区域": "龙岗区",
    })  # fmt: skip


def write_workbook(path: Path, lon, lat) -> None:
    """A 养老机构 workbook as a civil-affairs bureau sends it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "机构名录"
    ws.append(["龙岗区养老服务机构统计表"])
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["序号", "机构名称", "机构类型", "经度", "纬度", "床位数"])
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        ws.append([i + 1, f"龙岗养老机构{i + 1}", ELDERLY_TYPES[i % 4], round(float(x), 7),
                   round(float(y), 7), 20 + i])  # fmt: skip
    ws.append(["合计", None, None, None, None, sum(20 + i for i in range(len(lon)))])
    ws.append([])
    ws.append(["填表单位：龙岗区民政局    填表人：张三    日期：2024年6月"])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
    summary = wb.create_sheet("汇总")
    summary.append(["机构类型", "数量", "床位数"])
    for t in ELDERLY_TYPES:
        summary.append([t, 3, 90])
    wb.save(path)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bureau")
    graph = read_network(LONGGANG)
    clon, clat = near_street_points(graph, n=30, seed=11)
    klon, klat = near_street_points(graph, n=30, seed=12)
    elon, elat = near_street_points(graph, n=12, seed=13)
    rlon, rlat = near_street_points(graph, n=300, seed=14)
    amap = pd.concat([amap_rows(clon, clat, "clinic"), amap_rows(klon, klat, "kindergarten")])
    amap.to_csv(tmp / "amap.csv", index=False, encoding="gbk")
    loc = amap.drop(columns=["经度", "纬度"]).assign(
        location=[f"{x:.6f},{y:.6f}" for x, y in zip(amap["经度"], amap["纬度"], strict=True)])
    loc.to_csv(tmp / "amap_location.csv", index=False, encoding="gbk")
    # the same facilities converted to WGS84 by hand: the truth
    truth = amap.copy()
    truth["经度"], truth["纬度"] = crs.gcj02_to_wgs84(amap["经度"].to_numpy(),
                                                    amap["纬度"].to_numpy())  # fmt: skip
    truth["类型"] = np.where(amap["类型"].str.endswith("幼儿园"), "幼儿园", "诊所")
    truth.to_csv(tmp / "truth.csv", index=False, float_format="%.9f")
    write_workbook(tmp / "elderly.xlsx", elon, elat)
    gpd.GeoDataFrame({"population": np.full(300, 500.0)}, geometry=shapely.points(rlon, rlat),
                     crs=4326).to_file(tmp / "residents.geojson")  # fmt: skip
    hull = shapely.convex_hull(shapely.multipoints(graph.node_xy)).buffer(200)
    area = gpd.GeoDataFrame({"name": ["龙城街道"], "adcode": ["440307"]}, geometry=[hull],
                            crs=graph.crs).to_crs(4326)  # fmt: skip
    area.to_file(tmp / "area.geojson")
    return tmp, graph


def coverage(tmp, facilities, **kw):
    return run_coverage(LONGGANG, facilities, kw.pop("population", tmp / "residents.geojson"),
                        boundaries=tmp / "area.geojson", require_standards=False,
                        **kw).summary  # fmt: skip


def covered(summary, cat):
    return summary["categories"][cat]["covered_population"]


@pytest.mark.parametrize("name", ["amap.csv", "amap_location.csv"])
def test_amap_export_without_typecode_is_read_as_gcj02(world, name):
    """Was read as WGS84 "assumed" in silence, every point ~560 m off."""
    tmp, _ = world
    truth = coverage(tmp, [FacilityInput(tmp / "truth.csv")])
    with pytest.warns(DataWarning, match=r"Amap.*coordinates read as GCJ02.*类型"):
        got = coverage(tmp, [FacilityInput(tmp / name)])
    for cat in ("clinic", "kindergarten"):
        assert covered(got, cat) == pytest.approx(covered(truth, cat), abs=1e-6)
    # declared WGS84 (the user converted it): as declared, and the coverage changes
    wrong = coverage(tmp, [FacilityInput(tmp / name, crs="wgs84")])
    assert covered(wrong, "clinic") != pytest.approx(covered(truth, "clinic"))


@pytest.mark.parametrize("ext", ["geojson", "gpkg"])
def test_amap_export_saved_as_a_layer_is_read_in_its_datum(world, ext):
    """An Amap export saved as a GeoJSON / GeoPackage claims WGS84 (RFC 7946, EPSG:4326)
    while its points stay GCJ-02: it was read as WGS84 without a word. Now as its table is —
    in GCJ-02, warned in one line naming the export — and as declared when declared."""
    tmp, _ = world
    df = pd.read_csv(tmp / "amap.csv", encoding="gbk")
    layer = tmp / f"amap_layer.{ext}"
    points = gpd.points_from_xy(df["经度"], df["纬度"])
    gpd.GeoDataFrame(df.drop(columns=["经度", "纬度"]), crs=4326, geometry=points).to_file(layer)
    truth = coverage(tmp, [FacilityInput(tmp / "truth.csv")])
    with pytest.warns(DataWarning, match=r"amap_layer.*Amap.*coordinates read as GCJ02"):
        got = coverage(tmp, [FacilityInput(layer)])
    for cat in ("clinic", "kindergarten"):
        assert covered(got, cat) == pytest.approx(covered(truth, cat), abs=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # declared: no guess to warn about
        declared = read_facilities(layer, crs="gcj02")
    assert declared.attrs["crs_how"] == "declared"


def test_each_file_is_described_in_one_line(world, caplog):
    """What a file is (format, rows, datum and why, columns) is said once per file, for
    layers as for tables."""
    import logging

    tmp, _ = world
    with caplog.at_level(logging.INFO, logger="hzspatial"):
        read_facilities(tmp / "truth.csv")
        from hzspatial.io import read_population

        read_population(tmp / "residents.geojson")
    lines = [r.getMessage() for r in caplog.records if "coordinates read as" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith(f"{tmp / 'truth.csv'}: CSV") and "columns" in lines[0]
    assert "residents.geojson: GEOJSON" in lines[1] and "(the file says so)" in lines[1]


def test_datum_check_names_the_wrong_file_in_either_order(world):
    """An undeclared GCJ-02 list without any export marks beside a correct WGS84 workbook:
    the warning names the GCJ-02 file only, whatever the order; --strict stops on it, and a
    declared file is never second-guessed."""
    tmp, _ = world
    plain = pd.read_csv(tmp / "amap.csv", encoding="gbk")[["名称", "经度", "纬度"]]
    plain["类别"] = "诊所"
    plain.to_csv(tmp / "gcj_plain.csv", index=False)
    files = [FacilityInput(tmp / "gcj_plain.csv"), FacilityInput(tmp / "elderly.xlsx")]
    for order in (files, files[::-1]):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            coverage(tmp, order)
        datum = [str(w.message) for w in seen if "look like" in str(w.message)]
        assert len(datum) == 1 and datum[0].startswith(str(tmp / "gcj_plain.csv"))
        with pytest.raises(InputError, match=r"gcj_plain\.csv.*--facilities-crs gcj02"):
            coverage(tmp, order, strict=True)
    declared = [FacilityInput(tmp / "gcj_plain.csv", crs="wgs84"),
                FacilityInput(tmp / "elderly.xlsx")]  # fmt: skip
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        coverage(tmp, declared, strict=True)
    assert not [w for w in seen if "look like" in str(w.message)]


def test_workbook_as_the_bureau_sends_it(world):
    """Title, 合计, footer note and a summary sheet: the footer used to stop the run, the
    summary sheet to demand --sheet, 机构类型 was no category column and 社区居家养老服务中心 /
    护理院 were unknown."""
    tmp, _ = world
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        f = read_facilities(tmp / "elderly.xlsx")
    assert len(f) == 12 and set(f["category"]) == {"elderly_care"}
    sub = dict(zip(f["name"], f["subtype"], strict=True))
    assert sub["龙岗养老机构1"] == "daycare" and sub["龙岗养老机构2"] == "daycare"
    assert sub["龙岗养老机构3"] == "nursing_home" and sub["龙岗养老机构4"] == "nursing_home"
    assert f["beds"].tolist() == [20.0 + i for i in range(12)]
    text = " ".join(str(w.message) for w in seen)
    assert "填表单位" in text and "below the table" in text


def test_summary_frame_read_with_pandas_keeps_its_total_and_footer_out(world):
    tmp, _ = world
    df = pd.read_excel(tmp / "elderly.xlsx", sheet_name=0, header=2)
    with pytest.warns(DataWarning, match="below the table"):
        f = read_facilities(df)
    assert len(f) == 12


def test_a_long_footer_below_a_long_table_is_dropped_whole(monkeypatch):
    """Only the bottom rows are looked at for notes (a row-by-row scan of 100,000 homes took
    3.5 s): a footer longer than that first look — 150 lines of notes and blanks, over a
    table of 1,000 rows — is still found from its top, and none of the places above it."""
    from hzspatial.io import _files

    monkeypatch.setattr(_files, "TAIL_ROWS", 16)
    rows = [{"name": f"园{i}", "category": "kindergarten", "lon": 107.0 + i * 1e-5,
             "lat": 33.07, "x": 1} for i in range(1000)]  # fmt: skip
    foot = [{"name": f"注：第{i}条" if i % 3 else "", "category": "", "lon": None,
             "lat": None, "x": None} for i in range(150)]  # fmt: skip
    df = pd.DataFrame(rows + foot)
    with pytest.warns(DataWarning, match="below the table"):
        got = _files._drop_trailing_notes(df, "f.csv")
    assert len(got) == 1000 and got["name"].iloc[-1] == "园999"
    assert len(_files._drop_trailing_notes(df.iloc[:1000], "f.csv")) == 1000


def test_name_is_more_specific_than_an_amap_type_path(tmp_path):
    """Amap files 社区卫生服务中心 under …;卫生院: it is a health service centre, which
    health_centre_within_1000m counts, not a township health centre."""
    p = tmp_path / "poi.csv"
    pd.DataFrame({"名称": ["龙城社区卫生服务中心", "黄阁卫生院"],
                  "类型": ["医疗保健服务;综合医院;卫生院"] * 2,
                  "经度": [114.21, 114.22], "纬度": [22.69, 22.69]}).to_csv(
        p, index=False)  # fmt: skip
    with pytest.warns(DataWarning, match="Amap"):
        f = read_facilities(p)
    assert f["subtype"].tolist() == ["health_centre", "township_health_centre"]


def test_option_errors_name_the_option():
    err = InputError("no sheet named 'x'", file="a.xlsx", column="--sheet")
    assert "option '--sheet'" in err.line() and "column" not in err.line()


def _review(tmp, args, name):
    out = tmp / name
    proc = subprocess.run([EXE, "review", str(tmp / "proposals.geojson"), "--network",
                           str(LONGGANG), "--boundaries", str(tmp / "area.geojson"),
                           "--residents", str(tmp / "residents.geojson"), *args, "--out",
                           str(out), "--json", "--quiet"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_review_gives_each_file_its_own_coordinate_system(world):
    """--facilities-crs wgs84 --facilities-crs gcj02 read both files as GCJ-02 in review."""
    tmp, graph = world
    elderly = read_facilities(tmp / "elderly.xlsx")
    pts = gpd.GeoSeries(elderly.geometry.iloc[:2], crs=4326).to_crs(graph.crs)
    props = gpd.GeoDataFrame({"项目名称": ["北地块", "南地块"], "规划人口": [6000, 8000]},
                             geometry=pts.buffer(120, cap_style="square").to_numpy(),
                             crs=graph.crs).to_crs(4326)  # fmt: skip
    props.to_file(tmp / "proposals.geojson")
    gcj = pd.read_csv(tmp / "amap.csv", encoding="gbk")[["名称", "经度", "纬度"]]
    gcj["类别"] = "幼儿园"
    gcj.to_csv(tmp / "kg_gcj.csv", index=False)
    wgs = gcj.copy()
    wgs["经度"], wgs["纬度"] = crs.gcj02_to_wgs84(gcj["经度"].to_numpy(), gcj["纬度"].to_numpy())
    wgs.to_csv(tmp / "kg_wgs.csv", index=False, float_format="%.9f")
    per_file = _review(tmp, ["--facilities", str(tmp / "elderly.xlsx"), "--facilities",
                             str(tmp / "kg_gcj.csv"), "--facilities-crs", "wgs84",
                             "--facilities-crs", "gcj02"], "per_file")  # fmt: skip
    truth = _review(tmp, ["--facilities", str(tmp / "elderly.xlsx"), "--facilities",
                          str(tmp / "kg_wgs.csv"), "--facilities-crs", "wgs84"], "truth")
    for a, b in zip(per_file["proposals"], truth["proposals"], strict=True):
        for ca, cb in zip(a["checks"], b["checks"], strict=True):
            assert ca["verdict"] == cb["verdict"], ca["standard"]
            if ca.get("nearest_existing_m") is not None:
                assert ca["nearest_existing_m"] == pytest.approx(cb["nearest_existing_m"],
                                                                 abs=0.01)  # fmt: skip
    # the elderly workbook gives no land area: the land rule cannot be checked, not "fail"
    land = [c for p in truth["proposals"] for c in p["checks"]
            if c["standard"] == "elderly_land_per_resident"]  # fmt: skip
    assert land and all(c["verdict"] == "cannot check" for c in land)
    assert all("land area" in c["reason"] for c in land)


def test_osmnx_graph_is_accepted_as_the_network(world, tmp_path):
    """The README names osmnx: run_coverage(G) with its MultiDiGraph raised a bare TypeError.
    It now gives what the same graph saved as GraphML gives."""
    ox = pytest.importorskip("osmnx")
    tmp, _ = world
    G = ox.graph_from_xml(LONGGANG, simplify=True, retain_all=False)
    ox.save_graphml(G, tmp_path / "g.graphml")
    fac = [FacilityInput(tmp / "truth.csv")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = run_coverage(G, fac, tmp / "residents.geojson", boundaries=tmp / "area.geojson",
                         require_standards=False).summary  # fmt: skip
        b = run_coverage(tmp_path / "g.graphml", fac, tmp / "residents.geojson",
                         boundaries=tmp / "area.geojson", require_standards=False).summary
    assert covered(a, "clinic") == pytest.approx(covered(b, "clinic"), abs=1e-6)
    assert covered(a, "clinic") > 0


def test_gbk_shapefile_read_without_encoding_gets_a_hint(world):
    from hzspatial.io import read_population

    tmp, _ = world
    res = gpd.read_file(tmp / "residents.geojson").head(5)
    res["社区名称"] = [n.encode("gbk").decode("latin-1") for n in ["龙城社区"] * 5]
    with pytest.warns(DataWarning, match="encoding='gbk'"):
        read_population(res)


def test_cli_table_stays_aligned_with_long_category_labels(world, tmp_path):
    """A label wider than the 36-column field pushed its row's numbers out of line."""
    import unicodedata

    tmp, _ = world
    long = "社区居家养老服务中心与日间照料中心及护理院"  # a user category: 42 columns
    proc = subprocess.run([EXE, "coverage", "--network", str(LONGGANG), "--facilities",
                           str(tmp / "elderly.xlsx"), "--category", long, "--population",
                           str(tmp / "residents.geojson"), "--boundaries",
                           str(tmp / "area.geojson"), "--no-standards-check", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("category"))

    def column_of(line: str, word: str) -> int:
        before = line[: line.index(word) + len(word)]
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in before)

    row = lines[head + 1]
    assert row.startswith(long)
    # the facilities count (12) ends where the 'facilities' heading ends
    assert column_of(row, " 12") == column_of(lines[head], "facilities")


@pytest.fixture(scope="module")
def communities(world, tmp_path_factory):
    """Six 社区 rectangles (about 450 × 350 m) tiling the middle of the extract, 5,000
    residents each, and six clinics beside streets inside them."""
    tmp, graph = world
    x0, y0 = graph.node_xy.min(axis=0)
    x1, y1 = graph.node_xy.max(axis=0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [shapely.box(cx + i * 450, cy + j * 350, cx + (i + 1) * 450, cy + (j + 1) * 350)
             for i in (-2, -1, 0) for j in (-1, 0)]  # fmt: skip
    gdf = gpd.GeoDataFrame({"社区名称": [f"社区{k}" for k in range(6)],
                            "常住人口": [5000] * 6}, geometry=boxes, crs=graph.crs)  # fmt: skip
    gdf.to_crs(4326).to_file(tmp / "communities.geojson")
    lon, lat = near_street_points(graph, n=300, seed=21)
    inside = shapely.contains_xy(shapely.union_all(gdf.to_crs(4326).geometry.to_numpy()), lon, lat)
    lon, lat = lon[inside][:6], lat[inside][:6]
    pd.DataFrame({"名称": [f"卫生站{i}" for i in range(6)], "类别": "诊所", "经度": lon,
                  "纬度": lat}).to_csv(tmp / "clinics.csv", index=False)  # fmt: skip
    return tmp, gdf.to_crs(4326)


def test_area_spread_agrees_with_an_independent_area_uniform_reference(world, communities):
    """Residents spread evenly over each community's area, each walking a straight leg to
    the nearest street they may join: an independent reference (osmnx graph, networkx
    Dijkstra, a 10 m grid, tests/_reference.py) agrees with --spread area within 1 point,
    while putting them on the streets (--spread streets) overstates coverage."""
    ox = pytest.importorskip("osmnx")  # noqa: F841
    import networkx as nx
    from _helsinki import osmnx_walk_graph
    from _reference import Reference

    tmp, comm = communities
    limit = 500.0
    runs = {m: coverage(tmp, [FacilityInput(tmp / "clinics.csv")], minutes=7.5, spread=m,
                        population=tmp / "communities.geojson")  # fmt: skip
            for m in ("area", "streets")}
    got = {m: r["categories"]["clinic"]["coverage_share"] for m, r in runs.items()}
    assert runs["area"]["residents_spread"]["method"] == "area"
    ref = Reference(osmnx_walk_graph(tmp, LONGGANG, simplify=False))
    fac = pd.read_csv(tmp / "clinics.csv")
    jf = ref.join(fac[["经度", "纬度"]].to_numpy())
    shares = []
    for poly in comm.to_crs(world[1].crs).geometry:
        bx0, by0, bx1, by1 = poly.bounds
        xs, ys = np.meshgrid(np.arange(bx0 + 5, bx1, 10.0), np.arange(by0 + 5, by1, 10.0))
        pts = gpd.GeoSeries(shapely.points(xs.ravel(), ys.ravel()), crs=world[1].crs)
        pts = pts[pts.within(poly)].to_crs(4326)
        jh = ref.join(np.column_stack([pts.x, pts.y]))
        H, (homes, facs) = ref.walk_graph(jh, jf)
        for f, leg in zip(facs, jf.leg, strict=True):
            if f is not None:
                H.add_edge("S", f, length=leg)
        d = nx.single_source_dijkstra_path_length(H, "S", weight="length")
        walk = np.array([d.get(h, np.inf) if h is not None else np.inf for h in homes]) + jh.leg
        ok = jh.edge >= 0
        shares.append(float((walk[ok] <= limit).mean()))
    want = float(np.mean(shares))  # equal populations: the mean of the communities' shares
    assert 0.2 < want < 0.8  # the case is not trivial
    assert got["area"] == pytest.approx(want, abs=0.01)
    assert abs(got["streets"] - want) > abs(got["area"] - want)
    print(f"area-uniform reference {want:.4f}; --spread area {got['area']:.4f}, "
          f"--spread streets {got['streets']:.4f}")



@pytest.mark.parametrize("spread", ["streets", "area"])
def test_one_layer_as_residents_and_boundaries_keeps_each_areas_own_count(communities, spread):
    """碑亭巷 had 6,773 residents where its 常住人口 says 6,650: points spread on a street
    shared by two communities were filed under the neighbour. One layer as both: each area's
    residents are its own population exactly, under its own key, and the number is labelled
    as the boundaries' own, not as a census."""
    tmp, comm = communities
    graph = read_network(LONGGANG)
    # communities bounded by real streets, as 社区 are: faces of the street network
    faces = shapely.get_parts(shapely.polygonize(graph.edge_geometry))
    faces = faces[(shapely.area(faces) > 20_000) & (shapely.area(faces) < 400_000)]
    centre = shapely.Point(graph.node_xy.mean(axis=0))
    faces = faces[np.argsort(shapely.distance(faces, centre))[:6]]
    layer = tmp / "communities_coded.geojson"
    gpd.GeoDataFrame({"社区名称": [f"社区{k}" for k in range(6)],
                      "社区代码": [f"44030700{k}" for k in range(6)],
                      "常住人口": [5000, 6650, 4000, 7000, 3000, 6773]},
                     geometry=faces, crs=graph.crs).to_crs(4326).to_file(layer)  # fmt: skip
    res = run_coverage(LONGGANG, [FacilityInput(tmp / "clinics.csv")], layer, boundaries=layer,
                       spread=spread, require_standards=False)  # fmt: skip
    d = res.districts.set_index("district_id")
    want = dict(zip([f"44030700{k}" for k in range(6)], [5000, 6650, 4000, 7000, 3000, 6773],
                    strict=True))  # fmt: skip
    for code, n in want.items():
        assert d.loc[code, "residents_analysed"] == pytest.approx(n, abs=1e-6)
    by_area = res.by_area.set_index("area_id")
    assert (by_area["district_id"] == by_area.index).all()
    assert "常住人口" in res.summary["boundary_population_from"]


def test_outside_hanzhong_the_inputs_extent_is_the_study_area_and_targets_are_for_reference(
    world,
):
    """Without --boundaries, a run in another city got "residents outside the study area"
    (the default is Hanzhong's counties); with its own boundaries it got Hanzhong's targets
    as verdicts without a word. Now: the inputs' extent is one area (warned), the plan's
    targets are shown for reference, the national GB 50180 radii are still judged."""
    tmp, _ = world
    fac = [FacilityInput(tmp / "truth.csv"), FacilityInput(tmp / "elderly.xlsx")]
    with pytest.warns(DataWarning) as seen:
        res = run_coverage(LONGGANG, fac, tmp / "residents.geojson")
    text = " ".join(str(w.message) for w in seen)
    assert "inputs' extent" in text and "outside 汉中市" in text
    assert res.summary["population"] == 150_000
    assert res.summary["standards_jurisdiction"]["study_area_outside"] is True
    std = {s["id"]: s for s in res.summary["standards"]}
    bed = std["elderly_beds_per_1000"]
    assert bed["met"] is None and bed["note"].startswith("for reference")
    assert std["kindergarten_within_300m"]["met"] in (True, False)  # national: judged


def test_county_ratios_are_partial_on_community_areas():
    """Per-1,000 bed ratios were judged per community, and over 6 km² as if for a county."""
    from hzspatial.datasets import demo_paths

    p = demo_paths()
    blocks = gpd.read_file(p["population"])
    centre = blocks.geometry.representative_point()
    near = blocks[(centre.x - 107.03).abs() + (centre.y - 33.07).abs() < 0.01].head(25)
    near = near.assign(社区名称=[f"社区{i}" for i in range(len(near))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_coverage(p["network"], [FacilityInput(p["facilities"])], near, near,
                           boundary_level="community")  # fmt: skip
    rows = res.ratios[res.ratios["standard"] == "elderly_beds_per_1000"]
    assert len(rows) > 1 and rows["met"].isna().all()
    assert rows["note"].str.startswith("partial: the plan sets this per county").all()
    share = res.ratios[res.ratios["standard"] == "kindergarten_within_300m"]
    assert share["met"].notna().all()  # a service radius is judged at any level


def test_below_standard_hatching_starts_hidden_where_it_would_cover_the_centre(
    world, communities, tmp_path
):
    """In a dense centre the hatched "below standard" layer covered nearly everything on
    open; it now starts hidden there (still in the layer list), the no-facility layer shown."""
    import re

    tmp, _ = communities
    proc = subprocess.run([EXE, "coverage", "--network", str(LONGGANG), "--facilities",
                           str(tmp / "elderly.xlsx"), "--population",
                           str(tmp / "communities.geojson"), "--boundaries",
                           str(tmp / "area.geojson"), "--quiet", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "map.html").read_text("utf-8")
    shown = {m.group(1) for m in re.finditer(r"(feature_group_\w+)\.addTo\(map_\w+\)", html)}
    groups = {json.loads(f'"{name}"'): fg for name, fg in
              re.findall(r'"([^"]*)" ?: ?(feature_group_\w+)', html)}  # fmt: skip
    below = [fg for name, fg in groups.items() if name.endswith("in reach, below standard")]
    far = [fg for name, fg in groups.items() if "no facility within" in name]
    assert below and not any(fg in shown for fg in below)
    assert far and all(fg in shown for fg in far)


def test_findings_are_grouped_per_category_and_standard_not_per_area(communities):
    """#22: the report's findings were one bullet per area per category and standard (6
    pages of bullets for 20 社区). Now one per category (with the lowest areas) and one per
    standard (with the areas short of it); the lowest named are the lowest in the table."""
    from hzspatial.report import findings

    tmp, _ = communities
    layer = tmp / "communities.geojson"
    res = run_coverage(LONGGANG, [FacilityInput(tmp / "clinics.csv")], layer, boundaries=layer,
                       minutes=7.5, require_standards=False, spread="area")  # fmt: skip
    got = findings(res)
    judged = res.ratios.loc[res.ratios["value"].notna(), "standard"].nunique()
    assert len(res.districts) == 6 and len(got) == 1 + judged
    by_share = res.districts.sort_values("clinic_coverage_share", kind="stable")
    zh, en = got[0]
    lowest = en.split("lowest: ")[1]
    assert [n for n in by_share["name"] if n in lowest] == list(by_share["name"].iloc[:3])
    assert all(n in zh for n in by_share["name"].iloc[:3])
