"""pgrant-lab: explain, measure and predict Xen PV block I/O with and without persistent grants.

The folders are the stages, and the data flows one way (``ls analysis/`` reads as the pipeline):

    collect/    measure on this machine, write data/raw (only ``make data*`` runs it; nothing imports it)
    ingest/     read fio output, logs, manifests and the thread's figures into tidy tables (read-only)
    models/     fitted models with uncertainty (USL, shootdown, memcpy, lookup, lines, budgets)
    xen/        Xen facts computed from the sources: blkif ring geometry, the grant-store simulator
    simulated/  writers and readers of data/simulated (each file with a sidecar naming model + params)
    decide/     verdicts on the thread's claims and the persistent-or-not decision (take tables)
    plots/      figure functions, one palette
    report.py   execute the notebooks, write HTML
    cli/        the ``pgrant-lab`` command: parse arguments and print, no library logic

``paths.py`` defines every data path once; ``constants.py`` holds the Xen/Linux constants.
"""

from analysis.errors import FioFormatError, ManifestError, ModelFitError, PgrantLabError

__all__ = ["FioFormatError", "ManifestError", "ModelFitError", "PgrantLabError"]
__version__ = "0.1.0"
