"""GeoJSON overlays for the folium maps, written as compact JSON text.

A layer's features are serialised at once (``shapely.to_geojson`` for the geometries, one
``json.dumps`` per row for the properties) and drawn by a few lines of Leaflet that style each
feature from a property and show a tooltip table: no per-feature Python dicts, style mappings
or template passes over the data, which is what ``folium.GeoJson`` spends most of a map's
time on (0.46 of 0.82 s for the demo's layers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from hzspatial.io.writers import html_text
from hzspatial.maps.assets import Raw

__all__ = ["GeoJsonOverlay", "ScriptMacro", "feature_collection", "script_json"]


class ScriptMacro(MacroElement):
    """A ``MacroElement`` with a ``script`` macro whose output is added to the page as text
    (:class:`~hzspatial.maps.assets.Raw`): branca would compile it again as a template, data
    and all (0.1 s for the demo's layers)."""

    def render(self, **kwargs) -> None:
        script = self._template.module.__dict__["script"]
        self.get_root().script.add_child(Raw(script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


def script_json(value) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>``: no ``<`` (so no
    ``</script>``), and the line separators JavaScript strings could not hold written as
    escapes."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def feature_collection(gdf: gpd.GeoDataFrame) -> str:
    """A GeoDataFrame (WGS84) as GeoJSON FeatureCollection text: NaN and missing values
    are ``null``, features without geometry are left out, no bounding boxes."""
    geoms = gdf.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)[keep])
    props = props.astype(object).where(props.notna(), None)
    texts = shapely.to_geojson(geoms[keep])
    rows = props.to_dict("records")
    features = ",".join(
        f'{{"type":"Feature","properties":{json.dumps(p, ensure_ascii=False)},"geometry":{g}}}'
        for p, g in zip(rows, texts, strict=True)
    )
    return f'{{"type":"FeatureCollection","features":[{features}]}}'


class GeoJsonOverlay(ScriptMacro):
    """Features drawn on the parent layer (a ``folium.FeatureGroup``, which names the layer in
    the layer control), styled and with a tooltip.

    Parameters
    ----------
    gdf : GeoDataFrame
        WGS84 features whose text properties are already escaped for HTML
        (:func:`hzspatial.io.writers.html_text`): the tooltip shows them as they are.
    style : dict
        Leaflet path options for every feature (``color``, ``weight``, ``fillColor`` …).
    fill_by : str, optional
        A property that gives each feature's ``fillColor``: looked up in ``colours`` (keys
        ``"true"``, ``"false"``, ``"null"`` or the property's text), or with ``ramp`` placed
        on a linear colour ramp.
    colours : dict, optional
    ramp : (list of colours, vmin, vmax, colour of null), optional
        Evenly spaced colours from ``vmin`` to ``vmax`` (values outside are clamped),
        interpolated linearly as ``branca.colormap.LinearColormap`` does.
    tooltip : sequence of (property, label)
        Rows of the tooltip table; labels are escaped here.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}(function () {"
        "var s = {{ this.spec }}, data = {{ this.data }};"
        "function hex(c) { return '#' + c.map(function (v) {"
        " return ('0' + Math.round(v).toString(16)).slice(-2); }).join(''); }"
        "function rgb(h) { return [1, 3, 5].map(function (i) {"
        " return parseInt(h.substr(i, 2), 16); }); }"
        "function ramp(v) { var r = s.ramp; if (v == null) return r[3];"
        " if (r[0].length < 2) return r[0][0];"
        " var n = r[0].length - 1, t = Math.min(Math.max((v - r[1]) / ((r[2] - r[1]) || 1), 0),"
        " 1) * n, i = Math.min(Math.floor(t), n - 1), a = rgb(r[0][i]),"
        " b = rgb(r[0][i + 1]), f = t - i;"
        " return hex(a.map(function (x, k) { return x + (b[k] - x) * f; })); }"
        "L.geoJSON(data, {style: function (f) { var o = Object.assign({}, s.style);"
        " if (s.by) { var v = f.properties[s.by];"
        " o.fillColor = s.ramp ? ramp(v) : s.colours[String(v)]; } return o; },"
        " onEachFeature: function (f, layer) { if (!s.tip.length) return;"
        " layer.bindTooltip(function () { return '<table class=\"hz-tip\">' +"
        " s.tip.map(function (t) { var v = f.properties[t[0]];"
        " return '<tr><th>' + t[1] + '</th><td>' + (v == null ? '—' : v) + '</td></tr>';"
        " }).join('') + '</table>'; }, {sticky: true}); }"
        "}).addTo({{ this._parent.get_name() }}); })();{% endmacro %}"
    )

    def __init__(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        style: dict,
        fill_by: str | None = None,
        colours: dict | None = None,
        ramp: tuple | None = None,
        tooltip: Sequence[tuple[str, str]] = (),
    ):
        super().__init__()
        self._name = "HzGeoJson"
        if fill_by is not None and (colours is None) == (ramp is None):
            raise ValueError("fill_by needs either colours or ramp")
        if ramp is not None:
            stops, vmin, vmax, null = ramp
            ramp = [list(stops), float(vmin), float(vmax), null]
        spec = {"style": style, "by": fill_by, "colours": colours, "ramp": ramp,
                "tip": [[f, html_text(label)] for f, label in tooltip]}  # fmt: skip
        self.spec = script_json(spec)
        self.data = script_json(feature_collection(gdf))


#: With more overlay entries than this, the groups of the layer list with fewer than half
#: their layers on start folded (a dense run lists two dozen layers).
FOLD_OVER = 12


class _LayerGroups(ScriptMacro):
    """Headings in a Leaflet layers control: the overlays sorted into their groups (the
    order groups first appear in), each group under a heading naming it with how many of its
    layers are on, folded and unfolded by a click. The control's own list is redrawn by
    Leaflet whenever a layer is added or removed; the headings are put back each time."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (ctl, tags, foldOver) {"
        " const groups = [];"
        " tags.forEach(function (t, i) { if (groups.indexOf(t[1]) < 0) groups.push(t[1]);"
        "  t[0].hzGroup = t[1]; t[0].hzRank = groups.indexOf(t[1]) * 100000 + i; });"
        " const folded = new Set(tags.length <= foldOver ? [] : groups.filter(function (g) {"
        "  const mine = tags.filter(function (t) { return t[1] === g; });"
        "  const on = mine.filter(function (t) { return ctl._map.hasLayer(t[0]); });"
        "  return 2 * on.length < mine.length; }));"
        " const heads = new Map();"
        " function text(c, g) {"
        "  const mine = c._layers.filter(function (o) { return o.layer.hzGroup === g; });"
        "  const on = mine.filter(function (o) { return c._map && c._map.hasLayer(o.layer); });"
        "  return (folded.has(g) ? '\\u25b8 ' : '\\u25be ') + g"
        "   + ' (' + on.length + '/' + mine.length + ')'; }"
        " const update = ctl._update;"
        " ctl._update = function () {"
        "  const c = this;"
        "  c._layers.sort(function (a, b) { return (a.layer.hzRank === undefined ? 1e12 :"
        "   a.layer.hzRank) - (b.layer.hzRank === undefined ? 1e12 : b.layer.hzRank); });"
        "  update.call(c);"
        "  if (!c._overlaysList) return c;"
        "  const rows = Array.prototype.slice.call(c._overlaysList.children);"
        "  heads.clear();"
        "  c._layers.filter(function (o) { return o.overlay; }).forEach(function (o, i) {"
        "   const g = o.layer.hzGroup;"
        "   if (g === undefined) return;"
        "   if (!heads.has(g)) {"
        "    const h = document.createElement('div');"
        "    h.className = 'hz-group'; h.tabIndex = 0; h.setAttribute('role', 'button');"
        "    h.setAttribute('aria-expanded', String(!folded.has(g)));"
        "    h.textContent = text(c, g);"
        "    const flip = function () { if (folded.has(g)) folded.delete(g); else folded.add(g);"
        "     c._update(); };"
        "    h.addEventListener('click', flip);"
        "    h.addEventListener('keydown', function (e) {"
        "     if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); flip(); } });"
        "    c._overlaysList.insertBefore(h, rows[i]); heads.set(g, h); }"
        "   if (folded.has(g)) rows[i].style.display = 'none'; });"
        "  return c; };"
        " ctl._update();"
        " ctl._map.on('overlayadd overlayremove', function () {"
        "  heads.forEach(function (h, g) { h.textContent = text(ctl, g); }); });"
        "})({{ this.control }}, {{ this.tags }}, {{ this.fold_over }});"
        "{% endmacro %}"
    )

    def __init__(self, control: str, tags: str, fold_over: int):
        super().__init__()
        self.control, self.tags, self.fold_over = control, tags, int(fold_over)


def grouped_layer_control(m, fold_over: int = FOLD_OVER):
    """A collapsed layers control (top right) listing the map's overlays under group headings.

    Each ``folium.FeatureGroup`` of ``m`` (in the order they were added) goes under the
    heading in its ``hz_group`` attribute (plain text: shown as text, never as HTML); groups
    appear in the order they first occur and, with more than ``fold_over`` overlays, those with
    fewer than half their layers shown start folded. Call it after every overlay has been
    added. Returns the control.
    """
    import folium

    control = folium.LayerControl(collapsed=True, position="topright").add_to(m)
    tags = [(child.get_name(), str(child.hz_group)) for child in m._children.values()
            if isinstance(child, folium.FeatureGroup) and getattr(child, "hz_group", None)
            and child.control]  # fmt: skip
    text = "[" + ",".join(f"[{name}, {script_json(json.dumps(group, ensure_ascii=False))}]"
                          for name, group in tags) + "]"
    m.add_child(_LayerGroups(control.get_name(), text, fold_over))
    m.get_root().header.add_child(Raw(
        "<style>.hz-group{font-weight:bold;cursor:pointer;margin:4px 0 1px;user-select:none}"
        ".hz-group:focus{outline:1px dotted #333}</style>"))  # fmt: skip
    return control
