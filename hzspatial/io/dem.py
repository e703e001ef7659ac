"""Elevation models (GeoTIFF DEMs: SRTM, Copernicus GLO-30, a bureau's own) sampled at points.

Elevations are read in the DEM's own CRS around the points only (one window, never the whole
file), turned into metres by the band's scale, offset and stated unit (an int16 model in
decimetres, a model in feet) and interpolated bilinearly between cell centres. Points outside
the model, or on its nodata (SRTM voids), get NaN: what the caller does with them it must say.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pyproj

from hzspatial.errors import InputError

__all__ = ["ELEVATION_RANGE_M", "dem_labels", "sample_dem"]

logger = logging.getLogger(__name__)

#: Elevations outside this range (metres) are not of a ground surface on Earth in metres (a
#: DEM in feet, or a raster of something else): refused rather than read as slopes.
ELEVATION_RANGE_M = (-500.0, 9000.0)


def sample_dem(path: str | Path, xy: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Elevation (metres) at points.

    Parameters
    ----------
    path : str or Path
        A single-band raster of elevations in metres, in any CRS it states.
    xy : ndarray, shape (n, 2)
        Points in ``crs``.
    crs : pyproj.CRS
        CRS of ``xy``.

    Returns
    -------
    ndarray, shape (n,)
        Metres above the DEM's datum; NaN outside the model or on nodata.
    """
    import rasterio

    label = str(path)
    if not Path(path).is_file():
        raise InputError("DEM file not found", file=label, hint="check the --dem path")
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"cannot read the DEM ({exc})", file=label,
                         hint="give a GeoTIFF elevation model (SRTM, Copernicus)") from exc
    with ds:
        if ds.crs is None:
            raise InputError("the DEM states no coordinate system", file=label,
                             hint="assign one (gdal_edit.py -a_srs EPSG:4326 dem.tif)")
        if ds.count != 1:
            raise InputError(f"the DEM has {ds.count} bands; an elevation model has one",
                             file=label, hint="give the elevation band alone")  # fmt: skip
        dem_crs = pyproj.CRS.from_user_input(ds.crs.to_wkt())
        x, y = pyproj.Transformer.from_crs(crs, dem_crs, always_xy=True).transform(
            xy[:, 0], xy[:, 1])
        inv = ~ds.transform
        col, row = inv @ (np.asarray(x), np.asarray(y))
        # cell centres at half-integers: the four around each point
        fc, fr = np.asarray(col) - 0.5, np.asarray(row) - 0.5
        inside = (fc >= -0.5) & (fc <= ds.width - 0.5) & (fr >= -0.5) & (fr <= ds.height - 0.5)
        out = np.full(len(xy), np.nan)
        if not inside.any():
            return out
        r0 = max(0, math.floor(fr[inside].min()))
        r1 = min(ds.height, math.floor(fr[inside].max()) + 2)
        c0 = max(0, math.floor(fc[inside].min()))
        c1 = min(ds.width, math.floor(fc[inside].max()) + 2)
        band = ds.read(1, window=((r0, r1), (c0, c1)), masked=True).astype(float)
        z = np.ma.filled(band, np.nan)
        if ds.nodata is not None and not np.isnan(ds.nodata):
            z[z == ds.nodata] = np.nan
        z = z * _to_metres(ds, label) + (ds.offsets[0] or 0.0) * _unit_metres(ds, label)
    out[inside] = _bilinear(z, fr[inside] - r0, fc[inside] - c0)
    lo, hi = np.nanmin(out, initial=0.0), np.nanmax(out, initial=0.0)
    if lo < ELEVATION_RANGE_M[0] or hi > ELEVATION_RANGE_M[1]:
        raise InputError(
            f"elevations from {lo:,.0f} to {hi:,.0f} are not metres of ground height",
            file=label,
            hint="give a DEM in metres (SRTM, Copernicus GLO-30 are); convert one in feet",
        )
    return out


#: Metres per unit of the band's stated unit (GDAL's unit type), as DEMs write it.
_UNITS = {"": 1.0, "m": 1.0, "metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0,
          "dm": 0.1, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "foot": 0.3048, "feet": 0.3048,
          "us-ft": 1200 / 3937, "ftus": 1200 / 3937, "us survey foot": 1200 / 3937}  # fmt: skip


def _unit_metres(ds, label: str) -> float:
    """Metres per unit of the band (its stated unit type; none stated: metres)."""
    unit = (ds.units[0] or "").strip().lower()
    if unit not in _UNITS:
        raise InputError(f"the DEM's elevations are in {ds.units[0]!r}, not a length unit "
                         "hzspatial knows", file=label,
                         hint="give a DEM in metres (or feet, decimetres … stated as its "
                         "unit type)")  # fmt: skip
    return _UNITS[unit]


def _to_metres(ds, label: str) -> float:
    """Metres per stored value: the band's scale (an int16 DEM in decimetres stores 0.1)
    times its unit."""
    return (ds.scales[0] if ds.scales[0] else 1.0) * _unit_metres(ds, label)


def dem_labels(path: str | Path) -> list[str]:
    """Provenance the DEM states in its ``SOURCE`` tag: e.g. "synthetic demo data" for the
    demo's (SRTM and Copernicus tiles state none)."""
    import rasterio

    with rasterio.open(path) as ds:
        source = ds.tags().get("SOURCE")
    return [str(source)] if source else []


def _bilinear(z: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of the grid ``z`` at fractional (row, column) of cell centres;
    at the grid's outer half cells the nearest edge values; NaN next to a NaN cell."""
    h, w = z.shape
    r = np.clip(r, 0, h - 1)
    c = np.clip(c, 0, w - 1)
    r_lo = np.minimum(np.floor(r).astype(np.int64), max(h - 2, 0))
    c_lo = np.minimum(np.floor(c).astype(np.int64), max(w - 2, 0))
    r_hi, c_hi = np.minimum(r_lo + 1, h - 1), np.minimum(c_lo + 1, w - 1)
    tr, tc = r - r_lo, c - c_lo
    top = z[r_lo, c_lo] * (1 - tc) + z[r_lo, c_hi] * tc
    bottom = z[r_hi, c_lo] * (1 - tc) + z[r_hi, c_hi] * tc
    return top * (1 - tr) + bottom * tr
