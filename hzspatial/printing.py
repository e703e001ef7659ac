"""``report.pdf``: an HTML report printed by a headless Chromium-family browser.

The browser is started as soon as the outputs begin to be written (its start-up, about half a
second, overlaps the other writers) and driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: commands on its descriptor 3, replies on 4, each a JSON message
ended by a NUL byte) — no network port, nothing leaves the machine. When the report is ready
:meth:`PdfJob.print` loads it and prints it (A4 from the page's CSS) in a background thread;
:meth:`PdfJob.finish` waits and says whether it worked.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from hzspatial.io.outdir import remove_tree

__all__ = ["BROWSERS", "PdfJob", "find_browser"]

logger = logging.getLogger(__name__)

#: Browsers that can print the report to PDF, tried in order ($HZSPATIAL_CHROMIUM first).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "msedge")
#: Seconds the browser may take to load and print the report.
TIMEOUT_S = 180.0
#: Seconds a started browser may take to answer its first command (a program that is not a
#: Chromium-family browser never does).
HANDSHAKE_S = 30.0


def find_browser() -> str | None:
    """A Chromium-family browser to print PDFs with: ``$HZSPATIAL_CHROMIUM`` or the first of
    :data:`BROWSERS` on the PATH."""
    env = os.environ.get("HZSPATIAL_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    return next((p for b in BROWSERS if (p := shutil.which(b))), None)


#: Started in place of the browser: puts the two pipe ends it is given on descriptors 3 and 4
#: (where the browser looks for them) and becomes the browser. Python rather than a shell: a
#: POSIX shell may only name descriptors 0–9.
_ON_3_AND_4 = (
    "import os, sys; r, w = int(sys.argv[1]), int(sys.argv[2]); os.dup2(r, 3); "
    "os.dup2(w, 4); os.close(r); os.close(w); os.execvp(sys.argv[3], sys.argv[3:])"
)


def _high_pipe() -> tuple[int, int]:
    """``os.pipe()`` with both descriptors numbered 10 or more."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


class _Pipe:
    """The DevTools protocol over the browser's pipe: :meth:`call` sends a command and returns
    its result; events are kept until :meth:`wait_event` asks for them."""

    def __init__(self, to_browser: int, from_browser: int):
        self._out, self._in = to_browser, from_browser
        self._buf = b""
        self._next = 0
        self._events: list[dict] = []

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise ConnectionError("the browser closed its pipe")
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method: str, params: dict | None, session: str | None,
             deadline: float) -> dict:  # fmt: skip
        """Send ``method`` and wait (until ``deadline``, a ``time.monotonic()`` value) for its
        result."""
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._out, data) :]
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_event(self, method: str, session: str, deadline: float) -> dict:
        while True:
            for i, e in enumerate(self._events):
                if e["method"] == method and e.get("sessionId") == session:
                    return self._events.pop(i)
            reply = self._read(deadline)
            if "method" in reply:
                self._events.append(reply)


#: Sets each image's ``src`` and waits until all are decoded (so the print holds them).
_PUT_IMAGES = (
    "(function (m) { return Promise.all(Object.keys(m).map(function (id) {"
    " var i = document.getElementById(id); if (!i) { throw new Error('no image ' + id); }"
    " i.src = m[id]; return i.decode(); })).then(function () { return true; }); })"
)


def _put_images(pipe: _Pipe, session: str, images: dict[str, str], deadline: float) -> None:
    """Put ``images`` (element id → ``src``) into the loaded page and wait for them."""
    expr = f"{_PUT_IMAGES}({json.dumps(images)})"
    res = pipe.call("Runtime.evaluate", {"expression": expr, "awaitPromise": True,
                                         "returnByValue": True}, session, deadline)  # fmt: skip
    if res.get("exceptionDetails") or res.get("result", {}).get("value") is not True:
        detail = res.get("exceptionDetails", {}).get("exception", {}).get("description", "")
        raise RuntimeError(f"could not put the maps into the report: {detail or res}")


def _helpers(group: int, profile: str) -> list[int]:
    """The running processes (zombies, which write nothing, aside) of process group
    ``group`` or naming ``profile`` on their command line — Chromium's crash handlers leave
    the group (their own session) but keep their database inside the profile. Empty where
    ``/proc`` cannot tell."""
    mine = os.getpid()
    needle = os.fsencode(profile)
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if len(fields) < 3 or fields[0] == "Z" or pid == mine:
                continue
            if fields[2] == str(group) or needle in (stat.parent / "cmdline").read_bytes():
                found.append(pid)
        except (OSError, IndexError, ValueError):
            continue
    return found


class PdfJob:
    """A headless browser started now, printing an HTML file to PDF when asked (see the
    module docstring). Without a browser every method does nothing and :meth:`finish` says
    False, with a log line naming what to install."""

    def __init__(self, browser: str | None, pdf: Path):
        self.pdf = Path(pdf)
        self.browser = browser
        self._proc = self._pipe = self._thread = self._session = None
        self._profile: str | None = None
        self._error: str | None = None
        self._fds: list[int] = []
        if browser is None:
            logger.info("report.pdf not written: no Chromium-family browser found (install "
                        "chromium, or set HZSPATIAL_CHROMIUM)")  # fmt: skip
            return
        # the browser's profile lives beside the PDF (in the staging folder inside --out) and
        # is removed before the outputs are moved into place
        self._profile = tempfile.mkdtemp(prefix=".chromium-profile-", dir=self.pdf.parent)
        # the ends the browser gets are numbered above 9 so that putting them on 3 and 4
        # cannot overwrite one with the other
        cmd_r, cmd_w = _high_pipe()
        res_r, res_w = _high_pipe()
        args = ["--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--disable-extensions", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--mute-audio",
                "--disable-crash-reporter", "--disable-breakpad",
                # headless Chromium still builds the address bar's suggestion popup (a WebUI
                # page in its own renderer): 0.75 of its 1.35 CPU-seconds of start-up here
                "--disable-features=WebUIOmniboxAimPopup,WebUIOmniboxPopup,WebUIOmniboxFullPopup",
                f"--user-data-dir={self._profile}", "about:blank"]  # fmt: skip
        # its home is the profile folder too: what it keeps under ~/.config and ~/.cache
        # (crash reports, dconf) stays inside --out and goes with the profile
        home = {"HOME": self._profile, "XDG_CONFIG_HOME": f"{self._profile}/.config",
                "XDG_CACHE_HOME": f"{self._profile}/.cache",
                "XDG_DATA_HOME": f"{self._profile}/.local/share"}  # fmt: skip
        try:
            self._proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _ON_3_AND_4,
                                           str(cmd_r), str(res_w), browser, *args],
                                          pass_fds=(cmd_r, res_w), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, env=os.environ | home,
                                          start_new_session=True)  # fmt: skip
        except OSError as e:
            self._error = f"could not start {browser}: {e}"
            os.close(cmd_w)
            os.close(res_r)
        else:
            self._pipe = _Pipe(cmd_w, res_r)
            self._fds = [cmd_w, res_r]
        finally:
            os.close(cmd_r)
            os.close(res_w)

    @classmethod
    def start(cls, pdf: str | Path) -> PdfJob:
        """Start the browser (:func:`find_browser`) that will print ``pdf``."""
        return cls(find_browser(), Path(pdf))

    def preload(self, html: str) -> None:
        """Load the page ``html`` (text: the report with its images left empty) in the
        background, so that :meth:`print` only has to put the images in and print: the
        browser lays the text out while the images are still being drawn."""
        if self._pipe is None:
            return
        page = Path(self._profile) / "report-preload.html"
        page.write_text(html, encoding="utf-8")
        self._thread = threading.Thread(target=self._guarded, args=(self._load, page),
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def print(self, html: str | Path, images: dict[str, str] | None = None) -> None:
        """Print to the PDF, in a background thread: the page :meth:`preload` loaded with
        ``images`` (element id → ``src``) put in — ``html`` being the same page with them,
        as written — or else ``html`` loaded now."""
        if self._pipe is None:
            return
        before = self._thread
        self._thread = threading.Thread(target=self._guarded, args=(self._print, Path(html),
                                                                     images, before),
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def _guarded(self, work, *args) -> None:
        try:
            work(*args)
        except Exception as e:  # noqa: BLE001 - reported by finish(), not lost in the thread
            self._error = self._error or (f"{type(e).__name__}: {e}" if str(e)
                                          else type(e).__name__)  # fmt: skip

    def _load(self, html: Path) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        call, pipe = self._pipe.call, self._pipe
        try:
            target = call("Target.createTarget", {"url": "about:blank"}, None,
                          min(deadline, time.monotonic() + HANDSHAKE_S))  # fmt: skip
        except TimeoutError:
            raise TimeoutError("it does not answer on its DevTools pipe (is it a "
                               "Chromium-family browser?)") from None  # fmt: skip
        attach = {"targetId": target["targetId"], "flatten": True}
        sid = call("Target.attachToTarget", attach, None, deadline)["sessionId"]
        call("Page.enable", None, sid, deadline)
        nav = call("Page.navigate", {"url": html.resolve().as_uri()}, sid, deadline)
        if nav.get("errorText"):
            raise RuntimeError(f"could not open the report: {nav['errorText']}")
        pipe.wait_event("Page.loadEventFired", sid, deadline)
        self._session = sid

    def _print(self, html: Path, images: dict[str, str] | None,
               before: threading.Thread | None) -> None:  # fmt: skip
        deadline = time.monotonic() + TIMEOUT_S
        if before is not None:
            before.join(TIMEOUT_S)
        if self._error is not None:
            return
        if images is None or self._session is None:
            self._load(html)
        else:
            _put_images(self._pipe, self._session, images, deadline)
        options = {"preferCSSPageSize": True, "printBackground": True,
                   "displayHeaderFooter": False}  # fmt: skip
        pdf = self._pipe.call("Page.printToPDF", options, self._session, deadline)
        self.pdf.write_bytes(base64.b64decode(pdf["data"]))

    def finish(self) -> bool:
        """Wait for the print, close the browser; True when the PDF was written."""
        if self._proc is None:
            if self._error:
                logger.warning("report.pdf not written: %s (%s)", self._error, self.browser)
            return False
        try:
            if self._thread is None:
                self._error = self._error or "nothing was printed"
            else:
                self._thread.join(TIMEOUT_S)
                if self._thread.is_alive():
                    self._error = "the browser did not print the report in time"
        finally:
            # the PDF's bytes are in hand: the browser is stopped at once rather than asked
            # to close (which takes it ~0.1 s longer), printed or not
            self._stop()
        ok = self._error is None and self.pdf.is_file() and self.pdf.stat().st_size > 0
        if not ok:
            self.pdf.unlink(missing_ok=True)
            logger.warning("report.pdf not written: %s (%s)",
                           self._error or "the browser did not print the report",
                           self.browser)  # fmt: skip
        return ok

    def abort(self) -> None:
        """Stop the browser if it still runs (the other outputs failed); no PDF is kept."""
        if self._proc is not None:
            self._stop()
            self.pdf.unlink(missing_ok=True)

    def _stop(self) -> None:
        group = self._proc.pid  # the browser runs in its own process group (session)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        # the browser's helpers (renderer, GPU, crash handlers, …) are gone before its profile
        # is removed: one still starting up would write into the folder again (CI found an
        # --out left behind by a crash handler writing its database while it was removed)
        deadline = time.monotonic() + 5
        while (alive := _helpers(group, self._profile)) and time.monotonic() < deadline:
            for pid in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        self._proc = None
        remove_tree(self._profile)

    def __enter__(self) -> PdfJob:
        return self

    def __exit__(self, *exc) -> None:
        self.abort()
