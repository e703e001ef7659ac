"""hzspatial — public-service facilities checked against planning standards on a walking network.

Public modules: :mod:`hzspatial.crs`, :mod:`hzspatial.io`, :mod:`hzspatial.network`,
:mod:`hzspatial.catchments`, :mod:`hzspatial.analysis`, :mod:`hzspatial.standards`,
:mod:`hzspatial.results`, :mod:`hzspatial.maps`, :mod:`hzspatial.charts`,
:mod:`hzspatial.figures`, :mod:`hzspatial.report`, :mod:`hzspatial.printing`,
:mod:`hzspatial.outputs`, :mod:`hzspatial.run`, :mod:`hzspatial.study` (the editable
:class:`Study`), :mod:`hzspatial.cli`.

The names below are imported on first use, so ``hzspatial --help`` starts without loading
the geospatial stack.
"""

__version__ = "0.1.0"

__all__ = ["CoverageResult", "FacilityInput", "Study", "demo_inputs", "run_coverage",
           "__version__"]

from hzspatial._lazy import lazy_names  # noqa: E402 - after the version, imported by all

__getattr__, __dir__ = lazy_names(__name__, {
    "CoverageResult": "hzspatial.results", "FacilityInput": "hzspatial.io",
    "demo_inputs": "hzspatial.run", "run_coverage": "hzspatial.run", "Study": "hzspatial.study",
})  # fmt: skip
