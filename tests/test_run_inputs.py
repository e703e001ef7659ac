"""run_coverage with the inputs a planner really holds, on the demo streets (synthetic demo
data): a GCJ-02 kindergarten list beside WGS84 streets, a CGCS2000 Gauss–Krüger shapefile of
residents, and the synthetic-data label when only the streets are the demo's."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _demo import near_street_points

from hzspatial import FacilityInput, crs, run_coverage
from hzspatial.datasets import demo_paths
from hzspatial.errors import DataWarning, InputError
from hzspatial.network import read_network

EXE = str(Path(sys.executable).parent / "hzspatial")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """40 kindergartens beside demo streets (as address points lie), in WGS84 and as an Amap
    (GCJ-02) export; the demo blocks without their synthetic label, as the user's own."""
    tmp = tmp_path_factory.mktemp("inputs")
    lon, lat = near_street_points(read_network(demo_paths()["network"]))
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    names = [f"幼儿园{i}" for i in range(len(lon))]
    for name, x, y in (("wgs.csv", lon, lat), ("gcj.csv", glon, glat)):
        pd.DataFrame({"名称": names, "类别": "幼儿园", "经度": x, "纬度": y}).to_csv(
            tmp / name, index=False, float_format="%.8f"
        )
    blocks = gpd.read_file(demo_paths()["population"]).drop(columns=["source"])
    west = blocks.geometry.representative_point().x < 107.02
    blocks = blocks[west.to_numpy()].reset_index(drop=True)
    blocks.to_file(tmp / "blocks.geojson")
    return tmp, blocks


def coverage(files, fac, **kw):
    tmp, _ = files
    return run_coverage(demo_paths()["network"], [FacilityInput(tmp / fac)],
                        kw.pop("population", tmp / "blocks.geojson"), **kw)  # fmt: skip


@pytest.fixture(scope="module")
def truth(files):
    return coverage(files, "wgs.csv").summary


def same(a: dict, b: dict) -> None:
    assert a["network"]["length_km"] == pytest.approx(b["network"]["length_km"], abs=1e-9)
    assert a["population"] == b["population"]
    ka, kb = a["categories"]["kindergarten"], b["categories"]["kindergarten"]
    assert ka["covered_population"] == pytest.approx(kb["covered_population"], abs=1e-6)


def test_crs_in_applies_only_to_inputs_that_do_not_state_one(files, truth):
    """--crs-in gcj02 converts the CSV only: the GeoJSON streets and residents (WGS84 by
    RFC 7946) stay where they are, and coverage equals the hand-converted run."""
    res = coverage(files, "gcj.csv", crs_in="gcj02")
    same(res.summary, truth)


def test_declared_gcj02_equals_hand_conversion_without_warning(files, truth):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        res = coverage(files, "gcj.csv", facilities_crs="gcj02")
    same(res.summary, truth)
    fac = next(i for i in res.summary["inputs"] if i["role"] == "facilities")
    assert fac["crs"] == "gcj02"


def test_undeclared_gcj02_warns_and_strict_stops(files, truth):
    with pytest.warns(DataWarning, match=r"gcj\.csv: the facilities look like GCJ02.*"
                                         r"--facilities-crs gcj02"):  # fmt: skip
        res = coverage(files, "gcj.csv")
    assert (res.summary["categories"]["kindergarten"]["covered_population"]
            != truth["categories"]["kindergarten"]["covered_population"])  # fmt: skip
    with pytest.raises(InputError, match="--facilities-crs gcj02"):
        coverage(files, "gcj.csv", strict=True)


@pytest.mark.parametrize(
    ("with_prj", "options"),
    [(True, {"crs_in": "4545"}), (False, {"crs_in": "4545"}), (False, {"population_crs": 4545})],
)
def test_gauss_kruger_shapefile_residents_on_wgs84_streets(files, truth, tmp_path, with_prj,
                                                           options):  # fmt: skip
    """Residents in CGCS2000 / 3-degree GK CM 108°E (EPSG:4545) beside WGS84 streets, with
    --crs-in 4545 as the user gave it (the GeoJSON streets keep WGS84; the CSV's 经度/纬度
    columns plainly hold degrees), or declared for the residents."""
    _, blocks = files
    shp = tmp_path / "blocks.shp"
    blocks.to_crs(4545).to_file(shp)
    if not with_prj:
        shp.with_suffix(".prj").unlink()
    res = coverage(files, "wgs.csv", population=shp, **options)
    assert res.summary["population"] == truth["population"]
    a = res.summary["categories"]["kindergarten"]["covered_population"]
    b = truth["categories"]["kindergarten"]["covered_population"]
    assert a == pytest.approx(b, rel=1e-3)


def test_synthetic_label_names_only_the_synthetic_inputs(files, tmp_path):
    """Own facilities and residents on the demo streets: the banner, summary and map badge
    name the network only."""
    tmp, _ = files
    out = tmp_path / "out"
    proc = subprocess.run(
        [EXE, "coverage", "--network", str(demo_paths()["network"]), "--facilities",
         str(tmp / "wgs.csv"), "--population", str(tmp / "blocks.geojson"), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    banner = [ln for ln in proc.stdout.splitlines() if ln.startswith("DATA:")]
    assert banner == ["DATA: synthetic demo data in network (hanzhong_demo_streets.geojson) — "
                      "generated, not surveyed"]  # fmt: skip
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["synthetic_inputs"] == ["network (hanzhong_demo_streets.geojson)"]
    assert "network (hanzhong_demo_streets.geojson)" in (out / "map.html").read_text("utf-8")
    area = pd.read_csv(out / "coverage_by_area.csv", encoding="utf-8-sig")
    assert len(area) > 100
    share = area["kindergarten_share"]
    assert share[area["residents_analysed"] > 0].between(0, 1).all()
    assert share[area["residents_analysed"] == 0].isna().all()


def test_conflicting_and_impossible_residents_are_refused(files, tmp_path):
    """--residents-from-osm with --population was silently resolved; 1e12 residents at one
    point and an all-zero population ran on."""
    tmp, _ = files
    with pytest.raises(InputError, match="both --population and --residents-from-osm"):
        run_coverage(demo_paths()["network"], [FacilityInput(tmp / "wgs.csv")],
                     tmp / "blocks.geojson", residents_from_osm=True)  # fmt: skip
    with pytest.raises(InputError, match="--population-total is for --residents-from-osm"):
        run_coverage(demo_paths()["network"], [FacilityInput(tmp / "wgs.csv")],
                     tmp / "blocks.geojson", population_total=5000)  # fmt: skip
    for value, message in ((1e12, "more than any city"), (0, "every feature has 0")):
        p = tmp_path / f"pop{value:g}.csv"
        p.write_text(f"lon,lat,population\n107.03,33.07,{value}\n107.031,33.071,{value}\n")
        with pytest.raises(InputError, match=message):
            coverage(files, "wgs.csv", population=p)


def test_terminal_escapes_in_user_text_are_shown_not_obeyed():
    err = InputError("unknown category '\x1b[2J\x1b[31mX'", file="a.csv", hint="fix \x07 it")
    line = err.line()
    assert "\x1b" not in line and "\x07" not in line and "\\x1b[2J" in line


def test_a_wrongly_declared_network_system_is_not_blamed_on_the_boundaries(files):
    """A network declared in the wrong system landed elsewhere and the error blamed the
    boundaries (after minutes of noding a network squeezed into a 60 m square): degrees
    declared as Gauss–Krüger metres are now named at once."""
    with pytest.raises(InputError, match=r"hanzhong_demo_streets.*coordinates are degrees.*"
                                         r"not the metres of EPSG:4545"):  # fmt: skip
        coverage(files, "wgs.csv", network_crs="4545")


def test_removing_every_facility_of_a_category_is_refused_not_dropped(files):
    """A batch scenario removing the only facilities of a category crashed (no categories
    left) or, beside another category, made the category vanish from every table."""
    tmp, _ = files
    ids = [f"kindergarten-{i + 1}" for i in range(len(pd.read_csv(tmp / "wgs.csv")))]
    with pytest.raises(InputError, match="leaves no kindergarten facility"):
        coverage(files, "wgs.csv", exclude_facilities=ids)
