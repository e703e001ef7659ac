"""Planning standards as data: the built-in Hanzhong catalogue and user files.

A standard has an id, a facility category, a metric, a target, a unit, a scope
and a source (document + chapter), and says whether its figure was verified
against the source text. Catalogues are TOML files; :func:`load_standards`
reads the built-in one by name or a user's file by path.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hzspatial.categories import builtin_categories, resolve_category, user_category
from hzspatial.config import parse_user_toml
from hzspatial.errors import InputError

__all__ = ["jurisdiction_of", "Standard", "TravelRule", "load_standards", "load_travel",
           "COMPARISONS", "METRICS", "SUPPLIES", "PER_UNITS"]  # fmt: skip

METRICS = ("supply_per_capita", "share_within", "supply_share", "supply_ratio", "areas_served",
           "built_since", "proposals_compliant")  # fmt: skip
SUPPLIES = ("area_m2", "floor_area_m2", "beds", "nursing_beds", "places", "pitches", "doctors",
            "nurses", "count")  # fmt: skip
PER_UNITS = ("residents", "households")
_REQUIRED = ("id", "category", "metric", "target", "unit", "source")


@dataclass(frozen=True)
class Standard:
    """One planning standard.

    Attributes
    ----------
    id, category, metric : str
    target : float
        In ``unit`` (e.g. 0.1 m² per resident; 1.0 pitch per 10,000 residents).
    unit : str
    per : float
        Residents (or households) the target refers to (1, 100, 1,000, 10,000).
    supply : str
        Facility attribute summed (see :data:`SUPPLIES`; ``count`` counts facilities).
    typical : float or None
        Supply assumed for a facility lacking the attribute (flagged in outputs);
        ``typical_source`` says where it comes from.
    comparison : str
        ``>=`` or ``<=``.
    distance_m : float or None
        For ``share_within``: walking distance in metres.
    per_unit : str
        ``residents`` or ``households`` (households = residents ÷ persons per household).
    flag : str or None
        For ``supply_share``: the boolean facility attribute (e.g. ``inclusive`` = 普惠).
    level : str
        GB 50180-2018 life-circle level (``15-min``, ``10-min``, ``5-min``).
    scope, source, label_zh, label_en : str
    verified : bool
        Whether the figure was read in the source text.
    plan_line : int or None
        Line of ``data/reference/hanzhong_14th_fyp_public_services_2022.txt`` where the
        figure stands; ``plan_quote`` the words on that line.
    numerator : str or None
        For ``supply_ratio``: the facility attribute summed over ``supply`` (e.g.
        ``nursing_beds`` over ``beds``).
    of : str or None
        For ``proposals_compliant`` (scope ``review``): the standard every proposal must pass;
        the value is the share of reviewed proposals that pass it.
    since_year : int or None
        For ``built_since``: facilities built in or after this year (``built`` column)
        count towards the target; ``planned`` ones are reported beside them.
    subtypes : tuple of str
        Only facilities of these subtypes count (``config/categories.toml``), e.g.
        ``("daycare",)``: nursing homes are not day-care centres. Empty = every facility of
        the category.
    """

    id: str
    category: str
    metric: str
    target: float
    unit: str
    source: str
    per: float = 1.0
    supply: str = "count"
    typical: float | None = None
    typical_source: str = ""
    comparison: str = ">="
    distance_m: float | None = None
    per_unit: str = "residents"
    flag: str | None = None
    level: str = ""
    scope: str = "district"
    label_zh: str = ""
    label_en: str = ""
    verified: bool = False
    plan_line: int | None = None
    plan_quote: str = ""
    subtypes: tuple[str, ...] = ()
    since_year: int | None = None
    of: str | None = None
    numerator: str | None = None
    jurisdiction: str = ""

    @property
    def distance_key(self) -> str:
        """Key of the walking distances this standard reads: its category, or
        ``category:subtype+subtype`` when it counts only some subtypes."""
        if not self.subtypes:
            return self.category
        return f"{self.category}:{'+'.join(sorted(self.subtypes))}"

    @property
    def label(self) -> str:
        """Bilingual label, e.g. ``"社区养老服务设施用地 / Community elderly-service land"``."""
        return f"{self.label_zh} / {self.label_en}" if self.label_zh else self.id

    @property
    def evaluated(self) -> bool:
        """False for reference entries (``scope = "reference"``) that document a rule only,
        and for review-level ones (``scope = "review"``) that ``review`` evaluates."""
        return self.scope not in ("reference", "review")

    def met(self, value: float) -> bool | None:
        """Whether ``value`` satisfies the target (None when value is unknown)."""
        if value is None or value != value:
            return None
        return bool(value >= self.target if self.comparison == ">=" else value <= self.target)


#: Comparisons a target may use: the value must be at least (>=) or at most (<=) the target.
COMPARISONS = (">=", "<=")
#: Per metric: the field it needs, whether a value will do, and how to give it.
_METRIC_FIELDS = {
    "supply_share": ("flag", bool, 'name the boolean facility attribute, e.g. flag = "inclusive"'),
    "supply_ratio": ("numerator", lambda v: v in SUPPLIES,
                     'one of the supplies, e.g. numerator = "nursing_beds" with supply = "beds"'),
    "proposals_compliant": ("of", bool, "name the standard each proposal must pass, e.g. "
                            'of = "elderly_land_per_resident"'),
    "built_since": ("since_year", lambda v: isinstance(v, int) and not isinstance(v, bool),
                    "give the first year that counts, e.g. since_year = 2021"),
    "share_within": ("distance_m", bool, "give the walking distance in metres"),
}  # fmt: skip
#: Metrics whose value is a share (0–1).
_SHARE_METRICS = ("share_within", "supply_share", "areas_served")


def jurisdiction_of(name_or_path: str | Path = "hanzhong") -> tuple[str, str | None]:
    """The catalogue's jurisdiction (``[meta] jurisdiction``, e.g. ``"汉中市 / Hanzhong"``)
    and the key of its bundled boundary (``[meta] jurisdiction_boundary``, a
    :func:`hzspatial.datasets.demo_paths` key), or ``("", None)`` when it names none."""
    key = str(name_or_path)
    builtin = resources.files("hzspatial.standards").joinpath(f"{key}.toml")
    try:
        text = (builtin.read_text("utf-8") if builtin.is_file()
                else Path(key).read_text("utf-8-sig"))  # fmt: skip
        meta = tomllib.loads(text).get("meta", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return "", None
    if not isinstance(meta, dict):
        return "", None
    name, area = meta.get("jurisdiction", ""), meta.get("jurisdiction_boundary")
    return (name if isinstance(name, str) else "", area if isinstance(area, str) else None)


def load_standards(
    name_or_path: str | Path = "hanzhong", extra_categories: Iterable[str] = ()
) -> list[Standard]:
    """Load a standards catalogue: ``"hanzhong"`` (built in) or a TOML file path.

    Every entry is validated: required fields, a known metric, supply and per-unit, a
    comparison of ``>=`` or ``<=``, a finite non-negative target (a share within 0–1; a share
    above 1 is reported as a probable percentage), ``per`` and ``distance_m`` finite and > 0,
    and a known facility category (id or alias; ``extra_categories`` adds user-named ones;
    ``*`` marks a reference rule for every category).

    Raises
    ------
    InputError
        For a missing file, bad TOML, or an entry lacking a field / with a bad value
        (the message names the file, the entry number and the field).
    """
    text, label = _catalogue_text(str(name_or_path))
    raw = parse_user_toml(text, label)
    entries = raw.get("standard")
    meta = raw.get("meta") if isinstance(raw.get("meta"), dict) else {}
    if not isinstance(entries, list) or not entries:
        raise InputError(
            "no [[standard]] entries",
            file=label,
            hint="add entries as in hzspatial/standards/hanzhong.toml",
        )
    known = dict(builtin_categories())
    for name in extra_categories:
        if resolve_category(name, known) is None:
            known[name] = user_category(name)
    out = [_standard_entry(e, f"standard {i}", label, known, meta)
           for i, e in enumerate(entries, start=1)]  # fmt: skip
    ids = [s.id for s in out]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        raise InputError(
            f"duplicate standard id(s) {', '.join(dup)}",
            file=label,
            hint="give each standard its own id",
        )
    return out


@dataclass(frozen=True)
class TravelRule:
    """A catalogue's ``[[travel]]`` entry: how a category's facilities are reached.

    Attributes
    ----------
    category : str
        Category id.
    mode : str
        ``walk``, ``bike``, ``ebike`` or ``car`` (:data:`hzspatial.network.costs.MODES`).
    minutes : float or None
        The category's threshold in minutes (None: the run's ``--minutes``).
    source : str
        Where the rule comes from (required: a travel time is a planning figure too).
    """

    category: str
    mode: str
    minutes: float | None
    source: str


def load_travel(name_or_path: str | Path = "hanzhong",
                extra_categories: Iterable[str] = ()) -> dict[str, TravelRule]:  # fmt: skip
    """A catalogue's ``[[travel]]`` entries by category id (none: an empty dict), e.g.::

        [[travel]]
        category = "clinic"
        mode = "car"
        minutes = 30
        source = "县卫生健康局 2025 年乡镇卫生院服务半径要求"

    Raises
    ------
    InputError
        An entry that is not a table, lacks ``category``/``mode``/``source``, names an unknown
        category or mode, has minutes that are not a finite number > 0, or repeats a category
        (the message names the file, the entry and the field).
    """
    from hzspatial.network.costs import MODES

    text, label = _catalogue_text(str(name_or_path))
    entries = parse_user_toml(text, label).get("travel", [])
    if not isinstance(entries, list):
        raise InputError("travel is not a list of [[travel]] tables", file=label,
                         column="travel", hint="write each rule as a [[travel]] table")  # fmt: skip
    known = dict(builtin_categories())
    for name in extra_categories:
        if resolve_category(name, known) is None:
            known[name] = user_category(name)
    out: dict[str, TravelRule] = {}
    for i, e in enumerate(entries, start=1):
        where = f"travel {i}"
        if not isinstance(e, dict):
            raise InputError("not a [[travel]] table", file=label, where=where,
                             hint="write each rule as a [[travel]] table")  # fmt: skip
        for field, example in (("category", '"clinic"'), ("mode", '"car"'),
                               ("source", '"the document and clause that sets it"')):
            if not isinstance(e.get(field), str) or not e[field].strip():
                raise InputError(f"{field} missing or not text", file=label, where=where,
                                 column=field, hint=f"e.g. {field} = {example}")  # fmt: skip
        cat = resolve_category(e["category"], known)
        if cat is None:
            raise InputError(f"unknown category {e['category']!r}", file=label, where=where,
                             column="category", hint="use a category id or alias")  # fmt: skip
        _one_of(e, "mode", MODES, None, label, where)
        minutes = e.get("minutes")
        number = isinstance(minutes, int | float) and not isinstance(minutes, bool)
        if minutes is not None and not (number and math.isfinite(minutes) and minutes > 0):
            raise InputError(f"minutes {minutes!r} is not a number > 0", file=label, where=where,
                             column="minutes", hint="e.g. minutes = 30, unquoted")  # fmt: skip
        if cat in out:
            raise InputError(f"a second rule for {cat}", file=label, where=where,
                             column="category", hint="one rule per category")  # fmt: skip
        out[cat] = TravelRule(cat, e["mode"], None if minutes is None else float(minutes),
                              e["source"].strip())  # fmt: skip
    return out


def _catalogue_text(key: str) -> tuple[str, str]:
    """The TOML text of a built-in catalogue name or a file path, and its label."""
    builtin = resources.files("hzspatial.standards").joinpath(f"{key}.toml")
    if builtin.is_file():
        return builtin.read_text("utf-8"), f"built-in standards '{key}'"
    path = Path(key)
    if not path.is_file():
        raise InputError(
            "standards file not found",
            file=key,
            hint="use 'hanzhong' or the path of a TOML standards file",
        )
    try:
        return path.read_text("utf-8-sig"), key  # Windows editors may add a BOM
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", file=key, hint="save the file as UTF-8") from exc


def _standard_entry(e, where: str, label: str, known: dict, meta: dict) -> Standard:
    """One ``[[standard]]`` table checked (fields, metric, supply, target, values, per-unit,
    the metric's own field, category, jurisdiction) and made a :class:`Standard`."""
    fields = set(Standard.__dataclass_fields__)
    if not isinstance(e, dict):
        raise InputError("not a [[standard]] table", file=label, where=where,
                         hint="write each standard as a [[standard]] table")  # fmt: skip
    missing = [f for f in _REQUIRED if f not in e]
    if missing:
        raise InputError(
            f"missing field(s) {', '.join(missing)}",
            file=label,
            where=where,
            hint=f"every standard needs {', '.join(_REQUIRED)}",
        )
    unknown = sorted(set(e) - fields)
    if unknown:
        raise InputError(
            f"unknown field(s) {', '.join(unknown)}",
            file=label,
            where=where,
            hint=f"allowed: {', '.join(sorted(fields))}",
        )
    _one_of(e, "metric", METRICS, None, label, where)
    _one_of(e, "supply", SUPPLIES, "count", label, where)
    if not isinstance(e["target"], int | float) or isinstance(e["target"], bool):
        raise InputError(
            f"target must be a number (got {e['target']!r})",
            file=label,
            where=where,
            column="target",
        )
    _check_values(e, label, where, known)
    _one_of(e, "per_unit", PER_UNITS, "residents", label, where)
    need = _METRIC_FIELDS.get(e["metric"])
    if need is not None and not need[1](e.get(need[0])):
        raise InputError(
            f"{e['metric']} needs {need[0]}",
            file=label,
            where=where,
            column=need[0],
            hint=need[2],
        )
    cat = e["category"] if e["category"] == "*" else resolve_category(e["category"], known)
    if not isinstance(e.get("jurisdiction", ""), str):
        raise InputError(f"jurisdiction must be text (got {e['jurisdiction']!r})",
                         file=label, where=where, column="jurisdiction",
                         hint='e.g. jurisdiction = "national"')  # fmt: skip
    e = e | {"jurisdiction": e.get("jurisdiction") or str(meta.get("jurisdiction", ""))}
    return Standard(**(e | {"category": cat, "subtypes": tuple(e.get("subtypes", ()))}))


def _one_of(e: dict, field: str, allowed, default, label: str, where: str) -> None:
    """Refuse a field whose value is not one of ``allowed`` (``default`` when absent)."""
    if e.get(field, default) not in allowed:
        raise InputError(f"unknown {field} {e[field]!r}", file=label, where=where, column=field,
                         hint=f"use one of {', '.join(allowed)}")  # fmt: skip


#: Fields whose TOML type is checked (``verified = "false"``, a string, counted as true).
_TYPED = (
    ("verified", bool, ("true or false (no quotes)", "true")),
    ("id", str, ("text", '"my_standard"')),
    ("category", str, ("text", '"kindergarten"')),
    ("metric", str, ("text", '"supply_per_capita"')),
    ("unit", str, ("text", '"places per 1,000 residents"')),
    ("source", str, ("text", '"plan, chapter 7, line 464"')),
    ("label_zh", str, ("text", '"幼儿园学位"')),
    ("label_en", str, ("text", '"Kindergarten places"')),
    ("scope", str, ("text", '"district"')),
    ("level", str, ("text", '"15-min"')),
    ("supply", str, ("text", '"places"')),
    ("comparison", str, ("text", '">="')),
    ("per_unit", str, ("text", '"residents"')),
    ("plan_line", int, ("a whole number", "464")),
    ("since_year", int, ("a whole number", "2021")),
    ("typical", int | float, ("a number", "90")),
    ("typical_source", str, ("text", '"GB 50180-2018"')),
    ("plan_quote", str, ("text", '"按人均用地不少于 0.1 平方米…"')),
    ("of", str, ("text", '"elderly_land_per_resident"')),
    ("numerator", str, ("text", '"nursing_beds"')),
    ("flag", str, ("text", '"inclusive"')),
)


def _check_values(e: dict, label: str, where: str, known: dict) -> None:
    """Raise for values that would silently give wrong verdicts."""

    def bad(problem: str, column: str, hint: str) -> InputError:
        return InputError(problem, file=label, where=where, column=column, hint=hint)

    for field, kind, example in _TYPED:
        if field in e and not (isinstance(e[field], kind) and not (
                kind is not bool and isinstance(e[field], bool))):  # fmt: skip
            raise bad(f"{field} must be {example[0]} (got {e[field]!r})", field,
                      f"e.g. {field} = {example[1]}")  # fmt: skip
    comparison = e.get("comparison", ">=")
    if comparison not in COMPARISONS:
        raise bad(f"unknown comparison {comparison!r}", "comparison",
                  'use ">=" (at least the target) or "<=" (at most)')  # fmt: skip
    target = float(e["target"])
    if not math.isfinite(target) or target < 0:
        raise bad(f"target must be a finite number ≥ 0 (got {e['target']!r})", "target",
                  "give the standard's figure in its unit")  # fmt: skip
    if (e["metric"] in _SHARE_METRICS or e["metric"] == "supply_ratio") and target > 1:
        raise bad(f"a share must be within 0–1 (got {e['target']!r})", "target",
                  f"{target:g} looks like a percentage: write {target / 100:g} for {target:g} %"
                  if target <= 100 else "write the share as a fraction, e.g. 0.9")  # fmt: skip
    for field in ("per", "distance_m"):
        if field in e:
            v = e[field]
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not (math.isfinite(v) and v > 0)
            ):
                raise bad(f"{field} must be a finite number > 0 (got {v!r})", field,
                          "e.g. per = 10000 for a count per 10,000 residents"
                          if field == "per" else
                          "e.g. distance_m = 300, a plain number of metres, unquoted")  # fmt: skip
    cat = None if e["category"] == "*" else resolve_category(str(e["category"]), known)
    if e["category"] != "*" and cat is None:
        raise bad(f"unknown category {e['category']!r}", "category",
                  f"use one of {', '.join(known)} (or an alias such as 幼儿园)")  # fmt: skip
    subs = e.get("subtypes", [])
    own = [s.id for s in known[cat].subtypes] if cat else []
    if not isinstance(subs, list) or any(s not in own for s in subs):
        raise bad(f"unknown subtypes {subs!r} for {e['category']}", "subtypes",
                  f"use a list of {', '.join(own) or '(this category has none)'}")  # fmt: skip
