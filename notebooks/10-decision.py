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
#     answer: A map of predicted persistent / non-persistent IOPS per cell of your experiment
#       (report --data); the bundled example's stand-in modes cannot show the trade-off.
#     data:
#     - raw/measured-here/fio-experiment/
#     - raw/measured-here/unmap-shootdown/
#     - raw/measured-here/memcpy/
#     evidence:
#     - measured
#     - computed
#     question: 'Where do persistent grants pay: guests x dom0 VCPUs x block size?'
# ---

# %% [markdown]
# # 10 Decision: where persistent grants pay
#
# Persistent grants trade a **copy** in blkfront (its cost grows with block size) for **no unmap**
# in blkback (an unmap's TLB shootdown costs more with more dom0 VCPUs and more concurrent guests).
# Which side wins depends on guests x dom0 VCPUs x block size. This notebook answers it from the
# fitted scaling laws of an experiment: for every measured combination of dom0 VCPUs and block
# size ("cell") it predicts persistent / non-persistent total IOPS over guest counts, with a
# bootstrap band, and marks where the band is wholly above 1 (persistent pays), wholly below 1
# (non-persistent pays) or spans 1 (unclear). The fits are not stretched across dom0 VCPUs or block
# sizes the experiment did not run; for those, a second map compares the per-request costs
# measured on this machine (unmap + TLB shootdown against the copy), and says so.
#
# It uses the user's experiment (`pgrant-lab report --data DIR`) when it has both modes with
# enough guest counts; otherwise the bundled example experiment, and says so. The bundled example
# was measured on this machine over loopback with **stand-in modes: it is not Xen**.

# %% tags=["parameters"]
data_dir = "../data"
experiment_dir = None  # None: the bundled example experiment in data_dir
experiment_table = None  # report --data: the experiment's table, parsed once by the report (a pickle)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from analysis import paths, text
from analysis.decide import decision
from analysis.ingest import experiment, mechanisms
from analysis.plots import experiment as plots
from analysis.site import capture

example = Path(data_dir) / paths.EXAMPLE_EXPERIMENT
folder = Path(experiment_dir) if experiment_dir else example
table = experiment.read_table(experiment_table) if experiment_table else experiment.load(folder)
runs = experiment.aggregate(table)
fits, comparison, model_why = decision.fit_best(runs)
guests = decision.guest_grid(runs)
ratios = decision.ratio_map(fits, guests)
message = decision.describe(experiment.provenance(folder), table)
if folder == example:
    message += f"\n\n**Read this first.** {experiment.EXAMPLE_CANNOT_SHOW_TRADEOFF}"
memory_guests, memory_table = guests, table  # memory is about the user's host, even after a fallback
if ratios.empty and folder != example:
    message += ("\n\n**This experiment does not support the decision** (it needs both modes fitted in at least "
                "one cell; see the notes below). The map below uses the **bundled example experiment** "
                "instead, which is not your host and not Xen.\n\n" + fits.notes_markdown()
                + f"\n\n**Read this first.** {experiment.EXAMPLE_CANNOT_SHOW_TRADEOFF}")
    folder = example
    table = experiment.load(folder)
    runs = experiment.aggregate(table)
    fits, comparison, model_why = decision.fit_best(runs)
    guests = decision.guest_grid(runs)
    ratios = decision.ratio_map(fits, guests)
display(Markdown(message))

# %% [markdown]
# ## Which contention model?
#
# Three models of how total IOPS grows and falls with guests (`analysis.models.contention`): the
# USL, the exact MVA of a FCFS flush lock (it can only plateau) and the lock-collapse chain of a
# spinning lock (it can fall). Each is fitted to every mode in every cell and scored by AIC/BIC and
# by the error predicting each guest count from the others (leave one guest count out). The map
# below uses the model with the lowest such error over all cells and modes. A model that cannot be
# fitted says why: that is the model failing, not the data.

# %%
display(Markdown(f"**Model used for the decision: {decision.contention.LABELS[fits.model_name]}** ({model_why})."))
if not comparison.empty:
    display(comparison[["cell", "mode", "model", "fitted", "aic", "bic", "loo_rel_rmse", "note"]]
            .rename(columns={"loo_rel_rmse": "leave-one-out error (relative)"}))

# %% [markdown]
# ## The map
#
# Colour: log2 of the predicted ratio (blue: persistent faster). Letters: **P** persistent pays,
# **N** non-persistent pays, **?** the 95% bootstrap band spans 1. Hatched: beyond the most guests
# measured, where the model extrapolates.

# %%
source = text.mathtext(experiment.provenance(folder).label)  # the user's title, literal in figures
if ratios.empty:
    display(Markdown("No cell has both modes fitted, so there is no map. " + fits.notes_markdown()))
else:
    fig = plots.plot_ratio_map(ratios, stand_in=folder == example)
    fig.suptitle(f"Persistent / non-persistent total IOPS predicted by the {decision.contention.LABELS[fits.model_name]} "
                 f"fit per mode\ndata: {source}")  # placed by the figure's constrained layout
    plt.show()
    summary = ratios.groupby(["cell", "verdict"])["guests"].agg(["min", "max", "count"]).reset_index()
    display(summary.rename(columns={"min": "from guests", "max": "to guests", "count": "guest counts"}))
    counts = ratios["verdict"].value_counts()
    if folder != example:  # the bundled example's stand-in modes decide nothing (see above)
        capture.summary(answer=f"On {source}: " + ", ".join(f"{v} at {n} of {len(ratios)} (cell, guests) points"
                                                            for v, n in counts.items()) + ".")
if experiment_dir:
    capture.summary(evidence=["experiment", "measured", "computed"], data=[Path(experiment_dir).name + "/"])

# %% [markdown]
# ## Where no experiment reached: the flush-path model against the copy measured here
#
# An experiment covers only the dom0 VCPU counts and block sizes it ran. For the others, per
# request, the non-persistent side pays its unmap flushes (one per 32 pages) as the **flush-path
# model** gives them (notebook 12, `analysis.models.flush_path.flush_cost_band`: the initiator
# holds Xen's global flush lock while every other dom0 CPU runs the IPI handler), with parameters
# over published 2012-era x86 ranges: a **sensitivity band** (`unmap_low_ns`..`unmap_high_ns`),
# not a confidence interval. The persistent side pays one copy of the block measured on this
# machine (blkfront's 4 KiB segments, cold cache; native Linux, **not Xen**). Blue: the unmap
# costs more, so persistent grants pay. The `munmap` + shootdown measured on this 2-vCPU KVM guest
# stays in the table as `munmap_here_ns`, a comparison only (\* marks where its line is
# extrapolated past the measured remote CPUs). Contention for the lock between guests comes on
# top (notebook 12), so read the map as the direction of the trade-off, not as IOPS.

# %%
unmaps = mechanisms.load_unmap(Path(data_dir) / paths.UNMAP_DIR)
copies = mechanisms.load_memcpy(Path(data_dir) / paths.MEMCPY_DIR)
balance = decision.cost_balance(unmaps, copies)
fig = plots.plot_cost_balance(balance)
fig.suptitle("Unmap flush vs copy per request: flush-path model (middle of published ranges) vs memcpy median\n"
             "model: analysis.models.flush_path.flush_cost_band; copy measured here (data/raw/measured-here/memcpy), "
             "native Linux, not Xen", y=1.08)
plt.show()
display(balance.pivot(index="bs", columns="dom0_vcpus", values="verdict"))

# %% [markdown]
# ## What persistent mode costs in dom0 memory
#
# For the block sizes and the largest ring order of the experiment you gave (4k and order 0, the
# Linux blkfront default, when it does not say). Worst case per host: every ring slot in flight
# with ceil(bs / 4 KiB) grant pages per request (plus an indirect page above 11 segments),
# capped at Linux's `max_persistent_grants` (1056) per ring, one disk per guest, from
# analysis.xen.blkif (ring geometry from the Xen/Linux headers; see notebook 02). Non-persistent mode
# keeps no grant mapped between requests.

# %%
# the manifest's conditions, not fio's own bs column of the same name (empty in client/server output)
conditions = memory_table.attrs.get("conditions", [])
ring_order = int(memory_table["ring_order"].max()) if "ring_order" in conditions else 0
block_sizes = (sorted(memory_table["bs"].unique(), key=decision.bs_bytes) if "bs" in conditions
               else ["4k"])
memory = decision.memory_map(memory_guests, block_sizes, ring_order=ring_order)
grid = plots.plot_memory(memory)
grid.figure.suptitle(f"Persistent-grant memory per host, worst case, ring order {ring_order}\n"
                     "model: analysis.xen.blkif ring geometry, Linux cap 1056 grants per ring (no measured data)", y=1.1)
plt.show()
