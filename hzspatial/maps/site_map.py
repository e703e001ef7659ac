"""Maps of a site selection: the interactive map (existing facilities, proposed sites ranked,
their catchments, residents still unserved) and the coverage curve chart."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import folium

from hzspatial.categories import builtin_categories, user_category
from hzspatial.io.writers import html_text
from hzspatial.labels import by_mode_words, within_words
from hzspatial.maps.assets import Raw, embed_leaflet, metric_scale
from hzspatial.maps.interactive import _Display, _Markers, _streets_layer
from hzspatial.maps.layers import GeoJsonOverlay
from hzspatial.maps.style import NO_FACILITY, tint

if TYPE_CHECKING:
    from hzspatial.results import SiteResult

__all__ = ["curve_png", "site_map"]

PROPOSED = "#111111"


def site_map(result: SiteResult) -> folium.Map:
    """Interactive map of a site selection (offline, metric scale, collapsed layer list)."""
    cov = result.coverage
    rep = result.report
    cat = rep["category"]
    c = builtin_categories().get(cat) or user_category(cat)
    show = _Display("wgs84", cov.streets.crs if cov.streets is not None else None)
    x0, y0, x1, y1 = cov.demand.total_bounds
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, control_scale=False,
                   prefer_canvas=True, zoom_start=13)  # fmt: skip
    embed_leaflet(m)
    metric_scale(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    if cov.streets is not None:
        _streets_layer(m, cov, show)
    if not result.unserved.empty:
        fg = folium.FeatureGroup(name="仍未覆盖的居民 / residents still unserved")
        pts = [[round(float(p.y), 6), round(float(p.x), 6), "", ""]
               for p in result.unserved.geometry]  # fmt: skip
        fg.add_child(_Markers(pts, NO_FACILITY, radius=2))
        fg.add_to(m)
    mzh, men = by_mode_words(rep)
    catch = folium.FeatureGroup(name=f"新设施{mzh}范围 / {men} from the new sites")
    GeoJsonOverlay(show.gdf(result.catchments[["rank", "geometry"]]),
                   style={"color": PROPOSED, "weight": 1, "opacity": 0.6,  # solid: dashes
                          "fillColor": tint(c.colour), "fillOpacity": 0.35},  # on ragged
                   # network outlines read as scribbles
                   tooltip=[("rank", "新址序号 / site rank")]).add_to(catch)  # fmt: skip
    catch.add_to(m)
    fac = cov.facilities[cov.facilities["category"] == cat]
    if len(fac):
        fg = folium.FeatureGroup(name=html_text(f"现有{c.label_zh} / existing {c.label_en}"))
        pts = [[round(float(p.y), 6), round(float(p.x), 6),
                f"<b>{html_text(str(n))}</b><br>现有 / existing", html_text(str(n))]
               for p, n in zip(fac.geometry, fac["name"], strict=True)]  # fmt: skip
        fg.add_child(_Markers(pts, c.colour))
        fg.add_to(m)
    fg = folium.FeatureGroup(name="新选址（按序号）/ proposed sites (ranked)")
    for r in result.sites.itertuples():
        popup = (f"<b>#{int(r.rank)} {html_text(str(r.name))}</b><br>"
                 f"新增覆盖居民 / newly covered: {r.newly_covered:,.0f}<br>"
                 f"累计覆盖率 / cumulative share: {r.cumulative_share * 100:.1f}%")  # fmt: skip
        folium.Marker([r.lat, r.lon], popup=folium.Popup(popup, max_width=300),
                      icon=folium.DivIcon(html=(
                          f"<div style='background:{PROPOSED};color:white;border-radius:11px;"
                          "width:22px;height:22px;line-height:22px;text-align:center;"
                          f"font:bold 11px sans-serif;border:2px solid white'>{int(r.rank)}</div>"),
                          icon_size=(22, 22), icon_anchor=(11, 11))).add_to(fg)  # fmt: skip
    fg.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().html.add_child(Raw(_legend(result, c)))
    return m


def _legend(result: SiteResult, c) -> str:
    rep = result.report
    sw = "display:inline-block;width:11px;height:11px;vertical-align:middle;margin-right:3px"
    badge = ""
    if rep["synthetic_inputs"]:
        badge = ("<div id='hz-synthetic-badge' style='background:#fff3cd;border:1px solid "
                 "#e0a800;padding:3px 6px;margin-top:6px;font-weight:bold'>合成演示数据 / "
                 "synthetic demo data: "
                 f"{html_text(', '.join(rep['synthetic_inputs']))}</div>")  # fmt: skip
    before = rep["already_served"] / rep["residents"] * 100
    after = rep["covered_after"] / rep["residents"] * 100
    who = (rep.get("counted") or {}).get("label", "居民 / residents")
    wzh = within_words(rep)[0]
    wzh = f"步行 {wzh}" if rep.get("mode", "walk") == "walk" else wzh
    mzh, men = by_mode_words(rep)
    return (
        "<details id='hz-legend' open style='position:fixed;bottom:34px;left:10px;z-index:9999;"
        "background:rgba(255,255,255,.95);padding:6px 9px;border:1px solid #999;"
        "border-radius:4px;font:12px sans-serif;max-width:330px'>"
        f"<summary style='font-weight:bold'>新设施选址 / Sites for new {html_text(c.label_en)}"
        "</summary>"
        f"<div>{rep['sites']} 处新址 / new sites · {wzh}"
        f"{html_text(who)} within reach: {before:.1f}% → {after:.1f}%</div>"
        f"<div><span style='{sw};border-radius:6px;background:{c.colour}'></span>现有 / existing"
        f" <span style='{sw};border-radius:6px;background:{PROPOSED}'></span>新址 / proposed</div>"
        f"<div><span style='{sw};background:{tint(c.colour)};border:1px solid {PROPOSED}'>"
        f"</span>新址{mzh}范围 / {men} from new sites</div>"
        f"<div><span style='{sw};border-radius:6px;background:{NO_FACILITY}'></span>"
        "仍未覆盖的居民点 / residents still unserved</div>"
        f"<div>求解 / solver: {html_text(rep['solver'])}, {html_text(rep['status'])}, "
        f"gap {rep['gap'] * 100:.2f}%</div>{badge}</details>"
    )


def curve_png(result: SiteResult, path: str | Path) -> Path:
    """``curve.png``: share of residents within the threshold against the number of new sites,
    bilingual, with the plan's number (from a standard) or the target share marked."""
    buf = io.BytesIO()
    curve_figure(result).savefig(buf, format="png", dpi=150)
    Path(path).write_bytes(buf.getvalue())
    return Path(path)


def curve_figure(result: SiteResult):
    """The matplotlib Figure of :func:`curve_png` (whole-number ticks: sites are counted)."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from hzspatial.maps.static import _cjk_font, _rc

    def bi(zh: str, en: str) -> str:  # Chinese with English, or English alone without a font
        return f"{zh} / {en}" if _cjk_font() else en

    cv = result.curve
    rep = result.report
    with mpl.rc_context(_rc() | {"font.size": 8}):
        fig = Figure(figsize=(6.3, 3.2))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot(cv["new_sites"], cv["share"] * 100, marker="o", ms=3, color="black",
                label=bi("按序建设", "built in rank order"))  # fmt: skip
        if "best" in cv:
            ax.plot(cv["new_sites"], cv["best"] / rep["residents"] * 100, ls="--",
                    color="#1f78b4", label=bi("各数量最优", "best for each number"))  # fmt: skip
        last = int(cv["new_sites"].max())
        ax.set_xlim(-0.5, last + 0.5)  # the axis ends where the curve does
        if rep.get("standard"):
            n = rep["standard"]["total"]
            if n <= last:
                ax.axvline(n, color="#cb181d", ls=":", lw=1)
                ax.text(n, 97, f"{bi('规划所需', 'plan needs')} {n} ", color="#cb181d",
                        fontsize=7, ha="right", va="top")  # fmt: skip
            else:  # beyond the curve: said at its right edge, not drawn off the curve
                ax.text(last + 0.4, 97, f"{bi('规划所需', 'plan needs')} {n} →",
                        color="#cb181d", fontsize=7, ha="right", va="top")  # fmt: skip
        if rep.get("target_share"):
            ax.axhline(rep["target_share"] * 100, color="#cb181d", ls=":", lw=1)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # a count: no tick at 0.5
        ax.set_xlabel(bi("新增设施数", "new sites"))
        wzh, wen = within_words(rep)
        ax.set_ylabel(bi(f"{wzh}居民", f"residents {wen} (%)"))
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, loc="lower right", fontsize=7)
        if rep["synthetic_inputs"]:
            ax.set_title(f"{bi('合成演示数据', 'SYNTHETIC DEMO DATA')} — generated, not surveyed",
                         fontsize=7, color="#b35900")  # fmt: skip
        fig.tight_layout()
    return fig
