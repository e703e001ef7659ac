"""Coverage and per-capita ratios: plain-array maths plus thin GeoDataFrame adapters.

The core functions take arrays (distances in metres, residents in persons,
supplies in the standard's units) and never see geometry, so a hand-written
3-point case tests them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from hzspatial.standards import Standard

__all__ = [
    "weighted_quantile",
    "coverage_stats",
    "assign_to_areas",
    "facility_supply",
    "district_ratios",
]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Population-weighted quantile (lower value at ties); ``inf`` if it falls on unreachable
    residents, NaN when there is no weight."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = weights > 0
    if not keep.any():
        return float("nan")
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    i = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(v[order][min(i, len(v) - 1)])


def coverage_stats(distance_m: np.ndarray, population: np.ndarray, threshold_m: float) -> dict:
    """Residents within ``threshold_m`` walking metres, and the distance distribution.

    Parameters
    ----------
    distance_m : array
        Walking distance (metres) from each demand point to its nearest facility
        (``inf`` when none is reachable).
    population : array
        Residents (persons) at each demand point.
    threshold_m : float
        Walking threshold in metres.

    Returns
    -------
    dict
        ``covered_population`` (persons), ``coverage_share`` (0–1), ``median_distance_m``,
        ``p90_distance_m`` (population-weighted; ``inf`` when beyond every facility),
        ``share_beyond_threshold``.
    """
    d = np.asarray(distance_m, dtype=float)
    p = np.asarray(population, dtype=float)
    total = p.sum()
    covered = float(p[d <= threshold_m].sum())
    share = covered / total if total > 0 else float("nan")
    return {
        "covered_population": covered,
        "coverage_share": share,
        "median_distance_m": weighted_quantile(d, p, 0.5),
        "p90_distance_m": weighted_quantile(d, p, 0.9),
        "share_beyond_threshold": 1.0 - share if total > 0 else float("nan"),
    }


def assign_to_areas(points: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Index of the area containing each point (−1 if none; first match on overlaps)."""
    tree = shapely.STRtree(areas)
    pi, ai = tree.query(points, predicate="within")
    out = np.full(len(points), -1, dtype=np.int64)
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = ai[first]
    return out


def facility_supply(facilities: pd.DataFrame, std: Standard) -> tuple[np.ndarray, np.ndarray]:
    """Supply of each facility in the standard's units, and whether it was assumed.

    ``count`` counts facilities; other supplies read the column, falling back on the
    standard's ``typical`` value (flagged as assumed) or 0 when none is given.
    """
    if std.supply == "count":
        return np.ones(len(facilities)), np.zeros(len(facilities), dtype=bool)
    vals = facilities[std.supply].to_numpy(dtype=float)
    missing = np.isnan(vals)
    fill = std.typical if std.typical is not None else 0.0
    return np.where(missing, fill, vals), missing & (std.typical is not None)


def district_ratios(
    supply: np.ndarray, supply_area: np.ndarray, residents: np.ndarray, std: Standard
) -> pd.DataFrame:
    """Supply per ``std.per`` residents per area, with the gap to the target.

    Parameters
    ----------
    supply : array
        Supply of each facility (standard's units, e.g. m² or pitches).
    supply_area : array of int
        Area index of each facility (−1: outside every area, ignored).
    residents : array
        Residents (persons) per area.
    std : Standard

    Returns
    -------
    DataFrame
        Per area: ``supply``, ``residents``, ``value`` (supply per ``per`` residents),
        ``target``, ``met``, ``required`` (supply needed for the target) and ``gap``
        (supply missing; 0 when met).
    """
    n = len(residents)
    inside = supply_area >= 0
    total = np.bincount(supply_area[inside], weights=supply[inside], minlength=n)
    res = np.asarray(residents, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(res > 0, total / res * std.per, np.nan)
    required = std.target * res / std.per
    met = [std.met(v) for v in value]
    gap = np.where(res > 0, np.maximum(required - total, 0.0), np.nan)
    return pd.DataFrame(
        {
            "supply": total,
            "residents": res,
            "value": value,
            "target": std.target,
            "met": met,
            "required": required,
            "gap": gap,
        }
    )
