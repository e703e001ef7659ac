"""WorldPop age/sex rasters summed into the groups a facility serves: the bands and their
weights worked by hand, what would mislead refused in one line, and end to end the elderly
counted from the rasters (not census shares), per-district control totals, and the CLI and
batch taking the rasters."""

import math
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin
from test_raster import NODATA, run_batch, write_raster

from hzspatial import run_coverage
from hzspatial.errors import DataWarning, InputError
from hzspatial.io.agesex import find_age_rasters, group_weights

EXE = str(Path(sys.executable).parent / "hzspatial")
BANDS_2020 = [0, 1, *range(5, 81, 5)]


def touch(folder: Path, names) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")
    return folder


def test_the_bands_of_each_group_by_hand(tmp_path):
    old = touch(tmp_path / "old", [f"chn_{s}_{a}_2020.tif" for s in "fm" for a in BANDS_2020])
    found = find_age_rasters(old)
    assert found.top == 80 and found.missing == {}
    w, text, split = group_weights(found, 60, math.inf, "age_60plus")
    assert w == {60: 1.0, 65: 1.0, 70: 1.0, 75: 1.0, 80: 1.0} and not split
    assert "80+" in text
    # kindergarten ages 3, 4, 5: two of the four years 1–4 and one of the five years 5–9
    w, _, split = group_weights(found, 3, 6, "age_3_6")
    assert w == {1: 0.5, 5: 0.2} and split
    w, _, _ = group_weights(found, 0, 3, "age_0_3")  # under 1, and ages 1 and 2 of 1–4
    assert w == {0: 1.0, 1: 0.5}
    # R2025A: bands up to 90+, zero-padded ages, t (both sexes) used once where f and m exist
    new = touch(tmp_path / "new", [f"chn_{s}_{a:02d}_2026_CN_100m_R2025A_v1.tif"
                                   for s in "fmt" for a in [0, 1, *range(5, 91, 5)]])  # fmt: skip
    found = find_age_rasters(new)
    assert found.top == 90
    assert [p.name for p in found.bands[60][1]] == ["chn_t_60_2026_CN_100m_R2025A_v1.tif"]
    w, _, _ = group_weights(found, 65, math.inf, "age_65plus")
    assert sorted(w) == [65, 70, 75, 80, 85, 90]


@pytest.mark.parametrize("names, group, message", [
    (["chn_f_60_2020.tif", "chn_m_60_2020.tif", "chn_f_60_2015.tif"], (60, math.inf),
     r"mix years \(2015, 2020\)"),
    ([f"chn_f_{a}_2020.tif" for a in (60, 65, 70, 75, 80)], (60, math.inf),
     r"needs ages 60–64: no file of ages 60–64 \(only the female file\)"),
    ([f"chn_{s}_{a}_2020.tif" for s in "fm" for a in (60, 70, 75, 80)], (60, math.inf),
     r"needs ages 65–69: no file of ages 65–69"),
    (["chn_t_80_2020.tif"], (85, math.inf), r"would split the open top band 80\+"),
    (["chn_t_60_2020.tif", "chn_t_60_2020_constrained.tif"], (60, 65), r"mix releases"),
])  # fmt: skip
def test_what_would_undercount_is_refused(tmp_path, names, group, message):
    folder = touch(tmp_path / "ages", names)
    with pytest.raises(InputError, match=message) as e:
        group_weights(find_age_rasters(folder), *group, "g")
    assert "--age-rasters" in str(e.value)


def test_files_not_named_like_worldpop_are_refused(tmp_path):
    touch(tmp_path, ["elderly.tif"])
    with pytest.raises(InputError, match="not named like a WorldPop age/sex raster"):
        find_age_rasters([tmp_path / "elderly.tif"])
    with pytest.raises(InputError, match="no WorldPop age/sex raster"):
        find_age_rasters(tmp_path)


@pytest.fixture(scope="module")
def ages(tiny):
    """Age rasters on the grid of tests/test_raster.py's tiny street raster (60 cells of 100
    people): each of the 10 files of ages 60+ (5 bands × 2 sexes) holds 1 person per cell in
    the western 30 cells and 3 in the eastern 30 — 10 and 30 aged 60+ per cell, 1,200 in all."""
    from test_groups import LAT, lon_at

    folder = tiny / "ages"
    folder.mkdir(exist_ok=True)
    a = np.full((3, 60), NODATA)
    a[1, :30], a[1, 30:] = 1.0, 3.0
    for sex in "fm":
        for age in (60, 65, 70, 75, 80):
            write_raster(folder / f"chn_{sex}_{age}_2020.tif", a, "EPSG:4326",
                         from_origin(lon_at(0), LAT + 0.00075, 0.0005, 0.0005))  # fmt: skip
    return folder


def test_the_elderly_are_counted_from_the_age_rasters(tiny, ages):
    kw = dict(network=tiny / "streets.geojson", facilities=[tiny / "facilities.csv"],
              population=tiny / "pop.tif", boundaries=tiny / "area.geojson",
              require_standards=False)  # fmt: skip
    census = run_coverage(**kw).summary
    res = run_coverage(**kw, age_rasters=ages).summary
    serves = res["categories"]["elderly_care"]["serves"]
    assert serves["group"] == "age_60plus"
    assert serves["persons"] == pytest.approx(1200)
    # the centre at the western end reaches ~1 km: 21 cells of 46.6 m, 10 elderly each
    cells = np.arange(60) * 0.0005 + 0.00025
    near = int((cells * 111_320 * np.cos(np.radians(33.07)) <= 1000).sum())
    assert serves["covered"] == pytest.approx(10 * near, abs=10)
    assert "WorldPop age/sex rasters chn 2020" in serves["source"] and not serves["estimated"]
    # census shares give another count (汉台区's share of 6,000): the rasters were used
    assert census["categories"]["elderly_care"]["serves"]["persons"] != pytest.approx(1200)
    assert "census" in census["categories"]["elderly_care"]["serves"]["source"]


def test_rasters_on_another_grid_are_refused(tiny, tmp_path):
    from test_groups import LAT, lon_at

    a = np.full((3, 30), 1.0)
    for sex in "fm":
        for age in (60, 65, 70, 75, 80):
            write_raster(tmp_path / f"chn_{sex}_{age}_2020.tif", a, "EPSG:4326",
                         from_origin(lon_at(0), LAT + 0.00075, 0.001, 0.001))  # fmt: skip
    with pytest.raises(InputError, match="is not the population raster's"):
        run_coverage(tiny / "streets.geojson", [tiny / "facilities.csv"], tiny / "pop.tif",
                     tiny / "area.geojson", age_rasters=tmp_path, require_standards=False)


def test_more_elderly_than_people_is_warned_and_capped(tiny, tmp_path):
    from test_groups import LAT, lon_at

    a = np.full((3, 60), NODATA)
    a[1, :] = 30.0  # 300 aged 60+ per cell of 100 people: another year or product
    for sex in "fm":
        for age in (60, 65, 70, 75, 80):
            write_raster(tmp_path / f"chn_{sex}_{age}_2020.tif", a, "EPSG:4326",
                         from_origin(lon_at(0), LAT + 0.00075, 0.0005, 0.0005))  # fmt: skip
    with pytest.warns(DataWarning, match="above their cells' people"):
        res = run_coverage(tiny / "streets.geojson", [tiny / "facilities.csv"], tiny / "pop.tif",
                           tiny / "area.geojson", age_rasters=tmp_path, require_standards=False)
    assert res.summary["categories"]["elderly_care"]["serves"]["persons"] == pytest.approx(6000)


def test_control_totals_rescale_each_area(tiny, ages, tmp_path):
    """West area: 3,000 raster people, recorded 6,000 (× 2); east: 3,000, recorded 1,500
    (× 0.5). The elderly scale with their cells: 300 × 2 + 900 × 0.5 = 1,050."""
    from test_groups import LAT, lon_at

    mid = lon_at(0) + 30 * 0.0005
    gpd.GeoDataFrame({"adcode": ["W", "E"], "name": ["西", "东"], "population": [6000, 1500]},
                     geometry=[shapely.box(lon_at(-300), LAT - 0.01, mid, LAT + 0.01),
                               shapely.box(mid, LAT - 0.01, lon_at(3300), LAT + 0.01)],
                     crs=4326).to_file(tmp_path / "two.geojson")  # fmt: skip
    res = run_coverage(tiny / "streets.geojson", [tiny / "facilities.csv"], tiny / "pop.tif",
                       tmp_path / "two.geojson", age_rasters=ages, control_totals=True,
                       require_standards=False).summary  # fmt: skip
    assert res["population"] == 7500
    by = {d["adcode"]: d["population"] for d in res["districts"]}
    assert by == pytest.approx({"W": 6000, "E": 1500})
    assert res["categories"]["elderly_care"]["serves"]["persons"] == pytest.approx(1050)
    with pytest.raises(InputError, match="--control-totals"):
        run_coverage(tiny / "streets.geojson", [tiny / "facilities.csv"], tiny / "pop.tif",
                     tmp_path / "two.geojson", control_totals=True, population_total=10,
                     require_standards=False)  # fmt: skip


def test_the_cli_and_batch_take_the_age_rasters(tiny, ages, tmp_path):
    common = ["--network", str(tiny / "streets.geojson"), "--facilities",
              str(tiny / "facilities.csv"), "--population", str(tiny / "pop.tif"),
              "--boundaries", str(tiny / "area.geojson"), "--age-rasters", str(ages)]  # fmt: skip
    p = subprocess.run([EXE, "coverage", *common, "--out", str(tmp_path / "c"),
                        "--no-standards-check"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-800:]
    assert "WorldPop age/sex rasters" in p.stdout + p.stderr
    p = subprocess.run([EXE, "coverage", "--network", str(tiny / "streets.geojson"),
                        "--facilities", str(tiny / "facilities.csv"), "--population",
                        str(tiny / "facilities.csv"), "--age-rasters", str(ages), "--out",
                        str(tmp_path / "bad")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "--age-rasters goes with a population raster" in p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "bad").exists()
    run_batch(tiny, tmp_path, f'age_rasters = "{ages}"\nrequire_standards = false\n')
