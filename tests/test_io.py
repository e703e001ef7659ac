"""Readers: formats, Chinese headers, encodings, coordinate systems and every user error."""

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hzspatial import crs
from hzspatial.errors import DataWarning, InputError
from hzspatial.io import read_boundaries, read_facilities, read_population, staged_output

HEADER = "id,name,category,lon,lat,beds\n"
ROWS = [
    "a1,汉台养老中心,elderly_care,107.0300,33.0700,120\n",
    "a2,北关幼儿园,幼儿园,107.0350,33.0750,\n",
    "a3,东关卫生服务站,社区卫生服务站,107.0400,33.0680,10\n",
]


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_csv_english_headers_and_aliases(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + "".join(ROWS))
    f = read_facilities(p)
    assert list(f["category"]) == ["elderly_care", "kindergarten", "clinic"]
    assert f.crs.to_epsg() == 4326
    assert f.loc[0, "beds"] == 120 and np.isnan(f.loc[1, "beds"])
    assert f.geometry.x.tolist() == [107.03, 107.035, 107.04]


def test_chinese_headers_gbk_encoding(tmp_path):
    text = "编号,名称,类型,经度,纬度,面积（平方米）,床位\nb1,养老院,养老院,107.03,33.07,1500,80\n"
    p = write(tmp_path, "gbk.csv", text, encoding="gbk")
    f = read_facilities(p)
    assert f.loc[0, "name"] == "养老院" and f.loc[0, "category"] == "elderly_care"
    assert f.loc[0, "area_m2"] == 1500 and f.loc[0, "area_from"] == "input"


def test_gb18030_with_bom_free_excel_style(tmp_path):
    text = "名称,类别,经度,纬度\n𠀀社区足球场,足球场,107.03,33.07\n"  # 𠀀 only exists in GB18030
    p = write(tmp_path, "gb.csv", text, encoding="gb18030")
    f = read_facilities(p)
    assert f.loc[0, "category"] == "football_pitch"
    assert f.loc[0, "facility_id"] == "football_pitch-1"


def test_xlsx_and_column_mapping(tmp_path):
    df = pd.DataFrame({"设施": ["x"], "kind_of": ["clinic"], "E": [107.03], "N": [33.07]})
    p = tmp_path / "f.xlsx"
    df.to_excel(p, index=False)
    f = read_facilities(p, columns={"name": "设施", "category": "kind_of", "lon": "E", "lat": "N"})
    assert f.loc[0, "name"] == "x" and f.loc[0, "category"] == "clinic"


def test_gcj02_input_is_converted(tmp_path):
    glon, glat = crs.wgs84_to_gcj02(107.03, 33.07)
    p = write(tmp_path, "g.csv", f"name,category,lon,lat\nx,clinic,{glon:.8f},{glat:.8f}\n")
    f = read_facilities(p, crs="gcj02")
    assert crs.haversine_m(f.geometry.x[0], f.geometry.y[0], 107.03, 33.07) < 0.5


def test_epsg_projected_input(tmp_path):
    x, y = crs.from_wgs84(107.03, 33.07, 4545)
    p = write(tmp_path, "p.csv", f"name,category,x,y\nx,clinic,{x:.3f},{y:.3f}\n")
    f = read_facilities(p, crs=4545)
    assert crs.haversine_m(f.geometry.x[0], f.geometry.y[0], 107.03, 33.07) < 0.01


def test_polygons_become_points_with_area(tmp_path):
    # a 100 m × 60 m pitch near Hanzhong, drawn in UTM 48N
    utm = gpd.GeoSeries([shapely.box(500000, 3660000, 500100, 3660060)], crs=32648)
    gdf = gpd.GeoDataFrame(
        {"name": ["pitch"], "category": ["football_pitch"]}, geometry=utm.to_crs(4326)
    )
    p = tmp_path / "pitch.geojson"
    gdf.to_file(p)
    f = read_facilities(p)
    assert f.geometry.iloc[0].geom_type == "Point"
    assert f.loc[0, "area_m2"] == pytest.approx(6000, rel=1e-3)
    assert f.loc[0, "area_from"] == "polygon"


def test_geopackage_and_shapefile(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"name": ["k"], "category": ["kindergarten"]},
        geometry=[shapely.Point(107.03, 33.07)],
        crs=4326,
    )
    for name in ("k.gpkg", "k.shp"):
        gdf.to_file(tmp_path / name)
        assert read_facilities(tmp_path / name).loc[0, "category"] == "kindergarten"


# ---------------------------------------------------------------- user errors


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as e:
        read_facilities(tmp_path / "nope.csv")
    assert "nope.csv" in one_line(e) and "file not found" in str(e.value)


def test_unknown_format(tmp_path):
    p = write(tmp_path, "f.docx", "x")
    with pytest.raises(InputError) as e:
        read_facilities(p)
    assert "f.docx" in one_line(e) and "unknown file format '.docx'" in str(e.value)


def test_missing_columns_lists_found(tmp_path):
    p = write(tmp_path, "f.csv", "名字,type,x坐标\na,clinic,1\n")
    with pytest.raises(InputError) as e:
        read_facilities(p)
    msg = one_line(e)
    assert "f.csv" in msg and "lon" in msg and "lat" in msg
    assert "columns found: 名字, type, x坐标" in msg


def test_non_numeric_coordinates_name_rows(tmp_path):
    p = write(
        tmp_path,
        "f.csv",
        HEADER + ROWS[0] + "a2,x,clinic,107.0x,33.07,\n" + "a3,y,clinic,abc,33.07,\n",
    )
    with pytest.raises(InputError) as e:
        read_facilities(p)
    msg = one_line(e)
    assert "f.csv" in msg and "rows 3, 4" in msg and "column 'lon'" in msg
    assert "not a number" in msg


def test_impossible_coordinates(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + ROWS[0] + "a2,x,clinic,207.0,33.07,\n")
    with pytest.raises(InputError) as e:
        read_facilities(p)
    msg = one_line(e)
    assert "row 3" in msg and "impossible coordinates" in msg and "lon/lat" in msg


def test_swapped_lon_lat_detected(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + "a1,x,clinic,33.07,107.03,\n")
    with pytest.raises(InputError) as e:
        read_facilities(p)
    msg = one_line(e)
    assert "row 2" in msg and "look swapped" in msg and "swap the 'lon' and 'lat' columns" in msg


def test_residents_outside_study_area(tmp_path):
    area = shapely.box(106.9, 33.0, 107.2, 33.2)
    p = write(tmp_path, "r.csv", "id,lon,lat,population\nr1,107.03,33.07,10\nr2,108.5,34.3,5\n")
    with pytest.raises(InputError) as e:
        read_population(p, study_area=area)
    msg = one_line(e)
    assert "row 3" in msg and "outside the study area" in msg


def test_duplicate_ids(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + ROWS[0] + ROWS[1] + ROWS[0])
    with pytest.raises(InputError) as e:
        read_facilities(p)
    msg = one_line(e)
    assert "rows 2, 4" in msg and "duplicate id 'a1'" in msg and "column 'id'" in msg


def test_empty_table_and_empty_layer(tmp_path):
    p = write(tmp_path, "f.csv", HEADER)
    with pytest.raises(InputError, match="no data rows") as e:
        read_facilities(p)
    assert "f.csv" in one_line(e)
    g = tmp_path / "empty.geojson"
    g.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(InputError, match="no features") as e:
        read_facilities(g)
    assert "empty.geojson" in one_line(e)


def test_empty_file(tmp_path):
    p = write(tmp_path, "f.csv", "")
    with pytest.raises(InputError, match="file is empty"):
        read_facilities(p)


def test_invalid_geometry_repaired_with_warning(tmp_path):
    bowtie = shapely.Polygon(
        [(107.03, 33.07), (107.031, 33.071), (107.031, 33.07), (107.03, 33.071)]
    )
    gdf = gpd.GeoDataFrame({"name": ["b"], "category": ["clinic"]}, geometry=[bowtie], crs=4326)
    p = tmp_path / "bow.geojson"
    gdf.to_file(p)
    with pytest.warns(DataWarning, match=r"bow.geojson: row 1: invalid geometry repaired"):
        f = read_facilities(p)
    assert f.loc[0, "area_m2"] > 0


def test_null_geometry_reported(tmp_path):
    p = tmp_path / "n.geojson"
    p.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"category": "clinic"},
                        "geometry": {"type": "Point", "coordinates": [107.03, 33.07]},
                    },
                    {"type": "Feature", "properties": {"category": "clinic"}, "geometry": None},
                ],
            }
        )
    )
    with pytest.raises(InputError) as e:
        read_facilities(p)
    assert "row 2" in one_line(e) and "no geometry" in str(e.value)


def test_unknown_category_lists_known(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + ROWS[0] + "a2,x,swimming pool,107.03,33.07,\n")
    with pytest.raises(InputError) as e:
        read_facilities(p)
    msg = one_line(e)
    assert "row 3" in msg and "'swimming pool'" in msg and "column 'category'" in msg
    assert "known: elderly_care, clinic, football_pitch, kindergarten" in msg
    f = read_facilities(p, extra_categories=["swimming pool"])
    assert f.loc[1, "category"] == "swimming pool"


def test_negative_capacity(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + "a1,x,clinic,107.03,33.07,-5\n")
    with pytest.raises(InputError) as e:
        read_facilities(p)
    assert "row 2" in one_line(e) and "column 'beds'" in str(e.value) and "≥ 0" in str(e.value)


# ---------------------------------------------------------------- population


def test_population_points_and_households(tmp_path):
    p = write(tmp_path, "p.csv", "id,经度,纬度,户数\nh1,107.03,33.07,100\nh2,107.04,33.08,40\n")
    pop = read_population(p, persons_per_household=3.0)
    assert pop["population"].tolist() == [300.0, 120.0]
    default = read_population(p)
    # census 2020: residents / family households over 勉县, 宁强县, 略阳县, 留坝县
    pph = (344935 + 256373 + 143989 + 35325) / (143480 + 102358 + 57547 + 13688)
    assert default["population"].iloc[0] == pytest.approx(100 * pph)


def test_population_polygons(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"人口": [1200, 800]},
        geometry=[
            shapely.box(107.03, 33.07, 107.031, 33.071),
            shapely.box(107.04, 33.07, 107.041, 33.071),
        ],
        crs=4326,
    )
    p = tmp_path / "blocks.geojson"
    gdf.to_file(p)
    pop = read_population(p)
    assert pop["population"].sum() == 2000
    assert pop.geometry.iloc[0].geom_type == "Polygon"


@pytest.mark.parametrize(("value", "expect"), [("-3", "≥ 0"), ("many", "not a number")])
def test_population_bad_values(tmp_path, value, expect):
    p = write(tmp_path, "p.csv", f"lon,lat,population\n107.03,33.07,10\n107.04,33.08,{value}\n")
    with pytest.raises(InputError) as e:
        read_population(p)
    msg = one_line(e)
    assert "p.csv" in msg and "row 3" in msg and "column 'population'" in msg and expect in msg


def test_population_without_population_column(tmp_path):
    p = write(tmp_path, "p.csv", "lon,lat,size\n107.03,33.07,10\n")
    with pytest.raises(InputError) as e:
        read_population(p)
    assert "population" in one_line(e) and "columns found: lon, lat, size" in str(e.value)


# ---------------------------------------------------------------- boundaries


def test_boundaries_from_bundled_counties():
    from hzspatial.datasets import demo_paths

    b = read_boundaries(demo_paths()["boundaries"])
    assert len(b) == 11 and b["district_id"].str.startswith("6107").all()
    assert b.loc[b["name"] == "南郑区", "population"].isna().all()


def test_boundaries_reject_points(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(107, 33)], crs=4326)
    p = tmp_path / "b.geojson"
    gdf.to_file(p)
    with pytest.raises(InputError, match="not a polygon"):
        read_boundaries(p)


# ---------------------------------------------------------------- writers


def test_staged_output_is_all_or_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), staged_output(out) as stage:
        (stage / "a.json").write_text("{}")
        raise RuntimeError("boom")
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))
    with staged_output(out) as stage:
        (stage / "a.json").write_text("{}")
    assert (out / "a.json").read_text() == "{}"


def test_no_warnings_for_clean_input(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + "".join(ROWS))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_facilities(p)


# --- files as planners hold them (issue 10) -------------------------------------------

TWO_BOXES = [
    shapely.box(107.02, 33.06, 107.03, 33.07),
    shapely.box(107.03, 33.06, 107.04, 33.07),
]


def test_amap_poi_export_type_paths_location_and_gcj02(tmp_path):
    """Amap export: type path matched from its most specific part, typecode, one location
    column, GCJ-02 coordinates converted; unmatched types left out and listed once."""
    lon, lat = np.array([107.0300, 107.0350, 107.0400]), np.array([33.0700, 33.0750, 33.0680])
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    rows = [
        ("汉台区卫生院", "医疗保健服务;综合医院;卫生院", "090102"),
        ("北关幼儿园", "科教文化服务;学校;幼儿园", "141204"),
        ("仁和药房", "医疗保健服务;医药保健销售店;药房", "090601"),
    ]
    text = "名称,类型,typecode,地址,location,adname\n" + "".join(
        f'{n},{t},{c},汉台区,"{x:.6f},{y:.6f}",汉台区\n'
        for (n, t, c), x, y in zip(rows, glon, glat, strict=True)
    )
    p = write(tmp_path, "amap.csv", text)
    with pytest.warns(DataWarning, match=r"药房 \(1\).*--category-map"):
        f = read_facilities(p)
    assert list(f["category"]) == ["clinic", "kindergarten"]
    assert f.attrs["crs_in"] == "gcj02"
    d = crs.haversine_m(f.geometry.x, f.geometry.y, lon[:2], lat[:2])
    assert np.all(d < 0.2)  # GCJ-02 removed (raw points are ~470 m off; 6 decimals ≈ 0.1 m)


def test_category_map_and_location_mapping(tmp_path):
    text = (
        'poi,tp,坐标点\na,医疗保健服务;综合医院,"107.03,33.07"\n'
        'b,医疗保健服务;卫生院,"107.04,33.07"\n'
    )
    p = write(tmp_path, "poi.csv", text)
    f = read_facilities(
        p,
        columns={"name": "poi", "category": "tp", "location": "坐标点"},
        category_map={"综合医院": "hospital"},
    )
    assert list(f["category"]) == ["hospital", "clinic"]
    # Amap type paths without a typecode column: still an Amap export, read as GCJ-02
    lon, _ = crs.gcj02_to_wgs84(np.array([107.03, 107.04]), np.array([33.07, 33.07]))
    np.testing.assert_allclose(f.geometry.x, lon, atol=1e-9)
    with pytest.raises(InputError, match="unknown field"):
        read_facilities(p, columns={"where": "坐标点"})


def test_baidu_export_is_bd09(tmp_path):
    lon, lat = np.array([107.03, 107.04]), np.array([33.07, 33.06])
    blon, blat = crs.wgs84_to_bd09(lon, lat)
    text = "uid,name,标签,lng,lat\n" + "".join(
        f"u{i},诊所{i},医疗;诊所,{x:.7f},{y:.7f}\n"
        for i, (x, y) in enumerate(zip(blon, blat, strict=True))
    )
    with pytest.warns(DataWarning, match="Baidu.*read as BD09.*--facilities-crs wgs84"):
        f = read_facilities(write(tmp_path, "baidu.csv", text))
    assert f.attrs["crs_in"] == "bd09" and set(f["category"]) == {"clinic"}
    assert np.all(crs.haversine_m(f.geometry.x, f.geometry.y, lon, lat) < 0.05)
    # declared WGS84 wins over the source's own system
    g = read_facilities(write(tmp_path, "baidu.csv", text), crs="wgs84")
    assert np.allclose(g.geometry.x, blon)


def test_coordinate_header_names_the_system(tmp_path):
    lon, lat = crs.wgs84_to_gcj02(np.array([107.03]), np.array([33.07]))
    text = f"名称,类别,经度(GCJ02),纬度(GCJ02)\n站,clinic,{lon[0]:.7f},{lat[0]:.7f}\n"
    f = read_facilities(write(tmp_path, "h.csv", text))
    assert f.attrs["crs_in"] == "gcj02"
    assert crs.haversine_m(f.geometry.x[0], f.geometry.y[0], 107.03, 33.07) < 0.05


def test_plain_category_typo_still_an_error(tmp_path):
    p = write(tmp_path, "f.csv", HEADER + "a1,x,幼儿圆,107.03,33.07,\n")
    with pytest.raises(InputError) as e:
        read_facilities(p)
    assert "row 2" in one_line(e) and "--category-map" in one_line(e)


def test_gbk_shapefile_without_cpg(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"社区名称": ["北关社区", "东关社区"], "常住人口": [5200, 4800]},
        geometry=TWO_BOXES,
        crs=4326,
    )
    p = tmp_path / "communities.shp"
    gdf.to_file(p, encoding="gbk", engine="pyogrio")
    for cpg in tmp_path.glob("*.cpg"):
        cpg.unlink()
    pop = read_population(p)
    assert pop["name"].tolist() == ["北关社区", "东关社区"]
    assert pop["population"].tolist() == [5200, 4800]
    bnd = read_boundaries(p)
    assert bnd["name"].tolist() == ["北关社区", "东关社区"] and bnd.attrs["level"] == "community"
    # a missing column names the encoding that was used
    gdf[["社区名称", "geometry"]].to_file(tmp_path / "nopop.shp", encoding="gbk")
    (tmp_path / "nopop.cpg").unlink(missing_ok=True)
    with pytest.raises(InputError) as e:
        read_population(tmp_path / "nopop.shp")
    assert "GB18030" in one_line(e) and "社区名称" in one_line(e)


def _xlsx(path, rows, merge_title=True, sheet="设施"):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    if merge_title:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[1]))
    wb.create_sheet("说明").append(["填表说明"])
    wb.save(path)
    return path


def test_xlsx_title_row_total_row_and_blank_rows(tmp_path):
    p = _xlsx(tmp_path / "kg.xlsx", [
        ["汉台区幼儿园统计表（2024年）"],
        ["序号", "名称", "类型", "经度", "纬度", "学位数"],
        [1, "北关幼儿园", "幼儿园", 107.03, 33.07, 180],
        [None, None, None, None, None, None],
        [2, "东关幼儿园", "幼儿园", 107.04, 33.07, 240],
        ["合计", None, None, None, None, 420],
    ])  # fmt: skip
    with pytest.warns(DataWarning, match=r"row 6: total row"):
        f = read_facilities(p)
    assert f["name"].tolist() == ["北关幼儿园", "东关幼儿园"] and f["places"].sum() == 420
    with pytest.raises(InputError, match="no sheet named '统计'.*设施, 说明"):
        read_facilities(p, sheet="统计")


def test_xlsx_bad_cell_names_the_excel_row(tmp_path):
    p = _xlsx(tmp_path / "kg.xlsx", [
        ["汉台区幼儿园统计表"],
        ["名称", "类型", "经度", "纬度"],
        ["北关幼儿园", "幼儿园", 107.03, 33.07],
        ["东关幼儿园", "幼儿园", "107.0x", 33.07],
    ])  # fmt: skip
    with pytest.raises(InputError) as e:
        read_facilities(p)
    msg = one_line(e)
    assert "row 4" in msg and "'107.0x'" in msg and "经度" in msg


def test_csv_title_line_and_forced_header_row(tmp_path):
    text = "养老设施清单,,,\n名称,类别,经度,纬度\n颐养院,养老院,107.03,33.07\n"
    f = read_facilities(write(tmp_path, "t.csv", text))
    assert f["category"].tolist() == ["elderly_care"]
    g = read_facilities(write(tmp_path, "t.csv", text), header_row=2)
    assert g["name"].tolist() == ["颐养院"]
    # a header-less first data row above the detected header is said, not dropped in silence
    odd = "院甲,养老院,107.02,33.07\n名称,类别,经度,纬度\n颐养院,养老院,107.03,33.07\n"
    with pytest.warns(DataWarning, match=r"rows above it that look like data.*row 1"):
        read_facilities(write(tmp_path, "o.csv", odd))


@pytest.mark.parametrize(
    ("columns", "level", "ids", "names"),
    [
        ({"社区代码": ["610702001001", "610702001002"], "社区名称": ["北关社区", "东关社区"]},
         "community", ["610702001001", "610702001002"], ["北关社区", "东关社区"]),
        ({"街道名称": ["北关街道", "东关街道"]}, "street", ["北关街道", "东关街道"],
         ["北关街道", "东关街道"]),
        ({"村名": ["王家村", "李家村"]}, "community", ["王家村", "李家村"], ["王家村", "李家村"]),
        ({"行政区划代码": ["610702001", "610702002"], "name": ["北关", "东关"]}, "street",
         ["610702001", "610702002"], ["北关", "东关"]),
    ],
)  # fmt: skip
def test_boundaries_at_any_level(tmp_path, columns, level, ids, names):
    gdf = gpd.GeoDataFrame(
        columns,
        geometry=TWO_BOXES,
        crs=4326,
    )
    gdf.to_file(tmp_path / "b.geojson")
    b = read_boundaries(tmp_path / "b.geojson")
    assert b.attrs["level"] == level
    assert b["district_id"].tolist() == ids and b["name"].tolist() == names


def test_duplicate_and_conflicting_coordinate_columns(tmp_path):
    """Two 'lon' columns, or 'lon' and '经度' that disagree: the reader cannot know which is
    right and says so (identical copies are fine)."""
    dup = write(tmp_path, "d.csv", "name,category,lon,lat,lon\nx,clinic,107.03,33.07,107.05\n")
    with pytest.raises(InputError, match="column 'lon' more than once"):
        read_facilities(dup)
    both = write(tmp_path, "b.csv", "name,category,lon,lat,经度\nx,clinic,107.03,33.07,107.35\n")
    with pytest.raises(InputError) as e:
        read_facilities(both)
    assert "'lon' and '经度' both mean lon but hold different values" in one_line(e)
    same = write(tmp_path, "s.csv", "name,category,lon,lat,经度\nx,clinic,107.03,33.07,107.030\n")
    assert read_facilities(same).geometry.x.tolist() == [107.03]
    ok = write(tmp_path, "n.csv", "name,category,lon,lat,备注,备注\nx,clinic,107.03,33.07,a,b\n")
    assert len(read_facilities(ok)) == 1


def test_workbook_with_data_on_several_sheets(tmp_path):
    """34 kindergartens over two district sheets plus a notes sheet: all 34 are read (not
    just the first sheet's 20); sheets with different columns must be chosen."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["本表由教育局提供"])
    for name, n, x0 in (("汉台区", 20, 107.00), ("南郑区", 14, 106.95)):
        ws = wb.create_sheet(name)
        ws.append(["名称", "类型", "经度", "纬度"])
        for i in range(n):
            ws.append([f"{name}幼儿园{i}", "幼儿园", x0 + i * 0.001, 33.05])
    wb.save(tmp_path / "kg.xlsx")
    f = read_facilities(tmp_path / "kg.xlsx")
    assert len(f) == 34 and f["name"].str.startswith("南郑区").sum() == 14
    assert len(read_facilities(tmp_path / "kg.xlsx", sheet="南郑区")) == 14
    odd = wb.create_sheet("勉县")  # data under headers hzspatial does not know: said, not dropped
    odd.append(["园名", "X坐标", "Y坐标"])
    for i in range(5):
        odd.append([f"勉县幼儿园{i}", 106.7, 33.15])
    wb.save(tmp_path / "kg_odd.xlsx")
    with pytest.warns(DataWarning, match="勉县 hold rows but no header"):
        assert len(read_facilities(tmp_path / "kg_odd.xlsx")) == 34
    del wb["勉县"]
    ws = wb["南郑区"]
    ws.cell(1, 5, "学位数")
    wb.save(tmp_path / "kg2.xlsx")
    with pytest.raises(InputError) as e:
        read_facilities(tmp_path / "kg2.xlsx")
    assert "汉台区, 南郑区" in one_line(e) and "--sheet" in one_line(e)
    ws.delete_cols(5)
    ws.cell(3, 3, "107.0x")
    wb.save(tmp_path / "kg3.xlsx")
    with pytest.raises(InputError, match="row 南郑区:3, column '经度'"):
        read_facilities(tmp_path / "kg3.xlsx")


def test_write_geojson_is_rfc7946_and_keeps_text_as_written(tmp_path):
    """Written in WGS84 whatever the frame's CRS, 6 decimals, null for missing or infinite
    values, names as written (JSON-escaped only), and read back by GDAL as they were."""
    from hzspatial.io import write_geojson

    utm = gpd.GeoDataFrame(
        {"name": ['=HYPERLINK("x")', "汉台区 <b>\"'", None], "v": [np.inf, np.nan, 1 / 3]},
        geometry=[shapely.Point(500_000, 3_660_000), None,
                  shapely.box(500_000, 3_660_000, 500_100, 3_660_100)],
        crs=32648,
    )  # fmt: skip
    write_geojson(utm, tmp_path / "a.geojson")
    doc = json.loads((tmp_path / "a.geojson").read_text("utf-8"))
    f = doc["features"]
    assert [x["properties"]["name"] for x in f] == ['=HYPERLINK("x")', "汉台区 <b>\"'", None]
    assert [x["properties"]["v"] for x in f] == [None, None, 0.333333333333333]
    assert f[1]["geometry"] is None
    lon, lat = f[0]["geometry"]["coordinates"]
    assert (lon, lat) == (round(lon, 6), round(lat, 6)) and 104 < lon < 106 and 33 < lat < 33.1
    back = gpd.read_file(tmp_path / "a.geojson")
    assert back.crs.to_epsg() == 4326
    ref = utm.to_crs(4326).geometry
    assert shapely.equals_exact(back.geometry[2], ref[2], tolerance=1e-6)


def test_write_xlsx_cells_read_back_by_openpyxl(tmp_path):
    """hzspatial's XLSX writer against an independent reader: types, values, text that looks
    like a formula, characters XML cannot hold, blanks, infinities, header and sheet names."""
    import openpyxl

    from hzspatial.io import write_xlsx

    text = ['=HYPERLINK("http://x","y")', "+8613800000000", "@SUM(A1)", " 两端空格 ", "a\x01b",
            "<&>]]>\"'", None]  # fmt: skip
    df = pd.DataFrame({
        "文本 / text": text,
        "float": [0.1, 1e-300, -2.5, np.nan, np.inf, -np.inf, 43.5],
        "int": [2**53 + 1, -7, 0, 1, 2, 3, 4],
        "Int64": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
        "bool": [True, False, True, False, True, False, True],
        "mixed": [np.float64(1.25), np.int64(9), True, None, float("nan"), np.inf, "x"],
    })  # fmt: skip
    long = pd.DataFrame({"long": ["x" * 40_000]})
    names = ["a/b: [1]?", "A/B: [1]?", "x" * 40, "long"]
    path = write_xlsx(dict(zip(names, [df, df.head(1), df.head(2), long], strict=True)),
                      tmp_path / "t.xlsx")  # fmt: skip
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["a_b_ _1__", "A_B_ _1__ (2)", "x" * 31, "long"]
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and not ws["A2"].font.b
    assert [c.value for c in ws[1]] == list(df.columns)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    cells = list(ws.iter_rows(min_row=2))
    assert [r[0] for r in rows] == [*text[:4], "a\ufffdb", text[5], None]
    assert all(c[0].data_type == "s" for c in cells[:6])  # text, never a formula
    assert [r[1] for r in rows[:3]] == [0.1, 1e-300, -2.5]  # exact: repr round-trips
    assert rows[3][1] is None and rows[6][1] == 43.5
    assert [(c[1].data_type, c[1].value) for c in cells[4:6]] == [("e", "#NUM!")] * 2
    assert [r[2] for r in rows] == [2**53 + 1, -7, 0, 1, 2, 3, 4]
    assert [r[3] for r in rows] == [1, None, 3, 4, 5, 6, 7]
    assert [r[4] for r in rows] == [True, False] * 3 + [True]
    assert [r[5] for r in rows] == [1.25, 9, True, None, None, "#NUM!", "x"]
    assert wb["long"]["A2"].value == "x" * 32_767  # Excel's most characters in a cell
    assert pd.read_excel(path, sheet_name=2).shape == (2, 6)


def test_html_text_leaves_nothing_a_template_or_script_could_run():
    import jinja2

    from hzspatial.io.writers import html_text

    text = "{{ 7*7 }}{% if 1 %}X{% endif %}</script>`${a}`\\"
    safe = html_text(text)
    assert not set("<>{}`$\\") & set(safe)
    assert jinja2.Template(safe).render() == safe  # nothing for Jinja to evaluate
    import html

    assert html.unescape(safe) == text  # browsers show it as written


def test_write_xlsx_columns_fit_headings_and_values(tmp_path):
    """Column widths read back by openpyxl: wide enough for the heading (Chinese characters
    count twice) and most values, never narrower than 8 or wider than 40 characters."""
    import openpyxl

    from hzspatial.io import write_xlsx

    df = pd.DataFrame(
        {
            "服务不足居民 / Residents underserved": [1.5, 2.25],
            "n": [3, 4],
            "long": ["x" * 100, "y"],
            "中文名称": ["汉台区中心社区"] * 2,
        }
    )
    ws = openpyxl.load_workbook(write_xlsx({"s": df}, tmp_path / "w.xlsx"))["s"]
    width = [ws.column_dimensions[c].width for c in "ABCD"]
    assert width[0] == pytest.approx(6 * 2 + 24 + 2)  # the heading: 6 wide + 24 narrow
    assert width[1] == 8.0 and width[2] == 40.0
    assert width[3] == pytest.approx(7 * 2 + 2)  # its values, wider than its heading


def test_csv_headers_are_defused_like_cells(tmp_path):
    """A category or standard id like "=cmd|'/C calc'!" became a header that Excel runs."""
    from hzspatial.io import write_csv

    df = pd.DataFrame({"=cmd|'/C calc'!A0_covered": [1.0], "+1+1": ["@x"], "ok": [2]})
    write_csv(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == ["'=cmd|'/C calc'!A0_covered", "'+1+1", "ok"]
    assert back.iloc[0, 1] == "'@x"


@pytest.mark.parametrize("name", ["vrt_passwd.geojson", "gml_content.geojson"])
def test_layer_content_must_be_the_format_its_name_says(name, tmp_path):
    """A ".geojson" that is really a GDAL VRT running SQL over /etc/passwd was read (its lines
    became residents); GML content made GDAL write a .gfs beside the user's file."""
    from hzspatial.io import read_population

    src = Path(__file__).parent / "hostile" / "population" / name
    p = tmp_path / name
    p.write_bytes(src.read_bytes())
    with pytest.raises(InputError, match="content is not GEOJSON"):
        read_population(p)
    assert sorted(x.name for x in tmp_path.iterdir()) == [name]  # nothing written beside it


def test_a_workbook_that_inflates_beyond_the_limit_is_refused_unopened(tmp_path, monkeypatch):
    """A 5 MB .xlsx whose sheet inflated to 5 GiB peaked at 5.4 GB of memory."""
    import zipfile

    from hzspatial.io import _files

    monkeypatch.setattr(_files, "XLSX_MAX_BYTES", 2**20)  # 1 MB here; 512 MB in use
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (4 * 2**20) + b">")
    assert p.stat().st_size < 100_000
    with pytest.raises(InputError, match="inflates to 4 MB"):
        read_facilities(p)


@pytest.mark.parametrize("value", ["inf", "1e999", "-inf"])
def test_infinite_numbers_are_refused_like_text(value, tmp_path):
    """Capacities of inf were accepted ("unreachable … MET"); inf population crashed."""
    from hzspatial.io import read_population

    p = write(tmp_path, "f.csv", f"名称,类别,经度,纬度,床位\na,养老院,107.03,33.07,{value}\n")
    with pytest.raises(InputError, match="not a finite number"):
        read_facilities(p)
    q = write(tmp_path, "p.csv", f"lon,lat,population\n107.03,33.07,{value}\n")
    with pytest.raises(InputError, match="not a finite number"):
        read_population(q)


def test_gbk_dbf_under_a_cpg_that_says_utf8_is_read_as_gbk(tmp_path):
    """A GBK .dbf whose .cpg says UTF-8 crashed with a UnicodeDecodeError."""
    g = gpd.GeoDataFrame({"名称": ["龙城幼儿园", "黄阁幼儿园"], "类别": ["幼儿园"] * 2},
                         geometry=[shapely.Point(107.03, 33.07), shapely.Point(107.04, 33.07)],
                         crs=4326)  # fmt: skip
    g.to_file(tmp_path / "k.shp", encoding="gbk")
    (tmp_path / "k.cpg").write_text("UTF-8")
    f = read_facilities(tmp_path / "k.shp")
    assert f["name"].tolist() == ["龙城幼儿园", "黄阁幼儿园"]
    assert set(f["category"]) == {"kindergarten"}


@pytest.mark.parametrize("text", [
    "name,category,'s lon,lat\nA,幼儿园,107.03,33.07\nB,幼儿园,107.04,33.07\n",
    'name,category,lon,lat\n"A\r\nsecond line",幼儿园,107.03,33.07\nB,幼儿园,107.04,33.07\n',
    "name,category,lon,lat\rA,幼儿园,107.03,33.07\rB,幼儿园,107.04,33.07\r",
    "name;category;lon;lat\nA;幼儿园;107,03;33,07\n",
])  # fmt: skip
def test_valid_csvs_of_every_shape_are_read(text, tmp_path):
    """A header with ' and spaces made the sniffer choose space; quoted fields with CR/LF and
    CR-only line ends were refused."""
    p = tmp_path / "f.csv"
    p.write_bytes(text.encode("utf-8"))
    if ";" in text:
        with pytest.raises(InputError, match="decimal comma"):  # said, not read as 10703
            read_facilities(p, columns={"lon": "lon", "lat": "lat"})
        return
    f = read_facilities(p, columns={"lon": "'s lon"} if "'s lon" in text else None)
    assert len(f) == 2 and set(f["category"]) == {"kindergarten"}


def test_a_hidden_sheet_is_not_merged_in(tmp_path):
    """A hidden sheet's rows were read together with the visible table."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名录"
    ws.append(["名称", "类别", "经度", "纬度"])
    ws.append(["甲幼儿园", "幼儿园", 107.03, 33.07])
    old = wb.create_sheet("旧表")
    old.append(["名称", "类别", "经度", "纬度"])
    old.append(["已撤销幼儿园", "幼儿园", 107.04, 33.07])
    old.sheet_state = "hidden"
    wb.save(tmp_path / "k.xlsx")
    f = read_facilities(tmp_path / "k.xlsx")
    assert f["name"].tolist() == ["甲幼儿园"]
    assert read_facilities(tmp_path / "k.xlsx", sheet="旧表")["name"].tolist() == ["已撤销幼儿园"]


def test_western_european_text_is_not_read_as_central_european(tmp_path):
    """A Latin-1 file was guessed as cp1250 ("Crčche")."""
    p = tmp_path / "f.csv"
    p.write_bytes("名称,category,lon,lat\nCrèche Émile,kindergarten,107.03,33.07\n"
                  "Café,kindergarten,107.04,33.07\n".replace("名称", "name").encode("latin-1"))
    f = read_facilities(p)
    assert f["name"].tolist() == ["Crèche Émile", "Café"]


def test_a_subtype_column_is_read_and_an_unknown_subtype_named(tmp_path):
    """A 子类型 column was ignored (the subtype came from the type or name only): a day-care
    centre named 敬老院 counted as a nursing home. Ids and aliases are read; blank cells keep
    what the name says; an unknown value stops with its row and the choices."""
    f = tmp_path / "eld.csv"
    f.write_text("名称,类别,子类型,经度,纬度\n"
                 "城东敬老院,elderly_care,daycare,107.02,33.07\n"
                 "城西日间照料中心,elderly_care,,107.03,33.07\n"
                 "城南养老院,elderly_care,日间照料中心,107.04,33.07\n", "utf-8")  # fmt: skip
    fac = read_facilities(f, crs="wgs84")
    assert fac["subtype"].tolist() == ["daycare", "daycare", "daycare"]
    f.write_text("名称,类别,子类型,经度,纬度\n城东敬老院,elderly_care,托老所X,107.02,33.07\n",
                 "utf-8")  # fmt: skip
    with pytest.raises(InputError, match=r"row 2.*子类型.*unknown subtype '托老所X'.*daycare"):
        read_facilities(f, crs="wgs84")


def test_one_facility_file_need_not_be_in_a_list():
    from hzspatial.datasets import demo_paths
    from hzspatial.io.facilities import facility_items

    path = demo_paths()["facilities"]
    one, listed = facility_items(path), facility_items([path])
    assert [i.path for i in one] == [i.path for i in listed] == [path]


def test_gpkg_keeps_columns_a_geopackage_would_refuse(tmp_path):
    """An ArcGIS export's FID, a column named geom, a file's Name beside hzspatial's name:
    SQLite names ignore case and fid/geom are the layer's own, so GDAL refused the layer (the
    run crashed while writing results.gpkg). Now renamed, every value kept."""
    import geopandas as gpd
    import pyogrio
    import shapely

    from hzspatial.io import write_gpkg

    gdf = gpd.GeoDataFrame({"fid": ["a", "b"], "FID": [1.5, 2.0], "geom": ["x", "y"],
                            "name": ["园1", "园2"], "Name": ["N1", "N2"]},
                           geometry=shapely.points([[107.0, 33.0], [107.1, 33.1]]),
                           crs=4326)  # fmt: skip
    path = tmp_path / "r.gpkg"
    assert write_gpkg([("facilities", gdf, None)], path) == ["facilities"]
    back = pyogrio.read_dataframe(path, layer="facilities")
    assert back.drop(columns="geometry").to_dict("list") == {
        "fid_2": ["a", "b"], "FID_3": [1.5, 2.0], "geom_2": ["x", "y"], "name": ["园1", "园2"],
        "Name_2": ["N1", "N2"]}
    assert shapely.equals(back.geometry.to_numpy(), gdf.geometry.to_numpy()).all()


def test_a_geopackage_of_several_layers_is_refused_not_read_at_its_first(tmp_path):
    """A bureau's GeoPackage holding clinics and kindergartens: read without saying which,
    GDAL gave the first layer and the run answered for clinics. Now one line names the layers;
    a single-layer GeoPackage (plus an attribute table) still reads."""
    pts = gpd.GeoDataFrame({"name": ["a"], "category": ["clinic"]},
                           geometry=[shapely.Point(107.03, 33.07)], crs=4326)  # fmt: skip
    two = tmp_path / "poi.gpkg"
    pts.to_file(two, layer="clinics")
    pts.assign(category="kindergarten").to_file(two, layer="kindergartens")
    with pytest.raises(InputError, match=r"holds 2 layers \(clinics, kindergartens\)") as e:
        read_facilities(two)
    assert "poi.gpkg" in e.value.line() and "\n" not in e.value.line()
    one = tmp_path / "one.gpkg"
    pts.to_file(one, layer="clinics")
    pd.DataFrame({"note": ["x"]}).pipe(gpd.GeoDataFrame).to_file(one, layer="notes")
    assert len(read_facilities(one)) == 1
