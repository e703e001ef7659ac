"""Batch scenarios on a 2-worker Dask LocalCluster: equal to one-by-one runs, resumable,
and a broken scenario fails alone."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _demo import same_values

from hzspatial import FacilityInput, run_coverage
from hzspatial.batch import load_scenarios
from hzspatial.datasets import data_dir, demo_paths
from hzspatial.errors import InputError

EXE = str(Path(sys.executable).parent / "hzspatial")


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    d = data_dir()
    (tmp / "broken.csv").write_text("name,category,lon,lat\nx,clinic,107.0x,33.06\n")
    path = tmp / "scenarios.toml"
    path.write_text(f"""
[defaults]
network = "{d / "network/hanzhong_demo_streets.geojson"}"
facilities = ["{d / "facilities/hanzhong_demo_facilities.csv"}"]
population = "{d / "population/hanzhong_demo_blocks.geojson"}"
baseline = "baseline"

[[scenario]]
name = "baseline"

[[scenario]]
name = "ten-minute-walk"
minutes = 10

[[scenario]]
name = "broken-input"
add_facilities = ["broken.csv"]
""")
    out = tmp / "out"
    proc = subprocess.run(
        [EXE, "batch", str(path), "--workers", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return path, out, proc


def test_broken_scenario_fails_alone(scenarios):
    _, out, proc = scenarios
    assert proc.returncode == 1
    status = {s["name"]: s for s in json.loads((out / "batch.json").read_text())["scenarios"]}
    assert status["baseline"]["status"] == "done"
    assert status["ten-minute-walk"]["status"] == "done"
    assert status["broken-input"]["status"] == "failed"
    assert "broken.csv" in status["broken-input"]["error"]
    assert "row 2" in status["broken-input"]["error"]
    assert not (out / "broken-input").exists()
    assert (out / "broken-input.log").read_text()  # a log per scenario


def test_parallel_equals_one_by_one(scenarios):
    _, out, _ = scenarios
    p = demo_paths()
    for name, minutes in (("baseline", 15), ("ten-minute-walk", 10)):
        alone = run_coverage(
            p["network"], [FacilityInput(p["facilities"])], p["population"], minutes=minutes
        )
        par = json.loads((out / name / "summary.json").read_text("utf-8"))
        for cat, c in alone.summary["categories"].items():
            assert par["categories"][cat]["covered_population"] == c["covered_population"]
            assert par["categories"][cat]["median_distance_m"] == pytest.approx(
                c["median_distance_m"]
            )
        for st, ref in zip(par["standards"], alone.summary["standards"], strict=True):
            assert st["id"] == ref["id"]
            if ref["value"] == ref["value"] and ref["value"] is not None:
                assert st["value"] == pytest.approx(ref["value"])


def test_comparison_against_baseline(scenarios):
    _, out, _ = scenarios
    c = pd.read_csv(out / "comparison.csv")
    row = c[
        (c["scenario"] == "ten-minute-walk") & (c["indicator"] == "kindergarten coverage share")
    ].iloc[0]
    assert row["difference"] == pytest.approx(row["value"] - row["baseline"])
    assert row["difference"] < 0  # a shorter walk covers fewer residents
    assert set(c["scenario"]) == {"baseline", "ten-minute-walk"}
    assert (out / "comparison.xlsx").stat().st_size > 0


def test_rerun_skips_completed(scenarios):
    path, out, _ = scenarios
    proc = subprocess.run(
        [EXE, "batch", str(path), "--workers", "2", "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    res = {s["name"]: s["status"] for s in json.loads(proc.stdout)["scenarios"]}
    assert res == {"baseline": "skipped", "ten-minute-walk": "skipped", "broken-input": "failed"}
    assert proc.returncode == 1


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("[[scenario]]\nname = 'a'\n", "missing 'network'"),
        (
            "[[scenario]]\nname='a'\nnetwork='x.gpkg'\nfacilities=['f.csv']\npopulation='p.csv'\n"
            "colour='red'\n",
            "unknown key(s) colour",
        ),
        (
            "[defaults]\nbaseline='zz'\n[[scenario]]\nname='a'\nnetwork='n.geojson'\n"
            "facilities=['f.csv']\npopulation='p.geojson'\n",
            "baseline 'zz' is not a scenario",
        ),
    ],
)
def test_bad_scenario_files(tmp_path, text, expect):
    p = tmp_path / "s.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=expect.replace("(", r"\(").replace(")", r"\)")) as e:
        load_scenarios(p)
    assert "s.toml" in str(e.value) or "not found" in str(e.value)


def test_per_input_coordinate_systems_in_scenarios(tmp_path):
    d = data_dir()
    p = tmp_path / "s.toml"
    p.write_text(f"""
[defaults]
network = "{d / "network/hanzhong_demo_streets.geojson"}"
population = "{d / "population/hanzhong_demo_blocks.geojson"}"
facilities = ["{d / "facilities/hanzhong_demo_facilities.csv"}"]
facilities_crs = "gcj02"
strict = true
category_map = {{ "综合医院" = "hospital" }}

[[scenario]]
name = "amap"
boundary_level = "district"
""")
    (s,), _ = load_scenarios(p)
    assert (s.facilities_crs, s.strict, s.boundary_level) == ("gcj02", True, "district")
    assert s.category_map == {"综合医院": "hospital"} and s.network_crs is None


def test_hostile_scenario_names_stay_inside_out_and_failures_stay_alone(tiny_world, tmp_path):
    from hzspatial.batch import run_batch

    escape = Path("/tmp") / f"hz-escape-{tmp_path.name}"
    text = f"""[defaults]
network = "{tiny_world / "streets.gpkg"}"
facilities = ["{tiny_world / "kg.csv"}"]
population = "{tiny_world / "community.geojson"}"
boundaries = "{tiny_world / "community.geojson"}"
require_standards = false

[[scenario]]
name = "{escape}"

[[scenario]]
name = "."

[[scenario]]
name = "../escaped"

[[scenario]]
name = "missing input"
population = "nope.geojson"

[[scenario]]
name = "negative"
minutes = -5
"""
    p = tmp_path / "s.toml"
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # with a BOM, as Notepad saves
    out = tmp_path / "out"
    results, _ = run_batch(p, out, workers=2)
    status = {r.name: (r.status, r.error) for r in results}
    assert [status[n][0] for n in (str(escape), ".", "../escaped")] == ["done"] * 3
    assert status["missing input"][0] == "failed" and "nope.geojson" in status["missing input"][1]
    assert status["negative"][0] == "failed" and "--minutes" in status["negative"][1]
    # a value of the wrong type (minutes = "fifteen") stops the file at load, naming the
    # scenario and key: test_scenario_values_of_the_wrong_type_name_their_key
    assert not escape.exists() and not (tmp_path / "escaped").exists()
    folders = sorted(x.name for x in out.iterdir() if x.is_dir())
    assert folders == ["escaped", "scenario", escape.as_posix().strip("/").replace("/", "_")]
    batch = json.loads((out / "batch.json").read_text("utf-8"))
    assert {s["name"] for s in batch["scenarios"]} == set(status)


def _tiny_scenario(tiny_world) -> str:
    """One scenario "a" on the tiny world (network, facilities, population)."""
    return f"""[[scenario]]
name = "a"
network = "{tiny_world / "streets.gpkg"}"
facilities = ["{tiny_world / "kg.csv"}"]
population = "{tiny_world / "community.geojson"}"
"""


def test_unreachable_scheduler_is_one_line_and_writes_nothing(tiny_world, tmp_path):
    from hzspatial.batch import run_batch

    p = tmp_path / "s.toml"
    p.write_text(_tiny_scenario(tiny_world), encoding="utf-8")
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_batch(p, tmp_path / "out", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()


def test_facility_entries_carry_per_file_options(tmp_path):
    """A facility entry written as a table gets the CLI's per-file options."""
    d = data_dir()
    fac = d / "facilities/hanzhong_demo_facilities.csv"
    entry = f'{{ path = "{fac}", crs = "wgs84", category_map = {{ "综合医院" = "hospital" }} }}'
    p = tmp_path / "s.toml"
    p.write_text(f"""[[scenario]]
name = "amap"
network = "{d / "network/hanzhong_demo_streets.geojson"}"
population = "{d / "population/hanzhong_demo_blocks.geojson"}"
facilities = [{entry}]
""")
    (s,), _ = load_scenarios(p)
    (opts,) = s.facility_options.values()
    assert opts == {"crs": "wgs84", "category_map": {"综合医院": "hospital"}}
    p.write_text(p.read_text().replace("crs =", "colour ="))
    with pytest.raises(InputError, match="unknown key"):
        load_scenarios(p)


def test_comparison_is_labelled_and_says_what_the_baseline_lacks():
    from hzspatial.batch import ScenarioResult, comparison_table

    cat = {"label": "幼儿园 / Kindergarten", "coverage_share": 0.5, "covered_population": 5.0,
           "median_distance_m": 400.0, "facilities": 2}  # fmt: skip
    base = {"categories": {}, "standards": [], "population": 10}
    more = {"categories": {"kindergarten": cat}, "standards": [], "population": 10}
    t = comparison_table([ScenarioResult("base", "done", summary=base),
                          ScenarioResult("plus", "done", summary=more)], "base")  # fmt: skip
    row = t[(t["scenario"] == "plus") & (t["indicator"] == "kindergarten coverage share")].iloc[0]
    assert row["label"] == "幼儿园 / Kindergarten — 覆盖率 / share covered"
    assert row["baseline"] == "—" and row["difference"] == "—"
    assert "not in the baseline" in row["note"]


def test_scenario_snap_rules_are_a_file_beside_the_scenarios(tiny_world, tmp_path):
    """``snap_rules`` is read relative to the scenarios file, reaches the run (its summary
    names it) and is part of the fingerprint (edited rules rerun the scenario)."""
    from hzspatial.batch import run_scenario

    rules = tmp_path / "rules.toml"
    rules.write_text('[exclude]\nhighway = "steps"\n', encoding="utf-8")
    p = tmp_path / "s.toml"
    p.write_text(_tiny_scenario(tiny_world) + f"""boundaries = "{tiny_world / "community.geojson"}"
require_standards = false
snap_rules = "rules.toml"
""", encoding="utf-8")  # fmt: skip
    (s,), _ = load_scenarios(p)
    assert s.snap_rules == str(rules.resolve())
    r = run_scenario(s, tmp_path / "out")
    assert r.status == "done", r.error
    assert r.summary["network"]["snapping_rules"] == str(rules.resolve())
    before = s.fingerprint()
    rules.write_text('[exclude]\nhighway = "steps|footway"\n', encoding="utf-8")
    assert s.fingerprint() != before


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_below_one_are_refused_not_a_hang(workers, tmp_path):
    """batch --workers 0 or -1 hung for ever."""
    from hzspatial.cli import main

    scen = Path(__file__).parents[1] / "data" / "scenarios" / "hanzhong_demo.toml"
    rc = main(["batch", str(scen), "--workers", workers, "--out", str(tmp_path / "o"),
               "--quiet"])  # fmt: skip
    assert rc == 2
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize(("body", "key"), [
    ('minutes = [15]', "minutes"), ('minutes = "15"', "minutes"), ("strict = 1", "strict"),
    ('thresholds = { kindergarten = "4.5" }', "thresholds"), ("network = { a = 1 }", "network"),
    ("speed_kmh = nan", "speed_kmh"), ('modes = "car"', "modes"),
    ("modes = { clinic = 1 }", "modes")])  # fmt: skip
def test_scenario_values_of_the_wrong_type_name_their_key(body, key, tmp_path):
    """A list, string or table where a scalar belongs crashed inside the run."""
    from hzspatial.batch import load_scenarios
    from hzspatial.errors import InputError

    p = tmp_path / "s.toml"
    lines = ['[[scenario]]', 'name = "a"', 'network = "n.geojson"',
             'facilities = "f.csv"', 'population = "p.geojson"']  # fmt: skip
    lines = [x for x in lines if not x.startswith(f"{key} =")] + [body]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"{key} must be"):
        load_scenarios(p)


@pytest.mark.parametrize("loader", ["scenarios", "standards", "rules"])
def test_toml_nested_too_deeply_is_one_line(loader, tmp_path):
    """50,000 nested arrays made the TOML reader recurse past Python's limit (exit 3)."""
    from hzspatial.batch import load_scenarios
    from hzspatial.errors import InputError
    from hzspatial.network.rules import snap_rules
    from hzspatial.standards import load_standards

    p = tmp_path / "deep.toml"
    p.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    fn = {"scenarios": load_scenarios, "standards": load_standards, "rules": snap_rules}[loader]
    with pytest.raises(InputError):
        fn(p)


def test_a_scenario_log_or_folder_that_is_a_link_is_not_followed(tiny_world, tmp_path):
    """A batch scenario log that is a symlink was followed and the outside file overwritten."""
    from hzspatial.batch import load_scenarios, run_scenario

    p = tmp_path / "s.toml"
    p.write_text(_tiny_scenario(tiny_world), encoding="utf-8")
    (s,) = load_scenarios(p)[0]
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / f"{s.folder}.log").symlink_to(victim)
    (out / s.folder).symlink_to(elsewhere, target_is_directory=True)
    r = run_scenario(s, out)
    assert r.status == "done", r.error
    assert victim.read_text() == "keep me" and not any(elsewhere.iterdir())
    assert (out / s.folder / "summary.json").is_file()


def test_scenarios_sharing_inputs_share_a_study_and_equal_their_own_runs(tmp_path, monkeypatch):
    """In one worker process, scenarios sharing inputs build the study once (their thresholds,
    speed, added files and removed facilities applied as edits, then taken back) and a
    scenario with other inputs (another default threshold) builds its own: every one equals
    its own run_coverage, table by table, in an order that makes each start from the previous
    one's study."""
    from hzspatial import batch, study

    d = data_dir()
    path = tmp_path / "shared.toml"
    path.write_text(f"""
[defaults]
network = "{d / "network/hanzhong_demo_streets.geojson"}"
facilities = ["{d / "facilities/hanzhong_demo_facilities.csv"}"]
population = "{d / "population/hanzhong_demo_blocks.geojson"}"

[[scenario]]
name = "slow walkers near kindergartens"
speed_kmh = 3.0
thresholds = {{ "幼儿园" = 4.5 }}

[[scenario]]
name = "two new pitches"
add_facilities = ["{tmp_path / "pitches.csv"}"]
remove_facilities = ["FOO003", "FOO010"]

[[scenario]]
name = "as built"

[[scenario]]
name = "ten minutes"
minutes = 10
""")
    fac = pd.read_csv(d / "facilities/hanzhong_demo_facilities.csv")
    pitches = fac[fac["category"] == "football_pitch"].head(2).copy()
    pitches["id"] = ["NEW-1", "NEW-2"]
    pitches["lon"] += 0.004
    pitches.to_csv(tmp_path / "pitches.csv", index=False)
    out = tmp_path / "out"
    builds = []
    real = study.Study.__init__
    monkeypatch.setattr(study.Study, "__init__",
                        lambda self, *a, **k: builds.append(1) or real(self, *a, **k))
    monkeypatch.setattr(batch, "_LOADED", {})
    scenarios, _ = load_scenarios(path)
    results = [batch.run_scenario(s, out) for s in scenarios]
    assert [r.status for r in results] == ["done"] * 4
    assert len(builds) == 2  # one shared by three; "ten minutes" (another default) its own
    assert batch._LOADED["study"].edits == []  # every scenario's edits taken back
    p = demo_paths()
    own = {
        "slow_walkers_near_kindergartens": {"speed_kmh": 3.0,
                                            "category_minutes": {"幼儿园": 4.5}},
        "two_new_pitches": {"exclude_facilities": ["FOO003", "FOO010"]},
        "ten_minutes": {"minutes": 10},
        "as_built": {},
    }
    for folder, kw in own.items():
        files = [p["facilities"], *([tmp_path / "pitches.csv"] if "new" in folder else [])]
        want = run_coverage(p["network"], files, p["population"], **kw)
        got = json.loads((out / folder / "summary.json").read_text("utf-8"))
        for c, v in want.summary["categories"].items():
            same_values(got["categories"][c], v, f"{folder}: {c}")
        assert got["speed_kmh"] == want.summary["speed_kmh"] and "study_edits" not in got
        assert [x["path"] for x in got["inputs"]] == [x["path"] for x in want.summary["inputs"]]
        ratios = pd.read_csv(out / folder / "ratios.csv")
        w = want.ratios.round(4)
        assert ratios["value"].fillna(-1).tolist() == pytest.approx(w["value"].fillna(-1).tolist())
        assert ratios["met"].astype(str).tolist() == w["met"].astype(str).tolist()


def test_a_scenarios_modes_reach_a_category_by_its_own_mode(tmp_path, monkeypatch):
    """``modes = { clinic = "car" }``: the clinics are reached by car (5 minutes: a small
    reach), the kindergartens on foot, as run_coverage's ``category_modes``; a threshold edit
    on such a study (which takes no edits) runs the scenario on its own, with the same answer
    as its own run; a tiled one answers the same within each threshold."""
    from hzspatial import batch
    from hzspatial.run import run_coverage

    d = data_dir()
    fac = pd.read_csv(d / "facilities/hanzhong_demo_facilities.csv")
    pd.concat([fac[fac["category"] == "clinic"].head(3),
               fac[fac["category"] == "kindergarten"].head(5)]).to_csv(
        tmp_path / "few.csv", index=False)  # fmt: skip
    path = tmp_path / "modes.toml"
    path.write_text(f"""
[defaults]
network = "{d / "network/hanzhong_demo_streets.geojson"}"
facilities = ["{tmp_path / "few.csv"}"]
population = "{d / "population/hanzhong_demo_blocks.geojson"}"
modes = {{ "社区卫生服务中心" = "car" }}
minutes = 5

[[scenario]]
name = "clinics by car"

[[scenario]]
name = "and kindergartens in 3 minutes"
thresholds = {{ kindergarten = 3 }}

[[scenario]]
name = "tiled"
tiles = "district"
""")
    monkeypatch.setattr(batch, "_LOADED", {})
    scenarios, _ = load_scenarios(path)
    assert scenarios[0].modes == {"社区卫生服务中心": "car"}
    got = [batch._scenario_result(s, None) for s in scenarios]
    # tiled (it crashed: the walking speed given twice): the same within each threshold
    covered = [c for c in got[0].demand.columns if c.startswith("cov_")]
    assert len(covered) == 2
    pd.testing.assert_frame_equal(got[2].demand[covered], got[0].demand[covered])
    for r in got:
        cats = r.summary["categories"]
        assert (cats["clinic"]["mode"], cats["kindergarten"]["mode"]) == ("car", "walk")
    own = run_coverage(d / "network/hanzhong_demo_streets.geojson", [tmp_path / "few.csv"],
                       d / "population/hanzhong_demo_blocks.geojson",
                       category_modes={"clinic": "car"}, minutes=5,
                       category_minutes={"kindergarten": 3})  # fmt: skip
    for c in ("dist_clinic_m", "dist_kindergarten_m", "cov_kindergarten_3min"):
        np.testing.assert_array_equal(got[1].demand[c].to_numpy(), own.demand[c].to_numpy())
