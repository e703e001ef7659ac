"""One loaded study behind the workbench: edits in as JSON, the new figures out.

A :class:`Workbench` owns a :class:`~hzspatial.study.Study`, a ``version`` that every change
raises (an edit naming an older one is refused: :class:`EditConflict`), the baseline the page
compares with, the review of each proposal drawn, and a workspace folder — the only place it
writes (saved studies, proposals as files for the reviewer, exports). Nothing a request
carries is used as a path: names become folder names only after :func:`safe_name`.

Everything here is plain Python over the study (:mod:`hzspatial.workbench.app` puts HTTP
around it), so scripts and tests can drive a workbench without a server.
"""

from __future__ import annotations

import base64
import io
import math
import re
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from hzspatial import __version__
from hzspatial.errors import InputError, check_number
from hzspatial.io.facilities import known_categories
from hzspatial.maps.basemaps import basemaps
from hzspatial.network.costs import mode_words
from hzspatial.study import FACILITY_ATTRIBUTES, Study

__all__ = ["EditConflict", "NotFound", "Workbench", "safe_name"]

#: Decimal places of WGS84 degrees sent to the page (1e-6° ≈ 0.1 m).
DEGREE_DECIMALS = 6
#: Most street segments drawn on the page; a larger network is not drawn (a basemap shows
#: the streets), so that a city of a million nodes still opens in seconds.
MAX_STREETS = 150_000
#: The list of files the workbench wrote into a workspace folder (it replaces no other).
WRITTEN = ".hzspatial-written"
#: Longest facility or proposal name accepted from the page (characters).
MAX_NAME = 200
#: A saved study's or proposal's name: letters (any script), digits, space, ``_ . -``.
_NAME = re.compile(r"^[\w][\w .\-]{0,63}$")
#: Files a planner may upload: format → the suffix the workbench gives the copy it reads.
_UPLOAD_FORMATS = {"csv": ".csv", "xlsx": ".xlsx", "geojson": ".geojson"}
#: Coordinate systems an upload may be declared in (``io.facilities.read_facilities``).
_UPLOAD_CRS = ("wgs84", "cgcs2000", "gcj02", "bd09")


def _may_replace(path: Path) -> set[str]:
    """Refuse ``path`` when something the workbench did not write is there; the names it
    wrote in that folder (its :data:`WRITTEN` list)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ledger = path.parent / WRITTEN
    ours = set(ledger.read_text("utf-8").splitlines()) if ledger.is_file() else set()
    if (path.exists() or path.is_symlink()) and path.name not in ours:
        raise InputError(f"{path.name} in the workspace's {path.parent.name} folder was not "
                         "written by hzspatial", column="name", hint="give the proposal "
                         "another name, or move that file away")  # fmt: skip
    return ours


def _for_upload(text: str, path: Path, label: str) -> str:
    """A reader's message about an uploaded copy, as the planner knows it: the file's own
    name, and the page's coordinates choice where the command line's option is named."""
    return text.replace(str(path), label).replace("--facilities-crs", "坐标系 / Coordinates")


class EditConflict(Exception):
    """An edit made against an older version of the study than the current one."""

    def __init__(self, given: int, current: int):
        super().__init__(f"the study changed (version {current}, the edit was made on version "
                         f"{given}); reload and try again")  # fmt: skip
        self.current = current


class NotFound(Exception):
    """A facility, proposal, saved study or job that does not exist."""


def safe_name(value: Any, what: str) -> str:
    """A user-given name checked for use as a folder name inside the workspace."""
    text = str(value if value is not None else "").strip()
    if not _NAME.match(text) or text in (".", "..") or text.endswith("."):
        raise InputError(f"{what} name {text[:80]!r} is not allowed", column="name",
                         hint="use 1–64 letters, digits, spaces, '_', '.' or '-' (no '/')")
    return text


def _b64(values: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode()


def _num(v) -> float | None:
    """JSON number (NaN and infinities as None)."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else v


def _plain(v):
    """JSON-ready: NumPy scalars as Python ones, NaN as None."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return _num(v)
    return v


class Workbench:
    """A study kept loaded for the browser.

    Parameters
    ----------
    study : Study
        The study as built (its edits, if any, are the starting scenario).
    workspace : path
        Folder the workbench writes into (created): ``studies/`` (saved studies),
        ``proposals/`` (drawn districts, as GeoJSON), ``jobs/`` (siting runs), ``tmp/``.
    baseline : str
        What the comparison is against: ``"as built"`` (the study without its edits).

    Notes
    -----
    Every method that changes the study holds :attr:`lock`, checks ``version`` when given
    and raises it by one; a refused edit (:class:`~hzspatial.errors.InputError`) leaves the
    study and the version as they were.
    """

    def __init__(self, study: Study, workspace: str | Path):
        if len(set(study.modes.values())) > 1:  # before anything is written
            raise InputError(
                "the workbench edits a study of one travel mode; this one reaches "
                + ", ".join(f"{c} by {m}" for c, m in study.modes.items()),
                column="--mode", hint="serve one mode at a time (--mode car), or run the "
                "mixed modes as coverage or batch")  # fmt: skip
        self.workspace = Path(workspace).resolve()
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.version = 0
        self.points_version = 0
        self.reviews: dict[str, dict] = {}
        self._layers: dict | None = None
        self._summary: tuple[int, dict] | None = None
        self._aligned: tuple[int, dict] | None = None
        self._load(study)

    # ------------------------------------------------------------------ loading
    def _load(self, study: Study) -> None:
        """Take ``study``; the baseline is it without its edits."""
        redo = 0
        while study.undo() is not None:
            redo += 1
        self._baseline = self._snapshot(study)
        for _ in range(redo):
            study.redo()
        self.study = study
        self._layers = None
        self.reviews = {k: v for k, v in self.reviews.items() if k in self._proposal_names()}
        self._changed(points=True)

    @staticmethod
    def _snapshot(study: Study) -> dict:
        ind = study.indicators()
        lon, lat, _ = study.demand_points()
        keys = lon + 1j * lat
        order = np.argsort(keys, kind="stable")
        return {"indicators": ind, "keys": keys[order],
                "reach": {c: study.reach(c)[order] for c in study.minutes}}  # fmt: skip

    def _changed(self, *, points: bool = False) -> None:
        self.version += 1
        if points:
            self.points_version += 1

    def _check_version(self, version) -> None:
        if version is None:
            return
        try:
            given = int(version)
        except (TypeError, ValueError):
            raise InputError(f"version {version!r} is not a number", column="version",
                             hint="send the version of /api/state") from None  # fmt: skip
        if given != self.version:
            raise EditConflict(given, self.version)

    # ------------------------------------------------------------------ reading
    def categories(self) -> list[dict]:
        """The study's categories: id, bilingual label, map colour, capacity attribute,
        threshold (minutes), travel mode and how its reach is said (``mode_words``: 步行 /
        walk, 驾车 / drive …)."""
        known = known_categories(self.study._b.options["extra"])
        modes = self.study.modes
        out = []
        for cid, minutes in self.study.minutes.items():
            cat = known.get(cid)
            out.append({"id": cid, "label": cat.label if cat else cid,
                        "colour": cat.colour if cat else "#34495e",
                        "capacity": cat.capacity if cat else "capacity",
                        "subtypes": [s.id for s in cat.subtypes] if cat else [],
                        "minutes": minutes, "mode": modes.get(cid, "walk"),
                        "mode_words": list(mode_words(modes.get(cid, "walk")))})  # fmt: skip
        return out

    def layers(self) -> dict:
        """What the page draws once: boundaries (GeoJSON), streets (WGS84 lines; none above
        :data:`MAX_STREETS` segments, their number in ``streets_omitted``), categories,
        basemaps, the study's bounds and whether any input is synthetic."""
        if self._layers is None:
            b = self.study._b
            bnd = b.src.boundaries
            people = np.bincount(b.dem.area[b.dem.area >= 0], minlength=len(bnd))
            shown = bnd[people > 0] if (people > 0).any() else bnd
            graph = self.study.graph
            to4326 = pyproj.Transformer.from_crs(graph.crs, 4326, always_xy=True)
            lines = shapely.transform(np.asarray(graph.edge_geometry),
                                      lambda c: np.column_stack(to4326.transform(c[:, 0],
                                                                                 c[:, 1])))
            x0, y0, x1, y1 = shapely.total_bounds(lines)
            coords = [] if len(lines) > MAX_STREETS else [
                np.round(shapely.get_coordinates(g), DEGREE_DECIMALS).tolist() for g in lines]
            self._layers = {
                "boundaries": [{"district_id": str(r.district_id), "name": str(r.name),
                                "geometry": shapely.geometry.mapping(
                                    shapely.simplify(r.geometry, 1e-4))}
                               for r in shown.itertuples()],
                "streets": coords,
                "streets_omitted": len(lines) if len(lines) > MAX_STREETS else 0,
                "bounds": [[y0, x0], [y1, x1]],
                "categories": self.categories(),
                "basemaps": {k: {f: v[f] for f in ("label", "url", "attribution", "subdomains")
                                 if f in v}
                             for k, v in basemaps().items()
                             if v.get("crs", "wgs84") == "wgs84" and not v.get("needs_key")},
                "synthetic": self._synthetic(),
                "version": __version__,
            }  # fmt: skip
        return self._layers

    def _synthetic(self) -> str:
        """Which inputs are labelled synthetic ('' when none)."""
        labels = []
        for key in ("network", "population", "boundaries"):
            path = self.study._inputs.get(key)
            if isinstance(path, str | Path) and "demo" in Path(path).name:
                labels.append(f"{key} ({Path(path).name})")
        for item in self.study._inputs.get("facilities") or []:
            path = getattr(item, "path", item)
            if isinstance(path, str | Path) and "demo" in Path(path).name:
                labels.append(f"facilities ({Path(path).name})")
        return ", ".join(labels)

    def facilities(self) -> list[dict]:
        """The facilities now: id, category, name, WGS84 lon/lat, joined to a street, and
        their supply attributes (numbers; None where not given)."""
        fac = self.study.facilities
        table = self.study.facility_table()
        snapped = fac["snapped"].to_numpy(dtype=bool) if "snapped" in fac else np.ones(len(fac))
        keep = [c for c in FACILITY_ATTRIBUTES if c in table and c not in ("name",)]
        out = []
        for i, row in enumerate(table.to_dict("records")):
            out.append({"id": str(row["facility_id"]), "category": str(row["category"]),
                        "name": "" if row.get("name") is None else str(row["name"]),
                        "lon": round(float(row["lon"]), 7), "lat": round(float(row["lat"]), 7),
                        "snapped": bool(snapped[i]),
                        "attributes": {k: _plain(row[k]) for k in keep
                                       if row.get(k) is not None and not (
                                           isinstance(row[k], float) and math.isnan(row[k]))}})
        return out  # fmt: skip

    def _aligned_baseline(self) -> dict[str, np.ndarray]:
        """The baseline's reach per current demand point (255 where the point is new)."""
        if self._aligned is None or self._aligned[0] != self.points_version:
            lon, lat, _ = self.study.demand_points()
            keys = lon + 1j * lat
            base = self._baseline
            pos = np.searchsorted(base["keys"], keys)
            pos = np.minimum(pos, len(base["keys"]) - 1)
            found = base["keys"][pos] == keys
            self._aligned = (self.points_version, {
                c: np.where(found, r[pos], 255).astype(np.uint8)
                for c, r in base["reach"].items()})  # fmt: skip
        return self._aligned[1]

    def residents(self) -> dict:
        """Every demand point (base64 little-endian float32 lon, lat, persons) with its reach
        per category now and in the baseline (base64 uint8: 0 not counted, 1 covered,
        2 below a standard, 3 no facility; 255 not in the baseline)."""
        with self.lock:
            lon, lat, people = self.study.demand_points()
            base = self._aligned_baseline()
            return {"points_version": self.points_version, "version": self.version,
                    "n": len(lon), "lon": _b64(lon, "<f4"), "lat": _b64(lat, "<f4"),
                    "persons": _b64(people, "<f4"),
                    "reach": {c: _b64(self.study.reach(c), "u1") for c in self.study.minutes},
                    "base": {c: _b64(base[c], "u1") for c in base}}  # fmt: skip

    def panel(self) -> dict:
        """The side panel's figures: per category covered / share / underserved now and in
        the baseline, per district covered, the standards with value, target and gap, the
        proposals' reviews, undo / redo available."""
        study = self.study
        now, base = study.indicators(), self._baseline["indicators"]
        b = study._b
        ids = [str(x) for x in now["_districts"]]
        names = [str(x) for x in b.src.boundaries["name"]]
        _, _, people = study.demand_points()
        ok = b.eng.demand_ok & (b.dem.area >= 0)
        district_people = np.bincount(b.dem.area[ok], weights=people[ok], minlength=len(ids))
        cats = []
        for c in self.categories():
            n, o = now[c["id"]], base.get(c["id"], {})
            cats.append(c | {
                "facilities": int((study.facilities["category"] == c["id"]).sum()),
                **{k: _num(n[k]) for k in ("covered", "share", "no_facility", "below_standard")},
                "base": {k: _num(o.get(k)) for k in ("covered", "share", "no_facility",
                                                     "below_standard")}})  # fmt: skip
        districts = []
        for i, did in enumerate(ids):
            if district_people[i] <= 0:
                continue
            districts.append({"district_id": did, "name": names[i],
                              "population": _num(district_people[i]),
                              "covered": {c: _num(now[c]["districts"][i]) for c in study.minutes},
                              "base": {c: _num(base[c]["districts"][i]) if c in base and i < len(
                                  base[c]["districts"]) else None for c in study.minutes}})
        by_id = {s.id: s for s in b.stds}
        name_of = dict(zip(ids, names, strict=True))
        standards = []
        for c in study.minutes:
            for (sid, did), (value, met, gap) in now[c]["standards"].items():
                std = by_id.get(sid)
                old = base.get(c, {}).get("standards", {}).get((sid, did), (None, None, None))
                standards.append({
                    "standard": sid, "label": std.label if std else sid, "category": c,
                    "district_id": str(did), "district": name_of.get(str(did), "全域 / study area"),
                    "target": _num(std.target) if std else None, "unit": std.unit if std else "",
                    "value": _num(value), "met": None if met is None else bool(met),
                    "gap": _num(gap), "base_value": _num(old[0]),
                    "base_met": None if old[1] is None else bool(old[1]),
                    "base_gap": _num(old[2])})  # fmt: skip
        names_now = self._proposal_names()
        return _plain({
            "version": self.version, "points_version": self.points_version,
            "population": float(people[b.eng.demand_ok].sum()),
            "speed_kmh": study.speed_kmh, "categories": cats, "districts": districts,
            "standards": standards,
            "proposals": [v for k, v in self.reviews.items() if k in names_now],
            "edits": len(study.edits), "can_undo": bool(study._done),
            "can_redo": bool(study._undone)})  # fmt: skip

    def summary(self) -> dict:
        """``summary.json``'s contract for the study now (assembled once per version)."""
        with self.lock:
            if self._summary is None or self._summary[0] != self.version:
                self._summary = (self.version, self.study.result().summary)
            return self._summary[1]

    def state(self, *, full: bool = True) -> dict:
        """``summary`` (when ``full``) and the panel, with ``version``."""
        with self.lock:
            out = {"version": self.version, "panel": self.panel()}
            if full:
                out["summary"] = _plain(self.summary())
            return out

    def _proposal_names(self) -> set[str]:
        res = self.study._residents()
        if "source" not in res:
            return set()
        return set(res.loc[res["source"] == "proposed district", "demand_id"].astype(str))

    # ------------------------------------------------------------------ edits
    def _edit(self, run, version, *, points: bool = False) -> dict:
        """Apply ``run()`` (returns a Change or None) under the lock; the reply the page
        needs: the new version and panel, the delta, the reach of the categories touched."""
        with self.lock:
            self._check_version(version)
            t = time.perf_counter()
            change = run()
            if change is None:
                raise InputError("nothing to undo or redo", column="edits",
                                 hint="make an edit first")  # fmt: skip
            ops = {change.edit.get("op")} | {e.get("op") for e in change.edit.get("edits", [])}
            moved = points or bool(ops & {"add_residents", "remove_residents",
                                          "restore_residents"})  # fmt: skip
            self._changed(points=moved)
            touched = sorted(change.categories)
            reply = {"version": self.version, "points_version": self.points_version,
                     "delta": change.to_dict(), "panel": self.panel(),
                     "facilities": self.facilities(),
                     "reach": {} if moved else {c: _b64(self.study.reach(c), "u1")
                                                for c in touched},
                     "seconds": time.perf_counter() - t}  # fmt: skip
            return reply

    def add_facility(self, body: dict, version=None) -> dict:
        """``{category, lon, lat, name?, capacity?, …}`` (WGS84 degrees; ``capacity`` is the
        category's supply attribute — beds, places, pitches). Returns the reply with ``id``."""
        body = _object(body)
        cat_id = str(body.get("category", ""))
        known = {c["id"]: c for c in self.categories()}
        if cat_id not in known:
            raise InputError(f"category {cat_id[:80]!r} is not in the study", column="category",
                             hint=f"use one of {', '.join(known)}")  # fmt: skip
        attrs = self._attributes(body, known[cat_id], skip=("category", "lon", "lat", "version"))
        lon = check_number(body.get("lon"), "lon", minimum=-180, maximum=180)
        lat = check_number(body.get("lat"), "lat", minimum=-90, maximum=90)
        self._inside(lon, lat)
        reply = self._edit(lambda: self.study.add_facility(cat_id, lon, lat, **attrs), version)
        reply["id"] = reply["delta"]["edit"]["facility_id"]
        return reply

    def upload_facilities(self, data: bytes, *, fmt: str, crs: str | None = None,
                          category: str | None = None, label: str = "upload",
                          version=None) -> dict:  # fmt: skip
        """Facilities from a file the planner uploads, added in one edit (one undo).

        The bytes are written under a name the workbench chooses (``uploads/`` in the
        workspace) and read by :func:`~hzspatial.io.facilities.read_facilities`, as
        ``coverage`` reads ``--facilities``. ``fmt`` is ``csv``, ``xlsx`` or ``geojson``;
        ``crs`` the file's coordinate system (``wgs84``, ``cgcs2000``, ``gcj02`` — Amap,
        Tencent —, ``bd09`` — Baidu) or ``auto`` / None: what the file says, and refused when
        it says nothing (a GCJ-02 export read as WGS84 would sit 300–500 m off).
        ``category`` applies to every row (else the file's category column). ``label`` (the
        file's name in the browser) only names the file in messages. The reply lists the
        reader's warnings."""
        import secrets
        import warnings

        from hzspatial.io.facilities import read_facilities

        ext = _UPLOAD_FORMATS.get(str(fmt).lower())
        if ext is None:
            raise InputError(f"unknown upload format {str(fmt)[:20]!r}", column="format",
                             hint="upload a CSV, XLSX or GeoJSON file")  # fmt: skip
        crs = None if crs in (None, "", "auto") else str(crs).lower()
        if crs is not None and crs not in _UPLOAD_CRS:
            raise InputError(f"unknown coordinate system {crs[:20]!r}", column="crs",
                             hint="choose wgs84, cgcs2000, gcj02 or bd09")  # fmt: skip
        label = "".join(c for c in str(label)[:80] if c.isprintable()) or "upload"
        folder = self.workspace / "uploads"
        folder.mkdir(exist_ok=True)
        path = folder / f"{secrets.token_hex(8)}{ext}"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                table = read_facilities(path, category=category or None, crs=crs,
                                        extra_categories=list(self.study.minutes))  # fmt: skip
        except InputError as exc:
            raise InputError(_for_upload(exc.problem, path, label), file=label,
                             where=exc.where, column=exc.column,
                             hint=exc.hint and _for_upload(exc.hint, path, label)) from None
        finally:
            path.unlink(missing_ok=True)
        if table.attrs.get("crs_how") == "assumed":
            raise InputError("the file does not say its coordinate system", file=label,
                             column="crs", hint="choose it: WGS84 / CGCS2000 (GPS, most GIS), "
                             "GCJ-02 (Amap, Tencent) or BD-09 (Baidu)")  # fmt: skip
        parts = self._upload_edits(table, label)
        reply = self._edit(lambda: self.study._apply({"op": "together", "edits": parts}),
                           version)  # fmt: skip
        reply["added"] = [p["facility_id"] for p in parts]
        reply["warnings"] = [_for_upload(str(w.message), path, label) for w in caught]
        return reply

    def _upload_edits(self, table: gpd.GeoDataFrame, label: str) -> list[dict]:
        """One ``add_facility`` edit per row of an uploaded table, each row checked."""
        unknown = sorted(set(table["category"].astype(str)) - set(self.study.minutes))
        if unknown:
            raise InputError(f"categories not in the study: {', '.join(unknown)[:200]}",
                             file=label, column="category", hint="upload facilities of the study's "
                             "categories, or choose one for every row")  # fmt: skip
        ids = table["facility_id"].astype(str)
        taken = sorted(set(ids) & set(self.study.facilities["facility_id"].astype(str)))
        if taken:
            raise InputError(f"ids already in the study: {', '.join(taken[:5])[:200]}",
                             file=label, column="id", hint="give the new facilities ids of "
                             "their own, or leave the id column out")  # fmt: skip
        lon, lat = table.geometry.x.to_numpy(), table.geometry.y.to_numpy()
        self._inside(lon, lat, label)
        attrs = [c for c in FACILITY_ATTRIBUTES if c in table.columns]
        parts = []
        for i, row in enumerate(table[attrs].to_dict("records")):
            kept = {k: v for k, v in row.items() if v is not None and v == v and v != ""}
            parts.append({"op": "add_facility", "category": str(table["category"].iat[i]),
                          "lon": float(lon[i]), "lat": float(lat[i]),
                          "facility_id": ids.iat[i], **kept})  # fmt: skip
        if not parts:
            raise InputError("no facilities in the file", file=label, column="rows",
                             hint="upload a table with one facility per row")  # fmt: skip
        return parts

    def update_facility(self, facility_id: str, body: dict, version=None) -> dict:
        """Move (``lon``/``lat``) and / or change attributes of a facility."""
        body = _object(body)
        self._facility(facility_id)
        cat = next(c for c in self.categories()
                   if c["id"] == self._facility(facility_id)["category"])  # fmt: skip
        attrs = self._attributes(body, cat, skip=("lon", "lat", "version"))
        moved = "lon" in body or "lat" in body
        if moved:
            lon = check_number(body.get("lon"), "lon", minimum=-180, maximum=180)
            lat = check_number(body.get("lat"), "lat", minimum=-90, maximum=90)
            self._inside(lon, lat)
        if not moved and not attrs:
            raise InputError("nothing to change", column="body",
                             hint="give lon and lat, or attributes such as name or capacity")

        def run():
            edits = []
            if moved:
                edits.append({"op": "move_facility", "facility_id": facility_id, "lon": lon,
                              "lat": lat})  # fmt: skip
            if attrs:
                edits.append({"op": "update_facility", "facility_id": facility_id, **attrs})
            if len(edits) == 1:
                return self.study._apply(edits[0])
            return self.study._apply({"op": "together", "edits": edits})

        reply = self._edit(run, version)
        reply["id"] = facility_id
        return reply

    def remove_facility(self, facility_id: str, version=None) -> dict:
        """Remove a facility (undo puts it back)."""
        self._facility(facility_id)
        reply = self._edit(lambda: self.study.remove_facility(facility_id), version)
        reply["id"] = facility_id
        return reply

    def set_minutes(self, category: str, body: dict, version=None) -> dict:
        """``{minutes}``: a category's walking threshold."""
        body = _object(body)
        if category not in self.study.minutes:
            raise NotFound(f"no category {category[:80]!r} in the study")
        minutes = body.get("minutes")
        return self._edit(lambda: self.study.set_minutes(category, minutes), version)

    def undo(self, version=None) -> dict:
        """Take back the last edit."""
        return self._edit(self.study.undo, version)

    def redo(self, version=None) -> dict:
        """Apply again the last edit undone."""
        return self._edit(self.study.redo, version)

    def add_proposal(self, feature: dict, version=None) -> dict:
        """A proposed residential district: a GeoJSON Feature (Polygon, WGS84) with
        ``properties.population`` (persons) or ``households``, and ``name``. It joins the
        study's residents (one edit) and is reviewed as ``hzspatial review`` reviews it;
        the reply carries ``review`` (its row of ``review.json``)."""
        feature = _object(feature)
        props = feature.get("properties") or {}
        if feature.get("type") != "Feature" or not isinstance(props, dict):
            raise InputError("a proposal is a GeoJSON Feature with properties", column="type",
                             hint='send {"type": "Feature", "geometry": {...}, '
                             '"properties": {"name": ..., "population": ...}}')  # fmt: skip
        try:
            geom = shapely.geometry.shape(feature.get("geometry") or {})
        except (ValueError, TypeError, AttributeError, KeyError, IndexError,
                shapely.errors.GEOSException) as exc:  # fmt: skip
            raise InputError(f"the proposal's geometry is not GeoJSON ({exc})",
                             column="geometry", hint="draw a polygon") from None
        if shapely.get_type_id(geom) != 3:
            raise InputError("the proposal's geometry is not a polygon", column="geometry",
                             hint="draw the district's outline")  # fmt: skip
        name = safe_name(props.get("name") or f"proposal {len(self.reviews) + 1}", "proposal")
        people, households = props.get("population"), props.get("households")
        with self.lock:
            self._check_version(version)
            path = self.workspace / "proposals" / f"{name}.geojson"
            _may_replace(path)
            reply = self._edit(lambda: self.study.add_proposal(
                name, geom, population=people, households=households), None, points=True)
            try:
                review = self._review(name, geom, path)
            except Exception:
                self.study.undo()  # the proposal is not kept without its review
                self.study._undone.clear()
                self._changed(points=True)
                raise
            self.reviews[name] = review
            reply["review"] = review
            reply["panel"] = self.panel()
            reply["id"] = name
            return reply

    def remove_proposal(self, name: str, version=None) -> dict:
        """Take a proposal out of the study."""
        if name not in self._proposal_names():
            raise NotFound(f"no proposal {name[:80]!r} in the study")
        reply = self._edit(lambda: self.study.remove_residents(name), version, points=True)
        reply["id"] = name
        return reply

    def _review(self, name: str, geom, path: Path) -> dict:
        """``hzspatial review`` of one proposal against the study now (its facilities, the
        other residents, its thresholds); the proposal written as a file for the reviewer."""
        from hzspatial.review import review_study

        res = self.study.residents_table()
        people = float(res.loc[res["id"].astype(str) == name, "population"].iat[0])
        proposal = gpd.GeoDataFrame({"name": [name], "population": [people]}, geometry=[geom],
                                    crs=4326)  # fmt: skip
        result = review_study(self.study, proposal, exclude=[name])
        ours = _may_replace(path)
        tmp = Path(tempfile.mkdtemp(prefix="review-", dir=self._tmp()))
        try:
            proposal.to_file(tmp / "proposal.geojson", driver="GeoJSON", engine="pyogrio")
            if path.name not in ours:
                with (path.parent / WRITTEN).open("a", encoding="utf-8") as f:
                    f.write(path.name + "\n")
            shutil.move(str(tmp / "proposal.geojson"), path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        row = result.report["proposals"][0]
        catchment = result.catchments.geometry.iat[0]
        return _plain({"name": name, "population": people, "verdict": row["verdict"],
                       "verdicts": row["verdicts"], "checks": [
                           {k: c.get(k) for k in ("standard", "label", "category", "verdict",
                                                  "reason", "shortfall", "requirement",
                                                  "requirement_unit")}
                           for c in row["checks"]],
                       "outline": shapely.geometry.mapping(geom),
                       "catchment": shapely.geometry.mapping(catchment)
                       if catchment is not None and not catchment.is_empty else None})

    # ------------------------------------------------------------------ helpers
    def _facility(self, facility_id: str) -> dict:
        fac = self.study.facilities
        hit = fac.index[fac["facility_id"].astype(str) == str(facility_id)]
        if not len(hit):
            raise NotFound(f"no facility {str(facility_id)[:80]!r} in the study")
        return {"category": str(fac.loc[hit[0], "category"])}

    def _attributes(self, body: dict, cat: dict, *, skip: tuple) -> dict:
        """Facility attributes of a request: ``capacity`` is the category's own supply
        attribute; others among :data:`~hzspatial.study.FACILITY_ATTRIBUTES`."""
        attrs = {}
        for k, v in body.items():
            if k in skip:
                continue
            if k == "capacity":
                k = cat["capacity"]
            if k not in FACILITY_ATTRIBUTES:
                raise InputError(f"unknown facility attribute {str(k)[:40]!r}", column=str(k),
                                 hint=f"use name, capacity or {', '.join(FACILITY_ATTRIBUTES)}")
            if k == "name":
                v = "" if v is None else str(v)
                if len(v) > MAX_NAME:
                    raise InputError(f"name longer than {MAX_NAME} characters", column="name",
                                     hint="shorten it")  # fmt: skip
            if v is None or v == "":
                continue
            attrs[k] = v
        return attrs

    def _inside(self, lon, lat, label: str | None = None) -> None:
        """Refuse points outside the study's boundaries (50 m of slack): one point, or the
        rows of an uploaded file (``label``), the first outside named."""
        if self.study._study_area is None:
            area = shapely.union_all(self.study._b.src.boundaries.geometry.to_numpy())
            self.study._study_area = shapely.buffer(area, 50 / 111_000)
            shapely.prepare(self.study._study_area)
        x, y = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
        inside = shapely.intersects_xy(self.study._study_area, x, y)
        if not inside.all():
            i = int(np.argmin(inside))
            raise InputError(f"lon {x[i]:.6f}, lat {y[i]:.6f} lies outside the study area",
                             file=label, where=None if label is None else f"row {i + 1}",
                             column="lon/lat", hint="place it inside the study's boundaries")

    def _tmp(self) -> Path:
        tmp = self.workspace / "tmp"
        tmp.mkdir(exist_ok=True)
        return tmp

    # ------------------------------------------------------------------ saving and exports
    def scenario_files(self) -> dict[str, bytes]:
        """The scenario now as ``hzspatial batch`` reads it: ``scenario.toml`` (the study as
        built and as edited) with ``study_facilities.csv`` (and ``study_residents.geojson``
        after residents edits) beside it, plus ``study.json``."""
        with self.lock:
            folder = Path(tempfile.mkdtemp(prefix="scenario-", dir=self._tmp())) / "s"
            try:
                files = self.study.save(folder)
                return {p.name: p.read_bytes() for p in files}
            finally:
                shutil.rmtree(folder.parent, ignore_errors=True)

    def scenario_zip(self) -> bytes:
        """:meth:`scenario_files` as one zip."""
        return _zip(self.scenario_files())

    def outputs_zip(self) -> bytes:
        """The full coverage outputs of the study now (``report.pdf``, ``map.html``, the
        tables and layers — :meth:`CoverageResult.write`) as one zip."""
        with self.lock:
            result = self.study.result()
            folder = Path(tempfile.mkdtemp(prefix="outputs-", dir=self._tmp())) / "coverage"
            try:
                files = result.write(folder)
                return _zip({p.relative_to(folder).as_posix(): p.read_bytes() for p in files
                             if p.is_file()})  # fmt: skip
            finally:
                shutil.rmtree(folder.parent, ignore_errors=True)

    def save(self, name: str) -> dict:
        """Save the study as ``studies/<name>`` in the workspace (a new name, or one saved
        by the workbench before)."""
        name = safe_name(name, "study")
        with self.lock:
            folder = self.workspace / "studies" / name
            folder.parent.mkdir(exist_ok=True)
            self.study.save(folder, overwrite=False)
            return {"name": name, "edits": len(self.study.edits)}

    def saved(self) -> list[str]:
        """Names of the studies saved in the workspace."""
        root = self.workspace / "studies"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "study.json").is_file())

    def open(self, name: str) -> dict:
        """Replace the study by one saved in the workspace (its edits applied again)."""
        name = safe_name(name, "study")
        if name not in self.saved():
            raise NotFound(f"no saved study {name!r}")
        study = Study.open(self.workspace / "studies" / name)
        with self.lock:
            self.reviews.clear()
            self._load(study)
            return self.state(full=False)


def _object(body) -> dict:
    if not isinstance(body, dict):
        raise InputError("the request body is not a JSON object", column="body",
                         hint="send a JSON object")  # fmt: skip
    return body


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()
