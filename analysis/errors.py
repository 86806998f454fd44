"""Our exception types, raised where bad input enters the package.

Each message is one sentence for a person: which file (or option), which field, what was expected
and what was found. The CLI prints ``str(error)`` on one line to stderr and exits with status 2.
"""


class PgrantLabError(Exception):
    """Base of every error the CLI reports as one line with exit status 2."""


class FioFormatError(PgrantLabError, ValueError):
    """A file is not fio output in a format we read, or a field in it is not what fio writes."""


class ManifestError(PgrantLabError, ValueError):
    """An experiment folder's manifest.csv is missing, malformed or names files that do not exist."""


class ModelFitError(PgrantLabError, RuntimeError):
    """A model cannot be fitted: too few points, non-finite input, or no convergence."""


class UsageError(PgrantLabError, ValueError):
    """A setting or command-line argument is outside its allowed set or range."""


class MeasurementError(PgrantLabError, RuntimeError):
    """A measurement program failed to build or run, or its own validation (checksums) failed."""


class SamplesFormatError(PgrantLabError, ValueError):
    """A measured-here samples CSV is missing a column or holds a value outside its allowed range."""


class SimulatedDataError(PgrantLabError, ValueError):
    """A simulated data set's CSV or sidecar JSON is missing, malformed or disagrees with its sidecar."""


class TraceFormatError(PgrantLabError, ValueError):
    """A block trace (fio iolog, blkparse text, MSR CSV) has a line that is not what its tool writes."""


class FioUnitWarning(UserWarning):
    """A fio log's writing version is unknown, so the unit of its values was assumed (and said)."""
