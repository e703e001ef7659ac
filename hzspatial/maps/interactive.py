"""The interactive coverage map (folium): works offline and with Chinese basemaps."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.categories import Category, builtin_categories, user_category
from hzspatial.errors import InputError
from hzspatial.io.boundaries import LEVELS, level_label
from hzspatial.io.writers import html_text
from hzspatial.maps.assets import embed_leaflet, metric_scale

if TYPE_CHECKING:
    from hzspatial.run import CoverageResult

__all__ = ["coverage_map", "basemaps", "MET_COLOURS"]

#: Simplification tolerance (metres) for display geometries.
SIMPLIFY_M = 5.0
MET_COLOURS = {True: "#1a9850", False: "#d73027", None: "#bdbdbd"}


@cache
def basemaps() -> dict[str, dict]:
    """Basemap catalogue from ``config/basemaps.toml``."""
    text = resources.files("hzspatial.config").joinpath("basemaps.toml").read_text("utf-8")
    return tomllib.loads(text)


def _cat(cat: str) -> Category:
    return builtin_categories().get(cat) or user_category(cat)


def _fmt(v, unit: str = "", digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return f"{v:,.{digits}f}{unit}"


def safe_properties(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy whose text attributes (names, ids …) are escaped with :func:`html_text`."""
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and (
            out[col].dtype == object or pd.api.types.is_string_dtype(out[col])
        ):
            out[col] = (
                out[col].astype(object).map(lambda v: html_text(v) if isinstance(v, str) else v)
            )
    return out


class _Display:
    """Prepares WGS84 layers for display: simplified, and shifted to GCJ-02 for Amap tiles."""

    def __init__(self, datum: str):
        self.gcj = datum == "gcj02"

    def gdf(self, gdf: gpd.GeoDataFrame, metres: float = SIMPLIFY_M) -> gpd.GeoDataFrame:
        """Simplified, shifted when needed, and every text property made safe for the map's
        HTML and scripts (:func:`hzspatial.io.writers.html_text`)."""
        if gdf.empty:
            return gdf
        utm = gdf.estimate_utm_crs()
        out = safe_properties(gdf).to_crs(utm)
        out["geometry"] = out.geometry.simplify(metres)
        out = out.to_crs(4326)
        if self.gcj:
            out["geometry"] = _crs.geometries_from_wgs84(out.geometry.to_numpy(), "gcj02")
        return out

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _crs.wgs84_to_gcj02(lon, lat) if self.gcj else (np.asarray(lon), np.asarray(lat))


def coverage_map(
    result: CoverageResult, *, basemap: str = "none", tianditu_key: str | None = None
) -> folium.Map:
    """Build the coverage map.

    Layers: district boundaries; a district choropleth per standard (met / not met, value
    vs target); per facility category its walking catchments, its underserved areas shaded
    by residents affected, and its facilities (popups: name, capacity, land area, catchment).
    Layer control, scale bar, bilingual title and legend, and a "synthetic demo data" badge
    when inputs are so labelled. Leaflet is embedded: the HTML renders with no network.

    Parameters
    ----------
    result : CoverageResult
    basemap : str
        ``none`` (default, offline), ``osm``, ``tianditu`` (needs ``tianditu_key``), ``amap`` /
        ``gaode`` (GCJ-02 tiles: every overlay is shifted WGS84 → GCJ-02 to line up).
    tianditu_key : str, optional
        Tianditu API key (the CLI reads ``$TIANDITU_KEY``).
    """
    cat_bm = basemaps()
    if basemap not in cat_bm:
        raise InputError(
            f"unknown basemap {basemap!r}",
            column="--basemap",
            hint=f"use one of {', '.join(cat_bm)}",
        )
    bm = cat_bm[basemap]
    if bm.get("needs_key") and not tianditu_key:
        raise InputError(
            f"basemap {basemap!r} needs an API key",
            column="--basemap",
            hint="set the TIANDITU_KEY environment variable",
        )
    show = _Display(bm["crs"])
    minx, miny, maxx, maxy = result.demand.total_bounds
    (x0, x1), (y0, y1) = show.xy(np.array([minx, maxx]), np.array([miny, maxy]))
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, control_scale=False,
                   prefer_canvas=True, zoom_start=13)  # fmt: skip
    embed_leaflet(m)
    metric_scale(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    for key in ("url", "labels_url"):
        if key in bm:
            folium.TileLayer(
                tiles=bm[key].replace("{key}", tianditu_key or ""), attr=bm["attribution"],
                name=bm["label"] if key == "url" else f"{bm['label']} labels",
                subdomains=bm.get("subdomains", "abc"), max_zoom=18, overlay=key != "url",
                control=False,
            ).add_to(m)  # fmt: skip

    bnd = result.boundaries.copy()
    level = bnd.attrs.get("level", "district")
    bnd["population_text"] = [
        "人口未知 / population unknown" if p != p else f"{p:,.0f}" for p in bnd["population"]
    ]
    folium.GeoJson(
        show.gdf(bnd[["district_id", "name", "population_text", "geometry"]], 20.0),
        name=f"{level_label(level)} 边界 / boundaries",
        style_function=lambda _: {"color": "#555", "weight": 2, "fill": False, "dashArray": "6 4"},
        tooltip=folium.GeoJsonTooltip(
            ["name", "district_id", "population_text"],
            aliases=[
                f"{LEVELS[level][0]} / {LEVELS[level][1]}",
                "代码 / Code",
                "人口 / Population",
            ],
        ),
    ).add_to(m)
    _standards_layers(m, result, show)
    _category_layers(m, result, show)
    _area_share_layers(m, result, show)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(folium.Element(_legend_html(result, bm)))
    m.get_root().header.add_child(folium.Element(
        "<style>.leaflet-control-layers-expanded{font-size:11px;max-height:55vh;"
        "overflow-y:auto}</style>"))  # fmt: skip
    return m


def _standards_layers(m: folium.Map, result: CoverageResult, show: _Display) -> None:
    r = result.ratios
    if r.empty:
        return
    per_d = r[r["district_id"] != "study area"]
    # districts are clipped to the analysed area (+1 km) so a county does not fill the map
    x0, y0, x1, y1 = result.demand.total_bounds
    area = shapely.box(x0 - 0.01, y0 - 0.01, x1 + 0.01, y1 + 0.01)
    for _, rows in per_d.groupby("standard", sort=False):
        std = rows.iloc[0]
        b = result.boundaries.merge(rows[["district_id", "value", "target", "unit", "met", "gap"]],
                                    on="district_id")  # fmt: skip
        if b.empty:
            continue
        b["geometry"] = shapely.intersection(b.geometry.to_numpy(), area)
        b["met_text"] = [
            {True: "达标 / met", False: "未达标 / not met"}.get(x, "未知 / unknown")
            for x in b["met"]
        ]
        b["value_text"] = [f"{_fmt(v, '', 3)} vs {t:g} {u}" for v, t, u in
                           zip(b["value"], b["target"], b["unit"], strict=True)]  # fmt: skip
        b["gap_text"] = [_fmt(g, "", 1) for g in b["gap"]]
        b["met_key"] = [None if x is None or x != x else bool(x) for x in b["met"]]
        unverified = "" if std["verified"] else " (未核实 / unverified)"
        folium.GeoJson(
            show.gdf(b[["name", "met_text", "value_text", "gap_text", "met_key", "geometry"]], 20),
            name=html_text(f"标准 / Standard: {std['label']}{unverified}"),
            show=False,
            style_function=lambda f: {
                "color": "#333",
                "weight": 1,
                "fillOpacity": 0.35,
                "fillColor": MET_COLOURS[f["properties"]["met_key"]],
            },  # fmt: skip
            tooltip=folium.GeoJsonTooltip(
                ["name", "met_text", "value_text", "gap_text"],
                aliases=[
                    "区县 / District",
                    "结果 / Result",
                    "数值 / Value vs target",
                    "缺口 / Gap",
                ],
            ),  # fmt: skip
        ).add_to(m)


def _area_share_layers(m: folium.Map, result: CoverageResult, show: _Display) -> None:
    """Per category, residents polygons (communities) shaded by their share covered — drawn
    when polygons were spread over their streets, so a share between 0 and 1 means something."""
    if result.residents is None or not (result.demand["placed"] == "street").any():
        return
    spread = result.demand.loc[result.demand["placed"] == "street", "area_id"].unique()
    polys = result.residents[result.residents["demand_id"].isin(spread)]
    table = result.by_area.set_index("area_id").loc[polys["demand_id"]]
    scale = cm.LinearColormap(["#d73027", "#fee08b", "#1a9850"], vmin=0.0, vmax=1.0)
    for cat, info in result.summary["categories"].items():
        c = _cat(cat)
        gdf = polys[["name", "geometry"]].copy()
        gdf["residents"] = table["residents_analysed"].round(0).to_numpy()
        share = table[f"{cat}_share"].to_numpy(dtype=float)
        gdf["share"] = np.where(np.isnan(share), None, share).astype(object)
        gdf["share_text"] = [("—" if v != v else f"{v * 100:.1f}%") for v in share]
        fg = folium.FeatureGroup(name=html_text(f"{c.label} — 片区覆盖率 / share covered per area"),
                                 show=False)  # fmt: skip
        folium.GeoJson(
            show.gdf(gdf[["name", "residents", "share", "share_text", "geometry"]]),
            style_function=lambda f: {
                "color": "#555",
                "weight": 0.8,
                "fillOpacity": 0.45,
                "fillColor": "#999999"
                if f["properties"]["share"] is None
                else scale(f["properties"]["share"]),
            },  # fmt: skip
            tooltip=folium.GeoJsonTooltip(
                ["name", "residents", "share_text"],
                aliases=[
                    "片区 / Area",
                    "居民 / Residents",
                    f"{info['threshold_m']:.0f} m 内 / within",
                ],
            ),  # fmt: skip
        ).add_to(fg)
        fg.add_to(m)


def _category_layers(m: folium.Map, result: CoverageResult, show: _Display) -> None:
    first = True
    under_all = result.underserved
    scale = cm.LinearColormap(["#fee0d2", "#de2d26"],
                              vmin=0, vmax=max(float(under_all["residents"].max()), 1.0)
                              if len(under_all) else 1.0)  # fmt: skip
    for cat, info in result.summary["categories"].items():
        c = _cat(cat)
        minutes = info["threshold_minutes"]
        catch = result.catchments[result.catchments["category"] == cat]
        fg = folium.FeatureGroup(
            name=html_text(f"{c.label} — {minutes:g}分钟步行范围 / {minutes:g}-min walk"),
            show=first,
        )
        folium.GeoJson(
            show.gdf(catch[["facility_id", "name", "area_m2", "geometry"]]),
            style_function=lambda _, col=c.colour: {
                "color": col,
                "weight": 1,
                "fillColor": col,
                "fillOpacity": 0.12,
            },  # fmt: skip
            tooltip=folium.GeoJsonTooltip(
                ["name", "area_m2"], aliases=["设施 / Facility", "面积 / Area (m²)"]
            ),
        ).add_to(fg)
        fg.add_to(m)

        under = under_all[under_all["category"] == cat]
        if not under.empty:
            ug = folium.FeatureGroup(name=html_text(f"{c.label} — 服务不足 / underserved"),
                                     show=first)  # fmt: skip
            folium.GeoJson(
                show.gdf(under[["category", "district_id", "residents", "geometry"]]),
                style_function=lambda f: {
                    "color": "#a50f15",
                    "weight": 0.5,
                    "fillOpacity": 0.55,
                    "fillColor": scale(f["properties"]["residents"]),
                },  # fmt: skip
                tooltip=folium.GeoJsonTooltip(
                    ["residents", "district_id"],
                    aliases=["受影响居民 / Residents affected", "区县 / District"],
                ),
            ).add_to(ug)
            ug.add_to(m)

        fac = result.facilities[result.facilities["category"] == cat]
        mg = folium.FeatureGroup(name=html_text(f"{c.label} — 设施 / facilities ({len(fac)})"))
        areas = dict(zip(catch["facility_id"], catch["area_m2"], strict=True))
        lon, lat = show.xy(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
        for row, x, y in zip(fac.itertuples(), lon, lat, strict=True):
            popup = (
                f"<b>{html_text(str(row.name))}</b><br>{html_text(c.label)}<br>"
                f"用地 / land: {_fmt(row.area_m2, ' m²')}<br>"
                f"床位 / beds: {_fmt(row.beds)} · 托位 / places: {_fmt(row.places)}<br>"
                f"{minutes:g}分钟步行范围 / walk catchment: "
                f"{_fmt(areas.get(row.facility_id, np.nan) / 1e6, ' km²', 2)}"
                + ("" if row.snapped else "<br><i>未接入路网 / not on the network</i>")
            )
            folium.CircleMarker(
                [y, x], radius=5, color="#222", weight=1, fill=True, fill_color=c.colour,
                fill_opacity=0.95, popup=folium.Popup(popup, max_width=320),
                tooltip=html_text(row.name),
            ).add_to(mg)  # fmt: skip
        mg.add_to(m)
        first = False


def _legend_html(result: CoverageResult, bm: dict) -> str:
    s = result.summary
    rows = "".join(
        f"<tr><td><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{_cat(cat).colour}'></span> {html_text(_cat(cat).label)}</td>"
        f"<td style='text-align:right'>{info['threshold_m']:.0f} m</td>"
        f"<td style='text-align:right'>{info['coverage_share'] * 100:.0f}%</td></tr>"
        for cat, info in s["categories"].items()
    )
    badge = ""
    if result.synthetic:
        badge = (
            "<div id='hz-synthetic-badge' style='background:#fff3cd;border:1px solid #e0a800;"
            "padding:3px 6px;margin-top:6px;font-weight:bold'>合成演示数据 / synthetic demo data"
            f": {html_text(result.synthetic_note)} — generated, not surveyed</div>"
        )
    shift = ("<div>叠加图层已转换为GCJ-02 / overlays shifted to GCJ-02</div>"
             if bm["crs"] == "gcj02" else "")  # fmt: skip
    return (
        "<div id='hz-legend' style='position:fixed;bottom:24px;left:12px;z-index:9999;"
        "background:white;padding:8px 10px;border:1px solid #999;border-radius:4px;"
        "font:12px sans-serif;max-width:340px'>"
        "<div style='font-weight:bold;font-size:14px'>15分钟生活圈设施覆盖 / "
        "15-minute walking coverage</div>"
        f"<div>步行 {s['threshold_minutes']:g} 分钟 @ {s['speed_kmh']:g} km/h = "
        f"{s['threshold_m']:.0f} m 路网距离 / network distance</div>"
        f"<div>居民 / residents: {s['population']:,}</div>"
        "<table style='width:100%;margin-top:4px'><tr><th style='text-align:left'>设施 / Facility"
        "</th><th style='text-align:right'>步行 / walk</th>"
        f"<th style='text-align:right'>覆盖 / Covered</th></tr>{rows}</table>"
        "<div style='margin-top:4px'><span style='display:inline-block;width:10px;height:10px;"
        "background:#de2d26;opacity:.7'></span> 服务不足 (颜色越深居民越多) / underserved "
        "(darker = more residents)</div>"
        f"<div><span style='display:inline-block;width:10px;height:10px;background:"
        f"{MET_COLOURS[True]}'></span> 达标 / met &nbsp; <span style='display:inline-block;"
        f"width:10px;height:10px;background:{MET_COLOURS[False]}'></span> 未达标 / not met</div>"
        f"<div>底图 / basemap: {html_text(bm['label'])}</div>{shift}{badge}</div>"
    )
