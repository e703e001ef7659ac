"""Coverage and per-capita ratios: plain-array maths plus thin GeoDataFrame adapters.

The core functions take arrays (distances in metres, residents in persons,
supplies in the standard's units) and never see geometry, so a hand-written
3-point case tests them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from hzspatial.standards import Standard

logger = logging.getLogger(__name__)

__all__ = [
    "areas_served",
    "assign_to_areas",
    "coverage_stats",
    "district_ratios",
    "facility_supply",
    "share_within",
    "supply_share",
    "two_step_fca",
    "underserved_areas",
    "underserved_table",
    "weighted_quantile",
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
    """Index of the area containing each point (−1 if none; the lowest index on overlaps).

    The points are put in the search tree and each area asks which it contains: GEOS then
    prepares the area (a county outline of thousands of vertices) once, instead of testing
    each point against the unprepared outline."""
    ai, pi = shapely.STRtree(points).query(areas, predicate="contains")
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((ai, pi))
    pi, ai = pi[order], ai[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, dtype=bool)
    out[pi[first]] = ai[first]
    return out


def facility_supply(facilities: pd.DataFrame, std: Standard) -> tuple[np.ndarray, np.ndarray]:
    """Supply of each facility in the standard's units, and whether it was assumed.

    ``count`` counts facilities; other supplies read the column, falling back on the
    standard's ``typical`` value (flagged as assumed) or 0 when none is given.
    """
    if std.supply == "count":
        return np.ones(len(facilities)), np.zeros(len(facilities), dtype=bool)
    return supply_of(facilities[std.supply].to_numpy(dtype=float), std)


def supply_of(values: np.ndarray, std: Standard) -> tuple[np.ndarray, np.ndarray]:
    """:func:`facility_supply` from the facilities' values of ``std.supply`` (NaN: unknown)."""
    if std.supply == "count":
        return np.ones(len(values)), np.zeros(len(values), dtype=bool)
    missing = np.isnan(values)
    fill = std.typical if std.typical is not None else 0.0
    return np.where(missing, fill, values), missing & (std.typical is not None)


def _frame(columns: dict, std: Standard) -> pd.DataFrame:
    """Per-area columns as the DataFrame the public functions return (``target`` added)."""
    out = pd.DataFrame(columns)
    out.insert(3, "target", std.target)
    return out


def district_ratios_columns(
    supply: np.ndarray, supply_area: np.ndarray, residents: np.ndarray, std: Standard
) -> dict[str, np.ndarray]:
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
    dict of arrays
        Per area: ``supply``, ``residents``, ``value`` (supply per ``per`` residents), ``met``,
        ``required`` (supply needed for the target) and ``gap`` (supply missing; 0 when met).
        :func:`district_ratios` gives them as a DataFrame with ``target``.
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
    return {"supply": total, "residents": res, "value": value, "met": met, "required": required,
            "gap": gap}  # fmt: skip


def district_ratios(
    supply: np.ndarray, supply_area: np.ndarray, residents: np.ndarray, std: Standard
) -> pd.DataFrame:
    """:func:`district_ratios_columns` as a DataFrame (with the ``target`` column)."""
    return _frame(district_ratios_columns(supply, supply_area, residents, std), std)


def share_within_columns(
    distance_m: np.ndarray, population: np.ndarray, area: np.ndarray, n_areas: int, std: Standard
) -> dict[str, np.ndarray]:
    """Share of residents within ``std.distance_m`` walking metres, per area.

    ``gap`` = residents beyond the distance that the target says should be within it.
    """
    p = np.asarray(population, dtype=float)
    inside = area >= 0
    within = np.asarray(distance_m) <= float(std.distance_m)
    res = np.bincount(area[inside], weights=p[inside], minlength=n_areas)
    near = np.bincount(area[inside], weights=(p * within)[inside], minlength=n_areas)
    return share_within_sums(near, res, std)


def share_within_sums(near: np.ndarray, res: np.ndarray, std: Standard) -> dict[str, np.ndarray]:
    """:func:`share_within_columns` from its sums per area: residents within the distance
    (``near``) and all residents (``res``), persons."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(res > 0, near / res, np.nan)
    required = std.target * res
    return {"supply": near, "residents": res, "value": value, "met": [std.met(v) for v in value],
            "required": required,
            "gap": np.where(res > 0, np.maximum(required - near, 0.0), np.nan)}  # fmt: skip


def share_within(
    distance_m: np.ndarray, population: np.ndarray, area: np.ndarray, n_areas: int, std: Standard
) -> pd.DataFrame:
    """:func:`share_within_columns` as a DataFrame (with the ``target`` column)."""
    return _frame(share_within_columns(distance_m, population, area, n_areas, std), std)


def supply_ratio_columns(
    supply: np.ndarray, part: np.ndarray, supply_area: np.ndarray, n_areas: int, std: Standard
) -> dict[str, np.ndarray]:
    """Σ ``part`` ÷ Σ ``supply`` per area (e.g. nursing-type beds among institutional beds).

    A facility whose ``part`` is unknown (NaN) makes its area's value unknown.
    ``gap`` = part that would have to be added at the same supply to meet the target.
    """
    inside = supply_area >= 0
    known = ~np.isnan(part)
    total = np.bincount(supply_area[inside], weights=supply[inside], minlength=n_areas)
    have = np.bincount(supply_area[inside], weights=np.nan_to_num(part)[inside],
                       minlength=n_areas)  # fmt: skip
    unknown = np.bincount(supply_area[inside], weights=(~known)[inside].astype(float),
                          minlength=n_areas) > 0  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where((total > 0) & ~unknown, have / total, np.nan)
    required = std.target * total
    return {"supply": have, "residents": np.full(n_areas, np.nan), "value": value,
            "met": [std.met(v) for v in value], "required": required,
            "gap": np.where(np.isnan(value), np.nan, np.maximum(required - have, 0))}  # fmt: skip


def supply_ratio(
    supply: np.ndarray, part: np.ndarray, supply_area: np.ndarray, n_areas: int, std: Standard
) -> pd.DataFrame:
    """:func:`supply_ratio_columns` as a DataFrame (with the ``target`` column)."""
    return _frame(supply_ratio_columns(supply, part, supply_area, n_areas, std), std)


def supply_share_columns(
    supply: np.ndarray, flagged: np.ndarray, supply_area: np.ndarray, n_areas: int, std: Standard
) -> dict[str, np.ndarray]:
    """Share of supply at flagged facilities (e.g. places in 普惠 kindergartens), per area.

    ``flagged`` holds True / False / None; any None in an area makes its value unknown.
    ``gap`` = supply that would have to move to flagged facilities to meet the target.
    """
    inside = supply_area >= 0
    known = np.array([f is not None for f in flagged], dtype=bool)
    flag = np.array([bool(f) for f in flagged], dtype=float)
    total = np.bincount(supply_area[inside], weights=supply[inside], minlength=n_areas)
    part = np.bincount(supply_area[inside], weights=(supply * flag)[inside], minlength=n_areas)
    unknown = np.bincount(supply_area[inside], weights=(~known)[inside].astype(float),
                          minlength=n_areas) > 0  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where((total > 0) & ~unknown, part / total, np.nan)
    required = std.target * total
    return {"supply": part, "residents": np.full(n_areas, np.nan), "value": value,
            "met": [std.met(v) for v in value], "required": required,
            "gap": np.where(np.isnan(value), np.nan, np.maximum(required - part, 0))}  # fmt: skip


def supply_share(
    supply: np.ndarray, flagged: np.ndarray, supply_area: np.ndarray, n_areas: int, std: Standard
) -> pd.DataFrame:
    """:func:`supply_share_columns` as a DataFrame (with the ``target`` column)."""
    return _frame(supply_share_columns(supply, flagged, supply_area, n_areas, std), std)


def areas_served_columns(
    facility_area: np.ndarray, residents: np.ndarray, std: Standard
) -> dict[str, np.ndarray]:
    """Whether each area with residents holds at least one facility (value 1 or 0)."""
    n = len(residents)
    inside = facility_area >= 0
    count = np.bincount(facility_area[inside], minlength=n).astype(float)
    has = np.asarray(residents) > 0
    value = np.where(has, (count > 0).astype(float), np.nan)
    return {"supply": count, "residents": np.asarray(residents, dtype=float), "value": value,
            "met": [std.met(v) for v in value], "required": np.where(has, 1.0, np.nan),
            "gap": np.where(has, (count == 0).astype(float), np.nan)}  # fmt: skip


def areas_served(facility_area: np.ndarray, residents: np.ndarray, std: Standard) -> pd.DataFrame:
    """:func:`areas_served_columns` as a DataFrame (with the ``target`` column)."""
    return _frame(areas_served_columns(facility_area, residents, std), std)


def two_step_fca(
    demand: np.ndarray,
    facility: np.ndarray,
    distance_m: np.ndarray,
    supply: np.ndarray,
    population: np.ndarray,
    threshold_m: float,
    *,
    decay: str | None = None,
    per: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment area (2SFCA) accessibility.

    Step 1: each facility's ratio ``R_j = S_j / Σ_i w(d_ij) P_i`` over the residents within
    ``threshold_m``. Step 2: each demand point's accessibility ``A_i = Σ_j w(d_ij) R_j``.
    Supply shared by many residents counts once in total: ``Σ_i P_i A_i = Σ_j S_j`` over
    facilities that reach anyone.

    Parameters
    ----------
    demand, facility : arrays of int
        Pairs (demand index, facility index) within the threshold.
    distance_m : array
        Walking distance of each pair (metres).
    supply : array
        Supply per facility (m², beds, places, pitches …).
    population : array
        Residents per demand point.
    threshold_m : float
        Catchment size (metres).
    decay : {None, "gaussian"}
        ``None``: w = 1 inside the catchment; ``"gaussian"``: the enhanced 2SFCA weight
        ``w = (exp(−½ (d/d0)²) − exp(−½)) / (1 − exp(−½))`` (1 at the facility, 0 at d0).
    per : float
        Express accessibility per this many residents (1, 1,000, 10,000).

    Returns
    -------
    (ratio per facility, accessibility per demand point), both × ``per``.
    """
    d = np.asarray(distance_m, dtype=float)
    keep = d <= threshold_m
    di, fj, d = np.asarray(demand)[keep], np.asarray(facility)[keep], d[keep]
    if decay is None:
        w = np.ones_like(d)
    elif decay == "gaussian":
        e = np.exp(-0.5)
        w = (np.exp(-0.5 * (d / threshold_m) ** 2) - e) / (1 - e)
    else:
        raise ValueError(f"unknown decay {decay!r}; use None or 'gaussian'")
    pop = np.asarray(population, dtype=float)
    served = np.bincount(fj, weights=w * pop[di], minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(served > 0, np.asarray(supply, dtype=float) / served, 0.0)
    access = np.bincount(di, weights=w * ratio[fj], minlength=len(pop))
    return ratio * per, access * per


def _dissolve(geoms: np.ndarray, point_radius_m: float = 60.0) -> shapely.Geometry:
    """Union of demand geometries (metric CRS): polygons closed over 12 m street gaps,
    points drawn as ``point_radius_m`` discs."""
    if len(geoms) == 0:
        return shapely.Polygon()
    is_point = shapely.get_type_id(geoms) == 0
    grown = np.empty(len(geoms), dtype=object)
    grown[is_point] = shapely.buffer(geoms[is_point], point_radius_m, quad_segs=4)
    grown[~is_point] = shapely.buffer(geoms[~is_point], 12.0, join_style="mitre")
    # most blocks' grown outlines touch only their neighbours: GEOS unions such mostly
    # disjoint groups faster than a general union; the separate areas are then shrunk one by
    # one (the same as shrinking them together, without noding them against each other)
    union = shapely.get_parts(shapely.disjoint_subset_union_all(grown))
    # the outlines' runs of nearly collinear vertices (mitred corners of neighbouring blocks)
    # are thinned to 0.5 m first, which halves the work of shrinking; the areas, 6 m outside
    # their cells, still hold every point they held
    union = shapely.simplify(union, SIMPLIFY_M)
    return shapely.multipolygons(shapely.get_parts(shapely.buffer(union, -6.0, join_style="mitre")))


#: Tolerance (metres) to which underserved areas' outlines are simplified before shrinking.
SIMPLIFY_M = 0.5


def underserved_areas(
    cells: np.ndarray,
    points: np.ndarray,
    people: np.ndarray,
    district: np.ndarray,
    category: str,
    threshold_m: float,
    kind: str,
    reason: str,
    counts: np.ndarray | None = None,
) -> list[dict]:
    """Connected areas of underserved demand points per district, each with its residents.

    Parameters
    ----------
    cells, points : arrays of geometries (metric CRS)
        The demand points' cells (blocks, street pieces) and points.
    people : array
        Residents (persons) per demand point.
    district : array
        District id per demand point (None outside).
    counts : array of int, optional
        Demand points each entry stands for (a wholly underserved polygon given once);
        default 1 each.
    kind : {"no_facility", "below_standard"}
        Why these residents are underserved.

    Returns
    -------
    list of dict
        ``category``, ``district_id``, ``kind``, ``residents``, ``locations``,
        ``threshold_m``, ``reason`` and ``geometry`` (metric CRS) per area.
    """
    rows = []
    for did in pd.unique(district):
        sel = district == did if did is not None else pd.isna(district)
        if int(sel.sum()) > RASTER_ABOVE:
            parts, owner = _dissolve_raster(cells[sel], points[sel])
        else:
            parts = shapely.get_parts(_dissolve(cells[sel]))
            if len(parts) == 0:
                continue
            owner = assign_to_areas(points[sel], parts)
        res = np.bincount(owner[owner >= 0], weights=people[sel][owner >= 0],
                          minlength=len(parts))  # fmt: skip
        w = None if counts is None else counts[sel][owner >= 0]
        cnt = np.bincount(owner[owner >= 0], weights=w, minlength=len(parts)).astype(np.int64)
        rows += [{"category": category, "district_id": did, "kind": kind, "residents": float(r),
                  "locations": int(c), "threshold_m": threshold_m, "reason": reason,
                  "geometry": part}
                 for part, r, c in zip(parts, res, cnt, strict=True) if c]  # fmt: skip
    return rows


#: Above this many demand points in one district and layer, underserved areas are traced on a
#: raster (:func:`_dissolve_raster`) instead of a union of polygons: linear in the input.
RASTER_ABOVE = 20_000
#: Pixel size (metres) of that raster.
RASTER_M = 5.0
#: Most pixels of that raster (about 0.4 GB while tracing): larger areas get larger pixels.
RASTER_MAX_PIXELS = 8_000_000


def _dissolve_raster(cells: np.ndarray, points: np.ndarray, pixel_m: float = RASTER_M,
                     close_m: float = 12.0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Connected areas covering ``cells`` (metric CRS) traced on a ``pixel_m`` raster, and the
    area of each point.

    Each cell's bounding box and each point's pixel are set, grown by ``close_m`` and shrunk by
    half of it (streets closed, as :func:`_dissolve` does); connected pixels form an area
    (outlines traced with contourpy) and each point belongs to the area of its pixel. For very
    many cells, where a polygon union is too slow; areas follow the cells to about a pixel
    (boxes of irregular cells a little more). Pixels grow beyond ``pixel_m`` where the area
    would need more than :data:`RASTER_MAX_PIXELS` (about 14 km square at 5 m).
    """
    from contourpy import FillType, contour_generator
    from scipy import ndimage

    b = shapely.bounds(cells)
    pxy = shapely.get_coordinates(points)
    width = max(np.nanmax(b[:, 2]), pxy[:, 0].max()) - min(np.nanmin(b[:, 0]), pxy[:, 0].min())
    height = max(np.nanmax(b[:, 3]), pxy[:, 1].max()) - min(np.nanmin(b[:, 1]), pxy[:, 1].min())
    # a district tens of kilometres across would need billions of 5 m pixels (GBs of memory):
    # there the pixels grow so that the raster stays within RASTER_MAX_PIXELS
    wide = float(np.sqrt(max(width, 1.0) * max(height, 1.0) / RASTER_MAX_PIXELS))
    if wide > pixel_m:
        logger.info("underserved areas over %.0f × %.0f km traced on %.1f m pixels (not %g m)",
                    width / 1000, height / 1000, wide, pixel_m)  # fmt: skip
        pixel_m = wide
    pad = int(np.ceil(close_m / pixel_m)) + 2
    x0 = min(np.nanmin(b[:, 0]), pxy[:, 0].min()) - pad * pixel_m
    y0 = min(np.nanmin(b[:, 1]), pxy[:, 1].min()) - pad * pixel_m
    nx = int(np.ceil((max(np.nanmax(b[:, 2]), pxy[:, 0].max()) - x0) / pixel_m)) + pad
    ny = int(np.ceil((max(np.nanmax(b[:, 3]), pxy[:, 1].max()) - y0) / pixel_m)) + pad
    ok = np.isfinite(b).all(axis=1)
    i0 = np.floor((b[ok, 0] - x0) / pixel_m).astype(np.int64)
    j0 = np.floor((b[ok, 1] - y0) / pixel_m).astype(np.int64)
    i1 = np.maximum(np.ceil((b[ok, 2] - x0) / pixel_m).astype(np.int64), i0 + 1)
    j1 = np.maximum(np.ceil((b[ok, 3] - y0) / pixel_m).astype(np.int64), j0 + 1)
    diff = np.zeros((ny + 1, nx + 1), np.int32)
    for jj, ii, sign in ((j0, i0, 1), (j0, i1, -1), (j1, i0, -1), (j1, i1, 1)):
        np.add.at(diff, (jj, ii), sign)
    np.cumsum(diff, axis=0, out=diff)  # in place: no int64 copies of the raster
    np.cumsum(diff, axis=1, out=diff)
    mask = diff[:ny, :nx] > 0
    del diff
    pj = ((pxy[:, 1] - y0) // pixel_m).astype(np.int64)
    pi = ((pxy[:, 0] - x0) // pixel_m).astype(np.int64)
    mask[pj, pi] = True
    # as the polygon union: grown by close_m, shrunk by half of it (mitre-like square steps)
    square = np.ones((3, 3), bool)
    mask = ndimage.binary_dilation(mask, square, iterations=max(1, round(close_m / pixel_m)))
    mask = ndimage.binary_erosion(mask, square, iterations=max(1, round(close_m / 2 / pixel_m)))
    mask[pj, pi] = True
    labels, n = ndimage.label(mask, structure=square)
    # traced in pixel indices (no coordinate grids the size of the raster), then placed
    gen = contour_generator(z=mask.astype(np.float64), fill_type=FillType.OuterOffset)
    outlines, offsets = gen.filled(0.5, 1.5)
    outlines = [np.column_stack([x0 + (o[:, 0] + 0.5) * pixel_m, y0 + (o[:, 1] + 0.5) * pixel_m])
                for o in outlines]  # fmt: skip
    polys = np.array([shapely.Polygon(r[0], r[1:]) for r in
                      (np.split(pts, off[1:-1]) for pts, off in zip(outlines, offsets,
                                                                    strict=True))],
                     dtype=object)  # fmt: skip
    # each traced polygon belongs to the labelled region under a point inside it
    inner = shapely.get_coordinates(shapely.point_on_surface(polys))
    which = labels[((inner[:, 1] - y0) // pixel_m).astype(np.int64).clip(0, ny - 1),
                   ((inner[:, 0] - x0) // pixel_m).astype(np.int64).clip(0, nx - 1)]  # fmt: skip
    parts = np.empty(n, dtype=object)
    for lab, box in enumerate(ndimage.find_objects(labels), start=1):
        mine = polys[which == lab]
        if len(mine) == 0:  # a region too thin to trace: its pixels' box
            (ja, jb), (ia, ib) = (box[0].start, box[0].stop), (box[1].start, box[1].stop)
            mine = [shapely.box(x0 + ia * pixel_m, y0 + ja * pixel_m, x0 + ib * pixel_m,
                                y0 + jb * pixel_m)]  # fmt: skip
        parts[lab - 1] = mine[0] if len(mine) == 1 else shapely.multipolygons(list(mine))
    owner = labels[pj, pi] - 1
    return parts, owner


def underserved_table(
    category: str,
    area: np.ndarray,
    people: np.ndarray,
    far: np.ndarray,
    short: np.ndarray,
    missed: list[tuple[Standard, np.ndarray]],
    areas: pd.DataFrame,
) -> pd.DataFrame:
    """Underserved residents of one category per area, each resident counted once.

    Parameters
    ----------
    category : str
    area : array of int
        Area index of each demand point (−1 outside every area).
    people : array
        Residents (persons) per demand point.
    far : array of bool
        Demand points with no facility within the threshold.
    short : array of bool
        Demand points within reach whose catchment falls below a per-capita standard
        (disjoint from ``far``).
    missed : list of (Standard, bool array)
        Per catchment standard of the category, the demand points below it (a resident
        below two standards is counted once in ``below_standard``).
    areas : DataFrame
        ``district_id`` and ``name`` of the areas, in index order.

    Returns
    -------
    DataFrame
        One row per area holding residents: ``category``, ``district_id``, ``name``,
        ``residents_analysed``, ``underserved`` (= ``no_facility`` + ``below_standard``, never
        more than the residents analysed), ``no_facility``, ``below_standard``,
        ``underserved_share`` and ``below_<standard id>`` per standard.
    """
    if (far & short).any():
        raise ValueError("a demand point cannot be both beyond reach and in reach")
    n = len(areas)
    inside = area >= 0
    idx = area[inside]

    def per_area(mask: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=(people * mask)[inside], minlength=n)

    total = per_area(np.ones(len(people), bool))
    out = pd.DataFrame({
        "category": category,
        "district_id": areas["district_id"].to_numpy(),
        "name": areas["name"].to_numpy(),
        "residents_analysed": total,
        "no_facility": per_area(far),
        "below_standard": per_area(short),
    })  # fmt: skip
    out.insert(4, "underserved", out["no_facility"] + out["below_standard"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out.insert(5, "underserved_share", np.where(total > 0, out["underserved"] / total, np.nan))
    for std, low in missed:
        out[f"below_{std.id}"] = per_area(low)
    return out[total > 0].reset_index(drop=True)
