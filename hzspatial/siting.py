"""Choosing sites for new facilities: maximal covering, set covering and capacity-aware
coverage on sparse coverage sets, solved exactly with HiGHS (``scipy.optimize.milp``) where it
can be, greedy + swap search where it cannot — always with a bound, so the gap is stated.

Plain arrays only: a sparse demand × candidate matrix saying which candidate sites reach which
demand points within the walking threshold, the residents at each demand point, and which
demand points existing facilities already serve. :mod:`hzspatial.site` builds them from a run.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = [
    "Solution",
    "capacitated_covering",
    "coverage_curve",
    "greedy",
    "maximal_covering",
    "p_median",
    "undominated",
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


def reduce_problem(cover: sp.spmatrix, weight: np.ndarray, served: np.ndarray | None = None,
                   *, merge_candidates: bool = True) -> Reduced:  # fmt: skip
    """Shrink a maximal-covering problem (see :class:`Reduced`); ``merge_candidates=False``
    keeps every candidate (capacities differ)."""
    a = sp.csr_matrix(cover, dtype=bool)
    w = np.asarray(weight, dtype=float)
    keep = (w > 0) & (np.diff(a.indptr) > 0)
    if served is not None:
        keep &= ~np.asarray(served, bool)
    a_cols = a.tocsc()
    if merge_candidates:
        # identical candidate columns: each column's row set as a key, keep the first
        col_key = _set_keys(a_cols.indptr, a_cols.indices)
        _, first = np.unique(col_key, return_index=True)
        cand = np.sort(first[np.diff(a_cols.indptr)[first] > 0])
    else:
        cand = np.arange(a.shape[1])
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
        ``"optimal"``, ``"within gap"`` (proven within the gap asked for), ``"time limit"``
        or ``"heuristic"``.
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


def undominated(cover: sp.spmatrix, p: int) -> np.ndarray:
    """Candidates whose set of demand points is not strictly inside another's (a dominated
    candidate never adds coverage its dominator does not), as long as at least ``p`` remain;
    otherwise all. Sorted indices."""
    a = sp.csc_matrix(cover, dtype=np.int32)
    size = np.diff(a.indptr)
    g = (a.T @ a).tocoo()
    dom = (g.row != g.col) & (g.data == size[g.row]) & (size[g.col] > size[g.row])
    kept = np.setdiff1d(np.arange(a.shape[1]), g.row[dom])
    return kept if len(kept) >= p else np.arange(a.shape[1])


def _covering_model(a: sp.csr_matrix, w: np.ndarray, p: int, quota, cost, budget) -> tuple:
    """Objective and constraints of maximal covering: variables x (m sites) then y (n demand
    points), maximise Σ w y with y_i ≤ Σ a_ij x_j, and Σ x = p (or a quota per group, or at
    most p within a budget)."""
    from scipy.optimize import LinearConstraint

    n, m = a.shape
    c = np.concatenate([np.zeros(m), -w])
    link = sp.hstack([-a, sp.identity(n, format="csr")], format="csr")  # y_i − Σ a_ij x_j ≤ 0
    if budget is not None:
        rows = sp.csr_matrix(
            np.vstack(
                [
                    np.concatenate([np.ones(m), np.zeros(n)]),
                    np.concatenate([np.asarray(cost, float), np.zeros(n)]),
                ]
            )
        )
        cons = [LinearConstraint(link, -np.inf, 0.0),
                LinearConstraint(rows, [0, 0], [p, float(budget)])]  # fmt: skip
    elif quota is None:
        count = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
        cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(count, p, p)]
    else:
        group, want = np.asarray(quota[0]), np.asarray(quota[1], float)
        count = sp.csr_matrix((np.ones(m), (group, np.arange(m))), shape=(len(want), m + n))
        cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(count, want, want)]
    return c, cons


def _undominated_per_group(cover: sp.spmatrix, group: np.ndarray,
                           want: np.ndarray) -> np.ndarray:  # fmt: skip
    """Candidates kept for a choice with a quota per group: none of a group that gets no
    site; of the others, one of each set of identical catchments and the undominated ones
    (:func:`undominated`, within the group — a site swaps only for one of its own group).
    Sorted indices."""
    a = sp.csc_matrix(cover, dtype=bool)
    a.sort_indices()
    kept = []
    for g in np.unique(group):
        if want[g] <= 0:
            continue
        idx = np.flatnonzero(group == g)
        sub = a[:, idx]
        _, first = np.unique(_set_keys(sub.indptr, sub.indices), return_index=True)
        distinct = idx[np.sort(first)] if len(first) >= want[g] else idx
        kept.append(distinct[undominated(a[:, distinct], int(want[g]))])
    return np.sort(np.concatenate(kept)) if kept else np.arange(a.shape[1])


def _covered_weight(cover: sp.csr_matrix, weight: np.ndarray, chosen) -> float:
    if len(chosen) == 0:
        return 0.0
    hit = np.asarray(cover[:, np.asarray(chosen)].sum(axis=1)).ravel() > 0
    return float(weight[hit].sum())


def greedy(cover: sp.spmatrix, weight: np.ndarray, p: int,
           quota: tuple[np.ndarray, np.ndarray] | None = None
           ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The classic greedy choice: ``p`` times the candidate covering most residents not yet
    covered (lowest index on ties), within each group's ``quota`` (group of each candidate,
    sites per group) when given. Returns (chosen, marginal gains)."""
    a = sp.csc_matrix(cover, dtype=float)
    left = np.asarray(weight, dtype=float).copy()
    chosen, gains = [], []
    room = None if quota is None else np.asarray(quota[1], float).copy()
    for _ in range(min(p, a.shape[1])):
        gain = a.T @ left
        if chosen:
            gain[chosen] = -1.0
        if room is not None:
            gain[room[quota[0]] <= 0] = -1.0
        j = int(np.argmax(gain))
        if gain[j] < 0 or (gain[j] == 0 and room is None):
            break
        chosen.append(j)
        gains.append(float(gain[j]))
        if room is not None:
            room[quota[0][j]] -= 1
        left[a.indices[a.indptr[j] : a.indptr[j + 1]]] = 0.0
    return np.array(chosen, np.int64), np.array(gains)


def _greedy_budget(a: sp.csc_matrix, w: np.ndarray, p: int, cost: np.ndarray,
                   budget: float) -> np.ndarray:  # fmt: skip
    """Greedy by residents newly covered per unit of cost, within the budget and ``p`` sites."""
    left, spent, chosen = w.copy(), 0.0, []
    for _ in range(min(p, a.shape[1])):
        gain = a.T @ left
        ratio = np.where(cost > 0, gain / np.maximum(cost, 1e-12), np.inf * (gain > 0))
        ratio[chosen] = -1.0
        ratio[spent + cost > budget + 1e-9] = -1.0
        j = int(np.argmax(ratio))
        if ratio[j] <= 0:
            break
        chosen.append(j)
        spent += cost[j]
        left[a.indices[a.indptr[j] : a.indptr[j + 1]]] = 0.0
    return np.array(chosen, np.int64)


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


def milp(*args, **kwargs):
    """:func:`scipy.optimize.milp`, interruptible: HiGHS runs in a worker thread (it releases
    the GIL) while this thread waits, so SIGINT / SIGTERM stop a run at once instead of when
    the solver's time limit ends (the worker is left to finish on its own)."""
    from scipy.optimize import milp as solve

    return _in_thread(solve, args, kwargs)


def linprog(*args, **kwargs):
    """:func:`scipy.optimize.linprog`, interruptible as :func:`milp`."""
    from scipy.optimize import linprog as solve

    return _in_thread(solve, args, kwargs)


def _in_thread(fn, args, kwargs):
    import threading

    out: dict = {}

    def work():
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            out["error"] = exc

    worker = threading.Thread(target=work, name="hzspatial-highs", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in out:
        raise out["error"]
    return out["value"]


#: Relative optimality gap a siting answer is accepted within (HiGHS' and Gurobi's default).
MIP_GAP = 1e-4


def maximal_covering(cover: sp.spmatrix, weight: np.ndarray, p: int, *,
                     time_limit: float = 60.0, exact: bool = True,
                     quota: tuple[np.ndarray, np.ndarray] | None = None,
                     cost: np.ndarray | None = None, budget: float | None = None,
                     gap: float = MIP_GAP) -> Solution:  # fmt: skip
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
        Seconds for the whole solve; beyond it the best choice found is returned with the
        best bound proven.
    exact : bool
        False: greedy + Lagrangian + swap search only, with their bound.
    quota : (array of int, array of int), optional
        Group of each candidate (e.g. its district) and the number of sites each group gets
        (summing to ``p``): the sites are chosen together, each group filling its quota.
    cost, budget : optional
        Cost of each candidate and the budget: the chosen sites cost at most ``budget`` and
        are at most ``p`` (not exactly ``p``).
    gap : float
        Relative optimality gap accepted (default 1e-4, as HiGHS' and Gurobi's): a choice
        proven within it of the optimum is returned at once.

    Returns
    -------
    Solution
        ``objective`` = residents newly covered, ``bound`` ≥ the optimum.
    """
    t0 = time.perf_counter()
    a = sp.csr_matrix(cover, dtype=float)
    w = np.asarray(weight, dtype=float)
    if budget is None:
        smaller = _on_undominated(a, w, p, quota, time_limit, exact, t0, gap)
        if smaller is not None:
            return smaller
    p = int(min(p, a.shape[1]))
    if budget is not None:
        start = _greedy_budget(a, w, p, np.asarray(cost, float), float(budget))
    else:
        start, _ = greedy(a, w, p, quota)
    # valid upper bounds whatever the solver does: all residents; and, coverage being monotone
    # submodular and at most p sites chosen, greedy's value plus the p largest gains left
    bound = min(float(w.sum()), _covered_weight(a, w, start) + _top_gains(a, w, start, p))
    if quota is None and budget is None:  # cheap first: a Lagrangian bound, its sites, swaps
        lag, lag_x = _lagrangian_covering(a, w, start, p, t0 + 0.15 * time_limit)
        bound = min(bound, lag)
        if _covered_weight(a, w, lag_x) > _covered_weight(a, w, start) + 1e-9:
            start = lag_x
        start = swap_search(a, w, start)
        val = _covered_weight(a, w, start)
        if bound - val <= gap * max(val, 1.0):  # proven within the gap: no solver needed
            return _solution(a, w, start, max(bound, val), "greedy+swap",
                             "optimal" if bound - val <= 1e-9 * max(val, 1.0) else "within gap",
                             t0)  # fmt: skip
    if exact:
        start, bound, solver, status = _solve_covering(a, w, p, quota, cost, budget, start,
                                                       bound, t0, time_limit, gap)  # fmt: skip
    else:
        solver, status = "greedy+swap", "heuristic"
    return _solution(a, w, start, bound, solver, status, t0)


def _solve_covering(a, w, p, quota, cost, budget, start, bound, t0, time_limit,
                    gap) -> tuple[np.ndarray, float, str, str]:  # fmt: skip
    """Maximal covering by HiGHS within what is left of ``time_limit``: the LP relaxation
    (whole sites: proven optimal), then branch and bound; returns (sites, bound, solver,
    status) — ``start`` and its bound when the solver does no better."""
    from scipy.optimize import Bounds

    n, m = a.shape
    left = lambda: time_limit - (time.perf_counter() - t0)  # noqa: E731
    if quota is None and budget is None and a.nnz >= CBC_NONZEROS:
        found = _cbc_covering(a, w, p, start, bound, max(left(), 1.0), gap)
        if found is not None:
            return found
    c, cons = _covering_model(a, w, p, quota, cost, budget)
    bounds = Bounds(np.zeros(m + n), np.ones(m + n))
    relaxed = _integral_relaxation(c, cons, m, n, max(left(), 1e-3) * 4 / 3)
    if relaxed is not None:  # the LP's own optimum is a choice of sites: proven optimal
        x, lp_bound = relaxed
        if _covered_weight(a, w, x) + 1e-6 * max(lp_bound, 1.0) >= lp_bound:
            return x, max(lp_bound, _covered_weight(a, w, x)), "highs", "optimal"
        bound = min(bound, lp_bound)
    # presolve off: HiGHS' presolve ignores the time limit (15 s against 2.5 s on the demo's
    # pitches at 150 m spacing) and its branch and bound is no faster with it
    res = milp(c, integrality=np.concatenate([np.ones(m), np.zeros(n)]), bounds=bounds,
               constraints=cons, options={"time_limit": float(max(left(), 1e-3)),
                                          "disp": False, "presolve": False,
                                          "mip_rel_gap": float(gap)})  # fmt: skip
    dual = -float(getattr(res, "mip_dual_bound", np.nan) or np.nan)
    if np.isfinite(dual):
        bound = min(bound, dual)
    if res.x is not None:
        x = np.flatnonzero(res.x[:m] > 0.5)
        val = _covered_weight(a, w, x)
        if val + 1e-9 >= _covered_weight(a, w, start):
            bound = max(bound, val)
            if res.status != 0:
                return x, bound, "highs", "time limit"
            return x, bound, "highs", ("optimal" if bound - val <= 1e-9 * max(val, 1.0)
                                       else "within gap")  # fmt: skip
    if budget is None and quota is None:
        return start, bound, "greedy+swap", "heuristic"
    return start, bound, "greedy", "heuristic"


#: Non-zeros from which maximal covering goes to CBC when it is at hand: HiGHS did not solve
#: the root LP of a 74,726 × 19,947 model (2.9 M non-zeros) in 200 s, CBC closed it in 40 s.
CBC_NONZEROS = 500_000


def cbc_path() -> str | None:
    """The CBC executable: ``cbc`` on the PATH, else the one PuLP ships; None without."""
    import shutil
    import warnings

    exe = shutil.which("cbc")
    if exe:
        return exe
    try:
        import pulp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = pulp.PULP_CBC_CMD().path
    except Exception:  # noqa: BLE001 - PuLP absent or without its binary: HiGHS instead
        return None
    return path if path and Path(path).is_file() else None


def _cbc_covering(a: sp.csr_matrix, w: np.ndarray, p: int, start: np.ndarray, bound: float,
                  time_limit: float, gap: float):  # fmt: skip
    """Maximal covering by CBC (an MPS file, warm-started from ``start``), or None when CBC
    is not at hand or found no choice: (sites, bound, solver, status), the better of CBC's
    choice and ``start``, the bound the least of ``bound`` and what CBC proves."""
    import subprocess
    import tempfile

    exe = cbc_path()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="hzspatial-cbc-") as tmp:
        folder = Path(tmp)
        _write_covering_mps(folder / "model.mps", a, w, p)
        _write_cbc_start(folder / "start.sol", a, start)
        cmd = [exe, "model.mps", "-sec", f"{time_limit:.1f}", "-ratio", f"{gap:g}", "-mips",
               "start.sol", "-solve", "-solu", "out.sol"]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)  # fmt: skip
        try:
            log, _ = proc.communicate()
        except BaseException:  # Ctrl-C / SIGTERM: the solver goes with the run
            proc.kill()
            proc.wait()
            raise
        found = _read_cbc_solution(folder / "out.sol", a.shape[1])
    if found is None:
        return None
    x, optimal = found
    val, val0 = _covered_weight(a, w, x), _covered_weight(a, w, start)
    lower = re.search(r"Lower bound:\s*(-?[\d.eE+]+)", log)
    root = re.search(r"Continuous objective value is\s*(-?[\d.eE+]+)", log)
    if lower:
        bound = min(bound, -float(lower.group(1)))
    elif optimal and root:  # CBC stops within ratio × the root objective, which the LP
        bound = min(bound, val + gap * abs(float(root.group(1))))  # relaxation's value bounds
    if val0 > val + 1e-9:
        return start, max(bound, val0), "greedy+swap", "heuristic"
    bound = max(bound, val)
    status = ("optimal" if bound - val <= 1e-9 * max(val, 1.0) else
              "within gap" if optimal else "time limit")  # fmt: skip
    return x, bound, "cbc", status


def _write_covering_mps(path: Path, a: sp.csr_matrix, w: np.ndarray, p: int) -> None:
    """Maximal covering as a free-format MPS file: minimise −Σ w y with y_i − Σ a_ij x_j ≤ 0,
    Σ x = p, x binary, 0 ≤ y ≤ 1 (names x<j>, y<i>, rows r<i>)."""
    n, m = a.shape
    cs = sp.csc_matrix(a)
    ends = cs.indptr[1:]
    # each column's rows, then its entry in the count row (−1 stands for it)
    rows = np.insert(cs.indices.astype(np.int64), ends, -1)
    cols = np.insert(np.repeat(np.arange(m), np.diff(cs.indptr)), ends, np.arange(m))
    line = lambda j, i: f"    x{j} r{i} -1\n" if i >= 0 else f"    x{j} cnt 1\n"  # noqa: E731
    with open(path, "w", encoding="ascii") as f:
        f.write("NAME mclp\nROWS\n N obj\n")
        f.write("".join(map(" L r{0}\n".format, range(n))))
        f.write(" E cnt\nCOLUMNS\n    MARKER 'MARKER' 'INTORG'\n")
        f.write("".join(map(line, cols.tolist(), rows.tolist())))
        f.write("    MARKER 'MARKER' 'INTEND'\n")
        f.write("".join(f"    y{i} obj {-wi!r} r{i} 1\n" for i, wi in enumerate(w.tolist())))
        f.write(f"RHS\n    rhs cnt {p}\nBOUNDS\n")
        f.write("".join(map(" UP bnd x{0} 1\n".format, range(m))))
        f.write("".join(map(" UP bnd y{0} 1\n".format, range(n))))
        f.write("ENDATA\n")


def _write_cbc_start(path: Path, a: sp.csr_matrix, start: np.ndarray) -> None:
    """A CBC MIP start (its solution format): the sites ``start`` and whom they cover."""
    n, m = a.shape
    x = np.zeros(m)
    x[np.asarray(start, np.int64)] = 1.0
    y = (np.asarray(a[:, np.asarray(start, np.int64)].sum(axis=1)).ravel() > 0).astype(float)
    lines = [f"{j} x{j} {v:g} 0\n" for j, v in enumerate(x)]
    lines += [f"{m + i} y{i} {v:g} 0\n" for i, v in enumerate(y)]
    path.write_text("Feasible - objective value 0\n" + "".join(lines), encoding="ascii")


def _read_cbc_solution(path: Path, m: int) -> tuple[np.ndarray, bool] | None:
    """(sites chosen, whether CBC proved it within its gap) from a CBC solution file."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="ascii", errors="replace").splitlines()
    if not text or "infeasible" in text[0].lower():
        return None
    chosen = []
    for line in text[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[1].startswith("x") and float(parts[2]) > 0.5:
            chosen.append(int(parts[1][1:]))
    if not chosen:
        return None
    return np.array(sorted(chosen), dtype=np.int64), text[0].startswith("Optimal")


def _solution(a, w, x, bound, solver, status, t0) -> Solution:
    """The :class:`Solution` of sites ``x``: ordered by gain, the gap to ``bound``."""
    val = _covered_weight(a, w, x)
    bound = max(bound, val)
    chosen, gains = _order_by_gain(a, w, x)
    gap = 0.0 if status == "optimal" else (bound - val) / max(val, 1.0)
    return Solution(chosen, val, bound, gap, solver, status, time.perf_counter() - t0, gains)


def _on_undominated(a: sp.csr_matrix, w: np.ndarray, p: int, quota, time_limit: float,
                    exact: bool, t0: float, gap: float) -> Solution | None:  # fmt: skip
    """:func:`maximal_covering` on the candidates no other dominates (within their group
    when there are quotas), in the original candidates' numbering; None when none is."""
    if quota is None:
        kept = undominated(a, p)
        sub = None
    else:
        kept = _undominated_per_group(a, np.asarray(quota[0]), np.asarray(quota[1]))
        sub = (np.asarray(quota[0])[kept], quota[1])
    if len(kept) == a.shape[1]:
        return None
    sol = maximal_covering(a[:, kept], w, p, time_limit=time_limit, exact=exact, quota=sub,
                           gap=gap)
    return replace(sol, chosen=kept[sol.chosen], seconds=time.perf_counter() - t0)


def _integral_relaxation(c: np.ndarray, cons: list, m: int, n: int,
                         time_limit: float) -> tuple[np.ndarray, float] | None:
    """The LP relaxation of a covering model solved by HiGHS' interior point method (with
    crossover: a vertex): ``(sites, LP optimum)`` when its sites come out whole — then no
    branching is needed (the demo's 10 pitches: 5.6 s instead of 42 s of branch and bound);
    ``(empty, LP optimum)`` when they do not (the LP optimum still bounds the choice);
    None when it was not solved within a quarter of ``time_limit``."""

    ub = [k for k in cons if np.isinf(np.atleast_1d(k.lb)).all()]
    eq = [k for k in cons if k not in ub]
    a_ub = sp.vstack([sp.csr_matrix(k.A) for k in ub], format="csr") if ub else None
    b_ub = np.concatenate([np.broadcast_to(k.ub, k.A.shape[0]) for k in ub]) if ub else None
    rows, lo, hi = [], [], []
    for k in eq:  # l ≤ A x ≤ u as A x ≤ u and −A x ≤ −l, or A x = l when l = u
        lo.append(np.broadcast_to(k.lb, k.A.shape[0]))
        hi.append(np.broadcast_to(k.ub, k.A.shape[0]))
        rows.append(sp.csr_matrix(k.A))
    a_eq = b_eq = None
    if rows:
        lo_all, hi_all, big = np.concatenate(lo), np.concatenate(hi), sp.vstack(rows, "csr")
        same = lo_all == hi_all
        if not same.all():
            return None  # ranges (a budget): left to the MIP
        a_eq, b_eq = big, lo_all
    try:
        r = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, 1),
                    method="highs-ipm", options={"time_limit": max(0.25 * time_limit, 1e-3)})
    except ValueError:
        return None
    if r.status != 0 or r.x is None:
        return None
    x = r.x[:m]
    whole = (np.abs(x - np.round(x)) <= 1e-6).all()
    return (np.flatnonzero(x > 0.5) if whole else np.zeros(0, np.int64)), -float(r.fun)


def _lagrangian_covering(a: sp.csr_matrix, w: np.ndarray, start: np.ndarray, p: int,
                         deadline: float, iterations: int = 1000) -> tuple[float, np.ndarray]:
    """Upper bound on maximal covering by Lagrangian relaxation of "a resident counts when a
    chosen site reaches it" (multipliers ``mu`` ≥ 0 per demand point): for any ``mu``,
    Σ max(0, w − mu) + the ``p`` largest (aᵀmu)_j bounds the optimum. Started at the value
    that equals ``start``'s submodular bound (mu = w where ``start`` leaves residents
    uncovered, else 0), improved by subgradient steps until ``deadline`` or ``iterations``.
    Returns the best bound and the ``p`` sites of its step."""
    m = a.shape[1]
    at = a.T.tocsr()
    covered = np.asarray(a[:, np.asarray(start, np.int64)].sum(axis=1)).ravel() > 0
    mu = np.where(covered, 0.0, w)
    lower = _covered_weight(a, w, start)
    best, best_x = np.inf, np.asarray(start, np.int64)
    theta, stall = 2.0, 0
    for _ in range(iterations):
        rho = at @ mu
        top = np.argpartition(-rho, p - 1)[:p] if p < m else np.arange(m)
        value = float(np.maximum(w - mu, 0.0).sum() + rho[top].sum())
        stall = 0 if value < best - 1e-6 * abs(value) else stall + 1
        if value < best:
            best, best_x = value, top
        if stall >= 10:
            theta, stall = theta / 2, 0
        reach = np.asarray(a[:, top].sum(axis=1)).ravel()
        grad = reach - (w > mu)
        norm = float(grad @ grad)
        if norm == 0 or theta < 1e-4 or time.perf_counter() > deadline:
            break
        mu = np.maximum(mu - theta * (value - lower) / norm * grad, 0.0)
    return best, np.asarray(best_x, np.int64)


def _top_gains(a: sp.csr_matrix, w: np.ndarray, chosen: np.ndarray, p: int) -> float:
    """The sum of the ``p`` largest residents newly covered by one more candidate after
    ``chosen``."""
    covered = np.asarray(a[:, np.asarray(chosen, np.int64)].sum(axis=1)).ravel() > 0
    gains = np.asarray(a.T @ (w * ~covered)).ravel()
    return float(np.sort(gains)[::-1][:p].sum())


def set_covering(cover: sp.spmatrix, weight: np.ndarray, target: float, *,
                 time_limit: float = 60.0) -> Solution:  # fmt: skip
    """The fewest candidates whose catchments hold at least ``target`` residents (a share of
    all residents is a target of share × total; every point = the total).

    Raises ``ValueError`` when even every candidate together falls short.
    """
    from scipy.optimize import Bounds, LinearConstraint

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


def _assignment_lp(cover: sp.csr_matrix, weight: np.ndarray, capacity: np.ndarray,
                   open_: np.ndarray) -> float:  # fmt: skip
    """Residents served when the sites ``open_`` (bool) are open: the largest assignment of
    each demand point's residents to open sites within reach, no site over its capacity."""

    a = cover[:, np.flatnonzero(open_)].tocoo()
    if a.nnz == 0:
        return 0.0
    n, k = cover.shape[0], int(open_.sum())
    w = np.asarray(weight, float)
    cap = np.asarray(capacity, float)[open_]
    nz = a.nnz
    one_each = sp.csr_matrix((np.ones(nz), (a.row, np.arange(nz))), shape=(n, nz))
    per_site = sp.csr_matrix((w[a.row], (a.col, np.arange(nz))), shape=(k, nz))
    res = linprog(-w[a.row], A_ub=sp.vstack([one_each, per_site]).tocsr(),
                  b_ub=np.concatenate([np.ones(n), cap]), bounds=(0, 1),
                  method="highs")  # fmt: skip
    return float(-res.fun) if res.status == 0 else 0.0


def capacitated_covering(cover: sp.spmatrix, weight: np.ndarray, capacity: np.ndarray, p: int,
                         fixed: np.ndarray | None = None, *, time_limit: float = 60.0
                         ) -> Solution:  # fmt: skip
    """Open ``p`` new sites so that the most residents are served within reach, each site
    serving no more residents than its ``capacity`` (residents: places × the standard's rate).

    Sites in ``fixed`` (existing facilities) are open already; residents may be split between
    sites (a fractional assignment, exact for counts of people). ``objective`` = residents
    served by all open sites, ``bound`` ≥ the optimum. Beyond the time limit: greedy on
    capacity-capped gains, scored by the exact assignment LP, bounded by the LP relaxation.
    """
    from scipy.optimize import Bounds, LinearConstraint

    t0 = time.perf_counter()
    a = sp.csr_matrix(cover, dtype=bool).tocoo()
    w = np.asarray(weight, float)
    cap = np.asarray(capacity, float)
    n, m = cover.shape
    fixed = np.zeros(m, bool) if fixed is None else np.asarray(fixed, bool)
    free = np.flatnonzero(~fixed)
    p = int(min(p, len(free)))
    nz = a.nnz
    # variables: x (m sites), then z (one per reachable pair)
    c = np.concatenate([np.zeros(m), -w[a.row]])
    one_each = sp.csr_matrix((np.ones(nz), (a.row, m + np.arange(nz))), shape=(n, m + nz))
    load = sp.csr_matrix((np.concatenate([w[a.row], -cap]),
                          (np.concatenate([a.col, np.arange(m)]),
                           np.concatenate([m + np.arange(nz), np.arange(m)]))),
                         shape=(m, m + nz))  # fmt: skip
    count = sp.csr_matrix((np.ones(len(free)), (np.zeros(len(free), int), free)),
                          shape=(1, m + nz))  # fmt: skip
    cons = [LinearConstraint(one_each, -np.inf, 1.0), LinearConstraint(load, -np.inf, 0.0),
            LinearConstraint(count, p, p)]  # fmt: skip
    lo = np.concatenate([fixed.astype(float), np.zeros(nz)])
    bounds = Bounds(lo, np.ones(m + nz))
    integ = np.concatenate([np.ones(m), np.zeros(nz)])
    res = milp(c, integrality=integ, bounds=bounds, constraints=cons,
               options={"time_limit": float(time_limit), "disp": False})  # fmt: skip
    if res.x is not None:
        x = res.x[:m] > 0.5
        val = -float(res.fun)
        bound = max(-float(getattr(res, "mip_dual_bound", res.fun)), val)
        status = "optimal" if res.status == 0 else "time limit"
        new = np.flatnonzero(x & ~fixed)
        gap = 0.0 if status == "optimal" else (bound - val) / max(val, 1.0)
        return Solution(new, val, bound, gap, "highs", status, time.perf_counter() - t0,
                        np.zeros(len(new)))  # fmt: skip
    lp = milp(c, bounds=bounds, constraints=cons)
    bound = -float(lp.fun) if lp.x is not None else float(w.sum())
    csc = sp.csc_matrix(cover, dtype=float)
    left = w.copy()
    open_ = fixed.copy()
    for j in np.flatnonzero(fixed):
        left[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] = 0.0
    for _ in range(p):
        gain = np.minimum(csc.T @ left, cap)
        gain[open_] = -1.0
        j = int(np.argmax(gain))
        open_[j] = True
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        take = min(cap[j], left[rows].sum())
        left[rows] *= 1 - take / max(left[rows].sum(), 1e-12)
    val = _assignment_lp(sp.csr_matrix(cover), w, cap, open_)
    new = np.flatnonzero(open_ & ~fixed)
    return Solution(new, val, max(bound, val), (max(bound, val) - val) / max(val, 1.0), "greedy",
                    "heuristic", time.perf_counter() - t0, np.zeros(len(new)))  # fmt: skip


def _lagrangian_p_median(di: np.ndarray, sj: np.ndarray, saving: np.ndarray, lam: np.ndarray,
                         p: int, m: int, lower: float, deadline: float,
                         iterations: int = 1000) -> tuple[float, np.ndarray]:  # fmt: skip
    """Upper bound on the p-median saving by Lagrangian relaxation of "each resident walks to
    one site" (multipliers ``lam`` ≥ 0, one per demand point), improved by subgradient steps
    (Polyak, towards ``lower``) until ``deadline`` (``time.perf_counter()``) or
    ``iterations``. Any ``lam`` ≥ 0 gives a valid bound: Σ lam + the ``p`` largest
    Σ_i max(0, saving_ij − lam_i). Returns the best bound and the ``p`` sites of its step."""
    best, best_x = np.inf, np.zeros(0, np.int64)
    theta, stall = 2.0, 0
    for _ in range(iterations):
        r = np.maximum(saving - lam[di], 0.0)
        rho = np.bincount(sj, weights=r, minlength=m)
        top = np.argpartition(-rho, p - 1)[:p] if p < m else np.arange(m)
        value = float(lam.sum() + rho[top].sum())
        stall = 0 if value < best - 1e-6 * abs(value) else stall + 1
        if value < best:
            best, best_x = value, top
        if stall >= 10:
            theta, stall = theta / 2, 0
        used = (r > 0) & np.isin(sj, top)
        grad = 1.0 - np.bincount(di, weights=used.astype(float), minlength=len(lam))
        norm = float(grad @ grad)
        if norm == 0 or theta < 1e-4 or time.perf_counter() > deadline:
            break
        lam = np.maximum(lam - theta * (value - lower) / norm * grad, 0.0)
    return best, np.asarray(best_x, np.int64)


def _greedy_p_median(di: np.ndarray, sj: np.ndarray, d: np.ndarray, w: np.ndarray,
                     cur: np.ndarray, p: int, m: int) -> np.ndarray:  # fmt: skip
    """``p`` sites chosen one at a time, each saving the most person-metres then (pairs
    ``di``, ``sj``, ``d`` metres; ``w`` persons; ``cur`` metres walked today)."""
    chosen, best = [], cur.copy()
    for _ in range(p):
        g = np.bincount(sj, weights=w[di] * np.maximum(best[di] - d, 0), minlength=m)
        g[chosen] = -1.0
        j = int(np.argmax(g))
        chosen.append(j)
        sel = sj == j
        np.minimum.at(best, di[sel], d[sel])
    return np.array(chosen, np.int64)


def p_median(demand: np.ndarray, site: np.ndarray, dist: np.ndarray, weight: np.ndarray,
             current: np.ndarray, p: int, n_sites: int, *, time_limit: float = 60.0
             ) -> Solution:  # fmt: skip
    """Open ``p`` sites so that the residents' total walking distance to their nearest
    facility — an existing one at ``current`` metres, or an opened site — is least (p-median
    with the existing facilities kept).

    Parameters
    ----------
    demand, site, dist : arrays
        Pairs (demand point, candidate site, metres) within the searched reach; only pairs
        shorter than the demand point's ``current`` distance matter.
    weight : array
        Residents per demand point.
    current : array
        Metres to the nearest existing facility, capped at the reach (finite).
    p, n_sites : int
        Sites to open; number of candidate sites.

    Returns
    -------
    Solution
        ``objective`` = person-metres saved against today, ``bound`` ≥ the best saving.
    """
    from scipy.optimize import Bounds, LinearConstraint

    t0 = time.perf_counter()
    w = np.asarray(weight, float)
    cur = np.asarray(current, float)
    keep = (dist < cur[demand]) & (w[demand] > 0)
    di, sj, d = demand[keep], site[keep], dist[keep]
    saving = w[di] * (cur[di] - d)  # person-metres saved if i walks to j instead
    m, k = int(n_sites), len(di)
    p = int(min(p, m))
    # variables: x (m), z (k); maximise Σ saving z; Σ_j z_ij ≤ 1; z_ij ≤ x_j; Σ x = p
    n = len(w)
    one_each = sp.csr_matrix((np.ones(k), (di, m + np.arange(k))), shape=(n, m + k))
    link = sp.csr_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                          (np.concatenate([np.arange(k)] * 2),
                           np.concatenate([m + np.arange(k), sj]))), shape=(k, m + k))  # fmt: skip
    count = sp.csr_matrix((np.ones(m), (np.zeros(m, int), np.arange(m))), shape=(1, m + k))
    cons = [LinearConstraint(one_each, -np.inf, 1.0), LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(count, p, p)]  # fmt: skip
    c = np.concatenate([np.zeros(m), -saving])
    bounds = Bounds(np.zeros(m + k), np.ones(m + k))

    def walks(open_sites: np.ndarray) -> np.ndarray:
        best = cur.copy()
        sel = np.isin(sj, open_sites)
        np.minimum.at(best, di[sel], d[sel])
        return best

    # greedy first: the answer kept when the solver's is worse or missing (time limit, load)
    greedy_x = _greedy_p_median(di, sj, d, w, cur, p, m)
    greedy_val = float((w * (cur - walks(greedy_x))).sum())
    # valid upper bounds on the saving, whatever the solver did: everyone walking to their
    # nearest candidate; and, the saving being monotone submodular (a facility-location
    # function), greedy's value plus the p largest gains left after it
    nearest = cur.copy()
    np.minimum.at(nearest, di, d)
    bound = float((w * (cur - nearest)).sum())
    # the solver, with a fifth of the time kept for a bound should it stop short (presolve
    # off, as in maximal_covering: it ignores the time limit)
    limit = max(0.8 * time_limit - (time.perf_counter() - t0), 1e-3)
    res = milp(c, integrality=np.concatenate([np.ones(m), np.zeros(k)]), bounds=bounds,
               constraints=cons, options={"time_limit": float(limit), "disp": False,
                                          "presolve": False})  # fmt: skip
    x, val, solver = greedy_x, greedy_val, "greedy"
    if res.x is not None:
        mx = np.flatnonzero(res.x[:m] > 0.5)
        mval = float((w * (cur - walks(mx))).sum())
        if mval >= greedy_val - 1e-9:
            x, val, solver = mx, mval, "highs"
    if res.status == 0 and res.x is not None:
        bound = val  # proven optimal
    else:
        dual = -float(getattr(res, "mip_dual_bound", np.nan) or np.nan)
        if np.isfinite(dual):
            bound = min(bound, dual)
        # a Lagrangian bound, started where it equals greedy's submodular bound (greedy's
        # value plus the p largest gains left); its best sites may beat both answers
        lam = np.zeros(n)
        np.maximum.at(lam, di, np.where(np.isin(sj, greedy_x), saving, 0.0))
        lag, lag_x = _lagrangian_p_median(di, sj, saving, lam, p, m, val, max(
            t0 + time_limit, time.perf_counter() + 1.0))  # fmt: skip
        bound = min(bound, lag)
        lag_val = float((w * (cur - walks(lag_x))).sum())
        if lag_val > val + 1e-9:
            x, val, solver = lag_x, lag_val, "lagrangian"
    bound = max(bound, val)
    gap = (bound - val) / max(val, 1.0)
    status = "optimal" if gap <= 1e-9 else ("time limit" if res.status == 1 else "heuristic")
    return Solution(x, val, bound, 0.0 if status == "optimal" else gap, solver, status,
                    time.perf_counter() - t0)  # fmt: skip
