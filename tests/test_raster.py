"""Population rasters (people per cell, GeoTIFF as WorldPop and GHS-POP publish them) read as
residents: sums checked against rasterio's own, nodata and cells outside the boundaries
dropped and counted, coarse cells split, the same people in two coordinate systems giving
the same coverage, and the raster working in coverage, review, site, batch and the study."""

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from _demo import near_street_points
from rasterio.transform import from_origin

from hzspatial import Study, run_coverage
from hzspatial.datasets import demo_paths
from hzspatial.errors import InputError
from hzspatial.io import read_population_raster
from hzspatial.network import read_network

EXE = str(Path(sys.executable).parent / "hzspatial")
NODATA = -99999.0


def write_raster(path, a, crs, transform, nodata=NODATA):
    with rasterio.open(path, "w", driver="GTiff", height=a.shape[0], width=a.shape[1], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=nodata,
                       tiled=True, blockxsize=16, blockysize=16, compress="deflate",
                       BIGTIFF="IF_SAFER") as ds:  # fmt: skip
        ds.write(a.astype("float32"), 1)
    return path


@pytest.fixture
def small(tmp_path):
    """40 × 30 cells of 0.001° (≈ 93 × 111 m) at 107.0 °E, 33.07 °N: people, zeros, nodata
    and NaN."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 50, (30, 40)).astype(float)
    a[rng.random(a.shape) < 0.3] = NODATA
    a[5, 7] = np.nan
    return write_raster(tmp_path / "pop.tif", a, "EPSG:4326",
                        from_origin(107.0, 33.085, 0.001, 0.001)), a  # fmt: skip


def test_the_sum_is_rasterios_and_nodata_is_dropped(small):
    path, a = small
    with rasterio.open(path) as ds:
        m = ds.read(1, masked=True)
        want = float(np.nansum(m.filled(0).astype(float)))
        n_nodata = int(m.mask.sum()) + int(np.isnan(m.filled(0)).sum())
    got = read_population_raster(path, split_m=200)
    info = got.attrs["raster"]
    assert got["population"].sum() == pytest.approx(want, rel=1e-12)
    assert info["people_read"] == pytest.approx(want, rel=1e-12)
    assert info["nodata"] == n_nodata
    assert info["populated_cells"] == int(((a > 0) & np.isfinite(a)).sum()) == len(got)
    # each point is its cell's centre
    r, c = 12, 20
    row = got[got["demand_id"] == f"r{r}c{c}"]
    if a[r, c] > 0:
        assert row.geometry.x.iloc[0] == pytest.approx(107.0 + (c + 0.5) * 0.001)
        assert row.geometry.y.iloc[0] == pytest.approx(33.085 - (r + 0.5) * 0.001)
        assert row["population"].iloc[0] == a[r, c]


def test_cells_outside_the_boundaries_are_dropped_and_counted(small):
    path, a = small
    # a triangle on the raster's north and west edges (its extent is the raster's: every
    # cell is read, and those beyond the hypotenuse are outside)
    area = shapely.Polygon([(107.0, 33.085), (107.04, 33.085), (107.0, 33.055)])
    got = read_population_raster(path, study_area=area, split_m=200)
    cols = np.arange(40)[None, :] + 0.5
    rows = np.arange(30)[:, None] + 0.5
    inside = cols / 40 + rows / 30 < 1
    ok = np.isfinite(a) & (a > 0)
    assert got["population"].sum() == pytest.approx(a[ok & inside].sum())
    assert got.attrs["raster"]["people_outside"] == pytest.approx(a[ok & ~inside].sum())


def test_coarse_cells_are_split_keeping_their_people(tmp_path):
    a = np.full((3, 3), NODATA)
    a[1, 1] = 1000.0
    path = write_raster(tmp_path / "km.tif", a, "EPSG:32648",
                        from_origin(500_000, 3_660_000, 1000, 1000))  # fmt: skip
    got = read_population_raster(path)
    assert len(got) == 100 and got["population"].sum() == pytest.approx(1000)
    assert got.attrs["raster"]["split"] == 10
    xy = gpd.GeoSeries(got.geometry, crs=4326).to_crs(32648)
    assert xy.x.min() == pytest.approx(501_050, abs=1e-3)
    assert xy.y.max() == pytest.approx(3_658_950, abs=1e-3)
    scaled = read_population_raster(path, population_total=250)
    assert scaled["population"].sum() == pytest.approx(250)


@pytest.mark.parametrize("case, message", [
    ("negative", "negative people"), ("no_crs", "states no coordinate system"),
    ("not_raster", "not a raster"),
])  # fmt: skip
def test_bad_rasters_are_refused_in_one_line(tmp_path, case, message):
    a = np.ones((4, 4))
    path = tmp_path / "bad.tif"
    if case == "negative":
        a[2, 3] = -5
        write_raster(path, a, "EPSG:4326", from_origin(107, 33, 0.001, 0.001))
    elif case == "no_crs":
        write_raster(path, a, None, from_origin(107, 33, 0.001, 0.001))
    else:
        path.write_text("not a raster", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_population_raster(path)
    text = str(err.value)
    assert message in text and "bad.tif" in text and "\n" not in text
    if case == "negative":
        assert "row 2, column 3" in text
    if case == "no_crs":  # declared, it is read
        assert len(read_population_raster(path, crs=4326, split_m=200)) == 16


def _grid(x, y, p, cell):
    """People ``p`` at ``x``, ``y`` summed into square cells of ``cell`` (the points' units):
    the array and its north-west corner."""
    x0, y1 = np.floor(x.min() / cell) * cell - cell, np.ceil(y.max() / cell) * cell + cell
    h, w = int((y1 - y.min()) / cell) + 2, int((x.max() - x0) / cell) + 2
    a = np.zeros((h, w))
    np.add.at(a, (((y1 - y) / cell).astype(int), ((x - x0) / cell).astype(int)), p)
    return np.where(a > 0, a, NODATA), x0, y1


def test_crs_in_never_overrides_what_the_raster_states(small):
    """``--crs-in`` (GCJ-02 for Amap tables, or a projected code) is the default for files that
    do not say: a raster stating EPSG:4326 keeps it (it was overridden: refused, or read in
    the wrong system in silence)."""
    path, _ = small
    want = read_population_raster(path, split_m=200)
    for default in ("gcj02", 4545):
        got = read_population_raster(path, default_crs=default, split_m=200)
        assert got.attrs["raster"]["crs"] == "EPSG:4326"
        assert np.allclose(got.geometry.x, want.geometry.x)
    with pytest.raises(InputError, match="GCJ02 is not supported"):
        read_population_raster(path, crs="gcj02")


def test_the_same_people_in_two_coordinate_systems_give_the_same_coverage(tmp_path):
    """4,000 homes 5–15 m beside the demo's streets gridded in UTM 48N (2 m cells) and in
    EPSG:4326 (0.00002°, ≈ 2 m): every cell centre within 1.5 m of its people, and coverage
    agreeing within 0.1 percentage point. (Homes midway between two streets are left out of
    such a test: a metre decides which street they walk from.)"""
    d = demo_paths()
    lon, lat = near_street_points(read_network(d["network"]), 4000, seed=5)
    p = np.random.default_rng(5).integers(10, 200, len(lon)).astype(float)
    ll = gpd.GeoSeries(shapely.points(lon, lat), crs=4326)
    utm = ll.to_crs(32648)
    a, x0, y1 = _grid(utm.x.to_numpy(), utm.y.to_numpy(), p, 2.0)
    in_utm = write_raster(tmp_path / "utm.tif", a, "EPSG:32648", from_origin(x0, y1, 2, 2))
    a, x0, y1 = _grid(lon, lat, p, 0.00002)
    in_wgs = write_raster(tmp_path / "wgs.tif", a, "EPSG:4326",
                          from_origin(x0, y1, 0.00002, 0.00002))  # fmt: skip
    runs = [run_coverage(d["network"], [d["facilities"]], f) for f in (in_utm, in_wgs)]
    assert runs[1].summary["population"] == runs[0].summary["population"] == p.sum()
    # each cell is its own demand point: in WGS84 exactly the residents' point (not one
    # projected to metres and back, a second copy of every point)
    wgs = runs[1]
    assert (wgs.demand["placed"] == "point").all() and len(wgs.demand) == len(wgs.residents)
    np.testing.assert_array_equal(shapely.get_coordinates(wgs.demand.geometry.to_numpy()),
                                  shapely.get_coordinates(wgs.residents.geometry.to_numpy()))
    for c, info in runs[0].summary["categories"].items():
        other = runs[1].summary["categories"][c]
        assert abs(info["coverage_share"] - other["coverage_share"]) < 1e-3, c


def test_a_raster_runs_in_coverage_review_site_batch_and_the_study(tiny, tmp_path):
    from test_groups import LAT, lon_at

    kw = dict(network=tiny / "streets.geojson", facilities=[tiny / "facilities.csv"],
              population=tiny / "pop.tif", boundaries=tiny / "area.geojson",
              require_standards=False)  # fmt: skip
    res = run_coverage(**kw)
    assert res.summary["population"] == 6000
    cells = np.arange(60) * 0.0005 + 0.00025  # degrees east of the elderly-care centre
    near = (cells * 111_320 * np.cos(np.radians(33.07)) <= 1000).sum()
    assert res.summary["categories"]["elderly_care"]["covered_population"] == pytest.approx(
        100 * near, abs=100)  # within one cell of the snapped, walked reach  # fmt: skip
    study = Study(**kw)
    change = study.add_facility("football_pitch", lon_at(1500), LAT + 0.0001, pitches=1)
    assert change.categories["football_pitch"]["covered_after"] >= change.categories[
        "football_pitch"]["covered_before"]  # fmt: skip
    common = ["--network", str(tiny / "streets.geojson"), "--facilities",
              str(tiny / "facilities.csv"), "--population", str(tiny / "pop.tif"),
              "--boundaries", str(tiny / "area.geojson")]  # fmt: skip
    for cmd, extra in (("coverage", []), ("review", [str(tiny / "proposal.geojson")]),
                       ("site", ["--category", "football_pitch", "--add", "1"])):  # fmt: skip
        out = tmp_path / cmd
        p = subprocess.run([EXE, cmd, *common, *extra, "--out", str(out)], capture_output=True,
                           text=True, timeout=300)  # fmt: skip
        # review exits 1 when a proposal fails a standard (it does: no clinic is given)
        assert p.returncode in ((0, 1) if cmd == "review" else (0,)), (cmd, p.stderr[-800:])
        assert any(out.iterdir())
    run_batch(tiny, tmp_path, "", '[[scenario]]\nname = "slow"\nspeed_kmh = 3.0\n')


def run_batch(tiny: Path, tmp_path: Path, defaults: str, scenarios: str = "") -> None:
    """``hzspatial batch`` on the tiny raster world: an as-built scenario and ``scenarios``,
    with ``defaults`` lines added to [defaults]; it must succeed."""
    toml = tmp_path / "s.toml"
    toml.write_text(f"""[defaults]
network = "{tiny / 'streets.geojson'}"
facilities = ["{tiny / 'facilities.csv'}"]
population = "{tiny / 'pop.tif'}"
boundaries = "{tiny / 'area.geojson'}"
{defaults}
[[scenario]]
name = "as-built"

{scenarios}""", encoding="utf-8")  # fmt: skip
    p = subprocess.run([EXE, "batch", str(toml), "--out", str(tmp_path / "batch")],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert p.returncode == 0, p.stderr[-800:]
