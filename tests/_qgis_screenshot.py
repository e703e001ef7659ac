"""Run by Debian's python3 (python3-qgis), offscreen: QGIS's Processing toolbox with the
hzspatial provider loaded from an installed plugin folder, beside the layers of a
``results.gpkg`` opened with their own styles (legend and map, drawn by QGIS), grabbed as one
PNG — the README's screenshot. Prints JSON: the provider's algorithms as the toolbox lists
them, and each layer's validity, whether its style loaded, and its feature count.

argv: plugins_folder results.gpkg out.png [category]  (catchments and underserved areas of
that category only, as a planner filters them; default all)
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.analysis import QgsNativeAlgorithms  # noqa: E402
from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsLayerTreeModel,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsVectorLayer,
)
from qgis.gui import QgsLayerTreeView, QgsProcessingToolboxTreeView  # noqa: E402
from qgis.PyQt.QtCore import QSize, Qt  # noqa: E402
from qgis.PyQt.QtGui import QColor, QPixmap  # noqa: E402
from qgis.PyQt.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget  # noqa: E402

plugins, gpkg, png = sys.argv[1:4]
only = sys.argv[4] if len(sys.argv) > 4 else None
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], True)
app.initQgis()
registry = QgsApplication.processingRegistry()
registry.addProvider(QgsNativeAlgorithms(registry))
sys.path.insert(0, plugins)
from hzspatial_qgis.provider import HzspatialProvider  # noqa: E402

provider = HzspatialProvider()
registry.addProvider(provider)

toolbox = QgsProcessingToolboxTreeView(None, registry)
toolbox.setHeaderHidden(True)
model = toolbox.model()


def leaves(index) -> list:
    """The algorithms under ``index``, every group on the way expanded."""
    toolbox.expand(index)
    kids = [model.index(r, 0, index) for r in range(model.rowCount(index))]
    return [x for k in kids for x in (leaves(k) if model.rowCount(k) else [k])]


listed = []
for row in range(model.rowCount()):
    index = model.index(row, 0)
    if model.data(index) == provider.name():
        found = leaves(index)
        listed = [model.data(k) for k in found]
        toolbox.setCurrentIndex(next((k for k in found if "Coverage" in model.data(k)),
                                     found[0]))  # fmt: skip

project = QgsProject.instance()
layers = {}
for name in ("areas", "underserved", "catchments", "facilities"):
    subset = (f"|subset=\"category\" = '{only}'"
              if only and name in ("underserved", "catchments") else "")  # fmt: skip
    layer = QgsVectorLayer(f"{gpkg}|layername={name}{subset}", name, "ogr")
    _, loaded = layer.loadDefaultStyle()
    layers[name] = {"valid": layer.isValid(), "style_loaded": loaded,
                    "features": layer.featureCount()}  # fmt: skip
    if layer.isValid():
        project.addMapLayer(layer)
        project.layerTreeRoot().findLayer(layer.id()).setItemVisibilityChecked(True)

tree = QgsLayerTreeView()
tree_model = QgsLayerTreeModel(project.layerTreeRoot())  # kept: the view does not own it
tree.setModel(tree_model)
tree.setHeaderHidden(True)
tree.expandAll()

settings = QgsMapSettings()
drawn = [project.mapLayersByName(n)[0] for n in ("facilities", "catchments", "underserved",
                                                 "areas") if project.mapLayersByName(n)]
settings.setLayers(drawn)
settings.setDestinationCrs(drawn[-1].crs())
settings.setExtent(drawn[1].extent().buffered(0.005))  # the catchments' extent
settings.setOutputSize(QSize(840, 760))
settings.setBackgroundColor(QColor("white"))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
canvas = QLabel()
canvas.setPixmap(QPixmap.fromImage(job.renderedImage()))

window = QWidget()
window.setWindowTitle("hzspatial in QGIS")
split = QSplitter(Qt.Horizontal)
for w, width in ((toolbox, 330), (tree, 360), (canvas, 840)):
    w.setMinimumWidth(width)
    split.addWidget(w)
box = QVBoxLayout(window)
box.addWidget(QLabel("Processing toolbox · results.gpkg opened with its styles · "
                     "QGIS " + __import__("qgis.core").core.Qgis.QGIS_VERSION))
box.addWidget(split)
window.resize(1560, 800)
window.show()
for _ in range(20):
    app.processEvents()
window.grab().save(png)
print(json.dumps({"algorithms": listed, "layers": layers,
                  "render_errors": [e.message for e in job.errors()]}), flush=True)
# exitQgis() with layers still referenced by Python crashes (SIGSEGV) in 3.22: the answer is
# out, so the process just ends
os._exit(0)
