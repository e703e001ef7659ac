"""Environment settings (not analysis parameters): cache folder and whether to use it.

Read once from the environment when first asked for, never at import:
``HZSPATIAL_CACHE_DIR`` (default ``~/.cache/hzspatial``), ``HZSPATIAL_NO_CACHE=1`` and
``HZSPATIAL_SNAP_RULES`` (a TOML file replacing ``hzspatial/config/snapping.toml``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Settings", "get_settings"]


@dataclass(frozen=True)
class Settings:
    """Where built graphs are cached, whether to use the cache, and the snapping rules file
    (None: the shipped ``config/snapping.toml``)."""

    cache_dir: Path
    use_cache: bool = True
    snap_rules: Path | None = None


@cache
def get_settings() -> Settings:
    """The settings from the environment (cached after the first call)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hzspatial"
    return Settings(
        cache_dir=Path(os.environ.get("HZSPATIAL_CACHE_DIR", default)),
        use_cache=os.environ.get("HZSPATIAL_NO_CACHE", "") not in ("1", "true", "yes"),
        snap_rules=Path(os.environ["HZSPATIAL_SNAP_RULES"])
        if os.environ.get("HZSPATIAL_SNAP_RULES")
        else None,
    )
