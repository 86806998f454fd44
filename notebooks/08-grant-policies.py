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
#     answer: Fallback costs more than either mode past the cap (a cliff the guest cannot
#       predict); an LRU batches unmaps.
#     data:
#     - simulated/grants-cliff-simulated.csv
#     - simulated/grants-lru-tradeoff-simulated.csv
#     - simulated/grants-predictability-simulated.csv
#     - simulated/grants-malicious-simulated.csv
#     - simulated/grants-phase-simulated.csv
#     evidence:
#     - simulated
#     question: 'What should blkback do past its grant cap: fall back, fail, or keep
#       an LRU?'
# ---

# %% [markdown]
# # 08 Grant policies: the cap, fallback, failing, and LRU
#
# The 2012 thread leaves open what blkback should do when a frontend uses more grants than it is
# willing to keep mapped. The patch **falls back** to non-persistent mapping for every later request
# once `BLKIF_MAX_SEGMENTS_PER_REQUEST x BLKIF_MAX_PERS_REQUESTS_PER_DEV` pages are mapped; David Vrabel
# asks why it does not **fail** the request; Oliver lists (1) a compiled-in limit and failure, (2) a
# recommended limit and fallback, (3) a limit the backend advertises, and Konrad suggests 2 + 3;
# Ian Campbell proposes an **LRU**: "when the N+1th unique grant comes in we discard the least recently
# used N/M (M perhaps in {2,3,4})" so that unmaps batch well; Jan Beulich objects that with fallback
# "the guest can't really predict this".
#
# This notebook answers those points with the grant-store simulator (`analysis.xen.grants`): a
# trace-driven model of blkback's grant handling that counts, exactly, the maps, unmaps, unmap
# batches (one TLB shootdown each), lookup comparisons, pages held and bytes blkfront copies.
# **Every number here is simulated** (files in `data/simulated/`, each with a sidecar naming the
# model and every parameter; `make data-simulated` regenerates them). Costs per operation are
# **assumed** defaults (table below) until the fitted models of `analysis.models` replace them.
#
# Policies: `non_persistent` (pre-2012), `persistent_array` (the 2012 patch: linear search, request
# falls back when the array is full), `persistent_tree` (same rule, tree lookup), `persistent_tree
# (per-gref fallback)` (the rule Linux 3.8 merged: look up always, map only the misses transiently),
# `fail_past_limit` (David), `lru M=2/4` (Ian), `linux_lru` (Linux 3.11+: purge 5 % every 100 ms).

# %% tags=["parameters"]
data_dir = "../data"
guests = 10  # identical guests sharing dom0, for the throughput bound
dom0_vcpus = 24  # the seed thread's experiment

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis import plots
from analysis.constants import PAGE_BYTES
from analysis.xen.grants import Costs, with_costs
from analysis.simulated import grants as datasets

sns.set_theme(style="whitegrid", context="notebook")
data = Path(data_dir)
costs = Costs(dom0_vcpus=dom0_vcpus)
MIB = 1024 * 1024
costs.table()

# %% [markdown]
# The cost model (module `analysis.xen.grants.costs`): dom0 time per request = maps x map cost + unmaps x
# unmap cost + TLB flushes x (the unmapping VCPU's wait + the V - 1 receivers' handler time) +
# comparisons x compare cost + other backend work, where Xen flushes once per 32 unmaps of a hypercall
# (GNTTAB_UNMAP_BATCH_SIZE) and IPIs every dom0 VCPU but the unmapping one (flush_area_mask);
# guest time = per-request work + memcpy bytes x copy cost; throughput of N guests is the lower of
# N x (guest bound) and dom0 VCPUs / dom0 time. No contention term: this is a bound, not a USL fit.
# With fitted models, `Costs(dom0_vcpus=...).from_models("fitted from <data>", shootdown=...,
# memcpy=..., lookup=...)` replaces the assumed values and records their provenance in this table.

# %% [markdown]
# ## 1 The fallback cliff
#
# A frontend touches a working set of W pages (uniformly at random, or cyclically) with 16 requests of
# 11 pages in flight; blkback keeps at most **352 pages** (one-page ring: 32 slots x 11 segments, the
# default Ian proposes). How do hit rate, dom0 time per request and memory change as W crosses the cap?

# %%
cliff, cliff_meta = datasets.read(data, "grants-cliff-simulated")
cliff = with_costs(cliff, costs, guests)
cliff["max_mapped_mib"] = cliff["max_mapped_pages"] * PAGE_BYTES / MIB
cap = cliff_meta["parameters"]["cap_pages"]
for order in ("random", "cyclic"):
    fig = plots.policies.cliff(cliff, cliff_meta, order=order, guests=guests)
    plt.show()

# %%
fig = plots.policies.throughput_bound(cliff, cliff_meta, costs, working_sets=(264, 440), guests=np.arange(1, 41))
plt.show()

# %% [markdown]
# The bound above gives dom0 all its VCPUs. With one blkback thread per guest on its own VCPU (the
# shootdown model's assumption), each flush makes the unmapping thread wait for V - 1
# acknowledgements and costs every other thread its handler time: at a fixed number of guests,
# adding dom0 VCPUs makes non-persistent mapping *slower* (`costs.blkback_threads_iops`).

# %%
from analysis.xen.grants.costs import blkback_threads_iops

thread_guests = 5  # the thread's peak
vcpus = np.array([5, 8, 12, 16, 24, 32, 48, 64])
at_w = cliff[(cliff["order"] == "random") & (cliff["working_set_pages"] == 264)]
bound = pd.DataFrame([{"label": row["label"], "dom0_vcpus": v,
                       "successful_miops": float(blkback_threads_iops(row, costs, thread_guests, dom0_vcpus=int(v)))
                       * (1 - row["failed_requests"] / row["requests"]) / 1e6}
                      for _, row in at_w.iterrows() for v in vcpus])
fig = plots.policies.vcpu_bound(bound, cliff_meta, guests=thread_guests, working_set_pages=264)
plt.show()

# %% [markdown]
# What the simulation shows (for these parameters):
#
# - **The 2012 rule falls off the cliff at W = cap, not above it.** `use_pers_gnts` requires
#   `pers_gnt_c < cap` when a request *starts*; once the array is exactly full, every later request is
#   handled non-persistently, without even looking up the grefs it already holds (and maps them a
#   second time). With the patch's own cap of 256 x 11 = 2816 pages and blkfront's 352-page pool this
#   never happens, but with "cap = ring slots x 11" (Ian's default) it happens as soon as the pool is
#   warm. Past the cap the patch costs as much dom0 time as no persistent grants at all, *plus* the
#   guest's memcpy: the worst of both.
# - **The per-gref rule (Linux 3.8) degrades gradually**: hits stay at about cap / W for random access.
# - **Array vs tree** matters only once dom0 is the bottleneck: at W = 264 the patch's linear search
#   costs about 11 x 132 comparisons per request, which caps the bound below the tree's (left panel of
#   the guests plot). With few guests each guest's own CPU (and its memcpy) is the limit, and
#   non-persistent mapping, which saves the guest its copy, is ahead until dom0 saturates.
# - **Failing** keeps dom0 cheap and memory capped, but a growing share of requests fails.
# - `linux_lru` coincides with the per-gref rule here: the 20000 requests span 0.2 s of simulated time,
#   so its 100 ms purge (15 pages at cap 352) runs only twice.
# - **Ian's LRU** bounds memory like the others, unmaps in large batches, but on random access it hits
#   *less* often than simply keeping the first `cap` grants (it evicts pages that are as likely to come
#   back as any other); on cyclic access every LRU variant thrashes once W > cap.

# %% [markdown]
# ## 2 Ian's LRU: batch size (N/M) against hit rate
#
# With N = cap pages and a working set of 1.25, 1.5 or 2 x N, each purge discards up to N/M of the least
# recently used grants that are not in flight. Small M = big, rare batches (few shootdowns) but more of
# the working set thrown away; large M = small, frequent batches.

# %%
lru, lru_meta = datasets.read(data, "grants-lru-tradeoff-simulated")
lru["batches_per_1000_requests"] = 1000 * lru["unmap_batches"] / lru["requests"]
lru["pages_per_batch"] = lru["unmaps"] / lru["unmap_batches"]
fig = plots.policies.lru_tradeoff(lru, lru_meta)
plt.show()
lru.pivot_table(index=["cap", "m"], columns="ratio", values=["hit_rate", "pages_per_batch"]).round(3)

# %% [markdown]
# Each step from M to 2M roughly doubles the shootdowns and gains a few points of hit rate; the gain
# shrinks as M grows. M = 2 to 4, as Ian suggested, sits near the knee for these working sets. With
# fewer idle grants (more of the cap in flight), the batch is limited by what is idle, not by N/M.
# With the assumed costs one shootdown is 1 us + 23 x 200 ns = 5.6 us at 24 VCPUs: a purge of 176
# pages pays it once, where the non-persistent path pays it 16 times (one batch per 11-page request).

# %% [markdown]
# ## 3 What the guest can and cannot predict (Jan Beulich)
#
# The guest knows its own working set. It does not know the backend's cap unless the backend
# advertises it (Oliver's option 3), nor, under the 2012 rule, *when* the array filled up. Below: the
# dom0 time of each request of one guest whose working set is just under, at and just over the cap.

# %%
pred, pred_meta = datasets.read(data, "grants-predictability-simulated")
pred = with_costs(pred, costs, guests)
fig = plots.policies.predictability_boxes(pred, pred_meta)
plt.show()

# %%
fig = plots.policies.predictability_trace(pred, pred_meta, working_set_pages=440)
plt.show()
cliff[cliff["order"] == "random"].pivot_table(
    index="working_set_pages", columns="label", values=["fallback_requests", "failed_requests"]).div(
    cliff["requests"].iloc[0]).round(3)

# %% [markdown]
# - Under the **2012 rule** the guest's cost is bimodal and history-dependent: persistent until the
#   array fills, then non-persistent for ever (until reconnect). A guest at W = cap is in the slow
#   mode although its working set "fits". It cannot tell from inside.
# - Under the **per-gref rule** every request is a mix; the mean cost is a smooth function of W / cap,
#   which the guest *could* predict if it knew the cap (option 3: advertise it, e.g. in xenstore).
# - Under **fail_past_limit** the guest sees errors, which is at least visible; with an advertised cap
#   a well-behaved frontend never triggers it (Oliver's objection to option 1 is versioning, not cost).
# - Under **LRU** cost varies from request to request with the purge batches; the mean is predictable
#   from W / N and M, the individual request is not.

# %% [markdown]
# ## 4 A malicious frontend: memory bound and cost to dom0
#
# A frontend sends a gref it never sent before for every segment (32 requests of 11 pages in flight).
# The cap exists for this case: does memory stay bounded, and what does the attack cost dom0?

# %%
bad, bad_meta = datasets.read(data, "grants-malicious-simulated")
bad = with_costs(bad, costs, guests)
summary = bad.groupby("label").agg(dom0_us_per_request=("dom0_us_per_request", "mean"),
                                   max_held_pages=("mapped_pages", "max"),
                                   max_resident_pages=("resident_pages", "max"),
                                   shootdowns_per_request=("unmap_batches", "mean"))
fig = plots.policies.malicious(summary, bad_meta)
plt.show()
summary.assign(max_held_mib=summary["max_held_pages"] * PAGE_BYTES / MIB).round(2)

# %% [markdown]
# Persistent memory never exceeds the cap under any capped policy (a property test checks this for
# random traces too); what is held on top is the transient mappings of requests in flight, bounded by
# ring slots x segments (so at most 2 x 352 pages = 2.75 MiB here). The attack costs dom0 what
# non-persistent mapping costs (each page mapped and unmapped), plus lookups: the cap turns a memory DoS
# into the pre-2012 CPU cost, no worse (the attacker pays its own memcpy). Failing the requests makes the
# attack cheapest for dom0. Ian's LRU does not batch here: with cap = ring slots x 11, every other
# persistent grant belongs to a request still in flight, so each purge can only discard the 11 pages of
# the request that just completed, one shootdown per request, exactly like `non_persistent`. Batching
# needs a cap larger than the pages a ring can hold in flight.

# %% [markdown]
# ## 5 Burst, then idle: does anything expire?
#
# Ian asked whether unused grants should expire. A two-page ring (64 slots) bursts for 3000 requests
# (30 ms), then idles for about 75 s with one request in flight (blkfront then reuses only 11 pages),
# twice; cap 1056 (Linux's max_persistent_grants). `linux_lru (expire after 60 s unused)` is the purge
# Linux gained in 2018 (`persistent_grant_unused_seconds`).

# %%
ph, ph_meta = datasets.read(data, "grants-phase-simulated")
ph["time_s"] = ph["time_us"] / 1e6
fig = plots.policies.phase(ph, ph_meta)
plt.show()
ph.groupby("label")[["maps", "unmaps", "unmap_batches"]].sum()

# %% [markdown]
# After a burst every persistent policy without expiry keeps the burst's 704 pages mapped through the
# idle phase: size-triggered LRU (Ian's) and Linux's 3.11 purge only run when the cap overflows, and
# this working set never reaches it. The 60 s expiry gives the memory back 60 s into the idle phase,
# in one purge of 693 pages (63 batches of 11), and pays for it with 693 maps when the next burst
# starts: a trade of memory held while idle against one re-warm-up per burst. No policy here can
# predict bursts; the expiry bounds how long idle memory is held, not how much.
