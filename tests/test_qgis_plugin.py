"""The QGIS Processing provider (qgis_plugin/hzspatial_qgis), installed the standard way from
the zip `make qgis-plugin` writes and run headless by Debian's `qgis_process` (QGIS 3.22):
`hzspatial:coverage` writes the CLI's outputs with the CLI's numbers, and a bad input ends
the algorithm with hzspatial's one-line error."""

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


def test_qgis_process_coverage_gives_the_clis_outputs(qgis_home, tmp_path, demo_run):
    d = demo_paths()
    listed = subprocess.run([QGIS_PROCESS, "list"], capture_output=True, text=True,
                            env={**os.environ, "HOME": str(qgis_home),
                                 "QT_QPA_PLATFORM": "offscreen"}, timeout=300)  # fmt: skip
    for alg in ("coverage", "review", "site", "batch"):
        assert f"hzspatial:{alg}" in listed.stdout
    out = tmp_path / "out"
    proc = _run(qgis_home, "coverage", NETWORK=d["network"], FACILITIES=d["facilities"],
                POPULATION=d["population"], BOUNDARIES=d["boundaries"], MINUTES=15,
                OUTPUT_FOLDER=out)  # fmt: skip
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
