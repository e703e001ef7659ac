"""What an analysis produced: :class:`CoverageResult` and :class:`ReviewResult`.

The analysis modules build these; the writers (:mod:`hzspatial.maps`, :mod:`hzspatial.report`,
:mod:`hzspatial.outputs`) read them. Nothing here imports an analysis module or a writer
(``write`` hands the result to :mod:`hzspatial.outputs` when called).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from hzspatial.standards import Standard

__all__ = ["CoverageResult", "ReviewResult", "SiteResult", "cov_column"]


def cov_column(category: str, minutes: float) -> str:
    """Output column name for coverage, e.g. ``cov_kindergarten_15min``."""
    return f"cov_{category}_{minutes:g}min"


@dataclass(frozen=True)
class CoverageResult:
    """Everything a coverage run produced. Geo layers are in WGS84 (EPSG:4326).

    Attributes
    ----------
    summary : dict
        The ``summary.json`` contract (see README).
    demand : GeoDataFrame
        Demand points (WGS84): a residents point, or a point along the streets of a residents
        polygon (``area_id`` = the polygon's id, ``placed`` = street / grid / polygon /
        point) with its share of the ``population``; ``district_id``, and per category
        ``dist_<category>_m`` (walking metres; with slopes or another mode, equivalent
        metres: minutes × walking speed; inf = unreachable), ``time_<category>_min`` (the
        same as minutes of travel, home → facility, legs walked), ``nearest_<category>``
        (facility id) and ``cov_<category>_<T>min`` (bool).
    facilities : GeoDataFrame
        Facilities with ``snapped``, ``district_id``, ``residents_in_reach`` (residents within
        the threshold: the 2SFCA denominator) and ``residents_served`` (residents for whom it is
        the nearest, within the threshold).
    catchments : GeoDataFrame
        One street-following walking catchment per facility.
    underserved : GeoDataFrame
        Dissolved areas per category whose residents have no facility within the threshold.
    districts : DataFrame
        Coverage and ratios per district (``coverage_by_district.csv``).
    ratios : DataFrame
        Standards evaluated per district and for the whole study area (``ratios.csv``).
    boundaries : GeoDataFrame
        Area boundaries used (``attrs["level"]``: district, street or community).
    residents : GeoDataFrame
        The residents features as read (polygons or points, WGS84).
    underserved_table : DataFrame
        Per category and area: residents analysed and the residents underserved, each counted
        once, split by reason — no facility within the threshold, or within reach but in a
        catchment below a per-capita standard (``underserved.csv``).
    streets : GeoSeries
        The walking network's edges (metric CRS of the analysis), drawn under the maps.
    timings : dict
        Seconds spent in each stage of the run (read, graph, search, …).
    by_area : DataFrame
        Per residents feature (community, block or point): residents analysed and, per
        category, residents covered and share (``coverage_by_area.csv``).
    """

    summary: dict
    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    underserved: gpd.GeoDataFrame
    districts: pd.DataFrame
    ratios: pd.DataFrame
    boundaries: gpd.GeoDataFrame
    standards: tuple[Standard, ...] = field(default=())
    by_area: pd.DataFrame | None = None
    residents: gpd.GeoDataFrame | None = None
    underserved_table: pd.DataFrame | None = None
    streets: gpd.GeoSeries | None = None
    timings: dict = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """True when any input actually used is labelled synthetic."""
        return bool(self.summary["synthetic_inputs"])

    @property
    def synthetic_note(self) -> str:
        """Which inputs are synthetic, e.g. ``"network (hanzhong_demo_streets.geojson)"``."""
        return ", ".join(self.summary["synthetic_inputs"])

    def write(
        self,
        out_dir: str | Path,
        *,
        basemap: str = "none",
        tianditu_key: str | None = None,
        overwrite: bool = False,
        run_log: Sequence[str] | None = None,
    ) -> list[Path]:
        """Write all outputs into ``out_dir``, all or nothing; return their paths.

        See :func:`hzspatial.outputs.write_coverage` for the files. A folder holding files
        hzspatial did not write is refused unless ``overwrite``
        (:func:`hzspatial.io.staged_output`).
        """
        from hzspatial.outputs import write_coverage

        return write_coverage(self, out_dir, basemap=basemap, tianditu_key=tianditu_key,
                              overwrite=overwrite, run_log=run_log)  # fmt: skip


@dataclass(frozen=True)
class ReviewResult:
    """Everything a review produced (geo layers in WGS84).

    Attributes
    ----------
    report : dict
        The ``review.json`` contract: ``version``, ``threshold_minutes``, ``speed_kmh``,
        ``data_labels``, ``inputs``, ``exit_code`` and ``proposals`` (see README).
    proposals : GeoDataFrame
        The proposed districts.
    catchments : GeoDataFrame
        Each proposal's walking catchment (``threshold_minutes`` from its boundary).
    counted : GeoDataFrame
        The existing facilities counted for each proposal, with distance and spare capacity.
    """

    report: dict
    proposals: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    counted: gpd.GeoDataFrame

    @property
    def exit_code(self) -> int:
        """0 when every check passes, 1 when any fails or cannot be checked."""
        return int(self.report["exit_code"])

    def write(self, out_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write ``review.json``, ``review.html``, ``review.md`` and ``map.html``, all or
        nothing (a folder holding files hzspatial did not write needs ``overwrite``)."""
        from hzspatial.outputs import write_review

        return write_review(self, out_dir, overwrite=overwrite)


@dataclass(frozen=True)
class SiteResult:
    """Sites chosen for new facilities (:func:`hzspatial.site.select_sites`; layers WGS84).

    Attributes
    ----------
    report : dict
        The ``site.json`` contract: objective, residents already served and newly covered,
        bound and gap, solver and status, candidates, the standard's numbers per area when one
        set the count, timings and inputs (with SHA-256).
    sites : GeoDataFrame
        One row per chosen site in rank order: ``rank``, ``id``, ``name``, ``category``,
        ``lon``, ``lat``, ``district_id``, ``newly_covered`` (marginal residents),
        ``cumulative_covered``, ``cumulative_share`` — readable back as a facility file.
    curve : DataFrame or None
        Residents covered with 0 … N new sites, each number solved on its own.
    coverage : CoverageResult
        The coverage run of the existing facilities.
    unserved : GeoDataFrame
        Demand points still beyond the threshold with the new sites.
    catchments : GeoDataFrame
        The chosen sites' walking catchments.
    """

    report: dict
    sites: gpd.GeoDataFrame
    curve: pd.DataFrame | None
    coverage: CoverageResult
    unserved: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame

    def write(self, out_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write ``sites.csv``, ``sites.geojson``, ``site.json``, ``curve.csv``,
        ``curve.png``, ``site_report.html`` and ``map.html``, all or nothing."""
        from hzspatial.outputs import write_site

        return write_site(self, out_dir, overwrite=overwrite)
