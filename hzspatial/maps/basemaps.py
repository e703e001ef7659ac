"""The basemaps an interactive map may use (``config/basemaps.toml``), checked by name."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from hzspatial.errors import InputError

__all__ = ["basemap_spec", "basemaps"]


@cache
def basemaps() -> dict[str, dict]:
    """Basemap catalogue from ``config/basemaps.toml``."""
    text = resources.files("hzspatial.config").joinpath("basemaps.toml").read_text("utf-8")
    return tomllib.loads(text)


def basemap_spec(basemap: str, tianditu_key: str | None = None) -> dict:
    """The catalogue entry of ``basemap``; one-line :class:`InputError` for an unknown name or
    a Tianditu basemap without its key."""
    cat_bm = basemaps()
    if basemap not in cat_bm:
        raise InputError(
            f"unknown basemap {basemap!r}",
            column="--basemap",
            hint=f"use one of {', '.join(cat_bm)}",
        )
    bm = cat_bm[basemap]
    if bm.get("needs_key") and not tianditu_key:
        raise InputError(
            f"basemap {basemap!r} needs an API key",
            column="--basemap",
            hint="set the TIANDITU_KEY environment variable",
        )
    return bm
