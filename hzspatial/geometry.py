"""Vectorised line operations that shapely does not provide over arrays."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["boundary_points", "overlaps", "substrings", "split_at_distances"]


def substrings(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Exact sub-lines of ``lines[i]`` between distances ``start[i]`` and ``end[i]``.

    Vectorised equivalent of ``shapely.ops.substring`` for ``0 ≤ start < end ≤ length``:
    the result keeps every vertex strictly between the two distances and adds the
    interpolated end points. Distances are in the lines' CRS units.

    Parameters
    ----------
    lines : array of LineString
    start, end : array of float
        Same length as ``lines``.

    Returns
    -------
    ndarray of LineString
    """
    lines = np.asarray(lines, dtype=object)
    k = len(lines)
    if k == 0:
        return np.empty(0, dtype=object)
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(owner, minlength=k)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seg = np.hypot(*np.diff(coords, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    cum -= np.repeat(cum[first], counts)  # distance of each vertex along its own line
    inside = (cum > np.repeat(start, counts)) & (cum < np.repeat(end, counts))
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines, end))
    # assemble per piece: start point, interior vertices, end point (stable by owner)
    all_xy = np.concatenate([p0, coords[inside], p1])
    all_owner = np.concatenate([np.arange(k), owner[inside], np.arange(k)])
    rank = np.concatenate([np.zeros(k), np.ones(inside.sum()), np.full(k, 2.0)])
    order = np.lexsort((np.concatenate([np.zeros(k), cum[inside], np.zeros(k)]), rank, all_owner))
    return shapely.linestrings(all_xy[order], indices=all_owner[order])


def split_at_distances(
    lines: np.ndarray, line_index: np.ndarray, distances: np.ndarray, tol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """Split lines at given distances along them.

    Parameters
    ----------
    lines : array of LineString
    line_index : array of int
        Which line each split distance belongs to.
    distances : array of float
        Split positions along that line (CRS units). Positions within ``tol`` of a
        line's ends or of each other are ignored.

    Returns
    -------
    pieces : ndarray of LineString
        All pieces, lines without split points returned whole.
    source : ndarray of int
        Index of the line each piece came from.
    """
    lines = np.asarray(lines, dtype=object)
    line_index = np.asarray(line_index, dtype=np.int64)
    touched = np.unique(line_index)
    if len(touched) == 0:
        return lines.copy(), np.arange(len(lines))
    if len(touched) < len(lines):  # lines without split points stay whole, untouched
        whole = np.setdiff1d(np.arange(len(lines)), touched)
        pieces, src = split_at_distances(lines[touched], np.searchsorted(touched, line_index),
                                         distances, tol)  # fmt: skip
        return np.concatenate([lines[whole], pieces]), np.concatenate([whole, touched[src]])
    n = len(lines)
    length = shapely.length(lines)
    li = np.concatenate([np.arange(n), np.arange(n), line_index])
    d = np.concatenate([np.zeros(n), length, np.asarray(distances, dtype=float)])
    order = np.lexsort((d, li))
    li, d = li[order], d[order]
    keep = np.ones(len(d), dtype=bool)
    same = li[1:] == li[:-1]
    keep[1:] = ~same | (d[1:] - d[:-1] > tol)
    # never drop a line's final end: drop the interior point just before it instead
    last = np.r_[li[1:] != li[:-1], True]
    keep |= last
    drop_before_end = np.flatnonzero(last[1:] & same & (d[1:] - d[:-1] <= tol))
    keep[drop_before_end] = False
    keep[np.flatnonzero(last)] = True
    li, d = li[keep], d[keep]
    pair = li[1:] == li[:-1]
    a = np.flatnonzero(pair)
    src = li[a]
    return substrings(lines[src], d[a], d[a + 1]), src


def boundary_points(polys: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` metres along each polygon's boundary (metric CRS), and the
    polygon each belongs to: where a parcel or a proposed district can be entered."""
    rings = shapely.segmentize(shapely.boundary(polys), spacing)
    pts, owner = shapely.get_coordinates(rings, return_index=True)
    return shapely.points(pts), owner


def overlaps(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of polygons (metric CRS) that intersect, each pair once: indices ``a < b`` and
    the share of the smaller polygon's area they have in common (0 for touching ones)."""
    a, b = shapely.STRtree(polys).query(polys, predicate="intersects")
    a, b = a[a < b], b[a < b]
    if not len(a):
        return a, b, np.zeros(0)
    shared = shapely.area(shapely.intersection(polys[a], polys[b]))
    smaller = np.minimum(shapely.area(polys[a]), shapely.area(polys[b]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return a, b, np.where(smaller > 0, shared / smaller, 0.0)
