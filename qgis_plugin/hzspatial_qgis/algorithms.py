"""The algorithms: each builds the hzspatial command line from its parameters and runs the
installed ``hzspatial`` command (``$HZSPATIAL_EXE``, else the one on the PATH) — no copy of
hzspatial's code here. Its log lines go to the feedback, Cancel stops it (the output folder is
left as it was: hzspatial writes all or nothing), its one-line error becomes the algorithm's
error, and the result layers of ``results.gpkg`` are loaded into the project (styled)."""

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsVectorFileWriter,
    QgsVectorLayer,
)

RESULT_LAYERS = ("areas", "catchments", "underserved", "facilities")


def hzspatial_command():
    """The hzspatial command to run, or a QgsProcessingException saying how to get one."""
    exe = os.environ.get("HZSPATIAL_EXE") or shutil.which("hzspatial")
    if not exe:
        raise QgsProcessingException(
            "hzspatial: the hzspatial command was not found — install it (pip install "
            "hzspatial) so that it is on the PATH, or set HZSPATIAL_EXE to it")
    return exe


def _layer_count(path: str) -> int:
    """Layers in a vector file (GDAL, which QGIS ships); 2 when it cannot say, so that the
    layer is handed over on its own."""
    try:
        from osgeo import ogr

        ds = ogr.Open(path)
        return 2 if ds is None else ds.GetLayerCount()
    except Exception:  # noqa: BLE001 — any failure: hand the layer over on its own
        return 2


def layer_path(layer, name, context, feedback):
    """A file hzspatial can read for ``layer``: its own file when that file is the layer (one
    layer in it, no filter), else the layer written to a temporary GeoPackage (memory and
    database layers, one layer of a GeoPackage holding several, a filtered layer) — never
    the whole file for a part of it."""
    if layer is None:
        return None
    source, *parts = layer.source().split("|")
    whole = not layer.subsetString() and all(
        p.startswith("layername=") for p in parts) and _layer_count(source) <= 1
    if layer.providerType() in ("ogr", "delimitedtext") and Path(source).is_file() and whole:
        return source
    folder = Path(tempfile.mkdtemp(prefix="hzspatial_qgis_"))
    out = str(folder / f"{name}.gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    err = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, out, context.transformContext(), options)
    if err[0] != QgsVectorFileWriter.NoError:
        raise QgsProcessingException(f"hzspatial: cannot hand the layer {layer.name()!r} "
                                     f"over ({err[1]})")
    feedback.pushInfo(f"{name}: layer {layer.name()!r} written to {out}")
    return out


class _Hzspatial(QgsProcessingAlgorithm):
    """What every hzspatial algorithm shares: running the command and reporting."""

    command = ""
    title = ""

    def name(self):
        return self.command

    def displayName(self):  # noqa: N802 — QGIS's name
        return self.title

    def group(self):
        return "hzspatial"

    def groupId(self):  # noqa: N802 — QGIS's name
        return "hzspatial"

    def createInstance(self):  # noqa: N802
        return type(self)()

    def shortHelpString(self):  # noqa: N802
        return self.__doc__ or ""

    def flags(self):
        # runs a separate process: safe off the main thread, no project access needed
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def _inputs(self, parameters, context, feedback):
        raise NotImplementedError

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        out = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        args = [hzspatial_command(), self.command,
                *self._inputs(parameters, context, feedback), "--out", out]
        if self.parameterAsBool(parameters, "OVERWRITE", context):
            args.append("--overwrite")
        feedback.pushInfo("running: " + " ".join(args))
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, encoding="utf-8", errors="replace") as proc:
            lines = self._follow(proc, feedback)
            code = proc.wait()
        if code not in (0, 1) or (code == 1 and self.command != "review"):
            said = [x for x in lines if x.startswith("hzspatial: error:")]
            raise QgsProcessingException(said[-1] if said else (lines[-1] if lines else
                                         f"hzspatial exited with code {code}"))
        return self._results(out, context)

    @staticmethod
    def _follow(proc, feedback):
        """hzspatial's lines as they come, into the feedback; Cancel stops it."""
        lines = []
        while True:
            if feedback.isCanceled():
                proc.terminate()  # hzspatial removes its staged outputs on SIGTERM
                proc.wait(timeout=60)
                raise QgsProcessingException("hzspatial: cancelled; the output folder is "
                                             "left as it was")
            line = proc.stdout.readline()
            if not line:
                if proc.poll() is not None:
                    return lines
                time.sleep(0.05)
                continue
            lines.append(line.rstrip("\n"))
            feedback.pushInfo(lines[-1])

    def _results(self, out, context):
        folder = Path(out)
        gpkg = folder / "results.gpkg"
        if gpkg.exists():
            for name in RESULT_LAYERS:
                layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
                if layer.isValid():  # opened with its default style from layer_styles
                    context.temporaryLayerStore().addMapLayer(layer)
                    context.addLayerToLoadOnCompletion(
                        layer.id(), QgsProcessingContext.LayerDetails(
                            f"hzspatial {name}", context.project(), name))
        report = next((str(folder / n) for n in ("report.html", "site_report.html",
                                                  "review.html") if (folder / n).exists()), "")
        return {"OUTPUT_FOLDER": out, "REPORT": report,
                "RESULTS_GPKG": str(gpkg) if gpkg.exists() else ""}

    def _add_outputs(self):
        self.addParameter(QgsProcessingParameterBoolean(
            "OVERWRITE", "Write into a folder holding other files / 覆盖", defaultValue=False))
        self.addParameter(QgsProcessingParameterFolderDestination(
            "OUTPUT_FOLDER", "Output folder / 输出文件夹"))
        self.addOutput(QgsProcessingOutputFolder("OUTPUT_FOLDER", "Output folder"))
        self.addOutput(QgsProcessingOutputFile("REPORT", "Report"))
        self.addOutput(QgsProcessingOutputFile("RESULTS_GPKG", "Result layers (GeoPackage)"))

    def _add_study(self, minutes=True):
        self.addParameter(QgsProcessingParameterFile(
            "NETWORK", "Street network (.osm.pbf, .graphml, centre-lines) / 路网"))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "FACILITIES", "Facilities / 设施", QgsProcessing.TypeVector))
        self.addParameter(QgsProcessingParameterVectorLayer(
            "POPULATION", "Residents / 人口", [QgsProcessing.TypeVector]))
        self.addParameter(QgsProcessingParameterVectorLayer(
            "BOUNDARIES", "Boundaries / 行政区", [QgsProcessing.TypeVectorPolygon],
            optional=True))
        if minutes:
            self.addParameter(QgsProcessingParameterNumber(
                "MINUTES", "Walking minutes / 步行分钟", QgsProcessingParameterNumber.Double,
                defaultValue=15.0, minValue=0.5, maxValue=120.0))
        self.addParameter(QgsProcessingParameterString(
            "OPTIONS", "More hzspatial options (as on the command line)", optional=True))

    def _study_args(self, parameters, context, feedback, minutes=True):
        args = ["--network", self.parameterAsFile(parameters, "NETWORK", context)]
        for i, layer in enumerate(self.parameterAsLayerList(parameters, "FACILITIES", context)):
            args += ["--facilities", layer_path(layer, f"facilities{i}", context, feedback)]
        pop = self.parameterAsVectorLayer(parameters, "POPULATION", context)
        args += ["--population", layer_path(pop, "population", context, feedback)]
        bnd = self.parameterAsVectorLayer(parameters, "BOUNDARIES", context)
        if bnd is not None:
            args += ["--boundaries", layer_path(bnd, "boundaries", context, feedback)]
        if minutes:
            args += ["--minutes", f"{self.parameterAsDouble(parameters, 'MINUTES', context):g}"]
        extra = self.parameterAsString(parameters, "OPTIONS", context)
        return args + (shlex.split(extra) if extra else [])  # quoted values keep their spaces


class CoverageAlgorithm(_Hzspatial):
    """Walking coverage of each facility category, the plan's standards checked, underserved
    areas — the outputs of `hzspatial coverage` (summary.json, tables, maps, report,
    results.gpkg); the result layers are added to the project, styled."""

    command = "coverage"
    title = "Coverage / 覆盖分析"

    def initAlgorithm(self, config=None):  # noqa: N802
        self._add_study()
        self._add_outputs()

    def _inputs(self, parameters, context, feedback):
        return self._study_args(parameters, context, feedback)


class ReviewAlgorithm(_Hzspatial):
    """Proposed residential districts checked against the standards, as `hzspatial review`
    (review.json, review.html, map.html; a failing check is a result, not an error)."""

    command = "review"
    title = "Review proposed districts / 方案审查"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterVectorLayer(
            "PROPOSALS", "Proposed districts / 拟建小区", [QgsProcessing.TypeVectorPolygon]))
        self._add_study()
        self._add_outputs()

    def _inputs(self, parameters, context, feedback):
        prop = self.parameterAsVectorLayer(parameters, "PROPOSALS", context)
        return ([layer_path(prop, "proposals", context, feedback)]
                + self._study_args(parameters, context, feedback))


class SiteAlgorithm(_Hzspatial):
    """Where to build new facilities of a category, as `hzspatial site` (sites.csv,
    sites.geojson, site.json, site_report.html, map.html)."""

    command = "site"
    title = "Site selection / 选址"

    def initAlgorithm(self, config=None):  # noqa: N802
        self._add_study(minutes=False)
        self.addParameter(QgsProcessingParameterString("CATEGORY", "Category / 设施类别"))
        self.addParameter(QgsProcessingParameterNumber(
            "ADD", "New sites / 新增数量", QgsProcessingParameterNumber.Integer,
            defaultValue=5, minValue=1))
        self.addParameter(QgsProcessingParameterVectorLayer(
            "CANDIDATES", "Candidate sites (default: street junctions) / 候选地块",
            [QgsProcessing.TypeVector], optional=True))
        self._add_outputs()

    def _inputs(self, parameters, context, feedback):
        args = self._study_args(parameters, context, feedback, minutes=False)
        args += ["--category", self.parameterAsString(parameters, "CATEGORY", context),
                 "--add", str(self.parameterAsInt(parameters, "ADD", context))]
        cand = self.parameterAsVectorLayer(parameters, "CANDIDATES", context)
        if cand is not None:
            args += ["--candidates", layer_path(cand, "candidates", context, feedback)]
        return args


class BatchAlgorithm(_Hzspatial):
    """Scenarios of a TOML file run as `hzspatial batch` (a folder per scenario and the
    comparison table)."""

    command = "batch"
    title = "Batch scenarios / 批量情景"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(
            "SCENARIOS", "Scenario file (TOML) / 情景文件", extension="toml"))
        self._add_outputs()

    def _inputs(self, parameters, context, feedback):
        return [self.parameterAsFile(parameters, "SCENARIOS", context)]
