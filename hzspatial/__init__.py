"""hzspatial — public-service facilities checked against planning standards on a walking network.

Public modules: :mod:`hzspatial.crs`, :mod:`hzspatial.io`, :mod:`hzspatial.network`,
:mod:`hzspatial.catchments`, :mod:`hzspatial.analysis`, :mod:`hzspatial.standards`,
:mod:`hzspatial.maps`, :mod:`hzspatial.run`, :mod:`hzspatial.cli`.
"""

__version__ = "0.1.0"

from hzspatial.run import CoverageResult, FacilityInput, demo_inputs, run_coverage  # noqa: E402

__all__ = ["CoverageResult", "FacilityInput", "demo_inputs", "run_coverage", "__version__"]
