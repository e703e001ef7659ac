"""Static PNG of coverage and underserved areas for printed reports (matplotlib)."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from hzspatial.categories import builtin_categories, user_category

if TYPE_CHECKING:
    from hzspatial.run import CoverageResult

__all__ = ["coverage_png"]

_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Source Han Sans SC",
              "SimHei", "Microsoft YaHei", "PingFang SC")  # fmt: skip


@cache
def _cjk_font() -> str | None:
    """A font with Chinese glyphs, if one is installed (else labels stay English only)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in _CJK_FONTS if f in names), None)


def coverage_png(result: CoverageResult, path: str | Path, *, dpi: int = 110) -> Path:
    """Draw one panel per category — catchments, underserved areas, facilities, district
    boundaries — in the analysis' metric CRS, and save a PNG.

    Titles are bilingual when a CJK font is installed, English otherwise.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    cats = list(result.summary["categories"])
    ncol = 2 if len(cats) > 1 else 1
    nrow = math.ceil(len(cats) / ncol)
    utm = result.demand.estimate_utm_crs()
    demand = result.demand.to_crs(utm)
    x0, y0, x1, y1 = demand.total_bounds
    bnd = result.boundaries.to_crs(utm)
    residents = (result.residents if result.residents is not None else result.demand).to_crs(utm)
    with plt.rc_context(rc):
        fig, axes = plt.subplots(nrow, ncol, figsize=(6.5 * ncol, 6.2 * nrow), squeeze=False)
        for ax, cat in zip(axes.ravel(), cats, strict=False):
            info = result.summary["categories"][cat]
            c = builtin_categories().get(cat) or user_category(cat)
            residents.plot(ax=ax, color="#dddddd", linewidth=0, markersize=1)
            catch = result.catchments[result.catchments["category"] == cat].to_crs(utm)
            catch.plot(ax=ax, color=c.colour, alpha=0.18, linewidth=0)
            under = result.underserved[result.underserved["category"] == cat].to_crs(utm)
            if len(under):
                under.plot(ax=ax, color="#de2d26", alpha=0.55, linewidth=0)
            fac = result.facilities[result.facilities["category"] == cat].to_crs(utm)
            fac.plot(ax=ax, color=c.colour, edgecolor="black", markersize=18, linewidth=0.5)
            bnd.boundary.plot(ax=ax, color="#555555", linewidth=1, linestyle="--")
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            label = c.label if font else c.label_en
            ax.set_title(f"{label}\n{info['threshold_m']:.0f} m: "
                         f"{info['coverage_share'] * 100:.0f}% covered", fontsize=11)  # fmt: skip
        for ax in axes.ravel()[len(cats) :]:
            ax.axis("off")
        title = ("15分钟步行覆盖 / 15-minute walking coverage" if font
                 else "15-minute walking coverage")  # fmt: skip
        note = "red = underserved residents; shaded = walking catchments"
        if result.synthetic:
            note += f"  ·  SYNTHETIC DEMO DATA: {result.synthetic_note}"
        fig.suptitle(title, fontsize=14)
        fig.text(0.5, 0.01, note, ha="center", fontsize=9,
                 color="#b35900" if result.synthetic else "#333333")  # fmt: skip
        fig.tight_layout(rect=(0, 0.03, 1, 0.97))
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return Path(path)
