"""Validated readers for facilities, residents and boundaries, and atomic writers.

Every reader returns a GeoDataFrame in WGS84 (EPSG:4326) and raises
:class:`hzspatial.errors.InputError` — one line naming file, row/feature and
column — for any problem with the input.

The names below are imported on first use: the output folder checks
(:mod:`hzspatial.io.outdir`) load without pandas or geopandas.
"""

from hzspatial._lazy import lazy_names

_MODULES = {
    "_files": ("decode_text", "detect_format", "file_sha256", "read_layer", "read_table"),
    "boundaries": ("read_boundaries",),
    "facilities": ("FACILITY_COLUMNS", "FacilityInput", "facility_items", "known_categories",
                   "read_facilities", "read_facility_inputs"),
    "outdir": ("output_lock", "prepare_out_dir", "staged_output"),
    "population": ("read_buildings", "read_population"),
    "raster": ("is_raster", "read_population_raster"),
    "writers": ("html_text", "jsonable", "write_csv", "write_geojson", "write_gpkg", "write_json"),
    "xlsx": ("write_xlsx",),
}  # fmt: skip
_WHERE = {name: f"hzspatial.io.{m}" for m, names in _MODULES.items() for name in names}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
