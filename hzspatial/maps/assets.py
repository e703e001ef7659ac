"""Leaflet shipped with hzspatial, embedded into maps so they render with no network."""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

import folium
from branca.element import Element

__all__ = ["Raw", "embed_leaflet"]


class Raw(Element):
    """Text put into the page as it is. ``folium.Element(text)`` compiles the text as a Jinja
    template — Leaflet's 150 kB, a layer's GeoJSON — which is slow and would read any ``{{``
    in the text as template code."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


# folium builds popup contents with jQuery's `$(html)[0]` and uses jQuery for nothing else
# in hzspatial's maps: this stand-in parses the HTML without loading jQuery from a CDN.
_JQUERY_SHIM = (
    "window.$ = window.$ || function (html) { const t = document.createElement('template');"
    " t.innerHTML = String(html).trim(); return [t.content.firstElementChild]; };"
)


@cache
def _leaflet() -> tuple[str, str]:
    root = resources.files("hzspatial.static").joinpath("leaflet")
    js = root.joinpath("leaflet.js").read_text("utf-8")
    css = root.joinpath("leaflet.css").read_text("utf-8")

    def inline(match: re.Match) -> str:
        data = root.joinpath("images", match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"

    css = re.sub(r"url\(images/([\w-]+\.png)\)", inline, css)
    return js, css


def embed_leaflet(m: folium.Map) -> folium.Map:
    """Replace folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome) by the bundled
    Leaflet 1.9.4 inline and a one-function jQuery stand-in; hzspatial's maps use nothing
    else. Returns ``m``."""
    js, css = _leaflet()
    m.default_js = []
    m.default_css = []
    header = m.get_root().header
    header.add_child(Raw(f"<style>{css}</style>"), name="hz_leaflet_css", index=0)
    header.add_child(Raw(f"<script>{js}</script>"), name="hz_leaflet_js", index=1)
    header.add_child(Raw(f"<script>{_JQUERY_SHIM}</script>"), name="hz_jq", index=2)
    return m


def metric_scale(m) -> None:
    """A scale bar in metres only (Leaflet's default also shows feet and miles); rendered as a
    child of the map so that it runs after the map exists."""
    from branca.element import MacroElement
    from jinja2 import Template

    scale = MacroElement()
    scale._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    m.add_child(scale)
