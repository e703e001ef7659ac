"""A throwaway PostgreSQL + PostGIS cluster for the tests: Debian's server binaries, a data
folder and a Unix socket in a temporary folder (no TCP port), trust authentication for the
local socket only; stopped and removed after. As root the server runs as ``postgres`` (it
refuses to run as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> bool:
    """Whether Debian's PostgreSQL 15 server and PostGIS 3 are installed."""
    return (BIN / "initdb").exists() and any(
        Path("/usr/share/postgresql/15/extension").glob("postgis.control"))


class Cluster:
    """``with Cluster() as url:`` — a database ``hz`` with PostGIS, reachable at ``url``."""

    def __enter__(self) -> str:
        self.dir = Path(tempfile.mkdtemp(prefix="hzpg"))
        self.dir.chmod(0o755)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run(BIN / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        self._run(BIN / "pg_ctl", "-D", data, "-w", "-l", self.dir / "log", "-o",
                  f"-k {self.dir} -c listen_addresses='' -c fsync=off", "start")  # fmt: skip
        self.url = f"postgresql://postgres@/hz?host={self.dir}"
        subprocess.run([BIN / "createdb", "-h", str(self.dir), "-U", "postgres", "hz"],
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run(["psql", "-h", str(self.dir), "-U", "postgres", "-d", "hz", "-q", "-c",
                        "CREATE EXTENSION postgis"], check=True, capture_output=True)
        return self.url

    def _run(self, *cmd) -> None:
        subprocess.run([*self.as_user, *map(str, cmd)], check=True, capture_output=True)

    def __exit__(self, *exc) -> None:
        subprocess.run([*self.as_user, str(BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m",
                        "immediate", "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)
