"""Property-based tests: random rows, values, headers and encodings thrown at the facility,
population and standards readers. Each either reads correctly or raises the project's
one-line InputError — never another exception."""

import csv
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzspatial.errors import InputError
from hzspatial.io import read_facilities, read_population
from hzspatial.standards import load_standards

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
CELL = st.one_of(
    TEXT,
    st.sampled_from(["", "nan", "inf", "-1", "1e308", "合计", "幼儿园", "clinic", "=1+1",
                     "107.03", "33.07", "107,03", " 107.03 ", "null", "\u00a0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**12), 10**12).map(str),
)  # fmt: skip
HEADER_NAMES = ["name", "名称", "category", "类型", "lon", "经度", "lat", "纬度", "beds", "床位",
                "population", "人口", "户数", "location", "id", "x", "y", "备注", ""]  # fmt: skip
HEADERS = st.lists(st.sampled_from(HEADER_NAMES), min_size=1, max_size=7)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])


def one_line(exc: InputError) -> None:
    assert "\n" not in str(exc)


def table(headers, rows, encoding) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(r[: len(headers)])
    try:
        return buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        return buf.getvalue().encode("utf-8")


@SETTINGS
@given(HEADERS, st.lists(st.lists(CELL, min_size=7, max_size=7), max_size=6), ENCODINGS)
def test_facility_reader_reads_or_says_why(tmp_path, headers, rows, encoding):
    p = tmp_path / "f.csv"
    p.write_bytes(table(headers, rows, encoding))
    try:
        f = read_facilities(p, category="kindergarten")
    except InputError as exc:
        one_line(exc)
        return
    xy = np.column_stack([f.geometry.x, f.geometry.y])
    assert np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all()
    assert (f["category"] == "kindergarten").all()


@SETTINGS
@given(HEADERS, st.lists(st.lists(CELL, min_size=7, max_size=7), max_size=6), ENCODINGS)
def test_population_reader_reads_or_says_why(tmp_path, headers, rows, encoding):
    p = tmp_path / "p.csv"
    p.write_bytes(table(headers, rows, encoding))
    try:
        pop = read_population(p)
    except InputError as exc:
        one_line(exc)
        return
    values = pop["population"].to_numpy(dtype=float)
    assert np.isfinite(values).all() and (values >= 0).all()


VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda x: "nan" if math.isnan(x) else ("inf" if x == math.inf else
                                              ("-inf" if x == -math.inf else repr(x)))),
    st.integers(-5, 10**6).map(str),
    TEXT.map(lambda t: '"' + t.replace("\\\\", "").replace('"', "") + '"'),
    st.sampled_from(["true", "[]", '">="', '"<="', '"=>"', '"kindergarten"', '"elder_care"',
                     '"share_within"', '"supply_per_capita"', '"幼儿园"', '"*"']),
)  # fmt: skip
KEY_NAMES = ["id", "category", "metric", "target", "unit", "source", "per", "comparison",
             "distance_m", "supply", "per_unit", "flag", "colour"]  # fmt: skip
KEYS = st.sampled_from(KEY_NAMES)


@SETTINGS
@given(st.lists(st.dictionaries(KEYS, VALUE, max_size=11), min_size=0, max_size=3))
def test_standards_reader_reads_or_says_why(tmp_path, entries):
    text = "".join("[[standard]]\n" + "".join(f"{k} = {v}\n" for k, v in e.items())
                   for e in entries)  # fmt: skip
    p = tmp_path / "s.toml"
    p.write_text(text, "utf-8")
    try:
        stds = load_standards(p)
    except InputError as exc:
        one_line(exc)
        return
    for s in stds:
        assert s.comparison in (">=", "<=") and math.isfinite(s.target) and s.target >= 0


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00", b"\x00" * 50, "名称\n".encode("utf-16")])
def test_undecodable_bytes_are_one_line(tmp_path, raw):
    p = tmp_path / "f.csv"
    p.write_bytes(raw)
    with pytest.raises(InputError) as e:
        read_facilities(p, category="clinic")
    one_line(e.value)


# ---------------------------------------------------------------- TOML loaders and options

SCALAR = st.one_of(
    st.integers(-(10**20), 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), TEXT,
    st.sampled_from(["hanzhong", "kindergarten", "supply_per_capita", ">=", "(a+)+", "../x",
                     "/etc/passwd", "\x1b[2J", "steps|motorway", "幼儿园"]),
)  # fmt: skip
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "幼儿园"]), inner,
                                                 max_size=2)), max_leaves=6)  # fmt: skip


def toml_value(v) -> str:
    """A TOML text for a value (the project has no TOML writer; this one covers the types)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             for c in v) + '"'  # fmt: skip
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f'"{k}" = {toml_value(x)}' for k, x in v.items()) + "}"


def toml_table(header: str, entry: dict) -> str:
    return f"{header}\n" + "".join(f'"{k}" = {toml_value(v)}\n' for k, v in entry.items())


STD_KEYS = ["id", "category", "metric", "supply", "per", "target", "unit", "source",
            "comparison", "verified", "subtypes", "distance_m", "scope", "level", "typical",
            "plan_line", "jurisdiction", "per_unit", "flag", "of", "numerator"]  # fmt: skip
SCEN_KEYS = ["name", "network", "facilities", "population", "boundaries", "minutes",
             "speed_kmh", "thresholds", "strict", "area", "crs_in", "facilities_crs",
             "category_map", "spread", "remove_facilities", "tiles"]  # fmt: skip


GOOD_STD = {"id": "x", "category": "clinic", "metric": "supply_per_capita", "supply": "beds",
            "per": 1000, "target": 8, "unit": "beds per 1,000", "source": "my plan"}
GOOD_SCEN = {"name": "a", "network": "n.geojson", "facilities": "f.csv",
             "population": "p.geojson"}  # fmt: skip


@SETTINGS
@given(changes=st.lists(st.dictionaries(st.sampled_from(STD_KEYS), VALUE, max_size=3),
                        min_size=1, max_size=2))  # fmt: skip
def test_standards_catalogues_read_or_say_why(changes, tmp_path_factory):
    """A valid entry with one to three fields replaced by anything."""
    entries = [GOOD_STD | {"id": f"x{i}"} | c for i, c in enumerate(changes)]
    p = tmp_path_factory.mktemp("std") / "s.toml"
    p.write_text("".join(toml_table("[[standard]]", e) for e in entries), encoding="utf-8")
    try:
        stds = load_standards(p)
    except InputError as exc:
        one_line(exc)
        return
    for std in stds:  # what was accepted is what the evaluation relies on
        assert isinstance(std.verified, bool) and math.isfinite(std.target)
        assert all(isinstance(getattr(std, f), str) for f in ("id", "unit", "source", "scope"))


@SETTINGS
@given(changes=st.lists(st.dictionaries(st.sampled_from(SCEN_KEYS), VALUE, max_size=3),
                        min_size=1, max_size=2))  # fmt: skip
def test_scenario_files_read_or_say_why(changes, tmp_path_factory):
    """A valid scenario with one to three keys replaced by anything."""
    from hzspatial.batch import load_scenarios

    entries = [GOOD_SCEN | {"name": f"s{i}"} | c for i, c in enumerate(changes)]
    p = tmp_path_factory.mktemp("scen") / "s.toml"
    p.write_text("".join(toml_table("[[scenario]]", e) for e in entries), encoding="utf-8")
    try:
        scenarios, _ = load_scenarios(p)
    except InputError as exc:
        one_line(exc)
        return
    for sc in scenarios:  # what was accepted is what the runs rely on
        assert isinstance(sc.minutes, int | float) and not isinstance(sc.minutes, bool)
        assert isinstance(sc.strict, bool) and isinstance(sc.network, str)


@SETTINGS
@given(rules=st.dictionaries(st.sampled_from(["exclude", "levels", "other"]),
                             st.dictionaries(st.sampled_from(["highway", "tunnel",
                                                              "lowest_layer"]), VALUE,
                                             max_size=3), max_size=2))  # fmt: skip
def test_snapping_rules_read_or_say_why(rules, tmp_path_factory):
    from hzspatial.network.rules import snap_rules

    p = tmp_path_factory.mktemp("rules") / "r.toml"
    p.write_text("".join(toml_table(f"[{k}]", v) for k, v in rules.items()), encoding="utf-8")
    try:
        snap_rules(p)
    except InputError as exc:
        one_line(exc)


OPTION_VALUES = st.one_of(TEXT, st.sampled_from(
    ["0", "-1", "nan", "inf", "1e308", "-0", "1e-320", "15", "abc", "", " ", "1,5", "0x10"]))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(option=st.sampled_from(["--minutes", "--speed", "--max-snap", "--persons-per-household",
                               "--threshold", "--spacing", "--time-limit", "--budget",
                               "--add", "--workers"]),
       value=OPTION_VALUES)  # fmt: skip
def test_numeric_options_run_or_say_why(option, value, tmp_path_factory, capsys):
    """Every numeric option with any text: exit 0 or 2 (never 3), nothing written outside
    --out. The runs stop at the option's check, before any work (a valid value is
    replaced by an impossible one so that no analysis runs)."""
    from hzspatial.cli import main

    tmp = tmp_path_factory.mktemp("opt")
    scen = tmp / "s.toml"
    scen.write_text('[[scenario]]\nname = "a"\nnetwork = "n.geojson"\nfacilities = "f.csv"\n'
                    'population = "p.geojson"\n', encoding="utf-8")  # fmt: skip
    missing = str(tmp / "no_network.geojson")
    if option == "--workers":
        argv = ["batch", str(scen), option, value, "--out", str(tmp / "out")]
    elif option in ("--spacing", "--time-limit", "--budget", "--add"):
        argv = ["site", "--network", missing, "--population", missing, "--category",
                "kindergarten", option, value, "--out", str(tmp / "out")]  # fmt: skip
    else:
        value = f"kindergarten={value}" if option == "--threshold" else value
        argv = ["coverage", "--network", missing, "--facilities", missing, "--population",
                missing, option, value, "--out", str(tmp / "out"), "--quiet"]  # fmt: skip
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse: a value of the wrong type
        rc = exc.code
    err = capsys.readouterr().err
    assert rc in (0, 2), err
    assert "Traceback" not in err
    assert sorted(x.name for x in tmp.iterdir()) in (["s.toml"], ["out", "s.toml"])
