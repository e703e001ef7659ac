"""Atomic output: files are staged in a temporary folder and moved into place when complete."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["staged_output"]


@contextlib.contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out_dir``.

    Files are written into a temporary sibling folder of ``out_dir``. Only when
    the block finishes without an exception is each file renamed into
    ``out_dir`` (an atomic rename on the same file system), so an interrupted
    or failed run never leaves half-written outputs; on failure the staging
    folder is removed and ``out_dir`` is untouched.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield stage
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(stage.rglob("*")):
            if item.is_file():
                target = out / item.relative_to(stage)
                target.parent.mkdir(parents=True, exist_ok=True)
                item.replace(target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
