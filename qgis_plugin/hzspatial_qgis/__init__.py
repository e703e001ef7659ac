"""hzspatial's QGIS Processing provider: a plugin that runs the installed hzspatial command."""


def classFactory(iface):  # noqa: N802 — QGIS's name
    from .plugin import HzspatialPlugin

    return HzspatialPlugin(iface)
