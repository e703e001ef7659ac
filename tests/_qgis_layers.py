"""Run by Debian's python3 (python3-qgis): open each layer of a GeoPackage in QGIS with its
default style, as QGIS opens a layer added to a project, and print what QGIS drew it with, as
JSON — {layer: {"valid", "features", "style_loaded", "renderer", "attr", "colours": {value:
[#rrggbb, alpha]}, "labels"}}."""

import json
import os
import sys

from qgis.core import QgsApplication, QgsVectorLayer

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    _, loaded = layer.loadDefaultStyle()
    r = layer.renderer()
    info = {"valid": layer.isValid(), "features": layer.featureCount(), "style_loaded": loaded,
            "renderer": r.type(), "labels": layer.labelsEnabled()}
    if r.type() == "categorizedSymbol":
        info["attr"] = r.classAttribute()
        info["colours"] = {c.value(): [c.symbol().color().name(), c.symbol().color().alpha()]
                           for c in r.categories()}
    else:
        info["colours"] = {"*": [r.symbol().color().name(), r.symbol().color().alpha()]}
    out[name] = info
print(json.dumps(out), flush=True)
# exitQgis() with layers still referenced by Python crashes (SIGSEGV) in 3.22: the answer is
# out, so the process just ends
os._exit(0)
