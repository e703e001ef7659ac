"""Starting the workbench: the study built, the server on a local port, the browser opened.

>>> from hzspatial import Study, demo_inputs
>>> from hzspatial.workbench.server import serve
>>> serve(Study(**demo_inputs()), workspace="hzspatial-workbench")   # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from hzspatial.errors import InputError
from hzspatial.study import Study
from hzspatial.workbench.app import create_app
from hzspatial.workbench.security import new_token
from hzspatial.workbench.session import Workbench

__all__ = ["Server", "is_loopback", "serve", "start"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running workbench server (:func:`start`)."""

    url: str
    token: str
    workbench: Workbench
    thread: threading.Thread
    server: object

    @property
    def login_url(self) -> str:
        """The address with the token (opens the page and sets the session cookie)."""
        return f"{self.url}/?token={self.token}"

    def stop(self) -> None:
        """Stop serving (siting runs are ended)."""
        self.server.should_exit = True
        self.thread.join(10)


def _checked(host: str, port: int | None, token: str | None) -> tuple[int, str]:
    if not is_loopback(host) and not token:
        raise InputError(f"--host {host} would open the workbench to other machines",
                         column="--host", hint="give --token TOKEN (at least 16 characters) "
                         "to do that on purpose, or leave --host out (127.0.0.1)")  # fmt: skip
    if token is not None and len(token) < 16:
        raise InputError("the token is shorter than 16 characters", column="--token",
                         hint="use a long random token, or leave --token out for a new one")
    if port is not None and not 0 < port < 65536:
        raise InputError(f"port {port} is not a TCP port", column="--port",
                         hint="use 1024–65535, or leave --port out")  # fmt: skip
    return (port or free_port(host if is_loopback(host) else "0.0.0.0")), (token or new_token())


def start(study: Study | Workbench, *, workspace: str | Path | None = None,
          host: str = "127.0.0.1", port: int | None = None, token: str | None = None,
          log_level: str = "warning") -> Server:  # fmt: skip
    """Serve the workbench in a background thread; returns once it listens.

    Parameters
    ----------
    study : Study or Workbench
    workspace : path, optional
        Where the workbench writes (saved studies, proposals, jobs); required with a Study.
    host : str
        Address to listen on (default this machine only); another needs ``token``.
    port : int, optional
        TCP port (default: a free one).
    token : str, optional
        The access token (default: a new random one).
    """
    import uvicorn

    port, token = _checked(host, port, token)
    wb = study if isinstance(study, Workbench) else Workbench(study, workspace)
    app = create_app(wb, token=token, host=host, port=port)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                            server_header=False, date_header=False,
                            limit_concurrency=64, timeout_keep_alive=30)  # fmt: skip
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # the caller's thread owns the signals
    thread = threading.Thread(target=server.run, name="hzspatial-workbench", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise InputError(f"the workbench could not listen on {host}:{port}",
                             column="--port", hint="another program may use it; try "
                             "another --port")  # fmt: skip
        thread.join(0.05)
    shown = f"[{host}]" if ":" in host else host
    return Server(f"http://{shown}:{port}", token, wb, thread, server)


def serve(study: Study | Workbench, *, workspace: str | Path | None = None,
          host: str = "127.0.0.1", port: int | None = None, token: str | None = None,
          browser: bool = True, out=sys.stderr) -> None:  # fmt: skip
    """Serve the workbench until Ctrl-C, printing its address (and opening the browser)."""
    running = start(study, workspace=workspace, host=host, port=port, token=token)
    wb = running.workbench
    print(f"hzspatial workbench — {wb.study!r}", file=out)
    if wb.layers()["synthetic"]:
        print(f"  synthetic demo data / 合成示例数据: {wb.layers()['synthetic']}", file=out)
    print(f"  workspace: {wb.workspace}", file=out)
    if not is_loopback(host):
        print(f"  listening on {host}: anyone who can reach this machine and holds the token "
              "can read and edit this study and download its inputs and outputs", file=out)
    print(f"  open: {running.login_url}", file=out)
    print("  Ctrl-C stops it.", file=out, flush=True)
    if browser:
        webbrowser.open(running.login_url)
    try:
        while running.thread.is_alive():
            running.thread.join(0.5)
    except KeyboardInterrupt:
        print("hzspatial: workbench stopped", file=out)
    finally:
        running.stop()
