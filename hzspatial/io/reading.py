"""What an input file is — decided in one stage, said in one line, handed on as a plain table.

Reading a facility or residents file decides, in this order: the kind of file (a table —
CSV/TSV/XLSX or a frame — or a layer), its encoding, sheet, header row and the rows used
(:func:`~hzspatial.io._files.read_table` drops totals and trailing notes), which column holds
each field, whether it is a POI export (Amap, Baidu, Tencent: ``config/poi.toml``), and the
coordinate system with the reason for it: declared for this input, stated by the file
(``.prj``, GeoPackage SRS, headers such as ``经度(GCJ02)``), recognised from a POI export's
shape (a guess: warned), ``--crs-in``, or assumed WGS84. :func:`read_input` returns all of
it as a :class:`Reading` — the attributes as a plain table and the geometries in WGS84 —
and logs it once; the parsers (:mod:`~hzspatial.io.facilities`,
:mod:`~hzspatial.io.population`) then read values from the table and never look at the file.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.errors import DataWarning, InputError, format_rows
from hzspatial.io._columns import find_columns, require
from hzspatial.io._files import input_label, is_table, read_layer, read_table
from hzspatial.io._geometry import (
    feature_rows,
    layer_to_wgs84,
    pick_crs,
    points_from_table,
    table_crs,
    table_rows,
)
from hzspatial.io.poi import PoiSource, crs_from_headers, detect_source

__all__ = ["Reading", "read_input"]

logger = logging.getLogger(__name__)

#: Geographic systems a POI export converted to a layer claims while its coordinates stay in
#: the export's own datum (GCJ-02, BD-09).
_CLAIMED_GEOGRAPHIC = (4326, 4490)


@dataclass
class Reading:
    """One input file as read.

    Attributes
    ----------
    label : str
        The file as named in messages.
    table : DataFrame
        The attributes of the rows used (no geometry); ``attrs`` keeps ``encoding``,
        ``sheets``, ``header_row`` where they apply.
    columns : dict
        Field → column of ``table`` (``lon`` and ``lat`` the same column for one ``location``).
    geometry : ndarray of geometry
        One per row, WGS84 (points for tables; the layer's points or polygons).
    rows_of : callable
        Boolean mask → row numbers as the user sees them (spreadsheet rows, feature numbers).
    crs : str
        The coordinate system the file was read in (``wgs84``, ``gcj02``, ``EPSG:4547`` …).
    crs_how : str
        ``declared``, ``file``, ``poi`` (recognised from a POI export's shape), ``--crs-in``,
        ``degrees`` (a projected ``--crs-in`` not applied to columns of degrees) or
        ``assumed``.
    source : PoiSource or None
        The POI export recognised, if any.
    layer : bool
        Whether the file is a layer (else a table).
    """

    label: str
    table: pd.DataFrame
    columns: dict[str, str]
    geometry: np.ndarray
    rows_of: Callable[[np.ndarray], list[int]]
    crs: str
    crs_how: str
    source: PoiSource | None = None
    layer: bool = False

    def why(self, option: str) -> str:
        """Why the coordinates are read in :attr:`crs`, in words (``option`` names the flag
        that declares this input's system, e.g. ``--facilities-crs``)."""
        if self.crs_how == "poi":
            return f"an {self.source.label}: {self.source.why}"
        if self.crs_how == "file":
            return ("the file says so" if self.layer else
                    f"the headers say so ({self.columns.get('lon')})")  # fmt: skip
        if self.crs_how == "degrees":
            return "the columns hold degrees, so the projected --crs-in does not apply"
        return {"declared": "declared", "--crs-in": "--crs-in"}.get(
            self.crs_how, f"nothing in the file says; assumed — declare it with {option} if not")

    def line(self, option: str) -> str:
        """The one line saying what the file is: format, encoding, sheet and rows used,
        source, coordinate system and why, and the column read for each field."""
        a = self.table.attrs
        label = self.label
        parts = [label.rsplit(".", 1)[-1].upper() if "." in Path(label).name
                 else ("layer" if self.layer else "table")]  # fmt: skip
        if a.get("encoding"):
            parts.append(a["encoding"])
        if a.get("sheets"):
            parts.append("sheet " + ", ".join(a["sheets"]))
        if a.get("header_row", 1) > 1:
            parts.append(f"header on row {a['header_row']}")
        parts.append(f"{len(self.table)} {'features' if self.layer else 'rows'}")
        if self.source is not None:
            parts.append(self.source.label)
        cols = ", ".join(f"{k}={v!r}" for k, v in self.columns.items()
                         if not (k == "lat" and v == self.columns.get("lon")))  # fmt: skip
        return (f"{label}: {', '.join(parts)}; coordinates read as {str(self.crs).upper()} "
                f"({self.why(option)}); columns {cols or '(none)'}")  # fmt: skip

    def log(self, option: str) -> None:
        """Log :meth:`line` — as a warning when the coordinate system was recognised from the
        file's content (it moves every point by hundreds of metres if wrong)."""
        if self.crs_how == "poi":
            warnings.warn(f"{self.line(option)} — declare {option} wgs84 if they were converted",
                          DataWarning, stacklevel=3)  # fmt: skip
        else:
            logger.info("%s", self.line(option))


def read_input(
    path: str | Path | pd.DataFrame,
    *,
    what: str,
    fields: Sequence[str],
    columns: Mapping[str, str] | None = None,
    crs: _crs.CrsIn | None = None,
    default_crs: _crs.CrsIn | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    needs: Sequence[Sequence[Sequence[str]]] | None = None,
    poi: bool = False,
) -> Reading:
    """Read a table or layer of points or polygons: what the file is and its coordinates.

    Parameters
    ----------
    path : str, Path, DataFrame or GeoDataFrame
        CSV/TSV/XLSX table with longitude/latitude (or one ``location``) columns, a layer
        (GeoJSON, GeoPackage, Shapefile), or a frame in memory.
    what : str
        The input's role as its option names it (``facilities``, ``population``): in
        messages and in ``--<what>-crs``.
    fields : sequence of str
        Fields whose columns are looked for (``config/columns.toml``).
    columns : mapping, optional
        Explicit ``{field: column}``.
    crs, default_crs : optional
        This input's declared system; the run's default for files that do not say.
    sheet, header_row : optional
        XLSX sheet; header row as the spreadsheet shows it.
    needs : optional
        Column sets a sheet must hold to be read (:func:`~hzspatial.io._files.read_table`).
    poi : bool
        Recognise POI exports (their datum and type columns).

    Returns
    -------
    Reading
        Logged once (:meth:`Reading.log`). Line geometries are refused.
    """
    label = input_label(path)
    if is_table(path):
        reading = _read_table(path, label, what, fields, columns, crs, default_crs, sheet,
                              header_row, needs, poi)  # fmt: skip
    else:
        reading = _read_layer(path, label, what, fields, columns, crs, default_crs, poi)
    reading.log(f"--{what}-crs")
    return reading


def _read_table(path, label, what, fields, columns, crs, default_crs, sheet, header_row,
                needs, poi) -> Reading:  # fmt: skip
    df = read_table(path, sheet=sheet, header_row=header_row,
                    names=(columns or {}).values(), needs=needs)  # fmt: skip
    found = find_columns(df.columns, fields, columns, label, frame=df)
    if ("lon" not in found or "lat" not in found) and "location" in found:
        found["lon"] = found["lat"] = found["location"]
    require(found, ["lon", "lat"], df.columns, label, f"{_noun(what)} coordinates")
    source = detect_source(df.columns, df, found.get("category")) if poi else None
    headers = crs_from_headers({found["lon"], found["lat"]}, df)
    said = headers if headers is not None else (None if source is None else source.crs)
    used = table_crs(crs, said, default_crs, df, found["lon"], found["lat"], label, what,
                     quiet=True)  # fmt: skip
    how = pick_crs(crs, said, default_crs)[1]
    if how == "file" and headers is None:
        how = "poi"  # said by the export's shape, not by the file: a guess, warned
    if how == "--crs-in" and used == "wgs84" and _crs.parse_crs_in(default_crs) != "wgs84":
        how = "degrees"
    points = points_from_table(df, found["lon"], found["lat"], used, label)
    return Reading(label, df, found, np.asarray(points, dtype=object), table_rows(df),
                   used if isinstance(used, str) else str(used), how, source)  # fmt: skip


def _read_layer(path, label, what, fields, columns, crs, default_crs, poi) -> Reading:
    raw = read_layer(path)
    attrs = raw.drop(columns=raw.geometry.name)
    found = find_columns(attrs.columns, fields, columns, label, frame=attrs)
    source = detect_source(attrs.columns, attrs, found.get("category")) if poi else None
    declared, how = crs, None
    if (crs is None and source is not None and source.crs != "wgs84"
            and (raw.crs is None or raw.crs.to_epsg() in _CLAIMED_GEOGRAPHIC)):  # fmt: skip
        # a POI export saved as a layer claims WGS84 (or says nothing) while its coordinates
        # stay in the export's datum: read in it and say so, as for its table
        declared, how = source.crs, "poi"
    gdf = layer_to_wgs84(raw, label, crs=declared, default=default_crs, what=what, quiet=True)
    how = how or pick_crs(crs, raw.crs, default_crs)[1]
    geoms = gdf.geometry.to_numpy()
    lines = np.isin(shapely.get_type_id(geoms), (1, 2, 5))
    if lines.any():
        raise InputError(
            f"line geometry where {_noun(what)} points or polygons were expected",
            where=format_rows(feature_rows(lines)), file=label, column="geometry",
            hint="use points or polygons",
        )  # fmt: skip
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    df.attrs = gdf.attrs
    return Reading(label, df, found, geoms, feature_rows, str(gdf.attrs["crs_in"]), how, source,
                   layer=True)  # fmt: skip


def _noun(what: str) -> str:
    return {"facilities": "facility", "population": "residents"}.get(what, what)

