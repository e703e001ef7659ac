"""Locations of the bundled data (boundaries, census, demo network and facilities)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

__all__ = ["data_dir", "census_2020", "default_persons_per_household", "demo_paths"]


@cache
def data_dir() -> Path:
    """The ``data/`` folder: the repository's in a source checkout, else the wheel's copy."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "data", here / "_bundled_data"):
        if (candidate / "boundaries").is_dir():
            return candidate
    raise FileNotFoundError("hzspatial's bundled data folder is missing; reinstall hzspatial")


def census_2020() -> pd.DataFrame:
    """Hanzhong 2020 census figures (``data/boundaries/census_2020.csv``) with sources."""
    return pd.read_csv(data_dir() / "boundaries" / "census_2020.csv", dtype={"adcode": str})


def default_persons_per_household() -> float:
    """Persons per household from the 2020 census rows that give both figures.

    Residents ÷ family households summed over the counties whose bulletins give
    both (勉县, 宁强县, 略阳县, 留坝县): ≈ 2.46. Residents include people in
    collective households, so this slightly overstates family-household size.
    """
    c = census_2020().dropna(subset=["population", "households"])
    return float(c["population"].sum() / c["households"].sum())


def bundled_boundary(name: str) -> Path | None:
    """A bundled boundary layer by the name a standards catalogue gives it
    (``hanzhong_city``, ``hanzhong_counties``), or None."""
    d = data_dir() / "boundaries" / f"{name}.geojson"
    return d if d.is_file() else None


def demo_paths() -> dict[str, Path]:
    """Paths of the embedded Hanzhong demo inputs (synthetic network and facilities)."""
    d = data_dir()
    return {
        "network": d / "network" / "hanzhong_demo_streets.geojson",
        "facilities": d / "facilities" / "hanzhong_demo_facilities.csv",
        "population": d / "population" / "hanzhong_demo_blocks.geojson",
        "boundaries": d / "boundaries" / "hanzhong_counties.geojson",
        "study_area": d / "boundaries" / "hanzhong_city.geojson",
        "proposals": d / "proposals" / "hanzhong_demo_proposals.geojson",
        "dem": d / "dem" / "hanzhong_demo_dem.tif",
    }
