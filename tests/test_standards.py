"""The standards catalogue and user standards files."""

import pytest

from hzspatial.errors import InputError
from hzspatial.standards import load_standards


def test_builtin_catalogue():
    stds = {s.id: s for s in load_standards()}
    land = stds["elderly_land_per_resident"]
    assert land.target == 0.1 and land.per == 1 and land.supply == "area_m2"
    assert "第七章第一节" in land.source and land.verified is True and land.plan_line == 464
    pitch = stds["football_pitches_per_10000"]
    assert pitch.target == 1.0 and pitch.per == 10000


GOOD = """
[[standard]]
id = "x"
category = "clinic"
metric = "supply_per_capita"
supply = "beds"
per = 1000
target = 8
unit = "beds per 1,000"
source = "my plan"
"""


def test_user_file(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(GOOD)
    (s,) = load_standards(p)
    assert s.met(8.0) is True and s.met(7.9) is False and s.met(float("nan")) is None


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("[[standard]]\nid = 'x'", "standard 1: missing field(s) category, metric"),
        (GOOD.replace('"beds"', '"chairs"'), "unknown supply 'chairs'"),
        (GOOD.replace("target = 8", "target = 'eight'"), "target must be a number"),
        (GOOD + "colour = 'red'\n", "unknown field(s) colour"),
        ("[[standard]\n", "not valid TOML"),
        (GOOD + GOOD, "duplicate standard id(s) x"),
        (GOOD + 'comparison = "=>"\n', "unknown comparison '=>'"),
        (GOOD.replace("target = 8", "target = -8"), "target must be a finite number ≥ 0"),
        (GOOD.replace("target = 8", "target = inf"), "target must be a finite number ≥ 0"),
        (GOOD.replace("per = 1000", "per = 0"), "per must be a finite number > 0"),
        (GOOD.replace('"clinic"', '"elder_care"'), "unknown category 'elder_care'"),
        (
            GOOD.replace("supply_per_capita", "supply_ratio").replace("target = 8", "target = 0.5"),
            "supply_ratio needs numerator",
        ),
        (GOOD.replace("supply_per_capita", "built_since"), "built_since needs since_year"),
        (GOOD.replace("supply_per_capita", "proposals_compliant"), "proposals_compliant needs of"),
        (GOOD + 'subtypes = ["daycare"]\n', "unknown subtypes ['daycare'] for clinic"),
        (
            GOOD.replace(
                'metric = "supply_per_capita"', 'metric = "share_within"\ndistance_m = 300'
            ).replace("target = 8", "target = 90"),
            "90 looks like a percentage: write 0.9",
        ),
        (
            GOOD.replace(
                'metric = "supply_per_capita"', 'metric = "share_within"\ndistance_m = -3'
            ).replace("target = 8", "target = 1"),
            "distance_m must be a finite number > 0",
        ),
    ],
)
def test_bad_user_files(tmp_path, text, expect):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        load_standards(p)
    assert expect in str(e.value) and "bad.toml" in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_standards_file():
    with pytest.raises(InputError, match="standards file not found"):
        load_standards("no_such_catalogue")


def test_category_aliases_and_user_categories(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(GOOD.replace('"clinic"', '"社区卫生服务站"'))
    assert load_standards(p)[0].category == "clinic"
    p.write_text(GOOD.replace('"clinic"', '"library"'))
    with pytest.raises(InputError, match="unknown category 'library'"):
        load_standards(p)
    assert load_standards(p, ["library"])[0].category == "library"


def test_plan_figures_are_read_in_the_plans_own_text():
    """Every plan standard cites a line of the shipped plan text: the line holds the quoted
    words and the figure (a share as its percentage)."""
    from hzspatial.datasets import data_dir

    lines = (data_dir() / "reference" / "hanzhong_14th_fyp_public_services_2022.txt").read_text(
        "utf-8").splitlines()  # fmt: skip
    plan = [s for s in load_standards() if "十四五" in s.source]
    assert len(plan) >= 12 and all(s.verified and s.plan_line for s in plan)
    for s in plan:
        line = lines[s.plan_line - 1]
        assert s.plan_quote in line, s.id
        figure = s.target * 100 if s.unit.startswith("share") else s.target
        assert f"{figure:g}" in s.plan_quote, s.id
    gb = [s for s in load_standards() if s.source.startswith("GB 50180") and s.distance_m
          and s.category != "*"]  # fmt: skip
    assert gb and not any(s.verified for s in gb)  # the standard's text is not at hand


@pytest.mark.parametrize(("extra", "field"), [('verified = "false"', "verified"),
                                              ("unit = 5", "unit"),
                                              ('plan_line = "464"', "plan_line"),
                                              ("source = ['a', 'b']", "source")])  # fmt: skip
def test_catalogue_fields_are_type_checked(extra, field, tmp_path):
    """verified = "false" (a string) counted as verified."""
    p = tmp_path / "s.toml"
    text = GOOD if field not in ("unit", "source") else GOOD.replace(
        f'{field} = "{"beds per 1,000" if field == "unit" else "my plan"}"\n', "")
    p.write_text(text + extra + "\n")
    with pytest.raises(InputError, match=f"{field} must be"):
        load_standards(p)


def test_a_quoted_distance_gets_a_hint_about_distance_not_per(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[[standard]]\nid = "x"\ncategory = "kindergarten"\nmetric = "share_within"\n'
                 'distance_m = "300"\ntarget = 1\nunit = "share"\nsource = "t"\n')
    with pytest.raises(InputError, match="distance_m must be") as e:
        load_standards(p)
    assert "distance_m = 300" in e.value.line() and "per = 10000" not in e.value.line()
