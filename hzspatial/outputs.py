"""Writing a run's outputs into ``--out``, all or nothing (:func:`hzspatial.io.staged_output`).

Depends on the results and the writers (maps, report, tables), loaded when used: making a
:class:`CoverageWriter` loads only the standard library and the output folder checks, so that
it can start before the analysis' libraries load. Nothing imports this module back except
the results' ``write`` convenience, at call time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hzspatial.io.outdir import staged_output

if TYPE_CHECKING:
    from hzspatial.printing import PdfJob
    from hzspatial.results import CoverageResult, ReviewResult, SiteResult

__all__ = [
    "COVERAGE_FILES",
    "CoverageWriter",
    "coverage_output",
    "write_coverage",
    "write_review",
    "write_site",
]

logger = logging.getLogger(__name__)

#: Files of a coverage run, in the order they are listed (``report.pdf`` when a Chromium-family
#: browser is installed, ``run.log`` when the CLI passes its log).
COVERAGE_FILES = ("summary.json", "coverage_by_district.csv", "coverage_by_area.csv",
                  "ratios.csv", "underserved.csv", "catchments.geojson", "underserved.geojson",
                  "results.gpkg", "map.html", "map.png", "report.html", "report.pdf",
                  "tables.xlsx")  # fmt: skip


@contextmanager
def _timed(timings: dict | None, name: str):
    t = time.perf_counter()
    yield
    if timings is not None:
        timings[name] = time.perf_counter() - t


class CoverageWriter:
    """Writes a coverage run's files into a staging folder (:func:`coverage_output`).

    Made before the analysis, so that its helpers start while the analysis runs: the process
    that draws the static maps (matplotlib and fonts loaded), then the headless browser that
    prints ``report.pdf`` — one after the other: started together they slowed each other and
    the analysis (the demo took 0.3 s longer). :meth:`write` then writes everything; ``names``
    lists the files.
    """

    def __init__(self, stage: Path, *, pdf: bool = True):
        from hzspatial.figures import FigureJob

        self.stage = Path(stage)
        self.names: list[str] = []
        self._pdf: PdfJob | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._pdf_started = threading.Event()
        self._figures = FigureJob()
        if pdf:
            self._figures.when_ready(self._start_pdf)
        else:
            self._pdf_started.set()

    def _start_pdf(self) -> None:
        from hzspatial.printing import PdfJob

        try:
            with self._lock:
                if not self._closed:
                    self._pdf = PdfJob.start(self.stage / "report.pdf")
        finally:
            self._pdf_started.set()

    def write(
        self,
        result: CoverageResult,
        *,
        basemap: str = "none",
        tianditu_key: str | None = None,
        run_log: Sequence[str] | None = None,
        timings: dict | None = None,
    ) -> list[str]:
        """Write ``result``'s files (see :func:`write_coverage`); return their names."""
        stage = self.stage
        names = [n for n in COVERAGE_FILES if n != "report.pdf"]
        # the static maps are drawn in the other process while this one writes the tables
        # and layers, loads folium and has the browser lay out the report's text; the maps are
        # put into the report as soon as they are ready and it is printed while this process
        # writes the interactive map and the other one composes map.png
        self._figures.draw(result, stage / "map.png")
        from hzspatial.io import write_csv, write_geojson, write_gpkg, write_json
        from hzspatial.report import map_sources, report_page, with_maps, write_tables_xlsx

        with _timed(timings, "tables"):
            write_json(result.summary, stage / "summary.json")
            write_csv(result.districts, stage / "coverage_by_district.csv")
            write_csv(result.ratios, stage / "ratios.csv")
            write_csv(result.by_area, stage / "coverage_by_area.csv")
            write_csv(result.underserved_table, stage / "underserved.csv")
            write_tables_xlsx(result, stage / "tables.xlsx")
        with _timed(timings, "layers"):
            write_geojson(result.catchments, stage / "catchments.geojson")
            write_geojson(result.underserved, stage / "underserved.geojson")
            from hzspatial.maps.qgis_style import coverage_layers

            synthetic = result.summary.get("synthetic_inputs") or []
            write_gpkg(coverage_layers(result), stage / "results.gpkg", description=(
                f"合成演示数据 / synthetic demo data ({', '.join(synthetic)}): generated, not "
                "surveyed — hzspatial results" if synthetic else "hzspatial results"))
        from hzspatial.maps import coverage_map

        with _timed(timings, "report text"):
            page = report_page(result)
        self._pdf_started.wait()  # the browser is started once the drawing process is ready
        job = self._pdf
        if job is not None:  # the browser lays the report out while the maps are drawn
            job.preload(with_maps(page, {}))
        with _timed(timings, "static maps (wait)"):
            drawn = self._figures.result()
        with _timed(timings, "report.html"):
            sources = map_sources(result, drawn)
            (stage / "report.html").write_text(with_maps(page, sources), encoding="utf-8")
        if job is not None:
            job.print(stage / "report.html", sources)
        with _timed(timings, "map.html"):
            fmap = coverage_map(result, basemap=basemap, tianditu_key=tianditu_key)
            (stage / "map.html").write_text(fmap.get_root().render(), encoding="utf-8")
        if run_log is not None:
            (stage / "run.log").write_text("\n".join(run_log) + "\n", encoding="utf-8")
            names.append("run.log")
        with _timed(timings, "map.png (wait)"):
            self._figures.finish()
        if job is not None:
            with _timed(timings, "report.pdf (wait)"):
                if job.finish():
                    names.insert(names.index("report.html") + 1, "report.pdf")
        self.names = names
        return names

    def close(self) -> None:
        """Stop the helpers (after :meth:`write`, or when the run failed)."""
        with self._lock:
            self._closed = True
        self._figures.close()
        if self._pdf is not None:
            self._pdf.abort()


@contextmanager
def coverage_output(
    out_dir: str | Path, *, overwrite: bool = False, pdf: bool = True
) -> Iterator[CoverageWriter]:
    """A :class:`CoverageWriter` whose files are moved into ``out_dir`` when the block ends
    without an error (all or nothing, :func:`hzspatial.io.staged_output`); enter it before
    the analysis so that the map drawing and the browser start while it runs::

        with coverage_output("results") as writer:
            writer.write(run_coverage(...))
    """
    with staged_output(out_dir, overwrite=overwrite) as stage:
        writer = CoverageWriter(stage, pdf=pdf)
        try:
            yield writer
        finally:
            writer.close()


def write_coverage(
    result: CoverageResult,
    out_dir: str | Path,
    *,
    basemap: str = "none",
    tianditu_key: str | None = None,
    overwrite: bool = False,
    run_log: Sequence[str] | None = None,
    pdf: bool = True,
    timings: dict | None = None,
) -> list[Path]:
    """Write a coverage run's files into ``out_dir``; return their paths.

    ``summary.json``; tables ``coverage_by_district.csv``, ``coverage_by_area.csv``,
    ``ratios.csv``, ``underserved.csv`` and all of them in ``tables.xlsx`` (bilingual
    headings); layers ``catchments.geojson``, ``underserved.geojson`` (WGS84); ``map.html``
    (interactive, offline), ``map.png`` (static, A4-legible); ``report.html`` (A4 pages) and
    ``report.pdf`` (printed by a headless Chromium-family browser; left out with a log line
    when none is installed or ``pdf`` is False); ``run.log`` when ``run_log`` lines are
    given. ``timings`` (a dict) receives the seconds each writer took.
    """
    with coverage_output(out_dir, overwrite=overwrite, pdf=pdf) as writer:
        writer.write(result, basemap=basemap, tianditu_key=tianditu_key, run_log=run_log,
                     timings=timings)  # fmt: skip
    return [Path(out_dir) / n for n in writer.names]


def write_review(
    result: ReviewResult, out_dir: str | Path, *, overwrite: bool = False
) -> list[Path]:
    """Write ``review.json``, ``review.html``, ``review.md`` and ``map.html`` into ``out_dir``."""
    from hzspatial.io import write_json
    from hzspatial.maps.review_map import review_map
    from hzspatial.review_report import review_html, review_markdown

    names = ["review.json", "review.html", "review.md", "map.html"]
    m = review_map(result)
    with staged_output(out_dir, overwrite=overwrite) as stage:
        write_json(result.report, stage / "review.json")
        (stage / "review.html").write_text(review_html(result.report), encoding="utf-8")
        (stage / "review.md").write_text(review_markdown(result.report), encoding="utf-8")
        (stage / "map.html").write_text(m.get_root().render(), encoding="utf-8")
    return [Path(out_dir) / n for n in names]


def write_site(result: SiteResult, out_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write a site selection into ``out_dir``, all or nothing: ``sites.csv`` (readable back
    as a facility file: ``coverage --facilities sites.csv``), ``sites.geojson``, ``site.json``,
    ``curve.csv`` and ``curve.png`` (residents covered against the number of new sites),
    ``site_report.html`` and ``map.html``."""
    from hzspatial.io import write_csv, write_geojson, write_json
    from hzspatial.maps.site_map import curve_png, site_map
    from hzspatial.report import write_site_report

    names = ["sites.csv", "sites.geojson", "site.json", "map.html", "site_report.html"]
    fmap = site_map(result)
    with staged_output(out_dir, overwrite=overwrite) as stage:
        write_csv(result.sites.drop(columns=["geometry", "site_id"]), stage / "sites.csv")
        write_geojson(result.sites.drop(columns=["site_id"]), stage / "sites.geojson")
        write_json(result.report, stage / "site.json")
        png = None
        if result.curve is not None:
            write_csv(result.curve, stage / "curve.csv")
            png = curve_png(result, stage / "curve.png")
            names[3:3] = ["curve.csv", "curve.png"]
        (stage / "map.html").write_text(fmap.get_root().render(), encoding="utf-8")
        write_site_report(result, stage / "site_report.html", png)
    return [Path(out_dir) / n for n in names]
