"""One-page HTML report and XLSX tables of a coverage run (bilingual headings)."""

from __future__ import annotations

import base64
import html
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from hzspatial.io.boundaries import LEVELS
from hzspatial.io.writers import html_text, write_xlsx

if TYPE_CHECKING:
    from hzspatial.run import CoverageResult

__all__ = ["bilingual", "report_tables", "write_report_html", "write_tables_xlsx"]


@cache
def _labels() -> dict:
    text = resources.files("hzspatial.config").joinpath("labels.toml").read_text("utf-8")
    return tomllib.loads(text)


def bilingual(column: str) -> str:
    """``"coverage_share"`` → ``"覆盖率 / Share covered"``; per-category columns keep a prefix."""
    lab = _labels()
    if column in lab["columns"]:
        return lab["columns"][column]
    for suffix, text in lab["suffixes"].items():
        if column.endswith(suffix):
            return f"{column[: -len(suffix)]} {text}"
    return column


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
    under = pd.DataFrame(result.underserved.drop(columns="geometry"))
    if not under.empty:
        under = (under.groupby(["category", "district_id"], as_index=False)
                 [["residents", "locations"]].sum())  # fmt: skip
    fac = pd.DataFrame(result.facilities[["facility_id", "name", "category", "area_m2", "beds",
                                          "places", "district_id", "snapped"]])  # fmt: skip
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


def write_tables_xlsx(result: CoverageResult, path: str | Path) -> Path:
    """``tables.xlsx``: one sheet per table, bilingual headings."""
    write_xlsx({k: df.rename(columns=bilingual) for k, df in report_tables(result).items()}, path)
    return Path(path)


def _table(df: pd.DataFrame, digits: int = 3) -> str:
    def cell(v):
        if isinstance(v, bool):
            return "✔" if v else "✘"
        if isinstance(v, float):
            if v != v:
                return "—"
            if v == float("inf"):
                return "unreachable"
            return f"{v:,.{digits}f}" if abs(v) < 10 else f"{v:,.0f}"
        return html_text("" if v is None else str(v))

    head = "".join(f"<th>{html_text(bilingual(c))}</th>" for c in df.columns)
    rows = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>"
                   for r in df.itertuples(index=False))  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def write_report_html(
    result: CoverageResult, path: str | Path, map_html: str, png: Path | None = None
) -> Path:
    """Self-contained ``report.html``: tables, the interactive map (embedded), the static map,
    standards with sources and verification status, gaps and data provenance."""
    s = result.summary
    t = report_tables(result)
    zh, en, _ = LEVELS[s.get("boundary_level", "district")]
    badge = ""
    if result.synthetic:
        badge = ("<p class='badge'>合成演示数据 / SYNTHETIC DEMO DATA — generated, not "
                 f"surveyed: {html_text(result.synthetic_note)}.</p>")  # fmt: skip
    std = t["标准 standards"]
    gap_cols = ["district", "label", "value", "target", "unit", "gap", "verified"]
    gaps = std[std["met"].eq(False)][gap_cols] if not std.empty else pd.DataFrame()
    png_tag = ""
    if png is not None and Path(png).is_file():
        b64 = base64.b64encode(Path(png).read_bytes()).decode()
        png_tag = f"<img alt='static map' src='data:image/png;base64,{b64}' style='width:100%'>"
    inputs = "".join(f"<li>{html_text(i['role'])}: <code>{html_text(i['path'])}</code> "
                     f"<small>sha256 {html_text(i.get('sha256', '—')[:16])}…</small></li>"
                     for i in s["inputs"])  # fmt: skip
    labels = ", ".join(html_text(x) for x in s["data_labels"]) or "—"
    doc = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>公共服务设施15分钟生活圈评估 / 15-minute facility coverage report</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 24px;
       max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 8px 0 20px; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 7px; text-align: right; }}
th {{ background: #f2f2f2; }} td:first-child, th:first-child {{ text-align: left; }}
.badge {{ background: #fff3cd; border: 1px solid #e0a800; padding: 6px 10px; font-weight: bold; }}
iframe {{ width: 100%; height: 640px; border: 1px solid #999; }}
</style></head><body>
<h1>公共服务设施15分钟生活圈评估<br>
<small>15-minute walking coverage of public services</small></h1>
{badge}
<p>步行 {s["threshold_minutes"]:g} 分钟 @ {s["speed_kmh"]:g} km/h = {s["threshold_m"]:.0f} m
(路网距离 / network distance) · 居民 / residents: {s["population"]:,} ·
hzspatial {html_text(s["version"])}</p>
<h2>覆盖概要 / Coverage by facility category</h2>{_table(t["概要 summary"])}
<h2>{zh}覆盖与人均指标 / Coverage and ratios by {en.lower()}</h2>{_table(t[area_sheet(result)])}
<h2>标准达标情况 / Standards: met or not, with sources</h2>
<p>“已核实 / Verified” ✘ = the target was not read in the source text where hzspatial was built;
check it before using it as a hard rule.</p>{_table(std)}
<h2>缺口 / Gaps to the standards</h2>{_table(gaps)}
<h2>服务不足 / Residents without a facility within the threshold</h2>
{_table(t["服务不足 underserved"])}
<h2>交互地图 / Interactive map</h2>
<iframe id="hz-map" srcdoc="{html.escape(map_html, quote=True)}"></iframe>
<h2>静态地图 / Static map</h2>{png_tag}
<h2>数据来源 / Data provenance</h2><p>Labels: {labels}</p><ul>{inputs}</ul>
</body></html>"""
    Path(path).write_text(doc, encoding="utf-8")
    return Path(path)
