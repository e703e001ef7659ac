"""Maps of coverage results: the interactive folium map and the static PNG."""

from hzspatial.maps.interactive import MET_COLOURS, basemaps, coverage_map
from hzspatial.maps.static import coverage_png

__all__ = ["MET_COLOURS", "basemaps", "coverage_map", "coverage_png"]
