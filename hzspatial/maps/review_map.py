"""Map of a land-use review: proposals, their walking catchments, the facilities counted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium

from hzspatial.categories import builtin_categories, user_category
from hzspatial.io.writers import html_text
from hzspatial.maps.assets import Raw, embed_leaflet, metric_scale
from hzspatial.maps.interactive import safe_properties

if TYPE_CHECKING:
    from hzspatial.results import ReviewResult

__all__ = ["review_map"]

_VERDICT_COLOUR = {"pass": "#1a9850", "fail": "#d73027", "cannot check": "#fdae61"}


def _spare(x) -> str:
    return "—" if x is None or x != x else f"{x:,.1f}"


def review_map(result: ReviewResult) -> folium.Map:
    """Folium map (offline, Leaflet embedded): each proposal coloured by its verdict, its
    walking catchment, and the existing facilities counted for it with their spare capacity."""
    props = result.proposals.copy()
    verdict = {p["proposal_id"]: p["verdict"] for p in result.report["proposals"]}
    props["verdict"] = props["proposal_id"].map(verdict)
    x0, y0, x1, y1 = (
        result.catchments.total_bounds if len(result.catchments) else props.total_bounds
    )
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, control_scale=False,
                   zoom_start=14)  # fmt: skip
    embed_leaflet(m)
    metric_scale(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    folium.GeoJson(
        safe_properties(result.catchments), name=f"步行范围 / walking catchment "
        f"({result.report['threshold_m']:.0f} m)",
        style_function=lambda _: {"color": "#3182bd", "weight": 1, "fillOpacity": 0.12},
    ).add_to(m)  # fmt: skip
    folium.GeoJson(
        safe_properties(props[["proposal_id", "name", "residents", "verdict", "geometry"]]),
        name="拟建居住区 / proposed districts",
        style_function=lambda f: {"color": "#222", "weight": 2, "fillOpacity": 0.4,
                                  "fillColor": _VERDICT_COLOUR[f["properties"]["verdict"]]},
        tooltip=folium.GeoJsonTooltip(["name", "residents", "verdict"],
                                      aliases=["名称 / Name", "居民 / Residents",
                                               "结论 / Verdict"]),
    ).add_to(m)  # fmt: skip
    fg = folium.FeatureGroup(name="计入的现有设施 / existing facilities counted")
    c = result.counted
    if len(c):  # none counted (no facility in reach of any proposal): an empty layer
        c = c.drop_duplicates(["proposal_id", "facility_id", "standard"])
    for (fid, _), rows in (c.groupby(["facility_id", "category"], sort=False) if len(c) else ()):
        first = rows.iloc[0]
        cat = builtin_categories().get(first["category"]) or user_category(first["category"])
        lines = "".join(
            f"<br>{html_text(str(r.proposal_id))} · {html_text(r.standard)}: "
            f"{r.distance_m:,.0f} m, spare {_spare(r.spare)}"
            for r in rows.itertuples()
        )
        folium.CircleMarker(
            [first.geometry.y, first.geometry.x], radius=6, color="#222", weight=1, fill=True,
            fill_color=cat.colour, fill_opacity=0.95, tooltip=html_text(first["name"]),
            popup=folium.Popup(f"<b>{html_text(str(first['name']))}</b> ({html_text(fid)})"
                               f"<br>{html_text(cat.label)}{lines}", max_width=360),
        ).add_to(fg)  # fmt: skip
    fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    badge = ""
    if result.report["synthetic_inputs"]:
        badge = ("<div id='hz-synthetic-badge' style='background:#fff3cd;border:1px solid "
                 "#e0a800;padding:3px 6px;margin-top:4px;font-weight:bold'>合成演示数据 / "
                 "synthetic demo data: "
                 f"{html_text(', '.join(result.report['synthetic_inputs']))}</div>")  # fmt: skip
    legend = "".join(
        f"<div><span style='display:inline-block;width:10px;height:10px;background:{col}'>"
        f"</span> {html_text(v)}</div>"
        for v, col in _VERDICT_COLOUR.items()
    )
    cats = dict.fromkeys(c["category"]) if len(c) else {}
    key = "".join(
        f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{cat.colour}'></span> {html_text(cat.label)}</div>"
        for cat in (builtin_categories().get(k) or user_category(k) for k in cats)
    )
    if key:
        key = "<div style='margin-top:4px'><b>计入的设施 / facilities counted</b></div>" + key
    m.get_root().html.add_child(Raw(
        "<div id='hz-legend' style='position:fixed;bottom:24px;left:12px;z-index:9999;"
        "background:white;padding:8px 10px;border:1px solid #999;font:12px sans-serif'>"
        "<b>居住区审查 / District review</b>" + legend + key + badge + "</div>"))  # fmt: skip
    return m
