"""Figure functions, one module per topic, one palette (:mod:`analysis.plots.palette`).

Each function takes tidy tables (and fitted models where it draws a fit) and returns the figure,
with axis labels in units and a title naming the data and the model; none reads a file.

    fio         the bundled fio sweep (notebook 01)
    ring        blkif ring geometry and persistent-grant memory (02)
    scaling     the USL and the TLB-shootdown model (03, 04)
    mechanisms  memcpy, gref lookup, munmap measured on this machine (05-07)
    policies    the grant-store simulator's data sets (08)
    experiment  a user's experiment and the decision maps (09, 10)
    layout      readable text and legends outside the data (every function ends with finish)
"""

from analysis.plots import experiment, fio, flush, layout, mechanisms, palette, policies, ring, scaling

__all__ = ["experiment", "fio", "flush", "layout", "mechanisms", "palette", "policies", "ring", "scaling"]
