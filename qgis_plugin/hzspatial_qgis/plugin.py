"""The plugin: registers the provider with Processing (also in qgis_process, headless)."""

from qgis.core import QgsApplication

from .provider import HzspatialProvider


class HzspatialPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 — QGIS's name
        self.provider = HzspatialProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
