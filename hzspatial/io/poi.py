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
    """A recognised POI export: ``key`` (amap/baidu/tencent), label, native ``crs``, and
    the column that identified it."""

    key: str
    label: str
    crs: str
    column: str


def detect_source(columns: Iterable[str]) -> PoiSource | None:
    """The POI source whose mark columns the file has, or None."""
    normed = {norm_header(c): str(c) for c in columns}
    for key, src in _config()["sources"].items():
        for mark in src["marks"]:
            if norm_header(mark) in normed:
                return PoiSource(key, src["label"], src["crs"], normed[norm_header(mark)])
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
