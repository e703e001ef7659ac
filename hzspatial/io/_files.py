"""Opening input files: format detection, text encodings, tables and vector layers."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from hzspatial.errors import DataWarning, InputError, format_rows
from hzspatial.io._columns import known_headers, norm_header

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


#: Single-byte code pages the detector may pick for Western European text.
_LATIN_LOOKALIKES = frozenset({"cp1250", "iso8859_2", "cp775", "cp852", "cp850", "hp_roman8",
                               "mac_latin2", "iso8859_15", "latin_1", "iso8859_1"})


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

    found = from_bytes(raw)
    best = found.best()
    if best is not None and best.encoding in _LATIN_LOOKALIKES and \
            any(m.encoding == "cp1252" for m in found):  # fmt: skip
        # a Latin-1 / Windows-1252 file (Crèche) is as plausible to the detector as a Central
        # European one (Crčche): Windows' Western default is the likelier for what it holds
        text = raw.decode("cp1252", errors="strict")
        logger.warning("%s: text read as Windows-1252 (Western European); save it as UTF-8 if "
                       "its letters look wrong", path)  # fmt: skip
        return text, "cp1252"
    if best is None:
        raise InputError(
            "text encoding not recognised (tried UTF-8, GB18030/GBK and detection)",
            file=path,
            hint="save the file as 'CSV UTF-8' from Excel",
        )
    return str(best), best.encoding


#: Labels of total rows at the bottom of Chinese statistical sheets (skipped and reported);
#: compared with spaces removed and lower-cased.
TOTAL_LABELS = frozenset(
    {"合计", "小计", "总计", "共计", "总数", "total", "subtotal", "grandtotal"}
)
#: How the notes below a statistical sheet's table begin (填表单位：…, 注：…, 数据来源 …);
#: compared with spaces removed and lower-cased.
NOTE_PREFIXES = ("填表", "制表", "审核", "注", "备注", "说明", "数据来源", "资料来源", "来源",
                 "统计时间", "统计日期", "截至", "截止", "负责人", "单位负责人", "联系人",
                 "联系电话", "报送", "填报", "note", "source", "prepared")  # fmt: skip
#: How many rows at the top of a sheet are searched for the header row.
HEADER_SEARCH_ROWS = 15


def _raw_table(p: Path, fmt: str, sheet: str | int | None) -> pd.DataFrame:
    """All cells as text, no header; index 0 = the sheet's row 1."""
    if fmt in ("csv", "tsv"):
        text, enc = decode_text(p.read_bytes(), str(p))
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac ends
        try:
            raw = pd.read_csv(io.StringIO(text), sep="\t" if fmt == "tsv" else _delimiter(text),
                              engine="python", dtype=str, header=None,
                              skipinitialspace=True, skip_blank_lines=False)  # fmt: skip
            raw.attrs["encoding"] = "UTF-8" if enc == "utf-8-sig" else enc.upper()
            return raw
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            raise InputError(
                f"not a readable table ({str(exc).splitlines()[0]})",
                file=str(p),
                hint="check the delimiter and quoting",
            ) from exc
    names = _sheet_names(p)
    if sheet is not None and not isinstance(sheet, int) and str(sheet) not in names:
        raise InputError(f"no sheet named {sheet!r} (sheets: {', '.join(names)})", file=str(p),
                         column="--sheet", hint="pass one of the sheet names")  # fmt: skip
    raw = pd.read_excel(p, sheet_name=0 if sheet is None else sheet, dtype=str, header=None,
                        engine="openpyxl")  # fmt: skip
    raw.attrs["sheets"] = [names[sheet] if isinstance(sheet, int) else sheet or names[0]]
    return raw


def _delimiter(text: str) -> str:
    """The delimiter of a CSV text: the most frequent of ``, ; \\t |`` outside quotes in its
    first lines (never a space — a header such as ``"Children's home", lon`` once made the
    sniffer choose one), a comma when none appears."""
    counts = dict.fromkeys([",", ";", "\t", "|"], 0)
    inside = False
    lines = 0
    for ch in text[:20_000]:
        if ch == '"':
            inside = not inside
        elif not inside and ch in counts:
            counts[ch] += 1
        elif not inside and ch == "\n":
            lines += 1
            if lines >= 20:
                break
    best = max(counts, key=lambda k: (counts[k], k == ","))
    return best if counts[best] else ","


def _with_header(
    raw: pd.DataFrame, header_row: int | None, known: set[str], label: str, strict: bool = False
) -> pd.DataFrame | None:
    """The sheet below its header row (given, or the first top row with two known column
    names, else the first non-blank row — or None with ``strict``); index = row numbers."""
    raw = raw.copy()
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    if raw.dropna(how="all").empty:
        return None
    if header_row is not None:
        if not 1 <= header_row <= len(raw):
            raise InputError(f"header row {header_row} is outside the sheet (1–{len(raw)})",
                             file=label, column="--header-row",
                             hint="give the row number Excel shows")  # fmt: skip
        head = header_row
    else:
        top = raw.head(HEADER_SEARCH_ROWS)
        head = next((i for i in top.index if _header_score(top.loc[i], known) >= 2), None)
        if head is None:
            if strict:
                return None
            head = int(raw.dropna(how="all").index[0])
    if head > 1:
        above = raw.loc[: head - 1].notna().sum(axis=1)
        width = int(raw.loc[head].notna().sum())
        if (above >= max(width, 2)).any():  # a full row above the header is data, not a title
            warnings.warn(f"{label}: header found on row {head}; rows above it that look like "
                          f"data are not read ({format_rows(above.index[above >= max(width, 2)])})"
                          " — pass --header-row if the header is elsewhere", DataWarning,
                          stacklevel=4)  # fmt: skip
    cols = [str(c).strip() if isinstance(c, str) else f"column {j + 1}"
            for j, c in enumerate(raw.loc[head])]  # fmt: skip
    df = raw.loc[head + 1 :].copy()
    df.columns = cols
    df.attrs = dict(raw.attrs) | {"header_row": int(head)}
    return df


def _all_sheets(p: Path, header_row: int | None, known: set[str],
                needs: Sequence[Sequence[str]] = ()) -> pd.DataFrame:  # fmt: skip
    """Every sheet of a workbook that holds a table: one sheet as it is; several with the
    same columns joined (rows numbered ``sheet:row``); different columns → name them.
    With ``needs`` (groups of header aliases, e.g. longitude and latitude), a sheet whose
    header has none of the groups complete (a summary table without coordinates) is skipped
    and said so."""
    names = _sheet_names(p)
    hidden = _hidden_sheets(p)
    if hidden and len(hidden) < len(names):
        logger.warning("%s: hidden sheet(s) %s not read (pass --sheet to read one)", p,
                       ", ".join(hidden))  # fmt: skip
        names = [n for n in names if n not in hidden]
    tables, skipped, unread, partial = {}, [], [], {}
    for name in names:
        raw = pd.read_excel(p, sheet_name=name, dtype=str, header=None, engine="openpyxl")
        df = _with_header(raw, header_row, known, f"{p} [{name}]", strict=True)
        if df is None or df.dropna(how="all").empty:
            skipped.append(name)
            if len(raw.dropna(how="all")) > 3:  # rows of data, but no header hzspatial knows
                unread.append(name)
        elif needs and not _has_any(df.columns, needs):
            partial[name] = df
        else:
            tables[name] = df
    if partial and tables:
        logger.warning("%s: sheet(s) %s skipped: no coordinate columns (a summary table?)", p,
                       ", ".join(partial))  # fmt: skip
    elif partial:
        tables = partial  # none has coordinates: the reader names what is missing
    if not tables:
        raise InputError(f"no sheet holds a table with known column names (sheets: "
                         f"{', '.join(names)})", file=str(p),
                         hint="check the header row, or pass --sheet and --header-row")  # fmt: skip
    if unread and tables:
        warnings.warn(f"{p}: sheet(s) {', '.join(unread)} hold rows but no header with known "
                      "column names and are not read — pass --sheet and --columns to read one",
                      DataWarning, stacklevel=4)  # fmt: skip
    elif skipped and len(names) > 1:
        logger.info("%s: sheet(s) %s skipped (no table with known column names)", p,
                    ", ".join(skipped))  # fmt: skip
    if len(tables) == 1:
        name, df = next(iter(tables.items()))
        df.attrs["sheets"] = [name]
        return df
    columns = {tuple(df.columns) for df in tables.values()}
    if len(columns) > 1:
        raise InputError(
            f"data on several sheets with different columns ({', '.join(tables)})",
            file=str(p),
            column="--sheet",
            hint="pass --sheet NAME for the sheet to read, or give the sheets the same columns",
        )
    logger.info("%s: %d sheets with the same columns read together (%s)", p, len(tables),
                ", ".join(tables))  # fmt: skip
    for name, df in tables.items():
        df.index = [f"{name}:{i}" for i in df.index]
    out = pd.concat(tables.values())
    out.attrs = {"sheets": list(tables)}
    return out


def _hidden_sheets(p: Path) -> list[str]:
    """The workbook's hidden sheets (an office's old or working copies, not the table sent)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True)
        return [n for n in wb.sheetnames if wb[n].sheet_state != "visible"]
    except Exception:  # openpyxl raises many kinds on odd files; _sheet_names reports them
        return []


def _has_any(columns, needs: Sequence[Sequence[str]]) -> bool:
    """Whether the header holds every column of at least one group of aliases."""
    normed = {norm_header(c) for c in columns}
    return any(all(any(norm_header(a) in normed for a in group) for group in alts)
               for alts in needs)  # fmt: skip


#: Largest uncompressed size (bytes) of a workbook's parts: a few MB of XLSX can inflate to
#: many GB (a "zip bomb"); real facility and residents workbooks stay far below this.
XLSX_MAX_BYTES = 512 * 2**20


def _check_inflated(p: Path) -> None:
    """Refuse a workbook whose parts inflate beyond :data:`XLSX_MAX_BYTES` (read from the
    zip directory, before anything is decompressed)."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: openpyxl says so below
    if total > XLSX_MAX_BYTES:
        raise InputError(
            f"the workbook inflates to {total / 2**20:,.0f} MB when opened (more than "
            f"{XLSX_MAX_BYTES / 2**20:,.0f} MB)",
            file=str(p),
            hint="save the table as CSV, or split it; a real table is far smaller",
        )


def _sheet_names(p: Path) -> list[str]:
    _check_inflated(p)
    try:
        import openpyxl

        return openpyxl.load_workbook(p, read_only=True).sheetnames
    except Exception as exc:  # openpyxl raises zipfile / KeyError on corrupt files
        raise InputError(
            f"not a valid XLSX workbook ({type(exc).__name__})",
            file=str(p),
            hint="open and save it again in Excel",
        ) from exc


def _header_score(cells: pd.Series, known: frozenset[str]) -> int:
    """How many cells of a row are known column names (English or Chinese aliases)."""
    return sum(norm_header(c) in known for c in cells.dropna())


def read_table(
    path: str | Path | pd.DataFrame,
    sheet: str | int | None = None,
    header_row: int | None = None,
    names: Iterable[str] = (),
    needs: Sequence[Sequence[Sequence[str]]] = (),
) -> pd.DataFrame:
    """Read a CSV/TSV (any common encoding) or XLSX sheet with every cell as text.

    Title rows above the header (e.g. a merged "汉台区养老服务设施统计表") are skipped: the
    header is the first of the top rows with at least two known column names
    (``config/columns.toml``), or ``header_row``. Blank rows and total rows (合计, 小计,
    总计, Total) are dropped and logged.

    Parameters
    ----------
    path : path or DataFrame
        A file, or a DataFrame already in memory (its columns are the header).
    sheet : str or int, optional
        XLSX sheet name or 0-based index. Default: every sheet that holds a table — one is
        read as it is, several with the same columns together (rows numbered
        ``sheet:row``); sheets with different columns must be chosen with ``sheet``; sheets
        without a table (notes) are skipped and logged.
    header_row : int, optional
        Row number of the header as the spreadsheet shows it (1 = first row).
    names : iterable of str
        Further column names that mark the header row (e.g. from a column mapping).
    needs : sequence
        Alternatives, each a sequence of alias groups, one of which a workbook sheet's header
        must hold completely to be read when no ``sheet`` is named (e.g. longitude and
        latitude, or one location column): other sheets are skipped and said so.

    Notes
    -----
    Below the table, statistical sheets carry a total row (合计), blank rows and notes
    (``填表单位：…``, ``注：…``, a merged footnote in one cell): trailing rows of these kinds
    are skipped and named in one warning.

    Returns
    -------
    DataFrame
        Cells as text (``dtype=str``) so that validation can report the offending value;
        the index holds each row's number as the spreadsheet shows it.
    """
    if isinstance(path, pd.DataFrame):
        df = path.astype("string").astype(object).where(path.notna(), None)
        df.columns = [str(c).strip() for c in df.columns]
        df.index = pd.RangeIndex(2, len(df) + 2)
        df.attrs = {}
        label = "(DataFrame)"
    else:
        p = Path(path)
        fmt = detect_format(p)
        if fmt not in ("csv", "tsv", "xlsx"):
            raise InputError("expected a table (CSV/XLSX)", file=str(p))
        label = str(p)
        known = known_headers() | {norm_header(n) for n in names}
        if fmt == "xlsx" and sheet is None:
            df = _all_sheets(p, header_row, known, needs)
        else:
            df = _with_header(_raw_table(p, fmt, sheet), header_row, known, label)
            if df is not None and fmt != "xlsx":
                df.attrs.pop("sheets", None)
            if df is None:
                raise InputError("the table has no data rows", file=label,
                                 hint="check that the file has a header row and data below "
                                 "it")  # fmt: skip
    attrs = dict(df.attrs)
    df = _drop_trailing_notes(df, label)
    blank = df.isna().all(axis=1) | df.apply(
        lambda c: c.astype("string").str.strip().fillna("") == ""
    ).all(axis=1)
    df = df[~blank.to_numpy()]
    totals = _total_rows(df)
    if totals.any():
        first_cells = _first_cells(df)
        warnings.warn(
            f"{label}: {format_rows(df.index[totals])}: total row(s) "
            f"({', '.join(sorted(set(first_cells.to_numpy()[totals].ravel()) & TOTAL_LABELS))}) "
            "skipped — they are sums, not places",
            DataWarning,
            stacklevel=3,
        )
        df = df[~totals]
    if df.empty:
        raise InputError(
            "the table has no data rows",
            file=label,
            hint="check that the file has a header row and data below it",
        )
    df.attrs = attrs
    return df


def _first_cells(df: pd.DataFrame) -> pd.DataFrame:
    return df.iloc[:, : min(3, df.shape[1])].apply(
        lambda c: c.astype("string").str.replace(r"\s+", "", regex=True).str.lower()
    )


def _total_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows whose first cells say 合计 / 小计 / Total."""
    return _first_cells(df).isin(TOTAL_LABELS).any(axis=1).to_numpy()


#: Rows at the bottom of a table first looked at for notes (more while all are notes).
TAIL_ROWS = 64


def _tail_kinds(df: pd.DataFrame):
    """Per row of ``df``: blank, total, note (see :func:`_drop_trailing_notes`), and its
    first non-empty cell."""
    text = df.astype("string").apply(lambda c: c.str.strip()).fillna("")
    filled = (text != "").sum(axis=1).to_numpy()
    first = text.apply(lambda r: next((v for v in r if v), ""), axis=1).to_numpy()
    low = np.array([re.sub(r"\s+", "", str(v)).lower() for v in first], dtype=object)
    note = np.array([v.startswith(NOTE_PREFIXES) for v in low], dtype=bool)
    note |= (filled == 1) & (df.shape[1] >= 3) & ~np.isin(low, list(TOTAL_LABELS))
    total = np.isin(low, list(TOTAL_LABELS)) | _total_rows(df)
    return filled == 0, total, note, first


def _drop_trailing_notes(df: pd.DataFrame, label: str) -> pd.DataFrame:
    """The table without the rows below its data: from the bottom up, blank rows, total
    rows and notes (a row beginning with one of :data:`NOTE_PREFIXES`, or a lone cell in a
    table of three or more columns: a merged footnote) — only when the block below the last
    data row holds at least one note or a blank row after a total (a plain total row at the
    very bottom is left to the total-row rule). The skipped notes are named in a warning."""
    if len(df) < 2:
        return df
    rows = TAIL_ROWS  # only the bottom rows are looked at, more while all of them are notes
    while True:
        start = max(0, len(df) - rows)
        blank, total, note, first = _tail_kinds(df.iloc[start:])
        cut = len(blank)
        while cut > 0 and (blank[cut - 1] or total[cut - 1] or note[cut - 1]):
            cut -= 1
        if cut > 0 or start == 0:
            break
        rows *= 8
    tail = slice(cut, len(blank))
    if not note[tail].any():
        return df
    notes = [str(first[i])[:30] for i in range(cut, len(blank)) if note[i]]
    cut += start
    warnings.warn(
        f"{label}: {format_rows(df.index[cut:][note[tail] | total[tail]])} below the table "
        f"skipped: notes and totals, not places ({'; '.join(repr(n) for n in notes[:3])}"
        f"{' …' if len(notes) > 3 else ''})",
        DataWarning,
        stacklevel=4,
    )
    return df.iloc[:cut]


def read_layer(path: str | Path | gpd.GeoDataFrame, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON / GeoPackage / Shapefile layer (pyogrio), keeping its CRS.

    Shapefiles without a ``.cpg`` file get their text encoding detected (UTF-8, else
    GB18030, the superset of GBK that Chinese GIS software writes); the choice is logged
    and kept in ``attrs["encoding"]``. A GeoDataFrame is validated like a file.
    """
    if isinstance(path, gpd.GeoDataFrame):
        if path.empty:
            raise InputError("the GeoDataFrame has no rows", file="(GeoDataFrame)")
        _warn_mojibake(path)
        return path.copy()
    p = Path(path)
    fmt = detect_format(p)
    if fmt not in ("geojson", "gpkg", "shp"):
        raise InputError("expected a vector layer (GeoJSON/GeoPackage/Shapefile)", file=str(p))
    check_content(p, fmt)
    if layer is None and fmt == "gpkg":
        _one_layer(p)
    encoding = _dbf_encoding(p) if fmt == "shp" else None
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio",
                            **({"encoding": encoding} if encoding else {}))  # fmt: skip
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        msg = str(exc).splitlines()[0]
        raise InputError(
            f"cannot open as {fmt} ({msg})",
            file=str(p),
            hint="check the file is complete and in the stated format",
        ) from exc
    except shapely.errors.GEOSException as exc:  # e.g. a line of one point
        msg = str(exc).splitlines()[0].split(": ", 1)[-1]
        raise InputError(
            f"a geometry cannot be read ({msg})",
            file=str(p), column="geometry",
            hint="repair the layer (e.g. QGIS: Fix geometries) and export it again",
        ) from exc  # fmt: skip
    if gdf.empty:
        raise InputError(
            "the layer has no features",
            file=str(p),
            hint="export the layer again with its features",
        )
    if encoding:
        gdf.attrs["encoding"] = encoding
    return gdf


def _one_layer(p: Path) -> None:
    """Refuse a GeoPackage of several feature layers: which one is meant cannot be told, and
    reading the first would answer for the wrong one without a word."""
    try:
        found = pyogrio.list_layers(p)
    except pyogrio.errors.DataSourceError:
        return  # reading it says what is wrong
    names = [str(n) for n, geom in found if geom is not None]
    if len(names) > 1:
        shown = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
        raise InputError(f"the GeoPackage holds {len(names)} layers ({shown}); which one is "
                         "meant cannot be told", file=str(p),
                         hint="save the layer you mean to a file of its own (QGIS: Export → "
                         "Save Features As…)")  # fmt: skip


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _warn_mojibake(frame: pd.DataFrame) -> None:
    """Warn when a frame's text looks like GBK read as Latin-1 (``'ÉçÇø'`` for 社区): a GBK
    shapefile read without its encoding, e.g. by ``gpd.read_file`` when there is no .cpg."""
    for col in frame.columns:
        if col == getattr(frame, "_geometry_column_name", None) or not (
            frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])
        ):
            continue
        for v in frame[col].dropna().astype(str).head(50):
            if not re.search(r"[\x80-\xff]", v) or _CJK.search(v):
                continue
            try:
                fixed = v.encode("latin-1").decode("gb18030")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if _CJK.search(fixed):
                warnings.warn(
                    f"(GeoDataFrame): column {col!r} holds text like {v[:20]!r}, which reads "
                    f"{fixed[:10]!r} as GBK — the names look garbled: read the shapefile with "
                    "gpd.read_file(path, encoding='gbk'), or pass the file itself",
                    DataWarning,
                    stacklevel=4,
                )
                return


#: What the first bytes of each layer format are: GDAL opens any format whatever the name,
#: so a ".geojson" holding a VRT (which can run SQL over other files, e.g. /etc/passwd) or GML
#: (for which GDAL writes a .gfs beside it) must be refused before GDAL sees it.
_MAGIC = {"gpkg": (b"SQLite format 3\x00",), "shp": (b"\x00\x00\x27\x0a",)}


def check_content(p: Path, fmt: str) -> None:
    """Raise unless the file's content is the format its extension names (GeoJSON: a JSON
    object; GeoPackage: SQLite; Shapefile: the .shp header) — never another format, an XML
    indirection such as a GDAL VRT, or a link to elsewhere."""
    with open(p, "rb") as f:
        head = f.read(64)
    if fmt == "geojson":
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        ok = start == b"{"
    else:
        ok = head.startswith(_MAGIC[fmt])
    if not ok:
        shown = head[:20].decode("utf-8", "replace").strip()
        raise InputError(
            f"the content is not {fmt.upper()} (it begins {shown!r})",
            file=str(p),
            hint=f"export the layer as {fmt.upper()} (other formats, VRT and GML are not read)",
        )


def _dbf_encoding(shp: Path) -> str | None:
    """Text encoding of a shapefile's .dbf when no .cpg says it, or when the .cpg says UTF-8
    and the text is not (GBK under a UTF-8 .cpg, as some tools write it): None when GDAL can
    follow the .cpg, else ``utf-8`` when the text decodes as UTF-8, else ``gb18030``."""
    cpg = next((shp.with_suffix(s) for s in (".cpg", ".CPG") if shp.with_suffix(s).exists()),
               None)  # fmt: skip
    said = None
    if cpg is not None:
        try:
            said = cpg.read_text("ascii", errors="replace").strip().lower().replace("-", "")
        except OSError:
            said = None
        if said not in ("utf8", "65001"):
            return None
    dbf = next((shp.with_suffix(s) for s in (".dbf", ".DBF") if shp.with_suffix(s).exists()),
               None)  # fmt: skip
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little")
    names = b"".join(raw[i : i + 11] for i in range(32, header_len - 31, 32))
    text = names + raw[header_len:]
    if text.isascii():
        return None
    if said is not None:
        try:
            text.decode("utf-8")
            return None  # the .cpg is right
        except UnicodeDecodeError:
            logger.warning("%s: the .cpg says UTF-8 but the text is not; read as GB18030 (GBK)",
                           shp)  # fmt: skip
            return "gb18030"
    try:
        text.decode("utf-8")
        enc = "utf-8"
    except UnicodeDecodeError:
        enc = "gb18030"
    logger.warning("%s: no .cpg file; text read as %s%s", shp, enc.upper(),
                   " (GBK)" if enc == "gb18030" else "")  # fmt: skip
    return enc


def is_table(path: str | Path | pd.DataFrame) -> bool:
    """True for CSV/TSV/XLSX paths and plain DataFrames, False for vector layers and
    GeoDataFrames (after validating the path)."""
    if isinstance(path, pd.DataFrame):
        return not isinstance(path, gpd.GeoDataFrame)
    return detect_format(path) in ("csv", "tsv", "xlsx")


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_label(path) -> str:
    """How an input is named in messages: its path, or the kind of frame passed."""
    if isinstance(path, pd.DataFrame) and path.attrs.get("label"):
        return str(path.attrs["label"])  # a PostGIS table: its address, no password
    if isinstance(path, gpd.GeoDataFrame):
        return "(GeoDataFrame)"
    if isinstance(path, pd.DataFrame):
        return "(DataFrame)"
    from hzspatial.io.postgis import is_postgis, parse_source

    if is_postgis(path):  # a table's address: named as read, without a password
        return parse_source(path).label
    return str(path)


def encoding_note(df: pd.DataFrame) -> str | None:
    """``"text read as GB18030 …"`` for a shapefile whose encoding was detected, else None."""
    enc = df.attrs.get("encoding")
    return None if enc is None else f"text read as {enc.upper()} (the shapefile has no .cpg)"
