"""Static maps for print (matplotlib): ``map.png`` and one panel per category for the report.

Each panel is drawn in the analysis' metric CRS from a handful of collections: what every
panel shares — residents (polygons, or a raster of demand points when there are very many) and
streets — is rendered once into a transparent image that each panel lays over its catchments
(one opaque tint: overlaps do not darken); underserved areas are one collection per reason.
Drawing time does not grow with per-feature plotting calls. Every panel carries a bilingual
title, key, scale bar and north arrow.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from hzspatial.categories import builtin_categories, user_category
from hzspatial.labels import distance_phrase, within_words
from hzspatial.maps.style import (
    BELOW_STANDARD,
    NO_FACILITY,
    RESIDENTS_GREY,
    STREET_GREY,
    tint,
)

if TYPE_CHECKING:
    from hzspatial.results import CoverageResult

__all__ = ["category_image", "category_png", "coverage_png"]

_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Source Han Sans SC",
              "SimHei", "Microsoft YaHei", "PingFang SC")  # fmt: skip
#: File names of those fonts (lower case), looked for when matplotlib's cache predates them.
_CJK_FILES = ("notosanscjk", "wqy-zenhei", "sourcehansans", "simhei", "msyh", "pingfang")
#: Opacity of a catchment's tint over the residents and streets.
CATCHMENT_ALPHA = 0.3
#: Above this many residents features, residents are drawn as a raster of demand points.
MAX_RESIDENT_POLYGONS = 30_000


@cache
def _cjk_font() -> str | None:
    """A font with Chinese glyphs, if one is installed (else labels stay English only)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if not names & set(_CJK_FONTS):  # installed after matplotlib cached its font list?
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name.lower() for k in _CJK_FILES):
                font_manager.fontManager.addfont(path)
        names = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in _CJK_FONTS if f in names), None)


def _compound(geoms: np.ndarray):
    """One matplotlib path of every polygon in ``geoms`` (holes kept), or None when there is
    none. Exteriors run counter-clockwise and holes clockwise, so that filled by Agg's
    non-zero rule overlapping polygons are painted once (a translucent fill does not darken
    where they overlap) and holes stay open."""
    from matplotlib.path import Path as MPath

    g = np.asarray(geoms, dtype=object)
    g = g[~shapely.is_missing(g)]
    polys = shapely.get_parts(g[~shapely.is_empty(g)])
    polys = polys[shapely.get_type_id(polys) == 3]
    if len(polys) == 0:
        return None
    rings = shapely.get_rings(shapely.orient_polygons(polys))
    verts, ring = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(verts), MPath.LINETO, dtype=np.uint8)
    first = np.r_[True, ring[1:] != ring[:-1]]
    codes[first] = MPath.MOVETO
    codes[np.r_[first[1:], True]] = MPath.CLOSEPOLY
    return MPath(verts, codes)


def _fill(ax, geoms: np.ndarray, **style) -> None:
    """``geoms``' polygons as one patch (:func:`_compound`) styled by ``style``."""
    from matplotlib.patches import PathPatch

    path = _compound(geoms)
    if path is not None:  # add_artist: the map's limits are set, not grown to the patch
        ax.add_artist(PathPatch(path, **style))


def _lines_path(lines: np.ndarray):
    """One matplotlib path of every line in ``lines`` (a stroke, not filled), or None."""
    from matplotlib.path import Path as MPath

    parts = shapely.get_parts(np.asarray(lines, dtype=object))
    verts, idx = shapely.get_coordinates(parts, return_index=True)
    if len(verts) == 0:
        return None
    codes = np.full(len(verts), MPath.LINETO, dtype=np.uint8)
    codes[np.r_[True, idx[1:] != idx[:-1]]] = MPath.MOVETO
    return MPath(verts, codes)


def _stroke(ax, path, **style) -> None:
    """``path`` (:func:`_lines_path`) drawn as lines styled by ``style``."""
    from matplotlib.patches import PathPatch

    if path is not None:
        ax.add_artist(PathPatch(path, fill=False, **style))


@dataclass
class _Scene:
    """Everything drawn, prepared once in the metric CRS; ``base`` is the residents and streets
    rendered once on white, as a whole panel's pixels (an opaque RGBA image)."""

    extent: tuple[float, float, float, float]
    base: object
    boundary: object
    crs: object
    dpi: int


def scene(result: CoverageResult, dpi: int = 0) -> _Scene:
    """What every panel draws, prepared once in the metric CRS for panels at ``dpi`` (default
    :data:`DPI`; pass to :func:`category_image`)."""
    dpi = dpi or DPI
    utm = result.streets.crs if result.streets is not None else result.demand.estimate_utm_crs()
    demand = result.demand.to_crs(utm)
    x0, y0, x1, y1 = demand.total_bounds
    pad = 0.03 * max(x1 - x0, y1 - y0, 200.0)
    extent = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    box = shapely.box(*extent)
    streets = []
    if result.streets is not None:
        s = result.streets.to_numpy()
        streets = s[shapely.intersects(s, box)]
    res = result.residents
    polys = raster = None
    if res is not None and np.isin(shapely.get_type_id(res.geometry.to_numpy()), (3, 6)).any():
        if len(res) <= MAX_RESIDENT_POLYGONS:
            polys = res.to_crs(utm).geometry.to_numpy()
    if polys is None:
        xy = shapely.get_coordinates(demand.geometry.to_numpy())
        span = [[extent[0], extent[2]], [extent[1], extent[3]]]
        h, xe, ye = np.histogram2d(xy[:, 0], xy[:, 1], bins=300, range=span)
        raster = (h.T > 0, (xe[0], xe[-1], ye[0], ye[-1]))
    bnd = result.boundaries.to_crs(utm).geometry.to_numpy()
    boundary = _lines_path(shapely.intersection(shapely.boundary(bnd), box))
    return _Scene(extent, _base(extent, streets, polys, raster, dpi), boundary, utm, dpi)


def _panel_figure(extent: tuple, dpi: int):
    """A panel's figure and map axes (16 cm wide; room under the map for the key)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x0, y0, x1, y1 = extent
    aspect = (y1 - y0) / (x1 - x0)
    width = 6.3
    height = width * aspect + 1.45
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 1.0 / height, 0.98, (width * aspect) / height))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig, ax


def _base(extent: tuple, streets: np.ndarray, residents: np.ndarray | None,
          raster: tuple | None, dpi: int):  # fmt: skip
    """Residents and streets rendered once on white at a panel's size and resolution (a PIL
    image): every panel is drawn on a transparent figure and laid over it (:func:`_over`)."""
    from PIL import Image

    fig, ax = _panel_figure(extent, dpi)
    ax.set_axis_off()
    if residents is not None:
        _fill(ax, residents, facecolor=RESIDENTS_GREY, alpha=0.45, edgecolor="none")
    elif raster is not None:
        mask, ext = raster
        ax.imshow(np.where(mask, 0.5, np.nan), extent=ext, origin="lower", cmap="Greys",
                  vmin=0, vmax=1, alpha=0.45, interpolation="nearest")  # fmt: skip
    _stroke(ax, _lines_path(streets), edgecolor=STREET_GREY, linewidth=0.35)
    fig.canvas.draw()
    return Image.fromarray(np.asarray(fig.canvas.buffer_rgba()).copy(), "RGBA")


def _over(rgba: np.ndarray, base) -> np.ndarray:
    """Straight-alpha RGBA pixels laid over the opaque ``base`` image: RGB bytes."""
    from PIL import Image

    return np.asarray(Image.alpha_composite(base, Image.fromarray(rgba, "RGBA")).convert("RGB"))


def plain(text: str) -> str:
    """User text for matplotlib, shown as written: ``$…$`` is not parsed as mathematics (a
    name with two dollar signs would otherwise be typeset or stop the drawing)."""
    return str(text).replace("$", r"\$")


def _labels(cat: str):
    c = builtin_categories().get(cat) or user_category(cat)
    return c, (c.label if _cjk_font() else c.label_en)


def _draw_panel(ax, result: CoverageResult, cat: str, scene: _Scene, *, key: bool) -> None:

    zh = _cjk_font() is not None
    c, label = _labels(cat)
    info = result.summary["categories"][cat]
    utm = scene.crs
    x0, y0, x1, y1 = scene.extent
    catch = result.catchments[result.catchments["category"] == cat].to_crs(utm)
    # over the residents and streets (the base): one translucent tint, overlaps not darker
    _fill(ax, catch.geometry.to_numpy(), facecolor=c.colour, alpha=CATCHMENT_ALPHA,
          edgecolor="none", zorder=1)  # fmt: skip
    under = result.underserved
    under = under[under["category"] == cat].to_crs(utm)
    far = under[under["kind"] == "no_facility"]
    short = under[under["kind"] == "below_standard"]
    _fill(ax, far.geometry.to_numpy(), facecolor=NO_FACILITY, alpha=0.6, edgecolor="none",
          zorder=4)  # fmt: skip
    _fill(ax, short.geometry.to_numpy(), facecolor="none", edgecolor=BELOW_STANDARD,
          hatch="////", linewidth=0, zorder=5)  # fmt: skip
    _stroke(ax, scene.boundary, edgecolor="#333333", linewidth=1.0, linestyle=(0, (5, 3)),
            zorder=6)  # fmt: skip
    fac = result.facilities[result.facilities["category"] == cat].to_crs(utm)
    ax.scatter(fac.geometry.x, fac.geometry.y, s=22, c=c.colour, edgecolors="black",
               linewidths=0.6, zorder=7)  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    share = info["coverage_share"] * 100
    wz, we = within_words(info)
    title = (f"{c.label_zh} {c.label_en}\n{wz}居民 {share:.1f}% / {share:.1f}% {we}" if zh
             else f"{c.label_en}\n{share:.1f}% of residents {we}")  # fmt: skip
    ax.set_title(plain(title), fontsize=9)
    _scale_bar(ax, scene.extent)
    _north_arrow(ax)
    if key:
        _legend(ax, _key([cat], result), loc="upper center", bbox_to_anchor=(0.5, -0.01))


def _legend(where, key: list, **kw) -> None:
    from matplotlib.legend_handler import HandlerTuple

    where.legend([h for h, _ in key], [t for _, t in key], ncol=2, fontsize=7, frameon=False,
                 handlelength=1.8, columnspacing=1.5,
                 handler_map={tuple: HandlerTuple(ndivide=None, pad=0)}, **kw)  # fmt: skip


def _key(cats: list[str], result: CoverageResult) -> list:
    """Legend handles: each category's facility and catchment colours, then the shared ones."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    zh = _cjk_font() is not None
    handles = []
    for cat in cats:
        c, label = _labels(cat)
        minutes = result.summary["categories"][cat]["threshold_minutes"]
        dot = Line2D([], [], marker="o", linestyle="none", markerfacecolor=c.colour,
                     markeredgecolor="black", markersize=6)  # fmt: skip
        text = (f"{c.label_zh}及{minutes:g}分钟步行范围 / {c.label_en}, {minutes:g}-min walk"
                if zh else f"{c.label_en} and its {minutes:g}-min walk")  # fmt: skip
        handles.append(((Patch(facecolor=tint(c.colour, CATCHMENT_ALPHA)), dot), plain(text)))
    return handles + [(h, h.get_label()) for h in [
        Patch(facecolor=NO_FACILITY, alpha=0.6, label=("步行范围外无设施 / no facility in reach"
                                                       if zh else "No facility in reach")),
        Patch(facecolor="white", edgecolor=BELOW_STANDARD, hatch="////", label=(
            "可达但人均供给低于标准 / in reach, below standard" if zh
            else "In reach, below the per-capita standard")),
        Patch(facecolor=RESIDENTS_GREY, alpha=0.45, label=("居民片区 / residents" if zh
                                                          else "Residents")),
        Line2D([], [], color=STREET_GREY, label="道路 / streets" if zh else "Streets"),
        Line2D([], [], color="#333333", linestyle=(0, (5, 3)),
               label=("行政边界 / boundary" if zh else "Boundary")),
    ]]  # fmt: skip


def _scale_bar(ax, extent) -> None:
    x0, y0, x1, y1 = extent
    width = x1 - x0
    raw = width / 5
    step = 10 ** math.floor(math.log10(raw))
    length = max(m * step for m in (1, 2, 5) if m * step <= raw)
    bx, by = x0 + 0.04 * width, y0 + 0.04 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    ax.fill([bx, bx + length / 2, bx + length / 2, bx], [by, by, by + h, by + h], color="black",
            zorder=9)  # fmt: skip
    ax.fill([bx + length / 2, bx + length, bx + length, bx + length / 2],
            [by, by, by + h, by + h], facecolor="white", edgecolor="black", linewidth=0.6,
            zorder=9)  # fmt: skip
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 1.6 * h, text, ha="center", va="bottom", fontsize=7, zorder=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1})  # fmt: skip


def _north_arrow(ax) -> None:
    ax.annotate("", xy=(0.95, 0.96), xytext=(0.95, 0.86), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 3, "headwidth": 9, "headlength": 8},
                zorder=9)  # fmt: skip
    ax.text(0.95, 0.83, "N 北" if _cjk_font() else "N", transform=ax.transAxes, ha="center",
            va="top", fontsize=8, fontweight="bold", zorder=9)  # fmt: skip


def _footer_text(result: CoverageResult) -> list[str]:
    s = result.summary
    zh = _cjk_font() is not None
    phrase_zh, phrase_en = distance_phrase(s)
    lines = [f"步行 {s['threshold_minutes']:g} 分钟 @ {s['speed_kmh']:g} km/h，{phrase_zh} / "
             f"{phrase_en} · 居民 / residents {s['population']:,} · hzspatial {s['version']}"
             if zh else f"Walking at {s['speed_kmh']:g} km/h, {phrase_en} · residents "
             f"{s['population']:,} · hzspatial {s['version']}"]  # fmt: skip
    if result.synthetic:
        lines.append(f"{'合成演示数据 / ' if zh else ''}SYNTHETIC DEMO DATA — generated, not "
                     "surveyed")  # fmt: skip
    return lines


def _rc() -> dict:
    font = _cjk_font()
    return {"font.family": [font, "DejaVu Sans"]} if font else {}


#: Resolution of printed panels (dots per inch; 16 cm wide → 1,000 px).
DPI = 160


def category_image(result: CoverageResult, cat: str, *, dpi: int = DPI,
                   prepared: _Scene | None = None) -> np.ndarray:  # fmt: skip
    """One category's panel as RGB pixels (16 cm wide at ``dpi``, or the ``prepared`` scene's):
    catchments, underserved areas, residents, streets, boundaries and facilities, with its
    bilingual title and key, a scale bar and a north arrow."""
    import matplotlib as mpl

    sc = prepared if prepared is not None else scene(result, dpi)
    with mpl.rc_context(_rc()):
        fig, ax = _panel_figure(sc.extent, sc.dpi)
        fig.patch.set_alpha(0)
        ax.patch.set_alpha(0)
        _draw_panel(ax, result, cat, sc, key=True)
        fig.canvas.draw()
        return _over(np.asarray(fig.canvas.buffer_rgba()), sc.base)


def category_png(result: CoverageResult, cat: str, *, dpi: int = DPI,
                 prepared: _Scene | None = None) -> bytes:  # fmt: skip
    """:func:`category_image` as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(category_image(result, cat, dpi=dpi, prepared=prepared)).save(
        buf, format="PNG", compress_level=3)  # fmt: skip
    return buf.getvalue()


@cache
def _pil_font(size: int):
    """The CJK font (Simplified Chinese face of a collection) for PIL, or PIL's default."""
    from matplotlib import font_manager
    from PIL import ImageFont

    name = _cjk_font()
    if name is None:
        return ImageFont.load_default(size)
    path = font_manager.findfont(font_manager.FontProperties(family=name))
    for index in range(8):
        try:
            font = ImageFont.truetype(path, size, index=index)
        except OSError:
            break
        if font.getname()[0].endswith(" SC"):
            return font
    return ImageFont.truetype(path, size)


def coverage_png(result: CoverageResult, path: str | Path, *,
                 drawn: dict[str, np.ndarray] | None = None) -> Path:  # fmt: skip
    """``map.png``: the categories' panels (:func:`category_image`, each with its own key,
    scale bar and north arrow; ``drawn`` when already drawn) two to a row under a bilingual
    title, with a footer naming the method and any synthetic input; legible printed on A4."""
    from PIL import Image, ImageDraw

    if drawn is None:
        sc = scene(result)
        drawn = {c: category_image(result, c, prepared=sc) for c in result.summary["categories"]}
    imgs = [Image.fromarray(a) for a in drawn.values()]
    ncol = 2 if len(imgs) > 1 else 1
    pw, ph = max(i.width for i in imgs), max(i.height for i in imgs)
    gap = 20
    width = ncol * pw + (ncol + 1) * gap
    zh = _cjk_font() is not None
    title = ("公共服务设施15分钟步行覆盖 / 15-minute walking coverage of public services" if zh
             else "15-minute walking coverage of public services")  # fmt: skip
    big, small = _pil_font(34), _pil_font(22)
    titles = _fit([title], big, width - 2 * gap, " / ")
    footer = _fit(_footer_text(result), small, width - 2 * gap, " · ")
    line_t, line_f = 46, 32
    title_h = len(titles) * line_t + 24
    nrow = math.ceil(len(imgs) / ncol)
    height = title_h + nrow * (ph + gap) + len(footer) * line_f + gap
    out = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(out)
    for k, line in enumerate(titles):
        draw.text((width / 2, 12 + (k + 0.5) * line_t), line, fill="black", font=big, anchor="mm")
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncol)
        out.paste(img, (gap + c * (pw + gap), title_h + r * (ph + gap)))
    y = title_h + nrow * (ph + gap)
    colour = "#b35900" if result.synthetic else "#333333"
    for line in footer:
        draw.text((width / 2, y + line_f / 2), line, fill=colour, font=small, anchor="mm")
        y += line_f
    out.save(path, optimize=False, compress_level=3)
    return Path(path)


def _fit(lines: list[str], font, width: float, sep: str) -> list[str]:
    """``lines`` with any wider than ``width`` pixels broken at ``sep`` (greedily)."""
    out = []
    for line in lines:
        words = line.split(sep)
        cur = words[0]
        for w in words[1:]:
            if font.getlength(cur + sep + w) <= width:
                cur += sep + w
            else:
                out.append(cur)
                cur = w
        out.append(cur)
    return out
