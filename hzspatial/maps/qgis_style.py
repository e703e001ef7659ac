"""QGIS layer styles (QML) in the maps' colours, for the layers of ``results.gpkg``.

A GeoPackage carries its layers' styles in a ``layer_styles`` table, as QGIS itself writes it
("Save as default" on a GeoPackage layer): one row per layer with the style as QML, used as
the layer's default — so the layers open coloured in QGIS, in the colours of ``map.html``
(category colours from ``config/categories.toml``, reds for the underserved). Symbol
properties are written both as ``<Option>`` maps (QGIS ≥ 3.26 writes these) and as ``<prop>``
elements (what QGIS 3.22, Debian's, writes and reads). Every text a user supplied (category
ids, labels, names) is escaped as XML text or attribute here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

__all__ = ["Symbol", "categorized_qml", "coverage_layers", "single_qml"]

QGIS_VERSION = "3.22.16-Białowieża"


@dataclass(frozen=True)
class Symbol:
    """One symbol: ``kind`` ``fill`` (polygons), ``marker`` (points); colours ``#rrggbb``;
    ``fill_alpha`` 0–1; widths and marker size in millimetres; ``dashed`` outline."""

    kind: str
    fill: str
    outline: str
    fill_alpha: float = 1.0
    outline_width: float = 0.4
    size: float = 2.6
    dashed: bool = False


def _rgba(colour: str, alpha: float = 1.0) -> str:
    c = colour.lstrip("#")
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, alpha)) * 255)}"


def _props(props: dict[str, str]) -> str:
    option = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>'
                     for k, v in props.items())  # fmt: skip
    legacy = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return f'<Option type="Map">{option}</Option>{legacy}'


def _symbol(name: str, s: Symbol) -> str:
    if s.kind == "fill":
        props = {"color": _rgba(s.fill, s.fill_alpha), "style": "solid" if s.fill_alpha else
                 "no", "outline_color": _rgba(s.outline), "outline_style": "dash" if s.dashed
                 else "solid", "outline_width": f"{s.outline_width:g}",
                 "outline_width_unit": "MM", "joinstyle": "bevel"}  # fmt: skip
        layer = "SimpleFill"
    else:
        props = {"name": "circle", "color": _rgba(s.fill, s.fill_alpha),
                 "outline_color": _rgba(s.outline), "outline_style": "solid",
                 "outline_width": f"{s.outline_width:g}", "outline_width_unit": "MM",
                 "size": f"{s.size:g}", "size_unit": "MM", "angle": "0"}  # fmt: skip
        layer = "SimpleMarker"
    return (f'<symbol type="{s.kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><layer class="{layer}" enabled="1" locked="0" pass="0">'
            f"{_props(props)}</layer></symbol>")  # fmt: skip


def _document(renderer: str, labels: str = "") -> str:
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling">'
            f"{renderer}{labels}</qgis>\n")  # fmt: skip


def _labels(field: str | None) -> str:
    """Labels from ``field`` (dark text, white halo), or none."""
    if field is None:
        return ""
    return ('<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName={quoteattr(field)} isExpression="0" fontSize="9" '
            'fontSizeUnit="Point" textColor="40,40,40,255" textOpacity="1">'
            '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" '
            'bufferColor="255,255,255,255" bufferOpacity="0.85"/></text-style>'
            '<placement placement="1" dist="0"/><rendering scaleVisibility="0"/>'
            '</settings></labeling>')  # fmt: skip


def categorized_qml(field: str, categories: Sequence[tuple[str, str, Symbol]],
                    label_field: str | None = None) -> str:  # fmt: skip
    """A categorized renderer on ``field``: ``(value, legend label, symbol)`` per category."""
    cats = "".join(f"<category value={quoteattr(v)} symbol={quoteattr(str(i))} "
                   f"label={quoteattr(lab)} render=\"true\"/>"
                   for i, (v, lab, _) in enumerate(categories))  # fmt: skip
    symbols = "".join(_symbol(str(i), s) for i, (_, _, s) in enumerate(categories))
    renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} '
                'symbollevels="0" enableorderby="0" forceraster="0">'
                f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>")
    return _document(renderer, _labels(label_field))


def single_qml(symbol: Symbol, label_field: str | None = None) -> str:
    """One symbol for every feature."""
    renderer = ('<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
                f'forceraster="0"><symbols>{_symbol("0", symbol)}</symbols></renderer-v2>')
    return _document(renderer, _labels(label_field))


def coverage_layers(result) -> list[tuple[str, object, str]]:
    """The layers of ``results.gpkg`` for a coverage result, each with its QML style:
    ``areas`` (the boundaries with their coverage table, outlined and named), ``catchments``
    and ``facilities`` (by category, in its colour), ``underserved`` (by kind: no facility in
    reach, in reach but below a standard — the reds of ``map.html``)."""
    from hzspatial.maps.interactive import _cat
    from hzspatial.maps.style import BELOW_STANDARD, NO_FACILITY

    cats = list(result.summary["categories"])
    labels = {c: _cat(c).label for c in cats}
    colours = {c: _cat(c).colour for c in cats}
    bnd = result.boundaries[["district_id", "name", result.boundaries.geometry.name]]
    table = result.districts.drop(columns=[c for c in ("name",) if c in result.districts])
    areas = bnd.merge(table, on="district_id", how="left")
    out = [("areas", areas, single_qml(Symbol("fill", "#ffffff", "#4d4d4d", 0.0, 0.6),
                                       label_field="name"))]  # fmt: skip
    out.append(("catchments", result.catchments, categorized_qml("category", [
        (c, labels[c], Symbol("fill", colours[c], colours[c], 0.25, 0.3)) for c in cats])))
    out.append(("underserved", result.underserved, categorized_qml("kind", [
        ("no_facility", "范围内无设施 / no facility in reach",
         Symbol("fill", NO_FACILITY, "#67000d", 0.45, 0.2)),
        ("below_standard", "可达但低于人均标准 / in reach, below standard",
         Symbol("fill", BELOW_STANDARD, BELOW_STANDARD, 0.12, 0.4, dashed=True))])))
    out.append(("facilities", result.facilities, categorized_qml("category", [
        (c, labels[c], Symbol("marker", colours[c], "#ffffff", 1.0, 0.3, 2.6)) for c in cats])))
    return out
