"""WorldPop age/sex rasters: which files hold which age band, and how much of each band a
population group (ages ``lo`` ≤ age < ``hi``) takes.

WorldPop publishes people per cell by sex and age band, one GeoTIFF each, named
``{iso}_{sex}_{age}_{year}[_…].tif``: sex ``f``, ``m`` or ``t`` (both), age the band's lower
bound — ``00`` under 1, ``01`` 1–4, then 5-year bands up to an open top band, ``80`` (80 and
over) in the 2000–2020 releases and ``90`` in R2025A (``chn_f_00_2026_CN_100m_R2025A_v1.tif``).
(https://hub.worldpop.org/project/categories?id=8; R2025A: doi:10.5258/SOTON/WP00841)

What could make a run silently wrong is refused in one line: files of two years, countries
or releases mixed; a band the group needs missing (or only one sex of it); an open top band
that would have to be split. A band given both as ``t`` and as ``f`` + ``m`` is counted once,
from ``t``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hzspatial.errors import InputError

__all__ = ["AgeBands", "find_age_rasters", "group_weights", "needed_files"]

_NAME = re.compile(r"^(?P<iso>[a-z]{3})_(?P<sex>[fmt])_(?P<age>\d{1,2})_(?P<year>\d{4})"
                   r"(?P<rest>_[^.]*)?\.tiff?$", re.IGNORECASE)  # fmt: skip


@dataclass(frozen=True)
class AgeBands:
    """The age bands found: lower bound (years) → (upper bound or ``inf``, files summed).

    Attributes
    ----------
    bands : dict
        ``{60: (65.0, (chn_t_60_2020.tif,))}`` or the ``f`` and ``m`` files of the band.
    missing : dict
        Lower bound → why the band cannot be counted (e.g. only the female file).
    label : str
        ``"WorldPop age/sex rasters chn 2020 (…/ages)"``.
    top : int
        The open top band's lower bound (80 or 90).
    """

    bands: dict[int, tuple[float, tuple[Path, ...]]]
    missing: dict[int, str]
    label: str
    top: int


def find_age_rasters(source: str | Path | Sequence[str | Path]) -> AgeBands:
    """The WorldPop age/sex rasters in ``source``: folders (their ``*.tif`` named like
    WorldPop's) or files (each must be named so)."""
    items = [source] if isinstance(source, str | Path) else list(source)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            inside = sorted(p for p in item.iterdir() if p.is_file() and _NAME.match(p.name))
            if not inside:
                raise InputError("no WorldPop age/sex raster (named like chn_f_60_2020.tif) in "
                                 "the folder", file=str(item), column="--age-rasters",
                                 hint="give the folder the files were unpacked into")  # fmt: skip
            files += inside
        elif not item.is_file():
            raise InputError("no such file or folder", file=str(item), column="--age-rasters",
                             hint="give a folder of WorldPop age/sex rasters")  # fmt: skip
        elif not _NAME.match(item.name):
            raise InputError("not named like a WorldPop age/sex raster "
                             "({iso}_{sex}_{age}_{year}….tif)", file=str(item),
                             column="--age-rasters", hint="name it as WorldPop does, "
                             "e.g. chn_f_60_2020.tif (female, 60–64, 2020)")  # fmt: skip
        else:
            files.append(item)
    if not files:
        raise InputError("no age/sex raster given", column="--age-rasters",
                         hint="give a folder of WorldPop age/sex rasters")  # fmt: skip
    where = ", ".join(str(i) for i in items[:2]) + (" …" if len(items) > 2 else "")
    return _bands(sorted(set(files)), where)


def _bands(files: Sequence[Path], where: str) -> AgeBands:
    parsed = [(p, _NAME.match(p.name)) for p in files]
    for key, what in (("iso", "countries"), ("year", "years"), ("rest", "releases")):
        seen = sorted({(m.group(key) or "").lower() for _, m in parsed})
        if len(seen) > 1:
            mixed = ", ".join(s or "-" for s in seen)
            raise InputError(f"the age/sex rasters mix {what} ({mixed})",
                             file=where, column="--age-rasters",
                             hint="give the files of one country, year and release")  # fmt: skip
    ages = sorted({int(m.group("age")) for _, m in parsed})
    rest = (parsed[0][1].group("rest") or "") if parsed else ""
    top = 90 if ("R20" in rest.upper() or max(ages, default=0) > 80) else 80
    bounds = _bounds(top)
    bands: dict[int, tuple[float, tuple[Path, ...]]] = {}
    missing: dict[int, str] = {}
    for lo, hi in zip(bounds, [*bounds[1:], math.inf], strict=True):
        by_sex = {m.group("sex").lower(): p for p, m in parsed if int(m.group("age")) == lo}
        if "t" in by_sex:
            bands[lo] = (hi, (by_sex["t"],))
        elif "f" in by_sex and "m" in by_sex:
            bands[lo] = (hi, (by_sex["f"], by_sex["m"]))
        else:
            have = " (only the " + {"f": "female", "m": "male"}[next(iter(by_sex))] + " file)" \
                if by_sex else ""
            missing[lo] = f"no file of ages {_band_text(lo, hi)}{have}"
    iso, year = (parsed[0][1].group("iso").lower(), parsed[0][1].group("year")) if parsed \
        else ("?", "?")
    return AgeBands(bands, missing, f"WorldPop age/sex rasters {iso} {year} ({where})", top)


def _band_text(lo: int, hi: float) -> str:
    return f"{lo}+" if math.isinf(hi) else f"{lo}–{int(hi) - 1}"


def group_weights(found: AgeBands, lo: float, hi: float = math.inf,
                  group: str = "") -> tuple[dict[int, float], str, bool]:  # fmt: skip
    """How much of each band the ages ``lo`` ≤ age < ``hi`` take (people assumed spread
    evenly over the single years of a band), a text saying so, and whether a band was split
    (the group's numbers then are estimated).

    Raises
    ------
    InputError
        A band the group needs is missing, or the group would split the open top band.
    """
    weights: dict[int, float] = {}
    parts, split = [], False
    bounds = _bounds(found.top)
    for b_lo, b_hi in zip(bounds, [*bounds[1:], math.inf], strict=True):
        overlap = min(hi, b_hi) - max(lo, b_lo)
        if overlap <= 0:
            continue
        if math.isinf(b_hi) and not (math.isinf(hi) and lo <= b_lo):
            raise InputError(f"ages {_band_text(int(lo), hi)} of group {group} would split the "
                             f"open top band {b_lo}+", column="--age-rasters",
                             hint="end the group below the top band, or take all of it")
        if b_lo in found.missing:
            raise InputError(f"group {group} (ages {_band_text(int(lo), hi)}) needs ages "
                             f"{_band_text(b_lo, b_hi)}: {found.missing[b_lo]}",
                             file=found.label, column="--age-rasters",
                             hint="add that band's t file, or both its f and m files")  # fmt: skip
        w = 1.0 if math.isinf(b_hi) else overlap / (b_hi - b_lo)
        weights[b_lo] = w
        split |= w < 1.0
        parts.append(_band_text(b_lo, b_hi) + ("" if w == 1.0 else f" × {w:g}"))
    text = f"{found.label}: bands " + ", ".join(parts) + " summed" + (
        " (a band split evenly over its single years of age)" if split else "")
    return weights, text, split


def _bounds(top: int) -> list[int]:
    """WorldPop's band lower bounds: under 1, 1–4, then every 5 years up to ``top``+."""
    return [0, 1, *range(5, top + 1, 5)]


def needed_files(weights: Iterable[dict[int, float]], found: AgeBands) -> list[Path]:
    """Every file the groups' weights read, once."""
    return sorted({p for w in weights for b in w for p in found.bands[b][1]})
