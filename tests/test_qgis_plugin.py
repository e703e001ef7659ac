"""The QGIS Processing provider (qgis_plugin/hzspatial_qgis), installed the standard way from
the zip `make qgis-plugin` writes and run headless by Debian's `qgis_process` (QGIS 3.22):
`hzspatial:coverage`, `hzspatial:review` and `hzspatial:site` write the CLI's outputs with the
CLI's numbers, a bad input ends the algorithm with hzspatial's one-line error, and QGIS's
toolbox with the provider beside the styled result layers is the README's screenshot."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hzspatial.datasets import demo_paths
from hzspatial.io import jsonable

ROOT = Path(__file__).parents[1]
ARTEFACTS = ROOT / "maps" / "test-artefacts"
EXE = str(Path(sys.executable).parent / "hzspatial")
QGIS_PROCESS = "/usr/bin/qgis_process.bin"  # the wrapper adds an option 3.22 does not know


@pytest.fixture(scope="module")
def qgis_home(tmp_path_factory):
    """A home whose default QGIS profile has the plugin unzipped and enabled."""
    if not Path(QGIS_PROCESS).exists():
        if os.environ.get("HZSPATIAL_REQUIRE_QGIS"):
            pytest.fail("Debian's qgis (qgis_process) is required here")
        pytest.skip("qgis_process (Debian qgis) not installed")
    subprocess.run(["make", "-s", "qgis-plugin", f"PYTHON={sys.executable}"], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    home = tmp_path_factory.mktemp("qgishome")
    profile = home / ".local/share/QGIS/QGIS3/profiles/default"
    with zipfile.ZipFile(ROOT / "dist/hzspatial_qgis.zip") as z:
        z.extractall(profile / "python/plugins")
    (profile / "QGIS").mkdir(parents=True)
    (profile / "QGIS/QGIS3.ini").write_text("[PythonPlugins]\nhzspatial_qgis=true\n")
    return home


def _run(home: Path, alg: str, **params) -> subprocess.CompletedProcess:
    args = [QGIS_PROCESS, "--json", "run", f"hzspatial:{alg}", "--",
            *(f"{k}={v}" for k, v in params.items())]  # fmt: skip
    env = {**os.environ, "HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "HZSPATIAL_EXE": shutil.which("hzspatial") or EXE}  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def coverage_run(qgis_home, tmp_path_factory):
    """`qgis_process run hzspatial:coverage` on the demo: (output folder, process)."""
    d = demo_paths()
    out = tmp_path_factory.mktemp("qgis_cov") / "out"
    proc = _run(qgis_home, "coverage", NETWORK=d["network"], FACILITIES=d["facilities"],
                POPULATION=d["population"], BOUNDARIES=d["boundaries"], MINUTES=15,
                OUTPUT_FOLDER=out)  # fmt: skip
    return out, proc


def test_qgis_process_coverage_gives_the_clis_outputs(qgis_home, coverage_run, demo_run):
    listed = subprocess.run([QGIS_PROCESS, "list"], capture_output=True, text=True,
                            env={**os.environ, "HOME": str(qgis_home),
                                 "QT_QPA_PLATFORM": "offscreen"}, timeout=300)  # fmt: skip
    for alg in ("coverage", "review", "site", "batch"):
        assert f"hzspatial:{alg}" in listed.stdout
    out, proc = coverage_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout)["results"]
    assert Path(results["RESULTS_GPKG"]) == out / "results.gpkg"
    assert Path(results["REPORT"]) == out / "report.html"
    for name in ("summary.json", "coverage_by_district.csv", "map.html", "results.gpkg"):
        assert (out / name).stat().st_size > 0, name
    got = json.loads((out / "summary.json").read_text("utf-8"))
    want = demo_run  # run_coverage on the same files
    assert got["population"] == want.summary["population"]
    for c, info in want.summary["categories"].items():
        assert got["categories"][c]["covered_population"] == pytest.approx(
            info["covered_population"], rel=1e-9), c  # fmt: skip
    plain = json.loads(json.dumps(jsonable(want.summary)))  # NaN as null, as written
    assert [s["value"] for s in got["standards"]] == [s["value"] for s in plain["standards"]]


def test_a_bad_input_ends_with_hzspatials_one_line_error(qgis_home, tmp_path):
    d = demo_paths()
    bad = tmp_path / "kg.csv"
    bad.write_text("name,category,x\n园,kindergarten,1\n", encoding="utf-8")  # no lon/lat
    out = tmp_path / "out"
    proc = _run(qgis_home, "coverage", NETWORK=d["network"], FACILITIES=bad,
                POPULATION=d["population"], MINUTES=15, OUTPUT_FOLDER=out)  # fmt: skip
    assert proc.returncode != 0
    said = [x for x in (proc.stdout + proc.stderr).splitlines() if "hzspatial: error:" in x]
    assert said and "kg.csv" in said[-1], proc.stderr[-2000:]
    assert not out.exists() or not any(out.iterdir())


def _cli(*args) -> None:
    proc = subprocess.run([shutil.which("hzspatial") or EXE, *map(str, args), "--quiet"],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr[-2000:]  # 1: a proposal fails a check


def test_qgis_process_review_and_site_give_the_clis_outputs(qgis_home, tmp_path):
    """`hzspatial:review` on the demo's proposals and `hzspatial:site` (3 football pitches)
    write review.json and site.json equal to the CLI's on the same files."""
    d = demo_paths()
    study = {"NETWORK": d["network"], "FACILITIES": d["facilities"],
             "POPULATION": d["population"], "BOUNDARIES": d["boundaries"]}  # fmt: skip
    rev = _run(qgis_home, "review", PROPOSALS=d["proposals"], MINUTES=15,
               OUTPUT_FOLDER=tmp_path / "q_review", **study)  # fmt: skip
    assert rev.returncode == 0, rev.stderr[-2000:]  # a failing check is a result
    _cli("review", d["proposals"], "--network", d["network"], "--facilities", d["facilities"],
         "--population", d["population"], "--boundaries", d["boundaries"], "--minutes", 15,
         "--out", tmp_path / "c_review")  # fmt: skip
    got, want = (json.loads((tmp_path / f / "review.json").read_text("utf-8"))
                 for f in ("q_review", "c_review"))  # fmt: skip
    assert got["exit_code"] == want["exit_code"] and len(got["proposals"]) == 2
    for a, b in zip(got["proposals"], want["proposals"], strict=True):
        assert a["verdict"] == b["verdict"]
        keys = ("standard", "verdict", "requirement", "reachable_existing_supply", "shortfall")
        assert [[c[k] for k in keys] for c in a["checks"]] == [[c[k] for k in keys]
                                                               for c in b["checks"]]  # fmt: skip
    site = _run(qgis_home, "site", CATEGORY="football_pitch", ADD=3,
                OUTPUT_FOLDER=tmp_path / "q_site", **study)  # fmt: skip
    assert site.returncode == 0, site.stderr[-2000:]
    assert Path(json.loads(site.stdout)["results"]["OUTPUT_FOLDER"]) == tmp_path / "q_site"
    _cli("site", "--network", d["network"], "--facilities", d["facilities"], "--population",
         d["population"], "--boundaries", d["boundaries"], "--category", "football_pitch",
         "--add", 3, "--out", tmp_path / "c_site")  # fmt: skip
    got, want = (json.loads((tmp_path / f / "site.json").read_text("utf-8"))
                 for f in ("q_site", "c_site"))  # fmt: skip
    assert got["sites"] == want["sites"] == 3
    assert got["newly_covered"] == pytest.approx(want["newly_covered"])
    import pandas as pd

    chosen = [pd.read_csv(tmp_path / f / "sites.csv")["id"].tolist() for f in ("q_site", "c_site")]
    assert chosen[0] == chosen[1]


def test_the_toolbox_and_the_styled_layers_are_the_readmes_screenshot(qgis_home, coverage_run):
    """QGIS (offscreen) lists the provider's four algorithms in its Processing toolbox and
    opens the coverage run's results.gpkg with every layer's own style; the picture of both
    is docs/qgis.png."""
    out, proc = coverage_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTEFACTS / "qgis.png"
    plugins = qgis_home / ".local/share/QGIS/QGIS3/profiles/default/python/plugins"
    shot = subprocess.run(["/usr/bin/python3", str(Path(__file__).parent / "_qgis_screenshot.py"),
                           str(plugins), str(out / "results.gpkg"), str(png), "kindergarten"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HOME": str(qgis_home),
                               "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    assert shot.returncode == 0, shot.stderr[-2000:]
    seen = json.loads(shot.stdout.strip().splitlines()[-1])
    assert sorted(seen["algorithms"]) == ["Batch scenarios / 批量情景", "Coverage / 覆盖分析",
                                          "Review proposed districts / 方案审查",
                                          "Site selection / 选址"]  # fmt: skip
    for name, info in seen["layers"].items():
        assert info["valid"] and info["style_loaded"] and info["features"] > 0, name
    assert seen["render_errors"] == []
    from PIL import Image

    image = Image.open(png).convert("RGB")
    assert image.size[0] >= 1500
    drawn = image.crop((720, 60, image.size[0] - 20, image.size[1] - 20))
    assert len(drawn.getcolors(1 << 24)) > 50  # the map, drawn — not a blank panel
    docs = ROOT / "docs" / "qgis.png"
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(docs, optimize=True)


def test_one_layer_of_a_geopackage_is_handed_over_not_the_whole_file(qgis_home, tmp_path):
    """A GeoPackage holding two layers: the algorithm given its second layer reads that layer
    (handed over as a temporary GeoPackage), not the file's first one — before, the file's
    path alone was passed and hzspatial read the other layer without a word."""
    import geopandas as gpd
    import pandas as pd

    d = demo_paths()
    raw = pd.read_csv(d["facilities"])
    fac = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["lon"], raw["lat"]), crs=4326)
    gpkg = tmp_path / "poi.gpkg"
    fac[fac["category"] == "clinic"].to_file(gpkg, layer="clinics")  # the first layer
    kg = fac[fac["category"] == "kindergarten"]
    kg.to_file(gpkg, layer="kindergartens")
    out = tmp_path / "out"
    proc = _run(qgis_home, "coverage", NETWORK=d["network"],
                FACILITIES=f"{gpkg}|layername=kindergartens", POPULATION=d["population"],
                MINUTES=15, OUTPUT_FOLDER=out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    cats = json.loads((out / "summary.json").read_text("utf-8"))["categories"]
    assert list(cats) == ["kindergarten"] and cats["kindergarten"]["facilities"] == len(kg)
