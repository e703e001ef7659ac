"""Writers: JSON, GeoJSON, CSV and XLSX made safe for where they land; text escaping."""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial.io.xlsx import write_xlsx

__all__ = [
    "html_text",
    "jsonable",
    "safe_folder_name",
    "spreadsheet_safe",
    "write_csv",
    "write_geojson",
    "write_gpkg",
    "write_json",
    "write_xlsx",
]

#: Characters that make a spreadsheet cell a formula (OWASP "CSV injection"): = + - @ and
#: the tab / carriage return that some spreadsheets skip before them.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_JS_ENTITIES = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;",
                              "}": "&#125;"})  # fmt: skip


_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}  # fmt: skip


def safe_folder_name(text: str, taken: set[str] | None = None) -> str:
    """A folder name derived from user text (a scenario name) that stays inside its parent.

    Letters (any script), digits, ``-``, ``_`` and ``.`` are kept; anything else (``/``,
    ``\\``, ``:``, spaces, control characters) becomes ``_``; leading dots are dropped (no
    ``.``, ``..`` or hidden folders), Windows device names get a ``_`` prefix, the length is
    capped at 80 characters and ``taken`` names (compared case-insensitively) get ``-2``,
    ``-3`` … appended. Never empty, never absolute, never a parent reference.
    """
    import unicodedata

    name = unicodedata.normalize("NFKC", str(text))
    name = re.sub(r"[^\w.\-]+", "_", name, flags=re.UNICODE).lstrip("._")[:80].rstrip(". ")
    name = name or "scenario"
    if name.split(".")[0].lower() in _RESERVED:
        name = "_" + name
    used = {t.lower() for t in (taken or ())}
    base, k = name, 2
    while name.lower() in used:
        name = f"{base}-{k}"
        k += 1
    return name


def html_text(value) -> str:
    """User text made safe for HTML and for JavaScript strings inside HTML.

    ``< > & " '`` are escaped as HTML entities (no ``</script>`` can close a script and no
    tag can open), and the backtick, ``$`` and backslash become entities too, so the text
    cannot end or interpolate a JavaScript template literal (folium's popups) or a quoted
    string; so do braces: folium's page is assembled by branca, which compiles what each
    element renders as a Jinja template again, so ``{{ … }}`` in a name would be run as code.
    Browsers show the original characters.
    """
    return html.escape("" if value is None else str(value), quote=True).translate(_JS_ENTITIES)


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells that a spreadsheet would run as a formula (starting with
    ``= + - @``) are prefixed with ``'`` — for CSV files that planners open in Excel."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            risky = s.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
            if risky.any():
                out[col] = s.where(~risky, "'" + s.astype(str))
    # headers too: a category or standard id such as "=cmd|'/C calc'!" becomes part of one
    out.columns = [("'" + c) if isinstance(c, str) and c.startswith(FORMULA_START) else c
                   for c in out.columns]  # fmt: skip
    return out


#: Coordinate columns: never rounded (4 decimals of a degree move a point 5–10 m).
COORDINATE_COLUMNS = frozenset({"lon", "lat", "longitude", "latitude", "x", "y", "经度", "纬度"})


def write_csv(df: pd.DataFrame, path: Path, *, decimals: int | None = 4) -> None:
    """CSV for Excel (UTF-8 with BOM), numbers rounded to ``decimals`` (None: kept whole, for
    tables read back as inputs) except coordinates (:data:`COORDINATE_COLUMNS`, always at
    full precision), formulas defused."""
    if decimals is not None:
        keep = [c for c in df.columns if str(c).lower() not in COORDINATE_COLUMNS]
        df = df.assign(**df[keep].round(decimals)) if keep else df
    spreadsheet_safe(df).to_csv(path, index=False, encoding="utf-8-sig")


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """GeoJSON (RFC 7946: WGS84 longitude, latitude) with 6-decimal coordinates (~0.1 m), UTF-8
    with Chinese kept readable; missing and infinite values are null. Geometries are written
    by GEOS, properties by :mod:`json` (several times faster than going through GDAL)."""
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    geoms = gdf.geometry.to_numpy()
    text = shapely.to_geojson(shapely.transform(geoms, lambda c: np.round(c, 6)))
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    rows = props.astype(object).where(props.notna(), None).to_dict("records")
    records = [{k: float(f"{v:.15g}") if isinstance(v, float) else v  # 5417.75, not …49999
                for k, v in jsonable(r).items()} for r in rows]  # fmt: skip
    features = ",\n".join(
        f'{{"type":"Feature","properties":{json.dumps(r, ensure_ascii=False, default=str)},'
        f'"geometry":{"null" if g is None else g}}}'
        for r, g in zip(records, text, strict=True)
    )
    Path(path).write_text(f'{{"type":"FeatureCollection","features":[\n{features}\n]}}\n',
                          encoding="utf-8")  # fmt: skip


def write_gpkg(layers, path: Path, description: str = "") -> list[str]:
    """A GeoPackage of ``layers`` — ``(name, GeoDataFrame, QML style or None)`` each, written
    in WGS84 — with each style in its ``layer_styles`` table as QGIS writes it (the layer's
    default style: it opens coloured) and ``description`` as each layer's description (where
    the data came from: a synthetic label). Empty layers are left out; returns the names
    written. Text columns stay text (a numeric-looking id is not made a number)."""
    try:
        return _write_gpkg(layers, Path(path), description)
    except Exception as exc:  # GDAL and SQLite say "no such table", not "disk full"
        refused = _write_refused(Path(path))
        if refused is None:
            raise
        raise OSError(refused, os.strerror(refused), str(path)) from exc


def safe_column_names(frame):
    """Columns renamed where a database table would refuse them (GeoPackage, PostGIS): SQLite
    names are one regardless of case (a file's ``Name`` beside hzspatial's ``name``), and
    ``fid`` / ``geom`` are the table's own (ArcGIS exports carry an ``FID``) — the later one
    gets ``_2``, ``_3`` …"""
    geom = frame.geometry.name
    seen = {"fid", "geom"}
    names = {}
    for col in frame.columns:
        if col == geom:
            continue
        name, k = str(col), 2
        while name.lower() in seen:
            name, k = f"{col}_{k}", k + 1
        seen.add(name.lower())
        names[col] = name
    return frame.rename(columns=names)


def _write_refused(path: Path) -> int | None:
    """The errno of a write the machine refused (file-size limit reached, disk full,
    read-only folder) after a writer that does not say so failed on ``path``; else None."""
    import errno

    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        size = path.stat().st_size if path.exists() else 0
        if soft != resource.RLIM_INFINITY and size + 65_536 >= soft:
            return errno.EFBIG
    except (ImportError, OSError):
        pass
    try:
        st = os.statvfs(path.parent)
        if st.f_bavail * st.f_frsize < 1 << 20:
            return errno.ENOSPC
    except (AttributeError, OSError):
        pass
    return None if os.access(path.parent, os.W_OK) else errno.EROFS


def _write_gpkg(layers, path: Path, description: str) -> list[str]:
    import sqlite3

    import pyogrio

    written, styles = [], []
    for name, gdf, qml in layers:
        if gdf is None or len(gdf) == 0:
            continue
        if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
            gdf = gdf.to_crs(4326)
        frame = safe_column_names(gdf.copy())
        for col in frame.columns:  # categoricals and mixed objects as text, as GDAL takes them
            if col != frame.geometry.name and (isinstance(frame[col].dtype, pd.CategoricalDtype)
                                               or frame[col].dtype == object):  # fmt: skip
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None).map(
                    lambda v: v if v is None else str(v))  # fmt: skip
        # GeoPackage 1.2, which every GDAL since 2.2 reads (QGIS 3.22's warns about 1.4)
        first = {} if written else {"dataset_options": {"VERSION": "1.2"}}
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", **first)
        written.append(name)
        if qml is not None:
            styles.append((name, qml))
    if not written:
        return written
    con = sqlite3.connect(path)
    try:
        with con:
            geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            con.execute(_LAYER_STYLES)
            con.executemany(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
                [(n, geom.get(n, "geom"), n, q, "hzspatial: the colours of map.html")
                 for n, q in styles])  # fmt: skip
            con.executemany("UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                            [(description, n) for n in written])  # fmt: skip
            con.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, "
                        "identifier, description, last_change) VALUES ('layer_styles', "
                        "'attributes', 'layer_styles', '', strftime('%Y-%m-%dT%H:%M:%fZ', "
                        "'now'))")  # fmt: skip
    finally:
        con.close()
    return written


#: The ``layer_styles`` table as QGIS creates it in a GeoPackage.
_LAYER_STYLES = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def jsonable(obj):
    """Plain-Python copy of nested results for JSON: NumPy scalars unwrapped, NaN/inf → None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is pd.NA:
        return None
    return obj


def write_json(obj, path: Path) -> None:
    """UTF-8 JSON (Chinese kept readable), NaN/inf written as null."""
    Path(path).write_text(json.dumps(jsonable(obj), ensure_ascii=False, indent=2), "utf-8")
