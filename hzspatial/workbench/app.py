"""The workbench's HTTP API and page (Starlette), around one :class:`Workbench`.

Every route answers JSON (exports: the file); an error is ``{"error": "one line"}`` with
400 (bad input: the study unchanged), 404 (no such facility, proposal, saved study or job)
or 409 (the edit was made on an older ``version``: reload). Edits take the version as the
body's ``version`` or an ``If-Match`` header; without one they apply to the current study.
:func:`create_app` wraps the routes in :class:`~hzspatial.workbench.security.Guard`.

The routes (README "The workbench" documents them for scripts):

==========  ===================================  ==============================================
GET         /                                    the page
GET         /api/state                           summary.json's contract, the panel, ``version``
GET         /api/panel                           the side panel's figures with ``version``
GET         /api/version                         ``{version, points_version}`` (cheap polling)
GET         /api/layers                          boundaries, streets, categories, basemaps
GET         /api/facilities                      the facilities now
GET         /api/residents                       demand points and their reach (binary, base64)
POST        /api/facilities                      ``{category, lon, lat, name?, capacity?, …}``
POST        /api/uploads/facilities              a CSV / XLSX / GeoJSON file as the body;
                                                 ``?format=&crs=&category=&name=``
PATCH       /api/facilities/{id}                 ``{lon?, lat?, name?, capacity?, …}``
DELETE      /api/facilities/{id}
PATCH       /api/categories/{category}           ``{minutes}``
POST        /api/proposals                       GeoJSON Feature with ``population``
DELETE      /api/proposals/{name}
POST        /api/undo, /api/redo
GET         /api/export/scenario.toml            the scenario as ``hzspatial batch`` reads it
GET         /api/export/study_facilities.csv     the facilities the TOML names
GET         /api/export/scenario.zip             both, with study.json
GET         /api/export/outputs.zip              report.pdf, map.html, tables, layers
GET, POST   /api/studies                         saved studies; ``{name}`` saves
POST        /api/studies/open                    ``{name}``
POST        /api/sites                           ``{category, add, time_limit?, spacing_m?}``
GET/DELETE  /api/sites/{job}                     progress / cancel
POST        /api/sites/{job}/accept              the sites added as facilities (one edit)
==========  ===================================  ==============================================
"""

from __future__ import annotations

import contextlib
import json
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from hzspatial.errors import InputError
from hzspatial.workbench.jobs import Jobs
from hzspatial.workbench.security import BodyTooLarge, Guard, allowed_hosts
from hzspatial.workbench.session import EditConflict, NotFound, Workbench

__all__ = ["create_app", "static_files"]

#: Files the page loads: name → (package folder, file, media type). Nothing else is served.
_STATIC = {
    "workbench.js": ("workbench", "workbench.js", "text/javascript; charset=utf-8"),
    "workbench.css": ("workbench", "workbench.css", "text/css; charset=utf-8"),
    "leaflet.js": ("leaflet", "leaflet.js", "text/javascript; charset=utf-8"),
    "leaflet.css": ("leaflet", "leaflet.css", "text/css; charset=utf-8"),
    "images/layers.png": ("leaflet", "images/layers.png", "image/png"),
    "images/layers-2x.png": ("leaflet", "images/layers-2x.png", "image/png"),
    "images/marker-icon.png": ("leaflet", "images/marker-icon.png", "image/png"),
    "images/marker-icon-2x.png": ("leaflet", "images/marker-icon-2x.png", "image/png"),
    "images/marker-shadow.png": ("leaflet", "images/marker-shadow.png", "image/png"),
}


def static_files() -> dict[str, Path]:
    """The page's files on disk (all shipped in the package)."""
    root = resources.files("hzspatial") / "static"
    return {name: Path(str(root / folder / file)) for name, (folder, file, _) in _STATIC.items()}


def _json(data, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, EditConflict):
        return _json({"error": str(exc), "version": exc.current}, 409)
    if isinstance(exc, NotFound):
        return _json({"error": str(exc)}, 404)
    if isinstance(exc, BodyTooLarge):
        return _json({"error": "request body too large"}, 413)
    return _json({"error": exc.line() if isinstance(exc, InputError) else str(exc)}, 400)


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("the request body is not JSON", column="body",
                         hint="send a JSON object") from None  # fmt: skip
    if not isinstance(body, dict):
        raise InputError("the request body is not a JSON object", column="body",
                         hint="send a JSON object")  # fmt: skip
    return body


def _version(request: Request, body: dict):
    return body.get("version", request.headers.get("if-match"))


def create_app(workbench: Workbench, *, token: str, host: str = "127.0.0.1",
               port: int = 8765) -> Guard:  # fmt: skip
    """The workbench as an ASGI app: routes around ``workbench`` behind the guard.

    Parameters
    ----------
    workbench : Workbench
    token : str
        What every request must carry (bearer header or the session cookie).
    host, port : str, int
        Where the server listens: the only ``Host`` / ``Origin`` it accepts.
    """
    jobs = Jobs(workbench.workspace / "jobs")
    routes = [*_page_routes(), *_study_routes(workbench), *_file_routes(workbench),
              *_site_routes(workbench, jobs)]  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        jobs.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.workbench = workbench
    app.state.jobs = jobs
    return Guard(app, token, allowed_hosts(host, port), port)


def _call(fn):
    """A route running ``fn(request, body)`` in a worker thread, errors as JSON."""

    async def endpoint(request: Request):
        try:
            body = await _body(request) if request.method in ("POST", "PATCH") else {}
            result = await run_in_threadpool(fn, request, body)
        except (InputError, EditConflict, NotFound, BodyTooLarge) as exc:
            return _error(exc)
        return result if isinstance(result, Response) else _json(result)

    return endpoint


def _page_routes() -> list[Route]:
    """The page and its packaged assets (nothing from elsewhere)."""
    files = static_files()

    async def index(request: Request):
        return FileResponse(files_index(), media_type="text/html; charset=utf-8")

    async def static(request: Request):
        name = request.path_params["name"]
        if name not in files:
            return _json({"error": "not found"}, 404)
        return FileResponse(files[name], media_type=_STATIC[name][2])

    return [Route("/", index), Route("/static/{name:path}", static),
            Route("/favicon.ico", lambda r: Response(status_code=204))]  # fmt: skip


def _study_routes(wb: Workbench) -> list[Route]:
    """Reading the study and editing it: facilities, minutes, proposals, undo / redo."""
    v = _version
    return [
        Route("/api/state", _call(lambda r, b: wb.state())),
        Route("/api/panel", _call(lambda r, b: wb.state(full=False))),
        Route("/api/version", _call(lambda r, b: {"version": wb.version,
                                                  "points_version": wb.points_version})),
        Route("/api/layers", _call(lambda r, b: wb.layers())),
        Route("/api/residents", _call(lambda r, b: wb.residents())),
        Route("/api/facilities", _call(lambda r, b: wb.add_facility(b, v(r, b))
                                       if r.method == "POST" else {"facilities": wb.facilities(),
                                                                   "version": wb.version}),
              methods=["GET", "POST"]),
        Route("/api/facilities/{id}", _call(
            lambda r, b: wb.remove_facility(r.path_params["id"], r.headers.get("if-match"))
            if r.method == "DELETE" else wb.update_facility(r.path_params["id"], b, v(r, b))),
              methods=["PATCH", "DELETE"]),
        Route("/api/categories/{category}", _call(
            lambda r, b: wb.set_minutes(r.path_params["category"], b, v(r, b))),
              methods=["PATCH"]),
        Route("/api/proposals", _call(lambda r, b: wb.add_proposal(b, v(r, b))),
              methods=["POST"]),
        Route("/api/proposals/{name}", _call(
            lambda r, b: wb.remove_proposal(r.path_params["name"], r.headers.get("if-match"))),
              methods=["DELETE"]),
        Route("/api/undo", _call(lambda r, b: wb.undo(v(r, b))), methods=["POST"]),
        Route("/api/redo", _call(lambda r, b: wb.redo(v(r, b))), methods=["POST"]),
    ]  # fmt: skip


def _file_routes(wb: Workbench) -> list[Route]:
    """Files in and out: facility uploads, exports, saved studies."""

    def export(request, body):
        name = request.path_params["name"]
        if name == "scenario.zip":
            return _download(wb.scenario_zip(), "scenario.zip", "application/zip")
        if name == "outputs.zip":
            return _download(wb.outputs_zip(), "coverage.zip", "application/zip")
        if name in ("scenario.toml", "study_facilities.csv"):
            data = wb.scenario_files()[name]
            media = "text/plain; charset=utf-8" if name.endswith("toml") else "text/csv"
            return _download(data, name, media)
        raise NotFound(f"no export {name[:40]!r}")

    async def upload(request: Request):
        q = request.query_params
        try:
            data = await request.body()
            reply = await run_in_threadpool(
                lambda: wb.upload_facilities(data, fmt=q.get("format", ""), crs=q.get("crs"),
                                             category=q.get("category"),
                                             label=q.get("name", "upload"),
                                             version=request.headers.get("if-match")))
        except (InputError, EditConflict, NotFound, BodyTooLarge) as exc:
            return _error(exc)
        return _json(reply)

    def studies(request, body):
        if request.method == "POST":
            return wb.save(body.get("name"))
        return {"saved": wb.saved()}

    return [
        Route("/api/uploads/facilities", upload, methods=["POST"]),
        Route("/api/export/{name}", _call(export)),
        Route("/api/studies", _call(studies), methods=["GET", "POST"]),
        Route("/api/studies/open", _call(lambda r, b: wb.open(b.get("name"))), methods=["POST"]),
    ]  # fmt: skip


def _download(data: bytes, name: str, media: str) -> Response:
    """``data`` as an attachment named ``name`` (a name chosen by the server)."""
    return Response(data, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


def _site_routes(wb: Workbench, jobs: Jobs) -> list[Route]:
    """Site suggestions: start a job, follow or cancel it, accept its sites as one edit."""

    def sites_start(request, body):
        with wb.lock:
            job = jobs.start(wb.study, str(body.get("category", "")), body.get("add", 1),
                             body.get("time_limit", 60), body.get("spacing_m", 300))
        return job.status()

    def sites_job(request, body):
        job_id = request.path_params["job"]
        if request.method == "DELETE":
            return jobs.cancel(job_id)
        return jobs.get(job_id).status()

    def sites_accept(request, body):
        job = jobs.get(request.path_params["job"])
        status = job.status()
        if status["state"] != "done":
            raise InputError(f"the site suggestion is {status['state']}", column="sites",
                             hint="wait until it is done")  # fmt: skip
        if job.accepted:
            raise InputError("these sites were accepted already", column="sites",
                             hint="undo to take them back")  # fmt: skip
        import pandas as pd

        chosen = pd.DataFrame(status["sites"])
        wanted = body.get("ids")
        if wanted is not None:
            chosen = chosen[chosen["id"].isin([str(x) for x in wanted])]
        cat = next(c for c in wb.categories() if c["id"] == job.category)
        attrs = {cat["capacity"]: body["capacity"]} if body.get("capacity") else {}
        reply = wb._edit(lambda: wb.study.accept_sites(chosen, **attrs), _version(request, body))
        job.accepted = True
        return reply

    return [
        Route("/api/sites", _call(sites_start), methods=["POST"]),
        Route("/api/sites/{job}", _call(sites_job), methods=["GET", "DELETE"]),
        Route("/api/sites/{job}/accept", _call(sites_accept), methods=["POST"]),
    ]


def files_index() -> Path:
    """The page (``static/workbench/index.html``)."""
    return Path(str(resources.files("hzspatial") / "static" / "workbench" / "index.html"))
