"""One colour scheme for every map: category colours for facilities and catchments (never red,
``config/categories.toml``), reds for underserved residents, greys for context."""

from __future__ import annotations

__all__ = ["BELOW_STANDARD", "NO_FACILITY", "NO_FACILITY_RAMP", "RESIDENTS_GREY", "STREET_GREY",
           "tint"]  # fmt: skip

#: Residents with no facility within the threshold (static maps: one shade).
NO_FACILITY = "#cb181d"
#: Interactive maps shade no-facility areas by residents per km², light to dark.
NO_FACILITY_RAMP = ("#fcbba1", "#fb6a4a", "#cb181d", "#67000d")
#: Residents in reach of a facility whose catchment is below a per-capita standard (hatched).
BELOW_STANDARD = "#99000d"
RESIDENTS_GREY = "#8c8c8c"
STREET_GREY = "#b5b5b5"


def tint(colour: str, share: float = 0.3) -> str:
    """``colour`` mixed with white (``share`` of the colour kept): an opaque catchment fill
    under which overlapping catchments do not darken."""
    c = colour.lstrip("#")
    rgb = [int(c[i : i + 2], 16) for i in (0, 2, 4)]
    mixed = [round(255 - share * (255 - v)) for v in rgb]
    return "#" + "".join(f"{v:02x}" for v in mixed)
