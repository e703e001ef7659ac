"""The workbench (``hzspatial serve``): its HTTP API against fresh runs of the pipeline, its
security checks, and the page driven in Debian's chromium (synthetic demo data)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from starlette.testclient import TestClient

from hzspatial import Study
from hzspatial.datasets import demo_paths
from hzspatial.run import demo_inputs, run_coverage
from hzspatial.workbench import Workbench
from hzspatial.workbench.app import create_app
from hzspatial.workbench.security import MAX_BODY, cookie_name

TOKEN = "test-token-0123456789abcdef"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
ARTEFACTS = Path(__file__).resolve().parents[1] / "maps" / "test-artefacts"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: A point in the demo's north-west with few pitches near it (WGS84), and a block for a
#: proposal in the demo's centre.
PITCH = (107.0095, 33.0802)
BLOCK = [[107.020, 33.060], [107.026, 33.060], [107.026, 33.065], [107.020, 33.065]]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return Workbench(Study(**demo_inputs()), tmp_path_factory.mktemp("workspace"))


@pytest.fixture
def client(bench):
    """The API over the module's workbench, back at the baseline after each test."""
    with TestClient(create_app(bench, token=TOKEN, port=PORT), base_url=BASE) as c:
        yield c
    with bench.lock:
        while bench.study.undo() is not None:
            pass
        bench.study._undone.clear()
        bench.reviews.clear()
        bench._changed(points=True)


def _covered(summary: dict, category: str) -> float:
    return summary["categories"][category]["covered_population"]


def _panel_cat(panel: dict, category: str) -> dict:
    return next(c for c in panel["categories"] if c["id"] == category)


def _facilities_with(extra: dict, tmp: Path) -> Path:
    """The demo's facility file plus one row, as a planner would add it to the CSV."""
    table = pd.read_csv(demo_paths()["facilities"])
    row = {c: None for c in table.columns} | extra
    path = tmp / "facilities_plus.csv"
    pd.concat([table, pd.DataFrame([row])]).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------- security
def test_every_request_needs_the_token(client):
    bare = TestClient(client.app, base_url=BASE)
    for path in ("/", "/api/state", "/api/version", "/api/export/scenario.toml",
                 "/static/workbench.js"):  # fmt: skip
        assert bare.get(path).status_code == 401, path
    assert bare.get("/api/version", headers={"Authorization": "Bearer wrong-token-xxxxxxxx"}
                    ).status_code == 401  # fmt: skip
    assert bare.get("/?token=wrong").status_code == 401
    r = bare.post("/api/facilities", json={"category": "football_pitch", "lon": PITCH[0],
                                           "lat": PITCH[1]})  # fmt: skip
    assert r.status_code == 401 and "token" in r.json()["error"]
    csv = b"id,name,lon,lat\nX,x,107.02,33.06\n"
    version = client.get("/api/version", headers=AUTH).json()["version"]
    for method, path in (("POST", "/api/uploads/facilities?format=csv&crs=wgs84"),
                         ("POST", "/api/proposals"), ("POST", "/api/undo"),
                         ("POST", "/api/studies"), ("POST", "/api/sites"),
                         ("DELETE", "/api/facilities/ELD001"),
                         ("PATCH", "/api/categories/clinic")):  # fmt: skip
        assert bare.request(method, path, content=csv).status_code == 401, path
        foreign = client.request(method, path, content=csv, headers=AUTH | {
            "Origin": "https://evil.example"})  # fmt: skip
        assert foreign.status_code == 403, path
        rebound = client.request(method, path, content=csv, headers=AUTH | {
            "Host": f"evil.example:{PORT}"})  # fmt: skip
        assert rebound.status_code == 403, path
    assert client.get("/api/version", headers=AUTH).json()["version"] == version  # unchanged


def test_host_and_origin_are_checked(client):
    evil_host = client.get("/api/version", headers=AUTH | {"Host": f"evil.example:{PORT}"})
    assert evil_host.status_code == 403  # DNS rebinding: the token alone is not enough
    assert client.get("/api/version", headers=AUTH | {"Host": "127.0.0.1:9999"}).status_code \
        == 403  # fmt: skip
    for host in (f"localhost:{PORT}", f"127.0.0.1:{PORT}", f"[::1]:{PORT}"):
        assert client.get("/api/version", headers=AUTH | {"Host": host}).status_code == 200
    origin = client.get("/api/version", headers=AUTH | {"Origin": "https://evil.example"})
    assert origin.status_code == 403
    assert client.get("/api/version", headers=AUTH | {"Origin": "null"}).status_code == 403


def test_session_cookie_login_and_cross_site_changes(client):
    bare = TestClient(client.app, base_url=BASE)
    r = bare.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(PORT)}={TOKEN}")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    bare.cookies.set(cookie_name(PORT), TOKEN)
    page = bare.get("/")
    assert page.status_code == 200 and "workbench.js" in page.text
    csp = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert page.headers["x-frame-options"] == "DENY"
    body = {"category": "football_pitch", "lon": PITCH[0], "lat": PITCH[1]}
    # a change by cookie without Origin (a form or fetch from another context) is refused
    assert bare.post("/api/facilities", json=body).status_code == 403
    ok = bare.post("/api/facilities", json=body, headers={"Origin": BASE})
    assert ok.status_code == 200, ok.text


def test_body_size_limits_and_no_paths(client):
    big = b'{"name": "' + b"x" * (MAX_BODY + 10) + b'"}'
    json_type = AUTH | {"content-type": "application/json"}
    r = client.post("/api/studies", content=big, headers=json_type)
    assert r.status_code == 413
    def chunks():
        yield b'{"name":'
        yield b' "a"}'
    r = client.post("/api/studies", content=chunks(), headers=AUTH)
    assert r.status_code == 411
    for path in ("/static/../workbench/app.py", "/static/..%2F..%2Fpyproject.toml",
                 "/static/workbench/index.html", "/static/leaflet/LICENSE"):  # fmt: skip
        assert client.get(path, headers=AUTH).status_code == 404, path
    for name in ("../escape", "/tmp/x", "a/b", "..", ".hidden", "x" * 65, ""):
        r = client.post("/api/studies", json={"name": name}, headers=AUTH)
        assert r.status_code == 400, name
    assert not any(Path(client.app.app.state.workbench.workspace).parent.glob("escape*"))


# ---------------------------------------------------------------------- edits
def test_added_pitch_equals_a_fresh_coverage_run(client, bench, tmp_path):
    before = client.get("/api/state", headers=AUTH).json()
    name = "新球场 <b>x</b>"
    r = client.post("/api/facilities", headers=AUTH,
                    json={"category": "football_pitch", "lon": PITCH[0], "lat": PITCH[1],
                          "name": name, "capacity": 1, "version": before["version"]})
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["version"] == before["version"] + 1 and reply["id"]
    added = next(f for f in reply["facilities"] if f["id"] == reply["id"])
    assert added["name"] == name and added["attributes"]["pitches"] == 1
    fresh = run_coverage(**(demo_inputs() | {"facilities": [_facilities_with(
        {"id": "P-new", "name": "new", "category": "football_pitch", "lon": PITCH[0],
         "lat": PITCH[1], "pitches": 1}, tmp_path)]}))  # fmt: skip
    want = _covered(fresh.summary, "football_pitch")
    assert want > _covered(before["summary"], "football_pitch") + 100  # the edit matters
    assert _panel_cat(reply["panel"], "football_pitch")["covered"] == pytest.approx(want, abs=1e-6)
    state = client.get("/api/state", headers=AUTH).json()
    assert _covered(state["summary"], "football_pitch") == pytest.approx(want, abs=1e-6)
    fresh_std = {s["id"]: s for s in fresh.summary["standards"]}
    assert len(fresh_std) == len(state["summary"]["standards"]) >= 10
    for s in state["summary"]["standards"]:
        f = fresh_std[s["id"]]
        assert s["met"] == f["met"], s["id"]
        if f["value"] is None or f["value"] != f["value"]:  # NaN is null in JSON
            assert s["value"] is None, s["id"]
        else:
            assert s["value"] == pytest.approx(f["value"], rel=1e-9, abs=1e-9), s["id"]
    delta = reply["delta"]["categories"]["football_pitch"]
    assert delta["covered_after"] - delta["covered_before"] == pytest.approx(
        want - _covered(before["summary"], "football_pitch"), abs=1e-6)


def test_bad_edits_are_one_line_and_change_nothing(client):
    start = client.get("/api/panel", headers=AUTH).json()
    bad = [
        ("post", "/api/facilities", {"category": "football_pitch", "lon": 108.9, "lat": 34.3}),
        ("post", "/api/facilities", {"category": "casino", "lon": PITCH[0], "lat": PITCH[1]}),
        ("post", "/api/facilities", {"category": "kindergarten", "lon": PITCH[0],
                                     "lat": PITCH[1], "capacity": -5}),
        ("post", "/api/facilities", {"category": "kindergarten", "lon": "east", "lat": 33}),
        ("post", "/api/facilities", {"category": "kindergarten", "lon": PITCH[0],
                                     "lat": PITCH[1], "secret_field": 1}),
        ("patch", "/api/categories/clinic", {"minutes": -3}),
        ("patch", "/api/facilities/ELD001", {}),
        ("post", "/api/proposals", {"type": "Feature", "geometry": {"type": "Point",
                                    "coordinates": [107.02, 33.06]}, "properties": {}}),
        ("post", "/api/proposals", {"type": "Feature", "geometry": {"type": "Polygon",
                                    "coordinates": [[[1, 2]]]}, "properties": {}}),
        ("post", "/api/undo", {}),
    ]  # fmt: skip
    for method, path, body in bad:
        r = getattr(client, method)(path, json=body, headers=AUTH)
        assert r.status_code == 400, (path, body, r.text)
        error = r.json()["error"]
        assert error and "\n" not in error and "Traceback" not in error, error
    r = client.post("/api/facilities", content=b"{not json", headers=AUTH)
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    assert client.delete("/api/facilities/NOPE", headers=AUTH).status_code == 404
    assert client.patch("/api/categories/nope", json={"minutes": 5}, headers=AUTH
                        ).status_code == 404  # fmt: skip
    end = client.get("/api/panel", headers=AUTH).json()
    assert end == start  # same version, same figures


def test_stale_version_is_409(client):
    v = client.get("/api/version", headers=AUTH).json()["version"]
    first = client.patch("/api/categories/kindergarten", json={"minutes": 10, "version": v},
                         headers=AUTH)  # fmt: skip
    assert first.status_code == 200
    second = client.delete("/api/facilities/KIN001", headers=AUTH | {"If-Match": str(v)})
    assert second.status_code == 409 and second.json()["version"] == v + 1
    assert "KIN001" in {f["id"] for f in client.get("/api/facilities", headers=AUTH).json()[
        "facilities"]}  # fmt: skip


def test_undo_returns_the_baseline_exactly(client, bench):
    start = client.get("/api/panel", headers=AUTH).json()["panel"]
    reach0 = {c: bench.study.reach(c) for c in bench.study.minutes}
    ids = client.get("/api/facilities", headers=AUTH).json()["facilities"]
    edits = [("post", "/api/facilities", {"category": "clinic", "lon": PITCH[0], "lat": PITCH[1]}),
             ("patch", f"/api/facilities/{ids[0]['id']}", {"lon": 107.03, "lat": 33.07}),
             ("delete", f"/api/facilities/{ids[5]['id']}", None),
             ("patch", "/api/categories/elderly_care", {"minutes": 5})]  # fmt: skip
    for method, path, body in edits:
        kw = {"json": body} if body is not None else {}
        assert getattr(client, method)(path, headers=AUTH, **kw).status_code == 200
    assert client.get("/api/panel", headers=AUTH).json()["panel"]["categories"] != \
        start["categories"]  # fmt: skip
    for _ in edits:
        assert client.post("/api/undo", headers=AUTH).status_code == 200
    end = client.get("/api/panel", headers=AUTH).json()["panel"]
    for key in ("categories", "districts", "standards", "population"):
        assert end[key] == start[key], key
    assert end["can_redo"] and not end["can_undo"]
    for c, r in reach0.items():
        np.testing.assert_array_equal(bench.study.reach(c), r)
    assert client.post("/api/redo", headers=AUTH).status_code == 200


# ---------------------------------------------------------------------- proposals
def test_proposal_verdicts_equal_hzspatial_review(client, tmp_path):
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        [*BLOCK, BLOCK[0]]]}, "properties": {"name": "北区 <script>alert(1)</script>",
                                             "population": 6000}}  # fmt: skip
    r = client.post("/api/proposals", json=feature, headers=AUTH)
    assert r.status_code == 400 and "name" in r.json()["error"]  # not a folder name
    feature["properties"]["name"] = "北区 A"
    r = client.post("/api/proposals", json=feature, headers=AUTH)
    assert r.status_code == 200, r.text
    review = r.json()["review"]
    assert r.json()["points_version"] > 0
    p = demo_paths()
    gpd.GeoDataFrame({"name": ["北区 A"], "population": [6000]},
                     geometry=[shapely.Polygon(BLOCK)], crs=4326).to_file(
        tmp_path / "proposal.geojson")  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "hzspatial.cli", "review", str(tmp_path / "proposal.geojson"),
         "--network", str(p["network"]), "--facilities", str(p["facilities"]),
         "--population", str(p["population"]), "--boundaries", str(p["boundaries"]),
         "--out", str(tmp_path / "review"), "--quiet"],
        capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode in (0, 1), out.stderr
    cli = json.loads((tmp_path / "review" / "review.json").read_text("utf-8"))["proposals"][0]
    assert review["verdict"] == cli["verdict"]
    got = {(c["standard"], c["category"]): c["verdict"] for c in review["checks"]}
    want = {(c["standard"], c["category"]): c["verdict"] for c in cli["checks"]}
    assert got == want and len(got) >= 5
    for mine, theirs in zip(review["checks"], cli["checks"], strict=True):
        for key in ("shortfall", "requirement"):
            if theirs.get(key) is None or isinstance(theirs[key], str):
                assert mine[key] == theirs.get(key), (mine, key)
            else:
                assert mine[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9), (mine, key)
    panel = client.get("/api/panel", headers=AUTH).json()["panel"]
    assert [x["name"] for x in panel["proposals"]] == ["北区 A"]
    assert panel["population"] == pytest.approx(
        r.json()["panel"]["population"], abs=1e-6)  # fmt: skip
    gone = client.delete("/api/proposals/北区 A", headers=AUTH)
    assert gone.status_code == 200 and gone.json()["panel"]["proposals"] == []


# ---------------------------------------------------------------------- hand on
def test_a_proposal_never_replaces_a_file_hzspatial_did_not_write(client, bench):
    feature = {"type": "Feature", "properties": {"name": "东区", "population": 3000},
               "geometry": {"type": "Polygon", "coordinates": [[*BLOCK, BLOCK[0]]]}}
    r = client.post("/api/proposals", json=feature, headers=AUTH)
    assert r.status_code == 200, r.text
    client.post("/api/undo", headers=AUTH)
    again = client.post("/api/proposals", json=feature, headers=AUTH)  # its own file: replaced
    assert again.status_code == 200, again.text
    client.post("/api/undo", headers=AUTH)
    theirs = bench.workspace / "proposals" / "西区.geojson"
    theirs.write_text("a planner's own file", "utf-8")
    version = client.get("/api/version", headers=AUTH).json()["version"]
    feature["properties"]["name"] = "西区"
    r = client.post("/api/proposals", json=feature, headers=AUTH)
    assert r.status_code == 400 and "not written by hzspatial" in r.json()["error"]
    assert theirs.read_text("utf-8") == "a planner's own file"
    assert client.get("/api/version", headers=AUTH).json()["version"] == version


def test_exported_scenario_reproduces_the_state_in_batch(client, bench, tmp_path):
    from hzspatial.batch import load_scenarios, run_scenario

    client.post("/api/facilities", headers=AUTH, json={"category": "football_pitch",
                "lon": PITCH[0], "lat": PITCH[1], "name": "导出 'x'", "capacity": 1})
    client.patch("/api/categories/kindergarten", json={"minutes": 7.5}, headers=AUTH)
    client.delete("/api/facilities/ELD003", headers=AUTH)
    state = client.get("/api/state", headers=AUTH).json()["summary"]
    toml = client.get("/api/export/scenario.toml", headers=AUTH)
    assert toml.status_code == 200 and "attachment" in toml.headers["content-disposition"]
    z = client.get("/api/export/scenario.zip", headers=AUTH)
    folder = tmp_path / "scenario"
    zipfile.ZipFile(io.BytesIO(z.content)).extractall(folder)
    assert (folder / "scenario.toml").read_bytes() == toml.content
    # batch's scenario runner in this process (run_batch adds Dask around it: tests/test_batch)
    scenarios, baseline = load_scenarios(folder / "scenario.toml")
    assert [s.name for s in scenarios] == ["as built", "edited"] and baseline == "as built"
    result = run_scenario(scenarios[1], tmp_path / "batch")
    assert result.status == "done", result.error
    edited = result.summary
    assert edited["categories"].keys() == state["categories"].keys()
    for c, want in state["categories"].items():
        got = edited["categories"][c]
        assert got["covered_population"] == pytest.approx(want["covered_population"], abs=1e-6)
        assert got["threshold_minutes"] == want["threshold_minutes"]
        assert got["facilities"] == want["facilities"]


def test_outputs_zip_save_and_open(client, bench):
    client.post("/api/facilities", headers=AUTH, json={"category": "clinic", "lon": PITCH[0],
                                                       "lat": PITCH[1]})  # fmt: skip
    after = client.get("/api/panel", headers=AUTH).json()["panel"]
    saved = client.post("/api/studies", json={"name": "试算 1"}, headers=AUTH)
    assert saved.status_code == 200 and saved.json()["edits"] == 1
    assert client.post("/api/studies", json={"name": "试算 1"}, headers=AUTH).status_code == 200
    foreign = bench.workspace / "studies" / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not hzspatial's")
    assert client.post("/api/studies", json={"name": "mine"}, headers=AUTH).status_code == 400
    assert (foreign / "notes.txt").read_text() == "not hzspatial's"
    assert "试算 1" in client.get("/api/studies", headers=AUTH).json()["saved"]
    client.post("/api/undo", headers=AUTH)
    opened = client.post("/api/studies/open", json={"name": "试算 1"}, headers=AUTH)
    assert opened.status_code == 200
    now = opened.json()["panel"]
    assert now["categories"] == after["categories"] and now["standards"] == after["standards"]
    assert client.post("/api/studies/open", json={"name": "nope"}, headers=AUTH).status_code == 404
    z = zipfile.ZipFile(io.BytesIO(client.get("/api/export/outputs.zip", headers=AUTH).content))
    names = set(z.namelist())
    assert {"report.pdf", "map.html", "summary.json"} <= names
    summary = json.loads(z.read("summary.json"))
    assert _covered(summary, "clinic") == pytest.approx(_panel_cat(after, "clinic")["covered"])


def test_a_large_network_is_not_drawn_street_by_street(bench, tmp_path, monkeypatch):
    from hzspatial.workbench import session

    full = Workbench(bench.study, tmp_path / "a").layers()
    assert len(full["streets"]) == bench.study.graph.n_edges and full["streets_omitted"] == 0
    monkeypatch.setattr(session, "MAX_STREETS", 100)
    capped = Workbench(bench.study, tmp_path / "b").layers()
    assert capped["streets"] == [] and capped["streets_omitted"] == bench.study.graph.n_edges
    assert capped["bounds"] == full["bounds"]


def _upload(client, text: str, **query):
    return client.post("/api/uploads/facilities", params={"format": "csv", **query},
                       content=text.encode("utf-8"),
                       headers=AUTH | {"content-type": "application/octet-stream"})


def test_uploaded_facilities_equal_a_fresh_run_with_them(client, bench, tmp_path):
    rows = [("K-up1", "上传幼儿园一", 107.0095, 33.0802, 180), ("K-up2", "上传幼儿园二", 107.045,
            33.085, 90)]  # fmt: skip
    text = "id,name,lon,lat,places\n" + "".join(f"{i},{n},{x},{y},{p}\n" for i, n, x, y, p in rows)
    # a table that does not say its coordinate system is refused, not read as WGS84
    before = client.get("/api/version", headers=AUTH).json()["version"]
    r = _upload(client, text, category="kindergarten", name="幼儿园.csv")
    assert r.status_code == 400 and "幼儿园.csv" in r.json()["error"]
    assert "coordinate system" in r.json()["error"]
    assert client.get("/api/version", headers=AUTH).json()["version"] == before
    r = _upload(client, text, category="kindergarten", crs="wgs84", name="幼儿园.csv")
    assert r.status_code == 200, r.text
    assert r.json()["added"] == ["K-up1", "K-up2"]
    assert list((bench.workspace / "uploads").iterdir()) == []  # the copy read is gone
    table = pd.read_csv(demo_paths()["facilities"])
    extra = pd.DataFrame([{"id": i, "name": n, "category": "kindergarten", "lon": x, "lat": y,
                           "places": p} for i, n, x, y, p in rows])  # fmt: skip
    path = tmp_path / "with_uploads.csv"
    pd.concat([table, extra]).to_csv(path, index=False)
    fresh = run_coverage(**demo_inputs() | {"facilities": path})
    want = _covered(fresh.summary, "kindergarten")
    assert _panel_cat(r.json()["panel"], "kindergarten")["covered"] == pytest.approx(want, abs=1e-6)
    base = _panel_cat(client.get("/api/panel", headers=AUTH).json()["panel"], "kindergarten")
    assert want > base["base"]["covered"] + 100  # the upload matters
    # one edit: one undo takes both away
    client.post("/api/undo", headers=AUTH)
    ids = {f["id"] for f in client.get("/api/facilities", headers=AUTH).json()["facilities"]}
    assert not ids & {"K-up1", "K-up2"}


def test_uploaded_gcj02_is_moved_and_bad_uploads_change_nothing(client, bench):
    from hzspatial.crs import wgs84_to_gcj02

    gx, gy = wgs84_to_gcj02(np.array([107.0095]), np.array([33.0802]))
    text = f"id,name,lon,lat\nG1,高德点,{gx[0]:.7f},{gy[0]:.7f}\n"
    r = _upload(client, text, category="clinic", crs="gcj02")
    assert r.status_code == 200, r.text
    got = next(f for f in r.json()["facilities"] if f["id"] == "G1")
    assert abs(got["lon"] - 107.0095) < 2e-6 and abs(got["lat"] - 33.0802) < 2e-6
    version = r.json()["version"]
    bad = {
        "id taken": ("id,name,lon,lat\nELD001,x,107.02,33.06\n", {"crs": "wgs84"}),
        "outside": ("id,name,lon,lat\nZ1,x,107.02,33.06\nZ2,y,108.5,34.9\n", {"crs": "wgs84"}),
        "format": ("id,name,lon,lat\n", {"format": "shp", "crs": "wgs84"}),
        "crs": ("id,name,lon,lat\nZ3,x,107.02,33.06\n", {"crs": "../etc"}),
        "category": ("id,name,lon,lat,category\nZ4,x,107.02,33.06,hospital\n", {"crs": "wgs84"}),
        "not a table": ("\x00\x01garbage", {"crs": "wgs84"}),
    }
    for what, (text, query) in bad.items():
        query = {"category": "clinic"} | query if what != "category" else query
        r = _upload(client, text, name="<b>x</b>.csv", **query)
        assert r.status_code == 400, (what, r.text)
        line = r.json()["error"]
        assert "\n" not in line and "/uploads/" not in line, (what, line)
    assert "row 2" in _upload(client, bad["outside"][0], category="clinic",
                              crs="wgs84").json()["error"]  # fmt: skip
    assert client.get("/api/version", headers=AUTH).json()["version"] == version
    assert list((bench.workspace / "uploads").iterdir()) == []


def test_uploads_shaped_as_planners_get_them(client):
    """An Amap export with no typecode and no datum column (GB18030, "lon,lat" in one
    ``location``), and a bureau's workbook with a title row above the table and a total and
    signature below: each read where the places really are, every guess said in one line."""
    from hzspatial.crs import wgs84_to_gcj02

    lon, lat = np.array([107.0095, 107.045]), np.array([33.0802, 33.085])
    gx, gy = wgs84_to_gcj02(lon, lat)
    amap = pd.DataFrame({"name": ["阳光幼儿园", "星星幼儿园"], "address": ["汉台区"] * 2,
                         "type": ["科教文化服务;学校;幼儿园"] * 2,
                         "location": [f"{x:.6f},{y:.6f}" for x, y in zip(gx, gy, strict=True)]})
    r = client.post("/api/uploads/facilities", params={"format": "csv", "name": "高德.csv"},
                    content=amap.to_csv(index=False).encode("gb18030"), headers=AUTH)
    assert r.status_code == 200, r.text
    got = {f["id"]: f for f in r.json()["facilities"]}
    placed = np.array([[got[i]["lon"], got[i]["lat"]] for i in r.json()["added"]])
    assert np.abs(placed - np.column_stack([lon, lat])).max() < 2e-6  # not 300–500 m off
    assert {got[i]["category"] for i in r.json()["added"]} == {"kindergarten"}
    said = " ".join(r.json()["warnings"])
    assert "高德.csv" in said and "GCJ02" in said and "--facilities-crs" not in said
    client.post("/api/undo", headers=AUTH)

    book = io.BytesIO()
    with pd.ExcelWriter(book) as xw:
        pd.DataFrame([["汉台区养老服务设施统计表（2024年）"]]).to_excel(
            xw, index=False, header=False)  # fmt: skip
        pd.DataFrame({"序号": [1, 2], "机构名称": ["甲日间照料中心", "乙日间照料中心"],
                      "类型": ["日间照料中心"] * 2, "床位数": [20, 30], "经度": lon,
                      "纬度": lat}).to_excel(xw, index=False, startrow=2)  # fmt: skip
        pd.DataFrame([["合计", "", "", 50, "", ""], ["填表人：张三"] + [""] * 5]).to_excel(
            xw, index=False, header=False, startrow=5)  # fmt: skip
    data, query = book.getvalue(), {"format": "xlsx", "name": "民政局.xlsx"}
    r = client.post("/api/uploads/facilities", params=query, content=data, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"].startswith("民政局.xlsx")
    r = client.post("/api/uploads/facilities", params=query | {"crs": "wgs84"}, content=data,
                    headers=AUTH)  # fmt: skip
    assert r.status_code == 200, r.text
    added = [f for f in r.json()["facilities"] if f["id"] in r.json()["added"]]
    assert [f["attributes"].get("beds") for f in added] == [20, 30]  # the total is no place
    assert {f["category"] for f in added} == {"elderly_care"}
    assert any("skipped" in w and "民政局.xlsx" in w for w in r.json()["warnings"])


def test_site_suggestion_runs_in_the_background_and_is_accepted(client, bench):
    r = client.post("/api/sites", headers=AUTH, json={"category": "football_pitch", "add": 1,
                                                      "time_limit": 30, "spacing_m": 1500})
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["state"] == "running"
    assert client.post("/api/sites", headers=AUTH, json={"category": "football_pitch", "add": 1}
                       ).status_code == 400  # one at a time  # fmt: skip
    deadline = time.monotonic() + 240
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(1)
        job = client.get(f"/api/sites/{job['id']}", headers=AUTH).json()
    assert job["state"] == "done", job
    site = job["sites"][0]
    before = _panel_cat(client.get("/api/panel", headers=AUTH).json()["panel"], "football_pitch")
    acc = client.post(f"/api/sites/{job['id']}/accept", json={"capacity": 1}, headers=AUTH)
    assert acc.status_code == 200, acc.text
    after = _panel_cat(acc.json()["panel"], "football_pitch")
    assert after["facilities"] == before["facilities"] + 1
    assert after["covered"] - before["covered"] == pytest.approx(site["newly_covered"], rel=1e-6)
    assert client.post(f"/api/sites/{job['id']}/accept", headers=AUTH).status_code == 400
    second = client.post("/api/sites", headers=AUTH, json={"category": "clinic", "add": 2,
                                                           "time_limit": 30}).json()
    cancelled = client.delete(f"/api/sites/{second['id']}", headers=AUTH).json()
    assert cancelled["state"] == "cancelled"
    assert not (bench.workspace / "jobs" / second["id"]).exists()


# ---------------------------------------------------------------------- the command
def test_serve_refuses_an_open_host_without_a_token(tmp_path):
    from hzspatial.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--no-browser"]) == 2
    assert main(["serve", "--token", "short", "--no-browser"]) == 2
    assert main(["serve", "--study", str(tmp_path), "--scenario", str(tmp_path / "s.toml"),
                 "--no-browser"]) == 2  # fmt: skip


def test_serve_command_prints_a_working_address(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hzspatial.cli", "serve", "--no-browser", "--workspace",
         str(tmp_path / "ws")], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env=env, cwd=tmp_path)  # fmt: skip
    try:
        url = None
        deadline = time.monotonic() + 120
        lines = []
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "open: " in line:
                url = line.split("open: ", 1)[1].strip()
        assert url and "?token=" in url, lines
        assert any("synthetic" in x for x in lines)
        import httpx

        base, token = url.split("/?token=")
        assert base.startswith("http://127.0.0.1:")
        assert httpx.get(base + "/api/version").status_code == 401
        r = httpx.get(base + "/api/version", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["version"] >= 1
    finally:
        proc.terminate()
        proc.wait(20)
    assert (tmp_path / "ws").is_dir() and not (tmp_path / "hzspatial-workbench").exists()


# ---------------------------------------------------------------------- in the browser
def _chromium() -> str | None:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                         else None)  # fmt: skip
    if path is None and os.environ.get("HZSPATIAL_REQUIRE_BROWSER"):
        pytest.fail("chromium is required (HZSPATIAL_REQUIRE_BROWSER) but not installed")
    return path


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The workbench served on a free loopback port, and Debian's chromium."""
    exe = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("HZSPATIAL_REQUIRE_BROWSER"):
            pytest.fail("playwright is required (HZSPATIAL_REQUIRE_BROWSER) but not installed")
        exe = None
    if exe is None:
        pytest.skip("needs Debian chromium (/usr/bin/chromium) and playwright")
    from hzspatial.workbench.server import start

    srv = start(Study(**demo_inputs()), workspace=tmp_path_factory.mktemp("live"), token=TOKEN)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-quic"])
        yield srv, browser
        browser.close()
    srv.stop()


def _open_page(srv, browser):
    """A new tab logged in through ``/?token=``; console errors and requests that leave the
    server collected. The page's CSP stays on (no eval), so waits poll ``evaluate``."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith((srv.url, "data:", "blob:"))
            else problems.append("left the machine: " + r.url))  # fmt: skip
    page.goto(srv.login_url)
    _until(page, "document.body.dataset.ready === '1'")
    assert page.url.rstrip("/") == srv.url, "the token stays out of the address bar"
    return page, problems


def _until(page, expression: str, seconds: float = 30):
    end = time.monotonic() + seconds
    while not page.evaluate(f"() => Boolean({expression})"):
        shown = page.evaluate("() => document.getElementById('error').textContent")
        assert time.monotonic() < end, f"timed out waiting for {expression} (page: {shown!r})"
        time.sleep(0.05)


def _edited(page, act) -> None:
    """Do ``act`` and wait until the page shows a new version and is idle again."""
    before = page.evaluate("() => document.body.dataset.version")
    act()
    _until(page, f"document.body.dataset.version !== '{before}' && !document.body.dataset.busy")


def _screen_xy(page, lon: float, lat: float) -> tuple[float, float]:
    return tuple(page.evaluate("""([lon, lat]) => {
        const p = hz.map.latLngToContainerPoint([lat, lon]);
        const r = document.getElementById('map').getBoundingClientRect();
        return [p.x + r.left, p.y + r.top]; }""", [lon, lat]))


HOSTILE = '<img src=x onerror="window.pwned=1">&amp;</td><script>window.pwned=2</script>'


def test_the_page_edits_the_study_as_fresh_runs_do(live, tmp_path):
    srv, browser = live
    page, problems = _open_page(srv, browser)
    base = page.evaluate("() => hz.panel.categories.find(c => c.id === 'football_pitch')")
    assert page.locator("#synthetic").is_visible()

    # add a pitch by clicking the map, with a hostile name
    page.check("input[name=mode][value=add]")
    page.select_option("#add-category", "football_pitch")
    page.fill("#add-name", HOSTILE)
    _edited(page, lambda: page.mouse.click(*_screen_xy(page, *PITCH)))
    new = [f for f in srv.workbench.facilities() if f["name"] == HOSTILE]
    assert len(new) == 1 and abs(new[0]["lon"] - PITCH[0]) < 2e-4
    added = {"category": "football_pitch", "id": "X1", "name": "x", "lon": new[0]["lon"],
             "lat": new[0]["lat"]}  # fmt: skip
    fresh = run_coverage(**demo_inputs() | {"facilities": _facilities_with(added, tmp_path)})
    want = _covered(fresh.summary, "football_pitch")
    shown = page.evaluate("() => hz.panel.categories.find(c => c.id === 'football_pitch')")
    assert shown["covered"] == pytest.approx(want, abs=1e-6) and want > base["covered"]
    row = page.locator("#categories tr[data-category=football_pitch]").inner_text()
    assert f"{round(want):,}" in row
    assert page.evaluate("() => hz.editTimes.length") == 1

    # hover shows the name as text; nothing it holds ran or became an element
    page.mouse.move(*_screen_xy(page, new[0]["lon"], new[0]["lat"]))
    _until(page, "document.querySelector('.leaflet-tooltip')")
    assert page.locator(".leaflet-tooltip").last.inner_text() == HOSTILE
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("img[src=x], #panel script").count() == 0

    # draw a proposed district: its verdicts are the ones the server reviewed
    page.check("input[name=mode][value=draw]")
    page.fill("#draw-name", HOSTILE)
    page.fill("#draw-population", "8000")
    for lon, lat in BLOCK:
        page.mouse.click(*_screen_xy(page, lon, lat))
    page.click("#draw-finish")  # a name that cannot be a file name is refused, as text
    _until(page, "!document.getElementById('error').hidden")
    assert "not allowed" in page.locator("#error").inner_text()
    assert page.evaluate("() => window.pwned") is None and page.locator("img[src=x]").count() == 0
    page.fill("#draw-name", "北区 A-1")
    _edited(page, lambda: page.click("#draw-finish"))
    _until(page, "document.querySelector('[data-proposal] li[data-verdict]')")
    review = srv.workbench.reviews
    assert len(review) == 1
    reviewed = next(iter(review.values()))
    shown = page.eval_on_selector_all("[data-proposal] li[data-verdict]",
                                      "els => els.map(e => e.dataset.verdict)")
    assert shown == [c["verdict"] for c in reviewed["checks"]] and shown
    assert page.locator("[data-proposal]").first.get_attribute("data-proposal") == reviewed["name"]
    assert page.locator("[data-proposal] strong").first.inner_text() == "北区 A-1"
    assert page.locator("#error").is_hidden()

    # another tab follows the edits made here
    other, other_problems = _open_page(srv, browser)
    page.check("input[name=mode][value=browse]")
    _edited(page, lambda: page.click("#undo"))
    _until(other, f"document.body.dataset.version === '{page.evaluate('() => hz.version')}'", 10)

    # undo back to the baseline
    _edited(page, lambda: page.click("#undo"))
    again = page.evaluate("() => hz.panel.categories.find(c => c.id === 'football_pitch')")
    assert again["covered"] == pytest.approx(base["covered"], abs=1e-6)
    assert page.locator("#undo").is_disabled()
    assert page.evaluate("() => hz.editTimes.length") == 4

    # facilities from a file (its name hostile); one that does not say its coordinates is
    # refused in one line, shown as text
    page.check("input[name=mode][value=add]")
    page.select_option("#add-category", "kindergarten")
    page.check("#upload-all")
    upload = {"name": HOSTILE[:40] + ".csv", "mimeType": "text/csv",
              "buffer": f"id,name,lon,lat\nUP1,上传,{PITCH[0]},{PITCH[1]}\n".encode()}
    page.set_input_files("#upload-file", upload)
    _until(page, "!document.getElementById('error').hidden && !document.body.dataset.busy")
    assert "coordinate system" in page.locator("#error").inner_text()
    page.select_option("#upload-crs", "wgs84")
    _edited(page, lambda: page.set_input_files("#upload-file", upload))
    assert page.evaluate("() => hz.facilities.has('UP1')") and page.locator("#error").is_hidden()
    assert page.evaluate("() => window.pwned") is None and page.locator("img[src=x]").count() == 0

    # drag it 120 px east: the server moves it where it was dropped
    x, y = _screen_xy(page, *PITCH)
    to = page.evaluate("""([x, y]) => { const r = document.getElementById('map')
        .getBoundingClientRect(); const ll = hz.map.containerPointToLatLng([x - r.left, y - r.top]);
        return [ll.lng, ll.lat]; }""", [x + 120, y])
    count = page.evaluate("() => hz.facilities.size")
    def drag():
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 60, y, steps=5)
        page.mouse.move(x + 120, y, steps=5)
        page.mouse.up()
    _edited(page, drag)
    moved = next(f for f in srv.workbench.facilities() if f["id"] == "UP1")
    assert abs(moved["lon"] - to[0]) < 1e-4 and abs(moved["lat"] - to[1]) < 1e-4
    assert page.evaluate("() => hz.facilities.size") == count  # a drag, not an added facility
    page.check("input[name=mode][value=browse]")
    page.select_option("#show-category", "kindergarten")
    page.check("#compare")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "workbench.png"))
    _readme_screenshot(ARTEFACTS / "workbench.png")
    refused = [p for p in problems if "status of 400" in p]  # the refused name and file
    assert len(refused) == 2 and [p for p in problems if p not in refused] == []
    assert other_problems == []


def _readme_screenshot(png: Path) -> None:
    """The README's picture of the workbench (docs/workbench.png) is this test's screenshot,
    reduced to 128 colours."""
    from PIL import Image

    docs = Path(__file__).resolve().parents[1] / "docs" / "workbench.png"
    image = Image.open(png).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    image.save(docs, optimize=True)
