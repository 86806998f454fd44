# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
import numpy as np
import seaborn as sns
from IPython.display import Markdown, display

from analysis import constants as C
from analysis import mechanisms as mech

folder = Path(data_dir) / "raw" / "measured-here" / "gref-lookup"
manifest = mech.load_manifest(folder)
label = mech.machine_label(manifest)
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
medians = summary.rename(columns={"median": "median_lookup_ns"})
grid = sns.relplot(data=medians, x="n_grants", y="median_lookup_ns", hue="structure", style="outcome",
                   kind="line", marker="o", height=4.5, aspect=1.5)
grid.set(xscale="log", yscale="log", xlabel="mapped grants n", ylabel="median time per lookup (ns)")
ax = grid.ax
for n, name in [(one_page, "352"), (C.LINUX_MAX_PERSISTENT_GRANTS, "1056"),
                (C.PATCH_2012_MAX_PERSISTENT_GRANTS, "2816")]:
    ax.axvline(n, color="grey", lw=0.8, ls=":")
    ax.text(n, ax.get_ylim()[1], name, ha="center", va="bottom", fontsize=8)
grid.fig.suptitle(f"gref lookup time vs mapped grants (medians)\n{label}", y=1.08, fontsize=9)
plt.show()

# %% [markdown]
# ## Models: linear for the scans, logarithmic for the tree
#
# For the two linear searches we fit `lookup_ns = intercept + slope x n` (slope = ns per grant
# read), for the sorted array and the tree `lookup_ns = intercept + slope x log2 n` (slope = ns per
# level), to the medians at each n from 32 to 1056 with bootstrap 95% intervals
# (`analysis.mechanisms.fit_line`; the project's `LookupModel` in `analysis.models` will replace it).
# Up to 1056 grants the pointer array and the structs (8 + 32 bytes each, about 42 KiB) fit in this
# CPU's 64 KiB L1 data cache; past that they spill to L2 and the cost per grant rises, which the
# figure shows as the upward bend: the line is the in-L1 regime only.

# %%
samples["log2_n"] = np.log2(samples["n_grants"])
fits = {}
for structure, x in [("ptr-array", "n_grants"), ("flat-array", "n_grants"), ("sorted-array", "log2_n"), ("bst", "log2_n")]:
    for outcome in ("hit", "miss"):
        sel = samples[(samples["structure"] == structure) & (samples["outcome"] == outcome) & samples["n_grants"].between(32, C.LINUX_MAX_PERSISTENT_GRANTS)]
        fits[structure, outcome] = mech.fit_line(sel, x=x, y="lookup_ns")
        print(f"{structure:12s} {outcome:4s}: {fits[structure, outcome]}")

# %% [markdown]
# ## The thread's claim in numbers
#
# At the seed's peak, 650,000 IOPS went through blkback. A request's time budget is 1/650,000 s
# = 1.54 us if one thread served them all, or 7.7 us per request for each of the 5 guests' blkback
# threads. A 4 KiB read carries one segment (one lookup); a full request carries 11.

# %%
n_max = int(samples["n_grants"].max())
med = samples.groupby(["structure", "outcome", "n_grants"])["lookup_ns"].median()
budget_one = mech.budget_ns_per_request(C.SEED_PEAK_IOPS)
budget_guest = mech.budget_ns_per_request(C.SEED_PEAK_IOPS, workers=C.SEED_PEAK_GUESTS)
lines = []
for n in (one_page, C.LINUX_MAX_PERSISTENT_GRANTS, n_max):
    scan = med["ptr-array", "miss", n]
    lines.append(
        f"- n = {n}: the patch's pointer-array search costs **{med['ptr-array', 'hit', n]:.0f} ns (hit) / {scan:.0f} ns (miss)** "
        f"per lookup; 11 misses per full request = {11 * scan / 1e3:.2f} us = {11 * scan / budget_one:.0%} of the "
        f"one-thread budget ({budget_one / 1e3:.2f} us), {11 * scan / budget_guest:.0%} of a guest thread's ({budget_guest / 1e3:.1f} us). "
        f"The tree: {med['bst', 'hit', n]:.0f} ns, the hash table: {med['hash', 'hit', n]:.0f} ns per hit."
    )
slope = fits["ptr-array", "miss"]
lines.append(f"- Up to 1056 grants each mapped grant adds **{slope.slope:.2f} ns** [{slope.slope_ci[0]:.2f}, {slope.slope_ci[1]:.2f}] "
             "to a pointer-array miss here; the pointers' targets stay in cache, so the chase costs little more "
             f"than the flat array's {fits['flat-array', 'miss'].slope:.2f} ns per grant. At n = {n_max} the scan costs "
             f"{med['ptr-array', 'miss', n_max] / n_max:.2f} ns per grant: the table no longer fits in L1.")
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
