"""The review's documents: ``review.html`` and ``review.md`` from the ``review.json`` dict."""

from __future__ import annotations

import re

import numpy as np

from hzspatial.io.writers import html_text

__all__ = ["review_html", "review_markdown"]


def _compliance_text(c: dict) -> str:
    value = "—" if c["value"] is None else f"{c['value']:.0%}"
    return (
        f"{c['label']}: {value} of {c['proposals']} proposals (target {c['target']:.0%}; "
        f"{c['source']})"
    )


def _compliance_html(report: dict) -> str:
    return "".join(f"<p class='compliance'>{html_text(_compliance_text(c))}</p>"
                   for c in report["compliance"])  # fmt: skip


_VERDICT_ZH = {
    "pass": "通过 / pass",
    "fail": "不通过 / fail",
    "cannot check": "无法判断 / cannot check",
}


def _fmt(v, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float | int):
        return f"{v:,.{digits}f}"
    return str(v)


def _rows(p: dict) -> list[list[str]]:
    out = []
    for c in p["checks"]:
        req = (
            c["requirement"]
            if isinstance(c["requirement"], str)
            else f"{_fmt(c['requirement'], 1)} {c.get('requirement_unit', '')}"
        )
        short = (
            ""
            if c["shortfall"] in (None, 0.0)
            else f"{_fmt(c['shortfall'], 1)} "
            f"{c.get('requirement_unit', c.get('shortfall_unit', ''))}"
        )
        out.append([c["label"], req, _fmt(c["provided_on_site"]),
                    _fmt(c.get("reachable_existing_supply")), _fmt(c.get("spare_capacity")),
                    _VERDICT_ZH[c["verdict"]] + (f" ({c['reason']})" if c["reason"] else ""),
                    short, "✔" if c["verified"] else "✘ unverified"])  # fmt: skip
    return out


_HEAD = [
    "标准 / Standard",
    "要求 / Requirement",
    "自建 / On site",
    "可达现有供给 / Reachable",
    "剩余容量 / Spare",
    "结论 / Verdict",
    "缺口 / Shortfall",
    "核实 / Verified",
]


def md_text(value) -> str:
    """User text as Markdown text, never markup: the characters that open CommonMark syntax
    inside a line (``\\ ` * _ [ ] | ~ # !``) backslash-escaped, ``< > &`` as entities (every
    renderer shows them as the characters, and no HTML tag can open), line breaks as spaces
    — a proposal named ``<script>…`` or ``[x](javascript:…)`` shows as those characters and
    runs nothing."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|~#!])", r"\\\1", text)


def review_markdown(report: dict) -> str:
    """``review.md``: the review as Markdown (bilingual headings); user text as text
    (:func:`md_text`)."""
    lines = ["# 居住区公共服务设施审查 / Residential district review", ""]
    if report["synthetic_inputs"]:
        lines += [f"**合成演示数据 / SYNTHETIC DEMO DATA** — generated, not surveyed: "
                  f"{md_text(', '.join(report['synthetic_inputs']))}.", ""]  # fmt: skip
    lines += [f"- {_compliance_text(c)}" for c in report["compliance"]]
    lines += [f"Walking threshold {report['threshold_minutes']:g} min at "
              f"{report['speed_kmh']:g} km/h = {report['threshold_m']:.0f} m; hzspatial "
              f"{report['version']}.", ""]  # fmt: skip
    if report.get("residents_spread"):
        lines += [f"Existing residents / 现状居民: {report['residents_spread']['text']}.", ""]
    for p in report["proposals"]:
        lines += [f"## {md_text(p['name'])} ({md_text(p['proposal_id'])}) — "
                  f"{_VERDICT_ZH[p['verdict']]}", "",
                  f"Residents / 居民: {p['residents']:,.0f} ({md_text(p['residents_from'])}); "
                  f"area {p['area_m2'] / 1e4:,.1f} ha.", "",
                  "| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]  # fmt: skip
        lines += ["| " + " | ".join(md_text(c) for c in r) + " |" for r in _rows(p)]
        if p["not_assessed"]:
            lines += ["", "Not assessed / 未评估: " + md_text("; ".join(
                f"{x['standard']} ({x['reason']})" for x in p["not_assessed"]))]  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def review_html(report: dict) -> str:
    """``review.html``: the review, one section per proposal (print: one page each)."""
    parts = []
    for p in report["proposals"]:
        head = "".join(f"<th>{html_text(h)}</th>" for h in _HEAD)
        body = "".join("<tr>" + "".join(f"<td>{html_text(c)}</td>" for c in r) + "</tr>"
                       for r in _rows(p))  # fmt: skip
        na = ""
        if p["not_assessed"]:
            na = (
                "<p>未评估 / Not assessed: "
                + html_text(
                    "; ".join(f"{x['standard']} ({x['reason']})" for x in p["not_assessed"])
                )
                + "</p>"
            )
        parts.append(
            f"<section class='page'><h2>{html_text(str(p['name']))} "
            f"({html_text(str(p['proposal_id']))}) — "
            f"<span class='v-{p['verdict'].replace(' ', '-')}'>{_VERDICT_ZH[p['verdict']]}"
            f"</span></h2><p>居民 / Residents: {p['residents']:,.0f} "
            f"({html_text(p['residents_from'])}); 用地 / area "
            f"{p['area_m2'] / 1e4:,.1f} ha</p><table><tr>{head}</tr>{body}</table>{na}</section>"
        )
    badge = ""
    if report["synthetic_inputs"]:
        badge = ("<p class='badge'>合成演示数据 / SYNTHETIC DEMO DATA — generated, not surveyed: "
                 f"{html_text(', '.join(report['synthetic_inputs']))}</p>")  # fmt: skip
    spread = (f"<p>现状居民 / Existing residents: {html_text(report['residents_spread']['text'])}"
              "</p>" if report.get("residents_spread") else "")
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>居住区公共服务设施审查 / Residential district review</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px}}
table{{border-collapse:collapse;font-size:13px}}th,td{{border:1px solid #ccc;padding:3px 6px}}
th{{background:#f2f2f2}}.v-pass{{color:#1a7f37}}.v-fail{{color:#c62828}}
.v-cannot-check{{color:#a66300}}.badge{{background:#fff3cd;border:1px solid #e0a800;padding:6px}}
.page{{page-break-after:always;margin-bottom:32px}}</style></head><body>
<h1>居住区公共服务设施审查<br><small>Residential district review</small></h1>{badge}
<p>步行 {report["threshold_minutes"]:g} 分钟 @ {report["speed_kmh"]:g} km/h =
{report["threshold_m"]:.0f} m · hzspatial {html_text(report["version"])}</p>{spread}
{_compliance_html(report)}{"".join(parts)}</body></html>"""
