"""Interactive folium maps of coverage results (bilingual labels, synthetic-data badge)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np

from hzspatial.categories import Category, builtin_categories, user_category

if TYPE_CHECKING:
    from hzspatial.run import CoverageResult

__all__ = ["coverage_map", "BASEMAPS"]

#: Basemap name → (tile URL or folium name, attribution). ``none`` works offline.
BASEMAPS = {
    "none": None,
    "osm": ("OpenStreetMap", None),
}
_SIMPLIFY_M = 5.0


def _cat(cat: str) -> Category:
    return builtin_categories().get(cat) or user_category(cat)


def _simplified(gdf: gpd.GeoDataFrame, metres: float = _SIMPLIFY_M) -> gpd.GeoDataFrame:
    """Simplify for display (tolerance in metres, via the layer's UTM zone)."""
    if gdf.empty:
        return gdf
    utm = gdf.estimate_utm_crs()
    out = gdf.to_crs(utm)
    out["geometry"] = out.geometry.simplify(metres)
    return out.to_crs(4326)


def _fmt(v, unit: str = "", digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return f"{v:,.{digits}f}{unit}"


def coverage_map(result: CoverageResult, *, basemap: str = "none") -> folium.Map:
    """Build the coverage map: facilities, catchments and underserved areas per category,
    district boundaries, a bilingual title and legend, and a synthetic-data badge.

    Parameters
    ----------
    result : CoverageResult
    basemap : str
        ``none`` (default; no tiles, works offline) or ``osm``.
    """
    if basemap not in BASEMAPS:
        raise ValueError(f"unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}")
    minx, miny, maxx, maxy = result.demand.total_bounds
    tiles = BASEMAPS[basemap][0] if BASEMAPS[basemap] else None
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=tiles,
        control_scale=True,
        prefer_canvas=True,
    )
    m.fit_bounds([[miny, minx], [maxy, maxx]])

    bnd = result.boundaries.copy()
    bnd["population_text"] = [
        "population unknown / 人口未知" if p != p else f"{p:,.0f}" for p in bnd["population"]
    ]
    folium.GeoJson(
        _simplified(bnd[["district_id", "name", "population_text", "geometry"]], 20.0),
        name="区县边界 / District boundaries",
        style_function=lambda _: {"color": "#555", "weight": 2, "fill": False, "dashArray": "6 4"},
        tooltip=folium.GeoJsonTooltip(
            ["name", "district_id", "population_text"],
            aliases=["区县 / District", "代码 / Code", "2020人口 / Census population"],
        ),
    ).add_to(m)

    summary = result.summary
    first = True
    for cat, info in summary["categories"].items():
        c = _cat(cat)
        minutes = info["threshold_minutes"]
        catch = result.catchments[result.catchments["category"] == cat]
        fg = folium.FeatureGroup(
            name=f"{c.label} — {minutes:g}分钟步行范围 / {minutes:g}-min walk", show=first
        )
        folium.GeoJson(
            _simplified(catch[["facility_id", "name", "area_m2", "geometry"]]),
            style_function=lambda _, col=c.colour: {
                "color": col,
                "weight": 1,
                "fillColor": col,
                "fillOpacity": 0.12,
            },
            tooltip=folium.GeoJsonTooltip(
                ["name", "area_m2"], aliases=["设施 / Facility", "面积 / Area (m²)"]
            ),
        ).add_to(fg)
        fg.add_to(m)

        under = result.underserved[result.underserved["category"] == cat]
        if not under.empty:
            ug = folium.FeatureGroup(name=f"{c.label} — 服务不足 / underserved", show=first)
            folium.GeoJson(
                _simplified(under[["category", "district_id", "residents", "geometry"]]),
                style_function=lambda _: {
                    "color": "#b2182b",
                    "weight": 0.5,
                    "fillColor": "#ef3b2c",
                    "fillOpacity": 0.35,
                },
                tooltip=folium.GeoJsonTooltip(
                    ["residents", "district_id"],
                    aliases=["受影响居民 / Residents affected", "区县 / District"],
                ),
            ).add_to(ug)
            ug.add_to(m)

        fac = result.facilities[result.facilities["category"] == cat]
        mg = folium.FeatureGroup(name=f"{c.label} — 设施 / facilities ({len(fac)})")
        areas = dict(zip(catch["facility_id"], catch["area_m2"], strict=True))
        for row in fac.itertuples():
            popup = (
                f"<b>{html.escape(str(row.name))}</b><br>{html.escape(c.label)}<br>"
                f"用地 / land: {_fmt(row.area_m2, ' m²')}<br>"
                f"床位 / beds: {_fmt(row.beds)} · 托位 / places: {_fmt(row.places)}<br>"
                f"{minutes:g}分钟步行范围 / walk catchment: "
                f"{_fmt(areas.get(row.facility_id, np.nan) / 1e6, ' km²', 2)}"
                + ("" if row.snapped else "<br><i>未接入路网 / not on the network</i>")
            )
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=5,
                color="#222",
                weight=1,
                fill=True,
                fill_color=c.colour,
                fill_opacity=0.95,
                popup=folium.Popup(popup, max_width=320),
                tooltip=str(row.name),
            ).add_to(mg)
        mg.add_to(m)
        first = False

    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(folium.Element(_legend_html(result)))
    return m


def _legend_html(result: CoverageResult) -> str:
    s = result.summary
    rows = "".join(
        f"<tr><td><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{_cat(cat).colour}'></span> {html.escape(_cat(cat).label)}</td>"
        f"<td style='text-align:right'>{info['coverage_share'] * 100:.0f}%</td></tr>"
        for cat, info in s["categories"].items()
    )
    badge = ""
    if result.synthetic:
        badge = (
            "<div id='hz-synthetic-badge' style='background:#fff3cd;border:1px solid #e0a800;"
            "padding:3px 6px;margin-top:6px;font-weight:bold'>合成演示数据 / synthetic demo "
            "data — streets and facilities are generated, not surveyed</div>"
        )
    return (
        "<div id='hz-legend' style='position:fixed;bottom:24px;left:12px;z-index:9999;"
        "background:white;padding:8px 10px;border:1px solid #999;border-radius:4px;"
        "font:12px sans-serif;max-width:330px'>"
        f"<div style='font-weight:bold;font-size:14px'>15分钟生活圈设施覆盖 / "
        f"15-minute walking coverage</div>"
        f"<div>步行 {s['threshold_minutes']:g} 分钟 @ {s['speed_kmh']:g} km/h = "
        f"{s['threshold_m']:.0f} m 路网距离 / network distance</div>"
        f"<div>居民 / residents: {s['population']:,}</div>"
        f"<table style='width:100%;margin-top:4px'><tr><th style='text-align:left'>设施 / Facility"
        f"</th><th style='text-align:right'>覆盖 / Covered</th></tr>{rows}</table>"
        "<div style='margin-top:4px'><span style='display:inline-block;width:10px;height:10px;"
        "background:#ef3b2c;opacity:.6'></span> 服务不足 / underserved residents</div>"
        f"{badge}</div>"
    )
