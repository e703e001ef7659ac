"""Evaluating a standards catalogue on one coverage run: district rows, the whole study area,
and catchment-level (2SFCA) accessibility per resident.

Takes arrays and small tables only (no geometry): facilities' supplies and areas, residents'
areas, walking distances and (demand, facility) pairs within each category's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hzspatial import analysis as an
from hzspatial.network.costs import mode_label
from hzspatial.standards import Standard

__all__ = ["Pairs", "StandardsInput", "evaluate_standards", "STUDY_AREA"]

STUDY_AREA = "study area"
_STUDY_NAME = "研究区 / study area"


@dataclass(frozen=True)
class Pairs:
    """(demand, facility) pairs within a category's walking threshold (metres)."""

    demand: np.ndarray
    facility: np.ndarray
    distance_m: np.ndarray
    threshold_m: float


@dataclass(frozen=True)
class StandardsInput:
    """What :func:`evaluate_standards` needs from a run.

    Attributes
    ----------
    facilities : DataFrame
        ``category``, supply columns (``area_m2``, ``beds`` …), ``inclusive``, ``snapped``.
    facility_area : array of int
        Area (district) index of each facility, −1 outside every area.
    area_ids, area_names : arrays
        The areas (districts) in boundary order.
    demand_area : array of int
        Area index of each demand point (−1 outside).
    people : array
        Residents per demand point (0 for points off the network).
    distance_m : dict
        Category → walking metres from each demand point to its nearest facility (unbounded).
    pairs : dict
        Category → :class:`Pairs` within the category's threshold (for 2SFCA).
    persons_per_household : float
        Converts residents to households for ``per_unit = "households"`` standards.
    area_level : str
        Level of the areas (``district``, ``street``, ``community``): a standard scoped to
        communities is only evaluated on community areas; one scoped to districts (the plan's
        county ratios) is shown as partial, not judged, on smaller areas.
    whole_city : bool
        Whether the areas are the whole jurisdiction (a city-scoped total, e.g. a build
        target, is judged only then; otherwise it is shown as partial).
    outside : str
        The jurisdiction the study area lies outside of (e.g. ``"汉中市 / Hanzhong"``):
        that jurisdiction's standards are shown for reference, not judged. Empty: inside.
    served : dict
        Category → persons of the group it serves per demand point (0 off the network), for
        the shares within reach and the 2SFCA demand; a category not here counts ``people``.
        Per-capita values keep ``people`` (the plan's denominator).
    modes : dict
        Category → travel mode (``walk`` when absent). A ``share_within`` standard is a
        walking radius: for a category reached by another mode it cannot be checked.
    """

    facilities: pd.DataFrame
    facility_area: np.ndarray
    area_ids: np.ndarray
    area_names: np.ndarray
    demand_area: np.ndarray
    people: np.ndarray
    distance_m: dict[str, np.ndarray]
    pairs: dict[str, Pairs] = field(default_factory=dict)
    persons_per_household: float = 2.46
    area_level: str = "district"
    whole_city: bool = False
    outside: str = ""
    served: dict[str, np.ndarray] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate_standards`.

    Attributes
    ----------
    ratios : DataFrame
        One row per standard for the study area and for each area with residents.
    access : dict
        Standard id → 2SFCA accessibility per demand point (the standard's units).
    """

    ratios: pd.DataFrame
    access: dict[str, np.ndarray]


#: Metrics whose figure the plan sets for a county (区县) as a whole.
_COUNTY_METRICS = ("supply_per_capita", "supply_share", "supply_ratio")
_LEVEL_ZH = {"district": "区县", "street": "街道", "community": "社区"}


def _judged_where_set(row: dict, std: Standard, data: StandardsInput) -> dict:
    """A row's verdict kept only where the standard is set: a study area outside the
    standard's jurisdiction gets the figure for reference; a county ratio on 街道/社区 areas
    (and over a study area of them) and a city total on less than the city are partial."""
    if row.get("met") is None or str(row.get("note", "")).startswith("cannot check"):
        return row
    why = None
    if data.outside and std.jurisdiction not in ("", "national"):
        why = (f"for reference: the study area lies outside {std.jurisdiction}, whose plan "
               "sets this target — pass --standards with your own catalogue")
    elif std.scope == "district" and std.metric in _COUNTY_METRICS and \
            data.area_level != "district":  # fmt: skip
        where = ("over the study area" if row["district_id"] == STUDY_AREA
                 else f"for one {_LEVEL_ZH.get(data.area_level, data.area_level)} "
                 f"({data.area_level})")  # fmt: skip
        why = (f"partial: the plan sets this per county (区县); the figure {where} is shown "
               "for reference, not judged")
    elif std.scope == "city" and not data.whole_city:
        why = ("partial: the plan sets this for the whole city; the count over the study "
               "area is shown for reference, not judged")
    if why is None:
        return row
    note = f"{why}; {row['note']}" if row.get("note") else why
    return row | {"met": None, "note": note}


def _supply_at(fac: pd.DataFrame, std: Standard, mask: np.ndarray):
    """:func:`hzspatial.analysis.facility_supply` of the facilities in ``mask``, read from
    the columns (no frame is copied)."""
    if std.supply == "count":
        n = int(np.count_nonzero(mask))
        return np.ones(n), np.zeros(n, dtype=bool)
    return an.supply_of(fac[std.supply].to_numpy(dtype=float)[mask], std)


def _cannot(std: Standard, note: str) -> dict:
    return {"district_id": STUDY_AREA, "district": _STUDY_NAME, "value": np.nan, "met": None,
            "supply": np.nan, "residents": np.nan, "required": np.nan, "gap": np.nan,
            "note": f"cannot check: {note}"}  # fmt: skip


def _built_since(std: Standard, fac: pd.DataFrame, sel: np.ndarray) -> dict:
    """Progress on a build target for the whole study area: the supply of the category's
    facilities built in or after ``since_year``, the planned ones beside it."""
    built = pd.to_numeric(fac["built"], errors="coerce") if "built" in fac else None
    planned = fac["planned"].eq(True) if "planned" in fac else None
    known = np.zeros(len(fac), bool)
    if built is not None:
        known |= built.notna().to_numpy()
    if planned is not None:
        known |= fac["planned"].notna().to_numpy()
    if not (sel & known).any():
        return _cannot(std, f"the {std.category} facilities carry no build year (建成年份) or "
                       "planned flag (规划)")  # fmt: skip
    new = sel & (built.to_numpy() >= std.since_year if built is not None else False)
    plan = sel & ~new & (planned.to_numpy() if planned is not None else False)
    done = float(_supply_at(fac, std, new)[0].sum()) if new.any() else 0.0
    coming = float(_supply_at(fac, std, plan)[0].sum()) if plan.any() else 0.0
    unknown = int((sel & ~known).sum())
    note = (
        f"built since {std.since_year}: {done:g}; planned: {coming:g}; built + planned "
        f"{done + coming:g} of {std.target:g}"
        + (f"; {unknown} facilities without a build year or planned flag" if unknown else "")
    )
    return {"district_id": STUDY_AREA, "district": _STUDY_NAME, "value": done,
            "met": std.met(done), "supply": done, "residents": np.nan, "required": std.target,
            "gap": max(std.target - done, 0.0), "note": note}  # fmt: skip


def _per_area_and_whole(fn, area_idx_fac, area_idx_dem, n):
    """Evaluate ``fn(fac_area, dem_area, n_areas)`` per area and for the whole study area."""
    per = fn(area_idx_fac, area_idx_dem, n)
    whole = fn(np.where(area_idx_fac >= 0, 0, -1), np.where(area_idx_dem >= 0, 0, -1), 1)
    return per, whole


@dataclass(frozen=True)
class _Scope:
    """What every standard of one evaluation shares: the facilities' columns as arrays and the
    residents per area."""

    data: StandardsInput
    on_net: np.ndarray
    cats: np.ndarray
    subs: np.ndarray | None
    res_area: np.ndarray
    present: np.ndarray
    inside: np.ndarray  # demand points inside an area
    area_in: np.ndarray  # their area
    people_in: np.ndarray  # their residents
    kept: dict = field(default_factory=dict)  # category → served persons (see served())

    @classmethod
    def of(cls, data: StandardsInput) -> _Scope:
        fac, n = data.facilities, len(data.area_ids)
        inside = data.demand_area >= 0
        area_in, people_in = _inside(data.demand_area, inside), _inside(
            np.asarray(data.people, float), inside)  # fmt: skip
        res_area = np.bincount(area_in, weights=people_in, minlength=n)
        return cls(data, fac["snapped"].to_numpy(dtype=bool), fac["category"].to_numpy(),
                   fac["subtype"].to_numpy() if "subtype" in fac else None, res_area,
                   np.flatnonzero(res_area > 0), inside, area_in, people_in)  # fmt: skip

    def served(self, category: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The persons ``category`` serves: per demand point, at the points inside an area,
        and per area."""
        got = self.data.served.get(category)
        if got is None:
            return np.asarray(self.data.people, float), self.people_in, self.res_area
        if category not in self.kept:
            got = np.asarray(got, float)
            inside = self.take(got)
            self.kept[category] = (got, inside, np.bincount(
                self.area_in, weights=inside, minlength=len(self.res_area)))  # fmt: skip
        return self.kept[category]

    def take(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per demand point) at the points inside an area."""
        return _inside(values, self.inside)

    def per_area_and_whole(self, fn, f_area):
        return _per_area_and_whole(fn, f_area, self.data.demand_area, len(self.data.area_ids))


def _inside(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``values[inside]``, or ``values`` itself when every point is inside (no copy)."""
    return values if inside.all() else values[inside]


#: Columns of ``ratios.csv``.
RATIO_COLUMNS = ["district_id", "district", "standard", "category", "metric", "label", "value",
                 "target", "unit", "met", "supply", "residents", "required", "gap",
                 "catchment_access_mean", "share_residents_below_target",
                 "supply_assumed_facilities", "note", "level", "verified", "source"]  # fmt: skip


def evaluate_standards(stds: list[Standard], data: StandardsInput) -> Evaluation:
    """Evaluate every standard whose scope is not ``reference``.

    A standard whose category has no facilities, or whose facilities lack the attribute it
    needs, gets a single study-area row with ``note = "cannot check: …"``.
    """
    rows, access = evaluation_rows(stds, data)
    return Evaluation(ratios=pd.DataFrame(rows).reindex(columns=RATIO_COLUMNS), access=access)


def evaluation_rows(stds: list[Standard], data: StandardsInput) -> tuple[list[dict], dict]:
    """:func:`evaluate_standards` as its rows (dicts with some of :data:`RATIO_COLUMNS`) and
    the 2SFCA accessibility per standard id — for callers that need no frame."""
    scope = _Scope.of(data)
    rows, access = [], {}
    by_id = {s.id: s for s in stds}
    for std in stds:
        if std.evaluated:
            rows += _standard_rows(std, scope, access)
    return [_judged_where_set(r, by_id[r["standard"]], data) for r in rows], access


def _standard_rows(std: Standard, scope: _Scope, access: dict) -> list[dict]:
    """The rows of one standard (study area and each area with residents); its 2SFCA
    accessibility into ``access``."""
    data = scope.data
    base = {"standard": std.id, "category": std.category, "metric": std.metric,
            "label": std.label, "target": std.target, "unit": std.unit,
            "verified": std.verified, "source": std.source, "level": std.level}  # fmt: skip
    cat_sel = scope.cats == std.category
    if std.subtypes:
        cat_sel = cat_sel & (np.fromiter((x in std.subtypes for x in scope.subs), bool,
                                         len(scope.subs))
                             if scope.subs is not None else False)  # fmt: skip
    sel = cat_sel & scope.on_net
    if std.scope == "community" and data.area_level != "community":
        return [base | _cannot(std, f"the areas are {data.area_level} boundaries, not "
                               "communities (pass community boundaries)")]  # fmt: skip
    if not sel.any():
        return [base | _cannot(std, _no_facilities_note(std, scope))]
    mode = data.modes.get(std.category, "walk")
    if std.metric == "share_within" and mode != "walk":
        return [base | _cannot(std, f"{std.distance_m:g} m is a walking distance, and "
                               f"{std.category} is reached by {mode_label(mode)} in this run "
                               "(check it in a walking run)")]  # fmt: skip
    if std.metric == "built_since":
        return [base | _built_since(std, data.facilities, cat_sel)]
    got = _METRICS[std.metric](std, scope, sel, data.facility_area[sel])
    if isinstance(got, str):
        return [base | _cannot(std, got)]
    per, whole, note, assumed, acc = got
    if acc is not None:
        access[std.id] = acc
    fields = ("value", "met", "supply", "residents", "required", "gap")
    mean, below = (_access_by_area(acc, std.target, scope, std.category) if acc is not None
                   else (None, None))  # fmt: skip
    rows = []
    for label, name, cols, i, k in [(STUDY_AREA, _STUDY_NAME, whole, 0, -1)] + [
            (data.area_ids[i], data.area_names[i], per, i, i) for i in scope.present]:  # fmt: skip
        out = base | {"district_id": label, "district": name,
                      **{k: cols[k][i] for k in fields},
                      "supply_assumed_facilities": assumed, "note": note}  # fmt: skip
        if acc is not None:
            out["catchment_access_mean"] = mean[k]
            out["share_residents_below_target"] = below[k]
        rows.append(out)
    return rows


def _access_by_area(acc: np.ndarray, target: float, scope: _Scope,
                    category: str) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Mean 2SFCA accessibility weighted by the persons ``category`` serves, and their share
    below ``target``, per area and (last) for the whole study area; NaN where no one lives."""
    _, p, res = scope.served(category)
    a, n = scope.take(acc), len(res)
    sums = [res, *(np.bincount(scope.area_in, weights=w, minlength=n)
                   for w in (a * p, p * (a < target)))]  # fmt: skip
    tot, weighted, short = (np.append(x, x.sum()) for x in sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(tot != 0, weighted / tot, np.nan),
                np.where(tot != 0, short / tot, np.nan))  # fmt: skip


def _no_facilities_note(std: Standard, scope: _Scope) -> str:
    fac = scope.data.facilities
    what = f"{' or '.join(std.subtypes)} ({std.category})" if std.subtypes else std.category
    note = f"no {what} facilities in the input"
    of_cat = (scope.cats == std.category) & scope.on_net
    if std.subtypes and of_cat.any() and "subtype" in fac:
        found = fac.loc[of_cat, "subtype"].fillna("no subtype").value_counts()
        note += (f" (the {int(of_cat.sum())} {std.category} facilities are: "
                 + ", ".join(f"{k} {v}" for k, v in found.items())
                 + " — a subtype comes from the type column, else from the name)")  # fmt: skip
    return note


def _supply_per_capita(std: Standard, scope: _Scope, sel, f_area):
    """Supply per ``per`` residents (or households) per area, and its 2SFCA accessibility."""
    data, fac = scope.data, scope.data.facilities
    values = (fac[std.supply].to_numpy(dtype=float)[sel] if std.supply != "count"
              else np.zeros(int(sel.sum())))  # fmt: skip
    if std.supply != "count" and np.isnan(values).all() and std.typical is None:
        return f"the {std.category} facilities have no '{std.supply}' values"
    supply, was_assumed = an.supply_of(values, std)
    assumed = int(was_assumed.sum())
    missing = int(np.isnan(values).sum())
    note = ""
    if assumed:
        note = f"{assumed} facilities without '{std.supply}' counted as {std.typical:g}"
        note += f" ({std.typical_source})" if std.typical_source else ""
    elif missing:
        note = f"{missing} facilities without '{std.supply}' counted as 0"
    hh = std.per_unit == "households"
    scale = 1.0 / data.persons_per_household if hh else 1.0
    n, res_area = len(data.area_ids), scope.res_area

    def fn(fa, _da, k):
        denom = res_area * scale if k == n else np.array([res_area.sum() * scale])
        return an.district_ratios_columns(supply, fa, denom, std)

    per, whole = scope.per_area_and_whole(fn, f_area)
    if hh:
        for df in (per, whole):
            df["residents"] = df["residents"] / scale
    acc = None
    pairs = data.pairs.get(std.category)
    if pairs is not None:
        full_supply = np.zeros(len(fac))
        full_supply[sel] = supply
        keep = sel[pairs.facility]
        _, acc = an.two_step_fca(
            pairs.demand[keep], pairs.facility[keep], pairs.distance_m[keep],
            full_supply, _demand(scope, std.category) * scale, pairs.threshold_m, per=std.per,
        )  # fmt: skip
    return per, whole, note, assumed, acc


def _demand(scope: _Scope, category: str) -> np.ndarray:
    """2SFCA demand per point: the persons ``category`` serves, scaled so that they total all
    residents — a catchment's ratio stays in the plan's units (per resident), while who is
    counted as demanding it is the group (a toddler does not demand a nursing bed)."""
    people = np.asarray(scope.data.people, float)
    served, _, _ = scope.served(category)
    if served is people:
        return people
    total = served.sum()
    return served * (people.sum() / total) if total > 0 else served


def _share_within(std: Standard, scope: _Scope, _sel, f_area):
    """Share of the persons the category serves within the standard's walking distance,
    per area."""
    _, p, res = scope.served(std.category)
    within = scope.take(scope.data.distance_m[std.distance_key]) <= float(std.distance_m)
    near = np.bincount(scope.area_in, weights=p * within, minlength=len(res))
    per = an.share_within_sums(near, res, std)  # as share_within_columns
    # the study area: the areas' residents together (every point inside an area is in one)
    whole = an.share_within_sums(np.array([per["supply"].sum()]),
                                 np.array([per["residents"].sum()]), std)  # fmt: skip
    return per, whole, "", 0, None


def _supply_share(std: Standard, scope: _Scope, sel, f_area):
    """Share of supply at flagged facilities (e.g. 普惠), per area."""
    fac = scope.data.facilities
    flags = fac[std.flag].to_numpy()[sel] if std.flag in fac else None
    if flags is None or all(f is None for f in flags):
        return f"the {std.category} facilities have no '{std.flag}' attribute"
    supply, _ = _supply_at(fac, std, sel)
    per, whole = scope.per_area_and_whole(
        lambda fa, _da, k: an.supply_share_columns(supply, flags, fa, k, std), f_area)
    return per, whole, "", 0, None


def _supply_ratio(std: Standard, scope: _Scope, sel, f_area):
    """Σ numerator ÷ Σ supply per area (e.g. nursing-type beds among beds)."""
    fac = scope.data.facilities
    part = (pd.to_numeric(fac[std.numerator], errors="coerce").to_numpy(float)[sel]
            if std.numerator in fac else np.full(int(sel.sum()), np.nan))  # fmt: skip
    if np.isnan(part).all():
        return f"the {std.category} facilities have no '{std.numerator}' values"
    supply, _ = _supply_at(fac, std, sel)
    per, whole = scope.per_area_and_whole(
        lambda fa, _da, k: an.supply_ratio_columns(supply, part, fa, k, std), f_area)
    return per, whole, "", 0, None


def _areas_served(std: Standard, scope: _Scope, _sel, f_area):
    """Whether each area with residents holds a facility; the study area's share of them."""
    present = scope.present
    per = an.areas_served_columns(f_area, scope.res_area, std)
    served = per["value"][present]
    mean = float(np.mean(served)) if len(served) else np.nan
    whole = {"supply": [float(np.nansum(served))], "residents": [scope.res_area.sum()],
             "value": [mean], "met": [std.met(mean)], "required": [float(len(present))],
             "gap": [float(len(served) - np.nansum(served))]}  # fmt: skip
    note = (f"over the {len(present)} areas with residents in the boundaries given "
            f"({std.scope} boundaries are what the target refers to)")
    return per, whole, note, 0, None


#: metric → (standard, scope, selected facilities, their areas) → (per area, study area,
#: note, facilities with assumed supply, 2SFCA accessibility or None) or a "cannot" reason.
_METRICS = {"supply_per_capita": _supply_per_capita, "share_within": _share_within,
            "supply_share": _supply_share, "supply_ratio": _supply_ratio,
            "areas_served": _areas_served}  # fmt: skip
