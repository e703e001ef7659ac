"""Maps of coverage results: the interactive folium map and the static PNG.

The names below are imported on first use, so that drawing static maps (matplotlib) does not
load folium and the interactive map does not load matplotlib.
"""

from importlib import import_module

__all__ = ["MET_COLOURS", "basemaps", "coverage_map", "coverage_png"]

_WHERE = {"MET_COLOURS": "interactive", "basemaps": "basemaps", "coverage_map": "interactive",
          "coverage_png": "static"}  # fmt: skip


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"hzspatial.maps.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'hzspatial.maps' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
