"""The Processing provider ``hzspatial``: coverage, review, site, batch."""

from qgis.core import QgsProcessingProvider

from .algorithms import BatchAlgorithm, CoverageAlgorithm, ReviewAlgorithm, SiteAlgorithm


class HzspatialProvider(QgsProcessingProvider):
    def loadAlgorithms(self):  # noqa: N802 — QGIS's name
        for alg in (CoverageAlgorithm(), ReviewAlgorithm(), SiteAlgorithm(), BatchAlgorithm()):
            self.addAlgorithm(alg)

    def id(self):
        return "hzspatial"

    def name(self):
        return "hzspatial"

    def longName(self):  # noqa: N802
        return "hzspatial — 15分钟生活圈 / 15-minute walking coverage"
