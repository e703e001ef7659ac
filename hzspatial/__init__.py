"""hzspatial — public-service facilities checked against planning standards on a walking network.

Public modules: :mod:`hzspatial.crs`, :mod:`hzspatial.io`, :mod:`hzspatial.network`,
:mod:`hzspatial.catchments`, :mod:`hzspatial.analysis`, :mod:`hzspatial.standards`,
:mod:`hzspatial.results`, :mod:`hzspatial.maps`, :mod:`hzspatial.charts`,
:mod:`hzspatial.figures`, :mod:`hzspatial.report`, :mod:`hzspatial.printing`,
:mod:`hzspatial.outputs`, :mod:`hzspatial.run`, :mod:`hzspatial.cli`.

The names below are imported on first use, so ``hzspatial --help`` starts without loading
the geospatial stack.
"""

__version__ = "0.1.0"

__all__ = ["CoverageResult", "FacilityInput", "demo_inputs", "run_coverage", "__version__"]

_LAZY = {"CoverageResult": "hzspatial.results", "FacilityInput": "hzspatial.io",
         "demo_inputs": "hzspatial.run", "run_coverage": "hzspatial.run"}  # fmt: skip


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hzspatial' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
