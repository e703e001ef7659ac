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
