"""PostGIS in and out, on a real PostgreSQL 15 + PostGIS 3 cluster started for these tests
(Debian packages; Unix socket only): the demo read from tables gives the file run's numbers
and its results land as tables; a failure midway leaves no table; names with quotes and
semicolons are identifiers, not SQL; a password in an address and a table hzspatial did not
write are refused in one line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _postgis import Cluster, available

from hzspatial.datasets import demo_paths
from hzspatial.errors import InputError
from hzspatial.io import jsonable
from hzspatial.io.postgis import WRITTEN_BY, parse_source, read_table, write_layers

EXE = str(Path(sys.executable).parent / "hzspatial")


@pytest.fixture(scope="module")
def db():
    if not available():
        if os.environ.get("HZSPATIAL_REQUIRE_POSTGIS"):
            pytest.fail("Debian's PostgreSQL 15 and PostGIS 3 are required here")
        pytest.skip("PostgreSQL 15 + PostGIS 3 (Debian) not installed")
    with Cluster() as url:
        yield url


def _sql(url: str, query: str):
    import psycopg

    with psycopg.connect(parse_source(url).conninfo) as con:
        cur = con.execute(query)
        return cur.fetchall() if cur.description is not None else None


def test_the_demo_through_the_database_equals_the_file_run(db, tmp_path, demo_run):
    """Streets, facilities, residents and boundaries as PostGIS tables (the residents in a
    projected SRID, to be read back by it): coverage equals the run on the files; --out-db
    writes the layers."""
    d = demo_paths()
    fac = gpd.read_file(d["facilities"]) if str(d["facilities"]).endswith("json") else None
    if fac is None:
        import pandas as pd

        raw = pd.read_csv(d["facilities"])
        fac = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["lon"], raw["lat"]),
                               crs=4326).drop(columns=["lon", "lat"])  # fmt: skip
    pop = gpd.read_file(d["population"])
    bnd = gpd.read_file(d["boundaries"])
    streets = gpd.read_file(d["network"])
    write_layers([("facilities", fac), ("blocks", pop), ("areas", bnd), ("streets", streets)],
                 db, "inputs")  # fmt: skip
    # the blocks kept in UTM 48N, as a planning institute's tables are: read by their SRID
    _sql(db, "ALTER TABLE inputs.blocks ALTER COLUMN geom TYPE geometry(Geometry, 32648) "
             "USING ST_Transform(geom, 32648)")  # fmt: skip
    assert _sql(db, "SELECT Find_SRID('inputs', 'blocks', 'geom')") == [(32648,)]
    assert read_table(f"{db}&table=inputs.blocks").crs.equals("EPSG:32648")
    src = f"{db}&table=inputs."
    dbrun = tmp_path / "db"
    b = subprocess.run([EXE, "coverage", "--network", src + "streets", "--quiet",
                        "--facilities", src + "facilities", "--population", src + "blocks",
                        "--boundaries", src + "areas", "--out", str(dbrun), "--out-db", db,
                        "--db-schema", "results"], capture_output=True, text=True,
                       timeout=600)  # fmt: skip
    assert b.returncode == 0, b.stderr
    run = demo_run  # the same files, read from disk
    sa = json.loads(json.dumps(jsonable(run.summary)))
    sb = json.loads((dbrun / "summary.json").read_text("utf-8"))
    assert sa["population"] == sb["population"]
    for c, info in sa["categories"].items():
        assert sb["categories"][c]["covered_population"] == pytest.approx(
            info["covered_population"], rel=1e-9), c  # fmt: skip
    assert [s["value"] for s in sa["standards"]] == [s["value"] for s in sb["standards"]]
    paths = {i["role"]: i["path"] for i in sb["inputs"]}  # named by their tables, no password
    assert "table inputs.blocks" in paths["population"]
    assert "table inputs.facilities" in paths["facilities"]
    assert "table inputs.streets" in paths["network"]
    assert sb["network"]["nodes"] == sa["network"]["nodes"]
    assert sb["network"]["length_km"] == pytest.approx(sa["network"]["length_km"], rel=1e-9)
    tables = dict(_sql(db, "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM "
                          "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                          "n.nspname = 'results' AND c.relkind = 'r'"))  # fmt: skip
    assert set(tables) == {"areas", "catchments", "underserved", "facilities"}
    assert all(v.startswith(WRITTEN_BY) and "synthetic" in v for v in tables.values())
    n = _sql(db, "SELECT count(*), min(ST_SRID(geom)) FROM results.catchments")[0]
    assert n == (len(run.catchments), 4326)
    assert _sql(db, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'results' AND "
                    "indexdef LIKE '%gist%'") == [(4,)]  # fmt: skip
    # a table of points is not a network: one line naming the table, nothing written
    bad = subprocess.run([EXE, "coverage", "--network", src + "facilities", "--quiet",
                          "--facilities", src + "facilities", "--population", src + "blocks",
                          "--out", str(tmp_path / "bad")], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    said = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(said) == 1 and "table inputs.facilities" in said[0], said
    assert "Traceback" not in bad.stderr and not (tmp_path / "bad").exists()
    # written again: its own tables are replaced, not refused
    assert write_layers([("areas", bnd)], db, "results") == ["areas"]
    assert _sql(db, "SELECT count(*) FROM results.areas") == [(len(bnd),)]


def _demo_facilities(path) -> gpd.GeoDataFrame:
    import pandas as pd

    raw = pd.read_csv(path)
    return gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["lon"], raw["lat"]),
                            crs=4326).drop(columns=["lon", "lat"])  # fmt: skip


def test_review_and_site_read_their_inputs_from_tables(db, tmp_path):
    """`review` (proposals, facilities, residents, boundaries) and `site` (facilities,
    residents, boundaries) from PostGIS tables give the verdicts and the sites of the same
    commands on the files."""
    d = demo_paths()
    write_layers([("facilities", _demo_facilities(d["facilities"])),
                  ("blocks", gpd.read_file(d["population"])),
                  ("areas", gpd.read_file(d["boundaries"])),
                  ("proposals", gpd.read_file(d["proposals"]))], db, "rs")  # fmt: skip
    t = f"{db}&table=rs."

    def cli(*args):
        p = subprocess.run([EXE, *map(str, args), "--quiet"], capture_output=True, text=True,
                           timeout=600)  # fmt: skip
        assert p.returncode in (0, 1), p.stderr  # review: 1 when a proposal fails a check
        return p

    common = ["--network", d["network"]]
    cli("review", t + "proposals", *common, "--facilities", t + "facilities", "--population",
        t + "blocks", "--boundaries", t + "areas", "--out", tmp_path / "r_db")  # fmt: skip
    cli("review", d["proposals"], *common, "--facilities", d["facilities"], "--population",
        d["population"], "--boundaries", d["boundaries"], "--out", tmp_path / "r_file")
    got, want = (json.loads((tmp_path / f / "review.json").read_text("utf-8"))
                 for f in ("r_db", "r_file"))  # fmt: skip
    assert got["exit_code"] == want["exit_code"] and len(got["proposals"]) == 2
    keys = ("standard", "verdict", "requirement", "reachable_existing_supply", "shortfall")
    for a, b in zip(got["proposals"], want["proposals"], strict=True):
        assert a["verdict"] == b["verdict"] and a["residents"] == b["residents"]
        assert [[c[k] for k in keys] for c in a["checks"]] == [[c[k] for k in keys]
                                                               for c in b["checks"]]  # fmt: skip
    assert any("table rs.facilities" in i["path"] for i in got["inputs"])
    site = ["--category", "football_pitch", "--add", 2]
    cli("site", *common, "--facilities", t + "facilities", "--population", t + "blocks",
        "--boundaries", t + "areas", *site, "--out", tmp_path / "s_db")  # fmt: skip
    cli("site", *common, "--facilities", d["facilities"], "--population", d["population"],
        "--boundaries", d["boundaries"], *site, "--out", tmp_path / "s_file")  # fmt: skip
    got, want = (json.loads((tmp_path / f / "site.json").read_text("utf-8"))
                 for f in ("s_db", "s_file"))  # fmt: skip
    assert got["newly_covered"] == pytest.approx(want["newly_covered"]) and got["sites"] == 2
    import pandas as pd

    chosen = [pd.read_csv(tmp_path / f / "sites.csv")["id"].tolist() for f in ("s_db", "s_file")]
    assert chosen[0] == chosen[1]


def test_a_failure_midway_leaves_no_table(db):
    good = gpd.GeoDataFrame({"v": [1.0]}, geometry=[shapely.Point(107, 33)], crs=4326)
    bad = gpd.GeoDataFrame({"n": np.array([2**64 - 1], dtype=np.uint64)},
                           geometry=[shapely.Point(107, 33)], crs=4326)  # too big for bigint
    with pytest.raises(InputError, match="the database refused .*nothing was written"):
        write_layers([("first", good), ("second", bad)], db, "midway")
    assert _sql(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'midway'") == [(0,)]


def test_names_with_quotes_and_semicolons_are_identifiers(db):
    """A schema and table named like SQL are created as named, nothing else runs."""
    g = gpd.GeoDataFrame({"name; DROP TABLE x": ["a'); DROP SCHEMA public CASCADE;--"]},
                         geometry=[shapely.Point(107, 33)], crs=4326)  # fmt: skip
    schema = 'x"; DROP SCHEMA public CASCADE;--'
    assert write_layers([('t"; DELETE FROM spatial_ref_sys;--', g)], db, schema) == [
        't"; DELETE FROM spatial_ref_sys;--']
    assert _sql(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'public'") == [(1,)]
    assert _sql(db, "SELECT count(*) > 1000 FROM spatial_ref_sys") == [(True,)]
    quoted = '"' + schema.replace('"', '""') + '"."t""; DELETE FROM spatial_ref_sys;--"'
    back = read_table(f"{db}&table={quoted}")
    assert back["name; DROP TABLE x"].tolist() == ["a'); DROP SCHEMA public CASCADE;--"]
    assert back.crs.equals("EPSG:4326") and back.geometry.iloc[0].equals(shapely.Point(107, 33))


def test_what_is_refused_in_one_line(db, tmp_path):
    g = gpd.GeoDataFrame({"v": [1.0]}, geometry=[shapely.Point(107, 33)], crs=4326)
    _sql(db, "CREATE SCHEMA theirs; CREATE TABLE theirs.areas (id int)")
    with pytest.raises(InputError, match=r"theirs\.areas exists and hzspatial did not write"):
        write_layers([("areas", g)], db, "theirs")
    assert write_layers([("areas", g)], db, "theirs", overwrite=True) == ["areas"]
    with pytest.raises(InputError, match="a password in the database address") as e:
        parse_source("postgresql://me:s3cret@localhost/hz?table=a.b")
    assert "s3cret" not in e.value.line()
    with pytest.raises(InputError, match="a password"):
        parse_source("PG:dbname=hz password=s3cret tables=a.b")
    with pytest.raises(InputError, match="cannot connect to the database"):
        read_table("postgresql://postgres@/hz?host=/nonexistent-socket-dir&table=a.b")
    with pytest.raises(InputError, match="no table inputs.nothing"):
        read_table(f"{db}&table=inputs.nothing")
    proc = subprocess.run([EXE, "demo", "--out", str(tmp_path / "o"), "--out-db",
                           "postgresql://me:s3cret@localhost/hz"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "s3cret" not in proc.stderr and "PGPASSWORD" in proc.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
