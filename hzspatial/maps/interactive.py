"""The interactive coverage map (folium): works offline and with Chinese basemaps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template

from hzspatial import crs as _crs
from hzspatial.categories import Category, builtin_categories, user_category
from hzspatial.io.boundaries import LEVELS, level_label
from hzspatial.io.writers import html_text
from hzspatial.labels import (
    distance_phrase,
    fmt_number,
    fmt_target,
    gap_text,
    reach_words,
    within_words,
)
from hzspatial.maps.assets import Raw, embed_leaflet, metric_scale
from hzspatial.maps.basemaps import basemap_spec, basemaps
from hzspatial.maps.layers import GeoJsonOverlay, ScriptMacro, grouped_layer_control, script_json
from hzspatial.maps.style import BELOW_STANDARD, NO_FACILITY_RAMP, STREET_GREY, tint

if TYPE_CHECKING:
    from hzspatial.results import CoverageResult

__all__ = ["coverage_map", "basemaps", "MET_COLOURS"]

#: Simplification tolerance (metres) for displayed catchments and areas.
SIMPLIFY_M = 10.0
#: Underserved areas (dissolved street blocks) are drawn simplified to this (metres).
UNDERSERVED_SIMPLIFY_M = 15.0
#: Holes smaller than this (m², a few street blocks) are filled in displayed catchments.
FILL_HOLES_M2 = 40_000.0
#: Metres in a degree of latitude (display simplification in degrees).
M_PER_DEGREE = 110_574.0
MET_COLOURS = {True: "#1a9850", False: "#d73027", None: "#bdbdbd"}
#: Share of an area's residents covered: red (none) → yellow → green (all).
SHARE_RAMP = ["#d73027", "#fee08b", "#1a9850"]
#: No facility in reach: dark red outline, fill from the ramp by persons served per km².
FAR_STYLE = {"color": "#67000d", "weight": 0.4, "fillOpacity": 0.6}
#: In reach, below a per-capita standard: dashed dark red outline, faint fill.
SHORT_STYLE = {"color": BELOW_STANDARD, "weight": 1.5, "dashArray": "4 3",
               "fillColor": BELOW_STANDARD, "fillOpacity": 0.12}  # fmt: skip


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
    """Prepares WGS84 layers for display: simplified, small holes filled, coordinates rounded
    to about 1 m, and shifted to GCJ-02 for Amap tiles. Display only: figures are unchanged."""

    def __init__(self, datum: str, crs=None):
        self.gcj = datum == "gcj02"
        self.crs = crs

    def gdf(self, gdf: gpd.GeoDataFrame, metres: float = SIMPLIFY_M,
            fill_holes_m2: float = 0.0) -> gpd.GeoDataFrame:  # fmt: skip
        """Simplified, shifted when needed, and every text property made safe for the map's
        HTML and scripts (:func:`hzspatial.io.writers.html_text`)."""
        if gdf.empty:
            return gdf
        out = safe_properties(gdf).to_crs(4326)
        # simplified in degrees, without keeping topology (display only): a tolerance of
        # `metres` along a meridian is at most `metres` in any direction, a degree of
        # longitude being shorter; hole areas are compared at the layer's mean latitude
        geoms = shapely.simplify(out.geometry.to_numpy(), metres / M_PER_DEGREE,
                                 preserve_topology=False)  # fmt: skip
        if fill_holes_m2 > 0:
            lat = np.radians(out.total_bounds[1::2].mean())
            geoms = _fill_holes(geoms, fill_holes_m2 / (M_PER_DEGREE**2 * np.cos(lat)))
        if self.gcj:
            geoms = _crs.geometries_from_wgs84(geoms, "gcj02")
        out["geometry"] = shapely.transform(geoms, lambda c: np.round(c, 5))
        return out[~out.geometry.is_empty]

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _crs.wgs84_to_gcj02(lon, lat) if self.gcj else (np.asarray(lon), np.asarray(lat))


def _fill_holes(geoms: np.ndarray, max_area: float) -> np.ndarray:
    """Polygons with interior rings smaller than ``max_area`` (in the geometries' units
    squared) removed — street blocks inside a catchment, for display."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    poly = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (3, 6))
                          & ~shapely.is_empty(geoms))  # fmt: skip
    if len(poly) == 0:
        return out
    parts, owner = shapely.get_parts(geoms[poly], return_index=True)
    rings, part = shapely.get_rings(parts, return_index=True)  # per part: exterior, holes
    shell = np.r_[True, part[1:] != part[:-1]]
    keep = shell | (shapely.area(shapely.polygons(rings)) >= max_area)
    filled = shapely.polygons(rings[keep], indices=part[keep])
    out[poly] = shapely.multipolygons(filled, indices=owner)
    one = poly[shapely.get_num_geometries(out[poly]) == 1]
    out[one] = shapely.get_geometry(out[one], 0)
    return out


#: The layer list's first group: the areas' boundaries and the standards' choropleths (each
#: category's layers are grouped under its own label).
AREAS_GROUP = "区域与标准 / Areas and standards"


def coverage_map(
    result: CoverageResult, *, basemap: str = "none", tianditu_key: str | None = None
) -> folium.Map:
    """Build the coverage map.

    Layers, listed in a collapsed layer control: boundaries; without a basemap, the walking
    network in faint grey; per standard a choropleth of the areas (met / not met; tooltip:
    value, target, gap in the standard's unit); per category its walking catchments (its own
    colour), the residents with no facility in reach (reds, shaded by the persons the category
    serves per km², each category on its own scale), those
    in reach of a catchment below a per-capita standard (dashed dark red) and its facilities
    (popups: name, capacity, residents in reach and served, supply per 1,000 in reach = the
    2SFCA ratio). A panel carries the bilingual key, a zoom-to-area selector and the
    synthetic-data badge; the scale is metric. Leaflet is embedded: the HTML renders with no
    network. Display geometry is simplified (≈5 m, block holes in catchments filled,
    coordinates to ≈1 m); the figures are not.

    Parameters
    ----------
    result : CoverageResult
    basemap : str
        ``none`` (default, offline), ``osm``, ``tianditu`` (needs ``tianditu_key``), ``amap`` /
        ``gaode`` (GCJ-02 tiles: every overlay is shifted WGS84 → GCJ-02 to line up).
    tianditu_key : str, optional
        Tianditu API key (the CLI reads ``$TIANDITU_KEY``).
    """
    bm = basemap_spec(basemap, tianditu_key)
    utm = result.streets.crs if result.streets is not None else result.demand.estimate_utm_crs()
    show = _Display(bm["crs"], utm)
    minx, miny, maxx, maxy = result.demand.total_bounds
    (x0, x1), (y0, y1) = show.xy(np.array([minx, maxx]), np.array([miny, maxy]))
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, control_scale=False,
                   prefer_canvas=True, zoom_start=13, zoom_snap=0.25, zoom_delta=0.5)  # fmt: skip
    embed_leaflet(m)
    metric_scale(m)
    # fitted once loaded, beside the key (see _legend_html): a first fit here would still be
    # animating its zoom then, and its end would undo the second
    for key in ("url", "labels_url"):
        if key in bm:
            folium.TileLayer(
                tiles=bm[key].replace("{key}", tianditu_key or ""), attr=bm["attribution"],
                name=bm["label"] if key == "url" else f"{bm['label']} labels",
                subdomains=bm.get("subdomains", "abc"), max_zoom=18, overlay=key != "url",
                control=False,
            ).add_to(m)  # fmt: skip
    if "url" not in bm and result.streets is not None:
        _streets_layer(m, result, show)

    level = result.boundaries.attrs.get("level", "district")
    bnd = _districts_shown(result, show)
    bnd["population_text"] = [
        "人口未知 / population unknown" if p != p else f"{p:,.0f}" for p in bnd["population"]
    ]
    fg = folium.FeatureGroup(name=f"{level_label(level)} 边界 / boundaries")
    fg.hz_group = AREAS_GROUP
    GeoJsonOverlay(
        safe_properties(bnd[["district_id", "name", "population_text", "geometry"]]),
        style={"color": "#333", "weight": 2, "fill": False, "dashArray": "6 4"},
        tooltip=[("name", f"{LEVELS[level][0]} / {LEVELS[level][1]}"),
                 ("district_id", "代码 / Code"), ("population_text", "人口 / Population")],
    ).add_to(fg)  # fmt: skip
    fg.add_to(m)
    _area_labels(m, bnd, level)
    _standards_layers(m, result, bnd)
    _category_layers(m, result, show)
    _area_share_layers(m, result, show)
    grouped_layer_control(m)
    home = [[float(y0), float(x0)], [float(y1), float(x1)]]
    m.get_root().html.add_child(Raw(_legend_html(result, bm, show, m.get_name(), home)))
    m.get_root().header.add_child(Raw(
        "<style>.leaflet-control-layers-expanded{font-size:11px;max-height:70vh;"
        "overflow-y:auto} table.hz-tip th{text-align:left;padding:1px 8px 1px 0}"
        ".hz-label{background:rgba(255,255,255,.7);border:0;box-shadow:none;padding:0 3px;"
        "font:11px sans-serif;color:#222} .hz-label:before{display:none}"
        "</style>"))  # fmt: skip
    return m


def _streets_layer(m: folium.Map, result: CoverageResult, show: _Display) -> None:
    """The walking network as one faint grey polyline layer (no basemap: streets to read by),
    shipped as integer steps of 1e-5° (≈1 m) decoded in the page — a third of GeoJSON's size:
    ``d`` holds every line's steps one after another and ``n`` each line's number of points."""
    from jinja2 import Template

    lines = shapely.line_merge(shapely.multilinestrings(result.streets.to_numpy()))
    gdf = show.gdf(gpd.GeoDataFrame(geometry=[lines], crs=result.streets.crs), 3.0)
    parts = shapely.get_parts(gdf.geometry.to_numpy())
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    q = np.round(coords * 1e5).astype(np.int64)
    origin = q.min(axis=0)
    q -= origin
    step = np.diff(q, axis=0, prepend=q[:1])
    first = np.r_[True, idx[1:] != idx[:-1]]
    step[first] = q[first]
    fg = folium.FeatureGroup(name="步行路网 / walking network", show=True)
    fg.hz_group = AREAS_GROUP
    el = ScriptMacro()
    el.origin = f"[{int(origin[0])}, {int(origin[1])}]"
    el.steps = "[" + ",".join(map(str, step.ravel().tolist())) + "]"
    el.counts = (
        "[" + ",".join(map(str, np.diff(np.r_[np.flatnonzero(first), len(q)]).tolist())) + "]"
    )
    el._template = Template(
        "{% macro script(this, kwargs) %}(function () {"
        "var o = {{ this.origin }}, d = {{ this.steps }}, n = {{ this.counts }}, out = [];"
        " var k = 0; n.forEach(function (c) { var x = 0, y = 0, pts = [];"
        " for (var i = 0; i < c; i++, k += 2) { x += d[k]; y += d[k + 1];"
        " pts.push([(o[1] + y) / 1e5, (o[0] + x) / 1e5]); } out.push(pts); });"
        f"L.polyline(out, {{color: '{STREET_GREY}', weight: 1, opacity: 0.8, interactive: false}})"
        ".addTo({{ this._parent.get_name() }}); })();{% endmacro %}"
    )  # fmt: skip
    fg.add_child(el)
    fg.add_to(m)


def _districts_shown(result: CoverageResult, show: _Display) -> gpd.GeoDataFrame:
    """The boundaries as displayed, once for every layer drawn on them: clipped to the
    analysed area (+1 km, so a county does not fill the map) and prepared by ``show``; the
    attributes as they are (not yet escaped)."""
    x0, y0, x1, y1 = result.demand.total_bounds
    bnd = result.boundaries.reset_index(drop=True)
    clipped = gpd.GeoDataFrame(
        {"row": np.arange(len(bnd))},
        geometry=shapely.intersection(bnd.geometry.to_numpy(),
                                      shapely.box(x0 - 0.01, y0 - 0.01, x1 + 0.01, y1 + 0.01)),
        crs=bnd.crs,
    )  # fmt: skip
    shown = show.gdf(clipped, 20.0)
    out = bnd.iloc[shown["row"].to_numpy()].copy()
    out["geometry"] = shown.geometry.to_numpy()
    return out


def _standards_layers(m: folium.Map, result: CoverageResult, bnd: gpd.GeoDataFrame) -> None:
    """Per standard, the districts (``bnd``: :func:`_districts_shown`) coloured met / not met,
    with the value, target and gap in the tooltip."""
    r = result.ratios
    if r.empty:
        return
    per_d = r[r["district_id"] != "study area"]
    for _, rows in per_d.groupby("standard", sort=False):
        std = rows.iloc[0]
        b = bnd.merge(rows[["district_id", "value", "target", "unit", "met", "gap"]],
                      on="district_id")  # fmt: skip
        if b.empty:
            continue
        b["met_text"] = [
            {True: "达标 / met", False: "未达标 / not met"}.get(x, "未知 / unknown")
            for x in b["met"]
        ]
        std_obj = next((x for x in result.standards if x.id == std["standard"]), None)
        b["gap_text"] = [
            (
                "—"
                if g != g or m is not False
                else " / ".join(dict.fromkeys(gap_text(std_obj, g)))
                if std_obj is not None
                else _fmt(g, "", 1)
            )
            for g, m in zip(b["gap"], b["met"], strict=True)
        ]
        b["value_text"] = [f"{fmt_number(v)} {u}" for v, u in
                           zip(b["value"], b["unit"], strict=True)]  # fmt: skip
        b["target_text"] = [f"{fmt_target(t)} {u}" for t, u in
                            zip(b["target"], b["unit"], strict=True)]  # fmt: skip
        b["met_key"] = [None if x is None or x != x else bool(x) for x in b["met"]]
        unverified = "" if std["verified"] else " (未核实 / unverified)"
        fg = folium.FeatureGroup(name=html_text(f"标准 / Standard: {std['label']}{unverified}"),
                                 show=False)  # fmt: skip
        fg.hz_group = AREAS_GROUP
        GeoJsonOverlay(
            safe_properties(b[["name", "met_text", "value_text", "target_text", "gap_text",
                               "met_key", "geometry"]]),
            style={"color": "#333", "weight": 1, "fillOpacity": 0.35},
            fill_by="met_key",
            colours={"true": MET_COLOURS[True], "false": MET_COLOURS[False],
                     "null": MET_COLOURS[None]},
            tooltip=[("name", "区域 / Area"), ("met_text", "结果 / Result"),
                     ("value_text", "现状 / Value"), ("target_text", "目标 / Target"),
                     ("gap_text", "缺口 / Gap")],
        ).add_to(fg)  # fmt: skip
        fg.add_to(m)


#: Most residents polygons drawn as a share-covered layer per category.
AREA_LAYER_MAX = 2000


#: A below-standard layer covering more than this share of where the residents are starts
#: hidden: in a dense centre it would hatch nearly the whole map on open.
BELOW_STANDARD_SHOWN_MAX = 0.5


def _covers_most(under: gpd.GeoDataFrame, result: CoverageResult) -> bool:
    """Whether the areas cover more than :data:`BELOW_STANDARD_SHOWN_MAX` of the residents'
    extent (the convex hull of the demand points), measured in metres."""
    pts = result.demand.geometry
    if len(pts) < 3:
        return False
    utm = result.streets.crs if result.streets is not None else None
    if utm is None:
        return False
    hull = shapely.convex_hull(shapely.union_all(pts.to_crs(utm).to_numpy()))
    area = shapely.area(shapely.union_all(under.to_crs(utm).geometry.to_numpy()))
    return bool(shapely.area(hull) > 0 and area / shapely.area(hull) > BELOW_STANDARD_SHOWN_MAX)


def _area_share_layers(m: folium.Map, result: CoverageResult, show: _Display) -> None:
    """Per category, residents polygons (communities) shaded by their share covered — drawn
    when polygons were spread (over streets, area or buildings), so a share between 0 and 1
    means something, and there are few enough of them (:data:`AREA_LAYER_MAX`) to be areas a
    planner reads one by one (communities, not thousands of blocks)."""
    spread_kinds = ("street", "area", "building")
    if result.residents is None or not result.demand["placed"].isin(spread_kinds).any():
        return
    spread = result.demand.loc[result.demand["placed"].isin(spread_kinds), "area_id"].unique()
    if len(spread) > AREA_LAYER_MAX:
        return
    polys = result.residents[result.residents["demand_id"].isin(spread)]
    table = result.by_area.set_index("area_id").loc[polys["demand_id"]]
    for cat, info in result.summary["categories"].items():
        c = _cat(cat)
        gdf = polys[["name", "geometry"]].copy()
        gdf["residents"] = table["residents_analysed"].round(0).to_numpy()
        share = table[f"{cat}_share"].to_numpy(dtype=float)
        gdf["share"] = np.where(np.isnan(share), None, share).astype(object)
        gdf["share_text"] = [("—" if v != v else f"{v * 100:.1f}%") for v in share]
        fg = folium.FeatureGroup(name=html_text(f"{c.label} — 片区覆盖率 / share covered per area"),
                                 show=False)  # fmt: skip
        fg.hz_group = c.label
        GeoJsonOverlay(
            show.gdf(gdf[["name", "residents", "share", "share_text", "geometry"]]),
            style={"color": "#555", "weight": 0.8, "fillOpacity": 0.45},
            fill_by="share",
            ramp=(SHARE_RAMP, 0.0, 1.0, "#999999"),
            tooltip=[("name", "片区 / Area"), ("residents", "居民 / Residents"),
                     ("share_text", " / ".join(within_words(info)))],
        ).add_to(fg)  # fmt: skip
        fg.add_to(m)


def _category_layers(m: folium.Map, result: CoverageResult, show: _Display) -> None:
    under_all = result.underserved.copy()
    if len(under_all):
        area_km2 = under_all.to_crs(show.crs or under_all.estimate_utm_crs()).area / 1e6
        under_all["density"] = under_all["residents"] / np.maximum(area_km2, 1e-6)
    first = True
    for cat, info in result.summary["categories"].items():
        c = _cat(cat)
        wz, we = within_words(info)
        # shaded by the persons the category serves per km², on the category's own scale (the
        # elderly are a quarter of the residents, children of 3–6 a few in a hundred)
        group = info.get("serves", {}).get("label", "居民 / residents")
        far_cat = (under_all[(under_all["category"] == cat) & (under_all["kind"] == "no_facility")]
                   if len(under_all) else under_all)  # fmt: skip
        top = float(far_cat["density"].quantile(0.95)) if len(far_cat) else 1.0
        far_ramp = (list(NO_FACILITY_RAMP), 0.0, max(top, 1.0), NO_FACILITY_RAMP[0])
        catch = result.catchments[result.catchments["category"] == cat]
        reach_zh, reach_en = reach_words(info)
        fg = folium.FeatureGroup(
            name=html_text(f"{c.label} — {reach_zh}范围 / {reach_en}"),
            show=first,
        )
        fg.hz_group = c.label
        GeoJsonOverlay(
            show.gdf(catch[["name", "geometry"]].assign(area_m2=catch["area_m2"].round()),
                     fill_holes_m2=FILL_HOLES_M2),
            style={"color": c.colour, "weight": 1, "fillColor": c.colour, "fillOpacity": 0.18},
            tooltip=[("name", "设施 / Facility"), ("area_m2", "用地 / Land (m²)")],
        ).add_to(fg)  # fmt: skip
        fg.add_to(m)

        for kind, name in (
            ("no_facility", f"{wz}无设施 / no facility {we}"),
            ("below_standard", "可达但低于人均标准 / in reach, below standard"),
        ):
            under = under_all[(under_all["category"] == cat) & (under_all["kind"] == kind)] \
                if len(under_all) else under_all  # fmt: skip
            if under.empty:
                continue
            ug = folium.FeatureGroup(name=html_text(f"{c.label} — {name}"),
                                     show=first and (kind == "no_facility"
                                                     or not _covers_most(under, result)))
            ug.hz_group = c.label
            gdf = under[["category", "district_id", "residents", "density", "geometry"]].copy()
            gdf["residents_text"] = [f"{v:,.0f}" for v in gdf["residents"]]
            gdf["density"] = gdf["density"].round(0)
            gdf["density_text"] = [f"{v:,.0f}" for v in gdf["density"]]
            far = kind == "no_facility"
            GeoJsonOverlay(
                show.gdf(gdf[["category", "district_id", "residents_text", "density_text",
                              "density", "geometry"]], UNDERSERVED_SIMPLIFY_M, 10_000.0),
                style=FAR_STYLE if far else SHORT_STYLE,
                fill_by="density" if far else None,
                ramp=far_ramp if far else None,
                tooltip=[("residents_text", f"{name} — {group}"),
                         ("density_text", f"{group} 每平方公里 / per km²"),
                         ("district_id", "区域 / Area")],
            ).add_to(ug)  # fmt: skip
            ug.add_to(m)

        _facility_layer(m, result, cat, c, wz, show)
        first = False


def _facility_layer(m: folium.Map, result: CoverageResult, cat: str, c, within: str,
                    show: _Display) -> None:  # fmt: skip
    """A category's facilities as circle markers; popups: land, capacity, residents in reach
    and served, the 2SFCA supply per 1,000 in reach."""
    fac = result.facilities[result.facilities["category"] == cat]
    mg = folium.FeatureGroup(name=html_text(f"{c.label} — 设施 / facilities ({len(fac)})"))
    mg.hz_group = c.label
    lon, lat = show.xy(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    cap = c.capacity if c.capacity in fac.columns else None
    points = []
    for row, x, y in zip(fac.to_dict("records"), lon, lat, strict=True):
        reach = row.get("residents_in_reach", np.nan)
        supply = row.get(cap) if cap else None
        ratio = (supply / reach * 1000 if supply is not None and supply == supply
                 and reach and reach > 0 else None)  # fmt: skip
        popup = (
            f"<b>{html_text(str(row['name']))}</b><br>{html_text(c.label)}<br>"
            f"用地 / land: {_fmt(row['area_m2'], ' m²')}<br>"
            + (f"{_CAP_ZH.get(cap, cap)} / {cap}: {_fmt(supply)}<br>" if cap else "")
            + f"{within}居民 / residents in reach: {_fmt(reach)}<br>"
            f"最近设施为本设施的居民 / residents served (nearest): "
            f"{_fmt(row.get('residents_served'))}<br>"
            + (f"每千名可达居民{_CAP_ZH.get(cap, cap)} / {cap} per 1,000 in reach (2SFCA): "
               f"{_fmt(ratio, '', 2)}" if cap else "")
            + ("" if row["snapped"] else "<br><i>未接入路网 / not on the network</i>")
        )  # fmt: skip
        points.append([round(float(y), 6), round(float(x), 6), popup,
                       html_text(str(row["name"]))])  # fmt: skip
    mg.add_child(_Markers(points, c.colour))
    mg.add_to(m)


class _Markers(ScriptMacro):
    """A category's facilities as circle markers built in the page from one JSON array
    ``[lat, lon, popup HTML, tooltip]`` — the texts already escaped with
    :func:`~hzspatial.io.writers.html_text`, the array with ``<`` written ``\\u003c`` so no text
    can close the script."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.data }}.forEach(function (p) { var c = L.circleMarker([p[0], p[1]], {"
        " color: '#222', weight: {{ this.weight }}, radius: {{ this.radius }}, fill: true,"
        " fillColor: '{{ this.colour }}', fillOpacity: 0.95});"
        " if (p[2]) { c.bindPopup(p[2], {maxWidth: 340}); }"
        " if (p[3]) { c.bindTooltip(p[3]); } c.addTo({{ this._parent.get_name() }}); });"
        "{% endmacro %}"
    )

    def __init__(self, points: list, colour: str, radius: int = 5):
        super().__init__()
        self.radius = radius
        self.weight = 1 if radius > 3 else 0
        self._name = "HzMarkers"
        self.data = script_json(points)
        self.colour = colour


#: Areas named on the map (permanent labels) when there are at most this many; shown on
#: open up to :data:`AREA_LABELS_SHOWN`.
AREA_LABELS_MAX = 500
AREA_LABELS_SHOWN = 60


class _Labels(ScriptMacro):
    """Text labels at points, from one JSON array ``[lat, lon, text]``: each text is put in
    the page as text (``textContent``), never read as HTML."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.data }}.forEach(function (p) { var el = document.createElement('span');"
        " el.textContent = p[2];"
        " L.tooltip({permanent: true, direction: 'center', className: 'hz-label',"
        " interactive: false}).setLatLng([p[0], p[1]]).setContent(el)"
        ".addTo({{ this._parent.get_name() }}); });"
        "{% endmacro %}"
    )

    def __init__(self, points: list):
        super().__init__()
        self._name = "HzLabels"
        self.data = script_json(points)


def _area_labels(m: folium.Map, bnd: gpd.GeoDataFrame, level: str) -> None:
    """The areas' names (社区, 街道 …) at a point inside each, as a layer of its own."""
    named = bnd[bnd["name"].notna() & ~shapely.is_empty(bnd.geometry.to_numpy())]
    if named.empty or len(named) > AREA_LABELS_MAX:
        return
    pts = shapely.point_on_surface(named.geometry.to_numpy())
    data = [[round(float(y), 6), round(float(x), 6), str(n)]
            for x, y, n in zip(shapely.get_x(pts), shapely.get_y(pts), named["name"],
                               strict=True)]  # fmt: skip
    fg = folium.FeatureGroup(name=f"{level_label(level)} 名称 / names",
                             show=len(named) <= AREA_LABELS_SHOWN)  # fmt: skip
    fg.hz_group = AREAS_GROUP
    fg.add_child(_Labels(data))
    fg.add_to(m)


_CAP_ZH = {"beds": "床位", "places": "学位/托位", "pitches": "场地", "capacity": "容量"}


def _reach_cell(info: dict) -> str:
    """A category's reach in the legend: its walking metres, or minutes by another mode."""
    if info.get("mode", "walk") == "walk":
        return f"{info['threshold_m']:,.0f} m"
    zh, en = reach_words(info)
    return html_text(f"{zh} / {en}")


def _legend_html(result: CoverageResult, bm: dict, show: _Display, map_name: str,
                 home: list) -> str:  # fmt: skip
    s = result.summary
    sw = "display:inline-block;width:11px;height:11px;vertical-align:middle;margin-right:3px"
    rows = "".join(
        f"<tr><td><span style='{sw};border-radius:6px;border:1px solid #222;"
        f"background:{_cat(cat).colour}'></span><span style='{sw};background:"
        f"{tint(_cat(cat).colour)}'></span>{html_text(_cat(cat).label)}</td>"
        f"<td style='text-align:right'>{_reach_cell(info)}</td>"
        f"<td style='text-align:right'>{info['serves']['share'] * 100:.1f}%"
        f"{'' if info['serves']['group'] == 'all' else '*'}</td></tr>"
        for cat, info in s["categories"].items()
    )
    who = "".join(
        f"<div>* {html_text(_cat(cat).label_zh)}：{html_text(g['label'])}"
        f"{'（按普查比例估算 / estimated from census shares）' if g['estimated'] else ''}</div>"
        for cat, g in ((c, i["serves"]) for c, i in s["categories"].items())
        if g["group"] != "all"
    )  # fmt: skip
    badge = ""
    if result.synthetic:
        badge = (
            "<div id='hz-synthetic-badge' style='background:#fff3cd;border:1px solid #e0a800;"
            "padding:3px 6px;margin-top:6px;font-weight:bold'>合成演示数据 / synthetic demo data"
            f": {html_text(result.synthetic_note)} — generated, not surveyed</div>"
        )
    shift = ("<div>叠加图层已转换为GCJ-02 / overlays shifted to GCJ-02</div>"
             if bm["crs"] == "gcj02" else "")  # fmt: skip
    ramp = f"linear-gradient(to right, {', '.join(NO_FACILITY_RAMP)})"
    bnd = result.boundaries
    b = bnd.geometry.bounds.to_numpy()
    lon, lat = show.xy(b[:, [0, 2]].ravel(), b[:, [1, 3]].ravel())
    areas = [{"name": str(n), "b": [[float(lat[2 * i]), float(lon[2 * i])],
                                    [float(lat[2 * i + 1]), float(lon[2 * i + 1])]]}
             for i, n in enumerate(bnd["name"])]  # fmt: skip
    areas_js = script_json(areas)
    return (
        "<details id='hz-legend' open style='position:fixed;bottom:34px;left:10px;z-index:9999;"
        "background:rgba(255,255,255,.95);padding:6px 9px;border:1px solid #999;"
        "border-radius:4px;font:12px sans-serif;max-width:330px;max-height:70vh;"
        "overflow-y:auto'>"
        "<summary style='font-weight:bold;font-size:13px;cursor:pointer'>15分钟生活圈设施覆盖 / "
        "15-minute walking coverage</summary>"
        f"<div>步行 {s['threshold_minutes']:g} 分钟 @ {s['speed_kmh']:g} km/h = "
        f"{s['threshold_m']:,.0f} m {html_text(' / '.join(distance_phrase(s)))}</div>"
        f"<div>居民 / residents: {s['population']:,}</div>"
        "<table style='width:100%;margin-top:4px;border-collapse:collapse'><tr>"
        "<th style='text-align:left'>设施·可达范围 / Facility·reach</th>"
        "<th style='text-align:right'>范围 / reach</th>"
        f"<th style='text-align:right'>覆盖 / covered</th></tr>{rows}</table>"
        f"<div id='hz-served' style='font-size:11px'>{who}</div>"
        f"<div style='margin-top:4px'><span style='{sw};width:60px;background:{ramp}'></span>"
        " 范围内无设施，按每平方公里所服务人群着色（各类设施各自色阶）/ no facility in reach,"
        " shaded by the persons the category serves per km² (each category its own scale)"
        "</div>"
        f"<div><span style='{sw};border:2px dashed {BELOW_STANDARD};background:"
        f"{tint(BELOW_STANDARD, 0.15)}'></span> 可达但所在服务范围低于人均标准 / in reach, "
        "catchment below a per-capita standard</div>"
        f"<div><span style='{sw};background:{MET_COLOURS[True]}'></span>达标 / met "
        f"<span style='{sw};background:{MET_COLOURS[False]}'></span>未达标 / not met "
        "(标准图层 / standard layers)</div>"
        f"<div>底图 / basemap: {html_text(bm['label'])}</div>{shift}"
        "<div style='margin-top:4px'>定位 / zoom to: <select id='hz-zoom'>"
        "<option value=''>全部 / all</option></select></div>"
        f"{badge}</details>"
        "<script>window.addEventListener('load', function () {"
        f"var areas = {areas_js}; var sel = document.getElementById('hz-zoom');"
        "areas.forEach(function (a, i) { var o = document.createElement('option');"
        " o.value = String(i); o.textContent = a.name; sel.appendChild(o); });"
        f"var map = window['{map_name}']; var home = {script_json(home)};"
        "var key = document.getElementById('hz-legend');"
        "if (window.innerHeight < 800 || window.innerWidth < 1100) { key.open = false; }"
        # the open key takes the lower left: the areas are fitted beside it, not under it
        "function fit(b) { map.fitBounds(b, key.open ? {animate: false,"
        " paddingTopLeft: [key.offsetWidth + 16, 8]} : {animate: false}); }"
        "fit(home);"
        "sel.addEventListener('change', function () { fit(sel.value === '' ? home :"
        " areas[Number(sel.value)].b); });"
        "});</script>"
    )
