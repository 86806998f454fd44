# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: pgrant
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   pgrant:
#     answer: USL fits per mode with 95% intervals (the bundled example uses stand-in
#       modes on loopback, not Xen).
#     data:
#     - raw/measured-here/fio-experiment/
#     evidence:
#     - measured
#     question: How does the total IOPS of all guests grow with guests, per mode, on
#       your experiment?
# ---

# %% [markdown]
# # 09 Your experiment: aggregate IOPS against guests, per mode
#
# This notebook reads an experiment folder (`manifest.csv` + fio output; layout in the README,
# "Your own experiment") and answers the 2012 thread's question for *your* host: how does the
# total IOPS of all guests grow with the number of guests, with and without persistent grants?
# It fits the Universal Scalability Law to each mode and reports the parameters with intervals.
#
# `pgrant-lab report --data DIR` runs it on DIR. Without `--data` (as in `make report`) it runs on
# the bundled example `data/raw/measured-here/fio-experiment`, which was measured on this machine
# with fio client/server over loopback and **stand-in modes: it is not Xen**.

# %% tags=["parameters"]
data_dir = "../data"
experiment_dir = None  # None: the bundled example experiment in data_dir
experiment_table = None  # report --data: the experiment's table, parsed once by the report (a pickle)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import Markdown, display

from analysis import paths, text
from analysis.decide import decision
from analysis.ingest import experiment
from analysis.plots import experiment as plots
from analysis import tables
from analysis.site import capture

folder = Path(experiment_dir) if experiment_dir else Path(data_dir) / paths.EXAMPLE_EXPERIMENT
table = experiment.read_table(experiment_table) if experiment_table else experiment.load(folder)
runs = experiment.aggregate(table)
source = experiment.provenance(folder)
display(Markdown(decision.describe(source, table)))
if not experiment_dir:  # the bundled example: fio's mmap engine stands in for non-persistent
    display(Markdown(f"**Read this first.** {experiment.EXAMPLE_CANNOT_SHOW_TRADEOFF}"))
if experiment_dir:
    capture.summary(evidence=["experiment"], data=[folder.name + "/"],
                    answer=f"Total IOPS against guests, each guest's share and a USL fit per mode with 95% "
                           f"intervals, from the runs in {folder.name}/.")

# %% [markdown]
# ## fio's view of each run
#
# As notebook 01 shows the bundled sweep: per run, the total IOPS and bandwidth of its guests,
# the completion-latency percentiles over their jobs (p50: median; p99 and p99.9: the worst
# guest), and the slowest and fastest guest's share of the run's IOPS (a fair host gives each of
# N guests 100/N %).

# %%
tables.show(experiment.run_overview(table), "runs")

# %% [markdown]
# ## Aggregate IOPS against guests
#
# Each point is one run: the IOPS of all its guests added up (fio's "All clients" row is not
# counted again). Panels split by block size and dom0 VCPUs when the experiment varies them.

# %%
source = text.mathtext(source.label)  # the user's title, literal in figures
stand_in = not experiment_dir  # the bundled example: its modes are fio engines standing in for grant modes
if decision.can_plot_scaling(runs):
    grid = plots.plot_scaling(runs, stand_in=stand_in)
    grid.figure.suptitle(f"Aggregate IOPS vs guests, per mode\ndata: {source}", y=1.12)
    plt.show()
else:
    display(Markdown(decision.scaling_missing(runs)))

# %% [markdown]
# ## Per-guest spread
#
# A fair host gives every guest about the same share. Each point is one guest in one run; the
# table under the figure gives, per condition, the total IOPS over repeats (mean, std), the slowest
# and fastest guest, and the mean coefficient of variation (std/mean) between guests.

# %%
if decision.can_plot_scaling(runs):
    guests = experiment.per_guest(table)
    grid = plots.plot_per_guest(guests, stand_in=stand_in)
    grid.figure.suptitle(f"IOPS of each guest vs guests, per mode\ndata: {source}", y=1.12)
    plt.show()
    display(experiment.spread(runs).round({"iops_mean": 0, "iops_std": 0, "iops_per_guest_min": 0,
                                           "iops_per_guest_max": 0, "iops_per_guest_cv_mean": 3}))

# %% [markdown]
# ## Universal Scalability Law, per mode
#
# $X(N) = \lambda N / (1 + \sigma (N-1) + \kappa N (N-1))$ with $N$ the number of guests:
# $\lambda$ is IOPS of one guest, $\sigma$ the contention (serialised fraction), $\kappa$ the
# coherency cost (the pairwise cross-talk, such as TLB-shootdown IPIs that reach every dom0 VCPU);
# $\kappa > 0$ makes throughput peak at $N^* = \sqrt{(1-\sigma)/\kappa}$ and then fall, as the thread
# reports for non-persistent grants. Fitted by analysis.models.USL to every run; the table gives
# 95% intervals from the fit's covariance, and the notes say where the bootstrap disagrees.

# %%
fits = decision.fit_cells(runs)
display(Markdown(fits.notes_markdown()))
display(fits.parameter_table())

# %%
if fits.cells:
    grid = plots.plot_fits(runs, fits, stand_in=stand_in)
    grid.figure.suptitle(f"USL fit per mode (lines; band: 95% bootstrap of the refits)\ndata: {source}", y=1.12)
    plt.show()

# %% [markdown]
# ## The USL against two models of a flush lock
#
# The USL is one model of contention among several. `analysis.models.contention` also fits the
# exact MVA of a FCFS flush lock (it can only plateau) and the lock-collapse chain of a spinning
# lock (Boyd-Wickizer et al. 2012: it can fall), each to every mode in every cell, and scores them
# by AIC/BIC and by leave-one-guest-count-out prediction error. Notebook 10 decides with the model
# that predicts best; a model that cannot be fitted says why (the model fails, not the data).

# %%
comparison = decision.compare_cells(runs)
if comparison.empty:
    display(Markdown("No cell has enough guest counts to compare models."))
else:
    display(Markdown(f"**Best predicting model:** {decision.contention.LABELS[decision.choose_model(comparison)[0]]} "
                     f"({decision.choose_model(comparison)[1]})."))
    display(comparison[["cell", "mode", "model", "fitted", "aic", "bic", "loo_rel_rmse", "params", "note"]]
            .rename(columns={"loo_rel_rmse": "leave-one-out error (relative)"}))
