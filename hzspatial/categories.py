"""Facility categories: canonical ids, bilingual labels and accepted aliases.

The catalogue is data (``config/categories.toml``); this module only reads it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "Category",
    "Subtype",
    "builtin_categories",
    "resolve_category",
    "resolve_subtype",
    "user_category",
]


@dataclass(frozen=True)
class Subtype:
    """A kind of facility within a category (e.g. a day-care centre among elderly care).

    Attributes
    ----------
    id : str
    label_zh, label_en : str
    aliases : tuple of str
        Lower-cased category / type values that name it exactly.
    keywords : tuple of str
        Lower-cased words that mark it inside a facility's name.
    """

    id: str
    label_zh: str
    label_en: str
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.label_zh} / {self.label_en}"


@dataclass(frozen=True)
class Category:
    """A facility category.

    Attributes
    ----------
    id : str
        Canonical id used in outputs, e.g. ``"elderly_care"``.
    label_zh, label_en : str
        Bilingual labels for maps and reports.
    capacity : str
        Supply attribute besides land area (``beds``, ``places``, ``pitches``).
    colour : str
        Hex colour for maps.
    aliases : tuple of str
        Lower-cased names accepted in a category column.
    subtypes : tuple of Subtype
        Kinds of facility within the category (``config/categories.toml``).
    serves : str
        The population group its coverage counts (``config/groups.toml``; ``all``).
    """

    id: str
    label_zh: str
    label_en: str
    capacity: str = "capacity"
    colour: str = "#34495e"
    aliases: tuple[str, ...] = ()
    subtypes: tuple[Subtype, ...] = ()
    serves: str = "all"

    @property
    def label(self) -> str:
        """``"养老服务设施 / Elderly care"``."""
        return f"{self.label_zh} / {self.label_en}"


@cache
def builtin_categories() -> dict[str, Category]:
    """The built-in categories keyed by id."""
    raw = tomllib.loads(
        resources.files("hzspatial.config").joinpath("categories.toml").read_text("utf-8")
    )
    return {
        key: Category(
            id=key,
            label_zh=v["label_zh"],
            label_en=v["label_en"],
            capacity=v.get("capacity", "capacity"),
            colour=v.get("colour", "#34495e"),
            serves=v.get("serves", "all"),
            aliases=tuple(a.lower() for a in v.get("aliases", ())) + (key.lower(),),
            subtypes=tuple(
                Subtype(
                    sid,
                    sv["label_zh"],
                    sv["label_en"],
                    tuple(a.lower() for a in sv.get("aliases", ())) + (sid.lower(),),
                    tuple(k.lower() for k in sv.get("keywords", ())),
                )
                for sid, sv in v.get("subtypes", {}).items()
            ),  # fmt: skip
        )
        for key, v in raw.items()
    }


def user_category(name: str) -> Category:
    """A category a user names that is not built in (labels = its name)."""
    return Category(id=name, label_zh=name, label_en=name, aliases=(name.lower(),))


def resolve_category(value: str, known: dict[str, Category]) -> str | None:
    """Canonical id for a category value (id or alias, case-insensitive), or None."""
    key = str(value).strip().lower()
    for cat in known.values():
        if key == cat.id.lower() or key in cat.aliases:
            return cat.id
    return None


def resolve_subtype(
    category: Category, values: list[str], name: str = "", parts: list[str] = ()
) -> str | None:
    """The subtype of a facility of ``category``: the first subtype one of whose aliases
    equals one of ``values`` (its category / type value), else the first whose keyword
    appears in ``name``, else the first whose alias equals one of ``parts`` (the parts of a
    POI type path, e.g. Amap files 社区卫生服务中心 under ``…;卫生院``: the name is the more
    specific); None when nothing says."""
    for group in (values, None, parts):
        if group is None:
            text = str(name).lower()
            for sub in category.subtypes:
                if any(k in text for k in sub.keywords):
                    return sub.id
            continue
        keys = [str(v).strip().lower() for v in group if v is not None and str(v).strip()]
        for sub in category.subtypes:
            if any(k in sub.aliases for k in keys):
                return sub.id
    return None
