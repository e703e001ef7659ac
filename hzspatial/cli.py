"""Command-line interface: ``hzspatial demo | coverage | standards``.

A thin layer: parses options, configures logging and warnings, calls the
Python API and prints a short table. User errors print one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path

from hzspatial import __version__
from hzspatial.errors import DataWarning, InputError

__all__ = ["main"]

DEFAULT_DEMO_OUT = Path("maps") / "hanzhong_demo"
DEFAULT_COVERAGE_OUT = Path("maps") / "coverage"
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3


def _common(p: argparse.ArgumentParser) -> None:
    _out_options(p, "maps/coverage (demo: maps/hanzhong_demo)")
    _travel_options(p, per_category=True)
    p.add_argument("--minutes", type=float, default=15.0, help="walking threshold (default 15)")
    p.add_argument(
        "--speed",
        type=float,
        default=4.0,
        help="walking speed in km/h (default 4.0: 15 min = 1000 m, GB 50180-2018)",
    )
    p.add_argument(
        "--standards",
        default="hanzhong",
        help="built-in catalogue name or a TOML file (default hanzhong)",
    )
    p.add_argument(
        "--basemap",
        default="none",
        choices=["none", "osm", "tianditu", "amap", "gaode"],
        help="map background: none (default, works offline), osm, tianditu (key from "
        "$TIANDITU_KEY), amap/gaode (GCJ-02 tiles; overlays are shifted to match)",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--json", action="store_true", help="print summary.json to stdout")
    p.add_argument(
        "--out-db",
        metavar="URL",
        help="also write the result layers (areas, catchments, underserved, facilities) as "
        "PostGIS tables: postgresql://user@host/db (password from PGPASSWORD or ~/.pgpass, "
        "never here); one transaction, all or nothing; tables hzspatial did not write are "
        "refused unless --overwrite",
    )
    p.add_argument("--db-schema", default="hzspatial",
                   help="schema of the --out-db tables (default hzspatial; made if missing)")


def _travel_options(p: argparse.ArgumentParser, per_category: bool = False) -> None:
    p.add_argument("--mode", action="append", default=[],
                   metavar="MODE or CATEGORY=MODE" if per_category else "MODE",
                   help="travel mode: walk (default), bike, ebike or car — bike, ebike and car "
                   "use their own ways, speeds per road class and one-way streets "
                   "(config/travel.toml); the leg from the door to the street is walked; "
                   "minutes stay minutes" + ("; CATEGORY=MODE reaches one category by its own "
                   "mode (repeatable, e.g. clinic=car; a catalogue's [[travel]] rules do "
                   "the same with their source)" if per_category else ""))  # fmt: skip
    p.add_argument("--dem", type=Path, default=None, metavar="TIF",
                   help="elevation model (GeoTIFF in metres, any CRS it states: SRTM, "
                   "Copernicus): walking times follow the slopes (Tobler's hiking function, "
                   "flat = --speed), for the trip from home to facility; the summary says "
                   "what slope changed")  # fmt: skip


def _out_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--out",
        default=None,
        help=f"output folder (default {default}); it must be new, empty or hold an earlier "
        "hzspatial output",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into an --out folder that holds files hzspatial did not write (files "
        "with the names of the outputs are replaced; others are left alone)",
    )


def _out_dir(args: argparse.Namespace, default: Path) -> Path:
    """The checked output folder, refused in one line before any work is done."""
    from hzspatial.io import prepare_out_dir

    return prepare_out_dir(default if args.out is None else args.out, overwrite=args.overwrite)


def _input_options(p: argparse.ArgumentParser) -> None:
    """How facility files are read and walked to: the same in coverage and review."""
    p.add_argument(
        "--category",
        action="append",
        default=[],
        help="category of all rows of the matching --facilities file (one per file, in order); "
        "may be a new category name",
    )
    p.add_argument(
        "--extra-category",
        action="append",
        default=[],
        help="accept this new category name in facility category columns; repeatable",
    )
    p.add_argument(
        "--columns",
        action="append",
        default=[],
        help="explicit column mapping for the facility files, e.g. "
        "'name=设施名称,lon=X,lat=Y,category=分类': one for all files or one per file",
    )
    p.add_argument(
        "--category-map",
        default=None,
        metavar="TYPE=CATEGORY,…",
        help="map POI types to categories, e.g. '综合医院=hospital,卫生院=clinic' (matched "
        "from a type path's most specific part, before the built-in aliases)",
    )
    p.add_argument("--sheet", action="append", default=[],
                   help="XLSX sheet name of the table inputs: one for all or one per "
                   "--facilities file")  # fmt: skip
    p.add_argument(
        "--header-row",
        type=int,
        default=None,
        help="row number of the header in the table inputs (as Excel shows it; default: found "
        "below any title rows)",
    )
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="CATEGORY=MINUTES",
        help="a category's own walking threshold, e.g. kindergarten=4.5 (300 m at 4 km/h); "
        "repeatable",
    )
    p.add_argument(
        "--max-snap",
        type=float,
        default=300.0,
        help="metres: points farther from every street are not connected to it (300)",
    )
    _snap_rules_option(p)


def _spread_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--spread",
        choices=["buildings", "area", "streets"],
        default=None,
        help="how residents polygons are spread: over residential buildings (--buildings, or "
        "those of an OSM --network), evenly over their area (≤ 25 m grid, each point walking "
        "to its street), or along their streets (earlier versions); default buildings where "
        "at hand, else area",
    )


def _facilities_crs_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--facilities-crs",
        action="append",
        default=[],
        metavar="CRS",
        help="coordinate system of the --facilities files, declared (overrides what the file "
        "says; Amap/Tencent exports are gcj02, Baidu bd09): one for all files or one per file",
    )


def _per_file(values: list, files: list, option: str) -> list:
    """An option given once for all files, once per file (in order), or not at all."""
    if len(values) == 1:
        return values * len(files)
    if not values:
        return [None] * len(files)
    if len(values) != len(files):
        raise InputError(
            f"{len(values)} {option} values for {len(files)} --facilities files",
            column=option,
            hint="give one for all files, or one per file in the same order",
        )
    return list(values)


def _facility_inputs(args: argparse.Namespace, files: list, cats: list) -> list:
    """The --facilities files with their own options: --category (one per file),
    --facilities-crs, --columns and --sheet (one for all or one per file), --category-map
    and --header-row (for all) — one rule for coverage, review and site."""
    from hzspatial.io import FacilityInput

    if cats and len(cats) != len(files):
        raise InputError(
            f"{len(cats)} --category values for {len(files)} --facilities files",
            column="--category",
            hint="give one --category per --facilities file (in the same order), or none",
        )
    cmap = _parse_mapping(getattr(args, "category_map", None), "--category-map",
                          "TYPE=CATEGORY")  # fmt: skip
    columns = [_parse_mapping(c) for c in _per_file(getattr(args, "columns", []), files,
                                                      "--columns")]  # fmt: skip
    systems = _per_file(args.facilities_crs, files, "--facilities-crs")
    sheets = _per_file(getattr(args, "sheet", []), files, "--sheet")
    header_row = getattr(args, "header_row", None)
    return [FacilityInput(f, c, m, k, cmap, sh, header_row) for f, c, m, k, sh in
            zip(files, cats or [None] * len(files), columns, systems, sheets, strict=True)]


def _snap_rules_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--snap-rules",
        type=Path,
        default=None,
        metavar="TOML",
        help="which streets homes and facilities may join (default "
        "hzspatial/config/snapping.toml: not tunnels, steps, slip roads or access=no ways; "
        "or $HZSPATIAL_SNAP_RULES)",
    )


def _snap_rules(args: argparse.Namespace):
    """``--snap-rules`` parsed now, so that a bad file stops the run in one line before any
    work (None: the default rules)."""
    from hzspatial.network.rules import snap_rules

    path = getattr(args, "snap_rules", None)
    return None if path is None else snap_rules(path, option="--snap-rules")


def _crs_options(p: argparse.ArgumentParser, inputs: Sequence[str]) -> None:
    p.add_argument(
        "--crs-in",
        default=None,
        help="coordinate system of inputs that do not state one (CSV/XLSX, shapefiles without "
        ".prj): wgs84|cgcs2000|gcj02|bd09|EPSG code (default wgs84)",
    )
    for name in inputs:
        p.add_argument(
            f"--{name}-crs",
            default=None,
            metavar="CRS",
            help=f"coordinate system of the {name} input, declared (overrides what the file "
            "says): wgs84|cgcs2000|gcj02|bd09|EPSG code",
        )


def _raster_options(p: argparse.ArgumentParser, total: bool = False) -> None:
    """Options of a population raster: WorldPop age/sex rasters, per-district totals."""
    if total:
        p.add_argument("--population-total", type=float, default=None,
                       help="persons in the area: rescales a population raster")  # fmt: skip
    p.add_argument("--age-rasters", type=Path, nargs="+", default=None,
                   metavar="FOLDER_OR_FILE",
                   help="WorldPop age/sex rasters (chn_f_60_2020.tif …, a folder or files) on "
                   "the population raster's grid: the elderly, children and infants counted "
                   "from them instead of census shares")  # fmt: skip
    p.add_argument("--control-totals", action="store_true",
                   help="rescale a population raster's people in each boundary area to the "
                   "population the boundaries record")  # fmt: skip


def _coverage_inputs(cov: argparse.ArgumentParser) -> None:
    """The inputs of a coverage run (also what ``serve`` builds its study from)."""
    cov.add_argument(
        "--network",
        type=_source,
        help="walking network: OpenStreetMap .osm.pbf/.osm, osmnx .graphml, or a road "
        "centre-line layer (GeoJSON/GeoPackage/Shapefile, or a PostGIS table "
        "postgresql://user@host/db?table=schema.name)",
    )
    cov.add_argument(
        "--place",
        help="instead of --network: download the walking network of a place with osmnx "
        "(needs internet), e.g. '汉台区, 汉中市, 陕西省, 中国'",
    )
    cov.add_argument(
        "--facilities",
        type=_source,
        action="append",
        default=[],
        help="facility file (CSV/XLSX/GeoJSON/GPKG/SHP; Amap/Baidu/Tencent POI exports "
        "recognised) or PostGIS table (postgresql://user@host/db?table=schema.name); "
        "repeatable",
    )
    cov.add_argument(
        "--facilities-from-osm",
        action="store_true",
        help="also take facilities from the tags of the --network OpenStreetMap file "
        "(amenity=kindergarten, leisure=pitch + sport=soccer, … see config/osm_facilities.toml)",
    )
    cov.add_argument(
        "--residents-from-osm",
        action="store_true",
        help="instead of --population: spread --population-total (or the boundaries' "
        "population per district) over the residential buildings of the --network OSM file",
    )
    cov.add_argument(
        "--buildings",
        type=Path,
        help="residential building footprints (polygons, floors column 层数 optional): "
        "residents polygons are spread over the buildings inside them by floor area",
    )
    cov.add_argument(
        "--population-total",
        type=float,
        default=None,
        help="persons in the area, for --residents-from-osm or a population raster "
        "(rescales its cells)",
    )
    _raster_options(cov)
    cov.add_argument(
        "--population",
        type=_source,
        help="residents: polygons/points with population or households, and age columns "
        "(60岁及以上 …; community polygons are spread over their streets), or a population "
        "raster (GeoTIFF of people per cell: WorldPop, GHS-POP)",
    )
    cov.add_argument(
        "--boundaries", type=_source,
        help="district polygons (default: Hanzhong's 11 counties); a file or a PostGIS table"
    )
    cov.add_argument(
        "--persons-per-household",
        type=float,
        default=None,
        help="when residents are given as households (default: 2020 census, 2.46)",
    )
    _crs_options(cov, ("network", "population", "boundaries", "buildings"))
    _input_options(cov)
    _facilities_crs_option(cov)
    _spread_option(cov)
    cov.add_argument(
        "--strict",
        action="store_true",
        help="stop (exit 2) instead of warning when an input looks like it is in another "
        "coordinate system (e.g. GCJ-02 points read as WGS84)",
    )
    cov.add_argument(
        "--boundary-level",
        choices=["district", "street", "community"],
        help="level of the --boundaries areas (default: from their columns: 社区名称 → "
        "community, 街道名称/乡镇 → street, else district)",
    )
    cov.add_argument(
        "--no-standards-check",
        action="store_true",
        help="report coverage for categories that have no standard instead of stopping",
    )


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="hzspatial",
        description="Check public-service facilities against planning standards on a walking "
        "network (汉中 15分钟生活圈).",
    )
    ap.add_argument("--version", action="version", version=f"hzspatial {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the coverage analysis on the embedded Hanzhong demo")
    _common(demo)
    demo.add_argument("--flat", action="store_true",
                      help="walk on the flat: leave out the demo's synthetic elevation model "
                      "(data/dem, used by default)")  # fmt: skip
    cov = sub.add_parser("coverage", help="walking coverage and per-capita standards")
    _coverage_inputs(cov)
    _common(cov)
    rev = sub.add_parser(
        "review",
        help="check proposed residential districts against the standards "
        "(exit 0 all pass, 1 any fail or cannot check, 2 bad input)",
    )
    rev.add_argument(
        "district",
        type=_source,
        nargs="?",
        help="polygon layer of proposals, or PostGIS table (default with --demo: the demo "
        "proposals)",
    )
    rev.add_argument(
        "--demo",
        action="store_true",
        help="use the embedded demo network, facilities, residents and proposals",
    )
    rev.add_argument(
        "--proposal-population",
        type=float,
        help="residents of each proposal (if the layer has no population / 规划人口 column)",
    )
    rev.add_argument(
        "--proposal-households",
        type=float,
        help="households of each proposal (× persons per household; if the layer has no "
        "households / 规划户数 column)",
    )
    rev.add_argument("--network", type=_source,
                     help="walking network file, or PostGIS table of road centre lines")
    rev.add_argument(
        "--facilities",
        type=_source,
        action="append",
        default=[],
        help="existing facility file or PostGIS table; repeatable",
    )
    rev.add_argument(
        "--population",
        "--residents",
        dest="residents",
        type=_source,
        help="existing residents (polygons/points with population or households, as in "
        "coverage), for the spare capacity of existing facilities",
    )
    _raster_options(rev, total=True)
    rev.add_argument("--streets", type=Path, help="new streets inside the proposals (lines)")
    rev.add_argument("--boundaries", type=_source,
                     help="study-area districts, file or PostGIS table (default: Hanzhong)")
    rev.add_argument(
        "--persons-per-household",
        type=float,
        default=None,
        help="converts households to residents (default: 2020 census, 2.46)",
    )
    rev.add_argument("--strict", action="store_true",
                     help="stop (exit 2) when an input looks like it is in another coordinate "
                     "system")  # fmt: skip
    _crs_options(rev, ("network", "residents", "proposals", "streets", "buildings"))
    _spread_option(rev)
    rev.add_argument("--buildings", type=Path,
                     help="residential building footprints (polygons, floors column 层数 "
                     "optional) the --residents polygons are spread over")  # fmt: skip
    _facilities_crs_option(rev)
    _input_options(rev)
    _out_options(rev, "maps/review")
    rev.add_argument("--minutes", type=float, default=15.0,
                     help="walking threshold in minutes (default 15)")  # fmt: skip
    rev.add_argument("--speed", type=float, default=4.0,
                     help="walking speed in km/h (default 4.0: 15 min = 1000 m)")  # fmt: skip
    rev.add_argument("--standards", default="hanzhong",
                     help="built-in catalogue name or a TOML file (default hanzhong)")  # fmt: skip
    _travel_options(rev)
    rev.add_argument("--quiet", action="store_true", help="print nothing but errors")
    rev.add_argument("--json", action="store_true", help="print review.json to stdout")
    site = sub.add_parser(
        "site", help="choose sites for new facilities of one category on the walking network"
    )
    site.add_argument("--demo", action="store_true",
                      help="the embedded demo: where to put 10 new football pitches, and how "
                      "many the plan's 1 per 10,000 needs per district")  # fmt: skip
    site.add_argument("--network", type=_source,
                      help="walking network file, or PostGIS table of road centre lines")
    site.add_argument("--facilities", type=_source, action="append", default=[],
                      help="existing facility file or PostGIS table; repeatable")  # fmt: skip
    site.add_argument(
        "--population",
        "--residents",
        dest="population",
        type=_source,
        help="residents (polygons or points with population or households, a population "
        "raster, or a PostGIS table)",
    )
    _raster_options(site, total=True)
    site.add_argument("--boundaries", type=_source,
                      help="study-area districts, file or PostGIS table (default: Hanzhong)")
    site.add_argument("--category", dest="site_category", default=None,
                      help="category of the new facilities, e.g. football_pitch")  # fmt: skip
    site.add_argument("--candidates", default="auto",
                      help="'auto' (junctions of the walking network, --spacing apart) or a file "
                      "of candidate points or parcels with id and name")  # fmt: skip
    site.add_argument("--spacing", type=float, default=150.0,
                      help="metres between automatic candidates (default 150)")  # fmt: skip
    site.add_argument("--within", type=Path, help="polygons the candidates must lie in")
    site.add_argument("--exclude", type=Path, help="polygons the candidates must not lie in")
    site.add_argument("--objective", choices=("coverage", "distance", "target"),
                      default="coverage",
                      help="coverage: the --add sites newly covering the most residents; "
                      "distance: the --add sites making the total walk shortest (p-median); "
                      "target: the fewest sites reaching --target-share")  # fmt: skip
    site.add_argument("--capacity", default=None,
                      help="capacity-aware coverage: supply of each new site (e.g. 1 pitch, "
                      "120 places), or 'file' to read it from the candidates; needs --standard "
                      "for its per-capita rate")  # fmt: skip
    site.add_argument("--add", type=int, default=None, help="number of new sites")
    site.add_argument("--standard", default=None,
                      help="a per-capita standard of the category: as many new sites as it says "
                      "are missing (e.g. football_pitches_per_10000)")  # fmt: skip
    site.add_argument("--budget", type=float, default=None,
                      help="coverage within a budget: the candidates' cost column (cost, 造价, "
                      "费用, 投资) summed over the chosen sites stays within it")  # fmt: skip
    site.add_argument("--per-area", action="store_true",
                      help="share the new sites among the districts in proportion to their "
                      "shortfall against --standard")  # fmt: skip
    site.add_argument(
        "--target-share",
        type=float,
        default=None,
        help="for --objective target: share of residents within reach, 0–1",
    )
    site.add_argument(
        "--exact-curve",
        action="store_true",
        help="solve the coverage curve for each number of sites on its own",
    )
    site.add_argument("--time-limit", type=float, default=60.0,
                      help="seconds for the whole command — reading, searches, solving "
                      "and writing (default 60; the solver gets at least 5, and 5%% of the "
                      "limit, at least 1 s, is kept for writing); when it runs out the best "
                      "choice found is given with its proven bound and gap")  # fmt: skip
    site.add_argument("--gap", type=float, default=1e-4,
                      help="relative optimality gap accepted (default 0.0001 = 0.01 %%): a "
                      "choice proven within it of the best possible is final")  # fmt: skip
    site.add_argument("--minutes", type=float, default=15.0,
                      help="walking threshold in minutes (default 15)")  # fmt: skip
    site.add_argument("--speed", type=float, default=4.0,
                      help="walking speed in km/h (default 4.0: 15 min = 1000 m)")  # fmt: skip
    site.add_argument(
        "--max-snap",
        type=float,
        default=300.0,
        help="metres: candidates farther from every street are left out (300)",
    )
    _snap_rules_option(site)
    _travel_options(site)
    _crs_options(site, ("network", "population", "boundaries", "candidates"))
    _facilities_crs_option(site)
    _spread_option(site)
    _out_options(site, "maps/sites")
    site.add_argument("--quiet", action="store_true", help="print nothing but errors")
    site.add_argument("--json", action="store_true", help="print site.json to stdout")
    bat = sub.add_parser("batch", help="run the scenarios of a TOML file in parallel on Dask")
    bat.add_argument("scenarios", type=Path, help="scenarios file (see data/scenarios/)")
    bat.add_argument("--workers", type=int, default=2, help="local Dask workers (default 2)")
    bat.add_argument(
        "--scheduler",
        help="address of an existing Dask scheduler, e.g. "
        "tcp://10.0.0.5:8786 (then --workers is ignored)",
    )
    _out_options(bat, "maps/batch")
    bat.add_argument("--force", action="store_true", help="rerun completed scenarios")
    bat.add_argument("--quiet", action="store_true", help="print nothing but errors")
    bat.add_argument("--json", action="store_true", help="print batch results as JSON")
    std = sub.add_parser("standards", help="list the standards catalogue")
    std.add_argument("--standards", default="hanzhong",
                     help="built-in catalogue name or a TOML file (default hanzhong)")  # fmt: skip
    std.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    _serve_parser(sub)
    return ap


def _serve_parser(sub) -> None:
    srv = sub.add_parser(
        "serve",
        help="the planning workbench in the browser: edit facilities, thresholds and proposed "
        "districts on the map (the demo unless inputs, --scenario or --study are given)",
    )
    _coverage_inputs(srv)
    srv.add_argument("--scenario", type=Path,
                     help="start from a scenario of a batch TOML file (its baseline unless "
                     "--scenario-name)")  # fmt: skip
    srv.add_argument("--scenario-name", help="the scenario of --scenario to start from")
    srv.add_argument("--study", type=Path, help="open a study folder saved by the workbench "
                     "or Study.save")  # fmt: skip
    srv.add_argument("--workspace", type=Path,
                     help="folder the workbench writes into (default: <study>/workbench with "
                     "--study, else ./hzspatial-workbench)")  # fmt: skip
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only); "
                     "another needs --token")  # fmt: skip
    srv.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
    srv.add_argument("--token", default=None,
                     help="access token (default: a new random one, printed in the address)")
    srv.add_argument("--no-browser", action="store_true", help="do not open a browser")
    srv.add_argument("--minutes", type=float, default=15.0, help="walking threshold (default 15)")
    srv.add_argument("--speed", type=float, default=4.0, help="walking speed in km/h (4.0)")
    _travel_options(srv)
    srv.add_argument("--standards", default="hanzhong",
                     help="built-in catalogue name or a TOML file (default hanzhong)")
    srv.add_argument("--quiet", action="store_true", help="print nothing but the address")


class _ProgressHandler(logging.Handler):
    """Shows hzspatial's step messages as a tqdm progress bar (terminals only)."""

    def __init__(self):
        super().__init__(logging.INFO)
        from tqdm import tqdm

        self.bar = tqdm(unit=" steps", file=sys.stderr, leave=False, dynamic_ncols=True,
                        bar_format="{desc} [{n_fmt} steps, {elapsed}]")  # fmt: skip

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.bar.write(f"warning: {record.getMessage()}", file=sys.stderr)
            return
        self.bar.set_description_str(record.getMessage()[:90])
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
        super().close()


class _RunLog(logging.Handler):
    """Keeps the run's log lines for ``run.log`` in the output folder."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


RUN_LOG = _RunLog()


def _setup_logging(quiet: bool) -> None:
    """Terminals get a progress bar; pipes and files get plain log lines; --quiet only errors."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.INFO)
    if quiet:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.ERROR)
        warnings.simplefilter("ignore", DataWarning)
    elif sys.stderr.isatty():
        handler = _ProgressHandler()
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    RUN_LOG.lines.clear()
    logging.getLogger("hzspatial").addHandler(RUN_LOG)
    # rasterio repeats GDAL's errors at INFO; hzspatial's own one-line error already quotes them
    for noisy in ("pyogrio", "distributed", "tornado", "bokeh", "rasterio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def show(message, category, filename, lineno, file=None, line=None):
        logging.getLogger("hzspatial").warning("%s", message)

    warnings.showwarning = show


def _close_progress() -> None:
    for h in logging.getLogger().handlers:
        if isinstance(h, _ProgressHandler):
            h.close()


def _width(text: str) -> int:
    """Terminal columns ``text`` takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (CJK characters take two); user text
    is made safe for the terminal first (:func:`_term`)."""
    text = _term(text)
    return text + " " * max(width - _width(text), 0)


def _term(text) -> str:
    """User text (names, ids) for the terminal: control characters — ESC sequences that
    would clear the screen or recolour it — shown as ``\\x1b``, never sent as they are."""
    return "".join(ch if ord(ch) >= 32 and ord(ch) != 127 and not 0x80 <= ord(ch) < 0xA0
                   else f"\\x{ord(ch):02x}" for ch in str(text))


def _pct(x) -> str:
    return "—" if x is None or x != x else f"{x * 100:.1f}%"


def _num(x, digits: int = 0) -> str:
    if x is None or x != x or x in (float("inf"), float("-inf")):
        return "unreachable" if x == float("inf") else "—"
    return f"{x:,.{digits}f}"


def _group_of(categories: dict, category) -> str:
    """Whom ``category``'s coverage counts, in English (``residents`` for everyone)."""
    g = categories.get(category, {}).get("serves", {})
    if g.get("group", "all") == "all":
        return "residents"
    return g["label"].split(" / ")[-1] + (" (estimated)" if g["estimated"] else "")


def _print_served(categories: dict) -> None:
    """Who each category serving a group reaches: the group, its persons and their source."""
    served = {c: i["serves"] for c, i in categories.items() if i["serves"]["group"] != "all"}
    unknown = {c: i["serves"] for c, i in categories.items()
               if i["serves"]["group"] == "all" and i["serves"]["source"] != "all residents"}
    if not served and not unknown:
        return
    print()
    print("who is counted (coverage and 2SFCA demand in the group each category serves):")
    for c, g in served.items():
        tag = "ESTIMATED — " if g["estimated"] else ""
        print(f"  {categories[c]['label']}: {g['label']} ≈ {_num(g['persons'])}, "
              f"{_pct(g['share'])} within {categories[c]['threshold_m']:,.0f} m "
              f"({_num(g['covered'])}) [{tag}{g['source']}]")  # fmt: skip
    for c, g in unknown.items():
        print(f"  {categories[c]['label']}: all residents — {g['source']}")


def _print_travel(s: dict) -> None:
    """How the minutes were measured, and what slope changed (with a DEM)."""
    t = s.get("travel") or {}
    per = t.get("categories") or {}
    if t.get("mode", "walk") == "walk" and not t.get("dem") and not per:
        return
    synthetic = " (synthetic demo data)" if any("synthetic" in x for x in t.get("labels", [])) \
        else ""  # fmt: skip
    if per:
        print("travel by category (metres are equivalent metres: minutes × walking speed):")
        for c, info in per.items():
            label = s["categories"].get(c, {}).get("label", c)
            print(f"  {_term(label)}: {_term(info['note'])}"
                  f"{synthetic if info['mode'] == t.get('mode') else ''}")  # fmt: skip
    else:
        print(f"travel: {_term(t.get('note', t.get('mode')))}{synthetic}; metres are "
              "equivalent metres: minutes × walking speed")  # names: text, never escapes
    for info in (s.get("slope_effect") or {}).values():
        print(f"  {_term(info['text'])}")
        for d in info["districts"]:
            print(f"    {_term(d['text'])}")


def _print_report(result, out: Path, files: list[Path], seconds: float) -> None:
    s = result.summary
    if s["synthetic_inputs"]:
        print(f"DATA: synthetic demo data in {', '.join(s['synthetic_inputs'])} — generated, "
              "not surveyed")  # fmt: skip
    n = s["network"]
    print(
        f"network: {n['nodes']:,} nodes, {n['edges']:,} edges, {n['length_km']:,.0f} km; "
        f"residents {s['population']:,}; threshold {s['threshold_minutes']:g} min at "
        f"{s['speed_kmh']:g} km/h = {s['threshold_m']:.0f} m walking"
    )
    _print_travel(s)
    print()
    w = max([36] + [_width(c["label"]) for c in s["categories"].values()])  # long labels align
    modes = {i.get("mode", "walk") for i in s["categories"].values()}
    by = "" if modes == {"walk"} else f" {'by':<6}"  # another mode: each row says which
    print(
        f"{_pad('category', w)}{by} {'facilities':>10} {'within m':>8} {'covered':>10} "
        f"{'share':>7} {'median m':>9} {'p90 m':>11}"
    )
    for info in s["categories"].values():
        mode = f" {info.get('mode', 'walk'):<6}" if by else ""
        print(
            f"{_pad(info['label'], w)}{mode} {info['facilities']:>10} {info['threshold_m']:>8,.0f}"
            f" {_num(info['covered_population']):>10}"
            f" {_pct(info['coverage_share']):>7} {_num(info['median_distance_m']):>9}"
            f" {_num(info['p90_distance_m']):>11}"
        )
    _print_served(s["categories"])
    print()
    print("standards (whole study area):")
    sw = max([42] + [len(st["id"]) for st in s["standards"]])
    for st in s["standards"]:
        ver = "" if st["verified"] else "  [unverified figure]"
        if st["met"] is None and (st.get("note") or "").startswith("cannot check"):
            print(f"  {st['id']:{sw}} {st['note']}")
            continue
        met = {True: "MET", False: "NOT MET", None: "unknown"}[st["met"]]
        note = st.get("note") or ""
        if st["met"] is None and note.startswith(("partial", "for reference")):
            met = note.split(":")[0].upper()  # PARTIAL / FOR REFERENCE: not a verdict
        group = _group_of(s["categories"], st["category"])
        unit = (st["unit"].replace("residents", group) if group != "residents"
                and st["metric"] == "share_within" else st["unit"])  # fmt: skip
        print(f"  {st['id']:{sw}} {_num(st['value'], 3):>8} vs target {st['target']:g} "
              f"{unit}: {met}{ver}")  # fmt: skip
        below = st.get("share_residents_below_target")
        if below is not None and below == below:
            print(f"  {'':{sw}} 2SFCA: {_pct(st['share_residents_below_target'])} of {group} "
                  f"have a catchment ratio below the target")  # fmt: skip
    print()
    print("underserved residents (each counted once; in the group a category serves):")
    for cat, u in s.get("underserved", {}).items():
        group = _group_of(s["categories"], cat)
        print(f"  {_pad(s['categories'][cat]['label'], w)} {_num(u['underserved']):>10} "
              f"= {_num(u['no_facility'])} with no facility in reach + "
              f"{_num(u['below_standard'])} in reach of a catchment below a standard"
              + ("" if group == "residents" else f" ({group})"))  # fmt: skip
    print()
    for d in s["districts"]:
        census = (
            f"recorded population (boundaries): {d['census_population']:,.0f}"
            if d["census_population"]
            else "recorded population unknown"
        )
        print(f"  {_term(d['name'])} ({_term(d['adcode'])}): {d['population']:,.0f} residents "
              f"analysed; {census}")
    print()
    print(
        f"wrote {len(files)} files to {out}/ in {seconds:.1f} s: "
        + ", ".join(f.name for f in files)
    )


def _run(args: argparse.Namespace) -> int:
    from hzspatial.datasets import demo_paths
    from hzspatial.run import demo_inputs, run_coverage

    if args.command == "standards":
        return _standards(args)
    if args.command == "review":
        return _review(args)
    if args.command == "batch":
        return _batch(args)
    if args.command == "site":
        return _site(args)
    if args.command == "serve":
        return _serve(args)
    from hzspatial.maps.basemaps import basemap_spec
    from hzspatial.outputs import coverage_output

    t0 = time.perf_counter()
    out = _out_dir(args, DEFAULT_DEMO_OUT if args.command == "demo" else DEFAULT_COVERAGE_OUT)
    basemap_spec(args.basemap, os.environ.get("TIANDITU_KEY"))  # a missing key: before any work
    if getattr(args, "out_db", None):  # a password in the address: refused before any work
        from hzspatial.io.postgis import parse_source

        parse_source(args.out_db)
    travel = _travel(args, per_category=True)
    if args.command == "demo":
        kwargs = demo_inputs()
        if not args.flat and travel["dem"] is None and travel["mode"] == "walk":
            travel["dem"] = demo_paths()["dem"]  # the demo's synthetic basin edge
        if not args.quiet:
            print(
                "hzspatial demo — central Hanzhong, 15-minute walking coverage "
                "(synthetic demo data)",
                file=sys.stderr,
            )
    else:
        kwargs = _coverage_kwargs(args)
    # the writer is made first: the map drawing process and the PDF browser start while the
    # analysis runs; the output folder is locked from here and written all or nothing
    with coverage_output(out, overwrite=args.overwrite) as writer:
        result = run_coverage(
            **kwargs, minutes=args.minutes, speed_kmh=args.speed, standards=args.standards,
            **travel,
        )
        if getattr(args, "out_db", None):  # the tables first: a refusal leaves no files either
            _write_db(result, args)
        writer.write(result, basemap=args.basemap, tianditu_key=os.environ.get("TIANDITU_KEY"),
                     run_log=RUN_LOG.lines)  # fmt: skip
    files = [out / n for n in writer.names]
    _close_progress()
    if args.json:
        print((out / "summary.json").read_text("utf-8"))
    elif not args.quiet:
        _print_report(result, out, files, time.perf_counter() - t0)
    return 0


def _source(text: str) -> Path | str:
    """An input as given: a file path, or a PostGIS address kept as text (a Path would fold
    its ``//``); the password never on the command line (:mod:`hzspatial.io.postgis`)."""
    from hzspatial.io.postgis import is_postgis

    return text if is_postgis(text) else Path(text)


def _from_db(source):
    """A PostGIS input read into a frame (named by its address in messages); others as given."""
    from hzspatial.io.postgis import is_postgis, read_table

    return read_table(source) if is_postgis(source) else source


def _write_db(result, args: argparse.Namespace) -> None:
    """The result layers into ``--db-schema`` of ``--out-db`` in one transaction."""
    from hzspatial.io.postgis import write_layers
    from hzspatial.maps.qgis_style import coverage_layers

    synthetic = result.summary.get("synthetic_inputs") or []
    note = (f"{__version__}; synthetic demo data ({', '.join(synthetic)}): generated, not "
            "surveyed" if synthetic else __version__)  # fmt: skip
    names = write_layers([(n, g) for n, g, _ in coverage_layers(result)], args.out_db,
                         args.db_schema, overwrite=args.overwrite, note=note)  # fmt: skip
    if not args.quiet:
        print(f"wrote tables {', '.join(names)} to schema {args.db_schema!r} of the database",
              file=sys.stderr)  # fmt: skip


def _coverage_kwargs(args: argparse.Namespace) -> dict:
    """run_coverage's inputs from the coverage options (:func:`_coverage_inputs`)."""
    cats = list(args.category)
    facility_inputs = _facility_inputs(args, [_from_db(f) for f in args.facilities], cats)
    if (args.network is None) == (args.place is None):
        raise InputError(
            "give either --network FILE or --place NAME",
            column="--network",
            hint="offline, pass a network file (.osm.pbf, .graphml, .gpkg …)",
        )
    network = args.network
    if args.place is not None:
        from hzspatial.network import graph_from_osmnx_query

        network = graph_from_osmnx_query(place=args.place)
    return {
        "network": network,
        "category_minutes": _parse_thresholds(args.threshold),
        "max_snap_m": args.max_snap,
        "snap_rules": _snap_rules(args),
        "require_standards": not args.no_standards_check,
        "facilities": facility_inputs,
        "population": _from_db(args.population),
        "facilities_from_osm": args.facilities_from_osm,
        "residents_from_osm": args.residents_from_osm,
        "population_total": args.population_total,
        "age_rasters": args.age_rasters,
        "control_totals": args.control_totals,
        "buildings": args.buildings,
        "buildings_crs": args.buildings_crs,
        "spread": args.spread,
        "persons_per_household": args.persons_per_household,
        "boundaries": _from_db(args.boundaries),
        "crs_in": args.crs_in,
        "network_crs": args.network_crs,
        "population_crs": args.population_crs,
        "boundaries_crs": args.boundaries_crs,
        "boundary_level": args.boundary_level,
        "strict": args.strict,
        "extra_categories": [*cats, *args.extra_category],
    }


def _parse_mapping(
    text: str | None, option: str = "--columns", form: str = "field=column"
) -> dict[str, str] | None:
    """``"name=设施,lon=X"`` → ``{"name": "设施", "lon": "X"}``."""
    if not text:
        return None
    pairs = [p.split("=", 1) for p in text.replace("，", ",").split(",") if p.strip()]
    bad = [p[0] for p in pairs if len(p) != 2 or not p[0].strip() or not p[1].strip()]
    if bad:
        raise InputError(
            f"cannot read {option} item {bad[0]!r}",
            column=option,
            hint=f"write {form} pairs separated by commas, e.g. "
            + ("lon=X,lat=Y" if option == "--columns" else "综合医院=hospital,卫生院=clinic"),
        )
    return {k.strip(): v.strip() for k, v in pairs}


def _parse_thresholds(items: list[str]) -> dict[str, float]:
    """``["kindergarten=4.5"]`` → ``{"kindergarten": 4.5}``."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            minutes = float(value)
        except ValueError:
            minutes = -1.0
        if not name.strip() or minutes <= 0:
            raise InputError(
                f"cannot read threshold {item!r}",
                column="--threshold",
                hint="write CATEGORY=MINUTES with minutes > 0, e.g. kindergarten=4.5",
            )
        out[name.strip()] = minutes
    return out


def _capacity(value: str | None):
    if value is None:
        return None
    if value == "file":
        return True
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0 or number == float("inf"):
        raise InputError(f"cannot read --capacity {value!r}", column="--capacity",
                         hint="give the supply of each new site (> 0) or 'file'")  # fmt: skip
    return number


def _site(args: argparse.Namespace) -> int:
    from hzspatial.io import output_lock
    from hzspatial.labels import within_words
    from hzspatial.site import demo_site_inputs, select_sites

    out = _out_dir(args, Path("maps") / "sites")
    if args.demo:
        kw = demo_site_inputs()
        kw["standard"] = args.standard or "football_pitches_per_10000"
        if args.add is not None:
            kw["add"] = args.add
    else:
        if args.network is None or args.population is None or args.site_category is None:
            raise InputError("site needs --network, --population and --category (or --demo)",
                             column="site", hint="see hzspatial site --help")  # fmt: skip
        kw = {
            "network": args.network,
            "facilities": _facility_inputs(args, [_from_db(f) for f in args.facilities], []),
            "population": _from_db(args.population),
            "boundaries": _from_db(args.boundaries),
            "category": args.site_category,
            "add": args.add,
            "standard": args.standard,
        }
    if args.site_category and args.demo:
        kw["category"] = args.site_category
    with output_lock(out):
        result = select_sites(
            **kw, candidates=args.candidates, spacing_m=args.spacing, within=args.within,
            exclude=args.exclude, objective=args.objective, target_share=args.target_share,
            curve="exact" if args.exact_curve else True, time_limit=args.time_limit,
            started=getattr(args, "started", None), gap=args.gap,
            minutes=args.minutes, speed_kmh=args.speed, crs_in=args.crs_in,
            candidates_crs=args.candidates_crs, max_snap_m=args.max_snap,
            network_crs=args.network_crs,
            population_crs=args.population_crs, boundaries_crs=args.boundaries_crs,
            capacity=_capacity(args.capacity), per_area=args.per_area, budget=args.budget,
            snap_rules=_snap_rules(args), spread=args.spread,
            population_total=args.population_total, age_rasters=args.age_rasters,
            control_totals=args.control_totals, **_travel(args),
        )  # fmt: skip
        files = result.write(out, overwrite=args.overwrite)
    rep = result.report
    if args.json:
        print((out / "site.json").read_text("utf-8"))
    elif not args.quiet:
        if rep["synthetic_inputs"]:
            print(f"DATA: synthetic demo data in {', '.join(rep['synthetic_inputs'])} — "
                  "generated, not surveyed")  # fmt: skip
        total = rep["residents"]
        sites = f"{rep['sites']} new site" + ("" if rep["sites"] == 1 else "s")
        who = rep["counted"]
        if who["group"] != "all":
            print(f"counted: {who['label']} — {who['source']}"
                  + (" (estimated)" if who["estimated"] else ""))  # fmt: skip
        print(f"{rep['category']}: {sites} ({rep['objective']}); {who['label'].split(' / ')[-1]} "
              f"{within_words(rep)[1]} {rep['already_served'] / total:.1%} → "
              f"{rep['covered_after'] / total:.1%} (+{rep['newly_covered']:,.0f})")  # fmt: skip
        print(f"solver {rep['solver']}: {rep['status']}, bound {rep['bound']:,.1f}, gap "
              f"{rep['gap']:.2%}")  # fmt: skip
        if rep.get("standard"):
            s = rep["standard"]
            print(f"{s['id']} (target: {s['unit']} {s['target']:g}): "
                  + ", ".join(f"{a} {n} more" for a, n in s["per_area"].items())
                  + f" — {s['total']} in all")  # fmt: skip
            if s.get("sites_per_area"):
                print("new sites per district: " + ", ".join(
                    f"{a} {n}" for a, n in s["sites_per_area"].items()))  # fmt: skip
        for r in result.sites.head(20).itertuples():
            area = r.district if isinstance(r.district, str) and r.district else r.district_id
            print(f"  #{r.rank:<3} {_pad(str(r.id), 12)} {_pad(str(area or ''), 10)} "
                  f"+{r.newly_covered:>9,.0f}"
                  f"  {r.cumulative_share:6.1%}")  # fmt: skip
        print(f"wrote {len(files)} files to {out}/: " + ", ".join(f.name for f in files))
    return 0


def _review(args: argparse.Namespace) -> int:
    from hzspatial.datasets import demo_paths
    from hzspatial.io import output_lock

    out = _out_dir(args, Path("maps") / "review")
    if args.demo:
        p = demo_paths()
        district = args.district or p["proposals"]
        network, facilities = args.network or p["network"], args.facilities or [p["facilities"]]
        residents = args.residents or p["population"]
    else:
        if args.district is None or args.network is None or not args.facilities:
            raise InputError(
                "review needs DISTRICT, --network and --facilities (or --demo)",
                column="review",
                hint="see hzspatial review --help",
            )
        district, network = _from_db(args.district), args.network
        facilities, residents = [_from_db(f) for f in args.facilities], _from_db(args.residents)
    cats = list(args.category)
    items = _facility_inputs(args, list(facilities), cats)
    with output_lock(out):
        result = _review_run(args, district, network, items, residents, cats)
        files = result.write(out, overwrite=args.overwrite)
    return _review_print(args, result, out, files)


def _review_run(args, district, network, items, residents, cats):
    from hzspatial.review import review_districts

    return review_districts(
        district, network, items,
        residents_file=residents, boundaries=_from_db(args.boundaries),
        residents=args.proposal_population,
        households=args.proposal_households, streets=args.streets, minutes=args.minutes,
        extra_categories=[*cats, *args.extra_category], max_snap_m=args.max_snap,
        speed_kmh=args.speed, category_minutes=_parse_thresholds(args.threshold),
        standards=args.standards, crs_in=args.crs_in, network_crs=args.network_crs,
        residents_crs=args.residents_crs,
        proposals_crs=args.proposals_crs, streets_crs=args.streets_crs, strict=args.strict,
        persons_per_household=args.persons_per_household, snap_rules=_snap_rules(args),
        spread=args.spread, buildings=args.buildings, buildings_crs=args.buildings_crs,
        population_total=args.population_total, age_rasters=args.age_rasters,
        control_totals=args.control_totals, **_travel(args),
    )  # fmt: skip


def _travel(args: argparse.Namespace, per_category: bool = False) -> dict:
    """``mode``, ``dem`` (and with ``per_category`` ``category_modes``) from --mode and
    --dem: an unknown mode, or a DEM with another mode than walking, stopped here before any
    work."""
    from hzspatial.network.costs import MODES, check_travel

    default, given = [], {}
    for item in args.mode:
        name, eq, mode = (x.strip() for x in item.partition("="))
        if not eq:
            default.append(name)
        elif not per_category:
            raise InputError(f"--mode {item!r}: {args.command} takes one travel mode for all "
                             "categories", column="--mode",
                             hint=f"use one of {', '.join(MODES)}; per-category modes are "
                             "for coverage, demo and batch")  # fmt: skip
        elif not name or mode not in MODES:
            raise InputError(f"cannot read --mode {item!r}", column="--mode",
                             hint=f"write CATEGORY=MODE with a mode of {', '.join(MODES)}, "
                             "e.g. clinic=car")  # fmt: skip
        else:
            given[name] = mode
    if len(default) > 1:
        raise InputError(f"--mode given {len(default)} times ({', '.join(default)})",
                         column="--mode", hint="give one travel mode for all categories, "
                         "and CATEGORY=MODE for the others")  # fmt: skip
    mode = default[0] if default else "walk"
    check_travel(mode, None if given else args.dem)  # with several modes: checked per category
    out = {"mode": mode, "dem": args.dem}
    return out | ({"category_modes": given} if per_category else {})


def _review_print(args, result, out: Path, files: list[Path]) -> int:
    if args.json:
        print((out / "review.json").read_text("utf-8"))
    elif not args.quiet:
        if result.report["synthetic_inputs"]:
            print(f"DATA: synthetic demo data in {', '.join(result.report['synthetic_inputs'])} "
                  "— generated, not surveyed")  # fmt: skip
        for c in result.report["compliance"]:
            value = "—" if c["value"] is None else f"{c['value']:.0%}"
            print(f"{c['label']}: {value} of {c['proposals']} proposals (target "
                  f"{c['target']:.0%})")  # fmt: skip
        for p in result.report["proposals"]:
            print(
                f"{_term(p['proposal_id'])} {_term(p['name'])}: {p['residents']:,.0f} residents — "
                f"{p['verdict'].upper()}"
            )
            for c in p["checks"]:
                short = (
                    ""
                    if not c["shortfall"]
                    else f", shortfall {c['shortfall']:,.2f} "
                    f"{c.get('requirement_unit', c.get('shortfall_unit', ''))}"
                )
                print(f"  {c['verdict']:12} {c['standard']:34} ({c['reason']}{short})")
        print(f"wrote {len(files)} files to {out}/: " + ", ".join(f.name for f in files))
    return result.exit_code


def _batch(args: argparse.Namespace) -> int:
    import distributed  # noqa: F401  (imported first: it configures its loggers on import)

    from hzspatial.batch import run_batch

    for noisy in ("distributed", "tornado"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    out = _out_dir(args, Path("maps") / "batch")
    bar = None
    if not args.quiet and not args.json and sys.stderr.isatty():
        from tqdm import tqdm

        from hzspatial.batch import load_scenarios

        bar = tqdm(total=len(load_scenarios(args.scenarios)[0]), unit="scenario",
                   desc="scenarios", file=sys.stderr)  # fmt: skip

    def progress(r):
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{_term(r.name)}: {r.status}")
        elif not args.quiet and not args.json:
            print(f"{_term(r.name)}: {r.status}" + (f" — {_term(r.error)}" if r.error else ""),
                  file=sys.stderr)  # fmt: skip

    results, table = run_batch(
        args.scenarios,
        out,
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        progress=progress,
        overwrite=args.overwrite,
    )
    if bar is not None:
        bar.close()
    failed = [r for r in results if r.status == "failed"]
    if args.json:
        print(json.dumps({"scenarios": [{"name": r.name, "status": r.status, "error": r.error,
                                          "seconds": r.seconds, "summary": r.summary}
                                         for r in results],
                          "comparison": table.to_dict("records")},
                         ensure_ascii=False, indent=2, default=str))  # fmt: skip
    elif not args.quiet:
        for r in results:
            line = f"  {_pad(r.name, 24)} {r.status:8} {r.seconds:6.1f} s"
            print(line + (f"  {_term(r.error)}" if r.error else ""))
        print(
            f"wrote comparison.csv, comparison.xlsx, batch.json and one folder per scenario "
            f"to {out}/"
        )
    return 1 if failed else 0


def _serve(args: argparse.Namespace) -> int:
    from hzspatial.workbench.server import _checked, serve

    _checked(args.host, args.port, args.token)  # before the study is built
    given = [o for o, v in (("--scenario", args.scenario), ("--study", args.study),
                            ("--network", args.network or args.place)) if v]  # fmt: skip
    if len(given) > 1:
        raise InputError(f"{' and '.join(given)} both say what to open", column=given[1],
                         hint="give one of --network (with the other inputs), --scenario or "
                         "--study")  # fmt: skip
    if args.scenario_name and not args.scenario:
        raise InputError("--scenario-name without --scenario", column="--scenario-name",
                         hint="give the scenarios file with --scenario")  # fmt: skip
    study = _serve_study(args)
    workspace = args.workspace or (args.study / "workbench" if args.study
                                   else Path("hzspatial-workbench"))  # fmt: skip
    _close_progress()
    serve(study, workspace=workspace, host=args.host, port=args.port, token=args.token,
          browser=not args.no_browser)  # fmt: skip
    return 0


def _serve_study(args: argparse.Namespace):
    """The study ``serve`` opens: saved, a scenario's, the inputs given, or the demo."""
    from hzspatial.study import Study

    if args.study:
        return Study.open(args.study)
    if args.scenario:
        from hzspatial.batch import scenario_study

        return scenario_study(args.scenario, args.scenario_name)
    if args.network is None and args.place is None:
        from hzspatial.run import demo_inputs

        if not args.quiet:
            print("hzspatial serve — the embedded Hanzhong demo (synthetic demo data)",
                  file=sys.stderr)  # fmt: skip
        kwargs = demo_inputs()
    else:
        kwargs = _coverage_kwargs(args)
    return Study(**kwargs, minutes=args.minutes, speed_kmh=args.speed, standards=args.standards,
                 **_travel(args))


def _standards(args: argparse.Namespace) -> int:
    from hzspatial.standards import load_standards

    stds = load_standards(args.standards)
    if args.json:
        print(json.dumps([s.__dict__ for s in stds], ensure_ascii=False, indent=2))
        return 0
    for s in stds:
        ver = "verified" if s.verified else "UNVERIFIED"
        print(f"{s.id:28} {s.category:15} {s.comparison} {s.target:g} {s.unit}  [{ver}]")
        print(f"{'':28} {s.label_zh} / {s.label_en} — {s.source}")
        if s.plan_line:
            print(f"{'':28} plan line {s.plan_line}: {s.plan_quote.replace(chr(9), ' ')}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hzspatial`` console script; returns the exit code."""
    started = time.perf_counter()  # --time-limit counts the whole command from here
    args = _parser().parse_args(argv)
    args.started = started
    _setup_logging(getattr(args, "quiet", False))
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(args)
    except InputError as exc:
        print(f"hzspatial: error: {exc.line()}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("hzspatial: interrupted; the output folder is left as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: show it, keep exit codes 1/2 meaningful
        if _full_disk(exc):
            print(f"hzspatial: error: cannot write the outputs ({exc.strerror}); the output "
                  "folder is left as it was — free space (or raise the file-size limit) and "
                  "run again", file=sys.stderr)  # fmt: skip
            return EXIT_USER_ERROR
        import traceback

        traceback.print_exc()
        print(
            "hzspatial: internal error (a bug — please report it with the traceback above); "
            "the output folder is left as it was",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)


def _full_disk(exc: BaseException) -> bool:
    """A write refused by the machine (disk or quota full, file-size limit, read-only)."""
    import errno

    return isinstance(exc, OSError) and exc.errno in (
        errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS)  # fmt: skip


def _terminated(signum, frame):
    """SIGTERM (what ``timeout`` and service managers send) ends a run like Ctrl-C: staged
    outputs are removed, the previous outputs stay, one line is printed."""
    raise KeyboardInterrupt


def console_main() -> int:
    """The ``hzspatial`` console script: :func:`main`, then a quick exit. The heap is frozen
    (:func:`gc.freeze`) so that the interpreter's last garbage collections at exit skip the
    loaded libraries' objects — about 0.25 s less wait on this machine; memory is released
    by the exit as always."""
    import gc

    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console_main())
