"""Atomic output: files are staged in a temporary folder and moved into place when complete."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["jsonable", "staged_output", "write_geojson", "write_json"]


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


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """GeoJSON in WGS84 with 6-decimal coordinates (~0.1 m)."""
    gdf.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=6)


def jsonable(obj):
    """Plain-Python copy of nested results for JSON: NumPy scalars unwrapped, NaN/inf → None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is pd.NA:
        return None
    return obj


def write_json(obj, path: Path) -> None:
    """UTF-8 JSON (Chinese kept readable), NaN/inf written as null."""
    Path(path).write_text(json.dumps(jsonable(obj), ensure_ascii=False, indent=2), "utf-8")
