"""Maps and reports: offline rendering in a real headless Chromium, GCJ-02 basemap shift,
static PNG, XLSX tables."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from PIL import Image

from hzspatial import crs, run_coverage
from hzspatial.errors import InputError
from hzspatial.maps import coverage_map

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[1] / "maps" / "test-artefacts"


def _browser_or_skip():
    have = Path(CHROMIUM).exists() and shutil.which("chromium") is not None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        have = False
    if not have:
        if os.environ.get("HZSPATIAL_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "Debian chromium and the playwright package are required (CI installs them)"
            )
        pytest.skip("needs Debian chromium (/usr/bin/chromium) and playwright")


@pytest.fixture(scope="module")
def browser():
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        yield b
        b.close()


def _open(browser, path: Path):
    """Open a local file with all network access refused; collect errors and requests."""
    ctx = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
    page = ctx.new_page()
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            requests.append(r.url) if not r.url.startswith(("file:", "data:", "about:")) else None
        ),
    )
    page.route("http*://**", lambda route: route.abort())
    page.goto(path.as_uri())
    page.wait_for_timeout(2500)
    return ctx, page, errors, requests


def _screenshot_variance(page, name: str) -> float:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / name
    page.screenshot(path=str(shot))
    print(f"screenshot artefact: {shot}")
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    return float(pixels.var())


MAP_STATS = """() => {
  const key = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
  const m = window[key];
  let markers = 0, paths = 0;
  m.eachLayer(l => { if (l instanceof L.CircleMarker) markers++;
                     else if (l instanceof L.Path) paths++; });
  return {markers, paths,
          overlays: document.querySelectorAll('.leaflet-control-layers-overlays label').length,
          legend: !!document.getElementById('hz-legend'),
          badge: !!document.getElementById('hz-synthetic-badge')};
}"""


def test_map_renders_offline(browser, demo_out):
    out, _ = demo_out
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    under = json.loads((out / "underserved.geojson").read_text("utf-8"))["features"]
    kinds = {(f["properties"]["category"], f["properties"]["kind"]) for f in under}
    ctx, page, errors, requests = _open(browser, out / "map.html")
    try:
        assert errors == []
        assert requests == []  # nothing fetched from any CDN
        page.locator(".leaflet-control-layers").hover()
        stats = page.evaluate(MAP_STATS)
        n_std = sum(not (x["note"] or "").startswith("cannot check") for x in summary["standards"])
        n_cat = len(summary["categories"])
        # boundaries, their names, streets, one choropleth per standard, per category catchments and
        # facilities, and an underserved layer per reason present
        assert stats["overlays"] == 3 + n_std + 2 * n_cat + len(kinds)  # + the areas' names
        assert stats["markers"] == sum(c["facilities"] for c in summary["categories"].values())
        assert stats["paths"] > 50  # catchments, underserved areas, districts drawn
        assert stats["legend"] and stats["badge"]
        assert _screenshot_variance(page, "map.png") > 100
    finally:
        ctx.close()
    assert (out / "map.html").stat().st_size <= 3_000_000


STUDY_BOX = """() => {
  const key = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
  const m = window[key];
  const b = L.latLngBounds([]);
  m.eachLayer(l => { if (l instanceof L.CircleMarker) b.extend(l.getLatLng()); });
  const p = m.latLngToContainerPoint(b.getNorthWest());
  const q = m.latLngToContainerPoint(b.getSouthEast());
  const r = m.getContainer().getBoundingClientRect();
  return {x0: p.x + r.left, y0: p.y + r.top, x1: q.x + r.left, y1: q.y + r.top};
}"""


def _overlap(box, el) -> float:
    w = max(0.0, min(box["x1"], el["x"] + el["width"]) - max(box["x0"], el["x"]))
    h = max(0.0, min(box["y1"], el["y"] + el["height"]) - max(box["y0"], el["y"]))
    return w * h / ((box["x1"] - box["x0"]) * (box["y1"] - box["y0"]))


def test_map_panels_leave_the_study_area_visible_at_1280x720(browser, demo_out):
    """At 1280×720 the layer list is collapsed to its button and the key to its title, so
    together they hide under 3 % of the area holding the facilities; the scale is metric."""
    ctx = browser.new_context(offline=True, viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url)
            if not r.url.startswith(("file:", "data:", "about:")) else None)  # fmt: skip
    try:
        page.goto((demo_out[0] / "map.html").as_uri())
        page.wait_for_timeout(2000)
        box = page.evaluate(STUDY_BOX)
        layers = page.locator(".leaflet-control-layers").bounding_box()
        legend = page.locator("#hz-legend").bounding_box()
        assert layers["width"] < 60 and layers["height"] < 60
        assert _overlap(box, layers) + _overlap(box, legend) < 0.03
        scale = page.evaluate(SCALE_TEXT)
        assert len(scale) == 1 and scale[0].strip().endswith(("m", "km"))
        assert requests == []
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "map_1280x720.png"))
        # the zoom-to-area control moves the view to a district
        before = page.evaluate("() => document.querySelector('#hz-legend').open")
        assert before is False
        page.locator("#hz-legend summary").click()
        page.select_option("#hz-zoom", index=1)
        page.wait_for_timeout(500)
    finally:
        ctx.close()


LAYER_LIST = """() => Array.from(
  document.querySelector('.leaflet-control-layers-overlays').children,
  e => [e.classList.contains('hz-group') ? 'head' : 'row', e.textContent.trim(),
        e.style.display !== 'none'])"""


def test_map_at_1400x900_keeps_the_key_beside_the_area_groups_layers_and_names_areas(
    browser, demo_out
):
    """#22: at 1400×900 the open key covered part of the study area, the layer list held two
    dozen entries in one run and no area was named on the map."""
    out, _ = demo_out
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    ctx = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    try:
        page.goto((out / "map.html").as_uri())
        page.wait_for_timeout(1500)
        assert page.evaluate("() => document.querySelector('#hz-legend').open") is True
        legend = page.locator("#hz-legend").bounding_box()
        assert _overlap(page.evaluate(STUDY_BOX), legend) < 0.005
        names = page.evaluate("() => Array.from(document.querySelectorAll('.hz-label'),"
                              " e => e.textContent)")  # fmt: skip
        assert sorted(names) == sorted(d["name"] for d in summary["districts"])
        page.locator(".leaflet-control-layers").hover()
        items = page.evaluate(LAYER_LIST)
        heads = [t for kind, t, _ in items if kind == "head"]
        labels = [c["label"] for c in summary["categories"].values()]
        assert len(heads) == 1 + len(labels)
        for label in labels:  # one heading per category, its rows right under it
            (k,) = [i for i, (kind, t, _) in enumerate(items) if kind == "head" and label in t]
            rows = [t for kind, t, _ in items[k + 1:] if kind == "row"]
            mine = [t for kind, t, _ in items if kind == "row" and t.startswith(label)]
            assert rows[: len(mine)] == mine
        shown = [t for kind, t, visible in items if kind == "row" and visible]
        assert len(shown) < len([x for x in items if x[0] == "row"]) / 2  # folded on open
        k = next(i for i, (kind, t, _) in enumerate(items)
                 if kind == "head" and t.startswith("\u25b8"))  # fmt: skip
        page.locator(".hz-group").nth(heads.index(items[k][1])).click()
        after = page.evaluate(LAYER_LIST)
        assert after[k][1].startswith("\u25be")  # unfolded: its rows are shown
        end = next((i for i in range(k + 1, len(after)) if after[i][0] == "head"), len(after))
        assert end > k + 1 and all(visible for _, _, visible in after[k + 1:end])
    finally:
        ctx.close()


def test_report_is_a4_with_no_table_wider_than_the_page(browser, demo_out):
    out, _ = demo_out
    ctx, page, errors, requests = _open(browser, out / "report.html")
    try:
        assert errors == [] and requests == []
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        text = page.inner_text("body")
        assert "主要结论 / Key findings" in text and "合成演示数据" in text
        assert "尚缺" in text and "Method and provenance" in text
        widths = page.evaluate("""() => {
          const body = document.body.getBoundingClientRect();
          return Array.from(document.querySelectorAll('table, img, figure.chart'), t => {
            const r = t.getBoundingClientRect();
            return [r.left - body.left, r.right - body.right, t.scrollWidth - t.clientWidth]; });
        }""")
        assert len(widths) >= 8
        assert all(left >= -1 and right <= 1 and over <= 1 for left, right, over in widths)
        assert page.locator("section.page").count() == 3 + len(
            json.loads((out / "summary.json").read_text("utf-8"))["categories"]
        )
        assert _screenshot_variance(page, "report.png") > 100
    finally:
        ctx.close()


def test_report_pdf_pages_hold_chinese_text(demo_out):
    """report.pdf printed by headless Chromium: A4 pages, not blank, Chinese text extractable;
    its first two pages are saved as CI artefacts."""
    import subprocess

    out, _ = demo_out
    pdf = out / "report.pdf"
    if not pdf.exists():
        if os.environ.get("HZSPATIAL_REQUIRE_BROWSER") == "1":
            pytest.fail("report.pdf missing although a browser is required")
        pytest.skip("no Chromium-family browser: report.pdf is not written")
    if shutil.which("pdftoppm") is None:
        pytest.skip("needs poppler-utils (pdftoppm, pdftotext)")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "A4" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "主要结论" in text and "汉台区" in text and "尚缺" in text
    assert "walking distance (m)" in text  # the charts are vector with real text
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True,
                            text=True).stdout.splitlines()[2:]  # fmt: skip
    assert len(images) == len(summary["categories"])  # every category's map is printed
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "2", str(pdf),
                    str(ARTEFACTS / "report_page")], check=True)  # fmt: skip
    pages = sorted(ARTEFACTS.glob("report_page-*.png"))
    assert len(pages) == 2
    for p in pages:
        assert np.asarray(Image.open(p).convert("L"), dtype=float).var() > 50


def test_static_png_is_a_real_picture(demo_out):
    out, _ = demo_out
    img = Image.open(out / "map.png")
    assert img.size[0] > 800 and img.size[1] > 600
    assert np.asarray(img.convert("L"), dtype=float).var() > 100
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / "map.png", ARTEFACTS / "static_map.png")


def test_tables_xlsx_sheets_and_bilingual_headers(demo_out):
    out, _ = demo_out
    wb = openpyxl.load_workbook(out / "tables.xlsx", read_only=True)
    assert wb.sheetnames == [
        "概要 summary",
        "区县 districts",
        "标准 standards",
        "服务不足 underserved",
        "设施 facilities",
        "居民片区 residents areas",
    ]
    header = [c.value for c in next(wb["标准 standards"].iter_rows(max_row=1))]
    assert (
        "是否达标 / Met" in header and "来源 / Source" in header and "已核实 / Verified" in header
    )
    rows = list(wb["设施 facilities"].iter_rows(values_only=True))
    assert len(rows) == 1 + 181
    # headings in words, shares as percentages, residents as whole numbers
    full = openpyxl.load_workbook(out / "tables.xlsx")["区县 districts"]
    head = {c.value: c.column_letter for c in full[1]}
    assert "养老服务设施 设施数 / Elderly care facilities" in head
    assert not any(str(h).startswith("elderly_care ") for h in head)
    share = head["幼儿园 覆盖率 / Kindergarten share covered"]
    assert full[f"{share}2"].number_format == "0.0%"
    assert full[f"{head['分析居民 / Residents analysed']}2"].number_format == "#,##0"


@pytest.fixture(scope="module")
def demo_result(demo_run):
    return demo_run


def _markers(m):
    """(lat, lon) of every facility marker of a coverage map."""
    found = []

    def walk(el):
        for child in el._children.values():
            if type(child).__name__ == "_Markers":
                found.extend(p[:2] for p in json.loads(child.data.replace("\\u003c", "<")))
            walk(child)

    walk(m)
    return np.array(found)


def test_amap_basemap_shifts_overlays_to_gcj02(demo_result):
    plain = _markers(coverage_map(demo_result))
    m = coverage_map(demo_result, basemap="amap")
    shifted = _markers(m)
    glon, glat = crs.wgs84_to_gcj02(plain[:, 1], plain[:, 0])
    np.testing.assert_allclose(shifted[:, 1], glon, atol=1e-9)
    np.testing.assert_allclose(shifted[:, 0], glat, atol=1e-9)
    moved = crs.haversine_m(plain[:, 1], plain[:, 0], shifted[:, 1], shifted[:, 0])
    assert moved.min() > 100  # GCJ-02 moves central Hanzhong by a few hundred metres
    html = m.get_root().render()
    assert "autonavi.com" in html and "GCJ-02" in html


def test_tianditu_needs_a_key(demo_result):
    with pytest.raises(InputError, match="TIANDITU_KEY"):
        coverage_map(demo_result, basemap="tianditu")
    html = coverage_map(demo_result, basemap="tianditu", tianditu_key="abc").get_root().render()
    assert "tianditu.gov.cn" in html and "tk=abc" in html


def test_unknown_basemap(demo_result):
    with pytest.raises(InputError, match="unknown basemap 'bing'"):
        coverage_map(demo_result, basemap="bing")


#: Jinja syntax: branca compiles what folium renders as a template again, so a name like this
#: was run as code (here it would print 49 and JINJA)
JINJA = "{{ 7*7 }}{% if true %}JINJA{% endif %}"
HOSTILE = [
    '</script><img src=x onerror=alert("XSS")>',
    "`${alert(2)}`\\",
    '=HYPERLINK("http://example.invalid","click")',
    "@SUM(1+1)",
    JINJA,
]
AREA = HOSTILE[0] + JINJA

BAD_CATEGORY = "<b onmouseover=alert(3)>x</b>"
OPEN_POPUPS = """() => {
  const key = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
  const texts = [];
  window[key].eachLayer(l => { if (l instanceof L.CircleMarker && l.getPopup()) {
      l.openPopup(); texts.push(l.getPopup().getElement().innerText); } });
  return texts;
}"""


@pytest.fixture(scope="module")
def hostile_out(tmp_path_factory):
    """A run whose facility names, ids, category and residents' names are hostile text."""
    import pandas as pd
    from test_population import X0, Y0, community, grid_streets, to_lonlat

    tmp = tmp_path_factory.mktemp("hostile")
    lon, lat = to_lonlat([X0 + 10, X0 + 500, X0 + 1000, X0 + 1500, X0 + 700],
                         [Y0, Y0 + 600, Y0 + 1200, Y0, Y0 + 300])  # fmt: skip
    fac = pd.DataFrame({"id": [f"{h}#{i}" for i, h in enumerate(HOSTILE)], "name": HOSTILE,
                        "category": BAD_CATEGORY, "lon": lon, "lat": lat})  # fmt: skip
    com = community()
    com["社区名称"] = [AREA]
    res = run_coverage(grid_streets(), [fac], com, com, require_standards=False,
                       extra_categories=[BAD_CATEGORY])  # fmt: skip
    out = tmp / "out"
    res.write(out)
    return out


def test_hostile_text_is_escaped_in_map_and_report(hostile_out):
    html_text = (hostile_out / "map.html").read_text("utf-8")
    assert "</script><img" not in html_text and "${alert" not in html_text
    assert "&lt;/script&gt;&lt;img" in html_text
    assert "49JINJA" not in html_text  # names are never run as Jinja templates
    report = (hostile_out / "report.html").read_text("utf-8")
    assert "</script><img" not in report and "<b onmouseover" not in report
    assert "49JINJA" not in report


def test_hostile_names_are_text_in_tables(hostile_out):
    wb = openpyxl.load_workbook(hostile_out / "tables.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert any(c.value == HOSTILE[2] for c in cells)  # shown as written …
    assert all(c.data_type != "f" for c in cells)  # … never a formula
    import pandas as pd

    area = pd.read_csv(hostile_out / "coverage_by_area.csv", encoding="utf-8-sig")
    assert area["name"].tolist() == [AREA]
    ratios = (hostile_out / "catchments.geojson").read_text("utf-8")
    assert "onerror" in ratios  # data files keep the text as it is; only display escapes it


def test_hostile_map_runs_no_script_and_draws_everything(browser, hostile_out):
    dialogs = []
    for name in ("map.html", "report.html"):
        ctx, page, errors, requests = _open(browser, hostile_out / name)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            page.reload()
            page.wait_for_timeout(1500)
            assert dialogs == [] and errors == [] and requests == []
            if name == "map.html":
                stats = page.evaluate(MAP_STATS)
                assert stats["markers"] == len(HOSTILE) and stats["paths"] > 0
                assert page.locator("img[src=x]").count() == 0
                shown = page.evaluate(OPEN_POPUPS)
                assert any(HOSTILE[0] in t for t in shown)  # shown as text, not run
                assert any(JINJA in t for t in shown)  # … and not run as a template
                zoom = page.evaluate("() => Array.from(document.querySelectorAll("
                                     "'#hz-zoom option'), o => o.textContent)")  # fmt: skip
                assert zoom[1:] == [AREA]
                labels = page.evaluate("() => Array.from(document.querySelectorAll("
                                       "'.hz-label'), e => e.textContent)")  # fmt: skip
                assert labels == [AREA]  # the area's name on the map, as text
                assert page.locator("img[src=x]").count() == 0 and dialogs == []
        finally:
            ctx.close()


SCALE_TEXT = (
    "() => Array.from(document.querySelectorAll('.leaflet-control-scale-line'), e => e.textContent)"
)


def test_scale_bars_are_metric_and_review_map_has_a_category_key(browser, demo_out, tmp_path):
    from hzspatial import FacilityInput
    from hzspatial.datasets import demo_paths
    from hzspatial.review import review_districts

    p = demo_paths()
    res = review_districts(p["proposals"], p["network"], [FacilityInput(p["facilities"])],
                           residents_file=p["population"])  # fmt: skip
    res.write(tmp_path / "review")
    for path in (demo_out[0] / "map.html", tmp_path / "review" / "map.html"):
        ctx, page, errors, requests = _open(browser, path)
        try:
            assert errors == [] and requests == []
            scale = page.evaluate(SCALE_TEXT)
            assert len(scale) == 1 and scale[0].strip().endswith(("m", "km"))
            if "review" in str(path):
                legend = page.locator("#hz-legend").inner_text()
                assert "计入的设施 / facilities counted" in legend
                from hzspatial.categories import builtin_categories

                counted = set(res.counted["category"])
                assert counted and all(builtin_categories()[c].label in legend for c in counted)
        finally:
            ctx.close()


def _margins_white(path: Path, px: int = 3) -> bool:
    a = np.asarray(Image.open(path).convert("L"))
    return bool((a[:px] > 250).all() and (a[-px:] > 250).all()
                and (a[:, :px] > 250).all() and (a[:, -px:] > 250).all())  # fmt: skip


@pytest.mark.parametrize("n", [1, 6])
def test_static_map_keeps_everything_inside_with_1_to_6_categories(demo_result, tmp_path, n):
    """Title, panels, key and footer stay inside the picture (white margins all round)."""
    import dataclasses

    from hzspatial.maps import coverage_png

    base = demo_result.summary["categories"]
    cats = [list(base)[i % len(base)] for i in range(n)]
    names = [c if i < len(base) else f"{c}_{i}" for i, c in enumerate(cats)]
    summary = dict(demo_result.summary)
    summary["categories"] = {nm: base[c] for nm, c in zip(names, cats, strict=True)}
    parts = {"facilities": [], "catchments": [], "underserved": []}
    for nm, c in zip(names, cats, strict=True):
        for key in parts:
            df = getattr(demo_result, key)
            parts[key].append(df[df["category"] == c].assign(category=nm))
    import pandas as pd

    frames = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    res = dataclasses.replace(demo_result, summary=summary, **frames)
    path = coverage_png(res, tmp_path / "map.png")
    assert _margins_white(path)
    img = Image.open(path)
    assert img.size[0] >= 1000  # 180 mm wide at 150 dpi: legible printed on A4


def test_category_colours_are_never_the_underserved_reds():
    """Catchments take the category's colour and underserved areas reds: no category may be
    red or pink, or a clinic's catchment reads as an underserved area (issue 13)."""
    import colorsys

    from hzspatial.categories import builtin_categories
    from hzspatial.maps.style import BELOW_STANDARD, NO_FACILITY, NO_FACILITY_RAMP

    def hue(colour):
        r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        return h * 360, s, v

    for c in builtin_categories().values():
        h, s, _ = hue(c.colour)
        assert s < 0.25 or 25 < h < 300, f"{c.id} {c.colour} is red or pink"
    for red in (NO_FACILITY, BELOW_STANDARD, *NO_FACILITY_RAMP):
        h, s, _ = hue(red)
        assert h < 25 or h > 330


def test_names_with_dollar_signs_are_drawn_as_written(demo_result):
    """A district or category name holding ``$…$`` is text in the static maps (not TeX for
    matplotlib) and the charts (``$\\nosuchsymbol$`` used to stop the drawing)."""
    import dataclasses
    import xml.etree.ElementTree as ET

    from hzspatial.maps.static import category_png, plain
    from hzspatial.report import chart_svg

    bad = "汉台区 $\\nosuchsymbol$"
    d = demo_result.districts.copy()
    d.loc[0, "name"] = bad
    res = dataclasses.replace(demo_result, districts=d)
    assert bad in "".join(ET.fromstring(chart_svg(res, "clinic")).itertext())
    assert category_png(res, "clinic")[:4] == b"\x89PNG"
    assert plain(bad) == "汉台区 \\$\\nosuchsymbol\\$"


def test_static_fills_paint_overlaps_once_and_keep_holes_open():
    """Static-map fills (one path per layer): two overlapping squares drawn translucent are
    as light where they overlap as elsewhere, and a block hole stays open whichever way its
    rings were drawn (a hole drawn in the exterior's direction used to be filled)."""
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from hzspatial.maps.static import _fill

    cw_hole = shapely.Polygon([(5, 0), (9, 0), (9, 4), (5, 4)],
                              [[(6, 1), (8, 1), (8, 3), (6, 3)]])  # fmt: skip
    geoms = np.array([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3), cw_hole,
                      shapely.Point(0, 9), None], dtype=object)  # fmt: skip
    fig = Figure(figsize=(1, 1), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    _fill(ax, geoms, facecolor="red", alpha=0.5, edgecolor="none")
    fig.canvas.draw()
    px = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)

    def at(x, y):
        return tuple(px[int(100 - y * 10), int(x * 10)])

    assert at(1.5, 1.5) == at(0.5, 0.5) == at(2.5, 2.5) != at(4, 8)  # overlap not darker
    assert at(7, 2) == at(4, 8) == (255, 255, 255)  # the hole is open
    assert at(5.5, 0.5) == at(0.5, 0.5)
    assert ax.get_xlim() == (0, 10)  # the map's extent is not grown by what is drawn


def test_feature_collection_matches_geopandas_geojson():
    """The overlays' GeoJSON text against geopandas' own writer: same geometries and
    properties; NaN as null; empty geometries left out; nothing can close the script."""
    import geopandas as gpd
    import shapely

    from hzspatial.maps.layers import feature_collection, script_json

    gdf = gpd.GeoDataFrame(
        {"name": ["a</script>", "b", "c"], "v": [1.5, np.nan, 3.0], "ok": [True, None, False]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.Point(2, 3), shapely.Polygon()], crs=4326,
    )  # fmt: skip
    ours = json.loads(feature_collection(gdf))["features"]
    theirs = json.loads(gdf.iloc[:2].to_json(na="null", drop_id=True))["features"]
    assert len(ours) == 2
    for a, b in zip(ours, theirs, strict=True):
        assert shapely.from_geojson(json.dumps(a["geometry"])).equals(
            shapely.from_geojson(json.dumps(b["geometry"])))  # fmt: skip
        assert a["properties"] == b["properties"]
    assert ours[1]["properties"] == {"name": "b", "v": None, "ok": None}
    text = script_json(feature_collection(gdf))
    assert "<" not in text and json.loads(text)["features"][0]["properties"]["name"] == "a</script>"


LAYER_STYLES = """() => {
  const key = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
  const out = [];
  const walk = l => { if (l.feature && l.options) { out.push({p: l.feature.properties,
      fill: l.options.fillColor || null, tip: l.getTooltip() ? 1 : 0}); }
      if (l.eachLayer) l.eachLayer(walk); };
  window[key].eachLayer(walk);
  return out;
}"""


def test_map_layers_are_coloured_by_their_values(browser, demo_out):
    """Drawn in Chromium: standards areas coloured met/not met from their value, no-facility
    areas on the red ramp by the persons their category serves per km², each category on its
    own scale (its densest = the ramp's last colour; tooltips name the group), every
    area with a tooltip that shows the standard's value, target and gap."""
    from hzspatial.maps.interactive import MET_COLOURS
    from hzspatial.maps.style import BELOW_STANDARD, NO_FACILITY_RAMP

    out, _ = demo_out
    ctx, page, errors, _ = _open(browser, out / "map.html")
    try:
        page.evaluate("""() => document.querySelectorAll('.leaflet-control-layers-overlays input')
            .forEach(i => { if (!i.checked) i.click(); })""")  # every layer shown
        feats = page.evaluate(LAYER_STYLES)
        std = [f for f in feats if "met_key" in f["p"]]
        assert std and all(f["fill"] == MET_COLOURS[f["p"]["met_key"]] for f in std)
        assert {f["p"]["met_key"] for f in std} == {True, False}
        far = [f for f in feats if "density" in f["p"] and f["fill"] != BELOW_STANDARD]
        assert any(f["fill"] == BELOW_STANDARD for f in feats)
        # each category on its own scale of the persons it serves: its densest area is the
        # ramp's last colour even where children per km² are far below residents per km²
        tops = {}
        for cat in {f["p"]["category"] for f in far}:
            mine = [f for f in far if f["p"]["category"] == cat]
            dens = np.array([f["p"]["density"] for f in mine])
            top = [f for f in mine if f["p"]["density"] == dens.max()][0]
            assert top["fill"] == NO_FACILITY_RAMP[-1], cat
            low = [f for f in mine if f["p"]["density"] == dens.min()][0]
            assert low["fill"] != NO_FACILITY_RAMP[-1], cat
            tops[cat] = dens
        assert tops["kindergarten"].max() < np.quantile(tops["clinic"], 0.5)
        assert all(f["tip"] for f in feats)
        texts = page.evaluate("""() => { const key = Object.keys(window).find(k =>
            k.startsWith('map_') && window[k] instanceof L.Map); let t = null;
            const walk = l => { if (!t && l.feature && 'gap_text' in l.feature.properties) {
              l.openTooltip(l.getBounds().getCenter()); t = l.getTooltip().getElement().innerText; }
              if (l.eachLayer) l.eachLayer(walk); };
            window[key].eachLayer(walk); return t; }""")
        assert "现状 / Value" in texts and "目标 / Target" in texts and "缺口 / Gap" in texts
        kid = page.evaluate("""() => { const key = Object.keys(window).find(k =>
            k.startsWith('map_') && window[k] instanceof L.Map); let t = null;
            const walk = l => { if (!t && l.feature && l.feature.properties.category ===
                'kindergarten' && 'density' in l.feature.properties) {
              l.openTooltip(l.getBounds().getCenter()); t = l.getTooltip().getElement().innerText; }
              if (l.eachLayer) l.eachLayer(walk); };
            window[key].eachLayer(walk); return t; }""")
        assert "3–6" in kid and "per km²" in kid  # the tooltip names whom it counts
        assert errors == []
    finally:
        ctx.close()


def test_write_report_html_embeds_every_map(demo_result, tmp_path):
    """The report written on its own (maps drawn here) holds each category's map as an image
    of its own, and no slot is left unfilled."""
    import base64
    import io
    import re

    from hzspatial.report import write_report_html

    html = write_report_html(demo_result, tmp_path / "report.html").read_text("utf-8")
    srcs = re.findall(r'<img id="hz-map-(\d)"[^>]* src="data:image/jpeg;base64,([^"]*)"', html)
    assert [int(k) for k, _ in srcs] == list(range(len(demo_result.summary["categories"])))
    for _, data in srcs:
        assert Image.open(io.BytesIO(base64.b64decode(data))).size[0] > 800
    assert "<!--hz-map-" not in html


def test_report_standards_table_says_what_applies_in_both_languages(demo_out):
    """"0.000" where nothing applies, notes in English only, a header wrapping as
    "Verifi/ed", a two-row table split over pages, and a method text saying people were put
    on the streets whatever the spread."""
    import re

    out, _ = demo_out
    html = (out / "report.html").read_text("utf-8")
    std = html[html.index("标准达标情况"):]
    std = std[: std.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", std, flags=re.S)
    cannot = [r for r in rows if "无法判断 / cannot check" in r]
    assert cannot and all("0.000" not in r for r in cannot)
    assert all("无法核查" in r for r in cannot)  # the note's Chinese lead
    assert re.search(r"<col style='width:9%'>", std)  # room for "Verified"
    assert "table.small { break-inside: avoid; }" in html
    assert re.search(r"<table class='small'><colgroup>.*?区县|<table class='small'>", html)
    assert "--spread area" in html and "按面积均匀分布" in html


def test_results_gpkg_opens_styled_in_the_maps_colours(demo_out):
    """#29: results.gpkg holds the areas, catchments, underserved areas and facilities of the
    run, each with its QGIS style in ``layer_styles`` as QGIS writes it (the default style:
    the layer opens coloured) — in the colours of map.html: each category's own, the reds of
    the underserved; codes stay text."""
    import sqlite3
    import xml.etree.ElementTree as ET

    import pyogrio

    from hzspatial.categories import builtin_categories
    from hzspatial.maps.style import BELOW_STANDARD, NO_FACILITY

    out, _ = demo_out
    path = out / "results.gpkg"
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    layers = {n: t for n, t in pyogrio.list_layers(path)}
    assert {"areas", "catchments", "underserved", "facilities"} <= set(layers)
    con = sqlite3.connect(path)
    geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    rows = con.execute("SELECT f_table_name, f_geometry_column, styleQML, useAsDefault "
                       "FROM layer_styles").fetchall()  # fmt: skip
    assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                       "'layer_styles'").fetchone() == ("attributes",)  # fmt: skip
    said = con.execute("SELECT description FROM gpkg_contents WHERE table_name = "
                       "'facilities'").fetchone()[0]  # fmt: skip
    assert "synthetic demo data" in said  # the demo's layers say what they are
    con.close()
    styles = {r[0]: ET.fromstring(r[2].split("\n", 1)[1]) for r in rows}
    assert set(styles) == set(geom) and all(r[1] == geom[r[0]] and r[3] == 1 for r in rows)

    def colour_of(root, value):
        cat = next(c for c in root.iter("category") if c.get("value") == value)
        sym = next(s for s in root.iter("symbol") if s.get("name") == cat.get("symbol"))
        props = {p.get("name"): p.get("value") for p in sym.iter("Option") if p.get("name")}
        legacy = {p.get("k"): p.get("v") for p in sym.iter("prop")}
        assert props == legacy  # QGIS 3.22 reads <prop>, newer ones <Option>
        return props["color"], props["outline_style"] if "outline_style" in props else None

    def rgb(hex_colour):
        h = hex_colour.lstrip("#")
        return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))

    cats = builtin_categories()
    for name in ("catchments", "facilities"):
        root = styles[name]
        assert root.find("renderer-v2").get("attr") == "category"
        got = set(pyogrio.read_dataframe(path, layer=name, read_geometry=False)["category"])
        assert got == set(summary["categories"])
        for c in got:
            assert colour_of(root, c)[0].startswith(rgb(cats[c].colour) + ",")
    far, far_line = colour_of(styles["underserved"], "no_facility")
    short, short_line = colour_of(styles["underserved"], "below_standard")
    assert far.startswith(rgb(NO_FACILITY)) and short.startswith(rgb(BELOW_STANDARD))
    assert short_line == "dash" and far_line == "solid"
    areas = pyogrio.read_dataframe(path, layer="areas")
    ids = areas["district_id"].tolist()  # codes stay text, not numbers
    assert "610702" in ids and all(isinstance(v, str) for v in ids)
    under = pyogrio.read_dataframe(path, layer="underserved", read_geometry=False)
    assert len(under) == len(json.loads((out / "underserved.geojson").read_text("utf-8"))[
        "features"])  # fmt: skip


def test_qgis_styles_keep_hostile_names_as_text():
    """A category id or label with quotes, angle brackets and ampersands is an attribute
    value in the QML, never markup: the document parses and gives them back as written."""
    import xml.etree.ElementTree as ET

    from hzspatial.maps.qgis_style import Symbol, categorized_qml

    bad = "\"/><script>alert('x')</script>&amp;"
    qml = categorized_qml(bad, [(bad, bad + " 标签", Symbol("fill", "#112233", "#445566", 0.5))],
                          label_field=bad)  # fmt: skip
    root = ET.fromstring(qml.split("\n", 1)[1])
    assert root.find("renderer-v2").get("attr") == bad
    cat = root.find(".//category")
    assert cat.get("value") == bad and cat.get("label") == bad + " 标签"
    assert root.find(".//text-style").get("fieldName") == bad
    assert "<script>" not in qml


def _debian_qgis() -> bool:
    import subprocess

    try:
        return subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"],
                              capture_output=True, timeout=60).returncode == 0  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_qgis_opens_results_gpkg_in_the_maps_colours(demo_out):
    """#29, in QGIS itself (Debian's 3.22, python3-qgis): every layer of results.gpkg is
    valid, QGIS loads its default style from the file, and draws the categories in the
    colours of map.html — no 'partially supported GeoPackage' warning either."""
    import os
    import subprocess

    from hzspatial.categories import builtin_categories
    from hzspatial.maps.style import NO_FACILITY

    if not _debian_qgis():
        if os.environ.get("HZSPATIAL_REQUIRE_QGIS"):
            pytest.fail("Debian's python3-qgis is required here (HZSPATIAL_REQUIRE_QGIS)")
        pytest.skip("QGIS (Debian python3-qgis) not installed")
    out, _ = demo_out
    layers = ["areas", "catchments", "underserved", "facilities"]
    proc = subprocess.run(["/usr/bin/python3", str(Path(__file__).parent / "_qgis_layers.py"),
                           str(out / "results.gpkg"), *layers], capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "partially supported" not in proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert all(got[n]["valid"] and got[n]["style_loaded"] and got[n]["features"] > 0
               for n in layers)  # fmt: skip
    for n in ("catchments", "facilities"):
        assert got[n]["renderer"] == "categorizedSymbol" and got[n]["attr"] == "category"
        assert set(got[n]["colours"]) == set(summary["categories"])
        for c, (colour, _) in got[n]["colours"].items():
            assert colour == builtin_categories()[c].colour.lower(), (n, c)
    assert got["underserved"]["colours"]["no_facility"][0] == NO_FACILITY
    assert got["areas"]["labels"] and got["areas"]["colours"]["*"][1] == 0  # outlined, named
