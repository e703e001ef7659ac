"""Maps of coverage results: the interactive folium map and the static PNG.

The names below are imported on first use, so that drawing static maps (matplotlib) does not
load folium and the interactive map does not load matplotlib.
"""

from hzspatial._lazy import lazy_names

__all__ = ["MET_COLOURS", "basemaps", "coverage_map", "coverage_png"]

__getattr__, __dir__ = lazy_names(__name__, {
    "MET_COLOURS": "hzspatial.maps.interactive", "basemaps": "hzspatial.maps.basemaps",
    "coverage_map": "hzspatial.maps.interactive", "coverage_png": "hzspatial.maps.static",
})  # fmt: skip
