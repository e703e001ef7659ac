"""Readers: formats, Chinese headers, encodings, coordinate systems and every user error."""

import json
import warnings

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
