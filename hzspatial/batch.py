"""Scripted batch analyses: many coverage scenarios from one TOML file, in parallel on Dask.

A scenarios file has ``[defaults]`` and ``[[scenario]]`` tables; each scenario inherits the
defaults and may change inputs, ``area`` (district ids), thresholds, standards, tiling, and
``add_facilities`` / ``remove_facilities`` for what-if runs. Paths are relative to the file.

Every scenario writes the ``coverage`` outputs into ``OUT/<name>/`` atomically, plus a
completion marker holding the hash of its configuration and input files: a rerun skips
scenarios whose hash matches (``force=True`` redoes them). A failing scenario is reported
with its error and the others finish. ``comparison.csv`` / ``comparison.xlsx`` list every
scenario × indicator with the difference to the baseline scenario.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hzspatial import __version__
from hzspatial.config import parse_user_toml
from hzspatial.errors import InputError
from hzspatial.io import (
    FacilityInput,
    file_sha256,
    output_lock,
    prepare_out_dir,
    staged_output,
    write_json,
)
from hzspatial.io.writers import safe_folder_name, write_csv, write_xlsx

__all__ = ["Scenario", "ScenarioResult", "load_scenarios", "run_scenario", "run_batch",
           "comparison_table", "scenario_study"]  # fmt: skip

logger = logging.getLogger(__name__)
MARKER = ".hzspatial-complete"
_KEYS = {"name", "network", "facilities", "population", "boundaries", "minutes", "speed_kmh",
         "thresholds", "standards", "crs_in", "area", "add_facilities", "remove_facilities",
         "tiles", "require_standards", "baseline", "network_crs", "facilities_crs",
         "population_crs", "boundaries_crs", "boundary_level", "strict",
         "category_map", "snap_rules", "spread", "population_total", "age_rasters",
         "control_totals", "mode", "dem", "modes"}  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """One coverage run of a batch (paths absolute)."""

    name: str
    network: str
    facilities: tuple[str, ...]
    population: str
    boundaries: str | None = None
    minutes: float = 15.0
    speed_kmh: float = 4.0
    thresholds: dict = field(default_factory=dict)
    standards: str = "hanzhong"
    crs_in: str | None = None
    network_crs: str | None = None
    facilities_crs: str | None = None
    population_crs: str | None = None
    boundaries_crs: str | None = None
    boundary_level: str | None = None
    strict: bool = False
    category_map: dict = field(default_factory=dict)
    area: tuple[str, ...] | None = None
    add_facilities: tuple[str, ...] = ()
    remove_facilities: tuple[str, ...] = ()
    tiles: str | None = None
    require_standards: bool = True
    snap_rules: str | None = None
    spread: str | None = None
    population_total: float | None = None
    age_rasters: tuple[str, ...] | None = None
    control_totals: bool = False
    mode: str = "walk"
    dem: str | None = None
    modes: dict = field(default_factory=dict)
    folder: str = ""
    facility_options: dict = field(default_factory=dict)

    def fingerprint(self) -> str:
        """SHA-256 of the configuration, the input files' contents and hzspatial's version."""
        files = [self.network, self.population, *self.facilities, *self.add_facilities]
        files += [self.boundaries] if self.boundaries else []
        std = Path(self.standards)
        files += [str(std)] if std.is_file() else []
        files += [self.snap_rules] if self.snap_rules else []
        files += [self.dem] if self.dem else []
        for ages in map(Path, self.age_rasters or ()):
            files += sorted(str(f) for f in ages.iterdir() if f.is_file()) if ages.is_dir() \
                else [str(ages)]
        cfg = asdict(self) | {"version": __version__,
                              "files": {f: file_sha256(f) for f in files}}  # fmt: skip
        cfg.pop("name")
        cfg.pop("folder")
        return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()


#: Per-file keys of a facility entry written as a table, as the CLI's per-file options.
FACILITY_KEYS = {"path", "category", "columns", "crs", "category_map", "sheet", "header_row"}


def _paths(value, base: Path) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(str((base / str(v["path"] if isinstance(v, dict) else v)).resolve())
                 for v in items)  # fmt: skip


def _facility_options(value, base: Path, file: str, where: str) -> dict:
    """``{path: {category, columns, crs, …}}`` for facility entries written as tables, e.g.
    ``{ path = "amap.csv", category = "clinic", crs = "gcj02", category_map = {…} }``."""
    out = {}
    for v in value if isinstance(value, list) else [value]:
        if not isinstance(v, dict):
            continue
        unknown = sorted(set(v) - FACILITY_KEYS)
        if unknown or "path" not in v:
            raise InputError(
                f"facility entry {v!r}: unknown key(s) {', '.join(unknown)}"
                if unknown
                else f"facility entry {v!r} has no path",
                file=file,
                where=where,
                hint=f"keys: {', '.join(sorted(FACILITY_KEYS))}",
            )
        out[str((base / str(v["path"])).resolve())] = {k: x for k, x in v.items() if k != "path"}
    return out


def load_scenarios(path: str | Path) -> tuple[list[Scenario], str]:
    """Read a scenarios file. Returns the scenarios and the baseline scenario's name.

    Raises
    ------
    InputError
        One line naming the file, the scenario and the key for any problem.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("scenarios file not found", file=str(p), hint="check the path")
    try:
        text = p.read_text("utf-8-sig")  # Windows editors may add a BOM
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", file=str(p), hint="save the file as UTF-8") from exc
    raw = parse_user_toml(text, str(p))
    defaults = raw.get("defaults", {})
    entries = raw.get("scenario")
    if not isinstance(defaults, dict):
        raise InputError("[defaults] must be a table", file=str(p), column="defaults",
                         hint="write [defaults] with key = value lines")  # fmt: skip
    if isinstance(entries, list) and not all(isinstance(e, dict) for e in entries):
        raise InputError("every scenario must be a [[scenario]] table", file=str(p),
                         column="scenario",
                         hint="see data/scenarios/hanzhong_demo.toml")  # fmt: skip
    if not isinstance(entries, list) or not entries:
        raise InputError("no [[scenario]] entries", file=str(p),
                         hint="see data/scenarios/hanzhong_demo.toml")  # fmt: skip
    base = p.parent
    out: list[Scenario] = []
    for i, entry in enumerate(entries, start=1):
        merged = defaults | entry
        where = f"scenario {i} ({entry.get('name', 'unnamed')})"
        unknown = sorted(set(merged) - _KEYS)
        if unknown:
            raise InputError(f"unknown key(s) {', '.join(unknown)}", file=str(p), where=where,
                             hint=f"allowed: {', '.join(sorted(_KEYS))}")  # fmt: skip
        for key in ("name", "network", "facilities", "population"):
            if key not in merged:
                raise InputError(f"missing '{key}'", file=str(p), where=where,
                                 hint="give it in the scenario or in [defaults]")  # fmt: skip
        _check_types(merged, str(p), where)
        kw = {k: v for k, v in merged.items() if k in _KEYS - {"baseline"}}
        if "age_rasters" in kw:
            kw["age_rasters"] = _paths(kw["age_rasters"], base)
        for key in ("network", "population", "boundaries", "snap_rules", "dem"):
            if key in kw:
                kw[key] = _paths(kw[key], base)[0]
        options = {}
        for key in ("facilities", "add_facilities"):
            if key in kw:
                options |= _facility_options(kw[key], base, str(p), where)
                kw[key] = _paths(kw[key], base)
        kw["facility_options"] = options
        std = base / str(kw.get("standards", "hanzhong"))
        if std.suffix == ".toml":
            kw["standards"] = str(std.resolve())
        for key in ("area", "remove_facilities"):
            if key in kw:
                kw[key] = tuple(str(x) for x in (kw[key] if isinstance(kw[key], list)
                                                  else [kw[key]]))  # fmt: skip
        if not isinstance(kw["name"], str):
            raise InputError(f"name must be text (got {kw['name']!r})", file=str(p),
                             where=where, hint='write name = "…"')  # fmt: skip
        kw["folder"] = safe_folder_name(kw["name"], {s.folder for s in out})
        out.append(Scenario(**kw))
    names = [s.name for s in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"duplicate scenario name(s) {', '.join(dup)}", file=str(p),
                         hint="give each scenario its own name")  # fmt: skip
    baseline = defaults.get("baseline", names[0])
    if baseline not in names:
        raise InputError(f"baseline {baseline!r} is not a scenario", file=str(p),
                         column="baseline", hint=f"use one of {', '.join(names)}")  # fmt: skip
    return out, baseline


_TEXT, _NUMBER, _FLAG = "text", "number", "true/false"
#: The TOML type of every scenario key: a list, a table or text where a number belongs
#: stops the run with the key named (not a crash inside the run).
_KEY_TYPES = {
    "name": _TEXT, "network": _TEXT, "population": _TEXT, "boundaries": _TEXT,
    "standards": _TEXT, "snap_rules": _TEXT, "tiles": _TEXT, "spread": _TEXT,
    "mode": _TEXT, "dem": _TEXT, "modes": "table of text",
    "age_rasters": "files", "population_total": _NUMBER, "control_totals": _FLAG,
    "boundary_level": _TEXT, "baseline": _TEXT, "crs_in": "crs", "network_crs": "crs",
    "population_crs": "crs", "boundaries_crs": "crs", "facilities_crs": "crs or list",
    "minutes": _NUMBER, "speed_kmh": _NUMBER, "strict": _FLAG, "require_standards": _FLAG,
    "thresholds": "table of numbers", "category_map": "table of text",
    "facilities": "files", "add_facilities": "files", "area": "ids", "remove_facilities": "ids",
}  # fmt: skip


def _type_ok(kind: str, v) -> bool:
    """Whether ``v`` (a TOML value) is of ``kind`` (:data:`_KEY_TYPES`)."""
    def number(x) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    def crs(x) -> bool:
        return isinstance(x, str) or (isinstance(x, int) and not isinstance(x, bool))

    def scalar(x) -> bool:
        return isinstance(x, str) or number(x)

    if kind == _TEXT:
        return isinstance(v, str)
    if kind == _NUMBER:
        return number(v)
    if kind == _FLAG:
        return isinstance(v, bool)
    if kind == "crs":
        return crs(v)
    if kind == "crs or list":
        return crs(v) or (isinstance(v, list) and all(crs(x) for x in v))
    if kind == "table of numbers":
        return isinstance(v, dict) and all(number(x) for x in v.values())
    if kind == "table of text":
        return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    if kind == "files":
        return isinstance(v, str | dict) or (
            isinstance(v, list) and all(isinstance(x, str | dict) for x in v))
    return scalar(v) or (isinstance(v, list) and all(scalar(x) for x in v))  # ids


def _check_types(merged: dict, file: str, where: str) -> None:
    """Raise naming the first key whose value has the wrong TOML type."""
    for key, value in merged.items():
        kind = _KEY_TYPES.get(key)
        if kind is not None and not _type_ok(kind, value):
            shown = repr(value)
            raise InputError(f"{key} must be {kind} (got {shown[:60]}"
                             f"{'…' if len(shown) > 60 else ''})", file=file, where=where,
                             column=key, hint="see data/scenarios/hanzhong_demo.toml")  # fmt: skip


@dataclass(frozen=True)
class ScenarioResult:
    """Outcome of one scenario: ``status`` is ``done``, ``skipped`` or ``failed``."""

    name: str
    status: str
    seconds: float = 0.0
    error: str = ""
    fingerprint: str = ""
    summary: dict | None = None


def run_scenario(s: Scenario, out_root: str | Path, force: bool = False,
                 submit: Callable | None = None) -> ScenarioResult:  # fmt: skip
    """Run one scenario into ``out_root/<folder>`` (skipped when already complete); the
    folder name is derived from the scenario's name so that it stays inside ``out_root``."""
    out = Path(out_root) / s.folder
    t0 = time.perf_counter()
    log_path = Path(out_root) / f"{s.folder}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for own in (log_path, out):  # names the batch owns in OUT: a link there is never followed
        if own.is_symlink():
            own.unlink()
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hzspatial")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        rules = [s.snap_rules] if s.snap_rules else []
        for f in (s.network, s.population, *s.facilities, *s.add_facilities, *rules):
            if not Path(f).is_file():
                raise InputError("input file not found", file=f, where=f"scenario {s.name!r}",
                                 hint="paths are relative to the scenarios file")  # fmt: skip
        fp = s.fingerprint()
        marker = out / MARKER
        if not force and marker.is_file() and marker.read_text().strip() == fp:
            summary = json.loads((out / "summary.json").read_text("utf-8"))
            return ScenarioResult(s.name, "skipped", 0.0, "", fp, summary)
        res = _scenario_result(s, submit)
        if marker.is_file():
            marker.unlink()
        res.write(out)
        marker.write_text(fp)
        logger.info("scenario %s done in %.1f s", s.name, time.perf_counter() - t0)
        return ScenarioResult(s.name, "done", time.perf_counter() - t0, "", fp,
                              json.loads((out / "summary.json").read_text("utf-8")))  # fmt: skip
    except InputError as exc:
        logger.error("scenario %s failed: %s", s.name, exc.line())
        return ScenarioResult(s.name, "failed", time.perf_counter() - t0, exc.line())
    except Exception as exc:  # one broken scenario must not stop the others
        logger.error("scenario %s failed:\n%s", s.name, traceback.format_exc())
        # the internals' own words (paths, code) stay in the scenario's log, not the table
        return ScenarioResult(s.name, "failed", time.perf_counter() - t0,
                              f"internal error ({type(exc).__name__}; a bug — the traceback "
                              f"is in {log_path.name})")  # fmt: skip
    finally:
        root.removeHandler(handler)
        handler.close()


#: The study a worker keeps loaded between scenarios: (the inputs' key, the study, the
#: warnings its build gave).
_LOADED: dict = {}


def _base_options(s: Scenario) -> dict:
    """The options of a scenario that its study is built with (the rest are edits)."""
    return dict(minutes=s.minutes, standards=s.standards, crs_in=s.crs_in,
                network_crs=s.network_crs, facilities_crs=s.facilities_crs,
                population_crs=s.population_crs, boundaries_crs=s.boundaries_crs,
                boundary_level=s.boundary_level, strict=s.strict,
                category_map=s.category_map or None, require_standards=s.require_standards,
                area=s.area, snap_rules=s.snap_rules, spread=s.spread,
                population_total=s.population_total, age_rasters=s.age_rasters,
                control_totals=s.control_totals, mode=s.mode, dem=s.dem,
                category_modes=s.modes or None,
                # costs of slope and modes are made at the walking speed: a study per speed
                **({"speed_kmh": s.speed_kmh} if s.mode != "walk" or s.dem or s.modes
                   else {}))  # fmt: skip


def _scenario_result(s: Scenario, submit: Callable | None):
    """The scenario's coverage result. Scenarios sharing their inputs (network, residents,
    boundaries, facility files, standards …) share one study per worker: each scenario's
    added facility files, thresholds, speed and removed facilities are applied to it as edits
    and taken back afterwards — the same result as a run of its own (tests/test_batch.py),
    without reading and searching again. A tiled scenario, or one asking what the study
    refuses (an unknown id, a category's last facility, an added file's new category), runs
    on its own."""
    from hzspatial.run import run_coverage

    facilities = [FacilityInput(f, **s.facility_options.get(f, {}))
                  for f in (*s.facilities, *s.add_facilities)]  # fmt: skip
    base = _base_options(s)
    own = {"speed_kmh": s.speed_kmh, **base}  # (base has it already with slopes or modes)
    if s.tiles:
        return run_coverage(s.network, facilities, s.population, s.boundaries,
                            category_minutes=s.thresholds, tiles=s.tiles, submit=submit,
                            exclude_facilities=s.remove_facilities, **own)  # fmt: skip
    study = _loaded_study(s, facilities[:len(s.facilities)], base)
    try:
        return _edited(study, s)
    except InputError:  # what a study does not do as an edit: the scenario's own run
        return run_coverage(s.network, facilities, s.population, s.boundaries,
                            category_minutes=s.thresholds,
                            exclude_facilities=s.remove_facilities, **own)  # fmt: skip
    finally:
        while study.undo() is not None:
            pass


def _loaded_study(s: Scenario, facilities: list, base: dict):
    """The worker's study for the scenario's inputs (built when they differ from the last)."""
    import warnings

    from hzspatial.study import Study

    files = [s.network, s.population, *s.facilities, *([s.boundaries] if s.boundaries else []),
             *([s.snap_rules] if s.snap_rules else [])]  # fmt: skip
    stamp = [(f, Path(f).stat().st_mtime_ns, Path(f).stat().st_size) for f in files]
    key = json.dumps([stamp, s.facility_options, base], sort_keys=True, default=str)
    if _LOADED.get("key") != key:
        _LOADED.clear()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            study = Study(s.network, facilities, s.population, s.boundaries, **base)
        _LOADED.update(key=key, study=study, warnings=caught)
    else:
        for w in _LOADED["warnings"]:  # each scenario says what its inputs' reading said
            warnings.warn(w.message, w.category, stacklevel=2)
    return _LOADED["study"]


def scenario_study(path: str | Path, name: str | None = None):
    """A :class:`~hzspatial.study.Study` of one scenario of a scenarios file (its baseline
    when ``name`` is None): built from its inputs, its added facility files, speed,
    thresholds and removed facilities applied as edits — what ``hzspatial serve
    --scenario`` opens. Tiles do not apply to a study and are ignored."""
    from hzspatial.study import Study

    scenarios, baseline = load_scenarios(path)
    wanted = baseline if name is None else str(name)
    s = next((x for x in scenarios if x.name == wanted), None)
    if s is None:
        raise InputError(f"no scenario {wanted[:80]!r}", file=str(path), column="name",
                         hint=f"one of: {', '.join(x.name for x in scenarios)[:300]}")
    facilities = [FacilityInput(f, **s.facility_options.get(f, {})) for f in s.facilities]
    study = Study(s.network, facilities, s.population, s.boundaries, **_base_options(s))
    _apply_scenario(study, s)
    return study


def _edited(study, s: Scenario):
    """The study's result with the scenario's added files, speed, thresholds and removals
    as edits."""
    _apply_scenario(study, s)
    result = study.result()
    result.summary.pop("study_edits", None)  # the scenario file is the record of its changes
    return result


def _apply_scenario(study, s: Scenario) -> None:
    """The scenario's added facility files, speed, thresholds and removed facilities as
    edits of ``study``."""
    from hzspatial.categories import resolve_category
    from hzspatial.io.facilities import known_categories

    known = known_categories()
    wanted = {}
    for name, m in s.thresholds.items():
        cid = resolve_category(name, known)
        if cid is None:
            raise InputError(f"unknown category {name!r}", column="thresholds",
                             hint="the scenario's own run names it")  # fmt: skip
        wanted[cid] = float(m)
    for f in s.add_facilities:
        study.add_facility_file(FacilityInput(f, **s.facility_options.get(f, {})))
    ids = set(study.facilities["facility_id"].astype(str))
    if not set(s.remove_facilities) <= ids:
        raise InputError("facility ids to remove not found", column="remove_facilities",
                         hint="the scenario's own run names them")  # fmt: skip
    if float(s.speed_kmh) != study.speed_kmh:
        study.set_speed(s.speed_kmh)
    for cat, now in study.minutes.items():
        m = wanted.get(cat, float(s.minutes))
        if m != now:
            study.set_minutes(cat, m)
    for fid in s.remove_facilities:
        study.remove_facility(fid)


def _indicators(summary: dict) -> dict[str, tuple[str, float]]:
    """Indicator id → (bilingual label, value) of one scenario's summary."""
    out = {}
    for cat, c in summary["categories"].items():
        out[f"{cat} coverage share"] = (f"{c['label']} — 覆盖率 / share covered",
                                        c["coverage_share"])  # fmt: skip
        out[f"{cat} residents covered"] = (f"{c['label']} — 覆盖居民 / residents covered",
                                           c["covered_population"])  # fmt: skip
        out[f"{cat} median walk (m)"] = (f"{c['label']} — 步行距离中位数 / median walk (m)",
                                         c["median_distance_m"])  # fmt: skip
        out[f"{cat} facilities"] = (f"{c['label']} — 设施数 / facilities", c["facilities"])
    for st in summary["standards"]:
        if st.get("value") is not None:
            out[f"{st['id']} ({st['unit']})"] = (f"{st['label']} ({st['unit']})", st["value"])
    out["residents"] = ("居民 / residents", summary["population"])
    return out


def comparison_table(results: Iterable[ScenarioResult], baseline: str) -> pd.DataFrame:
    """Scenario × indicator (long format) with bilingual labels and the difference to the
    baseline scenario; an indicator the baseline lacks (e.g. a category it has no facilities
    of) shows "—" and says so in ``note``."""
    rows = [
        {"scenario": r.name, "indicator": k, "label": label, "value": v}
        for r in results
        if r.summary
        for k, (label, v) in _indicators(r.summary).items()
    ]
    df = pd.DataFrame(rows, columns=["scenario", "indicator", "label", "value"])
    df["value"] = pd.to_numeric(df["value"]).round(4)  # as written: difference of what is shown
    base = df[df["scenario"] == baseline].set_index("indicator")["value"]
    df["baseline"] = df["indicator"].map(base)
    df["difference"] = (df["value"] - pd.to_numeric(df["baseline"])).round(4)
    missing = ~df["indicator"].isin(base.index)
    df["note"] = np.where(missing, f"not in the baseline ({baseline}): e.g. no facilities of "
                          "this category there", "")  # fmt: skip
    for col in ("baseline", "difference"):
        df[col] = df[col].astype(object).where(~missing, "—")
    return df


def run_batch(
    path: str | Path,
    out_root: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[ScenarioResult], None] | None = None,
    overwrite: bool = False,
) -> tuple[list[ScenarioResult], pd.DataFrame]:
    """Run every scenario of a file on Dask (a LocalCluster, or ``scheduler`` if given).

    Returns the scenario results (in file order) and the comparison table, also written as
    ``comparison.csv`` and ``comparison.xlsx`` with ``batch.json`` into ``out_root``.
    """
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise InputError(f"--workers must be a whole number ≥ 1 (got {workers!r})",
                         column="--workers", hint="e.g. --workers 2 (one per core)")  # fmt: skip
    scenarios, baseline = load_scenarios(path)
    out = prepare_out_dir(out_root, overwrite=overwrite)
    client, cluster = _client(int(workers), scheduler)
    with output_lock(out):
        results = _run_on_dask(client, cluster, scenarios, out, force, progress)
    table = comparison_table(results, baseline)
    owned = [x for s in scenarios for x in (s.folder, f"{s.folder}.log")]
    with staged_output(out, overwrite=True, keep=owned) as stage:
        write_csv(table, stage / "comparison.csv")
        write_xlsx({"comparison 比较": table}, stage / "comparison.xlsx")
        write_json({"version": __version__, "baseline": baseline, "scenarios": [
            {"name": r.name, "folder": s.folder, "status": r.status, "seconds": r.seconds,
             "error": r.error, "fingerprint": r.fingerprint}
            for r, s in zip(results, scenarios, strict=True)]},
            stage / "batch.json")  # fmt: skip
    return results, table


def _reachable(scheduler: str) -> None:
    """Refuse a ``tcp://host:port`` scheduler nobody listens on at once (Dask would retry for
    its whole timeout before saying so); other addresses are left to Dask."""
    import socket
    import urllib.parse

    url = urllib.parse.urlsplit(scheduler)
    try:
        host, port = url.hostname, url.port
    except ValueError:
        host = port = None
    if url.scheme != "tcp" or not host or not port:
        return
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler!r} ({exc.strerror or exc})",
                         column="--scheduler",
                         hint="check the address and that the scheduler runs, or leave "
                         "--scheduler out to run locally") from None  # fmt: skip


def _client(workers: int, scheduler: str | None):
    """A Dask client on ``scheduler``, or on a new LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        _reachable(scheduler)
        try:
            client, cluster = Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler {scheduler!r} ({exc})",
                             column="--scheduler",
                             hint="check the address, or leave --scheduler out to run "
                             "locally") from exc  # fmt: skip
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    return client, cluster


def _run_on_dask(client, cluster, scenarios, out, force, progress) -> list[ScenarioResult]:
    from distributed import as_completed

    try:
        futures = {client.submit(run_scenario, s, str(out), force, key=f"scenario-{s.name}-"
                                 f"{time.time_ns()}", pure=False): s.name
                   for s in scenarios}  # fmt: skip
        done = {}
        for fut in as_completed(futures):
            try:
                r = fut.result()
            except Exception as exc:  # the worker died: report, keep going
                logger.error("scenario %s: worker failed: %r", futures[fut], exc)
                r = ScenarioResult(futures[fut], "failed",
                                   error=f"the worker running it stopped ({type(exc).__name__})")
            done[r.name] = r
            if progress:
                progress(r)
        return [done[s.name] for s in scenarios]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
