"""Generate the demo's synthetic elevation model (data/dem/hanzhong_demo_dem.tif).

Usage::

    python scripts/make_demo_dem.py

**Synthetic demo data**, not a survey: a GeoTIFF on SRTM's grid (1 arc-second, WGS84, int16
metres) shaped like the edge of the Hanzhong basin — the 汉江 valley floor at 500 m along the
demo's river, rising gently (0.6 %) away from it, and to the south hills that begin 1.2 km from
the river and climb 300 m over 3 km (the Daba foothills), rippled every kilometre or so.
Deterministic (no random numbers); licence CC0.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import rasterio
import shapely
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "dem" / "hanzhong_demo_dem.tif"
#: Extent (WGS84 degrees) and cell size: SRTM's 1 arc-second.
WEST, EAST, SOUTH, NORTH = 106.965, 107.115, 32.99, 33.115
CELL = 1 / 3600
FLOOR_M, VALLEY_GRADE, HILLS_M, HILLS_FROM_M, HILLS_OVER_M = 500.0, 0.006, 300.0, 1200.0, 3000.0


def _river_centre(river: shapely.Geometry, lons: np.ndarray) -> np.ndarray:
    """Latitude of the river band's middle at each longitude (nearest known beyond its ends)."""
    lat = np.full(len(lons), np.nan)
    for i, lon in enumerate(lons):
        cut = river.intersection(shapely.LineString([(lon, SOUTH - 1), (lon, NORTH + 1)]))
        if not cut.is_empty:
            lat[i] = shapely.centroid(cut).y
    ok = np.flatnonzero(~np.isnan(lat))
    return np.interp(np.arange(len(lons)), ok, lat[ok])


def elevation(lon: np.ndarray, lat: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Metres above sea level of the synthetic basin edge at cell centres (2-D arrays)."""
    utm = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
    x, y = utm.transform(lon, lat)
    _, y_river = utm.transform(lon, np.broadcast_to(centre, lon.shape))
    d = np.abs(y - y_river)
    south = np.clip((y_river - y - HILLS_FROM_M) / HILLS_OVER_M, 0, 1)
    rise = south * south * (3 - 2 * south)  # smoothstep
    ripple = 12.0 * np.sin(2 * np.pi * x / 900) * np.sin(2 * np.pi * y / 1100) * rise
    return FLOOR_M + VALLEY_GRADE * d + HILLS_M * rise + ripple


def main() -> None:
    river = gpd.read_file(ROOT / "data" / "network" / "hanzhong_demo_river.geojson")
    band = shapely.union_all(river.geometry.to_numpy())
    width, height = round((EAST - WEST) / CELL), round((NORTH - SOUTH) / CELL)
    lons = WEST + (np.arange(width) + 0.5) * CELL
    lats = NORTH - (np.arange(height) + 0.5) * CELL
    lon, lat = np.meshgrid(lons, lats)
    z = elevation(lon, lat, _river_centre(band, lons)[None, :])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1,
               "dtype": "int16", "crs": "EPSG:4326", "nodata": -32768,
               "transform": from_origin(WEST, NORTH, CELL, CELL), "compress": "deflate",
               "predictor": 2}  # fmt: skip
    with rasterio.open(OUT, "w", **profile) as ds:
        ds.write(np.round(z).astype(np.int16), 1)
        ds.update_tags(SOURCE="synthetic demo data", GENERATOR="hzspatial scripts/make_demo_dem.py",
                       LICENSE="CC0", UNITS="metres above sea level")  # fmt: skip
        ds.set_band_description(1, "elevation (m), synthetic demo data")
    print(f"wrote {OUT} ({width}×{height}, {OUT.stat().st_size / 1024:.0f} KB), "
          f"{z.min():.0f}–{z.max():.0f} m")


if __name__ == "__main__":
    main()
