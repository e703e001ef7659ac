"""Whom a facility serves: population groups (60+, children 3–6, infants under 3, everyone)
and where their numbers come from.

The groups and whom each category serves are data (``config/groups.toml``,
``config/categories.toml``: ``serves``). A demand point's group persons come from the
residents input's age columns (read by :func:`hzspatial.io.read_population` into
``group_<id>`` columns), else from the 2020 census shares of the area it lies in
(:func:`census_shares`: the county's share where published, else Hanzhong city's),
labelled *estimated*. Where neither exists, the category is counted in all residents and
the outputs say so.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from .categories import builtin_categories
from .datasets import census_2020

__all__ = ["ALL", "Group", "GroupCounts", "builtin_groups", "census_shares", "group_counts",
           "served_group"]  # fmt: skip

#: The group of every resident.
ALL = "all"
#: The census row of the whole city (its shares stand in where a county's were not found).
CITY_ADCODE = "610700"


@dataclass(frozen=True)
class Group:
    """A population group a category serves.

    Attributes
    ----------
    id : str
        ``all``, ``age_60plus``, ``age_3_6`` …; the residents column ``group_<id>``.
    label_zh, label_en : str
    census : str or None
        The census file's share column the estimate starts from.
    fraction : float
        The part of that share the group is (3/15 of ages 0–14 for ages 3–6).
    method : str
        How the estimate is made (printed wherever it appears).
    ages : tuple of float or None
        ``(from, to)`` in years, ``to`` ``inf`` for "and over" (what age rasters are summed
        into); None for everyone.
    """

    id: str
    label_zh: str
    label_en: str
    census: str | None = None
    fraction: float = 1.0
    method: str = ""
    ages: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        """``"60岁及以上老人 / residents aged 60 and over"``."""
        return f"{self.label_zh} / {self.label_en}"


@cache
def builtin_groups() -> dict[str, Group]:
    """The groups of ``config/groups.toml`` keyed by id."""
    raw = tomllib.loads(resources.files("hzspatial.config").joinpath("groups.toml")
                        .read_text("utf-8"))  # fmt: skip
    return {k: Group(k, v["label_zh"], v["label_en"], v.get("census"),
                     float(v.get("fraction", 1.0)), " ".join(v.get("method", "").split()),
                     _ages(v.get("ages")))
            for k, v in raw.items()}  # fmt: skip


def _ages(ages: list | None) -> tuple[float, float] | None:
    """``[60]`` → (60, inf); ``[3, 6]`` → (3, 6)."""
    if not ages:
        return None
    return float(ages[0]), float(ages[1]) if len(ages) > 1 else float("inf")


def served_group(category: str) -> Group:
    """The group ``category`` serves (``serves`` in the catalogue; everyone by default and
    for categories the catalogue does not know)."""
    cat = builtin_categories().get(category)
    return builtin_groups()[getattr(cat, "serves", ALL) or ALL]


def census_shares(group: Group, area_ids: Iterable) -> tuple[np.ndarray, list[str | None]]:
    """The group's share of the residents of each area, from the 2020 census.

    An area whose id is a Hanzhong administrative code (6, 9 or 12 digits starting 6107)
    takes its county's share where the census file has it, else the city's; any other area
    gets NaN (unknown). Returns the shares (0–1) and, per area, the census row used.
    """
    census = census_2020().set_index("adcode")
    col = group.census
    city = census.loc[CITY_ADCODE, col] if col and CITY_ADCODE in census.index else np.nan
    shares, used = [], []
    for aid in area_ids:
        code = str(aid).strip()
        if not (col and code.isdigit() and len(code) in (6, 9, 12) and code.startswith("6107")):
            shares.append(np.nan)
            used.append(None)
            continue
        county = code[:6]
        own = census.loc[county, col] if county in census.index else np.nan
        if pd.notna(own):
            shares.append(float(own) * group.fraction)
            used.append(str(census.loc[county, "name"]))
        else:
            shares.append(float(city) * group.fraction)
            used.append("汉中市 city share")
    return np.array(shares, dtype=float), used


@dataclass
class GroupCounts:
    """Group persons per demand point and where they came from.

    Attributes
    ----------
    persons : dict
        Group id → persons per demand point (``all``: the residents themselves).
    info : dict
        Group id → ``{"label", "source", "estimated", "method", "census_rows",
        "from_input", "from_census"}`` (persons counted each way) for summary.json.
    """

    persons: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, dict] = field(default_factory=dict)


def group_counts(population: np.ndarray, given: Mapping[str, np.ndarray], area: np.ndarray,
                 area_ids: np.ndarray, groups: Iterable[str],
                 input_label: str = "the residents input",
                 given_info: Mapping[str, Mapping] | None = None) -> GroupCounts:  # fmt: skip
    """Persons of each group at each demand point.

    Parameters
    ----------
    population : array
        Residents (persons) per demand point.
    given : mapping
        Group id → persons per demand point from the input's age columns (NaN where the
        row had none).
    area, area_ids : arrays
        Each point's area index (−1: none) and the areas' ids (administrative codes).
    groups : iterable of str
        The groups wanted (those the study's categories serve).
    input_label : str
        The residents input, for "age columns of …".
    given_info : mapping, optional
        Group id → ``{"source", "estimated", "method"}`` where ``given`` came from elsewhere
        than age columns (WorldPop age/sex rasters).

    Returns
    -------
    GroupCounts
        A group whose persons are unknown at some point with residents is left out: its
        categories are counted in all residents (``info[g]["source"]`` says why).
    """
    pop = np.asarray(population, dtype=float)
    out = GroupCounts({ALL: pop}, {ALL: {"label": builtin_groups()[ALL].label,
                                         "source": "all residents", "estimated": False}})
    for gid in sorted(set(groups) - {ALL}):
        g = builtin_groups()[gid]
        persons = np.asarray(given.get(gid, np.full(len(pop), np.nan)), dtype=float)
        from_input = np.isfinite(persons)
        shares, used = census_shares(g, area_ids)
        fill = np.where(area >= 0, shares[np.maximum(area, 0)], np.nan)
        persons = np.where(from_input, persons, pop * fill)
        unknown = ~np.isfinite(persons) & (pop > 0)
        n_in, n_census = float(persons[from_input].sum()), float(persons[~from_input
                                                                         & ~unknown].sum())
        info = {"label": g.label, "from_input": n_in, "from_census": n_census}
        if unknown.any():
            out.info[gid] = info | {
                "source": f"not known for {int(unknown.sum())} demand points (no age columns "
                f"in {input_label}, and their areas are not Hanzhong census areas): counted "
                "in all residents", "estimated": False}  # fmt: skip
            continue
        rows = sorted({used[a] for a in np.unique(area[~from_input & (area >= 0)])
                       if used[a] is not None})  # fmt: skip
        how = dict((given_info or {}).get(gid) or {})
        parts = ([how.get("source") or f"age columns of {input_label}"] if from_input.any()
                 else []) + ([f"2020 census shares ({'; '.join(rows)})"]
                             if (~from_input).any() else [])  # fmt: skip
        methods = ([how["method"]] if how.get("method") and from_input.any() else []) + (
            [g.method] if (~from_input).any() else [])
        out.persons[gid] = np.where(np.isfinite(persons), persons, 0.0)
        out.info[gid] = info | {"source": " + ".join(parts) or "no residents",
                                "estimated": bool((~from_input & (pop > 0)).any()
                                                  or (how.get("estimated") and from_input.any())),
                                "method": "; ".join(methods), "census_rows": rows}  # fmt: skip
    return out
