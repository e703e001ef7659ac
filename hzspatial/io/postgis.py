"""PostGIS tables as inputs, and a schema of a PostGIS database as a place for the results.

An input given as ``postgresql://user@host:5432/db?table=schema.name`` (or ``postgres://``),
or as GDAL writes it, ``PG:dbname=db host=host user=user table=schema.name``, is read into a
GeoDataFrame (geometry from ``geometry_columns``, CRS from its SRID; an SRID of 0 states no
coordinate system, like a shapefile without ``.prj``) and handed to the same readers as a
file. Passwords never travel on the command line or into outputs: a password in the address
is refused; libpq takes it from ``PGPASSWORD`` or ``~/.pgpass``. :func:`write_layers` writes
result layers as tables in one transaction — all or nothing — and never drops a table it did
not write (the table comment says who wrote it) unless told to overwrite. Every schema,
table and column name is passed as a quoted identifier (:mod:`psycopg.sql`), never as SQL.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial.errors import InputError
from hzspatial.io.writers import safe_column_names

__all__ = ["PgSource", "is_postgis", "parse_source", "read_table", "write_layers"]

PREFIXES = ("postgresql://", "postgres://", "PG:")
#: The comment of every table hzspatial writes: a table without it is not replaced.
WRITTEN_BY = "written by hzspatial"
_HINT_PASSWORD = "leave the password out: set PGPASSWORD or put it in ~/.pgpass"


def is_postgis(source) -> bool:
    """Whether ``source`` names a PostGIS table or database (a string with a prefix of
    :data:`PREFIXES`)."""
    return isinstance(source, str) and source.startswith(PREFIXES)


@dataclass(frozen=True)
class PgSource:
    """A parsed address: libpq ``conninfo`` (no password), ``schema`` (None: the search
    path's), ``table`` (None for a database alone) and ``label`` for messages."""

    conninfo: str
    schema: str | None
    table: str | None
    label: str


def _split_table(text: str, label: str) -> tuple[str | None, str]:
    """``schema.name`` (either part may be double-quoted, ``""`` for a quote) → parts."""
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', text)
    names = [q.replace('""', '"') if q else u for q, u in parts]
    rebuilt = ".".join('"' + n.replace('"', '""') + '"' if q else n
                       for n, (q, _) in zip(names, parts, strict=True))  # fmt: skip
    if not names or len(names) > 2 or rebuilt != text:
        raise InputError(f"cannot read the table name {text!r}", file=label, column="table",
                         hint='give table=schema.name (double-quote a part holding a dot: '
                         '"my.schema".name)')  # fmt: skip
    return (None, names[0]) if len(names) == 1 else (names[0], names[1])


def parse_source(source: str) -> PgSource:
    """The connection, schema and table of a PostGIS address (see the module docstring)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if source.startswith("PG:"):
        body = source[3:].strip().strip('"')
        m = re.search(r"(?:^|\s)tables?=(\S+)", body)
        table = m.group(1).strip("'") if m else None
        rest = (body[: m.start()] + body[m.end():]).strip() if m else body
        try:
            params = conninfo_to_dict(rest)
        except Exception as exc:
            raise InputError(f"cannot read the PG: address ({exc})", file="PG:",
                             hint="write it as PG:dbname=db host=host table=schema.name") from None
    else:
        url = urllib.parse.urlsplit(source)
        if url.password:
            raise InputError("a password in the database address", file=_safe_url(url),
                             hint=_HINT_PASSWORD)  # fmt: skip
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        table = (query.pop("table", None) or query.pop("tables", None) or [None])[0]
        rest = urllib.parse.urlunsplit(url._replace(query=urllib.parse.urlencode(query,
                                                                                 doseq=True)))
        params = conninfo_to_dict(rest)
    if "password" in params:
        raise InputError("a password in the database address", file="PG:",
                         hint=_HINT_PASSWORD)  # fmt: skip
    conninfo = make_conninfo(**params)
    where = " ".join(f"{k}={params[k]}" for k in ("user", "host", "port", "dbname")
                     if k in params)  # fmt: skip
    label = f"PostGIS {where or '(libpq defaults)'}"
    schema, name = _split_table(table, label) if table else (None, None)
    if name is not None:
        label += f" table {table}"
    return PgSource(conninfo, schema, name, label)


def _safe_url(url) -> str:
    host = url.hostname or ""
    return f"{url.scheme}://{url.username + '@' if url.username else ''}{host}{url.path}"


def _connect(src: PgSource):
    import psycopg

    try:
        return psycopg.connect(src.conninfo, connect_timeout=15)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot connect to the database ({first[:160]})", file=src.label,
                         hint="check the address, that the server runs, and the password in "
                         "PGPASSWORD or ~/.pgpass") from None  # fmt: skip


def read_table(source: str) -> gpd.GeoDataFrame:
    """A PostGIS table as a GeoDataFrame (every column; geometry in the table's SRID).

    ``attrs["label"]`` names it in messages (address without password, and the table).
    """
    from psycopg import sql

    src = parse_source(source)
    if src.table is None:
        raise InputError("no table named in the database address", file=src.label,
                         column="table", hint="add ?table=schema.name")  # fmt: skip
    with _connect(src) as con:
        schema = src.schema or con.execute("SELECT current_schema()").fetchone()[0]
        found = con.execute(
            "SELECT f_geometry_column, srid FROM geometry_columns WHERE f_table_schema = %s "
            "AND f_table_name = %s ORDER BY f_geometry_column LIMIT 1", (schema, src.table),
        ).fetchone()  # fmt: skip
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
            "table_name = %s ORDER BY ordinal_position", (schema, src.table)).fetchall()]
        if not cols:
            raise InputError(f"no table {schema}.{src.table} in the database", file=src.label,
                             hint="check the schema and table name")  # fmt: skip
        if found is None:
            raise InputError("the table has no geometry column", file=src.label,
                             hint="give a table with a PostGIS geometry column")  # fmt: skip
        geom, srid = found
        others = [c for c in cols if c != geom]
        query = sql.SQL("SELECT {cols}ST_AsBinary({g}) FROM {t}").format(
            cols=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in others),
            g=sql.Identifier(geom), t=sql.Identifier(schema, src.table))  # fmt: skip
        rows = con.execute(query).fetchall()
    frame = pd.DataFrame([r[:-1] for r in rows], columns=others)
    geoms = shapely.from_wkb(np.array([None if r[-1] is None else bytes(r[-1]) for r in rows],
                                      dtype=object))  # fmt: skip
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{srid}" if srid else None)
    gdf.attrs["label"] = src.label
    return gdf


_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double precision",
          "M": "timestamp"}  # fmt: skip


def write_layers(layers: Sequence[tuple[str, gpd.GeoDataFrame]], target: str, schema: str,
                 *, overwrite: bool = False, note: str = "") -> list[str]:  # fmt: skip
    """Write ``layers`` (name, GeoDataFrame) as tables ``schema.name`` in one transaction.

    Each table: the frame's columns (numbers, booleans, text), ``geom`` (EPSG:4326) with a
    GiST index, and the comment :data:`WRITTEN_BY` (+ ``note``). A table of that name which
    hzspatial did not write is refused unless ``overwrite``; one it wrote is replaced. Any
    failure rolls everything back: no table is left half-written. Returns the tables written.
    """
    import psycopg

    src = parse_source(target)
    if not schema or not str(schema).strip():
        raise InputError("no schema to write into", column="--db-schema",
                         hint="give --db-schema NAME")  # fmt: skip
    try:
        return _write_all(layers, src, schema, overwrite, note)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"the database refused the result tables ({first[:160]}); nothing "
                         "was written", file=src.label, column="--out-db",
                         hint="check the user's rights on the schema and the values") from None


def _write_all(layers, src: PgSource, schema: str, overwrite: bool, note: str) -> list[str]:
    """:func:`write_layers` in one transaction (rolled back on any error)."""
    from psycopg import sql

    done = []
    with _connect(src) as con, con.transaction():
        con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for name, gdf in layers:
            if gdf is None or len(gdf) == 0:
                continue
            table = sql.Identifier(schema, name)
            comment = con.execute("SELECT obj_description(c.oid, 'pg_class') FROM pg_class c "
                                  "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                                  "n.nspname = %s AND c.relname = %s",
                                  (schema, name)).fetchone()  # fmt: skip
            if comment is not None:
                if not (comment[0] or "").startswith(WRITTEN_BY) and not overwrite:
                    raise InputError(f"table {schema}.{name} exists and hzspatial did not "
                                     "write it", file=src.label, column="--db-schema",
                                     hint="choose another --db-schema, or --overwrite to "
                                     "replace it")  # fmt: skip
                con.execute(sql.SQL("DROP TABLE {}").format(table))
            _create_and_fill(con, table, gdf)
            con.execute(sql.SQL("CREATE INDEX ON {} USING GIST (geom)").format(table))
            con.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(
                table, sql.Literal(f"{WRITTEN_BY} {note}".strip())))
            done.append(name)
    return done


def _create_and_fill(con, table, gdf: gpd.GeoDataFrame) -> None:
    """CREATE TABLE with the frame's columns and a 4326 ``geom``, rows copied in."""
    from psycopg import sql

    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs(4326)
    frame = pd.DataFrame(safe_column_names(gdf).drop(columns=gdf.geometry.name))
    names, types = [str(c) for c in frame.columns], []
    for col in frame.columns:
        kind = frame[col].dtype.kind if isinstance(frame[col].dtype, np.dtype) else "O"
        types.append(_TYPES.get(kind, "text"))
    cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
                              for n, t in zip(names, types, strict=True))  # fmt: skip
    con.execute(sql.SQL("CREATE TABLE {} (fid bigserial PRIMARY KEY, {}{}geom "
                        "geometry(Geometry, 4326))").format(
        table, cols, sql.SQL(", ") if names else sql.SQL("")))  # fmt: skip
    values = []
    for k, col in enumerate(frame.columns):
        v = frame[col].astype(object).where(frame[col].notna(), None).to_numpy()
        if types[k] == "text":
            v = np.array([None if x is None else str(x) for x in v], dtype=object)
        elif types[k] == "double precision":
            v = np.array([None if x is None or not np.isfinite(x) else float(x) for x in v],
                         dtype=object)  # fmt: skip
        values.append(v)
    # hex EWKB with the SRID, as COPY's text format takes a geometry of the typed column
    ewkb = shapely.to_wkb(shapely.set_srid(gdf.geometry.to_numpy(), 4326), hex=True,
                          include_srid=True)  # fmt: skip
    targets = sql.SQL(", ").join([*(sql.Identifier(n) for n in names), sql.Identifier("geom")])
    with con.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, targets)) as cp:
        for i in range(len(frame)):
            row = [values[k][i] for k in range(len(names))]
            cp.write_row([*(x.item() if isinstance(x, np.generic) else x for x in row),
                          ewkb[i]])
