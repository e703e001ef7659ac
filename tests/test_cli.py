"""The console script end to end: the demo, its outputs, and one-line user errors."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hzspatial.datasets import demo_paths

EXE = shutil.which("hzspatial") or str(Path(sys.executable).parent / "hzspatial")


def run(*args, cwd=None):
    return subprocess.run(
        [EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_demo_writes_every_output(demo_out):
    out, proc = demo_out
    for name in (
        "summary.json",
        "coverage_by_district.csv",
        "ratios.csv",
        "catchments.geojson",
        "underserved.geojson",
        "map.html",
    ):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.parent.glob(".*partial"))


def test_demo_prints_table_and_synthetic_label(demo_out):
    _, proc = demo_out
    assert "DATA: synthetic demo data" in proc.stdout
    assert "幼儿园 / Kindergarten" in proc.stdout
    assert "南郑区 (610703)" in proc.stdout and "population unknown" in proc.stdout
    assert (
        "elderly_land_per_resident" in proc.stdout and "football_pitches_per_10000" in proc.stdout
    )


def test_summary_contract(demo_out):
    out, _ = demo_out
    s = json.loads((out / "summary.json").read_text("utf-8"))
    for key in (
        "population",
        "threshold_minutes",
        "speed_kmh",
        "categories",
        "districts",
        "standards",
        "data_labels",
        "inputs",
        "version",
    ):
        assert key in s
    blocks = gpd.read_file(demo_paths()["population"])
    assert s["population"] == int(blocks["population"].sum()) == 459_244
    assert s["threshold_minutes"] == 15 and s["speed_kmh"] == 4 and s["threshold_m"] == 1000
    assert set(s["categories"]) == {"elderly_care", "clinic", "football_pitch", "kindergarten",
                                    "childcare"}
    for c in s["categories"].values():
        assert set(c) >= {
            "facilities",
            "covered_population",
            "coverage_share",
            "median_distance_m",
            "p90_distance_m",
        }
        assert 0 < c["coverage_share"] < 1
    assert s["data_labels"] == ["synthetic demo data"]
    ids = {x["id"] for x in s["standards"]}
    assert {"elderly_land_per_resident", "football_pitches_per_10000"} <= ids
    for x in s["standards"]:
        assert set(x) >= {
            "id",
            "category",
            "metric",
            "target",
            "value",
            "unit",
            "met",
            "verified",
            "source",
        }
    nanzheng = next(d for d in s["districts"] if d["adcode"] == "610703")
    assert nanzheng["census_population"] is None and nanzheng["census_note"] == "population unknown"
    assert all(len(i["sha256"]) == 64 for i in s["inputs"])


def test_ratios_recomputed_independently(demo_out):
    """Elderly land per resident from the raw files, by hand with pandas/geopandas."""
    out, _ = demo_out
    s = json.loads((out / "summary.json").read_text("utf-8"))
    fac = pd.read_csv(demo_paths()["facilities"])
    land = fac.loc[fac["category"] == "elderly_care", "area_m2"].sum()
    pitches = (fac["category"] == "football_pitch").sum()
    people = gpd.read_file(demo_paths()["population"])["population"].sum()
    std = {x["id"]: x for x in s["standards"]}
    assert std["elderly_land_per_resident"]["value"] == pytest.approx(land / people)
    assert std["football_pitches_per_10000"]["value"] == pytest.approx(pitches / people * 10_000)
    assert std["football_pitches_per_10000"]["met"] is False
    by_d = pd.read_csv(out / "coverage_by_district.csv", dtype={"district_id": str})
    assert set(by_d["district_id"]) == {"610702", "610703"}
    assert by_d["residents_analysed"].sum() == pytest.approx(people)


def test_map_has_layers_and_badge(demo_out):
    out, _ = demo_out
    html = (out / "map.html").read_text("utf-8")
    assert "hz-synthetic-badge" in html and "synthetic demo data" in html
    assert "15分钟生活圈" in html and "幼儿园 / Kindergarten" in html
    assert (out / "map.html").stat().st_size < 15e6


def test_catchments_layer(demo_out):
    out, _ = demo_out
    c = gpd.read_file(out / "catchments.geojson")
    assert len(c) == 181 and c.crs.to_epsg() == 4326
    assert set(c.columns) >= {"facility_id", "category", "minutes", "metres", "area_m2"}
    # a 1000 m walk on a street grid covers well under the 3.14 km² of a 1 km circle
    assert 0.2e6 < c["area_m2"].median() < 3.14e6


def _assert_user_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("hzspatial: error: ")
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[-1]


def test_cli_missing_facility_file(tmp_path):
    p = demo_paths()
    out = tmp_path / "out"
    proc = run(
        "coverage",
        "--network",
        p["network"],
        "--facilities",
        tmp_path / "none.csv",
        "--population",
        p["population"],
        "--out",
        out,
    )
    _assert_user_error(proc, "none.csv", "file not found")
    assert not out.exists()


def test_cli_bad_rows_name_file_row_column(tmp_path):
    p = demo_paths()
    bad = tmp_path / "fac.csv"
    bad.write_text(
        "名称,类型,经度,纬度\n甲,幼儿园,107.03,33.06\n乙,幼儿园,107.0x,33.06\n", encoding="gb18030"
    )
    out = tmp_path / "out"
    proc = run(
        "coverage",
        "--network",
        p["network"],
        "--facilities",
        bad,
        "--population",
        p["population"],
        "--out",
        out,
    )
    _assert_user_error(proc, "fac.csv", "row 3", "column '经度'")
    assert not out.exists()
    # the browser and the drawing process start with the output writer, before the analysis:
    # a run that stops on bad input leaves neither running
    left = subprocess.run(["pgrep", "-f", str(out)], capture_output=True, text=True)
    assert left.stdout == ""


def test_cli_coverage_with_category_option(tmp_path):
    p = demo_paths()
    fac = pd.read_csv(p["facilities"])
    kg = fac[fac["category"] == "kindergarten"].drop(columns=["category"])
    f = tmp_path / "kg.csv"
    kg.to_csv(f, index=False)
    out = tmp_path / "out"
    proc = run(
        "coverage",
        "--network",
        p["network"],
        "--facilities",
        f,
        "--category",
        "幼儿园",
        "--population",
        p["population"],
        "--minutes",
        "10",
        "--out",
        out,
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert list(s["categories"]) == ["kindergarten"] and s["threshold_m"] == pytest.approx(
        666.7, abs=0.1
    )


def test_cli_standards_listing():
    proc = run("standards")
    assert proc.returncode == 0 and "UNVERIFIED" in proc.stdout
    data = json.loads(run("standards", "--json").stdout)
    assert any(d["id"] == "football_pitches_per_10000" for d in data)


def test_cli_column_mapping_errors(tmp_path):
    p = demo_paths()
    f = tmp_path / "f.csv"
    f.write_text("设施,分类,X,Y\n甲,clinic,107.03,33.06\n", encoding="utf-8")
    args = [
        "coverage",
        "--network",
        p["network"],
        "--facilities",
        f,
        "--population",
        p["population"],
        "--out",
        tmp_path / "out",
    ]
    _assert_user_error(run(*args, "--columns", "name=设施,lon"), "--columns", "'lon'")
    _assert_user_error(
        run(*args, "--columns", "lon=X,lat=Z"),
        "f.csv",
        "column 'Z' given for lat is not in the file",
        "columns found: 设施, 分类, X, Y",
    )


@pytest.mark.parametrize(
    ("value", "expect"),
    [
        ("kindergarten=abc", "cannot read threshold 'kindergarten=abc'"),
        ("kindergarten=-5", "cannot read threshold 'kindergarten=-5'"),
        ("swimming=10", "threshold for unknown category 'swimming'"),
    ],
)
def test_cli_bad_thresholds(tmp_path, value, expect):
    p = demo_paths()
    proc = run(
        "coverage",
        "--network",
        p["network"],
        "--facilities",
        p["facilities"],
        "--population",
        p["population"],
        "--threshold",
        value,
        "--out",
        tmp_path / "o",
    )
    _assert_user_error(proc, expect)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["demo", "--minutes", "inf"], "--minutes must be a finite number > 0 (got inf)"),
        (["demo", "--speed", "nan"], "--speed must be a finite number > 0 (got nan)"),
        (
            ["review", "--demo", "--proposal-households", "-5"],
            "--proposal-households must be a finite number ≥ 0",
        ),
        (
            ["review", "--demo", "--proposal-population", "nan"],
            "--proposal-population must be a finite number ≥ 0",
        ),
        (["review", "--demo", "--minutes", "0"], "--minutes must be a finite number > 0"),
        (["demo", "--mode", "plane"], "unknown travel mode 'plane'"),
        (["demo", "--mode", "clinic=plane"], "cannot read --mode 'clinic=plane'"),
        (["demo", "--mode", "car", "--mode", "bike"], "--mode given 2 times (car, bike)"),
        (["demo", "--mode", "bakery=car"], "travel mode for unknown category 'bakery'"),
        (["review", "--demo", "--mode", "clinic=car"],
         "review takes one travel mode for all categories"),
    ],
)
def test_nonsense_numbers_are_one_line_errors(tmp_path, args, needle):
    proc = run(*args, "--out", tmp_path / "out")
    _assert_user_error(proc, needle)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("snap", ["nan", "0", "-1", "inf"])
def test_max_snap_must_be_finite_and_positive(tmp_path, snap):
    p = demo_paths()
    proc = run("coverage", "--network", p["network"], "--facilities", p["facilities"],
               "--population", p["population"], "--max-snap", snap,
               "--out", tmp_path / "o")  # fmt: skip
    _assert_user_error(proc, "--max-snap must be a finite number > 0")


def test_every_option_of_every_subcommand_has_help():
    import argparse

    from hzspatial.cli import _parser

    ap = _parser()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {a.option_strings or a.dest}"
        for name, p in sub.choices.items()
        for a in p._actions
        if not a.help and not isinstance(a, argparse._HelpAction)
    ]
    assert missing == []
    assert set(sub.choices) == {"demo", "coverage", "review", "site", "batch", "standards", "serve"}


def test_tianditu_without_a_key_stops_before_the_analysis(tmp_path):
    """The Tianditu basemap needs $TIANDITU_KEY: said in one line before any work (it was found
    only when the map was written, after the whole analysis)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TIANDITU_KEY"}
    out = tmp_path / "out"
    proc = subprocess.run([EXE, "demo", "--basemap", "tianditu", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    _assert_user_error(proc, "basemap 'tianditu' needs an API key", "TIANDITU_KEY")
    assert "nearest facilities" not in proc.stderr  # no analysis was run
    assert not out.exists()


def test_names_reach_the_terminal_as_text_not_escape_sequences():
    """A name holding ESC[2J would clear the planner's terminal when printed."""
    from hzspatial.cli import _pad, _term

    assert _term("社区\x1b[2J\x07") == "社区\\x1b[2J\\x07"
    assert "\x1b" not in _pad("a\x1b[31m", 12) and _pad("ab", 4) == "ab  "


def test_demo_walks_the_synthetic_hills_and_says_what_slope_changed(demo_out, demo_run):
    """The demo walks on its synthetic DEM (labelled synthetic as an input); the summary gives
    coverage on the flat beside coverage with slope, per category and district — the flat
    figures equal a flat run's own coverage (run_coverage, no DEM), and the hills of 南郑区
    lower its coverage."""

    out, proc = demo_out
    s = json.loads((out / "summary.json").read_text("utf-8"))
    t = s["travel"]
    assert t["dem"].endswith("hanzhong_demo_dem.tif") and t["direction"] == "home → facility"
    assert "synthetic demo data" in " ".join(t["labels"])
    assert "dem (hanzhong_demo_dem.tif)" in s["synthetic_inputs"]
    assert "walking with the slopes of hanzhong_demo_dem.tif" in proc.stdout
    flat = demo_run  # run_coverage on the flat
    by_d = pd.read_csv(out / "coverage_by_district.csv", dtype={"district_id": str})
    flat_d = flat.districts.set_index("district_id")
    for cat, effect in s["slope_effect"].items():
        serves = flat.summary["categories"][cat]["serves"]
        assert effect["share_flat"] == pytest.approx(serves["share"], abs=1e-12), cat
        assert effect["share"] == pytest.approx(s["categories"][cat]["serves"]["share"])
        for d in effect["districts"]:
            key = f"{cat}_group_share" if serves["group"] != "all" else f"{cat}_coverage_share"
            assert d["share_flat"] == pytest.approx(flat_d.loc[d["district_id"], key]), cat
        assert f"{cat}_coverage_share_flat" in by_d.columns
    south = {d["district_id"]: d for d in s["slope_effect"]["elderly_care"]["districts"]}
    assert south["610703"]["share"] < south["610703"]["share_flat"] - 0.03
    assert "南郑区：考虑坡度后 15 分钟步行可达养老服务设施的60岁及以上老人由" in proc.stdout


def test_a_dem_with_another_mode_is_one_line_before_any_work(tmp_path):
    proc = run("coverage", "--network", "n.osm", "--facilities", "f.csv", "--population",
                "p.geojson", "--mode", "car", "--dem", "d.tif", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "a DEM changes walking times; --mode car does not use it" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_a_file_gdal_cannot_read_is_one_line_not_gdal_chatter(tmp_path):
    bad = tmp_path / "dem.tif"
    bad.write_text("not a raster")
    p = demo_paths()
    proc = run("coverage", "--network", p["network"], "--facilities", p["facilities"],
               "--population", p["population"], "--dem", bad, "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "GDAL signalled" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"hzspatial: error: {bad}: cannot read")
    assert not (tmp_path / "o").exists()
