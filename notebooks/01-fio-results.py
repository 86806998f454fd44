# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: pgrant
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   pgrant:
#     answer: Total IOPS per run with latency percentiles; the curve shows CPU share
#       on a 2-vCPU VM, not Xen's scalability.
#     data:
#     - raw/measured-here/fio-sweep/
#     evidence:
#     - measured
#     question: What did fio measure in the bundled sweep (IOPS, latency, CPU share
#       per run)?
# ---

# %% [markdown]
# # 01 fio results: the bundled sweep, ingested
#
# This notebook reads the fio sweep bundled in `data/raw/measured-here/fio-sweep/` with
# `analysis.ingest.sweep.load` (every job of every run, in the tidy table of `analysis.ingest.fio`) and
# `analysis.ingest.sweep.totals` (one row per run), and shows what fio measured.
#
# **These numbers were measured on this ordinary Linux machine, not on Xen.** N independent fio
# jobs, each reading 4 KiB blocks from its own memory-backed file (tmpfs, `/dev/shm`), stand in for
# N guests. There is no blkfront, blkback, grant table or disk in the path: the sweep exercises the
# ingestion pipeline and gives the later notebooks (scaling, USL) a real, honestly labelled data
# set, not a prediction for a Xen host. `make data-fio` re-measures it (about 3 minutes).

# %% tags=["parameters"]
data_dir = "../data"

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from analysis.ingest import fio
from analysis import machine, plots
from analysis.ingest import sweep
from analysis.tables import sentence

sns.set_theme(style="whitegrid", context="notebook")
folder, manifest = sweep.read_manifest(data_dir)
label = f"{machine.label(manifest)}; {manifest['fio_version']}"
sentence(label)
sentence(f"{len(manifest['runs'])} runs, {manifest['started_utc']} to {manifest['finished_utc']}")

# %% [markdown]
# ## The tidy table
#
# One row per (file, job, direction that did I/O). Units are in the column names: IOPS,
# bytes/s, ns, % of one CPU. `job` is the job's position in its file (the sweep uses
# `numjobs=N`, so N jobs share the name `guest`).

# %%
jobs = sweep.load(data_dir)
jobs[["file", "job", "jobname", "direction", "iops", "bw_bytes_s", "clat_mean_ns", "clat_p99_ns",
      "usr_cpu_pct", "sys_cpu_pct", "rw", "bs", "iodepth", "numjobs", "ioengine"]].head(10)

# %% [markdown]
# ## Total IOPS per run
#
# `totals` sums the jobs of each run. The table gives the median over the repetitions (and
# their count); the figure shows every repetition as a point.

# %%
totals = sweep.totals(jobs)
summary = (totals.groupby(["ioengine", "rw", "jobs"])
           .agg(iops_median=("iops", "median"), iops_min=("iops", "min"), iops_max=("iops", "max"),
                reps=("rep", "count"), cpu_pct_median=("cpu_pct", "median"))
           .round(0))
summary.unstack("jobs")["iops_median"]

# %%
fig = plots.fio.total_iops(totals, label)
plt.show()

# %% [markdown]
# ## What limits the curve here: CPU share
#
# On a machine with few cores, fio's jobs compete for the CPUs with each other and with any other
# process. The jobs' own CPU time (fio's `usr_cpu` + `sys_cpu`, summed over the jobs; 100 % = one
# CPU) shows how much of the machine they got; the dashed line is all cores; the colour is the
# 1-minute load average before each run (other work on the machine). Once the jobs use every core,
# more jobs cannot add IOPS; when other processes were busy, more jobs win a larger share from
# them and IOPS can keep rising past the core count. Read the IOPS curve as "CPU share on this
# machine", not as the scalability of a block device or of Xen.

# %%
fig = plots.fio.cpu_share(totals, manifest["machine"]["logical_cores"], label)
plt.show()

# %% [markdown]
# ## Completion latency
#
# Per job, fio's completion-latency percentiles (`clat_p50_ns`, `clat_p99_ns`, from json+), here
# as the median over the jobs and repetitions of each point, in microseconds.

# %%
fig = plots.fio.latency(jobs, label)
plt.show()

# %% [markdown]
# ## The full latency distribution (json+ histogram)
#
# `analysis.ingest.fio.read_histogram` returns json+'s `clat_ns.bins` as a tidy table: `bin_ns` is the
# latency fio assigns to the bin (ns), `count` the I/Os in it. Weighted by `count`, the bins give
# the empirical distribution of every completed I/O. Compared here for 1 and 8 jobs of random
# reads, repetition 0, for both engines. libaio keeps 8 I/Os in flight per job, so its completion
# latency includes waiting behind the others (on tmpfs the copy itself is synchronous), which is
# also why it delivers fewer IOPS than psync in the figures above.

# %%
hist = pd.concat([fio.read_histogram(folder / f"{engine}-randread-n{n}-r0.json")
                  .assign(run=f"{engine}, {n} job{'s' if n > 1 else ''}", ioengine=engine, jobs=n)
                  for engine in ("psync", "libaio") for n in (1, 8)], ignore_index=True)
fig = plots.fio.latency_cdf(hist, label)
plt.show()
hist.groupby("run")["count"].sum().rename("completed I/Os")

# %% [markdown]
# ## Where this goes next
#
# `totals` is the input of the scaling notebook (03), which fits the Universal Scalability Law.
# Your own fio results go through the same pipeline: `pgrant-lab ingest results.json` prints the
# tidy table as CSV, and `analysis.ingest.fio.read_many` stacks several files with a `source` column.
