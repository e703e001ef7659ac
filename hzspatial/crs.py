"""Coordinate systems used for Chinese data: WGS84, CGCS2000, GCJ-02, BD-09, projected CRSs.

GCJ-02 (used by Amap / Gaode and Tencent) and BD-09 (Baidu) are obfuscated
datums: a published forward formula shifts WGS84 by 100–700 m. The inverse has
no closed form and is computed here by fixed-point iteration until the forward
transform reproduces the input to better than 1e-9 degrees (≈ 0.1 mm).

The shift is applied only inside the conventional GCJ-02 domain (the
longitude/latitude rectangle 72.004–137.8347 °E, 0.8293–55.8271 °N used by the
reference implementations); points outside it are returned unchanged.

CGCS2000 geographic coordinates (EPSG:4490) differ from WGS84 by centimetres and
are treated as WGS84. Any EPSG code (e.g. the CGCS2000 Gauss–Krüger zones
EPSG:4513–4554) is accepted through pyproj.

All functions are vectorised over NumPy arrays; longitudes and latitudes are
in degrees.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from hzspatial.errors import InputError

__all__ = [
    "CHINA_BOUNDS",
    "CrsIn",
    "in_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "parse_crs_in",
    "to_wgs84",
    "from_wgs84",
    "geometries_to_wgs84",
    "geometries_from_wgs84",
    "metric_crs",
    "haversine_m",
]

#: (min_lon, min_lat, max_lon, max_lat) of the GCJ-02 domain.
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

CrsIn = Literal["wgs84", "cgcs2000", "gcj02", "bd09"] | str | int

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02 (metres)
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-9
_MAX_ITER = 30

Array = NDArray[np.float64]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return np.broadcast_arrays(lon_a, lat_a)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (lon, lat) in degrees lies inside the GCJ-02 domain."""
    lon_a, lat_a = _arrays(lon, lat)
    x0, y0, x1, y1 = CHINA_BOUNDS
    return (lon_a >= x0) & (lon_a <= x1) & (lat_a >= y0) & (lat_a <= y1)


def _gcj_delta(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _gcj_fwd(lon: Array, lat: Array) -> tuple[Array, Array]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _bd_fwd(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 → BD-09 (published formula)."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(fwd, lon: Array, lat: Array) -> tuple[Array, Array]:
    """Solve fwd(x) = (lon, lat) by fixed-point iteration x ← x − (fwd(x) − target)."""
    x, y = lon.copy(), lat.copy()
    for _ in range(_MAX_ITER):
        fx, fy = fwd(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        if not ex.size or max(np.abs(ex).max(), np.abs(ey).max()) < _TOL_DEG:
            break
    return x, y


def _masked(fn, lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    lon_a, lat_a = _arrays(lon, lat)
    out_lon, out_lat = lon_a.astype(float, copy=True), lat_a.astype(float, copy=True)
    mask = in_china(lon_a, lat_a)
    if mask.any():
        out_lon[mask], out_lat[mask] = fn(lon_a[mask], lat_a[mask])
    return out_lon, out_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS84 → GCJ-02 (degrees). Points outside China are returned unchanged."""
    return _masked(_gcj_fwd, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 → WGS84 by iteration (error < 1e-9°). Points outside China unchanged."""
    return _masked(lambda x, y: _invert(_gcj_fwd, x, y), lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 → BD-09 (degrees). Points outside China unchanged."""
    return _masked(_bd_fwd, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 → GCJ-02 by iteration (error < 1e-9°). Points outside China unchanged."""
    return _masked(lambda x, y: _invert(_bd_fwd, x, y), lon, lat)


def _wgs_bd_fwd(lon: Array, lat: Array) -> tuple[Array, Array]:
    return _bd_fwd(*_gcj_fwd(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS84 → BD-09 (degrees). Points outside China unchanged."""
    return _masked(_wgs_bd_fwd, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 → WGS84 by iteration on the composed forward transform. Outside China unchanged."""
    return _masked(lambda x, y: _invert(_wgs_bd_fwd, x, y), lon, lat)


_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "cgcs2000": "wgs84",
    "epsg:4490": "wgs84",
    "4490": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "baidu": "bd09",
}


def parse_crs_in(crs_in: CrsIn) -> str | pyproj.CRS:
    """Normalise a ``crs_in`` option.

    Returns ``"wgs84"`` (also for CGCS2000 geographic), ``"gcj02"``, ``"bd09"``,
    or a :class:`pyproj.CRS` for any other EPSG code / CRS string.

    Raises
    ------
    InputError
        If the value is not a known name and pyproj cannot parse it.
    """
    if isinstance(crs_in, pyproj.CRS):
        return "wgs84" if crs_in.to_epsg() in (4326, 4490) else crs_in
    key = str(crs_in).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        crs = pyproj.CRS.from_user_input(int(key) if key.isdigit() else crs_in)
    except (pyproj.exceptions.CRSError, TypeError) as exc:
        raise InputError(
            f"unknown coordinate system {crs_in!r}",
            column="crs_in",
            hint="use wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as 4545",
        ) from exc
    return "wgs84" if crs.to_epsg() in (4326, 4490) else crs


def to_wgs84(x: ArrayLike, y: ArrayLike, crs_in: CrsIn) -> tuple[Array, Array]:
    """Convert coordinates given in ``crs_in`` to WGS84 longitude/latitude (degrees)."""
    crs = parse_crs_in(crs_in)
    if crs == "wgs84":
        return _arrays(x, y)
    if crs == "gcj02":
        return gcj02_to_wgs84(x, y)
    if crs == "bd09":
        return bd09_to_wgs84(x, y)
    tr = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    return tr.transform(*_arrays(x, y))


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs_out: CrsIn) -> tuple[Array, Array]:
    """Convert WGS84 longitude/latitude (degrees) to ``crs_out``."""
    crs = parse_crs_in(crs_out)
    if crs == "wgs84":
        return _arrays(lon, lat)
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return wgs84_to_bd09(lon, lat)
    tr = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    return tr.transform(*_arrays(lon, lat))


def _transform_geoms(geoms: ArrayLike, fn) -> NDArray[np.object_]:
    def apply(coords: Array) -> Array:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), apply)


def geometries_to_wgs84(geoms: ArrayLike, crs_in: CrsIn) -> NDArray[np.object_]:
    """Convert an array of shapely geometries in ``crs_in`` to WGS84 (vectorised)."""
    return _transform_geoms(geoms, lambda x, y: to_wgs84(x, y, crs_in))


def geometries_from_wgs84(geoms: ArrayLike, crs_out: CrsIn) -> NDArray[np.object_]:
    """Convert an array of WGS84 shapely geometries to ``crs_out`` (vectorised)."""
    return _transform_geoms(geoms, lambda x, y: from_wgs84(x, y, crs_out))


def metric_crs(lon: ArrayLike, lat: ArrayLike) -> pyproj.CRS:
    """Choose a metric CRS (WGS84 / UTM, metres) for a study area.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 coordinates (degrees) of the study area, e.g. its bounds or its points.

    Returns
    -------
    pyproj.CRS
        The UTM zone containing the centre of the points' extent (EPSG:326xx north,
        EPSG:327xx south). Hanzhong (≈107 °E, 33 °N) gives EPSG:32648.
    """
    lon_a, lat_a = _arrays(lon, lat)
    cx = (np.nanmin(lon_a) + np.nanmax(lon_a)) / 2.0
    cy = (np.nanmin(lat_a) + np.nanmax(lat_a)) / 2.0
    zone = int(np.clip(np.floor((cx + 180.0) / 6.0) + 1, 1, 60))
    return pyproj.CRS.from_epsg((32600 if cy >= 0 else 32700) + zone)


def haversine_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Array:
    """Great-circle distance in metres between WGS84 points (sphere, R = 6,371,008.8 m)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(h))
