"""Site suggestions run in the background: ``hzspatial site`` on the study as edited now.

A siting run takes seconds to minutes, so it runs in a process of its own (the server keeps
answering, and "cancel" ends it at once): the study is saved into the job's folder, the
process reopens it (:meth:`Study.open`), calls :func:`hzspatial.site.select_sites` with
``study=`` and writes the chosen sites as ``sites.json``. Progress is the elapsed time and
the run's last log line; the page offers the sites, and accepting them is one study edit.

Run directly (the server does): ``python -m hzspatial.workbench.jobs STUDY OUT CATEGORY ADD
TIME_LIMIT SPACING``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Job", "Jobs"]

#: Most sites one suggestion may ask for, and the longest time limit (s).
MAX_ADD, MAX_SECONDS = 50, 600


@dataclass
class Job:
    """One background siting run."""

    id: str
    category: str
    add: int
    time_limit: float
    spacing_m: float
    folder: Path
    process: subprocess.Popen
    started: float = field(default_factory=time.monotonic)
    cancelled: bool = False
    accepted: bool = False

    def status(self) -> dict:
        """``{id, category, add, state, seconds, message, sites?, report?}``; state is
        running, done, failed or cancelled."""
        code = self.process.poll()
        out = {"id": self.id, "category": self.category, "add": self.add,
               "time_limit": self.time_limit, "spacing_m": self.spacing_m,
               "accepted": self.accepted,
               "seconds": round(time.monotonic() - self.started, 1)}  # fmt: skip
        log = self.folder / "log.txt"
        lines = log.read_text("utf-8", errors="replace").splitlines() if log.is_file() else []
        out["message"] = lines[-1][-300:] if lines else ""
        result = self.folder / "sites.json"
        if self.cancelled:
            out["state"] = "cancelled"
        elif code is None:
            out["state"] = "running"
        elif code == 0 and result.is_file():
            out["state"] = "done"
            out.update(json.loads(result.read_text("utf-8")))
        else:
            out["state"] = "failed"
            errors = [x for x in lines if "error" in x.lower()]
            out["message"] = (errors[-1] if errors else out["message"])[-300:]
        return out


class Jobs:
    """The workbench's siting runs (one at a time per workbench)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def start(self, study, category: str, add: int, time_limit: float,
              spacing_m: float = 300.0) -> Job:
        """Save ``study`` into a new job folder and start the run: ``add`` sites (1–50) for
        ``category`` among street junctions at most one per ``spacing_m`` (metres) square,
        ``time_limit`` seconds for the solver (5–600)."""
        from hzspatial.errors import InputError, check_number

        add_f = check_number(add, "add", minimum=1, strict=False, maximum=MAX_ADD)
        if add_f != int(add_f):
            raise InputError(f"add must be a whole number (got {add!r})", column="add",
                             hint="give how many sites to suggest, e.g. 3")  # fmt: skip
        add = int(add_f)
        time_limit = check_number(time_limit, "time_limit", minimum=5, strict=False,
                                  maximum=MAX_SECONDS)  # fmt: skip
        spacing_m = check_number(spacing_m, "spacing_m", minimum=50, strict=False, maximum=5000)
        if category not in study.minutes:
            raise InputError(f"category {str(category)[:80]!r} is not in the study",
                             column="category", hint=f"use one of {', '.join(study.minutes)}")
        with self.lock:
            for job in self.jobs.values():
                if job.process.poll() is None and not job.cancelled:
                    raise InputError("a site suggestion is already running", column="sites",
                                     hint="wait for it or cancel it")  # fmt: skip
            job_id = secrets.token_hex(6)
            folder = self.root / job_id
            folder.mkdir(parents=True)
            study.save(folder / "study")
            log = open(folder / "log.txt", "w", encoding="utf-8")  # noqa: SIM115 (the child's)
            env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
            process = subprocess.Popen(
                [sys.executable, "-m", "hzspatial.workbench.jobs", str(folder / "study"),
                 str(folder), category, str(add), str(time_limit), str(spacing_m)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True)  # fmt: skip
            log.close()
            job = Job(job_id, category, add, time_limit, spacing_m, folder, process)
            self.jobs[job_id] = job
            return job

    def get(self, job_id: str) -> Job:
        """The job with this id (:class:`~hzspatial.workbench.session.NotFound` if none)."""
        from hzspatial.workbench.session import NotFound

        job = self.jobs.get(str(job_id))
        if job is None:
            raise NotFound(f"no site suggestion {str(job_id)[:40]!r}")
        return job

    def cancel(self, job_id: str) -> dict:
        """Stop a run (its folder is removed)."""
        job = self.get(job_id)
        job.cancelled = True
        if job.process.poll() is None:
            job.process.terminate()
            try:
                job.process.wait(5)
            except subprocess.TimeoutExpired:
                job.process.kill()
                job.process.wait()
        status = job.status()
        shutil.rmtree(job.folder, ignore_errors=True)
        return status

    def close(self) -> None:
        """Stop every run (the server is stopping)."""
        for job_id in list(self.jobs):
            if self.jobs[job_id].process.poll() is None:
                self.cancel(job_id)


def _main(argv: list[str]) -> int:
    """The job process: reopen the study, choose the sites, write ``sites.json``."""
    import logging

    from hzspatial.errors import InputError
    from hzspatial.site import select_sites
    from hzspatial.study import Study

    study_dir, out, category, add, time_limit, spacing = argv
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    print("打开研究 / opening the study", flush=True)
    try:
        study = Study.open(study_dir)
        print(f"选址中 / choosing {add} sites for {category}", flush=True)
        result = select_sites(None, [], None, category=category, add=int(add), curve=False,
                              time_limit=float(time_limit), spacing_m=float(spacing),
                              study=study)  # fmt: skip
    except InputError as exc:
        print(f"error: {exc.line()}", flush=True)
        return 2
    sites = result.sites
    report = result.report
    data = {"sites": [{"id": str(r.id), "name": str(r.name), "category": str(r.category),
                       "lon": float(r.lon), "lat": float(r.lat),
                       "newly_covered": float(r.newly_covered)}
                      for r in sites.itertuples()],
            "report": {k: report.get(k) for k in ("objective", "already_served",
                                                   "newly_covered", "covered_after", "bound",
                                                   "gap", "status", "solver")}}  # fmt: skip
    tmp = Path(out) / "sites.json.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), "utf-8")
    tmp.replace(Path(out) / "sites.json")
    print(f"完成 / done: {len(sites)} sites", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
