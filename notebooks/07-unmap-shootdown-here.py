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
#     answer: A shootdown multiplies a one-page unmap's cost several times even with
#       one remote CPU; batching divides it.
#     data:
#     - raw/measured-here/unmap-shootdown/
#     evidence:
#     - measured
#     question: What does an unmap with its TLB shootdown cost here, and how does it
#       grow with remote CPUs?
# ---

# %% [markdown]
# # 07 What an unmap and its TLB shootdown cost here
#
# The 2012 patch exists to avoid grant unmaps (claim (b)):
#
# > "the number of unmap operations performed, since they cause a (costly) TLB shootdown ...
# > The cost of unmapping scales badly with the number of CPUs in Dom0."
#
# No Xen host is available, so we measure the native Linux analogue: `munmap` (or
# `mprotect(PROT_NONE)`) of pages that other threads of the same process have just read on other
# CPUs, which makes the kernel send those CPUs flush IPIs (`benchmarks/mechanisms/unmap.c`). The
# x axis is the number of *remote* CPUs that must be shot down. **This machine has few CPUs, so
# the curve is short, and it is a VM, where an IPI exits to the hypervisor: measured here, not on
# Xen.** `python -m analysis.collect.mechanisms measure OUT --only unmap-shootdown` runs it on a bigger host.

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
from analysis.models import MedianLine

folder = Path(data_dir) / paths.UNMAP_DIR
manifest = mech.load_manifest(folder)
label = machine.label(manifest)
samples = mech.load_unmap(folder)
counters = mech.load_unmap_counters(folder)
display(Markdown(mech.provenance_note(manifest, len(samples))))

# %% [markdown]
# ## Did the shootdowns happen?
#
# The unmapping thread ran on the first of the CPUs listed in the manifest (`program_meta.cpus`),
# the remote threads on the next ones; perf was used as `program_meta.perf` says.
# Per call: `tlb_irqs` and `cal_irqs` are the changes of /proc/interrupts' TLB and CAL lines
# (system-wide); the perf columns count tracepoints of this process only: `remote_shootdowns`
# (`tlb:tlb_flush` reason 1, a flush run because of an IPI) and `ipi_send_cpu` (IPIs sent).
# `flush_ipis_sent` (reason 4) is traced before Linux drops CPUs in lazy-TLB mode
# (arch/x86/mm/tlb.c), so it can count flushes that sent no IPI.

# %%
counters.round(3)

# %% [markdown]
# ## Cost per call vs remote CPUs, and batching

# %%
summary = mech.summarize(samples, ["op", "remote_threads", "pages_per_call"], "call_us")
summary.round(2)

# %%
fig = plots.mechanisms.unmap_per_call(summary.rename(columns={"median": "median_call_us"}), label)
plt.show()

# %%
per_page = mech.summarize(samples, ["op", "remote_threads", "pages_per_call"], "page_ns")
per_page["median_page_us"] = per_page["median"] / 1e3
fig = plots.mechanisms.unmap_per_page(per_page, label)
plt.show()

# %% [markdown]
# ## Model: a fixed cost plus a cost per remote CPU
#
# The project's `ShootdownModel(kind="linear")` (`analysis.models`):
# `unmap_ns = base_ns + per_vcpu_ns x V`, with V the CPUs that must take the flush IPI (here the
# remote CPUs k), fitted to the median at each k. With two CPUs there are two k values, so the
# model has no residual degrees of freedom and reports no interval (its Note says so); the
# intervals below come from `analysis.models.MedianLine`, which resamples the samples at each k,
# takes medians again and refits: they show the samples' scatter, not whether the cost is linear
# in k.

# %%
from analysis.models import ShootdownModel

rows, fits = [], {}
for (op, pages), group in samples.groupby(["op", "pages_per_call"]):
    med = group.groupby("remote_threads")["call_ns"].median()
    model = ShootdownModel(kind="linear", seed=0).fit(med.index.to_numpy(), med.to_numpy())
    boot = MedianLine(n_boot=400, seed=0).fit(group["remote_threads"], group["call_ns"])
    fits[op, pages] = model
    rows.append({"op": op, "pages_per_call": pages, "base_us": model.params_["base_ns"] / 1e3,
                 "per_remote_cpu_us": model.params_["per_vcpu_ns"] / 1e3,
                 "per_remote_cpu_us 95% CI (bootstrap of samples)":
                     f"[{boot.ci_['slope'][0] / 1e3:.2f}, {boot.ci_['slope'][1] / 1e3:.2f}]"})
display(pd.DataFrame(rows).round(2))
display(fits["munmap", 1].summary())

# %% [markdown]
# ## The thread's claim in numbers
#
# What growth per extra CPU does the seed's curve imply? It reports 650,000 IOPS at 5 guests and
# 400,000 at 10 with 24 dom0 VCPUs. If each extra guest adds a dom0 CPU that every unmap must shoot
# down and unmaps are the bottleneck, the time per I/O grows by (1/400k - 1/650k) / 5 per extra
# guest when unmaps are serialized, or 24 times that when all 24 VCPUs are busy unmapping
# (`analysis.models.budget.seed_unmap_growth_per_cpu_ns`): two bounds, not a fit (notebook 04 fits the
# whole curve).

# %%
one_page = samples[(samples["op"] == "munmap") & (samples["pages_per_call"] == 1)]
single = MedianLine(n_boot=400, seed=0).fit(one_page["remote_threads"], one_page["call_ns"])
single_slope, single_slope_ci = single.params_["slope"], single.ci_["slope"]
med = samples.groupby(["op", "pages_per_call", "remote_threads"])["call_us"].median()
seed_low = budget.seed_unmap_growth_per_cpu_ns()
seed_high = budget.seed_unmap_growth_per_cpu_ns(dom0_cpus_busy=C.SEED_DOM0_VCPUS)
# ShootdownScaling's stall model (notebook 03): the flush time per I/O at the peak is at most the
# per-guest time budget 1e9 / X*; spread over the 24 dom0 VCPUs it must interrupt:
seed_per_vcpu_max = budget.budget_ns_per_request(C.SEED_PEAK_IOPS) / C.SEED_DOM0_VCPUS
display(Markdown(
    f"- One-page `munmap`: **{med['munmap', 1, 0]:.1f} us with no remote CPU, {med['munmap', 1, 1]:.1f} us with one**; "
    f"growth **{single_slope / 1e3:.1f} us per remote CPU** [{single_slope_ci[0] / 1e3:.1f}, {single_slope_ci[1] / 1e3:.1f}].\n"
    f"- Batched, {C.SEGMENTS_PER_REQUEST} pages per call (one request's segments): {med['munmap', C.SEGMENTS_PER_REQUEST, 0]:.1f} us "
    f"and {med['munmap', C.SEGMENTS_PER_REQUEST, 1]:.1f} us per call, i.e. "
    f"{med['munmap', C.SEGMENTS_PER_REQUEST, 1] / C.SEGMENTS_PER_REQUEST:.1f} us per page with a remote CPU against "
    f"{med['munmap', 1, 1]:.1f} us unbatched: one shootdown serves the whole batch.\n"
    f"- `mprotect(PROT_NONE)` (no page freeing, closer to a grant unmap): {med['mprotect', 1, 0]:.1f} us -> "
    f"{med['mprotect', 1, 1]:.1f} us, growth {fits['mprotect', 1].params_['per_vcpu_ns'] / 1e3:.1f} us per remote CPU.\n"
    f"- What the seed's curve implies: if every 4 KiB I/O's unmap stalls all {C.SEED_DOM0_VCPUS} dom0 VCPUs "
    f"(the stall model of notebook 03), reaching {C.SEED_PEAK_IOPS:,} IOPS needs a flush of at most "
    f"{budget.budget_ns_per_request(C.SEED_PEAK_IOPS):.0f} ns per I/O, **at most {seed_per_vcpu_max:.0f} ns per VCPU**; "
    f"if instead the decline from 5 to 10 guests is unmap time growing per extra guest's CPU, it grows "
    f"{seed_low / 1e3:.2f} us (serialized unmaps) to {seed_high / 1e3:.1f} us ({C.SEED_DOM0_VCPUS} busy VCPUs) per I/O per extra guest.\n"
    f"- Here one remote CPU adds {single_slope / 1e3:.1f} us per unmap: {single_slope / seed_per_vcpu_max:.0f}x the stall model's "
    f"per-VCPU ceiling and {single_slope / seed_high:.1f}x the upper growth bound. A VM's IPIs trap to the hypervisor, "
    "so a remote flush costs microseconds here; on bare metal it is nearer 1 us + ~0.2 us per receiving core "
    "(an assumed rule of thumb; Amit, USENIX ATC 2017: a shootdown can take microseconds), and Xen flushes from the hypervisor."
))

# %% [markdown]
# **Reading**: a shootdown is not free even with one remote CPU: here it multiplies the cost of a
# one-page unmap several times over, and the per-CPU growth is large enough that a dom0 with 24
# VCPUs doing tens of thousands of unmaps per second per guest would spend whole CPUs on them,
# which is the mechanism the seed blames. Batching (one flush per request, as
# `gnttab_unmap_refs` does) divides the per-page cost by about the batch size. The short curve
# (two points) cannot show whether the growth is linear in the CPU count: run the program on a
# bigger host. Caveats: a Xen dom0's grant unmap is a hypercall and Xen flushes the CPUs in the
# domain's dirty mask, which this native analogue only imitates.
