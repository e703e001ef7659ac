"""The static maps of a coverage run drawn for ``map.png`` and the report, in another process.

Only the standard library is imported here: :class:`FigureJob` can be started (forked) before
the analysis' libraries are loaded, and loads what drawing needs itself meanwhile.
"""

from __future__ import annotations

import gc
import io
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from hzspatial.results import CoverageResult

__all__ = ["FigureJob", "draw_figures"]


def draw_figures(result: CoverageResult, png: str | Path | None = None) -> dict[str, bytes]:
    """Each category's static map drawn once: JPEG bytes for the report, and ``map.png``
    (:func:`hzspatial.maps.static.coverage_png`) written to ``png`` when given."""
    panels = _draw_panels(result)
    if png is not None:
        _write_png(result, png, panels)
    return _jpegs(panels)


def _draw_panels(result: CoverageResult) -> dict[str, np.ndarray]:
    from hzspatial.maps.static import category_image, scene

    sc = scene(result)
    return {c: category_image(result, c, prepared=sc) for c in result.summary["categories"]}


def _write_png(result: CoverageResult, png: str | Path, panels: dict[str, np.ndarray]) -> None:
    from hzspatial.maps.static import coverage_png

    coverage_png(result, png, drawn=panels)


#: In a :class:`FigureJob` process: the result and panels last drawn, for ``map.png``.
_DRAWN: tuple | None = None


def _warm_up() -> None:
    """Load what drawing needs ahead of time: the analysis' libraries (the result arrives
    pickled), matplotlib, the static maps, and the CJK fonts (a line of text is drawn so that
    the font files are read now)."""
    # what this process was forked with is left out of its garbage collection: a collection
    # would touch every object and so copy the memory pages it shares with its parent
    gc.freeze()
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    import hzspatial.results  # noqa: F401 - geopandas, pandas
    from hzspatial.maps.static import _pil_font, _rc

    with mpl.rc_context(_rc()):
        fig = Figure(figsize=(1, 1), dpi=50)
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, "汉中 Hanzhong 0123", fontsize=9)
        fig.canvas.draw()
    _pil_font(34)
    _pil_font(22)


def _draw_job(result: CoverageResult) -> dict[str, bytes]:
    global _DRAWN
    panels = _draw_panels(result)
    _DRAWN = (result, panels)
    return _jpegs(panels)


def _png_job(png: str) -> None:
    global _DRAWN
    result, panels = _DRAWN
    _DRAWN = None
    _write_png(result, png, panels)


class FigureJob:
    """The static maps drawn in one other process, started (and warmed up: matplotlib and
    fonts loaded) before there is anything to draw, so that this costs nothing while the
    analysis runs. :meth:`draw` hands it a result, :meth:`result` waits for the report's
    JPEGs and has it write ``map.png`` next, :meth:`finish` waits for that. Where processes
    cannot be forked (a batch worker, ``$HZSPATIAL_WORKERS=1``, no ``fork``) everything is
    drawn in this process."""

    def __init__(self):
        self._pool = self._future = self._png_future = self._panels = self._warm = None
        self._args: tuple | None = None
        forkable = "fork" in mp.get_all_start_methods() and not mp.current_process().daemon
        if forkable and os.environ.get("HZSPATIAL_WORKERS") != "1":
            self._pool = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
            self._warm = self._pool.submit(_warm_up)

    def when_ready(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in another thread) once the drawing process has loaded what it
        needs — at once where everything is drawn in this process."""
        if self._warm is None:
            callback()
        else:
            self._warm.add_done_callback(lambda _: callback())

    def draw(self, result: CoverageResult, png: str | Path | None = None) -> None:
        """Start drawing ``result``'s static maps (``map.png`` into ``png`` when given)."""
        self._args = (result, png)
        if self._pool is not None:
            self._future = self._pool.submit(_draw_job, result)

    def result(self) -> dict[str, bytes]:
        """Per category: the static map as JPEG bytes (``map.png`` follows)."""
        result, png = self._args
        if self._pool is None:
            self._panels = _draw_panels(result)
            return _jpegs(self._panels)
        jpegs = self._future.result()
        if png is not None:
            self._png_future = self._pool.submit(_png_job, str(png))
        return jpegs

    def finish(self) -> None:
        """Wait until ``map.png`` is written (raising what stopped it)."""
        result, png = self._args
        if self._pool is None:
            if png is not None:
                _write_png(result, png, self._panels)
            self._panels = None
        elif self._png_future is not None:
            self._png_future.result()

    def close(self) -> None:
        """Stop the process (pending work is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _jpegs(panels: dict[str, np.ndarray]) -> dict[str, bytes]:
    """Map panels for the report as JPEG (a third of the PNG's bytes; Chromium puts them in
    the PDF as they are instead of compressing the pixels again)."""
    from PIL import Image

    out = {}
    for cat, pixels in panels.items():
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
        out[cat] = buf.getvalue()
    return out
