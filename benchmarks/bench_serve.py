"""Benchmark: the workbench (``hzspatial serve``) answering edits on the demo.

One command::

    python benchmarks/bench_serve.py --json serve.json                  # the demo
    python benchmarks/bench_serve.py --nodes 1000000 --json serve_1m.json  # a generated city

The workbench is served on a free loopback port in this process: the embedded Hanzhong demo
(synthetic demo data), or with ``--nodes`` the generated street grid of ``bench_edit.py``
(2,000 facilities, up to 200,000 residents' points; its streets are not drawn on the page above
``MAX_STREETS`` segments). Two measurements per edit kind, each after one untimed warm-up:

- ``http``: the edit's HTTP round trip from a client (``httpx``, token as bearer header): the
  request, the study's edit, the panel and the reply as JSON;
- ``browser``: the same edit made by the page in Debian's chromium (``hz.edit``: the
  request, the panel redrawn, the residents' dots recoloured, one frame painted) — what the
  planner waits for, and what the page reports as "updated in … ms".

Edits: add a facility at a random street point, move it, change its capacity, change a
category's minutes (5 / 10 / 20), undo. Each edit is taken back (undo) before the next
repeat, untimed. The peer is the way the same question was answered before the workbench:
a fresh :func:`hzspatial.run_coverage` on the inputs with the facility added (its time,
and the ratio to the browser's p95).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ("add_facility", "move_facility", "set_capacity", "set_minutes", "undo")


def _points(study, n: int, rng) -> np.ndarray:
    """``n`` random points beside the study's streets, as WGS84 lon/lat rows."""
    from bench_edit import street_points

    return np.column_stack(street_points(study.graph, n, rng))


def _bodies(kind: str, i: int, lonlat, fid: str | None) -> tuple[str, str, dict]:
    lon, lat = map(float, lonlat)
    if kind == "add_facility":
        return "POST", "/api/facilities", {"category": "football_pitch", "lon": lon, "lat": lat}
    if kind == "move_facility":
        return "PATCH", f"/api/facilities/{fid}", {"lon": lon, "lat": lat}
    if kind == "set_capacity":
        return "PATCH", f"/api/facilities/{fid}", {"capacity": 1 + i % 3}
    if kind == "set_minutes":
        return "PATCH", "/api/categories/kindergarten", {"minutes": (5, 10, 20)[i % 3]}
    return "POST", "/api/undo", {}


def _as_list(facilities) -> list:
    return list(facilities) if isinstance(facilities, list | tuple) else [facilities]


def _one_pitch(lonlat):
    import pandas as pd

    return pd.DataFrame({"facility_id": ["BENCH1"], "category": ["football_pitch"],
                         "lon": [float(lonlat[0])], "lat": [float(lonlat[1])], "pitches": [1.0],
                         "source": ["synthetic benchmark data"]})  # fmt: skip


def _pcts(ms: list[float]) -> dict:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "n": len(ms)}  # fmt: skip


def http_times(srv, points, repeats: int) -> dict:
    """Round-trip times (ms) of each edit kind through the HTTP API."""
    import httpx

    client = httpx.Client(base_url=srv.url, timeout=60,
                          headers={"Authorization": f"Bearer {srv.token}"})  # fmt: skip

    def call(method, path, body):
        t0 = time.perf_counter()
        r = client.request(method, path, json=body)
        ms = 1000 * (time.perf_counter() - t0)
        r.raise_for_status()
        return ms, r.json()

    out = {}
    for kind in KINDS:
        times = []
        for i in range(repeats + 1):
            fid = None
            if kind != "add_facility":  # these edit a facility added (untimed) first
                _, reply = call(*_bodies("add_facility", i, points[i], None))
                fid = reply["id"]
            ms, _ = call(*_bodies(kind, i, points[-1 - i], fid))
            if i:
                times.append(ms)
            while srv.workbench.study.undo() is not None:
                pass
            srv.workbench._changed(points=True)
        out[kind] = _pcts(times)
    return out


def browser_times(srv, points, repeats: int, screenshot: Path | None) -> dict:
    """The same edits made by the page in Debian's chromium; times as the page measures them
    (request, panel, dots, one painted frame)."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(srv.login_url)
        while not page.evaluate("() => document.body.dataset.ready === '1'"):
            time.sleep(0.05)
        edit = "([m, path, body]) => hz.edit(m, path, body).then(r => [hz.editTimes.at(-1), r.id])"
        for kind in KINDS:
            times = []
            for i in range(repeats + 1):
                fid = None
                if kind != "add_facility":
                    _, fid = page.evaluate(edit, list(_bodies("add_facility", i, points[i], None)))
                ms, _ = page.evaluate(edit, list(_bodies(kind, i, points[-1 - i], fid)))
                if i:
                    times.append(ms)
                while page.evaluate("() => hz.panel.can_undo"):
                    page.evaluate(edit, ["POST", "/api/undo", {}])
            out[kind] = _pcts(times)
        if screenshot:
            page.evaluate(edit, list(_bodies("add_facility", 0, points[0], None)))
            page.select_option("#show-category", "football_pitch")
            page.check("#compare")
            page.screenshot(path=str(screenshot))
        browser.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=20, help="timed edits per kind")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    ap.add_argument("--screenshot", type=Path, help="a PNG of the page after one edit")
    ap.add_argument("--no-browser", action="store_true", help="HTTP round trips only")
    ap.add_argument("--nodes", type=int, help="a generated city of about this many nodes")
    args = ap.parse_args(argv)

    from bench_edit import demo_case, grid_case

    from hzspatial import Study, run_coverage
    from hzspatial.workbench.server import start

    rng = np.random.default_rng(7)
    case, inputs, _ = grid_case(args.nodes) if args.nodes else demo_case()
    t0 = time.perf_counter()
    study = Study(**inputs)
    build_s = time.perf_counter() - t0
    points = _points(study, 2 * args.repeats + 4, rng)
    with tempfile.TemporaryDirectory() as ws:
        srv = start(study, workspace=ws)
        try:
            t0 = time.perf_counter()
            srv.workbench.layers(), srv.workbench.residents(), srv.workbench.panel()
            result = {"case": case, "build_s": round(build_s, 2),
                      "first_page_data_s": round(time.perf_counter() - t0, 2),
                      "http": http_times(srv, points, args.repeats)}  # fmt: skip
            if not args.no_browser:
                result["browser"] = browser_times(srv, points, args.repeats, args.screenshot)
        finally:
            srv.stop()
    # the peer: the same question as a fresh run (one pitch added to the facilities)
    t0 = time.perf_counter()
    plus_one = [*_as_list(inputs["facilities"]), _one_pitch(points[0])]
    run_coverage(**inputs | {"facilities": plus_one})
    result["full_run_s"] = round(time.perf_counter() - t0, 2)

    print(f"{result['case']}: study built in {result['build_s']} s, the page's first data in "
          f"{result['first_page_data_s']} s; a fresh run_coverage for one added pitch: "
          f"{result['full_run_s']} s")
    print(f"{'edit':<16}{'http p50':>10}{'http p95':>10}{'page p50':>10}{'page p95':>10}"
          f"{'run / page p95':>16}")
    for kind in KINDS:
        h, b = result["http"][kind], result.get("browser", {}).get(kind)
        page = (f"{b['p50_ms']:>10.1f}{b['p95_ms']:>10.1f}"
                f"{1000 * result['full_run_s'] / b['p95_ms']:>15.0f}×") if b else ""
        print(f"{kind:<16}{h['p50_ms']:>10.1f}{h['p95_ms']:>10.1f}{page}")
    print("milliseconds; page = request + panel + dots + one painted frame in chromium")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
