"""Chinese POI exports (Amap/Gaode, Baidu, Tencent): source, coordinate system, type paths.

A planner's facility list is most often a POI export: Amap's ``名称, 类型
"医疗保健服务;综合医院;卫生院", typecode, location "107.09,33.06"`` in GCJ-02, Baidu's ``uid,
标签 "医疗;诊所"`` in BD-09, Tencent's ``category "医疗保健:医院"`` in GCJ-02. This module
recognises such files (``config/poi.toml``), tells in which coordinate system they are, and
matches type paths to categories from their most specific part.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from hzspatial.categories import Category, resolve_category
from hzspatial.config import load
from hzspatial.io._columns import norm_header

__all__ = ["PoiSource", "detect_source", "crs_from_headers", "match_type_paths"]

logger = logging.getLogger(__name__)


def _config() -> dict:
    return load("poi.toml")


@dataclass(frozen=True)
class PoiSource:
    """A recognised POI export: ``key`` (amap/baidu/tencent), label, native ``crs``, the
    column that identified it, and ``why`` in words."""

    key: str
    label: str
    crs: str
    column: str
    why: str = ""


def detect_source(columns: Iterable[str], frame: pd.DataFrame | None = None,
                  type_column: str | None = None) -> PoiSource | None:  # fmt: skip
    """The POI source a file comes from, or None.

    First by a mark column (``typecode``, ``uid`` …); else, with ``frame``, by what it holds:
    type paths (in ``type_column``, or the classification-level columns) that begin, in most
    rows, with one provider's top classes (``医疗保健服务;诊所;诊所`` is Amap's), or a column
    set of one provider's export (``省份, 城市, 区域, 类型`` …) — ``config/poi.toml``.
    """
    columns = [str(c) for c in columns]
    normed = {norm_header(c): c for c in columns}
    sources = _config()["sources"]
    for key, src in sources.items():
        for mark in src["marks"]:
            if norm_header(mark) in normed:
                col = normed[norm_header(mark)]
                return PoiSource(key, src["label"], src["crs"], col, f"column {col!r}")
    if frame is None:
        return None
    content = _config()["content"]
    values = None
    if type_column is not None and type_column in frame.columns:
        values = frame[type_column]
    elif levels := level_columns(columns):
        values, type_column = frame[levels[0]], levels[0]
    if values is not None:
        text = values.dropna().astype(str).str.strip()
        text = text[text != ""]
        if len(text):
            firsts = text.map(lambda v: _parts(v)[0][0] if _parts(v)[0] else "")
            colon = text.str.contains("[:：]", regex=True).mean() > 0.5
            shares = {k: firsts.isin(set(v)).mean() for k, v in content["top_classes"].items()}
            if colon:  # Tencent writes 大类:中类, Amap and Baidu 大类;中类
                shares = {k: v for k, v in shares.items() if k == "tencent"}
            else:
                shares.pop("tencent", None)
            key, share = max(shares.items(), key=lambda kv: kv[1], default=(None, 0.0))
            if key is not None and share >= float(content["min_share"]):
                tied = [k for k, v in shares.items() if v == share and k != key]
                if not tied:
                    src = sources[key]
                    return PoiSource(key, src["label"], src["crs"], type_column,
                                     f"{share:.0%} of the {type_column!r} values are "
                                     f"{key.capitalize()} type paths (e.g. {text.iloc[0]!r})")
    for key, sets in content["columns"].items():
        for cols in sets:
            if all(norm_header(c) in normed for c in cols):
                src = sources[key]
                return PoiSource(key, src["label"], src["crs"], normed[norm_header(cols[0])],
                                 f"columns {', '.join(normed[norm_header(c)] for c in cols)}")
    return None


def crs_from_headers(headers: Iterable[str], values: pd.DataFrame | None = None) -> str | None:
    """The coordinate system that coordinate headers state (``经度(GCJ02)``, ``wgs84_lng``),
    or a coordinate-system column (``坐标系``, ``coord_type``) with one value for every row."""
    tags = _config()["coordinate_tags"]
    found = set()
    for h in headers:
        low = str(h).lower()
        for crs, frags in tags.items():
            if any(f in low for f in frags):
                found.add(crs)
    if len(found) == 1:
        return found.pop()
    if values is not None:
        for col in values.columns:
            if norm_header(col) in ("坐标系", "coord_type", "coordsys", "crs", "坐标类型"):
                vals = set(values[col].dropna().astype(str).str.strip().str.lower())
                for crs, frags in tags.items():
                    if vals and all(any(f in v for f in frags) for v in vals):
                        return crs
    return None


def type_parts(path: str) -> list[str]:
    """Every part of a type path (``"医疗保健服务;综合医院;卫生院"`` → its three names)."""
    return [p for alt in _parts(path) for p in alt]


def _parts(path: str) -> list[list[str]]:
    """A type path split into alternatives (``|``) of parts, most specific last."""
    seps = [s for s in _config()["separators"] if s != "|"]
    splitter = re.compile("|".join(re.escape(s) for s in seps))
    return [[p.strip() for p in splitter.split(alt) if p.strip()] for alt in str(path).split("|")]


def match_type_paths(
    paths: pd.Series,
    known: Mapping[str, Category],
    category_map: Mapping[str, str] | None = None,
    typecodes: pd.Series | None = None,
) -> np.ndarray:
    """Category id per row from type paths, or None where nothing matches.

    A value that is itself a category or alias (even one holding a separator, e.g. a user
    category "体育/健身") matches as a whole. Otherwise each path
    (``"医疗保健服务;综合医院;卫生院"``, alternatives joined by ``|``) is matched from its
    most specific part up: first the user's ``category_map`` (type name → category),
    then the categories' aliases. A six-digit Amap ``typecode`` listed in ``config/poi.toml``
    wins over names.
    """
    cmap = {str(k).strip().lower(): v for k, v in (category_map or {}).items()}
    codes = {str(k): v for k, v in _config().get("amap_typecodes", {}).items()}

    @cache
    def one(path: str) -> str | None:
        whole = path.strip()
        if whole.lower() in cmap:
            return resolve_category(cmap[whole.lower()], known) or cmap[whole.lower()]
        if (cat := resolve_category(whole, known)) is not None:
            return cat
        for alt in _parts(path):
            for part in reversed(alt):
                key = part.lower()
                if key in cmap:
                    return resolve_category(cmap[key], known) or cmap[key]
                cat = resolve_category(part, known)
                if cat is not None:
                    return cat
        return None

    out = np.array([one(str(p)) if pd.notna(p) else None for p in paths], dtype=object)
    if typecodes is not None:
        for i, tc in enumerate(typecodes.astype("string")):
            if pd.isna(tc):
                continue
            for code in str(tc).split("|"):
                if code.strip() in codes:
                    out[i] = codes[code.strip()]
                    break
    return out


def looks_like_paths(values: pd.Series) -> bool:
    """True when category values are type paths (``a;b;c``, ``a:b``, ``a|b``)."""
    seps = _config()["separators"]
    text = values.dropna().astype(str)
    return bool(len(text)) and bool(text.map(lambda v: any(s in v for s in seps)).mean() > 0.5)


def level_columns(columns: Iterable[str]) -> list[str]:
    """The file's classification-level columns (``大类``, ``中类``, ``小类``), general first."""
    normed = {norm_header(c): str(c) for c in columns}
    return [normed[lv] for lv in _config()["levels"] if lv in normed]
