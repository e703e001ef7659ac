"""An editable study: the inputs loaded and searched once, then changed one edit at a time.

>>> from hzspatial import Study, demo_inputs
>>> study = Study(**demo_inputs())                                     # doctest: +SKIP
>>> change = study.add_facility("football_pitch", 107.03, 33.07)       # doctest: +SKIP
>>> change.categories["football_pitch"]["covered_after"]               # doctest: +SKIP
>>> study.undo()                                                       # doctest: +SKIP
>>> study.result().write("out/what_if")                                # doctest: +SKIP

A :class:`Study` holds what :func:`hzspatial.stages.build` returns — the network, residents
placed on it, facilities snapped to it, and per category every node's walking distance to
its nearest facility (:class:`hzspatial.catchments.NearestFacility`). An edit recomputes
only what it touches (:mod:`hzspatial.repair`): a new facility is one search from it that
stops where it no longer brings anyone closer, merged by minimum; a removed one re-searches
only the streets it was nearest to; 2SFCA pairs are searched for the facility edited. The
edit returns a :class:`Change` — per category residents covered, per standard value / met /
gap, per district, underserved residents — and :meth:`Study.result` gives the full
:class:`~hzspatial.results.CoverageResult`, equal to a fresh
:func:`~hzspatial.run.run_coverage` on the edited inputs.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from hzspatial import __version__, repair
from hzspatial import catchments as ct
from hzspatial import stages as st
from hzspatial.categories import resolve_subtype
from hzspatial.errors import InputError, check_number
from hzspatial.evaluation import Pairs, StandardsInput, evaluation_rows
from hzspatial.groups import ALL, builtin_groups, census_shares, served_group
from hzspatial.io import FacilityInput, file_sha256, read_facility_inputs
from hzspatial.io._files import input_label
from hzspatial.io.facilities import known_categories
from hzspatial.io.outdir import staged_output
from hzspatial.io.writers import write_csv, write_json
from hzspatial.network import WalkGraph, snap_points
from hzspatial.network.costs import minutes_note
from hzspatial.network.datum import warn_datums
from hzspatial.results import CoverageResult

__all__ = ["Change", "Study", "FACILITY_ATTRIBUTES", "REACH_BELOW", "REACH_COVERED", "REACH_NONE",
           "REACH_NOT_COUNTED"]

#: How residents at a demand point reach a category (:meth:`Study.reach`).
REACH_NOT_COUNTED, REACH_COVERED, REACH_BELOW, REACH_NONE = 0, 1, 2, 3

#: Facility attributes an edit may set (supply of the standards, subtype, name).
FACILITY_ATTRIBUTES = ("name", "subtype", "area_m2", "floor_area_m2", "beds", "nursing_beds",
                       "places", "pitches", "doctors", "nurses", "capacity", "inclusive",
                       "built", "planned")  # fmt: skip
_TEXT_ATTRIBUTES = {"name", "subtype", "inclusive", "planned"}
#: Edits that change residents only (standards on facilities alone are not evaluated again).
_RESIDENTS_EDITS = ("add_residents", "remove_residents", "restore_residents")
#: Metrics that count facilities alone (per area holding residents).
_FACILITY_SIDE = ("built_since", "supply_share", "supply_ratio")
#: The edits a study takes (``together`` groups them); others are refused.
EDITS = ("add_facility", "move_facility", "remove_facility", "update_facility",
         "add_facility_file", "add_residents", "remove_residents", "set_minutes", "set_speed")


@dataclass
class Change:
    """What one edit changed.

    Attributes
    ----------
    edit : dict
        The edit as applied (``op`` and its arguments).
    seconds : float
        Time the edit took (wall clock).
    categories : dict
        Category → ``covered_before`` / ``covered_after`` (persons within the threshold),
        ``share_before`` / ``share_after`` (0–1), for the categories the edit touched.
    standards : DataFrame
        Rows whose value, met or gap changed: ``standard``, ``district_id`` (``study_area``
        for the whole), ``value_before``, ``value_after``, ``met_before``, ``met_after``,
        ``gap_before``, ``gap_after``.
    districts : DataFrame
        Per district and touched category: ``covered_before``, ``covered_after`` (persons).
    underserved : dict
        Category → ``{"no_facility": (before, after), "below_standard": (before, after)}``
        (persons, study area).
    """

    edit: dict
    seconds: float = 0.0
    categories: dict = field(default_factory=dict)
    standards: pd.DataFrame = field(default_factory=pd.DataFrame)
    districts: pd.DataFrame = field(default_factory=pd.DataFrame)
    underserved: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready (NaN as None)."""

        def clean(v):
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            if isinstance(v, float | np.floating):
                return None if math.isnan(v) else float(v)
            if isinstance(v, np.bool_ | np.integer):
                return v.item()
            return v

        return clean({"edit": self.edit, "seconds": self.seconds, "categories": self.categories,
                      "standards": self.standards.to_dict("records"),
                      "districts": self.districts.to_dict("records"),
                      "underserved": self.underserved})  # fmt: skip


class Study:
    """A coverage study kept loaded for edits.

    Parameters
    ----------
    network, facilities, population, boundaries, **options
        As :func:`hzspatial.run.run_coverage` (files or frames). A study built with
        ``tiles``, or whose categories are reached by several travel modes
        (``category_modes``), gives its result but cannot be edited.

    Notes
    -----
    Facilities are given and returned in WGS84 longitude / latitude (degrees); distances are
    metres along the streets, thresholds minutes at the study's walking speed (km/h). Each
    category the study was built with keeps at least one facility on the network.
    """

    def __init__(self, network, facilities, population, boundaries=None, **options):
        t = time.perf_counter()
        self._b = st.build(network, facilities, population, boundaries, **options)
        #: Seconds the build took (read, checks, residents, searches; ``result().timings``
        #: has each stage).
        self.build_seconds = time.perf_counter() - t
        self._inputs = {"network": network, "facilities": facilities, "population": population,
                        "boundaries": boundaries, **options}  # fmt: skip
        self._done: list[tuple[dict, dict]] = []  # (edit, its inverse)
        self._undone: list[tuple[dict, dict]] = []
        self._cached: CoverageResult | None = None
        self._state: dict | None = None
        self._graph_arrays = None
        self._new_ids = 0
        self._table: pd.DataFrame | None = None  # the facilities while edited
        self._geo: gpd.GeoDataFrame | None = None
        self._to_metric = None
        self._areas_m = None
        self._study_area = None
        self._people: np.ndarray | None = None  # persons per demand point
        self._frame_ops: list[tuple] = []  # residents edits not yet in the demand frame
        self._res_ops: list[tuple] = []  # residents edits not yet in the residents frame
        self._res_ids: np.ndarray | None = None  # the residents' ids (text), kept with edits
        self._ids_of_areas: np.ndarray | None = None
        # group id → (persons from the input's age columns, NaN where none; census share)
        # per demand point, kept with the residents edits
        self._group_parts: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
        self._area_shares: dict[str, np.ndarray] = {}  # group id → census share per area
        self._fac_arrays: tuple | None = None  # (table, categories, metric x/y) of the table
        self._pair_cache: dict[str, tuple] = {}  # category → (widest limit, its pairs)
        self._together_inverse: dict = {}
        # facility files added by edits: label → (FacilityInput, coordinate system, declared)
        self._files: dict[str, tuple] = {}
        self._present: np.ndarray | None = None  # areas with residents, at the last edit
        self._base_items = list(self._b.src.items)
        self._base_crs = (dict(self._b.src.facilities.attrs.get("crs_in", {})),
                          dict(self._b.src.facilities.attrs.get("crs_declared", {})))

    def __repr__(self) -> str:
        b = self._b
        n_fac = len(self._table if self._table is not None else b.src.facilities)
        return (f"Study({b.graph.n_nodes:,} nodes, {n_fac:,} facilities in "
                f"{len(b.walk.categories)} categories, "
                f"{len(b.dem.points):,} demand points, {len(self.edits)} edits)")

    # ---------------------------------------------------------------- reading the study
    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facilities now (WGS84), in the order of the result's tables."""
        if self._table is None:
            return self._b.src.facilities
        if self._geo is None:
            self._geo = gpd.GeoDataFrame(self._table.copy(), geometry="geometry", crs=4326)
            self._geo.attrs.update(self._b.src.facilities.attrs)
        return self._geo

    def _fac(self) -> pd.DataFrame:
        """The facilities table edits work on: a plain frame (no CRS bookkeeping, no attrs
        copied by every pandas operation); :attr:`facilities` gives it as a GeoDataFrame."""
        if self._table is None:
            fac = self._b.src.facilities
            if fac.geometry.name != "geometry":
                fac = fac.rename_geometry("geometry")
            self._table = pd.DataFrame(fac.drop(columns="geometry"))
            self._table["geometry"] = fac.geometry.to_numpy()  # shapely objects, no CRS
            self._table.attrs = {}
        self._geo = None
        return self._table

    @property
    def graph(self) -> WalkGraph:
        """The walking network (metric CRS)."""
        return self._b.graph

    @property
    def modes(self) -> dict[str, str]:
        """Each category's travel mode (``walk``, ``bike``, ``ebike``, ``car``): a study of
        more than one gives its result but takes no edits."""
        b = self._b
        return dict(b.modes.of) if b.modes else dict.fromkeys(b.walk.categories, "walk")

    @property
    def edits(self) -> list[dict]:
        """The edits applied since the study was built (undone ones left out)."""
        return [{k: v for k, v in e.items() if not k.startswith("_")} for e, _ in self._done]

    @property
    def minutes(self) -> dict[str, float]:
        """Category → walking threshold (minutes)."""
        return dict(self._b.walk.minutes)

    @property
    def speed_kmh(self) -> float:
        """Walking speed (km/h)."""
        return float(self._b.options["speed_kmh"])

    def result(self, *, underserved_areas: bool = True) -> CoverageResult:
        """The full result of the study as edited (computed on first call after an edit);
        ``summary["study_edits"]`` lists the edits it includes. ``underserved_areas=False``
        leaves the underserved areas untraced (an empty layer; the counts are there) and the
        result uncached — for callers that draw no map of them (siting)."""
        if self._cached is not None:  # traced or not, the cached one serves
            return self._cached
        if self._table is not None:
            self._b.src.facilities = self.facilities.copy()
            self._b.src.facilities.attrs.update(self._geo.attrs)
            self._b.dem.facilities_m = self._b.src.facilities.to_crs(self._b.graph.crs)
        self._residents()
        if self._frame_ops:  # residents edited: their groups counted again, as a run does
            self._flush_demand()
            b = self._b
            b.dem.groups = st.demand_groups(b.dem.frame, b.dem.area, b.src.boundaries,
                                            b.walk.categories, b.src.population_label,
                                            b.src.residents.attrs.get("group_info"))
        self._name_files()
        # each result owns its tables: the next one (after more edits) writes new columns
        self._b.dem.frame = self._b.dem.frame.copy()
        result = st.finish(self._b, areas=underserved_areas)
        if self.edits:  # the result says it is not the inputs as read
            result.summary["study_edits"] = [_plain_edit(e) for e in self.edits]
        if not underserved_areas:
            return result
        self._cached = result
        return self._cached

    def _name_files(self) -> None:
        """The result's facility inputs: the files built with and those added by edits."""
        src = self._b.src
        src.items = self._base_items + [f[0] for f in self._files.values()]
        crs, declared = dict(self._base_crs[0]), dict(self._base_crs[1])
        crs |= {k: f[1] for k, f in self._files.items()}
        declared |= {k: f[2] for k, f in self._files.items()}
        src.facilities.attrs["crs_in"], src.facilities.attrs["crs_declared"] = crs, declared

    def facility_table(self) -> pd.DataFrame:
        """The facilities as an input table (``facility_id``, ``category``, ``lon``, ``lat``
        in WGS84 and the attributes): what a fresh run on the edited study reads."""
        fac = self.facilities
        cols = ["facility_id", "category", *[c for c in FACILITY_ATTRIBUTES if c in fac]]
        out = pd.DataFrame(fac[cols]).reset_index(drop=True)
        out["lon"] = fac.geometry.x.to_numpy()
        out["lat"] = fac.geometry.y.to_numpy()
        return out

    def residents_table(self) -> gpd.GeoDataFrame:
        """The residents now as an input layer (``id``, ``name``, ``population`` persons,
        ``source``, and the age groups' persons — ``age_60plus`` … — where the input had
        them; WGS84): the input's features and those added, in order."""
        res = self._residents()
        ages = [c for c in res.columns if str(c).startswith("group_")]  # age-group persons
        out = res[["demand_id", "name", "population", "source", *ages, res.geometry.name]]
        return out.rename(columns={"demand_id": "id"} | {c: c[6:] for c in ages}).reset_index(
            drop=True)  # fmt: skip

    def run_inputs(self) -> dict:
        """Keyword arguments of :func:`~hzspatial.run.run_coverage` giving this study's
        result from scratch: the inputs it was built from, with the facilities (and, once
        residents were edited, the residents) as the edited tables, and the thresholds."""
        kw = dict(self._inputs)
        for key in ("facilities_from_osm", "exclude_facilities", "category_map"):
            kw.pop(key, None)
        kw["facilities"] = [self.facility_table()]
        kw["facilities_crs"] = "wgs84"
        if any(e["op"] in ("add_residents", "remove_residents") for e in self.edits):
            kw["population"] = self.residents_table()
            kw["population_crs"] = "wgs84"
            kw["residents_from_osm"] = False
            kw.pop("population_total", None)
        kw["category_minutes"] = self.minutes
        kw["speed_kmh"] = self.speed_kmh
        return kw

    def indicators(self) -> dict:
        """The study's headline figures now, kept up to date by every edit: per category
        ``covered`` and ``share`` (persons, 0–1, study area), ``districts`` (persons covered
        per boundary area, in the order of the boundaries), ``standards`` ((standard,
        district_id) → (value, met, gap)), ``no_facility`` and ``below_standard`` (persons
        underserved); ``_districts`` holds the boundary ids. Equal to the full
        :meth:`result`'s figures, without assembling its tables."""
        state = self._indicators()
        return {c: ({k: x for k, x in v.items() if k != "masks"} if c != "_districts" else v)
                for c, v in state.items()}  # fmt: skip

    def demand_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Residents as placed now: WGS84 longitude, latitude (degrees) and persons of every
        demand point, in the order of :meth:`reach`."""
        b = self._b
        xy = shapely.get_coordinates(b.dem.points)
        lon, lat = pyproj.Transformer.from_crs(b.graph.crs, 4326, always_xy=True).transform(
            xy[:, 0], xy[:, 1])  # fmt: skip
        return np.asarray(lon), np.asarray(lat), self._people_now().copy()

    def reach(self, category: str) -> np.ndarray:
        """Per demand point (:meth:`demand_points`), how residents reach ``category`` now:
        :data:`REACH_COVERED`, :data:`REACH_BELOW` (in reach, but of a catchment below a
        per-capita standard), :data:`REACH_NONE` (no facility within the threshold) or
        :data:`REACH_NOT_COUNTED` (no residents, or not joined to a street)."""
        self._category(category)
        return _status(*self._indicators()[category]["masks"])

    # ---------------------------------------------------------------- saved and reopened
    def save(self, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Save the study as a folder: ``study.json`` (its input files with SHA-256, options
        and edits, for :meth:`open`), ``scenario.toml`` (a ``hzspatial batch`` file: the
        inputs as built and as edited, side by side), ``study_facilities.csv`` and, after
        residents edits, ``study_residents.geojson`` (the edited inputs it names). All or
        nothing; never outside ``folder``."""
        saved = _saved_inputs(self._inputs)
        residents = any(e["op"] in ("add_residents", "remove_residents") for e in self.edits)
        with staged_output(folder, overwrite=overwrite) as stage:
            write_csv(self.facility_table(), stage / "study_facilities.csv", decimals=None)
            if residents:
                self.residents_table().to_file(stage / "study_residents.geojson",
                                               driver="GeoJSON", engine="pyogrio")  # fmt: skip
            write_json({"hzspatial": __version__, "inputs": saved,
                        "edits": [_plain_edit(e) for e in self.edits]},
                       stage / "study.json")  # fmt: skip
            (stage / "scenario.toml").write_text(
                _scenario_toml(saved, self.minutes, self.speed_kmh, residents), "utf-8")
        out = Path(folder)
        return [out / n for n in ("study.json", "scenario.toml", "study_facilities.csv",
                                  *(["study_residents.geojson"] if residents else []))]

    @classmethod
    def open(cls, folder: str | Path) -> Study:
        """Reopen a study saved with :meth:`save`: its inputs read again (each checked
        against its SHA-256) and its edits applied again, in order."""
        path = Path(folder) / "study.json"
        if not path.is_file():
            raise InputError("no saved study here (study.json missing)", file=str(folder),
                             hint="give a folder written by Study.save")  # fmt: skip
        try:
            saved = json.loads(path.read_text("utf-8"))
            edits = [dict(e) for e in saved["edits"]]
            inputs = _opened_inputs(saved["inputs"], str(path))
        except InputError:  # an input missing or changed: said as such
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError("study.json is not a saved study", file=str(path),
                             hint="save the study again") from exc
        study = cls(**inputs)
        for edit in edits:
            study._apply(edit)
        return study

    # ---------------------------------------------------------------- edits
    def add_facility(self, category: str, lon: float, lat: float, *,
                     facility_id: str | None = None, **attributes: Any) -> Change:  # fmt: skip
        """Add a facility at WGS84 ``lon``/``lat`` (degrees), of a category the study has;
        ``attributes`` among :data:`FACILITY_ATTRIBUTES` (e.g. ``pitches=1``, ``beds=40``)."""
        return self._apply({"op": "add_facility", "category": category, "lon": lon, "lat": lat,
                            "facility_id": facility_id, **attributes})  # fmt: skip

    def move_facility(self, facility_id: str, lon: float, lat: float) -> Change:
        """Move a facility to WGS84 ``lon``/``lat`` (degrees)."""
        return self._apply({"op": "move_facility", "facility_id": facility_id, "lon": lon,
                            "lat": lat})  # fmt: skip

    def remove_facility(self, facility_id: str) -> Change:
        """Remove a facility (it may be put back with :meth:`undo`)."""
        return self._apply({"op": "remove_facility", "facility_id": facility_id})

    def update_facility(self, facility_id: str, **attributes: Any) -> Change:
        """Change a facility's attributes: capacity, beds, places, area, subtype, name …"""
        return self._apply({"op": "update_facility", "facility_id": facility_id, **attributes})

    def add_residents(self, name: str, geometry: shapely.Geometry | str, *,
                      population: float | None = None, households: float | None = None,
                      proposal: bool = False) -> Change:  # fmt: skip
        """Add residents: a polygon (spread as the study's residents are) or a point, WGS84
        (a shapely geometry or WKT), with ``population`` persons or ``households``."""
        wkt = geometry if isinstance(geometry, str) else (
            shapely.to_wkt(geometry) if isinstance(geometry, shapely.Geometry) else None)
        return self._apply({"op": "add_residents", "name": name, "wkt": wkt,
                            "population": population, "households": households,
                            "proposal": proposal})  # fmt: skip

    def add_proposal(self, name: str, geometry: shapely.Geometry | str, *,
                     population: float | None = None,
                     households: float | None = None) -> Change:  # fmt: skip
        """A proposed residential district (居住区) with its residents, as ``review`` reads
        one: :meth:`add_residents` labelled as a proposal."""
        return self.add_residents(name, geometry, population=population, households=households,
                                  proposal=True)  # fmt: skip

    def remove_residents(self, name: str) -> Change:
        """Remove a residents feature (a proposal or one of the input's, by its id)."""
        return self._apply({"op": "remove_residents", "name": name})

    remove_proposal = remove_residents

    def set_minutes(self, category: str | None, minutes: float) -> Change:
        """Walking threshold (minutes) of one category, or of every category (``None``: "what
        about a 10-minute walk", one edit)."""
        if category is None:
            return self._apply({"op": "together", "edits": [
                {"op": "set_minutes", "category": c, "minutes": minutes}
                for c in self._b.walk.categories]})  # fmt: skip
        return self._apply({"op": "set_minutes", "category": category, "minutes": minutes})

    def set_speed(self, speed_kmh: float) -> Change:
        """Walking speed (km/h) of every category."""
        return self._apply({"op": "set_speed", "speed_kmh": speed_kmh})

    def add_facility_file(self, facilities: FacilityInput | str | Path, *,
                          crs: str | int | None = None) -> Change:  # fmt: skip
        """Add every facility of a file (or frame) in one edit (one undo), read as a run
        reads its facility files (columns, categories, subtypes, its own coordinate system,
        ``crs`` when it states none); the result lists it among its inputs. Refused with one
        line, nothing changed: an id the study has, a category it has no facilities of."""
        item = facilities if isinstance(facilities, FacilityInput) else FacilityInput(
            facilities, crs=crs)  # fmt: skip
        return self._apply({"op": "add_facility_file", "file": _plain_item(item)})

    def accept_sites(self, sites, **attributes: Any) -> Change:
        """Add the sites a siting run chose (a :class:`~hzspatial.results.SiteResult` or its
        ``sites`` frame: ``id``, ``name``, ``category``, ``lon``, ``lat``) as facilities, in
        one edit (one undo); ``attributes`` as :meth:`add_facility` (e.g. ``pitches=1``)."""
        frame = getattr(sites, "sites", sites)
        parts = [{"op": "add_facility", "category": str(r.category), "lon": float(r.lon),
                  "lat": float(r.lat), "facility_id": str(r.id), "name": str(r.name),
                  **attributes} for r in frame.itertuples()]  # fmt: skip
        if not parts:
            raise InputError("no sites to accept", column="sites", hint="run site first")
        return self._apply({"op": "together", "edits": parts})

    def undo(self) -> Change | None:
        """Take back the last edit (None when there is none)."""
        if not self._done:
            return None
        edit, inverse = self._done.pop()
        change = self._run(inverse)
        self._undone.append((edit, inverse))
        return change

    def redo(self) -> Change | None:
        """Apply again the last edit undone (None when there is none)."""
        if not self._undone:
            return None
        edit, _ = self._undone.pop()
        change, inverse = self._run_with_inverse(edit)
        self._done.append((edit, inverse))
        return change

    # ---------------------------------------------------------------- machinery
    def _apply(self, edit: dict) -> Change:
        if self._b.eng.facility_snap is None:
            raise InputError("a study built with tiles cannot be edited", column="tiles",
                             hint="build the study without tiles to edit it")  # fmt: skip
        if self._b.modes is not None and self._b.modes.mixed:
            raise InputError(
                "a study whose categories are reached by several travel modes ("
                + ", ".join(f"{c} {m}" for c, m in self._b.modes.of.items())
                + ") gives its result but cannot be edited", column="--mode",
                hint="build one study per travel mode to edit (each category's mode: "
                "--mode CATEGORY=MODE, or a catalogue's [[travel]] rules)")  # fmt: skip
        if not isinstance(edit, dict) or edit.get("op") != "together":
            edit = self._checked(edit)  # the parts of a compound edit are checked in turn
        elif not isinstance(edit.get("edits"), list) or not edit["edits"]:
            raise InputError("a compound edit needs its list of edits", column="edits",
                             hint="give edits = [ … ]")  # fmt: skip
        change, inverse = self._run_with_inverse(edit)
        self._done.append((edit, inverse))
        self._undone.clear()
        return change

    def _run_with_inverse(self, edit: dict) -> tuple[Change, dict]:
        if edit["op"] != "together":
            inverse = self._inverse(edit)
            return self._run(edit), inverse
        change = self._run(edit)
        return change, self._together_inverse

    def _run(self, edit: dict) -> Change:
        t = time.perf_counter()
        before = self._indicators()
        if edit["op"] not in ("set_minutes", "set_speed"):  # the pairs change: searched anew
            self._pair_cache.clear()
        touched = getattr(self, "_" + edit["op"])(edit)
        self._cached = None
        after = self._indicators(touched, people_only=edit["op"] in _RESIDENTS_EDITS)
        change = _change(edit, before, after, touched)
        change.seconds = time.perf_counter() - t
        return change

    def _position(self, facility_id) -> int:
        ids = self._fac()["facility_id"].astype(str).to_numpy()
        hit = np.flatnonzero(ids == str(facility_id))
        if not len(hit):
            raise InputError(f"no facility {facility_id!r} in the study", column="facility_id",
                             hint="use an id of study.facilities")  # fmt: skip
        return int(hit[0])

    def _category(self, name) -> str:
        cats = self._b.walk.categories
        if name not in cats:
            raise InputError(f"category {name!r} is not in the study", column="category",
                             hint=f"use one of {', '.join(cats)}")  # fmt: skip
        return name

    def _checked(self, edit: dict) -> dict:
        """The edit with its values checked (one-line errors, nothing changed)."""
        op = edit.get("op") if isinstance(edit, dict) else None
        if op not in EDITS:
            raise InputError(f"unknown edit {str(op)[:40]!r}", column="op",
                             hint=f"one of {', '.join(EDITS)}")  # fmt: skip
        out = dict(edit)
        if op in ("add_facility", "move_facility"):
            out["lon"] = check_number(edit["lon"], "lon", minimum=-180, maximum=180)
            out["lat"] = check_number(edit["lat"], "lat", minimum=-90, maximum=90)
        if op == "add_facility":
            self._category(edit["category"])
            fid = edit.get("facility_id")
            if fid is None:
                self._new_ids += 1
                fid = f"new-{self._new_ids}"
                while (self._fac()["facility_id"].astype(str) == fid).any():
                    self._new_ids += 1
                    fid = f"new-{self._new_ids}"
                out["facility_id"] = fid
            elif (self._fac()["facility_id"].astype(str) == str(fid)).any():
                raise InputError(f"facility id {fid!r} is already in the study",
                                 column="facility_id", hint="give a new id")  # fmt: skip
        if op in ("move_facility", "remove_facility", "update_facility"):
            self._position(edit["facility_id"])
        if op in ("add_facility", "update_facility"):
            skip = {"op", "category", "lon", "lat", "facility_id"}
            for k, v in edit.items():
                if k in skip:
                    continue
                if k not in FACILITY_ATTRIBUTES:
                    raise InputError(f"unknown facility attribute {k!r}", column=k,
                                     hint=f"use {', '.join(FACILITY_ATTRIBUTES)}")  # fmt: skip
                out[k] = _attribute(k, v)
            if op == "add_facility":
                out["facility_id"] = _text(out["facility_id"], "facility_id", 100)
            if "subtype" in edit or op == "add_facility":
                out["subtype"] = self._subtype(out)
        if op == "remove_facility":
            self._keeps_category(self._position(edit["facility_id"]))
        if op == "add_facility_file":
            out["file"], out["_rows"], out["_source"] = self._file_rows(edit.get("file"))
        if op == "add_residents":
            out |= self._checked_residents(edit)
        if op == "remove_residents":
            self._resident_position(edit["name"])
        if op == "set_minutes":
            self._category(edit["category"])
            out["minutes"] = check_number(edit["minutes"], "minutes", minimum=0.1, maximum=600)
        if op == "set_speed":
            out["speed_kmh"] = check_number(edit["speed_kmh"], "speed_kmh", minimum=0.5,
                                            maximum=150)  # fmt: skip
        return out

    def _file_rows(self, spec) -> tuple[dict, pd.DataFrame, tuple]:
        """A facility file to add, read and checked: (its spec with SHA-256, its rows as the
        facilities table holds them, (label, (FacilityInput, coordinate system, declared)))."""
        if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
            raise InputError("add_facility_file takes a file path", column="file",
                             hint="save the table as CSV/XLSX/GeoJSON and pass its path")
        item = FacilityInput(**{k: v for k, v in spec.items() if k != "sha256"})
        label = input_label(item.path)
        if label in self._files or label in {input_label(i.path) for i in self._base_items}:
            raise InputError("the file's facilities are in the study already", file=label,
                             hint="add another file, or remove facilities by id")  # fmt: skip
        if not Path(label).is_file():
            raise InputError("no such facility file", file=label, hint="check the path")
        digest = file_sha256(label)
        if spec.get("sha256") not in (None, digest):
            raise InputError("the facility file changed since the study was saved", file=label,
                             hint="restore the file, or add it again as a new edit")  # fmt: skip
        b = self._b
        read = read_facility_inputs([item], b.options["crs_in"], b.options["extra"] or ())
        fac = self._fac()
        taken = read["facility_id"].astype(str).isin(fac["facility_id"].astype(str))
        if taken.any():
            raise InputError(f"facility id {read['facility_id'][taken].iat[0]!r} is in the "
                             "study already", file=label, column="id",
                             hint="give the file's facilities ids of their own")  # fmt: skip
        unknown = sorted(set(read["category"]) - set(b.walk.categories))
        if unknown:
            raise InputError(f"the study has no {', '.join(unknown)} facilities to add to",
                             file=label, column="category",
                             hint="build a study with that category, or run coverage "
                             "with the file")  # fmt: skip
        crs, declared = read.attrs["crs_in"][label], read.attrs["crs_declared"][label]
        warn_datums(b.graph, [(label, "facilities", crs, read.geometry.to_numpy(), declared)],
                    b.options["strict"], b.options["network_shift"])  # fmt: skip
        rows = pd.DataFrame(read.drop(columns=read.geometry.name))
        rows["geometry"] = read.geometry.to_numpy()
        rows.attrs = {}
        return spec | {"sha256": digest}, rows, (label, (item, crs, declared))

    def _resident_position(self, name) -> int:
        ids = self._ids()
        hit = np.flatnonzero(ids == str(name))
        if not len(hit):
            raise InputError(f"no residents {name!r} in the study", column="name",
                             hint="use a name given to add_residents, or an id of the "
                             "residents input")  # fmt: skip
        if len(ids) == 1:
            raise InputError("the study's only residents cannot be removed", column="name",
                             hint="add others first")  # fmt: skip
        return int(hit[0])

    def _checked_residents(self, edit: dict) -> dict:
        """Name, geometry and population of residents to add, checked."""
        name = _text(edit["name"], "name", 200).strip()
        if not name or (self._ids() == name).any():
            raise InputError(f"residents name {name!r} is empty or already in the study",
                             column="name", hint="give a new name")  # fmt: skip
        if not isinstance(edit["wkt"], str) or len(edit["wkt"]) > 2_000_000:
            raise InputError(f"residents {name!r}: the geometry is not WKT text or is over 2 MB",
                             column="geometry", hint="give one polygon of at most 20,000 "
                             "vertices")  # fmt: skip
        try:
            geom = shapely.from_wkt(edit["wkt"])
        except shapely.errors.GEOSException as exc:
            raise InputError(f"residents {name!r}: not a geometry ({exc})", column="geometry",
                             hint="give a polygon or point in WGS84 lon/lat") from exc
        kind = shapely.get_type_id(geom)
        if geom is None or geom.is_empty or kind not in (0, 3, 6) or not geom.is_valid:
            raise InputError(f"residents {name!r}: not a valid polygon or point",
                             column="geometry", hint="give one polygon (or point) in WGS84 "
                             "lon/lat, without self-intersections")  # fmt: skip
        x0, y0, x1, y1 = geom.bounds
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise InputError(f"residents {name!r}: coordinates are not WGS84 lon/lat",
                             column="geometry", hint="give longitude, latitude in degrees")
        if self._study_area is None:
            study = shapely.union_all(self._b.src.boundaries.geometry.to_numpy())
            self._study_area = shapely.buffer(study, 50 / 111_000)
            shapely.prepare(self._study_area)
        if not shapely.intersects(self._study_area, geom):
            raise InputError(f"residents {name!r} lie outside the study's boundaries",
                             column="geometry", hint="place them inside the study area")
        if shapely.get_num_coordinates(geom) > 20_000:
            raise InputError(f"residents {name!r}: over 20,000 vertices", column="geometry",
                             hint="simplify the outline")  # fmt: skip
        to_m = self._transformer()
        area_km2 = shapely.area(shapely.transform(geom, lambda c: np.column_stack(
            to_m.transform(c[:, 0], c[:, 1])))) / 1e6  # fmt: skip
        if area_km2 > MAX_RESIDENTS_KM2:
            raise InputError(f"residents {name!r} cover {area_km2:,.1f} km², over "
                             f"{MAX_RESIDENTS_KM2:g} km² (spread on a 25 m grid)",
                             column="geometry", hint="give a district, or a new town as a "
                             "residents file when building the study")  # fmt: skip
        people, hh = edit.get("population"), edit.get("households")
        if (people is None) == (hh is None):
            raise InputError(f"residents {name!r}: give population or households (one)",
                             column="population", hint="e.g. population=6000")  # fmt: skip
        if people is None:
            people = check_number(hh, "households", minimum=0, maximum=10_000_000)
            people *= self._b.options["pph"]
        people = check_number(people, "population", minimum=0, maximum=50_000_000)
        return {"name": name, "wkt": shapely.to_wkt(geom), "population": float(people),
                "households": None}  # fmt: skip

    def _subtype(self, edit: dict) -> str | None:
        """The edit's subtype as an id of ``config/categories.toml`` (an id or alias given), or
        for a new facility without one what its name says — as a file would be read."""
        cat_id = (edit["category"] if edit["op"] == "add_facility"
                  else self._fac()["category"].iat[self._position(edit["facility_id"])])
        cat = known_categories(self._b.options["extra"]).get(cat_id)
        subs = cat.subtypes if cat else ()
        value = edit.get("subtype")
        if value is None and edit["op"] == "add_facility":
            return resolve_subtype(cat, [], str(edit.get("name") or ""), []) if subs else None
        text = str(value or "").strip().lower()
        hit = next((s.id for s in subs if text in (s.id.lower(), *s.aliases)), None)
        if hit is None:
            raise InputError(f"unknown subtype {value!r} for category {cat_id}", column="subtype",
                             hint=f"use one of {', '.join(s.id for s in subs)}" if subs
                             else "this category has no subtypes")  # fmt: skip
        return hit

    def _keeps_category(self, pos: int) -> None:
        fac = self._fac()
        cat = fac["category"].iat[pos]
        others = (fac["category"].to_numpy() == cat) & fac["snapped"].to_numpy(dtype=bool)
        others[pos] = False
        if not others.any():
            raise InputError(
                f"{fac['facility_id'].iat[pos]!r} is the last {cat} facility on "
                "the network; a study keeps every category it was built with",
                column="facility_id",
                hint="add another first, or build a study without the category",
            )

    def _inverse(self, edit: dict) -> dict:
        op = edit["op"]
        if op == "together":  # known once its parts are applied (_together)
            raise ValueError("the inverse of a compound edit comes from applying it")
        fac = self._fac()
        if op == "add_facility":
            return {"op": "remove_facility", "facility_id": edit["facility_id"]}
        if op in ("move_facility", "remove_facility", "update_facility"):
            pos = self._position(edit["facility_id"])
            if op == "move_facility":
                g = fac.geometry.iat[pos]
                return {"op": "move_facility", "facility_id": edit["facility_id"],
                        "lon": g.x, "lat": g.y}  # fmt: skip
            if op == "remove_facility":
                return {"op": "restore_facility", "row": fac.iloc[[pos]].copy(), "position": pos}
            keys = [k for k in edit if k not in ("op", "facility_id")]
            return {"op": "update_facility", "facility_id": edit["facility_id"],
                    **{k: (fac[k].iat[pos] if k in fac else None) for k in keys}}  # fmt: skip
        if op == "add_residents":
            return {"op": "remove_residents", "name": edit["name"]}
        if op == "remove_residents":
            pos = self._resident_position(edit["name"])
            return {"op": "restore_residents", "position": pos,
                    "row": self._residents().iloc[[pos]].copy()}  # fmt: skip
        if op == "restore_residents":
            return {"op": "remove_residents",
                    "name": edit["row"]["demand_id"].iat[0]}  # fmt: skip
        if op == "set_minutes":
            return {"op": "set_minutes", "category": edit["category"],
                    "minutes": self._b.walk.minutes[edit["category"]]}  # fmt: skip
        if op == "set_speed":
            return {"op": "set_speed", "speed_kmh": self.speed_kmh}
        if op == "restore_facility":
            return {"op": "remove_facility",
                    "facility_id": edit["row"]["facility_id"].iat[0]}  # fmt: skip
        if op == "add_facility_file":
            return {"op": "remove_facility_file", "label": edit["_source"][0],
                    "count": len(edit["_rows"])}  # fmt: skip
        raise ValueError(op)

    # ------------------------------------------------ edit kinds → categories touched
    def _add_facility(self, edit: dict) -> set[str]:
        row = self._new_row(edit)
        self._insert(row, len(self._fac()), require_snap=True)
        return {edit["category"]}

    def _restore_facility(self, edit: dict) -> set[str]:
        self._insert(edit["row"], edit["position"], require_snap=False)
        return {edit["row"]["category"].iat[0]}

    def _remove_facility(self, edit: dict) -> set[str]:
        pos = self._position(edit["facility_id"])
        cat = self._fac()["category"].iat[pos]
        self._delete(pos)
        return {cat}

    def _move_facility(self, edit: dict) -> set[str]:
        pos = self._position(edit["facility_id"])
        row = self._fac().iloc[[pos]].copy()
        row["geometry"] = [shapely.Point(edit["lon"], edit["lat"])]
        self._check_snaps(row)
        self._relocate(pos, row)
        return {row["category"].iat[0]}

    def _update_facility(self, edit: dict) -> set[str]:
        pos = self._position(edit["facility_id"])
        fac = self._fac()
        values = {k: v for k, v in edit.items() if k not in ("op", "facility_id")}
        cat = fac["category"].iat[pos]
        if "subtype" in values and values["subtype"] != fac["subtype"].iat[pos]:
            row = fac.iloc[[pos]].copy()
            for k, v in values.items():
                row[k] = [v]
            self._delete(pos)
            self._insert(row, pos, require_snap=False)
            return {cat}
        for k, v in values.items():
            if k not in fac:
                fac[k] = None if k in _TEXT_ATTRIBUTES else np.nan
            fac.iloc[pos, fac.columns.get_loc(k)] = v
        return {cat}

    def _add_facility_file(self, edit: dict) -> set[str]:
        rows = edit["_rows"]
        n = len(self._fac())
        for i in range(len(rows)):
            self._insert(rows.iloc[[i]], n + i, require_snap=False)
        label, source = edit["_source"]
        self._files[label] = source
        return set(rows["category"])

    def _remove_facility_file(self, edit: dict) -> set[str]:
        n = len(self._fac())
        cats = set(self._fac()["category"].iloc[n - edit["count"]:])
        for pos in range(n - 1, n - 1 - edit["count"], -1):
            self._delete(pos)
        self._files.pop(edit["label"])
        return cats

    def _together(self, edit: dict) -> set[str]:
        """Several edits as one (one Change, one undo); a refused part takes back the others."""
        done, touched = [], set()
        try:
            for i, part in enumerate(edit["edits"]):
                part = self._checked(part)
                edit["edits"][i] = part
                inverse = self._inverse(part)
                touched |= getattr(self, "_" + part["op"])(part)
                done.append(inverse)
        except InputError:
            for inverse in reversed(done):
                getattr(self, "_" + inverse["op"])(inverse)
            raise
        self._together_inverse = {"op": "together", "edits": done[::-1]}
        return touched

    def _add_residents(self, edit: dict) -> set[str]:
        row = {"demand_id": edit["name"], "name": edit["name"],
               "population": edit["population"], "population_from": "study edit",
               "source": "proposed district" if edit.get("proposal") else "study edit",
               "geometry": shapely.from_wkt(edit["wkt"])}  # fmt: skip
        self._insert_residents(row, len(self._ids()))
        return set(self._b.walk.categories)

    def _restore_residents(self, edit: dict) -> set[str]:
        row = edit["row"]
        values = {c: row[c].iat[0] for c in row.columns}
        self._insert_residents(values | {"geometry": row.geometry.iat[0]}, edit["position"])
        return set(self._b.walk.categories)

    def _remove_residents(self, edit: dict) -> set[str]:
        self._delete_residents(self._resident_position(edit["name"]))
        return set(self._b.walk.categories)

    def _set_minutes(self, edit: dict) -> set[str]:
        b, cat = self._b, edit["category"]
        b.walk.minutes[cat] = float(edit["minutes"])
        b.options["category_minutes"][cat] = float(edit["minutes"])
        self._new_limit(cat)
        return {cat}

    def _set_speed(self, edit: dict) -> set[str]:
        b = self._b
        costs = b.graph.costs
        if costs is not None and float(edit["speed_kmh"]) != costs.speed_kmh:
            raise InputError(
                f"this study's travel times ({minutes_note(costs)}) were made at "
                f"{costs.speed_kmh:g} km/h; they are not rescaled by a new walking speed",
                column="speed_kmh",
                hint="build the study again with the new speed",
            )
        b.options["speed_kmh"] = float(edit["speed_kmh"])
        b.options["metres"] = ct.minutes_to_metres(b.options["minutes"], b.options["speed_kmh"])
        for cat in b.walk.categories:
            self._new_limit(cat)
        return set(b.walk.categories)

    # ------------------------------------------------ the engine state, kept exact
    def _arrays(self):
        if self._graph_arrays is None:
            self._graph_arrays = repair.GraphArrays.of(self._b.graph, self._b.eng.demand_snap)
        return self._graph_arrays

    def _new_row(self, edit: dict) -> gpd.GeoDataFrame:
        fac = self._fac()
        values = {c: (None if fac[c].dtype == object else np.nan) for c in fac.columns}
        values |= {
            "facility_id": edit["facility_id"],
            "category": edit["category"],
            "name": edit.get("name") or edit["facility_id"],
            "subtype": None,
            "input": "(study edit)",
            "source": "study edit",
            "area_from": "input",
        }
        values |= {k: v for k, v in edit.items() if k in FACILITY_ATTRIBUTES}
        values["geometry"] = shapely.Point(edit["lon"], edit["lat"])
        row = pd.DataFrame({k: [values[k]] for k in fac.columns})
        self._check_snaps(row)
        return row

    def _transformer(self) -> pyproj.Transformer:
        """WGS84 → the graph's metric CRS, as ``to_crs`` transforms (kept: made once)."""
        if self._to_metric is None:
            self._to_metric = pyproj.Transformer.from_crs(4326, self._b.graph.crs,
                                                          always_xy=True)  # fmt: skip
        return self._to_metric

    def _metric(self, row: pd.DataFrame) -> np.ndarray:
        """The row's point in the graph's metric CRS."""
        g = row["geometry"].iat[0]
        return shapely.points([self._transformer().transform(g.x, g.y)])

    def _areas(self) -> np.ndarray:
        if self._areas_m is None:
            self._areas_m = self._b.src.boundaries.to_crs(self._b.graph.crs).geometry.to_numpy()
        return self._areas_m

    def _check_snaps(self, row: pd.DataFrame) -> None:
        limit = self._b.options["max_snap_m"]
        if not snap_points(self._b.graph, self._metric(row), limit).ok[0]:
            g = row["geometry"].iat[0]
            raise InputError(f"lon {g.x:.6f}, lat {g.y:.6f} lies farther than {limit:g} m from "
                             "every street of the network", column="lon/lat",
                             hint="place the facility beside a street")  # fmt: skip

    def _insert(self, row: pd.DataFrame, pos: int, *, require_snap: bool) -> None:
        """Put ``row`` (one facility, WGS84) at ``pos`` and update every search it joins."""
        b = self._b
        eng, dem, fac = b.eng, b.dem, self._fac()
        pt = self._metric(row)
        snap = snap_points(b.graph, pt, b.options["max_snap_m"])
        areas = self._areas()
        area = st.facility_areas(pt, areas)
        row = row.copy()
        row["district_id"] = [b.src.boundaries["district_id"].iat[area[0]] if area[0] >= 0
                              else None]  # fmt: skip
        row["snapped"] = [bool(snap.ok[0])]
        repair.shift_facilities(eng, pos, +1)
        eng.facility_snap = repair.insert_snap(eng.facility_snap, pos, snap)
        eng.facility_ok = eng.facility_snap.ok
        eng.catchments = np.insert(eng.catchments, pos, None)
        dem.facility_area = np.insert(dem.facility_area, pos, area[0])
        dem.outside_facilities += int(area[0] < 0)
        self._table = pd.concat([fac.iloc[:pos], row, fac.iloc[pos:]], ignore_index=True)
        b.walk.groups = st.subtype_groups(self._table, b.stds, b.walk.limits)
        if snap.ok[0]:
            self._join(pos)

    def _relocate(self, pos: int, row: pd.DataFrame) -> None:
        """Facility ``pos`` to ``row``'s point (WGS84), in place: it leaves its searches and
        joins them from there; no other facility's index moves."""
        b = self._b
        eng, dem = b.eng, b.dem
        if eng.facility_ok[pos]:
            self._leave(pos)
        repair.drop_pairs_of(eng, pos)
        pt = self._metric(row)
        snap = snap_points(b.graph, pt, b.options["max_snap_m"])
        area = int(st.facility_areas(pt, self._areas())[0])
        dem.outside_facilities += int(area < 0) - int(dem.facility_area[pos] < 0)
        eng.facility_snap = repair.replace_snap(eng.facility_snap, pos, snap)
        eng.facility_ok = eng.facility_snap.ok
        eng.catchments = eng.catchments.copy()  # an earlier result keeps its own arrays
        eng.catchments[pos] = None
        dem.facility_area = dem.facility_area.copy()
        dem.facility_area[pos] = area
        fac = self._fac()
        col = fac.columns.get_loc
        fac.iat[pos, col("geometry")] = row["geometry"].iat[0]
        fac.iat[pos, col("district_id")] = (b.src.boundaries["district_id"].iat[area]
                                            if area >= 0 else None)  # fmt: skip
        fac.iat[pos, col("snapped")] = bool(snap.ok[0])
        self._fac_arrays = None
        if snap.ok[0]:
            self._join(pos)

    def _delete(self, pos: int) -> None:
        """Take facility ``pos`` out of every search, then out of the tables."""
        b = self._b
        eng, dem, fac = b.eng, b.dem, self._fac()
        if eng.facility_ok[pos]:
            self._leave(pos)
        repair.drop_pairs_of(eng, pos)
        dem.outside_facilities -= int(dem.facility_area[pos] < 0)
        repair.shift_facilities(eng, pos, -1)
        eng.facility_snap = repair.delete_snap(eng.facility_snap, pos)
        eng.facility_ok = eng.facility_snap.ok
        eng.catchments = np.delete(eng.catchments, pos)
        dem.facility_area = np.delete(dem.facility_area, pos)
        self._table = fac.drop(index=fac.index[pos]).reset_index(drop=True)
        b.walk.groups = st.subtype_groups(self._table, b.stds, b.walk.limits)

    def _insert_residents(self, row: dict, pos: int) -> None:
        """Residents feature ``row`` (column → value, ``geometry`` WGS84) at ``pos``: spread,
        snapped, searched; its rows in the residents and demand frames are made when asked."""
        b = self._b
        eng, dem, graph = b.eng, b.dem, b.graph
        self._parts()  # the groups as built, before the points move
        tr = self._transformer()  # as to_crs transforms, without a frame
        geo = shapely.transform(np.array([row["geometry"]]),
                                lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        spread = st.spread_over(geo, np.array([row["population"]], dtype=float), graph,
                                dem.homes, dem.spread)  # fmt: skip
        area = st.demand_areas(spread.points, self._areas())
        snap = snap_points(graph, spread.points, b.options["max_snap_m"])
        q, m = int(np.searchsorted(dem.owner, pos)), len(spread.points)
        repair.shift_demand(eng, q, m)
        dem.owner = np.insert(np.where(dem.owner >= pos, dem.owner + 1, dem.owner), q,
                              np.full(m, pos))  # fmt: skip
        for name in ("points", "cells", "area"):
            new = {"points": spread.points, "cells": spread.cells, "area": area}[name]
            setattr(dem, name, np.insert(getattr(dem, name), q, new))
        dem.polygons = np.insert(dem.polygons, pos, geo[0])
        eng.demand_snap = repair.insert_snaps(eng.demand_snap, q, snap)
        eng.demand_ok = eng.demand_snap.ok
        for key, near in eng.node.items():
            d, w = ct.demand_distances(graph, near, snap, eng.facility_snap,
                                       members=self._members(key))  # fmt: skip
            eng.distance_m[key] = np.insert(eng.distance_m[key], q, d)
            eng.nearest[key] = np.insert(eng.nearest[key], q, w)
        self._pairs_to_new(snap, spread.points, q)
        self._insert_groups(row, spread.population, area, q)
        self._people = np.insert(self._people_now(), q, spread.population)
        self._frame_ops.append(("insert", q, row, spread))
        self._res_ops.append(("insert", pos, row))
        self._res_ids = np.insert(self._ids(), pos, str(row["demand_id"]))
        self._graph_arrays = None

    def _pairs_to_new(self, snap, points: np.ndarray, q: int) -> None:
        """Each category's (demand, facility, metres) pairs within its threshold for new
        demand points (``points``, metric, inserted at ``q``): one bounded search from the
        facilities that may reach them, split by category and threshold."""
        b = self._b
        eng, (cats, fxy) = b.eng, self._facility_arrays()
        if not snap.ok.any():
            return
        xy = shapely.get_coordinates(points)
        limits = np.array([b.walk.limits.get(c, -1.0) for c in cats])
        reach = limits / b.graph.least_cost_per_m  # straight-line metres those costs reach
        sel = np.flatnonzero(eng.facility_ok & (limits >= 0)
                             & _within(fxy, xy, float(reach.max(initial=0.0)), reach))
        if not len(sel):
            return
        di, fj, d = ct.facility_demand_pairs(b.graph, eng.facility_snap.take(sel), snap,
                                             float(limits[sel].max()))  # fmt: skip
        fj = sel[fj]
        for cat in b.walk.categories:
            keep = (cats[fj] == cat) & (d <= b.walk.limits[cat])
            if keep.any():
                old = eng.pairs[cat]
                eng.pairs[cat] = (np.concatenate([old[0], di[keep] + q]),
                                  np.concatenate([old[1], fj[keep]]),
                                  np.concatenate([old[2], d[keep]]))  # fmt: skip

    def _delete_residents(self, pos: int) -> None:
        """Residents feature ``pos`` and its demand points out of every search and table."""
        b = self._b
        eng, dem = b.eng, b.dem
        parts = self._parts()  # the groups as built, before the points move
        block = np.flatnonzero(dem.owner == pos)
        q, m = int(block[0]) if len(block) else int(np.searchsorted(dem.owner, pos)), len(block)
        repair.drop_demand(eng, q, m)
        keep = np.ones(len(dem.owner), dtype=bool)
        keep[q:q + m] = False
        dem.owner = np.where(dem.owner > pos, dem.owner - 1, dem.owner)[keep]
        dem.points, dem.cells, dem.area = dem.points[keep], dem.cells[keep], dem.area[keep]
        dem.polygons = np.delete(dem.polygons, pos)
        eng.demand_snap = eng.demand_snap.take(keep)
        eng.demand_ok = eng.demand_snap.ok
        for key in eng.distance_m:
            eng.distance_m[key] = eng.distance_m[key][keep]
            eng.nearest[key] = eng.nearest[key][keep]
        self._group_parts = {g: (a[keep], s[keep]) for g, (a, s) in parts.items()}
        self._people = self._people_now()[keep]
        self._frame_ops.append(("delete", q, m))
        self._res_ops.append(("delete", pos))
        self._res_ids = np.delete(self._ids(), pos)
        self._graph_arrays = None

    def _ids(self) -> np.ndarray:
        """The residents' ids (``demand_id`` as text), in the residents frame's order."""
        if self._res_ids is None:
            self._res_ids = self._b.src.residents["demand_id"].astype(str).to_numpy(dtype=object)
        return self._res_ids

    def _residents(self) -> gpd.GeoDataFrame:
        """The residents frame (WGS84) brought up to date with the residents edits."""
        b = self._b
        if self._res_ops:
            res = b.src.residents
            attrs, geom = dict(res.attrs), res.geometry.name
            frame = pd.DataFrame(res)
            for op in self._res_ops:
                pos = op[1]
                if op[0] == "insert":
                    row = pd.DataFrame(self._resident_row(op[2]))
                    frame = pd.concat([frame.iloc[:pos], row, frame.iloc[pos:]],
                                      ignore_index=True)  # fmt: skip
                else:
                    frame = frame.drop(index=frame.index[pos]).reset_index(drop=True)
            b.src.residents = gpd.GeoDataFrame(frame, geometry=geom, crs=4326)
            b.src.residents.attrs.update(attrs)
            self._res_ops.clear()
        return b.src.residents

    def _resident_row(self, row: dict) -> gpd.GeoDataFrame:
        """One residents feature (column → value, ``geometry`` WGS84) as a one-row frame
        with the residents frame's columns."""
        res = self._b.src.residents
        geom = res.geometry.name
        values = {c: [row.get(c)] for c in res.columns if c != geom}
        values[geom] = [row["geometry"]]
        return gpd.GeoDataFrame(values, geometry=geom, crs=4326)[res.columns]

    def _people_now(self) -> np.ndarray:
        """Residents (persons) per demand point, kept with the edits."""
        if self._people is None:
            self._people = self._b.dem.frame["population"].to_numpy(dtype=float).copy()
        return self._people

    def _flush_demand(self) -> None:
        """The demand frame brought up to date with the residents edits (its rows are made
        only when a result is asked for; the searches work on arrays)."""
        b = self._b
        for op in self._frame_ops:
            frame = b.dem.frame
            if op[0] == "insert":
                _, q, values, spread = op
                row = self._resident_row(values)
                rows, _ = st.demand_rows(row, spread, b.graph, b.src.boundaries, self._areas())
                frame = pd.concat([frame.iloc[:q], rows, frame.iloc[q:]], ignore_index=True)
            else:
                _, q, m = op
                frame = pd.concat([frame.iloc[:q], frame.iloc[q + m:]], ignore_index=True)
            b.dem.frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)
        self._frame_ops.clear()

    def _facility_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The facilities' categories and their points' x/y (metres, the graph's CRS), kept
        while the table is the same (a move forgets them)."""
        fac = self._fac()
        if self._fac_arrays is None or self._fac_arrays[0] is not fac:
            g = fac["geometry"].to_numpy()
            x, y = self._transformer().transform(shapely.get_x(g), shapely.get_y(g))
            self._fac_arrays = (fac, fac["category"].to_numpy(), np.column_stack([x, y]))
        return self._fac_arrays[1], self._fac_arrays[2]

    def _keys_of(self, pos: int) -> list[str]:
        """The searches facility ``pos`` takes part in: its category and subtype groups."""
        b = self._b
        cat = self._fac()["category"].iat[pos]
        return [cat, *[k for k, m in b.walk.groups.items() if m[pos]]]

    def _members(self, key: str) -> np.ndarray:
        b = self._b
        if key in b.walk.groups:
            return np.flatnonzero(b.walk.groups[key])
        return np.flatnonzero(self._facility_arrays()[0] == key)

    def _join(self, pos: int) -> None:
        """Facility ``pos`` (in the tables, snapped) joins its searches."""
        b, ga = self._b, self._arrays()
        eng = b.eng
        cat = self._fac()["category"].iat[pos]
        for key in self._keys_of(pos):
            if key not in eng.node:  # the group's first member: one search for the group
                repair.search_key(eng, b.graph, key, self._members(key))
                continue
            changed = repair.grow(eng.node[key], ga, ct.facility_links(b.graph, eng.facility_snap,
                                                                  np.array([pos])))  # fmt: skip
            repair.refresh_demand(eng, b.graph, ga, key, self._members(key), changed,
                                  eng.facility_snap.edge[[pos]])  # fmt: skip
        repair.add_pairs(eng, b.graph, cat, np.array([pos]), b.walk.limits[cat], ga)

    def _leave(self, pos: int) -> None:
        """Facility ``pos`` leaves its searches (it stays in the tables for now)."""
        b, ga = self._b, self._arrays()
        eng = b.eng
        for key in self._keys_of(pos):
            members = self._members(key)
            members = members[members != pos]
            if key in b.walk.groups and not len(members):  # the group's last member
                for d in (eng.node, eng.distance_m, eng.nearest):
                    d.pop(key, None)
                continue
            changed = repair.vacate(eng.node[key], ga, b.graph, eng.facility_snap, pos, members)
            repair.refresh_demand(eng, b.graph, ga, key, members, changed,
                                  eng.facility_snap.edge[[pos]])  # fmt: skip

    def _new_limit(self, cat: str) -> None:
        """A category's threshold changed: its limit, 2SFCA pairs and catchments. The pairs
        of the widest threshold searched since the last facility or residents edit are kept:
        a threshold within it is a filter of them (the same pairs, the same metres), not a
        search."""
        b = self._b
        old = b.walk.limits[cat]
        limit = ct.minutes_to_metres(b.walk.minutes[cat], b.options["speed_kmh"])
        b.walk.limits[cat] = limit
        widest, pairs = self._pair_cache.get(cat) or (old, b.eng.pairs[cat])
        sel = np.flatnonzero(self._fac()["category"].to_numpy() == cat)
        if limit <= widest:
            keep = pairs[2] <= limit
            b.eng.pairs[cat] = tuple(x[keep] for x in pairs)
        else:
            b.eng.pairs[cat] = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
            repair.add_pairs(b.eng, b.graph, cat, sel, limit)
            widest, pairs = limit, b.eng.pairs[cat]
        self._pair_cache[cat] = (widest, pairs)
        b.eng.catchments[sel] = None

    # ------------------------------------------------ indicators for the change
    def _indicators(self, cats: set[str] | None = None, people_only: bool = False) -> dict:
        """Per category: covered, share, per district covered, standards rows, underserved —
        for ``cats`` (default all), kept between edits for the others. With ``people_only``
        (a residents edit) the standards counting facilities alone keep their rows while the
        areas with residents stay the same."""
        if self._state is None:
            self._state = {}
            cats = set(self._b.walk.categories)
        if cats:
            people = self._people_now() * self._b.eng.demand_ok
            kept = self._kept_standards(people, people_only)
            served = self._served()
            rows, access = self._evaluate(cats, kept, people, served)
            ratios = {k: np.array([r.get(k, np.nan) for r in rows], dtype=object)
                      for k in ("category", "standard", "district_id", "value", "met",
                                "gap")}  # fmt: skip
            for c in cats:
                mine = ratios["category"] == c
                standards = {k: v for k, v in self._state.get(c, {}).get("standards", {}).items()
                             if k[0] in kept} | dict(zip(
                    zip(ratios["standard"][mine], ratios["district_id"][mine], strict=True),
                    zip(ratios["value"][mine], ratios["met"][mine], ratios["gap"][mine],
                        strict=True), strict=True))  # fmt: skip
                self._state[c] = self._reach_state(c, access, people, served) | {
                    "standards": standards}
        return {c: dict(v) for c, v in self._state.items()} | {"_districts": self._area_ids()}

    def _kept_standards(self, people: np.ndarray, people_only: bool) -> set[str]:
        """Standards whose rows a residents edit leaves as they are: those counting facilities
        alone, while the areas with residents stay the same."""
        b, area = self._b, self._b.dem.area
        inside = area >= 0
        present = np.bincount(area[inside], weights=people[inside],
                              minlength=len(b.src.boundaries)) > 0  # fmt: skip
        same = people_only and np.array_equal(present, self._present)
        self._present = present
        return {s.id for s in b.stds if s.metric in _FACILITY_SIDE} if same else set()

    def _evaluate(self, cats: set[str], kept: set[str], people: np.ndarray, served: dict):
        """Rows and 2SFCA accessibility of the standards of ``cats`` not ``kept``."""
        b, fac, dem, eng = self._b, self._fac(), self._b.dem, self._b.eng
        pairs = {c: Pairs(*eng.pairs[c], b.walk.limits[c]) for c in b.walk.categories}
        stds = [s for s in b.stds if s.category in cats and s.id not in kept]
        fac["snapped"] = eng.facility_ok
        return evaluation_rows(stds, StandardsInput(
            facilities=fac, facility_area=dem.facility_area, area_ids=self._area_ids(),
            area_names=b.src.boundaries["name"].to_numpy(), demand_area=dem.area,
            people=people, distance_m=dict(eng.distance_m), pairs=pairs,
            persons_per_household=b.options["pph"],
            area_level=b.src.boundaries.attrs.get("level", "district"),
            served=served, modes=dict(b.modes.of) if b.modes else {},
            **b.options["where"]))  # fmt: skip

    def _reach_state(self, c: str, access: dict, people: np.ndarray, served: dict) -> dict:
        """Category ``c``'s covered residents (study area and per area) and persons of the
        group it serves, underserved persons of that group and the masks :meth:`reach`
        draws from."""
        b, area = self._b, self._b.dem.area
        inside = area >= 0
        take = (lambda x: x) if inside.all() else (lambda x: x[inside])
        area_in, people_in, total = take(area), take(people), people.sum()
        covered = b.eng.distance_m[c] <= b.walk.limits[c]
        in_reach = float(people[covered].sum())  # as coverage_stats
        counted = served.get(c, people)
        group = float(counted[covered].sum())
        far, short, _ = st.underserved_masks(c, covered, access, {s.id: s for s in b.stds},
                                             counted)  # fmt: skip
        counted_in = take(counted)
        return {"covered": in_reach, "share": float(in_reach / total) if total > 0 else np.nan,
                "group_covered": group, "group_share": float(group / counted.sum())
                if counted.sum() > 0 else np.nan,
                "districts": np.bincount(area_in, weights=people_in * take(covered),
                                         minlength=len(b.src.boundaries)),
                "no_facility": float((counted_in * take(far)).sum()),
                "below_standard": float((counted_in * take(short)).sum()),
                "masks": (far, short, covered & (people > 0))}  # fmt: skip

    def _served(self) -> dict[str, np.ndarray]:
        """Per category serving a group whose persons are known at every demand point with
        residents: those persons per point (0 off the network) — counted as a fresh run
        counts them (:func:`hzspatial.groups.group_counts`)."""
        b, pop, kept = self._b, self._people_now(), self._parts()
        out = {}
        for c in b.walk.categories:
            parts = kept.get(served_group(c).id)
            if parts is None:
                continue
            persons = np.where(np.isfinite(parts[0]), parts[0], pop * parts[1])
            if not (~np.isfinite(persons) & (pop > 0)).any():
                out[c] = np.where(np.isfinite(persons), persons, 0.0) * b.eng.demand_ok
        return out

    def _parts(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per group the study's categories serve: persons from the input's age columns (NaN
        where none) and the census share of the area, per demand point (made from the
        demand frame as built, then kept with the residents edits)."""
        b = self._b
        if self._group_parts is None:
            self._group_parts = {}
            for gid in {served_group(c).id for c in b.walk.categories} - {ALL}:
                col = f"group_{gid}"
                given = (b.dem.frame[col].to_numpy(dtype=float) if col in b.dem.frame
                         else np.full(len(b.dem.frame), np.nan))  # fmt: skip
                self._group_parts[gid] = (given, self._census_share(gid, b.dem.area))
        return self._group_parts

    def _insert_groups(self, row: dict, population: np.ndarray, area: np.ndarray,
                       q: int) -> None:  # fmt: skip
        """The group parts of a residents feature's new demand points (``population``
        persons each, in areas ``area``), inserted at ``q``: its age-group persons shared
        out as its residents are, else the census share of each point's area."""
        total = float(row["population"] or 0.0)
        for gid, (given, share) in self._group_parts.items():
            value = row.get(f"group_{gid}")
            mine = (np.full(len(population), np.nan) if value is None or pd.isna(value)
                    else float(value) * (population / total if total > 0 else 0.0))
            self._group_parts[gid] = (np.insert(given, q, mine),
                                      np.insert(share, q, self._census_share(gid, area)))

    def _census_share(self, gid: str, area: np.ndarray) -> np.ndarray:
        """The census share of group ``gid`` at points in areas ``area`` (NaN unknown)."""
        if gid not in self._area_shares:  # per boundary area, read once
            self._area_shares[gid] = census_shares(builtin_groups()[gid], self._area_ids())[0]
        shares = self._area_shares[gid]
        return np.where(area >= 0, shares[np.maximum(area, 0)], np.nan)

    def _area_ids(self) -> np.ndarray:
        """The boundary areas' ids, in their order (they do not change with edits)."""
        if self._ids_of_areas is None:
            self._ids_of_areas = self._b.src.boundaries["district_id"].to_numpy()
        return self._ids_of_areas


def _status(far: np.ndarray, short: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Per demand point: :data:`REACH_NONE` where ``far``, else :data:`REACH_BELOW` where
    ``short``, else :data:`REACH_COVERED` where ``covered``, else :data:`REACH_NOT_COUNTED`."""
    out = np.full(len(far), REACH_NOT_COUNTED, dtype=np.int8)
    out[covered] = REACH_COVERED
    out[short] = REACH_BELOW
    out[far] = REACH_NONE
    return out


def _change(edit: dict, before: dict, after: dict, touched: set[str]) -> Change:
    """The :class:`Change` between two indicator states, for the touched categories."""
    shown = {k: v for k, v in edit.items() if k != "row"}
    if "edits" in shown:
        shown["edits"] = [{k: v for k, v in e.items() if k != "row"} for e in shown["edits"]]
    ch = Change(edit=shown)
    ids = after["_districts"]
    std_rows, dist_rows = [], []
    for c in sorted(touched):
        b, a = before[c], after[c]
        ch.categories[c] = {"covered_before": b["covered"], "covered_after": a["covered"],
                            "share_before": b["share"], "share_after": a["share"]}  # fmt: skip
        ch.underserved[c] = {k: (b[k], a[k]) for k in ("no_facility", "below_standard")}
        for i in np.flatnonzero(b["districts"] != a["districts"]):
            dist_rows.append({"district_id": ids[i], "category": c,
                              "covered_before": b["districts"][i],
                              "covered_after": a["districts"][i]})  # fmt: skip
        for key in sorted(set(b["standards"]) | set(a["standards"]), key=str):
            vb = b["standards"].get(key, (np.nan, None, np.nan))
            va = a["standards"].get(key, (np.nan, None, np.nan))
            if not _same(vb, va):
                std_rows.append({"standard": key[0], "district_id": key[1],
                                 "value_before": vb[0], "value_after": va[0],
                                 "met_before": vb[1], "met_after": va[1],
                                 "gap_before": vb[2], "gap_after": va[2]})  # fmt: skip
    ch.standards = pd.DataFrame(std_rows, columns=["standard", "district_id", "value_before",
                                                   "value_after", "met_before", "met_after",
                                                   "gap_before", "gap_after"])  # fmt: skip
    ch.districts = pd.DataFrame(dist_rows, columns=["district_id", "category", "covered_before",
                                                    "covered_after"])  # fmt: skip
    return ch


#: Options a saved study keeps, as ``hzspatial batch`` names them (None: not a batch key).
_BATCH_KEYS = {"minutes": "minutes", "speed_kmh": "speed_kmh", "category_minutes": "thresholds",
               "standards": "standards", "crs_in": "crs_in", "network_crs": "network_crs",
               "facilities_crs": "facilities_crs", "population_crs": "population_crs",
               "boundaries_crs": "boundaries_crs", "boundary_level": "boundary_level",
               "strict": "strict", "category_map": "category_map", "area": "area",
               "exclude_facilities": "remove_facilities", "require_standards":
               "require_standards", "snap_rules": "snap_rules", "spread": "spread",
               "population_total": "population_total", "age_rasters": "age_rasters",
               "control_totals": "control_totals", "mode": "mode", "dem": "dem",
               "category_modes": "modes"}  # fmt: skip


def _file(value, role: str) -> dict:
    if not isinstance(value, str | Path) or not Path(value).is_file():
        raise InputError(f"the study's {role} is not a file: a study built from frames or "
                         "graphs cannot be saved", column=role,
                         hint="build the study from files to save it")  # fmt: skip
    p = Path(value).resolve()
    return {"path": str(p), "sha256": file_sha256(p)}


def _age_files(value) -> list:
    """``age_rasters`` as a list of paths (a folder stays one)."""
    return [value] if isinstance(value, str | Path) else list(value)


def _saved_inputs(inputs: dict) -> dict:
    """The study's inputs as JSON: files with their SHA-256, options as given."""
    out = {"network": _file(inputs["network"], "network"),
           "population": _file(inputs["population"], "population"),
           "boundaries": None if inputs.get("boundaries") is None
           else _file(inputs["boundaries"], "boundaries"), "facilities": []}  # fmt: skip
    for item in inputs["facilities"]:
        item = item if isinstance(item, FacilityInput) else FacilityInput(item)
        entry = _file(item.path, "facilities")
        entry |= {k: getattr(item, k) for k in ("category", "columns", "crs", "category_map",
                                                "sheet", "header_row")
                  if getattr(item, k) is not None}  # fmt: skip
        out["facilities"].append(entry)
    options = {}
    for key, value in inputs.items():
        if key in ("network", "population", "boundaries", "facilities") or value in (None, ()):
            continue
        if key not in _BATCH_KEYS:
            raise InputError(f"the study's option {key!r} cannot be saved", column=key,
                             hint="build the study without it to save it")  # fmt: skip
        if key in ("snap_rules", "dem"):
            value = _file(value, key)["path"]
        if key == "age_rasters":  # a folder, or files
            value = [str(Path(v).resolve()) for v in _age_files(value)]
        if key == "standards" and Path(str(value)).is_file():
            value = str(Path(value).resolve())
        options[key] = list(value) if isinstance(value, tuple | list) else value
    out["options"] = options
    return out


def _opened_inputs(saved: dict, label: str) -> dict:
    """Keyword arguments of :class:`Study` from saved inputs, each file checked unchanged."""

    def check(entry):
        p = Path(entry["path"])
        if not p.is_file():
            raise InputError("an input of the saved study is missing", file=str(p),
                             where=label, hint="put the file back where it was")  # fmt: skip
        if file_sha256(p) != entry["sha256"]:
            raise InputError("an input of the saved study changed since it was saved",
                             file=str(p), where=label,
                             hint="restore the file, or build a new study")  # fmt: skip
        return str(p)

    kw = {"network": check(saved["network"]), "population": check(saved["population"]),
          "boundaries": None if saved["boundaries"] is None else check(saved["boundaries"]),
          "facilities": [FacilityInput(check(f), **{k: v for k, v in f.items()
                                                    if k not in ("path", "sha256")})
                         for f in saved["facilities"]]}  # fmt: skip
    return kw | saved.get("options", {})


def _plain_item(item: FacilityInput) -> dict:
    """A facility file input as JSON (its path as text; options given)."""
    if not isinstance(item.path, str | Path):
        raise InputError("add_facility_file takes a file path", column="file",
                         hint="save the table as CSV/XLSX/GeoJSON and pass its path")
    out = {"path": str(item.path)}
    for key in ("category", "columns", "crs", "category_map", "sheet", "header_row"):
        value = getattr(item, key)
        if value is not None:
            out[key] = dict(value) if isinstance(value, dict) else value
    return out


def _plain_edit(edit: dict) -> dict:
    """An edit as JSON (a compound edit's parts too)."""
    out = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in edit.items()
           if not k.startswith("_")}
    if "edits" in out:
        out["edits"] = [_plain_edit(e) for e in out["edits"]]
    return out


def _toml(value) -> str:
    """A TOML value: strings as JSON writes them (a valid TOML basic string), lists, tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}"
                                for k, v in value.items()) + " }"  # fmt: skip
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _scenario_toml(saved: dict, minutes: dict, speed_kmh: float, residents: bool) -> str:
    """A ``hzspatial batch`` scenarios file: the study as built, and as edited."""
    defaults = {"network": saved["network"]["path"], "population": saved["population"]["path"],
                **({"boundaries": saved["boundaries"]["path"]} if saved["boundaries"] else {}),
                "facilities": [{k: v for k, v in f.items() if k != "sha256"}
                               for f in saved["facilities"]]}  # fmt: skip
    defaults |= {_BATCH_KEYS[k]: v for k, v in saved["options"].items()}
    edited = {"name": "edited", "facilities": [{"path": "study_facilities.csv", "crs": "wgs84"}],
              "thresholds": minutes, "speed_kmh": speed_kmh, "remove_facilities": []}
    if residents:
        edited |= {"population": "study_residents.geojson", "population_crs": "wgs84"}
    lines = ["# hzspatial study, saved: the study as built and as edited, as a batch file",
             "# (hzspatial batch scenario.toml --out …). Paths are absolute or beside this file.",
             "[defaults]", 'baseline = "as built"']  # fmt: skip
    lines += [f"{k} = {_toml(v)}" for k, v in defaults.items()]
    lines += ["", "[[scenario]]", 'name = "as built"', "", "[[scenario]]"]
    lines += [f"{k} = {_toml(v)}" for k, v in edited.items()]
    return "\n".join(lines) + "\n"


#: Largest area (km²) of residents added by an edit: ~50,000 points on the 25 m area grid.
MAX_RESIDENTS_KM2 = 30.0
#: Highest value a numeric facility attribute may take (a build year: 2100).
_ATTRIBUTE_MAX = {"built": 2100.0}


def _text(value, column: str, longest: int) -> str:
    """User text for ids and names: a string (whole numbers accepted), without control
    characters, at most ``longest`` characters."""
    if isinstance(value, bool) or not isinstance(value, str | int | np.integer):
        raise InputError(f"{column} must be text (got {type(value).__name__})", column=column,
                         hint="give a name or id as text")  # fmt: skip
    text = str(value)
    if len(text) > longest or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InputError(f"{column} is over {longest} characters or holds control characters",
                         column=column, hint="give a short name on one line")  # fmt: skip
    return text


def _attribute(key: str, value):
    """A facility attribute checked: numbers finite and ≥ 0, flags true / false / None,
    names and subtypes text."""
    if value is None:
        return None
    if key in ("inclusive", "planned"):
        if not isinstance(value, bool | np.bool_):
            raise InputError(f"{key} must be true or false (got {value!r})", column=key,
                             hint="e.g. inclusive=True")  # fmt: skip
        return bool(value)
    if key in ("name", "subtype"):
        return _text(value, key, 200)
    return check_number(value, key, minimum=0, strict=False,
                        maximum=_ATTRIBUTE_MAX.get(key, 1e9))  # fmt: skip


def _within(a: np.ndarray, b: np.ndarray, limit_m: float,
            limits: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """For each point of ``a`` (x, y metres), whether some point of ``b`` lies within
    ``limit_m`` (or its own ``limits``, each ≤ ``limit_m``) in a straight line — no walk is
    shorter, so no farther facility can pair."""
    if not len(b) or not len(a):
        return np.zeros(len(a), dtype=bool)
    tree = shapely.STRtree(shapely.points(b))
    hit, other = tree.query(shapely.points(a), predicate="dwithin", distance=limit_m)
    if limits is not None:
        gap = np.hypot(*(a[hit] - b[other]).T)
        hit = hit[gap <= limits[hit]]
    out = np.zeros(len(a), dtype=bool)
    out[hit] = True
    return out


def _same(a: tuple, b: tuple) -> bool:
    def eq(x, y):
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            return True
        return x == y

    return all(eq(x, y) for x, y in zip(a, b, strict=True))
