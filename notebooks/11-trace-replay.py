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
#     answer: Above the trace's working set every persistent policy hits alike; below
#       it the 2012 fallback loses every hit and the LRUs lose hits at the smallest
#       caps.
#     data:
#     - raw/measured-here/trace-fio-randrw/
#     evidence:
#     - measured
#     - simulated
#     question: What would persistent grants, an LRU or plain map/unmap cost on a recorded
#       block trace?
# ---

# %% [markdown]
# # 11 Replaying a real block trace through the grant policies
#
# Notebook 08 runs the grant policies on synthetic workloads. The question a Xen engineer asks is
# different: *what would persistent grants, an LRU or plain map/unmap cost on my guests' I/O?*
# This notebook takes a **recorded** block trace, turns it into the ring requests and grant
# references a Linux blkfront would produce (`analysis.xen.grants.blkfront`: pages per request, split
# at the negotiated segment maximum, requests in flight from arrival and completion times, capped
# by the ring's slots, the 2012 LIFO pool of granted pages), and replays it through every policy of
# `analysis.xen.grants.policies` (compiled kernels, tested equal to the Python reference).
#
# **Where the trace comes from.** `data/raw/measured-here/trace-fio-randrw/` was recorded **here,
# on a 2-vCPU KVM guest and its virtio disk, not on Xen** (`make data-trace`: fio's `write_iolog`
# and a per-I/O latency log of mixed random I/O, 70 % reads, 4-256 KiB, up to 32 in flight). No
# blkfront or blkback ran: the request stream is real, the grants are a *model* of what blkfront
# would grant for it, and the costs below are the **assumed** defaults of `analysis.xen.grants.costs`
# (no Xen measurement). Your own trace (fio iolog, blkparse text or MSR CSV) goes through the same
# calls: `pgrant-lab simulate --trace FILE --format ... --policy all` prints the same totals.

# %% tags=["parameters"]
data_dir = "../data"
trace_folder = "raw/measured-here/trace-fio-randrw"
max_segments = 32  # segments per ring request: Linux blkfront's indirect default (11 without indirect)
slots = 32  # ring slots: a one-page ring
cap = 352  # pages blkback keeps mapped: the 2012 patch's per-ring figure, 32 slots x 11 segments
dom0_vcpus = 24  # the seed thread's experiment, for the shootdown cost

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis import machine
from analysis import tables
from analysis.tables import sentence
from analysis.xen.grants import Costs, dom0_ns, make_policy, simulate, POLICIES
from analysis.xen.grants.blkfront import in_flight, trace_from_requests
from analysis.ingest import mechanisms
from analysis.ingest.trace import read_trace

sns.set_theme(style="whitegrid", context="notebook")
folder = Path(data_dir) / trace_folder
manifest = mechanisms.load_manifest(folder)  # the manifest.json of a measured-here folder
table = read_trace(folder / "trace_lat.1.log", "fio-lat-log")
SOURCE = (f"trace: {trace_folder}, {machine.label(manifest)}; grants: blkfront model "
          f"({max_segments} segments/request, {slots} slots, LIFO pool), cap {cap} pages")
sentence(SOURCE)
sentence(f"{len(table)} requests over {table['time_us'].max() / 1e6:.2f} s, "
         f"{table['is_write'].mean():.0%} writes; requests per size:")
tables.show((table["bytes"] // 1024).value_counts().sort_index().rename_axis("size_kib").rename("requests"),
            "requests-per-size")

# %% [markdown]
# ## 1 From requests to ring requests and grants
#
# Each request of B bytes needs ceil(B / 4096) pages; requests larger than `max_segments` pages are
# split. Completion times come from fio's latency log, so the in-flight depth is the trace's own
# (at most `slots`). The LIFO pool grants a new page only when no granted page is free, so the number
# of distinct grant references is the trace's peak of pages in flight.

# %%
trace = trace_from_requests(table, max_segments=max_segments, slots=slots)
flight = in_flight(trace)
duration_s = (trace.time_us[-1] - trace.time_us[0]) / 1e6
sentence(f"{trace.requests} ring requests, {int(trace.segments.sum())} segments, "
      f"{len(np.unique(trace.grefs))} distinct grant references; in flight: median {np.median(flight):.0f}, "
      f"max {flight.max()} of {slots} slots")

# %% [markdown]
# ## 2 Every policy on the trace
#
# Counts are exact for the model; dom0 CPU is `analysis.xen.grants.costs.dom0_ns` with the **assumed**
# per-operation costs (map 1 us/page, unmap 0.5 us/page, one TLB shootdown per unmap batch of
# 1 us + 0.2 us per other dom0 VCPU, 2 ns per lookup comparison, 5 us other backend work per request).
# Rates are per second of the trace.

# %%
costs = Costs(dom0_vcpus=dom0_vcpus)
results = {name: simulate(trace, make_policy(name, cap=cap, m=2), engine="compiled") for name in POLICIES}
rows = []
for name, result in results.items():
    t = result.totals()
    rows.append({
        "policy": name,
        "hit_rate": round(t["hit_rate"], 4),
        "maps": t["maps"], "unmaps": t["unmaps"], "flushes": t["unmap_batches"],
        "maps_per_s": round(t["maps"] / duration_s), "unmaps_per_s": round(t["unmaps"] / duration_s),
        "flushes_per_s": round(t["unmap_batches"] / duration_s),
        "failed_requests": t["failed_requests"],
        "copied_MiB": round(t["memcpy_bytes"] / 2**20, 1),
        "dom0_cpu_percent": round(100 * dom0_ns(t, costs) / (duration_s * 1e9), 2),
        "max_mapped_pages": t["max_mapped_pages"],
    })
summary = pd.DataFrame(rows).set_index("policy")
summary

# %% [markdown]
# `flushes` are unmap batches: each is one TLB shootdown in dom0. `copied_MiB` is blkfront's memcpy
# into and out of the persistently granted pages (every persistent policy copies; `non_persistent`
# grants the I/O pages themselves). `dom0_cpu_percent` is the modelled dom0 CPU time per second of
# trace, in % of one CPU, with the assumed costs above.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
summary["hit_rate"].plot.barh(ax=axes[0], color="tab:blue")
axes[0].set_xlabel("hit rate (segments served from the store)")
summary[["maps_per_s", "unmaps_per_s", "flushes_per_s"]].plot.barh(ax=axes[1], logx=True)
axes[1].set_xlabel("operations per second of trace (log)")
summary["dom0_cpu_percent"].plot.barh(ax=axes[2], color="tab:red")
axes[2].set_xlabel("modelled dom0 CPU (% of one CPU; assumed costs)")
for ax in axes[1:]:
    ax.set_ylabel("")
fig.suptitle("Grant policies on a recorded trace (simulated grants)\n" + SOURCE, fontsize=9)
fig.tight_layout()

# %% [markdown]
# ## 3 Resident pages over time
#
# Pages persistently mapped after each request, for the policies that keep a store (with the cap of
# the parameters cell; section 4 varies it).

# %%
fig, ax = plt.subplots(figsize=(10, 4))
for name, result in results.items():
    if name == "non_persistent":
        continue
    ax.plot(trace.time_us / 1e6, result.per_request["resident_pages"], label=name, lw=1)
ax.axhline(cap, color="grey", ls=":", label=f"cap ({cap} pages)")
ax.set_xlabel("trace time (s)")
ax.set_ylabel("persistently mapped pages")
ax.legend(fontsize=8)
ax.set_title("Resident grant pages per policy (simulated)\n" + SOURCE, fontsize=9)
fig.tight_layout()

# %% [markdown]
# ## 4 How small a cap does this trace tolerate?
#
# The same replay for caps below and above the trace's working set (its distinct grant references):
# below it, the 2012 rule falls back for good once the store is full, failing past the limit refuses
# requests, and the LRUs trade hits for unmap batches.

# %%
working_set = len(np.unique(trace.grefs))
caps = sorted({16, 32, 64, 128, 192, 256, cap, working_set})
sweep = []
for c in caps:
    for name in POLICIES:
        if name == "non_persistent":
            continue
        t = simulate(trace, make_policy(name, cap=c, m=2), engine="compiled").totals()
        sweep.append({"cap": c, "policy": name, "hit_rate": t["hit_rate"],
                      "flushes_per_s": t["unmap_batches"] / duration_s,
                      "failed_fraction": t["failed_requests"] / t["requests"],
                      "dom0_cpu_percent": 100 * dom0_ns(t, costs) / (duration_s * 1e9)})
sweep = pd.DataFrame(sweep)
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, column, label in zip(axes, ["hit_rate", "flushes_per_s", "dom0_cpu_percent"],
                             ["hit rate", "unmap batches (flushes) per second", "modelled dom0 CPU (% of one CPU)"]):
    sns.lineplot(data=sweep, x="cap", y=column, hue="policy", style="policy", markers=True, ax=ax)
    ax.axvline(working_set, color="grey", ls=":")
    ax.set_xlabel("cap (persistently mapped pages)")
    ax.set_ylabel(label)
    ax.get_legend().remove()
fig.legend(*axes[0].get_legend_handles_labels(), loc="center right", fontsize=8)
fig.suptitle(f"Cap sweep on the recorded trace (simulated; dotted: working set {working_set} pages)\n" + SOURCE,
             fontsize=9)
fig.tight_layout(rect=(0, 0, 0.88, 1))

# %%
below = sweep[sweep["cap"] < working_set]
sentence(f"working set: {working_set} distinct pages; cap in this run: {cap} pages "
      f"({'every persistent policy hits alike' if cap >= working_set else 'below the working set'})")
sentence("lowest hit rate below the working set, per policy:")
tables.show(below.groupby("policy")["hit_rate"].min().rename("lowest hit rate"), "lowest-hit-rate")

# %% [markdown]
# ## 5 The same trace through the Linux >= 3.8 frontend
#
# Sections 1-4 use the 2012 patch's blkfront (one LIFO pool grown on demand). Linux 3.8 and later
# grant a fixed pool per ring up front (slots x (segments + indirect pages): 32 x 33 = 1056 pages,
# blkback's default cap per ring) and order its free list by what the backend did: a grant the
# backend still maps goes back at the head and is reused first; one it unmapped is ended and goes to
# the tail, its page claiming a fresh grant reference next time (`analysis.xen.grants.frontend`).
# The grants therefore depend on the backend's policy, and both run together
# (`analysis.xen.grants.blkfront.blkif_from_requests`). Linux blkfront uses up to 4 rings per device
# (`max_queues`); requests go to the rings round-robin, an assumption of the model.

# %%
from analysis.xen.grants.blkfront import blkif_from_requests
from analysis.xen.grants.frontend import pool_pages_311

ring_cap = pool_pages_311(slots, max_segments)
compared = []
for name in ("non_persistent", "persistent_tree", "linux_lru"):
    # The same cap per ring for both frontends (Linux's 1056), so that only the frontend differs.
    t = simulate(trace, make_policy(name, cap=ring_cap, m=2), engine="compiled").totals()
    compared.append({"frontend": "2012 (LIFO pool)", "policy": name, "rings": 1, "cap_per_ring": ring_cap,
                     "hit_rate": t["hit_rate"], "maps": t["maps"], "unmaps": t["unmaps"],
                     "indirect_pages": 0,
                     "max_mapped_pages": t["max_mapped_pages"]})
    for rings in (1, 4):
        run = blkif_from_requests(table, make_policy(name, cap=ring_cap), max_segments=max_segments, slots=slots,
                                  queues=rings)
        t = run.totals()
        compared.append({"frontend": "3.8+ (head/tail list)", "policy": name, "rings": rings, "cap_per_ring": ring_cap,
                         "hit_rate": t["hit_rate"], "maps": t["maps"], "unmaps": t["unmaps"],
                         "indirect_pages": t["indirect_pages"],
                         "max_mapped_pages": t["max_mapped_pages"]})
frontends = pd.DataFrame(compared).set_index(["policy", "frontend", "rings"])
frontends["hit_rate"] = frontends["hit_rate"].round(4)
tables.show(frontends, "frontends-compared")
kept = frontends.xs("persistent_tree")["max_mapped_pages"]
sentence(f"persistent_tree keeps {kept.iloc[0]} pages mapped with the 2012 pool, {kept.iloc[1]} with one 3.8+ ring "
         f"and {kept.iloc[2]} with four rings; hit rates "
         + " / ".join(f"{h:.4f}" for h in frontends.xs("persistent_tree")["hit_rate"]))

# %% [markdown]
# With a cap per ring that holds what either frontend grants, the persistent policies map every page
# once and then only hit, whichever frontend (hit rates above). The frontends
# differ in how many pages blkback is asked to keep mapped: the 2012 pool only ever grants what is in
# flight; the 3.8+ list reuses its head but also grants the indirect-descriptor pages, and with four
# rings each ring has its own store, so more pages stay mapped. Without persistence the 3.8+ frontend
# ends every grant at completion, so each use of a page claims a fresh grant reference.

# %% [markdown]
# ## What this says, and what it does not
#
# - With completion times taken from the trace, few requests are in flight most of the time, so
#   blkfront's LIFO pool reuses a small set of pages: the working set printed above. A cap at or
#   above it makes every persistent policy the same (one map per page, then only hits); below it
#   the policies separate as the sweep shows: the 2012 rule (fall back for good) loses every hit,
#   failing past the limit keeps its hits by refusing requests, the LRUs lose hits at the smallest caps.
# - Every number is a model output on a trace **recorded on a KVM guest, not Xen**, with assumed
#   per-operation costs: it ranks the policies for this request pattern; it does not predict a Xen
#   host's CPU time. Replace the costs with fitted ones (`Costs.from_models`) and the trace with
#   your own to ask the question for your guests.
