"""The planner's report (``report.html`` laid out for A4, printed to ``report.pdf``) and the
XLSX tables of a coverage run. Chinese first, English beside it.

Page 1 says what was analysed and the key findings, in sentences generated from the numbers;
then one section per category (static map, walking-distance distribution, coverage by area),
the standards with their sources, and the method and provenance of every input.
"""

from __future__ import annotations

import base64
import logging
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hzspatial.io.boundaries import LEVELS
from hzspatial.io.writers import html_text, write_xlsx
from hzspatial.labels import (
    bilingual,
    distance_phrase,
    fmt_number,
    fmt_target,
    gap_text,
    is_share,
    labels,
    pct,
    reach_words,
    within_words,
)

if TYPE_CHECKING:
    from hzspatial.results import CoverageResult
    from hzspatial.standards import Standard

__all__ = [
    "chart_svg",
    "findings",
    "map_id",
    "map_sources",
    "report_page",
    "report_tables",
    "with_maps",
    "write_report_html",
    "write_site_report",
    "write_tables_xlsx",
]

logger = logging.getLogger(__name__)


def report_tables(result: CoverageResult) -> dict[str, pd.DataFrame]:
    """The report's tables keyed by sheet name (English columns)."""
    s = result.summary
    cats = pd.DataFrame([{"category": v["label"], "facilities": v["facilities"],
                          "threshold_m": v["threshold_m"],
                          "covered_population": v["covered_population"],
                          "coverage_share": v["coverage_share"],
                          "median_distance_m": v["median_distance_m"],
                          "p90_distance_m": v["p90_distance_m"]}
                         for v in s["categories"].values()])  # fmt: skip
    fac = pd.DataFrame(result.facilities[["facility_id", "name", "category", "area_m2", "beds",
                                          "places", "district_id", "snapped"]])  # fmt: skip
    under = result.underserved_table if result.underserved_table is not None else pd.DataFrame()
    return {
        "概要 summary": cats,
        area_sheet(result): result.districts,
        "标准 standards": result.ratios,
        "服务不足 underserved": under,
        "设施 facilities": fac,
        "居民片区 residents areas": result.by_area,
    }


def area_sheet(result: CoverageResult) -> str:
    """Sheet name of the per-area table by the boundaries' level: ``"区县 districts"``,
    ``"街道 subdistricts"`` or ``"社区 communities"``."""
    zh, _, plural = LEVELS[result.summary.get("boundary_level", "district")]
    return f"{zh} {plural.split(' ')[0].lower()}"


#: A sheet of tables.xlsx holds at most this many rows; a longer table (residents areas of a
#: city of blocks or buildings) is in its CSV, and the sheet says so.
XLSX_MAX_ROWS = 50_000
_CSV_OF_SHEET = {"居民片区 residents areas": "coverage_by_area.csv"}


def write_tables_xlsx(result: CoverageResult, path: str | Path) -> Path:
    """``tables.xlsx``: one sheet per table, bilingual headings. A table longer than
    :data:`XLSX_MAX_ROWS` rows is replaced by a note naming the CSV that holds all its rows."""
    sheets = {}
    for name, df in report_tables(result).items():
        if len(df) > XLSX_MAX_ROWS:
            csv = _CSV_OF_SHEET.get(name, "the CSV files")
            logger.info("tables.xlsx: %s has %d rows; the sheet points to %s", name, len(df), csv)
            df = pd.DataFrame({"说明 / Note": [
                f"{len(df):,} 行，过多不便在表格中查看，完整数据见 {csv} / {len(df):,} rows, too "
                f"many for a useful sheet: all rows are in {csv}"]})  # fmt: skip
        sheets[name] = df.rename(columns=bilingual)
    write_xlsx(sheets, path)
    return Path(path)


def _value_text(value: float, unit: str) -> tuple[str, str]:
    if is_share(unit):
        return pct(value), pct(value)
    return fmt_number(value), fmt_number(value)


#: Areas named in a finding (the lowest shares, the largest gaps); the rest are in the tables.
WORST_AREAS = 3


def findings(result: CoverageResult) -> list[tuple[str, str]]:
    """Key findings as (中文, English) sentences generated from the numbers, grouped so that
    their number does not grow with the areas: per category the share of residents within the
    threshold and the areas with the lowest shares; per standard the study area's value,
    target, met or not and gap, and the areas that fall short with the largest gaps (every
    area's figures are in the report's tables).

    e.g. ``("全区：每万人拥有足球场地 0.566 块/万人，规划目标 1 块/万人，未达标，尚缺 20 块；
    2 个区域中 2 个未达标，缺口最大：汉台区 16 块、南郑区 5 块。", …)``.
    """
    s = result.summary
    stds = {x.id: x for x in result.standards}
    units_zh = labels()["units_zh"]
    several = len(s["districts"]) > 1
    out = []
    for cat, info in s["categories"].items():
        zh, en = _cat_names(info["label"])
        text_zh, text_en = _reach_text(info, zh, en)
        key = "coverage_share" if info["serves"]["group"] == "all" else "group_share"
        shares = sorted((d["coverage"][cat][key], str(d["name"]))
                        for d in s["districts"] if cat in d["coverage"]
                        and d["coverage"][cat].get(key) is not None
                        and d["coverage"][cat][key] == d["coverage"][cat][key])  # fmt: skip
        if several and shares:
            low = shares[:WORST_AREAS]
            text_zh += "；最低：" + "、".join(f"{n} {pct(v, 0)}" for v, n in low)
            text_en += "; lowest: " + ", ".join(f"{n} {pct(v, 0)}" for v, n in low)
        out.append((text_zh + "。", text_en + "."))
    rows = result.ratios[result.ratios["value"].notna()]
    top = "study area" if several else str(s["districts"][0]["adcode"]) if s["districts"] else ""
    for sid, mine in rows.groupby("standard", sort=False):
        std = stds.get(sid)
        total = mine[(mine["district_id"] == top) & (mine["metric"] != "built_since")]
        areas = mine[mine["district_id"] != "study area"] if several else mine.iloc[:0]
        if len(total):
            area = "全区 / study area" if several else str(s["districts"][0]["name"])
            zh, en = _standard_sentence(total.iloc[0].to_dict(), std, area, units_zh)
        elif len(areas):
            zh, en = (f"{x}：" for x in _cat_names(mine["label"].iloc[0]))
        else:
            continue
        if len(areas):
            more_zh, more_en = _areas_short(areas, std)
            zh, en = zh.rstrip("。") + more_zh, en.rstrip(".") + more_en
        out.append((zh if zh.endswith("。") else zh + "。", en if en.endswith(".") else en + "."))
    return out


def _reach_text(info: dict, zh: str, en: str) -> tuple[str, str]:
    """A category's reach in the persons it serves, e.g. ``养老服务设施：60岁及以上老人约
    111,642 人（按普查比例估算），其中 46% 步行 15 分钟内可达``."""
    g, metres = info["serves"], info["threshold_m"]
    rz, re_ = reach_words(info)
    within = f"within {metres:,.0f} m" if info.get("mode", "walk") == "walk" else f"within a {re_}"
    if g["group"] == "all":
        return (f"{zh}：{pct(info['coverage_share'], 0)} 的居民{rz}内可达",
                f"{en}: {pct(info['coverage_share'], 0)} of residents {within}")
    gz, ge = (g["label"].split(" / ") + [g["label"]])[:2]
    est_zh, est_en = ("（按普查比例估算）", ", estimated from census shares") if g["estimated"] \
        else ("", "")
    return (f"{zh}：{gz}约 {fmt_number(g['persons'])} 人{est_zh}，其中 {pct(g['share'], 0)} "
            f"{rz}内可达",
            f"{en}: {pct(g['share'], 0)} of {ge} (≈ {fmt_number(g['persons'])}{est_en}) "
            f"{within}")  # fmt: skip


def _areas_short(areas: pd.DataFrame, std: Standard | None) -> tuple[str, str]:
    """How many of the areas fall short of a standard and the largest gaps, as clauses."""
    unmet = areas[areas["met"].map(lambda v: v is not None and v == v and not bool(v))]
    judged = int(areas["met"].map(lambda v: v is not None and v == v).sum())
    if not judged:
        return "", ""
    if not len(unmet):
        return f"；{judged} 个区域均达标", f"; met in all {judged} areas"
    worst = unmet.sort_values("gap", ascending=False, na_position="last").head(WORST_AREAS)
    gaps = [(str(r["district"]), *(gap_text(std, r["gap"]) if std is not None
                                   else (fmt_number(r["gap"]),) * 2))
            for r in worst.to_dict("records")]  # fmt: skip
    return (f"；{judged} 个区域中 {len(unmet)} 个未达标，缺口最大："
            + "、".join(f"{n} {g}" for n, g, _ in gaps),
            f"; not met in {len(unmet)} of {judged} areas, largest gaps: "
            + ", ".join(f"{n} {g}" for n, _, g in gaps))  # fmt: skip


def _cat_names(label: str) -> tuple[str, str]:
    zh, _, en = label.partition(" / ")
    return zh, en or zh


def _standard_sentence(r: dict, std: Standard | None, area: str, units_zh: dict):
    zh_label, en_label = _cat_names(r["label"])
    unit = r["unit"]
    vz, ve = _value_text(r["value"], unit)
    tz = pct(r["target"], 0) if is_share(unit) else fmt_target(r["target"])
    uz = "" if is_share(unit) else f" {units_zh.get(unit, unit)}"
    ue = "" if is_share(unit) else f" {unit}"
    area_zh, _, area_en = area.partition(" / ")
    area_en = area_en or area_zh
    if r["met"] is True:
        return (f"{area_zh}：{zh_label} {vz}{uz}，规划目标 {tz}{uz}，达标。",
                f"{area_en}: {en_label} {ve}{ue}, target {tz}{ue}: met.")  # fmt: skip
    gap_zh, gap_en = gap_text(std, r["gap"]) if std is not None else (fmt_number(r["gap"]),) * 2
    return (
        f"{area_zh}：{zh_label} {vz}{uz}，规划目标 {tz}{uz}，未达标，尚缺 {gap_zh}。",
        f"{area_en}: {en_label} {ve}{ue}, target {tz}{ue}: not met, {gap_en} short.",
    )


# --- charts --------------------------------------------------------------------------------


def chart_svg(result: CoverageResult, cat: str) -> str:
    """Walking-distance distribution (share of residents within x metres, per area and the
    whole study area, the threshold marked) beside coverage by area as bars (inline SVG,
    :func:`hzspatial.charts.distance_chart_svg`)."""
    from hzspatial.charts import distance_chart_svg

    info = result.summary["categories"][cat]
    d = result.demand
    groups = [("全区 / all", np.ones(len(d), bool))]
    if len(result.districts) > 1:
        groups += [(str(n), (d["district_id"] == i).to_numpy())
                   for i, n in zip(result.districts["district_id"], result.districts["name"],
                                   strict=True)]  # fmt: skip
    bars = list(zip(result.districts["name"].astype(str),
                    result.districts[f"{cat}_coverage_share"].to_numpy(dtype=float),
                    strict=True))  # fmt: skip
    return distance_chart_svg(d[f"dist_{cat}_m"].to_numpy(dtype=float),
                              d["population"].to_numpy(dtype=float), info["threshold_m"],
                              groups, bars)  # fmt: skip


# --- HTML ----------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
       color: #222; font-size: 10pt; line-height: 1.45; margin: 0 auto; max-width: 182mm; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h1 small { display: block; font-size: 11pt;
     color: #555; font-weight: normal; }
h2 { font-size: 13pt; border-bottom: 1.5pt solid #333; padding-bottom: 2pt; margin-top: 12pt; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; }
.en { color: #555; font-size: 8.5pt; }
section.page { break-after: page; }
section.page:last-child { break-after: auto; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: 8.5pt;
        margin: 4pt 0 8pt; }
th, td { border: 0.5pt solid #bbb; padding: 2pt 4pt; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eee; text-align: left; font-weight: 600; overflow-wrap: break-word; }
tr { break-inside: avoid; } thead { display: table-header-group; }
table.small { break-inside: avoid; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: 34mm 1fr; gap: 2pt 8pt; margin: 6pt 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
ul.findings { padding-left: 14pt; margin: 4pt 0; } ul.findings li { margin-bottom: 3pt; }
.met { color: #1a7f37; font-weight: 600; } .notmet { color: #c62828; font-weight: 600; }
.badge { background: #fff3cd; border: 1pt solid #e0a800; padding: 4pt 8pt; font-weight: 600; }
img { max-width: 100%; display: block; margin: 4pt auto; }
figure.chart { margin: 4pt 0; break-inside: avoid; }
figure.chart svg { display: block; width: 100%; height: auto; }
code, .hash { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 7.5pt;
              overflow-wrap: anywhere; }
footer { color: #777; font-size: 8pt; margin-top: 10pt; }
"""


#: Tables of at most this many rows are never split over two pages (a two-row district table
#: split into pages of one row each).
SMALL_TABLE_ROWS = 12

#: Chinese for the starts of the standards' English notes (the report is Chinese first).
_NOTE_ZH = (("cannot check:", "无法核查："), ("partial:", "部分范围（仅供参考）："),
            ("for reference:", "仅供参考："))


def _note_text(note: str) -> str:
    """A standard's note in the report: its Chinese lead, then the English text."""
    for en, zh in _NOTE_ZH:
        if note.startswith(en):
            return f"{zh}<br><span class='en'>{html_text(note)}</span>"
    return html_text(note)


def _table(head: list[str], rows: list[list[str]], widths: list[int] | None = None,
           numeric: set[int] = frozenset()) -> str:  # fmt: skip
    cols = ""
    if widths:
        cols = "<colgroup>" + "".join(f"<col style='width:{w}%'>" for w in widths) + "</colgroup>"
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f"<td class='n'>{c}</td>" if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)  # fmt: skip
    small = " class='small'" if len(rows) <= SMALL_TABLE_ROWS else ""  # kept on one page
    return f"<table{small}>{cols}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _met(v, note: str = "") -> str:
    if v is True:
        return "<span class='met'>达标 / met</span>"
    if v is False:
        return "<span class='notmet'>未达标 / not met</span>"
    if note.startswith("partial"):
        return "部分范围 / partial"
    if note.startswith("for reference"):
        return "仅供参考 / for reference"
    return "无法判断 / cannot check"


def _first_page(result: CoverageResult) -> str:
    s = result.summary
    level = s.get("boundary_level", "district")
    zh_level, en_level, _ = LEVELS[level]
    areas = "、".join(html_text(str(d["name"])) for d in s["districts"])
    sources = "<br>".join(
        f"{html_text(i['role'])}: {html_text(Path(i['path']).name)}"
        + (" <b>(合成 / synthetic)</b>" if i.get("synthetic") else "")
        for i in s["inputs"]
    )
    badge = ""
    if result.synthetic:
        badge = ("<p class='badge'>合成演示数据 / SYNTHETIC DEMO DATA — generated, not surveyed: "
                 f"{html_text(result.synthetic_note)}. 结论仅用于演示 / Findings illustrate the "
                 "tool only.</p>")  # fmt: skip
    cats = "、".join(html_text(_cat_names(v["label"])[0]) for v in s["categories"].values())
    items = "".join(f"<li>{html_text(zh)}<br><span class='en'>{html_text(en)}</span></li>"
                    for zh, en in findings(result))  # fmt: skip
    return f"""<section class="page">
<h1>公共服务设施15分钟生活圈评估报告<small>15-minute walking access to public services — report</small></h1>
{badge}
<dl class="facts">
<dt>分析范围 / Area</dt><dd>{areas} （{html_text(zh_level)} / {html_text(en_level)}）</dd>
<dt>居民 / Residents</dt><dd>{s["population"]:,} 人 analysed</dd>
<dt>设施类别 / Facilities</dt><dd>{cats}</dd>
<dt>步行阈值 / Threshold</dt><dd>{s["threshold_minutes"]:g} 分钟 @ {s["speed_kmh"]:g} km/h =
{s["threshold_m"]:,.0f} m {html_text(" / ".join(distance_phrase(s)))}</dd>{_travel_facts(s)}{_slope_facts(s)}
<dt>数据来源 / Data</dt><dd>{sources}</dd>
</dl>
<h2>主要结论 / Key findings</h2>
<ul class="findings">{items}</ul>
</section>"""  # noqa: E501


def _travel_facts(s: dict) -> str:
    """With categories reached by several modes: each one's mode and minutes."""
    per = (s.get("travel") or {}).get("categories")
    if not per:
        return ""
    rows = "; ".join(f"{html_text(s['categories'][c]['label'])}: "
                     f"{html_text(' / '.join(reach_words(s['categories'][c])))}"
                     for c in per if c in s["categories"])  # fmt: skip
    return f"<dt>出行方式 / Travel</dt><dd>{rows}</dd>"


def _slope_facts(s: dict) -> str:
    """With a DEM: what slope changed, per category for the study area and each district."""
    effect = s.get("slope_effect")
    if not effect:
        return ""
    rows = "".join(f"<li>{html_text(line)}</li>" for info in effect.values()
                   for line in [info["text"], *(d["text"] for d in info["districts"])])
    return f"<dt>坡度的影响 / What slope changed</dt><dd><ul>{rows}</ul></dd>"


def _category_section(result: CoverageResult, cat: str, k: int) -> str:
    info = result.summary["categories"][cat]
    zh, en = _cat_names(info["label"])
    ut = result.underserved_table
    mine = ut[ut["category"] == cat] if ut is not None else pd.DataFrame()
    under = {r["district_id"]: r for r in mine.to_dict("records")}
    g = info["serves"]
    cols = (("residents_analysed", f"{cat}_covered", f"{cat}_coverage_share")
            if g["group"] == "all" else
            (f"{cat}_group_persons", f"{cat}_group_covered", f"{cat}_group_share"))
    rows = []
    for r in result.districts.to_dict("records"):
        u = under.get(r["district_id"], {})
        rows.append([html_text(str(r["name"])), fmt_number(r[cols[0]]),
                     fmt_number(r[cols[1]]), pct(r[cols[2]]),
                     fmt_number(r[f"{cat}_median_distance_m"]),
                     fmt_number(u.get("no_facility")), fmt_number(u.get("below_standard")),
                     str(r[f"{cat}_facilities"])])  # fmt: skip
    who = ("居民 / Residents" if g["group"] == "all"
           else g["label"] + (" （估算 / estimated）" if g["estimated"] else ""))
    head = ["区域 / Area", who, "覆盖 / Covered", "覆盖率 / Share",
            "中位步行距离 / Median walk (m)", "范围内无设施 / No facility in reach",
            "可达但低于标准 / In reach, below standard", "设施数 / Facilities"]  # fmt: skip
    reach_zh, reach_en = _reach_text(info, zh, en)
    source = ("" if g["group"] == "all" else f"<p class=\"en\">统计对象 / counted: "
              f"{html_text(g['label'])} — {html_text(g['source'])}"
              + (f"; {html_text(g['method'])}" if g["method"] else "") + "</p>")
    return f"""<section class="page">
<h2>{html_text(zh)} / {html_text(en)}</h2>
<p>{info["facilities"]} 处设施 / facilities · {html_text(reach_zh)} / {html_text(reach_en)} ·
中位距离 / median {fmt_number(info["median_distance_m"])} m</p>
{source}
<img id="{map_id(k)}" alt="{html_text(en)} map" src="{_map_slot(k)}" style="max-height:150mm">
<figure class="chart" aria-label="{html_text(en)}: distance distribution and coverage">
{chart_svg(result, cat)}</figure>
{_table(head, rows, [16, 12, 12, 9, 12, 14, 15, 10], numeric={1, 2, 3, 4, 5, 6, 7})}
<p class="en">服务不足居民每人只计一次 / each underserved resident is counted once: either no
facility within {info["threshold_m"]:,.0f} m, or in reach of one whose catchment falls below a
per-capita standard.</p>
</section>"""


def _standards_section(result: CoverageResult) -> str:
    stds = {x.id: x for x in result.standards}
    units_zh = labels()["units_zh"]
    rows, notes = [], []
    for sid, grp in result.ratios.groupby("standard", sort=False):
        std = stds.get(sid)
        first = grp.iloc[0]
        flag = "" if first["verified"] else " <i>(未核实 / unverified)</i>"
        notes.append(f"<li><b>{html_text(first['label'])}</b> — "
                     f"{html_text(first['source'])}{flag}</li>")  # fmt: skip
        for r in grp.to_dict("records"):
            unit = r["unit"]
            note = r.get("note") or ""
            value = pct(r["value"]) if is_share(unit) else fmt_number(r["value"])
            if r["met"] is None and note.startswith("cannot check"):
                value = "—"  # nothing measured: not "0.000"
            target = pct(r["target"], 0) if is_share(unit) else fmt_target(r["target"])
            gap = "—"
            if r["met"] is False and std is not None and r["gap"] == r["gap"]:
                gap = " / ".join(dict.fromkeys(gap_text(std, r["gap"])))
            rows.append([html_text(_cat_names(r["label"])[0]), html_text(str(r["district"])),
                         value, target,
                         html_text(f"{units_zh.get(unit, unit)} / {unit}"),
                         _met(r["met"], note),
                         html_text(gap), "✔" if r["verified"] else "✘",
                         _note_text(note)])  # fmt: skip
    head = ["指标 / Indicator", "区域 / Area", "现状 / Value", "目标 / Target", "单位 / Unit",
            "结果 / Result", "缺口 / Gap", "核实 / Verified", "说明 / Note"]  # fmt: skip
    return f"""<section class="page">
<h2>标准达标情况 / Standards: value, target and gap</h2>
{_table(head, rows, [14, 10, 8, 7, 12, 10, 11, 9, 19], numeric={2, 3})}
<h3>来源 / Sources</h3><ol class="en">{"".join(notes)}</ol>
<p class="en">“核实 / Verified” ✘: the target was not read in the source text where hzspatial was
built; check it before using it as a hard rule.</p>
</section>"""


def _versions() -> str:
    names = ("numpy", "scipy", "shapely", "geopandas", "pyproj", "pandas", "folium", "matplotlib")
    out = [f"Python {platform.python_version()}"]
    for n in names:
        try:
            out.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            continue
    return " · ".join(out)


_SPREAD_ZH = {
    "buildings": "按其中住宅建筑（占地面积 × 层数）分布到居民点，无建筑的片区按面积均匀分布",
    "area": "按面积均匀分布到网格点（社区 ≤ 25 米、街坊 50 米），每点沿直线走到最近可接入道路",
    "streets": "按其内部道路长度分布到居民点",
}


def _spread_text(s: dict) -> str:
    """How residents were placed, as summary.json states it."""
    spread = s.get("residents_spread") or {}
    return (f"Residents: {spread['description']} (--spread {spread['method']})" if spread
            else "Residents polygons are spread over their streets")  # fmt: skip


def _method_section(result: CoverageResult) -> str:
    s = result.summary
    rows = [[html_text(i["role"]), f"<code>{html_text(str(i['path']))}</code>",
             html_text(str(i.get("crs") or "—")),
             f"<span class='hash'>{html_text(i.get('sha256', '—'))}</span>",
             html_text(", ".join(i.get("labels", [])) or "—")] for i in s["inputs"]]  # fmt: skip
    thresholds = "；".join(
        f"{html_text(_cat_names(v['label'])[0])} {v['threshold_minutes']:g} 分钟 = "
        f"{v['threshold_m']:,.0f} m"
        for v in s["categories"].values()
    )
    net = s["network"]
    rules = html_text(net.get("snapping_rules") or "the graph's own")
    spread_zh = _SPREAD_ZH.get((s.get("residents_spread") or {}).get("method"),
                               "按其内部道路分布到居民点")  # fmt: skip
    return f"""<section class="page">
<h2>方法与数据来源 / Method and provenance</h2>
<p>居民到最近设施的距离沿道路网络计算（点接入最近道路边，多源有界最短路径）；居民片区{spread_zh}。
阈值 / thresholds: {thresholds}（步速 / speed {s["speed_kmh"]:g} km/h）。</p>
<p>{net.get("edges_not_joined", 0):,} 条道路边（隧道、台阶、匝道、禁止通行）可通行但不作为接入点
（{rules}）。</p>
<p class="en">Distances are walked on the street network: each resident location and facility
joins its nearest street edge that may be joined ({net.get("edges_not_joined", 0):,} edges —
tunnels, steps, slip roads, access=no — are walked but not joined; rules: {rules}),
and bounded multi-source shortest paths give every resident the
distance to the nearest facility of each category. {html_text(_spread_text(s))};
per-capita standards are evaluated per area and, for catchment standards, with the
two-step floating catchment method. Network: {net["nodes"]:,} nodes, {net["edges"]:,} edges,
{net["length_km"]:,.1f} km ({html_text(net["crs"])}).</p>
{
        _table(
            ["角色 / Role", "文件 / File", "坐标系 / CRS", "SHA-256", "标注 / Labels"],
            rows,
            [11, 25, 12, 32, 20],
        )
    }
<p class="en">hzspatial {html_text(s["version"])} · {html_text(_versions())}</p>
<footer>地图与报告 / Maps and report: hzspatial. OpenStreetMap data © OpenStreetMap
contributors (ODbL) where used.</footer>
</section>"""


def map_id(k: int) -> str:
    """The element id of the report's ``k``-th category map (in summary order)."""
    return f"hz-map-{k}"


def _map_slot(k: int) -> str:
    # where the k-th map's src goes; user text cannot produce it (html_text escapes "<")
    return f"<!--{map_id(k)}-->"


def report_page(result: CoverageResult) -> str:
    """``report.html``'s text with a slot for each category map's ``src``, filled by
    :func:`with_maps`."""
    body = "".join([_first_page(result)]
                   + [_category_section(result, c, k)
                      for k, c in enumerate(result.summary["categories"])]
                   + [_standards_section(result), _method_section(result)])  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>公共服务设施15分钟生活圈评估报告 / 15-minute walking access report</title>
<style>{_CSS}</style></head><body>{body}</body></html>"""


def map_sources(result: CoverageResult, drawn: dict[str, bytes]) -> dict[str, str]:
    """Each category map's element id → its ``src`` (a JPEG data URI)."""
    return {map_id(k): "data:image/jpeg;base64," + base64.b64encode(drawn[c]).decode()
            for k, c in enumerate(result.summary["categories"])}  # fmt: skip


def with_maps(page: str, sources: dict[str, str]) -> str:
    """``page`` (:func:`report_page`) with the maps' ``src`` set: ``sources`` (element id →
    src, :func:`map_sources`) or, for maps not given, an empty image."""
    k = 0
    while f'src="{_map_slot(k)}"' in page:
        page = page.replace(
            f'src="{_map_slot(k)}"', f'src="{sources.get(map_id(k), "data:image/jpeg;base64,")}"'
        )
        k += 1
    return page


def write_report_html(result: CoverageResult, path: str | Path,
                      drawn: dict[str, bytes] | None = None) -> Path:  # fmt: skip
    """``report.html``: a self-contained, A4-paged report (see the module docstring).
    ``drawn`` maps each category to its static map (JPEG bytes) when already drawn
    (:func:`hzspatial.figures.draw_figures`); the charts are inline SVG drawn here."""
    if drawn is None:
        from hzspatial.figures import draw_figures

        drawn = draw_figures(result)
    Path(path).write_text(with_maps(report_page(result), map_sources(result, drawn)),
                          encoding="utf-8")  # fmt: skip
    return Path(path)


# --- PDF -----------------------------------------------------------------------------------


def _sites_en(n: int) -> str:
    """``"1 new site"``, ``"10 new sites"``."""
    return f"{n} new site" + ("" if n == 1 else "s")


def write_site_report(result, path: str | Path, curve_png: Path | None = None) -> Path:
    """``site_report.html``: the site selection for a plan (A4, Chinese first): what was asked,
    the sites in rank order with the residents each newly brings within reach, the coverage
    curve, the numbers a standard asks for per area, and the solver's proof (bound and gap)."""
    rep = result.report
    cat = rep["category"]
    label = result.coverage.summary["categories"].get(cat, {}).get("label")
    if label is None:
        from hzspatial.categories import builtin_categories, user_category

        c = builtin_categories().get(cat) or user_category(cat)
        label = c.label
    zh, en = _cat_names(label)
    total = rep["residents"]
    before, after = rep["already_served"] / total, rep["covered_after"] / total
    proof = ("已证明最优 / proven optimal" if rep["status"] == "optimal"
             else f"与上界差距 / gap to the bound {rep['gap']:.2%}")  # fmt: skip
    who = rep.get("counted") or {"label": "居民 / residents", "estimated": False}
    gzh, gen = (who["label"].split(" / ", 1) + [""])[:2]
    est = ("（估算）", " (estimated)") if who["estimated"] else ("", "")
    wzh, wen = within_words(rep)
    wzh = f"步行 {wzh}" if rep.get("mode", "walk") == "walk" else wzh
    lines = [(f"新增 {rep['sites']} 处{zh}，{wzh}可达的{gzh}{est[0]}由 "
              f"{pct(before)} 增至 {pct(after)}（新增 {fmt_number(rep['newly_covered'])} 人）。",
              f"{_sites_en(rep['sites'])} ({en.lower()}): {gen}{est[1]} {wen} "
              f"from {pct(before)} to {pct(after)} "
              f"(+{fmt_number(rep['newly_covered'])}).")]  # fmt: skip
    if rep.get("standard"):
        s = rep["standard"]
        for area, n in s["per_area"].items():
            lines.append((f"{area}：按“{_cat_names(s['label'])[0]}”目标 {fmt_target(s['target'])}，"
                          f"需新增 {n}。", f"{area}: {n} more needed to reach the target "
                          f"({s['unit']}: {fmt_target(s['target'])})."))  # fmt: skip
    items = "".join(f"<li>{html_text(a)}<br><span class='en'>{html_text(b)}</span></li>"
                    for a, b in lines)  # fmt: skip
    rows = [[str(int(r["rank"])), html_text(str(r["id"])), html_text(str(r["name"])),
             html_text(str(r.get("district") or r["district_id"])),
             fmt_number(r["newly_covered"]),
             pct(r["cumulative_share"]), f"{r['lon']:.6f}, {r['lat']:.6f}"]
            for r in result.sites.to_dict("records")]  # fmt: skip
    table = _table(["序号 / Rank", "编号 / Id", "名称 / Name", "区域 / Area",
                    "新增覆盖居民 / Newly covered", "累计覆盖率 / Cumulative share",
                    "经纬度 / Lon, lat"], rows, [8, 12, 22, 10, 14, 14, 20],
                   numeric={0, 4, 5})  # fmt: skip
    img = ""
    if curve_png is not None and Path(curve_png).is_file():
        img = ("<img alt='coverage curve' src='data:image/png;base64,"
               f"{base64.b64encode(Path(curve_png).read_bytes()).decode()}'>")  # fmt: skip
    badge = ""
    if rep["synthetic_inputs"]:
        badge = ("<p class='badge'>合成演示数据 / SYNTHETIC DEMO DATA — generated, not surveyed: "
                 f"{html_text(', '.join(rep['synthetic_inputs']))}.</p>")  # fmt: skip
    inputs = "".join(f"<li>{html_text(i['role'])}: <code>{html_text(str(i['path']))}</code> "
                     f"<span class='hash'>{html_text(i.get('sha256', '—'))}</span></li>"
                     for i in rep["inputs"])  # fmt: skip
    cands = rep["candidates"]
    doc = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>新设施选址 / Sites for new facilities</title><style>{_CSS}</style></head><body>
<section class="page">
<h1>{html_text(zh)}选址<small>Where to build: {html_text(en.lower())}</small></h1>{badge}
<ul class="findings">{items}</ul>
<p class="en">目标 / objective: {html_text(rep["objective"])} · 求解 / solver
{html_text(rep["solver"])} ({html_text(rep["status"])}), {proof} · 候选 / candidates
{cands["given"]:,} ({html_text(str(cands["source"]))}), {cands["within_reach"]:,} within reach
of unserved residents, {cands["distinct_catchments"]:,} with distinct catchments.</p>
{img}
{table}
<h3>数据 / Inputs</h3><ul class="en">{inputs}</ul>
<footer>hzspatial {html_text(rep["version"])}</footer>
</section></body></html>"""
    Path(path).write_text(doc, encoding="utf-8")
    return Path(path)
