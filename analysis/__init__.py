"""pgrant-lab: explain, measure and predict Xen PV block I/O with and without persistent grants.

The data flows one way (see ../shared/STYLE.md and README.md):

    fio output files -> tidy table (``analysis.fio``) -> fitted model (``analysis.models``)
    -> figures and tables (``analysis.plots``) -> HTML report (``analysis.report``)
"""

from analysis.errors import FioFormatError, ManifestError, ModelFitError, PgrantLabError

__all__ = ["FioFormatError", "ManifestError", "ModelFitError", "PgrantLabError"]
__version__ = "0.1.0"
