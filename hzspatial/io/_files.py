"""Opening input files: format detection, text encodings, tables and vector layers."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from hzspatial.errors import InputError

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
LAYER_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".shp": "shp"}
_ENCODINGS = ("utf-8-sig", "gb18030")


def detect_format(path: str | Path) -> str:
    """Return ``csv``, ``tsv``, ``xlsx``, ``geojson``, ``gpkg`` or ``shp`` for a path.

    Raises
    ------
    InputError
        If the file is missing, empty or has an unsupported extension.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=str(p), hint="check the path and spelling")
    if p.is_dir():
        raise InputError("is a folder, not a file", file=str(p), hint="pass the data file itself")
    suffix = p.suffix.lower()
    fmt = TABLE_SUFFIXES.get(suffix) or LAYER_SUFFIXES.get(suffix)
    if fmt is None:
        known = ", ".join(sorted(set(TABLE_SUFFIXES) | set(LAYER_SUFFIXES)))
        raise InputError(
            f"unknown file format '{suffix or '(no extension)'}'",
            file=str(p),
            hint=f"use one of {known}",
        )
    if p.stat().st_size == 0:
        raise InputError("file is empty", file=str(p), hint="export the data again")
    return fmt


def decode_text(raw: bytes, path: str) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (superset of GBK/GB2312
    as Excel on Chinese Windows writes), else the best charset-normalizer guess.

    Returns
    -------
    (text, encoding)
    """
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise InputError(
            "text encoding not recognised (tried UTF-8, GB18030/GBK and detection)",
            file=path,
            hint="save the file as 'CSV UTF-8' from Excel",
        )
    return str(best), best.encoding


def read_table(path: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV/TSV (any common encoding) or XLSX sheet as strings-preserving DataFrame.

    Cells are read as text (``dtype=str``) so that validation can report the
    offending value; numeric parsing happens in the readers.
    """
    p = Path(path)
    fmt = detect_format(p)
    if fmt in ("csv", "tsv"):
        text, enc = decode_text(p.read_bytes(), str(p))
        if enc not in _ENCODINGS[:1]:
            logger.info("%s: read with text encoding %s", p, enc)
        sep = "\t" if fmt == "tsv" else None
        try:
            df = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                engine="python",
                dtype=str,
                skipinitialspace=True,
                keep_default_na=True,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(
                f"not a readable table ({str(exc).splitlines()[0]})",
                file=str(p),
                hint="check the delimiter and quoting",
            ) from exc
    elif fmt == "xlsx":
        try:
            df = pd.read_excel(
                p, sheet_name=0 if sheet is None else sheet, dtype=str, engine="openpyxl"
            )
        except ValueError as exc:
            raise InputError(
                f"cannot read the workbook ({exc})", file=str(p), hint="check the sheet name"
            ) from exc
        except Exception as exc:  # openpyxl raises zipfile / KeyError on corrupt files
            raise InputError(
                f"not a valid XLSX workbook ({type(exc).__name__})",
                file=str(p),
                hint="open and save it again in Excel",
            ) from exc
    else:
        raise InputError("expected a table (CSV/XLSX)", file=str(p))
    df.columns = [str(c).strip() for c in df.columns]
    df = df.dropna(how="all")
    if df.empty:
        raise InputError(
            "the table has no data rows",
            file=str(p),
            hint="check that the file has a header row and data below it",
        )
    return df


def read_layer(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON / GeoPackage / Shapefile layer (pyogrio), keeping its CRS."""
    p = Path(path)
    fmt = detect_format(p)
    if fmt not in ("geojson", "gpkg", "shp"):
        raise InputError("expected a vector layer (GeoJSON/GeoPackage/Shapefile)", file=str(p))
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        msg = str(exc).splitlines()[0]
        raise InputError(
            f"cannot open as {fmt} ({msg})",
            file=str(p),
            hint="check the file is complete and in the stated format",
        ) from exc
    if gdf.empty:
        raise InputError(
            "the layer has no features",
            file=str(p),
            hint="export the layer again with its features",
        )
    return gdf


def is_table(path: str | Path) -> bool:
    """True for CSV/TSV/XLSX paths, False for vector layers (after validating the path)."""
    return detect_format(path) in ("csv", "tsv", "xlsx")


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
