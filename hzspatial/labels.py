"""Labels and numbers as people read them: bilingual column headings, thousands separators,
targets never rounded, gaps in the standard's own unit (``config/labels.toml``)."""

from __future__ import annotations

import functools
import math
import tomllib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hzspatial.standards import Standard

__all__ = ["bilingual", "distance_phrase", "fmt_number", "fmt_target", "gap_text", "is_share",
           "labels", "pct", "reach_words", "within_words"]


@cache
def labels() -> dict:
    text = resources.files("hzspatial.config").joinpath("labels.toml").read_text("utf-8")
    return tomllib.loads(text)


def bilingual(column: str) -> str:
    """``"coverage_share"`` → ``"覆盖率 / Share covered"``; per-category and per-standard
    columns are named in words: ``"elderly_care_facilities"`` → ``"养老服务设施 设施数 / Elderly
    care facilities"`` (an unknown prefix — a user category — is kept as it is)."""
    lab = labels()
    if column in lab["columns"]:
        return lab["columns"][column]
    for suffix, text in lab["suffixes"].items():
        if column.endswith(suffix):
            prefix = column[: -len(suffix)]
            zh, _, en = text.partition(" / ")
            words = _prefix_words().get(prefix)
            if words is None:
                return f"{prefix} {text}"
            return f"{words[0]} {zh} / {words[1]} {en}"
    return column


@functools.cache
def _prefix_words() -> dict[str, tuple[str, str]]:
    """Category and built-in standard ids → (中文, English) names for column headings."""
    from hzspatial.categories import builtin_categories
    from hzspatial.standards import load_standards

    out = {k: (c.label_zh, c.label_en) for k, c in builtin_categories().items()}
    for s in load_standards("hanzhong"):
        if s.label_zh:
            out.setdefault(s.id, (s.label_zh, s.label_en))
    return out


def fmt_number(v, digits: int | None = None) -> str:
    """Thousands separators and sensible decimals: 459,244 · 15.4 · 3.92 · 0.108; ``—`` when
    unknown."""
    if v is None or isinstance(v, str):
        return "—" if v is None else v
    v = float(v)
    if not math.isfinite(v):
        return "—" if math.isnan(v) else "∞"
    if digits is None:
        a = abs(v)
        digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    return f"{v:,.{digits}f}"


def fmt_target(v: float) -> str:
    """A target exactly as the standard states it (43.5 stays 43.5; never rounded)."""
    v = float(v)
    return f"{v:,.0f}" if v.is_integer() else repr(v)


def is_share(unit: str) -> bool:
    """True for units that are shares (shown as percentages)."""
    return str(unit).startswith("share")


def pct(v: float, digits: int = 1) -> str:
    """0.449 → ``44.9%``; ``—`` when unknown."""
    return "—" if v is None or v != v else f"{v * 100:.{digits}f}%"


def _gap_unit(std: Standard) -> tuple[str, str, bool]:
    """(Chinese, English, countable) unit of a standard's gap."""
    if std.metric == "share_within":
        return "名居民", "residents", True
    if std.metric == "areas_served":
        return "个区域", "areas", True
    return tuple(labels()["supply_units"].get(std.supply, ["", std.supply, False]))


def gap_text(std: Standard, gap: float) -> tuple[str, str]:
    """The gap in the standard's own unit, (中文, English); countable units rounded up."""
    zh, en, countable = _gap_unit(std)
    n = math.ceil(gap - 1e-9) if countable else gap
    num = f"{n:,}" if countable else fmt_number(n)
    return f"{num} {zh}".strip(), f"{num} {en}"


def distance_phrase(summary: dict) -> tuple[str, str]:
    """What the metres of a result are, (中文, English), from ``summary["travel"]``: network
    distance on the flat; with slopes or another mode, time × walking speed (equivalent
    metres) for the trip from home to facility."""
    t = summary.get("travel") or {}
    if t.get("categories"):
        return ("各类设施按其出行方式的时间折算距离（由家到设施）",
                "each category's travel time as equivalent distance (home → facility)")
    if t.get("dem"):
        return ("考虑坡度的步行时间折算距离（由家到设施）",
                "walking time on the slopes as equivalent distance (home → facility)")
    if t.get("mode", "walk") != "walk":
        label = str(t.get("label") or t["mode"])
        zh, en = label.split(" / ")[:2] if " / " in label else (label, label)
        return (f"{zh}时间折算距离（由家到设施）",
                f"{en} time as equivalent distance (home → facility)")
    return "路网距离", "network distance"


@cache
def _mode_words() -> dict[str, tuple[str, str]]:
    text = resources.files("hzspatial.config").joinpath("travel.toml").read_text("utf-8")
    return {m: tuple(v["words"]) for m, v in tomllib.loads(text)["modes"].items()}


def reach_words(info: dict) -> tuple[str, str]:
    """A category's threshold as said, (中文, English), from its ``summary["categories"]``
    entry: ``("步行 15 分钟", "15-min walk")``, ``("驾车 30 分钟", "30-min drive")``."""
    zh, en = _mode_words()[info.get("mode", "walk")]
    minutes = info["threshold_minutes"]
    return f"{zh} {minutes:g} 分钟", f"{minutes:g}-min {en}"


def within_words(info: dict) -> tuple[str, str]:
    """"Within reach" of a category, (中文, English): ``("1,000 m 内", "within 1,000 m")``
    walking (network metres), ``("驾车 3 分钟内", "within a 3-min drive")`` by another mode
    (its metres are minutes × walking speed, not a distance to show)."""
    if info.get("mode", "walk") == "walk":
        return f"{info['threshold_m']:,.0f} m 内", f"within {info['threshold_m']:,.0f} m"
    zh, en = reach_words(info)
    return f"{zh}内", f"within a {en}"


def by_mode_words(info: dict) -> tuple[str, str]:
    """How a category's reach is named on a layer, (中文, English): ``("步行", "walk")``,
    ``("驾车", "drive")`` — as in "新设施驾车范围 / drive from the new sites"."""
    zh, en = _mode_words()[info.get("mode", "walk")]
    return zh, en
