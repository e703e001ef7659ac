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


def find_columns(
    columns: Iterable[str],
    fields: Iterable[str],
    mapping: Mapping[str, str] | None,
    path: str,
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

    Returns
    -------
    dict
        ``{field: column}`` for the fields found (missing ones are absent).
    """
    cols = [str(c) for c in columns]
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
    table = aliases()
    for field in fields:
        if field in found:
            continue
        for alias in table.get(field, (field,)):
            col = normed.get(norm_header(alias))
            if col is not None and col not in found.values():
                found[field] = col
                break
    return found


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
