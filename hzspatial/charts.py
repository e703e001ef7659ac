"""Report charts as inline SVG: vector in the PDF, real (searchable, copyable) text, drawn in
microseconds from the numbers instead of by a plotting library.

Pure functions from arrays to SVG text; every user text (area names) is escaped for HTML.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hzspatial.io.writers import html_text

__all__ = ["distance_chart_svg", "cumulative_share"]

#: Line colours of the areas' curves (the study area is drawn black).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22")  # fmt: skip
#: At most this many areas get their own coloured curve and legend entry; more are grey.
MAX_LEGEND = len(PALETTE)
#: At most this many areas get a bar (the lowest shares first); the table lists them all.
MAX_BARS = 25
THRESHOLD = "#cb181d"
FONT = 'font-family="Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"'


def cumulative_share(distance_m: np.ndarray, people: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Share (0–1) of ``people`` whose walking distance is at most each of ``xs`` metres
    (unreached residents have an infinite distance and count in the total)."""
    d = np.asarray(distance_m, dtype=float)
    w = np.asarray(people, dtype=float)
    total = w.sum()
    if len(d) == 0 or total <= 0:
        return np.zeros(len(xs))
    order = np.argsort(d, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order])]) / total
    return cum[np.searchsorted(d[order], xs, side="right")]


def _text_em(text: str) -> float:
    """Approximate width of ``text`` in ems (CJK characters one em, others about half)."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.56 for ch in text)


def _fit(text: str, width_px: float, size: float) -> str:
    """``text`` cut with an ellipsis to fit ``width_px`` at font ``size``."""
    if _text_em(text) * size <= width_px:
        return text
    out = ""
    for ch in text:
        if _text_em(out + ch + "…") * size > width_px:
            break
        out += ch
    return out + "…"


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _bars_panel(shown: Sequence[tuple[str, float]], n_bars: int, lim: float, y0: float,
                row: float, size: float) -> list[str]:
    """The right panel of :func:`distance_chart_svg`: share covered per area as bars (the
    ``shown`` of ``n_bars`` areas), SVG pieces."""
    out = []
    names_w = min(150.0, max(50.0, max((_text_em(n) for n, _ in shown), default=3) * size))
    b0, b1 = 372.0 + names_w + 6, 636.0
    for i, (name, share) in enumerate(shown):
        y = y0 + row * i
        w = max(0.0, min(1.0, float(share))) * (b1 - b0)
        label = html_text(_fit(name, names_w, size))
        out.append(f'<text x="{_n(b0 - 6)}" y="{_n(y + row * 0.45)}" dy="0.35em" '
                   f'text-anchor="end"><title>{html_text(name)}</title>{label}</text>'
                   f'<rect x="{_n(b0)}" y="{_n(y + row * 0.12)}" width="{_n(w)}" '
                   f'height="{_n(row * 0.66)}" fill="#4d4d4d"/>'
                   f'<text x="{_n(b0 + w + 3)}" y="{_n(y + row * 0.45)}" dy="0.35em">'
                   f"{share * 100:.1f}%</text>")  # fmt: skip
    base = y0 + row * len(shown)
    for v in (0, 50, 100):
        x = _n(b0 + v / 100 * (b1 - b0))
        out.append(f'<line x1="{x}" x2="{x}" y1="{_n(y0)}" y2="{_n(base)}" stroke="#ddd"/>'
                   f'<text x="{x}" y="{_n(base + 14)}" text-anchor="middle">'
                   f"{v}</text>")  # fmt: skip
    note = (f"（{len(shown)} 个覆盖率最低的区域，全部见下表 / the {len(shown)} lowest; all in "
            "the table）" if len(shown) < n_bars else "")  # fmt: skip
    out.append(f'<text x="{_n((b0 + b1) / 2)}" y="{_n(base + 32)}" text-anchor="middle">'
               f"{lim:,.0f} m 内居民比例 / share within (%)</text>")  # fmt: skip
    if note:
        out.append(f'<text x="{_n((b0 + b1) / 2)}" y="{_n(base + 46)}" text-anchor="middle" '
                   f'font-size="{_n(size - 2)}">{note}</text>')  # fmt: skip
    return out


def distance_chart_svg(
    distance_m: np.ndarray,
    people: np.ndarray,
    threshold_m: float,
    groups: Sequence[tuple[str, np.ndarray]],
    bars: Sequence[tuple[str, float]],
) -> str:
    """Walking-distance distribution beside coverage by area, as one SVG element.

    Parameters
    ----------
    distance_m : array
        Walking distance (metres; ``inf`` when no facility is reachable) per demand point.
    people : array
        Residents (persons) per demand point.
    threshold_m : float
        The walking threshold (metres), marked on the curve panel.
    groups : sequence of (name, mask)
        The curves: the study area first (drawn black), then each area (boolean masks over
        the demand points).
    bars : sequence of (name, share)
        Coverage share (0–1) per area for the bars, in table order.

    Returns
    -------
    str
        ``<svg …>`` text (viewBox in CSS pixels, scaled to the page width), names escaped.
    """
    lim = float(threshold_m)
    xmax = 2 * lim
    size = 11.0
    # left panel: share of residents within x metres
    x0, x1, y0, y1 = 54.0, 350.0, 12.0, 182.0
    shown = list(bars)
    if len(shown) > MAX_BARS:
        keep = sorted(range(len(shown)), key=lambda i: (shown[i][1], i))[:MAX_BARS]
        shown = [shown[i] for i in sorted(keep)]
    row = 18.0 if len(shown) <= 10 else max(11.0, 180.0 / len(shown))
    height = max(228.0, y0 + row * len(shown) + 60)

    def px(x):
        return x0 + (np.asarray(x, dtype=float) / xmax) * (x1 - x0)

    def py(s):
        return y1 - np.asarray(s, dtype=float) * (y1 - y0)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 680 {_n(height)}" '
           f'role="img" class="chart" {FONT} font-size="{_n(size)}">']  # fmt: skip
    for v in range(0, 101, 20):
        y = _n(py(v / 100))
        out.append(f'<line x1="{_n(x0)}" x2="{_n(x1)}" y1="{y}" y2="{y}" stroke="#ddd"/>'
                   f'<text x="{_n(x0 - 4)}" y="{y}" dy="0.35em" text-anchor="end">'
                   f"{v}</text>")  # fmt: skip
    for k in range(5):
        xv = xmax * k / 4
        x = _n(px(xv))
        out.append(f'<line x1="{x}" x2="{x}" y1="{_n(y0)}" y2="{_n(y1)}" stroke="#ddd"/>'
                   f'<text x="{x}" y="{_n(y1 + 14)}" text-anchor="middle">'
                   f"{xv:,.0f}</text>")  # fmt: skip
    out.append(f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" height="{_n(y1 - y0)}" '
               'fill="none" stroke="#555"/>')  # fmt: skip
    xs = np.linspace(0.0, xmax, 241)
    many = len(groups) - 1 > MAX_LEGEND
    legend = []
    for k, (name, mask) in reversed(list(enumerate(groups))):
        s = cumulative_share(distance_m[mask], people[mask], xs)
        colour = "#222" if k == 0 else "#aaa" if many else PALETTE[(k - 1) % len(PALETTE)]
        pts = " ".join(f"{_n(a)},{_n(b)}" for a, b in zip(px(xs), py(s), strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   f'stroke-width="{2 if k == 0 else 1.2}"><title>{html_text(name)}</title>'
                   "</polyline>")  # fmt: skip
        if k == 0 or not many:
            legend.insert(0, (name, colour))
    if many:
        legend.append(("各区域 / each area", "#aaa"))
    tx = _n(px(lim))
    out.append(f'<line x1="{tx}" x2="{tx}" y1="{_n(y0)}" y2="{_n(y1)}" stroke="{THRESHOLD}" '
               f'stroke-dasharray="5 3"/><text x="{_n(px(lim) + 3)}" y="{_n(y0 + 12)}" '
               f'fill="{THRESHOLD}">{lim:,.0f} m</text>')  # fmt: skip
    ly = y1 - 8 - 13 * (len(legend) - 1)
    for i, (name, colour) in enumerate(legend):
        y = ly + 13 * i
        label = html_text(_fit(name, x1 - px(xmax * 0.6) - 28, size - 1.5))
        out.append(f'<line x1="{_n(px(xmax * 0.6))}" x2="{_n(px(xmax * 0.6) + 16)}" y1="{_n(y)}" '
                   f'y2="{_n(y)}" stroke="{colour}" stroke-width="2"/><text '
                   f'x="{_n(px(xmax * 0.6) + 20)}" y="{_n(y)}" dy="0.35em" '
                   f'font-size="{_n(size - 1.5)}">{label}</text>')  # fmt: skip
    out.append(f'<text x="{_n((x0 + x1) / 2)}" y="{_n(y1 + 32)}" text-anchor="middle">'
               "步行距离（米）/ walking distance (m)</text>"
               f'<text transform="translate(14 {_n((y0 + y1) / 2)}) rotate(-90)" '
               'text-anchor="middle">居民比例 / share of residents (%)</text>')  # fmt: skip
    out += _bars_panel(shown, len(bars), lim, y0, row, size)
    out.append("</svg>")
    return "".join(out)
