"""Choosing sites for new facilities: maximal covering, set covering and capacity-aware
coverage on sparse coverage sets, solved exactly with HiGHS (``scipy.optimize.milp``) where it
can be, greedy + swap search where it cannot — always with a bound, so the gap is stated.

Plain arrays only: a sparse demand × candidate matrix saying which candidate sites reach which
demand points within the walking threshold, the residents at each demand point, and which
demand points existing facilities already serve. :mod:`hzspatial.site` builds them from a run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = [
    "Solution",
    "coverage_curve",
    "greedy",
    "maximal_covering",
    "reduce_problem",
    "set_covering",
    "swap_search",
]


@dataclass(frozen=True)
class Reduced:
    """A coverage problem shrunk without changing its optimum.

    Demand points already served or reached by no candidate are dropped, points reached by the
    same candidates are merged (weights summed), and candidates reaching the same points are
    merged (the lowest index kept: ties broken the same way on every run).

    Attributes
    ----------
    cover : csr_matrix
        Merged demand groups × kept candidates (bool).
    weight : array
        Residents per demand group.
    candidates : array of int
        Original index of each kept candidate.
    groups : array of int
        For each original demand point its group (−1 when dropped).
    """

    cover: sp.csr_matrix
    weight: np.ndarray
    candidates: np.ndarray
    groups: np.ndarray


def reduce_problem(cover: sp.spmatrix, weight: np.ndarray, served: np.ndarray | None = None
                   ) -> Reduced:  # fmt: skip
    """Shrink a maximal-covering problem (see :class:`Reduced`)."""
    a = sp.csr_matrix(cover, dtype=bool)
    w = np.asarray(weight, dtype=float)
    keep = (w > 0) & (np.diff(a.indptr) > 0)
    if served is not None:
        keep &= ~np.asarray(served, bool)
    a_cols = a.tocsc()
    # identical candidate columns: hash each column's row set, keep the first
    col_key = _set_keys(a_cols.indptr, a_cols.indices)
    _, first = np.unique(col_key, return_index=True)
    cand = np.sort(first[np.diff(a_cols.indptr)[first] > 0])
    sub = a[keep][:, cand].tocsr()
    sub.sort_indices()
    row_key = _set_keys(sub.indptr, sub.indices)
    uniq, inv = np.unique(row_key, return_inverse=True)
    rep = np.zeros(len(uniq), np.int64)
    rep[inv[::-1]] = np.arange(len(inv))[::-1]  # first row of each group
    merged = sub[rep]
    groups = np.full(len(w), -1, np.int64)
    groups[np.flatnonzero(keep)] = inv
    wsum = np.bincount(inv, weights=w[keep], minlength=len(uniq))
    nonempty = np.diff(merged.indptr) > 0
    if not nonempty.all():
        remap = np.cumsum(nonempty) - 1
        groups = np.where(groups >= 0, np.where(nonempty[np.maximum(groups, 0)],
                                                remap[np.maximum(groups, 0)], -1), -1)  # fmt: skip
        merged, wsum = merged[nonempty], wsum[nonempty]
    return Reduced(merged.tocsr(), wsum, cand, groups)


def _set_keys(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """A collision-free key per row (or column) of a sorted sparse pattern: its index list."""
    parts = np.split(indices.astype(np.int64), indptr[1:-1])
    return np.array([p.tobytes() for p in parts], dtype=object)


@dataclass(frozen=True)
class Solution:
    """Sites chosen and how good the choice is.

    Attributes
    ----------
    chosen : array of int
        Candidate indices chosen, in the order of their marginal gain (largest first).
    objective : float
        Residents newly covered (maximal covering) or sites opened (set covering).
    bound : float
        A bound on the optimum: upper for maximal covering, lower for set covering.
    gap : float
        ``|bound − objective| / max(|objective|, 1)``: 0 for a proven optimum.
    solver : str
        ``"highs"`` (exact MIP, possibly stopped at the time limit) or ``"greedy+swap"``.
    status : str
        ``"optimal"``, ``"time limit"`` or ``"heuristic"``.
    seconds : float
    gains : array
        Marginal residents newly covered by each chosen site, in ``chosen`` order.
    """

    chosen: np.ndarray
    objective: float
    bound: float
    gap: float
    solver: str
    status: str
    seconds: float
    gains: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _covered_weight(cover: sp.csr_matrix, weight: np.ndarray, chosen) -> float:
    if len(chosen) == 0:
        return 0.0
    hit = np.asarray(cover[:, np.asarray(chosen)].sum(axis=1)).ravel() > 0
    return float(weight[hit].sum())


def greedy(cover: sp.spmatrix, weight: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """The classic greedy choice: ``p`` times the candidate covering most residents not yet
    covered (lowest index on ties). Returns (chosen, marginal gains)."""
    a = sp.csc_matrix(cover, dtype=float)
    left = np.asarray(weight, dtype=float).copy()
    chosen, gains = [], []
    for _ in range(min(p, a.shape[1])):
        gain = a.T @ left
        if chosen:
            gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        gains.append(float(gain[j]))
        left[a.indices[a.indptr[j] : a.indptr[j + 1]]] = 0.0
    return np.array(chosen, np.int64), np.array(gains)


def swap_search(cover: sp.spmatrix, weight: np.ndarray, chosen: np.ndarray,
                max_rounds: int = 50) -> np.ndarray:  # fmt: skip
    """Improve a choice by single swaps (one chosen site out, one other in) while any swap
    covers more residents; first improvement in index order, so the result is deterministic."""
    a = sp.csc_matrix(cover, dtype=float)
    w = np.asarray(weight, dtype=float)
    cur = list(chosen)
    for _ in range(max_rounds):
        count = np.asarray(a[:, cur].sum(axis=1)).ravel() if cur else np.zeros(a.shape[0])
        improved = False
        for k, out in enumerate(list(cur)):
            col = a.indices[a.indptr[out] : a.indptr[out + 1]]
            lost = w[col][count[col] == 1].sum()  # residents only this site covers
            left = w * (count - np.isin(np.arange(a.shape[0]), col) == 0)
            gain = a.T @ left
            gain[cur] = -1.0
            j = int(np.argmax(gain))
            if gain[j] > lost + 1e-9:
                cur[k] = j
                improved = True
                break
        if not improved:
            break
    return np.array(cur, np.int64)


def _order_by_gain(cover: sp.csr_matrix, weight: np.ndarray, chosen: np.ndarray):
    """``chosen`` ordered greedily among themselves (largest marginal gain first)."""
    sub = cover[:, chosen]
    order, gains = greedy(sub, weight, len(chosen))
    rest = [k for k in range(len(chosen)) if k not in set(order.tolist())]
    order = np.concatenate([order, np.array(rest, np.int64)])
    gains = np.concatenate([gains, np.zeros(len(rest))])
    return chosen[order], gains


def maximal_covering(cover: sp.spmatrix, weight: np.ndarray, p: int, *,
                     time_limit: float = 60.0, exact: bool = True) -> Solution:  # fmt: skip
    """Choose ``p`` candidates covering the most residents (maximal covering location problem).

    Parameters
    ----------
    cover : sparse matrix (demand × candidate), bool
        Which candidates reach which demand points within the threshold (already reduced:
        existing facilities' residents left out, see :func:`reduce_problem`).
    weight : array
        Residents per demand point.
    p : int
        Number of new sites.
    time_limit : float
        Seconds for the MIP solver; beyond it the best solution found is returned with the
        solver's dual bound.
    exact : bool
        False: greedy + swap search only, bounded by the LP relaxation.

    Returns
    -------
    Solution
        ``objective`` = residents newly covered, ``bound`` ≥ the optimum.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    a = sp.csr_matrix(cover, dtype=float)
    w = np.asarray(weight, dtype=float)
    n, m = a.shape
    p = int(min(p, m))
    start, _ = greedy(a, w, p)
    start = swap_search(a, w, start)
    # variables: x (m sites) then y (n demand points); maximise Σ w y
    c = np.concatenate([np.zeros(m), -w])
    link = sp.hstack([-a, sp.identity(n, format="csr")], format="csr")  # y_i − Σ a_ij x_j ≤ 0
    count = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(count, p, p)]
    bounds = Bounds(np.zeros(m + n), np.ones(m + n))
    integ = np.concatenate([np.ones(m), np.zeros(n)])
    if exact:
        res = milp(c, integrality=integ, bounds=bounds, constraints=cons,
                   options={"time_limit": float(time_limit), "disp": False})  # fmt: skip
        if res.x is not None:
            x = np.flatnonzero(res.x[:m] > 0.5)
            val = _covered_weight(a, w, x)
            if val + 1e-9 >= _covered_weight(a, w, start):
                bound = -float(getattr(res, "mip_dual_bound", res.fun) or res.fun)
                bound = max(bound, val)
                status = "optimal" if res.status == 0 else "time limit"
                chosen, gains = _order_by_gain(a, w, x)
                gap = (bound - val) / max(val, 1.0)
                return Solution(chosen, val, bound, 0.0 if status == "optimal" else gap,
                                "highs", status, time.perf_counter() - t0, gains)  # fmt: skip
    lp = milp(c, bounds=bounds, constraints=cons)
    bound = -float(lp.fun) if lp.x is not None else float(w.sum())
    val = _covered_weight(a, w, start)
    chosen, gains = _order_by_gain(a, w, start)
    return Solution(chosen, val, max(bound, val), (max(bound, val) - val) / max(val, 1.0),
                    "greedy+swap", "heuristic", time.perf_counter() - t0, gains)  # fmt: skip


def set_covering(cover: sp.spmatrix, weight: np.ndarray, target: float, *,
                 time_limit: float = 60.0) -> Solution:  # fmt: skip
    """The fewest candidates whose catchments hold at least ``target`` residents (a share of
    all residents is a target of share × total; every point = the total).

    Raises ``ValueError`` when even every candidate together falls short.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    a = sp.csr_matrix(cover, dtype=float)
    w = np.asarray(weight, dtype=float)
    n, m = a.shape
    reachable = float(w[np.diff(a.indptr) > 0].sum())
    if target > reachable + 1e-6:
        raise ValueError(f"all {m} candidates together reach {reachable:,.0f} residents, "
                         f"short of the {target:,.0f} needed")  # fmt: skip
    c = np.concatenate([np.ones(m), np.zeros(n)])
    link = sp.hstack([-a, sp.identity(n, format="csr")], format="csr")
    reach = sp.csr_matrix(np.concatenate([np.zeros(m), w])[None, :])
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(reach, target - 1e-6, np.inf)]
    res = milp(c, integrality=np.concatenate([np.ones(m), np.zeros(n)]),
               bounds=Bounds(np.zeros(m + n), np.ones(m + n)), constraints=cons,
               options={"time_limit": float(time_limit), "disp": False})  # fmt: skip
    if res.x is None:
        order, gains = greedy(a, w, m)
        got = np.cumsum(gains)
        k = int(np.searchsorted(got, target - 1e-6)) + 1
        chosen = order[:k]
        return Solution(chosen, float(k), 1.0, (k - 1.0) / k, "greedy", "heuristic",
                        time.perf_counter() - t0, gains[:k])  # fmt: skip
    x = np.flatnonzero(res.x[:m] > 0.5)
    chosen, gains = _order_by_gain(a, w, x)
    bound = float(np.ceil(getattr(res, "mip_dual_bound", res.fun) - 1e-6))
    status = "optimal" if res.status == 0 else "time limit"
    val = float(len(x))
    return Solution(chosen, val, min(bound, val), (val - min(bound, val)) / max(val, 1.0),
                    "highs", status, time.perf_counter() - t0, gains)  # fmt: skip


def coverage_curve(cover: sp.spmatrix, weight: np.ndarray, n_max: int, *,
                   time_limit: float = 20.0) -> list[Solution]:  # fmt: skip
    """Maximal covering for 1 … ``n_max`` new sites (each solved on its own, so the curve is
    the best coverage for each number, not the greedy order's)."""
    return [maximal_covering(cover, weight, p, time_limit=time_limit)
            for p in range(1, n_max + 1)]  # fmt: skip
