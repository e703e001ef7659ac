"""Environment settings (not analysis parameters): cache folder and whether to use it.

Read once from the environment when first asked for, never at import:
``HZSPATIAL_CACHE_DIR`` (default ``~/.cache/hzspatial``) and ``HZSPATIAL_NO_CACHE=1``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Settings", "get_settings"]


@dataclass(frozen=True)
class Settings:
    """Where built graphs are cached, and whether to use the cache."""

    cache_dir: Path
    use_cache: bool = True


@cache
def get_settings() -> Settings:
    """The settings from the environment (cached after the first call)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hzspatial"
    return Settings(
        cache_dir=Path(os.environ.get("HZSPATIAL_CACHE_DIR", default)),
        use_cache=os.environ.get("HZSPATIAL_NO_CACHE", "") not in ("1", "true", "yes"),
    )
