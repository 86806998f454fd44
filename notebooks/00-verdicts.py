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
#     answer: Each claim gets a number and a verdict; the tally is on the landing page.
#     data:
#     - raw/seed-thread/thread-claims.csv
#     - raw/seed-thread/memory-claims.csv
#     - raw/seed-thread/iops-vs-guests.csv
#     - raw/measured-here/
#     - simulated/
#     evidence:
#     - computed
#     - digitized
#     - measured
#     - simulated
#     question: Which of the 2012 thread's claims hold, and on what evidence?
# ---

# %% [markdown]
# # 00 The 2012 thread's claims, judged
#
# "[PATCH] Persistent grant maps for xen blk drivers" (xen-devel / linux-kernel, 19-21 September
# 2012) argued about what unmapping grants costs, what copying instead costs, how much memory
# persistent grants pin and what blkback should do past its cap. This page takes each claim of
# that thread, in the order it was made, and shows what this suite computes, measures or simulates
# about it, and a verdict. Start here; the last column links the notebook that explains each row.
#
# **Kinds of evidence.** *Computed from the Linux/Xen sources*: ring and request layouts built
# from the `blkif.h` / `ring.h` field sizes (`analysis.xen.blkif`). *Digitized from the thread*: the
# figures as written (`data/raw/seed-thread/`). *Measured on this machine, not Xen*: small C
# programs timing the mechanism (an unmap with its TLB shootdown, a 4 KiB copy, a gref lookup) on
# an ordinary Linux VM (`data/raw/measured-here/`); such a number judges only the mechanism, never
# Xen's IOPS. *Simulated*: exact counts from the grant-store simulator (`analysis.xen.grants`,
# `data/simulated/`), not times. No Xen host was available.

# %% tags=["parameters"]
data_dir = "../data"
report_dir = None  # set by `pgrant-lab report`: the report folder, where verdicts.csv is written

# %%
from pathlib import Path

from IPython.display import HTML, Markdown, display

from analysis.decide import export, verdicts
from analysis.ingest import bundle
from analysis.simulated import grants as datasets
from analysis import tables
from analysis.site import capture

data_dir = Path(data_dir)
inputs = bundle.load_bundled(data_dir)  # the thread's figures and the mechanisms measured here, read once
simulated = datasets.read_all(data_dir, verdicts.SIMULATED_SETS)
table = verdicts.verdict_table(inputs, simulated)
display(HTML(verdicts.to_html(table)))
if report_dir:  # every verdict's number, unit and evidence beside the report: reports/verdicts.csv
    export.write_csv(export.verdict_records(table), Path(report_dir) / "verdicts.csv")
tables.data_link(table, "verdicts")

# %% [markdown]
# ## How the verdicts are decided
#
# Each verdict comes from a small function in `analysis/decide/verdicts.py` (tested in
# `tests/test_decide_verdicts.py` with a case that holds and one that does not):

# %%
display(Markdown("\n".join([
    "- **Ring size and memory** (`judge_memory`): `analysis.xen.blkif.judge_claims` recomputes each figure "
    "under the claim's own ring size and checks that ring size against what a ring of that order holds. "
    "Right arithmetic on a wrong ring size is *wrong*; a reply that reasons from an earlier message's "
    "figure (David's 150 VMs, Jan's pointer array) *holds with a caveat*.",
    "- **Peak and decline** (`judge_usl_peak`): the claimed X(10)/X(5) against the range every Universal "
    "Scalability Law with sigma, kappa >= 0 and its peak at 5 guests allows (`analysis.models.peak_ratio_bounds`).",
    "- **Unmap cost vs CPUs** (`judge_growth`): the 95% interval of the cost added per remote CPU "
    "(`analysis.models.MedianLine` on the one-page `munmap` samples); two CPU counts show a step, not a trend.",
    f"- **\"Little\" costs** (`judge_cost_share`): the cost as a share of one CPU at the thread's per-guest rate "
    f"(peak IOPS / guests); under {verdicts.NEGLIGIBLE_SHARE:.0%} even in the worst case *holds*, "
    f"{verdicts.NOTICEABLE_SHARE:.0%} or more even in the best case is *wrong*, anything between "
    "*holds with a caveat*. Best and worst cases: warm and cold caches for the copy; a one-page ring's "
    "grants with one segment per request and the patch's own cap with 11 segments for the lookup.",
    f"- **Fallback \"in between\"** (`judge_between`): grant maps and bytes copied per request when the "
    f"store is full, against the persistent and non-persistent modes; within {verdicts.EXTREME_RTOL:.0%} of the "
    "worse mode on every count is *wrong* (worse than either extreme).",
    f"- **Unpredictability** (`judge_cliff`): the cost per request jumps by {verdicts.CLIFF_FACTOR:g}x or more "
    "between a working set just under the cap and one at it, a cap the guest is not told.",
    f"- **LRU batching** (`judge_batching`): pages unmapped per TLB flush at least {verdicts.BATCH_GAIN:g}x "
    "non-persistent unmapping's, in every simulated scenario.",
])))

# %% [markdown]
# ## The verdicts at a glance

# %%
glance = table.groupby("verdict", sort=False)["claim_id"].agg(list)
display(Markdown("\n".join(f"- **{verdict}** ({len(ids)}): {', '.join(ids)}" for verdict, ids in glance.items())))
capture.summary(tally={verdict: len(ids) for verdict, ids in glance.items()})

# %% [markdown]
# Read the memory rows with notebook 02 (why a one-page ring holds fewer requests than the thread
# assumed), the scaling row with notebook 12 (which model of Xen's flush lock reproduces the
# collapse, checked against a simulation; notebooks 03 and 04 show why the USL cannot), the
# BUG_ON row with `analysis.xen.grants.patch` (the patch replayed exactly), the mechanism rows with notebooks 05 to 07 (measured on this
# machine, not Xen) and the policy rows with notebook 08 (simulated counts; times there use
# assumed costs).
