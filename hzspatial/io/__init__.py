"""Validated readers for facilities, residents and boundaries, and atomic writers.

Every reader returns a GeoDataFrame in WGS84 (EPSG:4326) and raises
:class:`hzspatial.errors.InputError` — one line naming file, row/feature and
column — for any problem with the input.

The names below are imported on first use: the output folder checks
(:mod:`hzspatial.io.outdir`) load without pandas or geopandas.
"""

from importlib import import_module

_WHERE = {
    "decode_text": "_files", "detect_format": "_files", "file_sha256": "_files",
    "read_layer": "_files", "read_table": "_files",
    "read_boundaries": "boundaries",
    "FACILITY_COLUMNS": "facilities", "FacilityInput": "facilities",
    "known_categories": "facilities", "read_facilities": "facilities",
    "read_facility_inputs": "facilities",
    "output_lock": "outdir", "prepare_out_dir": "outdir", "staged_output": "outdir",
    "read_buildings": "population", "read_population": "population",
    "html_text": "writers", "jsonable": "writers", "write_csv": "writers",
    "write_geojson": "writers", "write_json": "writers", "write_xlsx": "writers",
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"hzspatial.io.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'hzspatial.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
