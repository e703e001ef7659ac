"""Finding columns by English or Chinese header aliases, or an explicit mapping."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from hzspatial.errors import InputError

_BRACKETS = re.compile(r"[\(（\[【].*?[\)）\]】]")


@cache
def aliases() -> dict[str, tuple[str, ...]]:
    """Field → accepted header names (lower-case), from ``config/columns.toml``."""
    raw = tomllib.loads(
        resources.files("hzspatial.config").joinpath("columns.toml").read_text("utf-8")
    )
    return {k: tuple(str(a).lower() for a in v) for k, v in raw.items()}


def norm_header(header: str) -> str:
    """A header compared with aliases: bracketed units removed, lower case, ``_`` for spaces."""
    return _BRACKETS.sub("", str(header)).strip().lower().replace(" ", "_")


@cache
def known_headers() -> frozenset[str]:
    """Every alias of every field, normalised (to recognise a table's header row)."""
    return frozenset(norm_header(a) for names in aliases().values() for a in names)


#: Fields where two columns meaning the same thing must agree (they change the results).
CHECKED_FIELDS = ("lon", "lat", "population", "households", "area_m2", "floor_area_m2", "beds",
                  "places", "pitches", "capacity", "doctors", "nurses")  # fmt: skip


def find_columns(
    columns: Iterable[str],
    fields: Iterable[str],
    mapping: Mapping[str, str] | None,
    path: str,
    frame: pd.DataFrame | None = None,
) -> dict[str, str]:
    """Map each wanted field to a column of the file.

    Parameters
    ----------
    columns : iterable of str
        The file's column names.
    fields : iterable of str
        Canonical field names wanted (``lon``, ``lat``, ``name`` …).
    mapping : mapping, optional
        Explicit ``{field: column}`` from the user; each named column must exist.
    path : str
        File name for error messages.
    frame : DataFrame, optional
        The data: two columns that both mean a :data:`CHECKED_FIELDS` field (``lon`` and
        ``经度``) must hold the same values, else the choice is the user's.

    Returns
    -------
    dict
        ``{field: column}`` for the fields found (missing ones are absent).
    """
    cols = [str(c) for c in columns]
    fields = list(fields)
    table = aliases()
    wanted = {norm_header(a) for f in fields for a in table.get(f, (f,))}
    wanted |= {norm_header(c) for c in (mapping or {}).values()}
    dup = sorted({c for c in cols if cols.count(c) > 1 and norm_header(c) in wanted})
    if dup:
        raise InputError(
            f"the header has column {dup[0]!r} more than once",
            file=path,
            column=dup[0],
            hint="rename one of them so that every column has its own name",
        )
    found: dict[str, str] = {}
    for field, col in (mapping or {}).items():
        if col not in cols:
            raise InputError(
                f"column '{col}' given for {field} is not in the file (columns found: "
                f"{', '.join(cols)})",
                file=path,
                hint="fix the column mapping",
            )
        found[field] = col
    normed = {norm_header(c): c for c in reversed(cols)}
    for field in fields:
        if field in found:
            continue
        matches = [normed[norm_header(a)] for a in table.get(field, (field,))
                   if norm_header(a) in normed]  # fmt: skip
        matches = [c for c in dict.fromkeys(matches) if c not in found.values()]
        if matches:
            found[field] = matches[0]
        if frame is not None and field in CHECKED_FIELDS and len(matches) > 1:
            _same_values(frame, matches[0], matches[1], field, path)
    return found


def _same_values(frame: pd.DataFrame, a: str, b: str, field: str, path: str) -> None:
    x, y = frame[a], frame[b]
    xn, yn = pd.to_numeric(x, errors="coerce"), pd.to_numeric(y, errors="coerce")
    same = ((xn - yn).abs() < 1e-9) | (
        xn.isna()
        & yn.isna()
        & (x.astype("string").str.strip().fillna("") == y.astype("string").str.strip().fillna(""))
    )
    if not same.all():
        raise InputError(
            f"columns {a!r} and {b!r} both mean {field} but hold different values",
            file=path,
            hint=f"keep one of them, or choose with a column mapping ({field}={a})",
        )


def require(
    found: Mapping[str, str],
    fields: Iterable[str],
    columns: Iterable[str],
    path: str,
    what: str,
    note: str | None = None,
) -> None:
    """Raise one InputError naming every missing field, the columns found and the aliases
    (and ``note``, e.g. the text encoding a shapefile was read with)."""
    missing = [f for f in fields if f not in found]
    if not missing:
        return
    table = aliases()
    wanted = "; ".join(f"{f} (e.g. {', '.join(table.get(f, (f,))[:4])})" for f in missing)
    raise InputError(
        f"missing required column(s) for {what}: {wanted}; columns found: "
        f"{', '.join(str(c) for c in columns)}" + (f" ({note})" if note else ""),
        file=path,
        hint="rename the columns or pass an explicit column mapping"
        + ("; if the names look garbled, add a .cpg file naming the encoding" if note else ""),
    )


def source_labels(df: pd.DataFrame) -> np.ndarray:
    """The provenance label of each row (a ``source`` column, e.g. "synthetic demo data"),
    or empty strings when the file has none."""
    col = next((c for c in df.columns if str(c).lower() == "source"), None)
    if col is None:
        return np.full(len(df), "", dtype=object)
    return df[col].astype("string").fillna("").to_numpy(dtype=object)
