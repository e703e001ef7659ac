"""End-to-end coverage analysis: the Python API behind ``hzspatial coverage`` and ``demo``.

>>> from hzspatial import run_coverage, demo_inputs
>>> result = run_coverage(**demo_inputs())            # doctest: +SKIP
>>> result.summary["categories"]["kindergarten"]["coverage_share"]   # doctest: +SKIP
>>> result.write("maps/hanzhong_demo")                # doctest: +SKIP

A run is a :class:`hzspatial.study.Study` built and its result taken: to try changes
(add, move or remove a facility, another threshold) keep the study and edit it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from hzspatial.datasets import demo_paths
from hzspatial.io import FacilityInput
from hzspatial.network import WalkGraph
from hzspatial.results import CoverageResult
from hzspatial.stages import build
from hzspatial.study import Study

__all__ = ["FacilityInput", "CoverageResult", "run_coverage", "demo_inputs"]


def demo_inputs() -> dict:
    """Keyword arguments of :func:`run_coverage` for the embedded Hanzhong demo."""
    p = demo_paths()
    return {
        "network": p["network"],
        "facilities": [FacilityInput(p["facilities"])],
        "population": p["population"],
        "boundaries": p["boundaries"],
    }


def run_coverage(
    network: str | Path | WalkGraph | gpd.GeoDataFrame,
    facilities: Sequence[FacilityInput | str | Path | pd.DataFrame],
    population: str | Path | pd.DataFrame | None,
    boundaries: str | Path | gpd.GeoDataFrame | None = None,
    **options,
) -> CoverageResult:
    """Walking coverage and per-capita standards for facility categories.

    Parameters
    ----------
    network : path, WalkGraph or GeoDataFrame
        OpenStreetMap ``.osm.pbf`` / ``.osm``, osmnx ``.graphml``, a road centre-line layer
        (file or GeoDataFrame of lines), an osmnx / networkx graph (MultiDiGraph with node
        ``x``/``y``), or a graph already built (e.g.
        :func:`hzspatial.network.graph_from_osmnx_query`).
    facilities : sequence of FacilityInput, paths or (Geo)DataFrames, or one of them
        Facility files or frames; category from a column or ``FacilityInput.category``.
    population : path, DataFrame or GeoDataFrame, or None
        Residents (polygons or points with population / households). Polygons of 1 ha or
        more are spread over the streets inside them (:mod:`hzspatial.population`). None
        with ``residents_from_osm``.
    boundaries : path or GeoDataFrame, optional
        Area polygons (districts, subdistricts or communities); default the bundled
        Hanzhong counties. Residents are limited to them; facilities outside are kept.
    facilities_from_osm : bool
        Also take facilities from the tags of the OpenStreetMap ``network`` file
        (``config/osm_facilities.toml``).
    residents_from_osm : bool
        Take residents from the ``network`` file's residential buildings (or
        ``landuse=residential``): ``population_total`` persons, or each district's
        ``population`` from the boundaries, spread by floor area (dasymetric). Homes
        outside the boundaries are left out.
    population_total : float, optional
        Persons for ``residents_from_osm``, or the total a population raster is rescaled to.
    age_rasters : folder, file or list of them, optional
        WorldPop age/sex rasters (``chn_f_60_2020.tif`` …) on a population raster's grid:
        the groups the categories serve (60+, 3–6, under 3) are summed from their bands
        (:mod:`hzspatial.io.agesex`) instead of estimated from census shares.
    control_totals : bool
        Rescale a population raster's people in each boundary area to the ``population``
        the boundaries record (per-district control totals).
    buildings : path or GeoDataFrame, optional
        Residential building footprints (with floors, ``层数``, when known): residents
        polygons holding buildings are spread over them by floor area instead of streets.
    buildings_crs : optional
        The buildings' coordinate system, declared.
    spread : {"buildings", "area", "streets"}, optional
        How residents polygons are spread (:mod:`hzspatial.population`): over residential
        buildings (``buildings``, or those of the OpenStreetMap ``network`` file), evenly over
        their area on a ≤ 25 m grid with each point's own walk to the street (``area``), or
        along their streets (``streets``, earlier versions). Default: ``buildings`` where
        buildings are at hand, else ``area``. ``summary.json`` states the method.
    minutes : float
        Walking threshold (minutes); default 15.
    speed_kmh : float
        Walking speed (km/h); default 4.0, so 15 min = 1000 m (GB 50180-2018 upper bound).
    category_minutes : mapping, optional
        Per-category thresholds in minutes (e.g. ``{"kindergarten": 4.5}`` = 300 m at 4 km/h).
    standards : str or path
        ``"hanzhong"`` or a TOML catalogue.
    crs_in : optional
        Coordinate system of inputs that do not state one (tables, shapefiles without
        ``.prj``): ``wgs84`` | ``cgcs2000`` | ``gcj02`` | ``bd09`` | EPSG. Files that state
        theirs (GeoJSON = WGS84, ``.prj``, GeoPackage) keep it.
    network_crs, facilities_crs, population_crs, boundaries_crs : optional
        An input's own coordinate system, declared; overrides what the file says (GCJ-02
        and BD-09 files claim WGS84). ``FacilityInput.crs`` overrides ``facilities_crs``.
    boundary_level : {"district", "street", "community"}, optional
        Level of the boundaries (default: from their columns).
    strict : bool
        Raise instead of warning when an input looks like it is in another coordinate
        system than the one it was read in (:mod:`hzspatial.network.datum`).
    max_snap_m : float
        Points farther than this (metres) from every street are excluded with a warning.
    extra_categories : iterable of str
        Categories accepted besides the built-in ones.
    category_map : mapping, optional
        POI type name → category for facility inputs without their own
        (``{"综合医院": "hospital"}``).
    persons_per_household : float, optional
        For residents given as households, and for per-household standards; default from
        the 2020 census (≈ 2.46).
    require_standards : bool
        Raise when a facility category has no standard in the catalogue (default); False
        reports coverage only for such categories.
    tiles : {None, "district"}
        ``"district"`` searches district by district on the subgraph within a buffer of the
        largest threshold (identical coverage; distances beyond the buffer read as
        unreachable) — for large areas and parallel runs.
    submit : callable, optional
        With ``tiles``: ``submit(fn, args) -> future``, e.g. a ``dask.distributed.Client``'s
        ``submit``, to search tiles in parallel.
    area : sequence of str, optional
        District ids (e.g. adcodes) to analyse; residents elsewhere are left out, while
        facilities anywhere may serve them.
    exclude_facilities : sequence of str
        Facility ids to leave out (what-if scenarios).
    snap_rules : SnapRules or path, optional
        Which streets homes and facilities may join: a TOML file like
        ``hzspatial/config/snapping.toml`` (default: that file, or ``$HZSPATIAL_SNAP_RULES``).
        A ``network`` given as a built graph keeps its own.
    mode : {"walk", "bike", "ebike", "car"}
        How facilities are reached (default walking; ``hzspatial/config/travel.toml``):
        thresholds stay minutes, metres are minutes × ``speed_kmh``.
    dem : path, optional
        Elevation model (GeoTIFF, metres): walking times follow the slopes.
    category_modes : mapping, optional
        Category (id or alias) → mode for categories reached otherwise than ``mode``, e.g.
        ``{"clinic": "car"}``; a standards catalogue's ``[[travel]]`` rules do the same
        with their source (these win). Each mode reads its own ways; a study of several
        modes gives its result but takes no edits; a walking radius standard
        (``share_within``) is not checked for a category reached by another mode.
    """
    return Study(network, facilities, population, boundaries, **options).result()


# the keyword options are those of the stages' build (one list, shown by help())
run_coverage.__signature__ = inspect.signature(build).replace(
    return_annotation="CoverageResult")
