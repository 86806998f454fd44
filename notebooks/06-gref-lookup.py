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
#     answer: 'A few hundred ns per lookup at a few hundred grants: low for 1-segment
#       requests, noticeable for 11 segments at 1056 grants.'
#     data:
#     - raw/measured-here/gref-lookup/
#     evidence:
#     - measured
#     question: How long does blkback's O(n) gref lookup take, against a tree or a hash?
# ---

# %% [markdown]
# # 06 How long blkback's gref lookup takes
#
# With persistent grants blkback must find, for every segment of every request, whether it has
# already mapped that grant. The 2012 patch (claim (d)):
#
# > "we have to perform a linear search through this array to find the page, for every gref we
# > receive. The overhead of this is low, however future work might want to use a more efficient
# > data structure to reduce this O(n) operation."
#
# Its `get_pers_gnt` walks an array of *pointers* to separately `kmalloc`'d `struct pers_gnt`,
# dereferencing each. Linux 3.8 merged an rb-tree instead. We time, in C
# (`benchmarks/mechanisms/lookup.c`), one lookup against n mapped grants for that pointer array,
# a flat array, a sorted array, a balanced tree of separately allocated nodes (an rb-tree's lookup
# path) and a hash table. **Measured on this machine (named under every figure), not on Xen.**

# %% tags=["parameters"]
data_dir = "../data"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from analysis import constants as C
from analysis import machine, paths, plots
from analysis.ingest import mechanisms as mech
from analysis.models import budget

folder = Path(data_dir) / paths.LOOKUP_DIR
manifest = mech.load_manifest(folder)
label = machine.label(manifest)
samples = mech.load_lookup(folder)
display(Markdown(mech.provenance_note(manifest, len(samples))))

# %% [markdown]
# ## Lookup time at the landmarks of the ring geometry
#
# n = 352 is a one-page ring's 32 requests x 11 segments (Linux 3.8's cap); 1056 is Linux's
# `max_persistent_grants` default; 2816 is the 2012 patch's own cap (256 x 11); 5632 a 16-page
# ring's. A *hit* asks for a mapped grant at a random position (a linear search reads n/2 on
# average); a *miss* for an unmapped one (it reads all n) - every new grant is a miss first.

# %%
summary = mech.summarize(samples, ["structure", "outcome", "n_grants"], "lookup_ns")
one_page = C.LINUX_REQS_PER_RING_PAGE * C.SEGMENTS_PER_REQUEST
landmarks = [one_page, C.LINUX_MAX_PERSISTENT_GRANTS, int(samples["n_grants"].max())]
table = summary[summary["n_grants"].isin(landmarks)].pivot_table(
    index=["structure", "outcome"], columns="n_grants", values="median")
table.round(1).rename_axis(columns="median ns per lookup at n =")

# %%
fig = plots.mechanisms.lookup_times(summary.rename(columns={"median": "median_lookup_ns"}), label)
plt.show()

# %% [markdown]
# ## Models: linear for the scans, logarithmic for the tree
#
# The project's `LookupModel` (`analysis.models`): `kind="linear"`, `lookup_ns = base_ns + step_ns x n`
# (step = ns per grant in the array) for the two linear searches, `kind="log"`,
# `lookup_ns = base_ns + step_ns x log2 n` (step = ns per level) for the sorted array and the tree,
# fitted to the medians at each n from 32 to 1056 (covariance and residual-bootstrap 95% intervals).
# Up to 1056 grants the pointer array and the structs (8 + 32 bytes each, about 42 KiB) fit in this
# CPU's 64 KiB L1 data cache; past that they spill to L2 and the cost per grant rises, which the
# figure shows as the upward bend: the lines describe the in-L1 regime only.

# %%
from analysis.models import LookupModel, lookup_crossover

fits = {}
for structure, kind in [("ptr-array", "linear"), ("flat-array", "linear"), ("sorted-array", "log"), ("bst", "log")]:
    for outcome in ("hit", "miss"):
        sel = samples[(samples["structure"] == structure) & (samples["outcome"] == outcome)
                      & samples["n_grants"].between(32, C.LINUX_MAX_PERSISTENT_GRANTS)]
        med = sel.groupby("n_grants")["lookup_ns"].median()
        fits[structure, outcome] = LookupModel(kind=kind, seed=0).fit(med.index.to_numpy(), med.to_numpy())
fit_table = pd.DataFrame([
    {"structure": s, "outcome": o, "kind": f.kind, "step_ns": f.params_["step_ns"],
     "step_ns 95% CI": f"[{f.ci_['step_ns'][0]:.3g}, {f.ci_['step_ns'][1]:.3g}]", "base_ns": f.params_["base_ns"],
     "notes": len(f.notes_)}
    for (s, o), f in fits.items()])
display(fit_table.round(3))
display(fits["ptr-array", "miss"].summary())

# %% [markdown]
# ## The thread's claim in numbers
#
# At the seed's peak, 650,000 IOPS went through blkback. A request's time budget is 1/650,000 s
# = 1.54 us if one thread served them all, or 7.7 us per request for each of the 5 guests' blkback
# threads. A 4 KiB read carries one segment (one lookup); a full request carries 11.

# %%
n_max = int(samples["n_grants"].max())
med = samples.groupby(["structure", "outcome", "n_grants"])["lookup_ns"].median()
budget_one = budget.budget_ns_per_request(C.SEED_PEAK_IOPS)
budget_guest = budget.budget_ns_per_request(C.SEED_PEAK_IOPS, workers=C.SEED_PEAK_GUESTS)
lines = []
for n in (one_page, C.LINUX_MAX_PERSISTENT_GRANTS, n_max):
    hit, miss = med["ptr-array", "hit", n], med["ptr-array", "miss", n]
    lines.append(
        f"- n = {n}: the patch's pointer-array search costs **{hit:.0f} ns (hit) / {miss:.0f} ns (miss)** per lookup. "
        f"A full request's 11 lookups, all hits (steady state: grants are re-used), take {11 * hit / 1e3:.2f} us = "
        f"{11 * hit / budget_one:.0%} of the one-thread budget ({budget_one / 1e3:.2f} us) and {11 * hit / budget_guest:.0%} "
        f"of a guest thread's ({budget_guest / 1e3:.1f} us); all misses (first use) {11 * miss / 1e3:.2f} us. "
        f"The tree: {med['bst', 'hit', n]:.0f} ns, the hash table: {med['hash', 'hit', n]:.0f} ns per hit."
    )
miss_fit = fits["ptr-array", "miss"]
step, (step_lo, step_hi) = miss_fit.params_["step_ns"], miss_fit.ci_["step_ns"]
lines.append(f"- Up to 1056 grants each mapped grant adds **{step:.2f} ns** [{step_lo:.2f}, {step_hi:.2f}] "
             "to a pointer-array miss here; the pointers' targets stay in cache, so the chase costs little more "
             f"than the flat array's {fits['flat-array', 'miss'].params_['step_ns']:.2f} ns per grant. At n = {n_max} the scan costs "
             f"{med['ptr-array', 'miss', n_max] / n_max:.2f} ns per grant, with the table spilled from L1 to L2.")
# 10% of a CPU: a share a dom0 operator would notice; at 1% the threshold (1.4 ns per lookup with
# 11 lookups per I/O) is below the fits' error at small n.
for per_io, what in ((C.SEGMENTS_PER_REQUEST, "full 11-segment requests"), (1, "one-segment 4 KiB requests")):
    n_cross = lookup_crossover(fits["ptr-array", "hit"], fits["bst", "hit"], iops=C.SEED_PEAK_IOPS,
                               cpu_share=0.1, lookups_per_io=per_io)
    extra = [(med["ptr-array", "hit", n] - med["bst", "hit", n]) * per_io * C.SEED_PEAK_IOPS / 1e9
             for n in (one_page, C.LINUX_MAX_PERSISTENT_GRANTS)]
    lines.append(f"- With {what} at {C.SEED_PEAK_IOPS:,} IOPS, all hits, the patch's scan costs {extra[0]:.2f} CPUs "
                 f"more than the tree at n = {one_page} and {extra[1]:.2f} at n = {C.LINUX_MAX_PERSISTENT_GRANTS} (medians); "
                 f"the fitted models cross 10% of a CPU at **n = {n_cross:.0f}** (`lookup_crossover`).")
display(Markdown("\n".join(lines)))

# %% [markdown]
# **Reading**: at the patch's realistic sizes (a few hundred grants) the linear search costs a few
# hundred ns per lookup: small for one-segment 4 KiB requests, but for full 11-segment requests at
# n = 1056 it is a noticeable share of the per-request budget, and it grows linearly past that,
# while the tree stays under ~100 ns and the hash table around 10 ns. So "the overhead of this is
# low" is true for the ring sizes of 2012 and stops being true as rings and grant caps grow, which
# is why Linux merged a tree. Caveats: tables stay cache-resident here (a blkback thread serving
# one device keeps them hot); cold lookups would cost more for every pointer-chasing structure;
# the VM and shared CPUs (see the load average) widen the tails, hence medians.
