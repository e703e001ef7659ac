"""Validated readers for facilities, residents and boundaries, and atomic writers.

Every reader returns a GeoDataFrame in WGS84 (EPSG:4326) and raises
:class:`hzspatial.errors.InputError` — one line naming file, row/feature and
column — for any problem with the input.
"""

from hzspatial.io._files import decode_text, detect_format, file_sha256, read_layer, read_table
from hzspatial.io.boundaries import read_boundaries
from hzspatial.io.facilities import (
    FACILITY_COLUMNS,
    FacilityInput,
    known_categories,
    read_facilities,
    read_facility_inputs,
)
from hzspatial.io.outdir import output_lock, prepare_out_dir, staged_output
from hzspatial.io.population import read_buildings, read_population
from hzspatial.io.writers import (
    html_text,
    jsonable,
    write_csv,
    write_geojson,
    write_json,
    write_xlsx,
)

__all__ = [
    "FACILITY_COLUMNS",
    "FacilityInput",
    "file_sha256",
    "html_text",
    "jsonable",
    "read_facility_inputs",
    "write_csv",
    "write_geojson",
    "write_json",
    "write_xlsx",
    "decode_text",
    "detect_format",
    "known_categories",
    "read_boundaries",
    "read_buildings",
    "read_facilities",
    "read_layer",
    "read_population",
    "read_table",
    "output_lock",
    "prepare_out_dir",
    "staged_output",
]
