"""Configuration data shipped with hzspatial (TOML files in this package)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

__all__ = ["load", "parse_user_toml"]


@cache
def load(name: str) -> dict:
    """The parsed ``hzspatial/config/<name>`` TOML file (cached; do not mutate)."""
    return tomllib.loads(resources.files("hzspatial.config").joinpath(name).read_text("utf-8"))


def parse_user_toml(text: str, label: str) -> dict:
    """A user's TOML text (catalogue, scenarios, rules) as a dict, or one :class:`InputError`
    naming the file: bad syntax, or nesting too deep to read (50,000 nested arrays make
    Python's TOML reader recurse past its limit)."""
    from hzspatial.errors import InputError

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", file=label,
                         hint="fix the syntax (a TOML checker names the line)") from exc
    except RecursionError as exc:
        raise InputError("nested too deeply to read", file=label,
                         hint="values are numbers, text, or short lists") from exc
