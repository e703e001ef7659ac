"""Reading district boundaries (counties, streets, planning units)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.errors import InputError, format_rows
from hzspatial.io._columns import find_columns
from hzspatial.io._files import is_table, read_layer
from hzspatial.io._geometry import feature_rows, ids_and_names, layer_to_wgs84, parse_numbers

__all__ = ["read_boundaries"]


def read_boundaries(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    crs_in: _crs.CrsIn | None = None,
) -> gpd.GeoDataFrame:
    """Read district polygons.

    Parameters
    ----------
    path : str or Path
        GeoJSON / GeoPackage / Shapefile of polygons.
    columns : mapping, optional
        ``{field: column}`` for ``id`` (e.g. ``adcode``), ``name``, ``population``.
    crs_in : str or int, optional
        Override of the layer's CRS (``gcj02`` for Amap-derived files).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; ``district_id`` (str), ``name``, ``population`` (persons; NaN means
        *population unknown*), geometry (polygons).
    """
    path_s = str(path)
    if is_table(path):
        raise InputError(
            "boundaries must be a polygon layer (GeoJSON/GeoPackage/Shapefile)",
            file=path_s,
            hint="export the districts as polygons",
        )
    gdf = layer_to_wgs84(read_layer(path), crs_in, path_s)
    areal = np.isin(shapely.get_type_id(gdf.geometry.to_numpy()), (3, 6))
    if not areal.all():
        raise InputError(
            "not a polygon",
            where=format_rows(feature_rows(~areal)),
            file=path_s,
            column="geometry",
            hint="boundaries must be polygons",
        )
    mapping = {"id": "adcode", **(columns or {})} if "adcode" in gdf.columns else columns
    found = find_columns(gdf.columns, ["id", "name", "population"], mapping, path_s)
    n = len(gdf)
    default_ids = np.array([str(i + 1) for i in range(n)], dtype=object)
    ids, names = ids_and_names(gdf, found, path_s, feature_rows, default_ids)
    pop = (
        parse_numbers(
            gdf[found["population"]],
            path=path_s,
            column=found["population"],
            rows_of=feature_rows,
            what="population",
            allow_missing=True,
            minimum=0,
        )
        if "population" in found
        else np.full(n, np.nan)
    )
    extra = [c for c in ("population_note",) if c in gdf.columns]
    out = gpd.GeoDataFrame(
        {"district_id": ids, "name": names, "population": pop},
        geometry=gdf.geometry.to_numpy(),
        crs=4326,
    )
    for c in extra:
        out[c] = pd.Series(gdf[c]).to_numpy()
    return out
