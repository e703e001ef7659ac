"""Configuration data shipped with hzspatial (TOML files in this package)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

__all__ = ["load"]


@cache
def load(name: str) -> dict:
    """The parsed ``hzspatial/config/<name>`` TOML file (cached; do not mutate)."""
    return tomllib.loads(resources.files("hzspatial.config").joinpath(name).read_text("utf-8"))
