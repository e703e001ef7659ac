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
    done = float(an.facility_supply(fac.loc[new], std)[0].sum()) if new.any() else 0.0
    coming = float(an.facility_supply(fac.loc[plan], std)[0].sum()) if plan.any() else 0.0
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


def evaluate_standards(stds: list[Standard], data: StandardsInput) -> Evaluation:
    """Evaluate every standard whose scope is not ``reference``.

    A standard whose category has no facilities, or whose facilities lack the attribute it
    needs, gets a single study-area row with ``note = "cannot check: …"``.
    """
    fac = data.facilities
    on_net = fac["snapped"].to_numpy(dtype=bool)
    n = len(data.area_ids)
    res_area = np.bincount(data.demand_area[data.demand_area >= 0],
                           weights=data.people[data.demand_area >= 0], minlength=n)  # fmt: skip
    present = np.flatnonzero(res_area > 0)
    rows, access = [], {}
    by_id = {s.id: s for s in stds}
    cats = fac["category"].to_numpy()
    subs = fac["subtype"].to_numpy() if "subtype" in fac else None
    for std in stds:
        if not std.evaluated:
            continue
        base = {"standard": std.id, "category": std.category, "metric": std.metric,
                "label": std.label, "target": std.target, "unit": std.unit,
                "verified": std.verified, "source": std.source, "level": std.level}  # fmt: skip
        cat_sel = cats == std.category
        if std.subtypes:
            cat_sel = cat_sel & (np.fromiter((x in std.subtypes for x in subs), bool, len(subs))
                                 if subs is not None else False)  # fmt: skip
        sel = cat_sel & on_net
        if std.scope == "community" and data.area_level != "community":
            rows.append(base | _cannot(std, f"the areas are {data.area_level} boundaries, not "
                                       "communities (pass community boundaries)"))  # fmt: skip
            continue
        if not sel.any():
            what = (f"{' or '.join(std.subtypes)} ({std.category})" if std.subtypes
                    else std.category)  # fmt: skip
            note = f"no {what} facilities in the input"
            of_cat = (cats == std.category) & on_net
            if std.subtypes and of_cat.any() and "subtype" in fac:
                found = fac.loc[of_cat, "subtype"].fillna("no subtype").value_counts()
                note += (f" (the {int(of_cat.sum())} {std.category} facilities are: "
                         + ", ".join(f"{k} {v}" for k, v in found.items())
                         + " — a subtype comes from the type column, else from the name)")
            rows.append(base | _cannot(std, note))
            continue
        if std.metric == "built_since":
            rows.append(base | _built_since(std, fac, cat_sel))
            continue
        f_area = data.facility_area[sel]
        note = ""
        assumed = 0
        acc = None
        if std.metric == "supply_per_capita":
            values = (fac[std.supply].to_numpy(dtype=float)[sel] if std.supply != "count"
                      else np.zeros(int(sel.sum())))  # fmt: skip
            if std.supply != "count" and np.isnan(values).all() and std.typical is None:
                rows.append(
                    base
                    | _cannot(std, f"the {std.category} facilities have no '{std.supply}' values")
                )
                continue
            supply, was_assumed = an.supply_of(values, std)
            assumed = int(was_assumed.sum())
            missing = int(np.isnan(values).sum())
            if assumed:
                note = f"{assumed} facilities without '{std.supply}' counted as {std.typical:g}"
                note += f" ({std.typical_source})" if std.typical_source else ""
            elif missing:
                note = f"{missing} facilities without '{std.supply}' counted as 0"
            hh = std.per_unit == "households"
            scale = 1.0 / data.persons_per_household if hh else 1.0

            def fn(fa, _da, k, supply=supply, std=std, scale=scale):
                denom = res_area * scale if k == n else np.array([res_area.sum() * scale])
                return an.district_ratios_columns(supply, fa, denom, std)

            per, whole = _per_area_and_whole(fn, f_area, data.demand_area, n)
            if hh:
                for df in (per, whole):
                    df["residents"] = df["residents"] / scale
            pairs = data.pairs.get(std.category)
            if pairs is not None:
                full_supply = np.zeros(len(fac))
                full_supply[sel] = supply
                keep = sel[pairs.facility]
                _, acc = an.two_step_fca(
                    pairs.demand[keep], pairs.facility[keep], pairs.distance_m[keep],
                    full_supply, data.people * scale, pairs.threshold_m, per=std.per,
                )  # fmt: skip
                access[std.id] = acc
        elif std.metric == "share_within":
            dist = data.distance_m[std.distance_key]

            def fn(_fa, da, k, dist=dist, std=std):
                return an.share_within_columns(dist, data.people, da, k, std)

            per, whole = _per_area_and_whole(fn, f_area, data.demand_area, n)
        elif std.metric == "supply_share":
            flags = fac.loc[sel, std.flag].to_numpy() if std.flag in fac else None
            if flags is None or all(f is None for f in flags):
                rows.append(
                    base
                    | _cannot(std, f"the {std.category} facilities have no '{std.flag}' attribute")
                )
                continue
            supply, _ = an.facility_supply(fac.loc[sel], std)

            def fn(fa, _da, k, supply=supply, flags=flags, std=std):
                return an.supply_share_columns(supply, flags, fa, k, std)

            per, whole = _per_area_and_whole(fn, f_area, data.demand_area, n)
        elif std.metric == "supply_ratio":
            part = (pd.to_numeric(fac.loc[sel, std.numerator], errors="coerce").to_numpy(float)
                    if std.numerator in fac else np.full(int(sel.sum()), np.nan))  # fmt: skip
            if np.isnan(part).all():
                rows.append(base | _cannot(std, f"the {std.category} facilities have no "
                                           f"'{std.numerator}' values"))  # fmt: skip
                continue
            supply, _ = an.facility_supply(fac.loc[sel], std)

            def fn(fa, _da, k, supply=supply, part=part, std=std):
                return an.supply_ratio_columns(supply, part, fa, k, std)

            per, whole = _per_area_and_whole(fn, f_area, data.demand_area, n)
        else:  # areas_served: over the areas with residents
            per = an.areas_served_columns(f_area, res_area, std)
            served = per["value"][present]
            mean = float(np.mean(served)) if len(served) else np.nan
            whole = {"supply": [float(np.nansum(served))], "residents": [res_area.sum()],
                     "value": [mean], "met": [std.met(mean)], "required": [float(len(present))],
                     "gap": [float(len(served) - np.nansum(served))]}  # fmt: skip
            note = (
                f"over the {len(present)} areas with residents in the boundaries given "
                f"({std.scope} boundaries are what the target refers to)"
            )
        fields = ("value", "met", "supply", "residents", "required", "gap")
        per_cols = {k: per[k] for k in fields}  # columns, not a DataFrame row per area
        whole_cols = {k: whole[k] for k in fields}
        for label, name, cols, i, dem_mask in [(STUDY_AREA, _STUDY_NAME, whole_cols, 0,
                                               data.demand_area >= 0)] + [
                (data.area_ids[i], data.area_names[i], per_cols, i, data.demand_area == i)
                for i in present]:  # fmt: skip
            out = base | {"district_id": label, "district": name,
                          **{k: cols[k][i] for k in fields},
                          "supply_assumed_facilities": assumed, "note": note}  # fmt: skip
            if acc is not None:
                w = data.people * dem_mask
                tot = w.sum()
                out["catchment_access_mean"] = float((acc * w).sum() / tot) if tot else np.nan
                out["share_residents_below_target"] = (
                    float(w[acc < std.target].sum() / tot) if tot else np.nan
                )
            rows.append(out)
    rows = [_judged_where_set(r, by_id[r["standard"]], data) for r in rows]
    cols = ["district_id", "district", "standard", "category", "metric", "label", "value",
            "target", "unit", "met", "supply", "residents", "required", "gap",
            "catchment_access_mean", "share_residents_below_target", "supply_assumed_facilities",
            "note", "level", "verified", "source"]  # fmt: skip
    ratios = pd.DataFrame(rows).reindex(columns=cols)
    return Evaluation(ratios=ratios, access=access)
