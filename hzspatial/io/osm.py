"""Facilities and residents from an OpenStreetMap extract (the same .osm/.pbf as the network).

Facilities come from tagged nodes, closed ways and multipolygons through the tag rules of
``config/osm_facilities.toml``; areas become a point inside them plus their area in m². A
point inside an area of the same category (the same place mapped twice) is dropped.
Residents are a population total spread over residential buildings (footprint × levels) —
or, when none is mapped, over ``landuse=residential`` areas — in proportion to their weight
(dasymetric mapping); per-district totals come from the boundaries' population column.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzspatial import crs as _crs
from hzspatial.config import load
from hzspatial.errors import InputError

__all__ = ["OSM_SOURCE", "read_osm_facilities", "read_osm_residents"]

logger = logging.getLogger(__name__)

#: Provenance label of everything read from OpenStreetMap.
OSM_SOURCE = "OpenStreetMap contributors (ODbL 1.0)"
_KEYS = ("amenity", "healthcare", "leisure", "sport", "social_facility", "building", "landuse")


def osm_read_error(path, exc: Exception) -> InputError:
    """The one-line error for a file pyosmium cannot read."""
    return InputError(
        f"cannot read as OpenStreetMap data ({exc})",
        file=str(path),
        hint="check the file is a complete .osm.pbf or .osm XML extract",
    )


def _matches(tags: dict, rule: dict) -> bool:
    for key, want in rule.items():
        if key not in tags:
            return False
        values = {v.strip() for v in tags[key].split(";")}
        wanted = {want} if isinstance(want, str) else set(want)
        if not values & wanted:
            return False
    return True


def _features(path: Path) -> pd.DataFrame:
    """Every node and area carrying one of the keys used here: OSM type and id, tags and
    WGS84 geometry (areas assembled from closed ways and multipolygon relations)."""
    import osmium

    wkb = osmium.geom.WKBFactory()
    rows = []
    try:
        fp = (osmium.FileProcessor(str(path)).with_areas()
              .with_filter(osmium.filter.KeyFilter(*_KEYS)))  # fmt: skip
        for obj in fp:
            if obj.is_node() and obj.location.valid():
                geom = shapely.Point(obj.location.lon, obj.location.lat)
                kind, oid = "node", obj.id
            elif obj.is_area():
                try:
                    geom = shapely.from_wkb(bytes.fromhex(wkb.create_multipolygon(obj)))
                except RuntimeError:  # a broken multipolygon in the extract
                    continue
                kind, oid = ("way" if obj.from_way() else "relation"), obj.orig_id()
            else:
                continue
            rows.append({"osm_type": kind, "osm_id": oid, "tags": dict(obj.tags),
                         "geometry": geom})  # fmt: skip
    except (RuntimeError, ValueError) as exc:  # libosmium: corrupt data, illegal ids
        raise osm_read_error(path, exc) from exc
    return pd.DataFrame(rows, columns=["osm_type", "osm_id", "tags", "geometry"])


def read_osm_facilities(path: str | Path, categories: set[str] | None = None) -> gpd.GeoDataFrame:
    """Facilities tagged in an OpenStreetMap extract.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf`` or ``.osm`` XML.
    categories : set of str, optional
        Keep only these categories (default: every category the rules give).

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        :data:`hzspatial.io.FACILITY_COLUMNS`: ``facility_id`` = ``osm-node-<id>`` /
        ``osm-way-<id>`` / ``osm-relation-<id>``, ``name`` (``name:zh``, else ``name``),
        ``area_m2`` of areas, ``capacity`` from the ``capacity`` tag, ``source`` =
        :data:`OSM_SOURCE`.
    """
    from hzspatial.categories import builtin_categories
    from hzspatial.io.facilities import FACILITY_COLUMNS, subtypes_of

    rules = load("osm_facilities.toml")["rule"]
    feats = _features(Path(path))
    hits = [next((r for r in rules if _matches(t, r["tags"])), None) for t in feats["tags"]]
    cats = np.array([None if r is None else r["category"] for r in hits], dtype=object)
    said = np.array([None if r is None else r.get("subtype") for r in hits], dtype=object)
    keep = pd.notna(cats) & (np.isin(cats, list(categories)) if categories else True)
    feats, cats, said = feats[keep].reset_index(drop=True), cats[keep], said[keep]
    geoms = np.array(feats["geometry"].tolist(), dtype=object)
    areal = shapely.get_type_id(geoms) != 0
    dup = np.zeros(len(feats), dtype=bool)
    if areal.any() and (~areal).any():
        pi, ai = shapely.STRtree(geoms[areal]).query(geoms[~areal], predicate="within")
        same = cats[~areal][pi] == cats[areal][ai]
        dup[np.flatnonzero(~areal)[pi[same]]] = True
        if dup.any():
            logger.info("%s: %d facility points inside an area of the same category dropped "
                        "(mapped twice)", path, int(dup.sum()))  # fmt: skip
    feats, cats, geoms, areal = feats[~dup], cats[~dup], geoms[~dup], areal[~dup]
    said = said[~dup]
    points = np.where(areal, shapely.point_on_surface(geoms), geoms)
    area = np.full(len(feats), np.nan)
    if areal.any():
        c = shapely.get_coordinates(geoms[areal])
        utm = _crs.metric_crs(c[:, 0], c[:, 1])
        area[areal] = gpd.GeoSeries(geoms[areal], crs=4326).to_crs(utm).area.to_numpy()
    tags = feats["tags"].tolist()
    ids = [f"osm-{k}-{i}" for k, i in zip(feats["osm_type"], feats["osm_id"], strict=True)]
    names = [t.get("name:zh") or t.get("name") or fid for t, fid in zip(tags, ids, strict=True)]
    by_name = subtypes_of(cats, pd.Series([None] * len(cats)), np.array(names, dtype=object),
                          builtin_categories())  # fmt: skip
    out = gpd.GeoDataFrame(
        {"facility_id": ids, "name": names, "category": cats, "area_m2": area,
         "subtype": np.where(pd.isna(said), by_name, said),
         "area_from": np.where(areal, "polygon", "missing"),
         "capacity": pd.to_numeric(pd.Series([t.get("capacity") for t in tags], dtype=object),
                                   errors="coerce").to_numpy(dtype=float),
         "source": OSM_SOURCE},
        geometry=list(points), crs=4326,
    )  # fmt: skip
    for col in FACILITY_COLUMNS:
        if col not in out.columns:
            out[col] = None if col in ("inclusive", "planned") else np.nan
    counts = ", ".join(f"{k} {v}" for k, v in out["category"].value_counts().items())
    logger.info("%s: %d facilities from OpenStreetMap tags (%s)", path, len(out), counts)
    out = out[FACILITY_COLUMNS]
    out.attrs["crs_in"] = "wgs84"
    return out


def read_osm_residents(
    path: str | Path,
    *,
    population_total: float | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Residents spread over where people live in an OpenStreetMap extract.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf`` or ``.osm`` XML.
    population_total : float, optional
        Persons in the extract, spread over the homes by weight.
    boundaries : GeoDataFrame, optional
        Districts (WGS84) with a ``population`` column: each district's population is spread
        over the homes inside it (used when ``population_total`` is not given).

    Returns
    -------
    GeoDataFrame (EPSG:4326)
        ``demand_id`` (``osm-way-<id>`` …), ``name``, ``population`` (persons),
        ``population_from``, ``source`` = :data:`OSM_SOURCE`, polygon geometry.
    """
    cfg = load("osm_facilities.toml")["residents"]
    feats = _features(Path(path))
    geoms = np.array(feats["geometry"].tolist(), dtype=object)
    areal = shapely.get_type_id(geoms) != 0 if len(geoms) else np.zeros(0, bool)
    building = np.array([t.get("building") in cfg["buildings"] for t in feats["tags"]]) & areal
    if building.any():
        chosen, what = building, "residential buildings (footprint × levels)"
        levels = pd.to_numeric(pd.Series([t.get("building:levels") for t in feats["tags"]],
                                         dtype=object), errors="coerce").fillna(1.0)  # fmt: skip
        levels = levels.clip(lower=1.0).to_numpy()
    else:
        chosen = np.array([t.get("landuse") in cfg["landuse"] for t in feats["tags"]]) & areal
        what, levels = "landuse=residential areas (area)", np.ones(len(feats))
    if not chosen.any():
        raise InputError(
            "no residential buildings or landuse=residential areas in the extract",
            file=str(path),
            hint="pass residents with --population instead",
        )
    geoms, levels, feats = geoms[chosen], levels[chosen], feats[chosen].reset_index(drop=True)
    c = shapely.get_coordinates(geoms)
    utm = _crs.metric_crs(c[:, 0], c[:, 1])
    weight = gpd.GeoSeries(geoms, crs=4326).to_crs(utm).area.to_numpy() * levels
    if population_total is not None:
        if not population_total > 0:
            raise InputError(f"population total must be > 0 (got {population_total})",
                             column="--population-total")  # fmt: skip
        pop = population_total * weight / weight.sum()
        how = f"{population_total:,.0f} persons spread over {what}"
    elif boundaries is not None and boundaries["population"].notna().any():
        owner = shapely.STRtree(boundaries.geometry.to_numpy()).query(
            shapely.point_on_surface(geoms), predicate="within")  # fmt: skip
        district = np.full(len(geoms), -1)
        district[owner[0]] = owner[1]
        known = boundaries["population"].to_numpy(dtype=float)
        per = np.bincount(district[district >= 0], weights=weight[district >= 0],
                          minlength=len(boundaries))  # fmt: skip
        ok = (district >= 0) & ~np.isnan(known[np.maximum(district, 0)])
        pop = np.where(ok, known[np.maximum(district, 0)] * weight / np.where(
            per[np.maximum(district, 0)] > 0, per[np.maximum(district, 0)], 1), 0.0)  # fmt: skip
        how = f"district populations spread over {what}"
    else:
        raise InputError(
            "residents from OpenStreetMap need a population: --population-total N, or "
            "boundaries with a population column",
            column="--population-total",
            hint="give the total number of residents of the area",
        )
    logger.info("%s: %s, %d homes", path, how, len(geoms))
    names = [t.get("name:zh") or t.get("name") or "" for t in feats["tags"]]
    ids = [f"osm-{k}-{i}" for k, i in zip(feats["osm_type"], feats["osm_id"], strict=True)]
    out = gpd.GeoDataFrame(
        {"demand_id": ids, "name": [n or i for n, i in zip(names, ids, strict=True)],
         "population": pop, "population_from": how, "source": OSM_SOURCE},
        geometry=list(geoms), crs=4326,
    )  # fmt: skip
    out.attrs["crs_in"] = "wgs84"
    return out
