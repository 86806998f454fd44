# ---
# jupyter:
#   jupytext:
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
#     answer: 'The arithmetic is right but the slot counts are not a one-page ring''s
#       (32 requests): 2.75 MB is a 2-page ring, 11 MB an 8-page one.'
#     data:
#     - raw/seed-thread/memory-claims.csv
#     evidence:
#     - computed
#     - digitized
#     question: How much memory do persistent grants pin per device and per host, and
#       were the thread's 11 MB and 2.75 MB right?
# ---

# %% [markdown]
# # 02 Ring size and persistent-grant memory
#
# The 2012 thread argued about memory three times, and its figures do not agree:
#
# * the patch sets `BLKIF_MAX_PERS_REQUESTS_PER_DEV = 256`, "the maximum number of entries in the
#   ring", and says this costs 11 MB of mapped memory per device;
# * Jan Beulich replies that a single-page ring holds 64 requests, so 256 must come from a
#   4-page (order 2) ring; Oliver Chick corrects the cost to 2.75 MB per device;
# * David Vrabel asks what 150 VMs with 2 disks each cost: "> 3 GB" at 11 MB per device.
#
# Nobody computed the ring. This notebook does, from the C layout of the blkif request and the
# arithmetic of Linux `include/xen/interface/io/ring.h`, and puts the thread's figures (digitized
# with their quotes in `data/raw/seed-thread/memory-claims.csv`) next to the computed ones.
# All values are computed by `analysis.xen.blkif`; the layouts and slot counts are checked against
# `cc` and `cc -m32` by `tests/test_xen_blkif.py`. Nothing here is measured.

# %% tags=["parameters"]
data_dir = "../data"
abi = "x86_64"  # guest ABI: x86_64 or x86_32
dom0_mem_gib = 4.0  # dom0's memory on your host (GiB), drawn as a reference line
vms = 150  # David Vrabel's host: 150 VMs ...
disks = 2  # ... with 2 virtual block devices each
queues = 1  # rings per device in the host plots (1 in 2012; Linux blkfront now uses up to 4)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from analysis.ingest import thread
from analysis.xen import blkif
from analysis import constants as C
from analysis import plots
from analysis.tables import sentence

sns.set_theme(style="whitegrid", context="notebook")
pd.set_option("display.precision", 3)
data_dir = Path(data_dir)

# %% [markdown]
# ## 1. What one ring slot costs: the request layout
#
# A slot of the shared ring is a `union { struct blkif_request; struct blkif_response; }`. The
# request carries 11 segments of 8 bytes (`gref` u32, `first_sect` u8, `last_sect` u8, 2 bytes
# tail padding). On x86_64 the compiler inserts a 4-byte hole before the 64-bit `id`; on x86_32
# a 64-bit integer is only 4-aligned inside a struct, so there is no hole. Offsets in bytes,
# from `analysis.xen.blkif.layout` (the Xen public header `xen/include/public/io/blkif.h`):

# %%
layouts = pd.DataFrame(
    {name: blkif.layout(blkif.request_type(name), name).offsets for name in blkif.ABIS}
).rename_axis("member of struct blkif_request")
layouts.loc["sizeof"] = [blkif.request_size(name) for name in blkif.ABIS]
layouts.loc["sizeof(struct blkif_response)"] = [blkif.response_size(name) for name in blkif.ABIS]
layouts.loc["sizeof(ring entry)"] = [blkif.entry_size(name) for name in blkif.ABIS]
layouts.loc["offsetof(sring, ring) = header"] = [blkif.ring_header_bytes(name) for name in blkif.ABIS]
layouts

# %% [markdown]
# ## 2. How many requests a ring holds
#
# `ring.h`: slots = `__RD32((ring bytes - header) / sizeof(entry))`, the largest power of two
# not above the number of whole entries. A ring of page order *n* has 2<sup>n</sup> pages, each
# shared through one grant reference (`ring-ref0..`); Linux allows orders 0 to
# `XENBUS_MAX_RING_GRANT_ORDER` = 4.

# %%
geometry = blkif.geometry_table()
geometry[["abi", "order", "grant_refs", "ring_bytes", "entry_bytes", "whole_entries", "slots", "unused_bytes"]]

# %%
one_page = blkif.ring_geometry(0, abi)
sentence(
    f"{abi}: one page = ({one_page.ring_bytes} - {one_page.header_bytes}) // {one_page.entry_bytes} "
    f"= {one_page.whole_entries} whole entries -> {one_page.slots} slots (largest power of two)"
)

# %% [markdown]
# ## 3. The thread's figures, judged
#
# Each claim from the thread, with the value computed under the claim's own premises
# (`computed`, in the claim's unit) and whether the slot count it assumes is the one-page ring's
# (`premise_ok`). The thread writes MB/GB/k; they are binary units (256 x 11 x 4096 bytes is exactly
# 11 x 2<sup>20</sup>).

# %%
claims = thread.load_memory_claims(data_dir)
judged = blkif.judge_claims(claims, abi)
judged[["date_utc", "author", "quantity", "ring_order", "slots", "relation", "value", "unit", "computed", "holds", "premise_ok", "quote"]]

# %% [markdown]
# The same figures as scenarios: the slot counts the thread assumed and the real one-page ring,
# the persistent-grant memory per device (worst case: every slot in flight with all 11 segments
# mapped), the ring page order each slot count really needs, the `struct page *` array Jan
# pointed at, and the host total for the `vms` x `disks` of the parameters cell.

# %%
scenarios = blkif.memory_scenarios(claims, abi, vms=vms, disks=disks)
scenarios

# %%
real = scenarios[scenarios["one_page_ring"]].iloc[0]
for _, row in scenarios[~scenarios["one_page_ring"]].iterrows():
    sentence(
        f"{row['scenario']}: {row['slots']} slots x {C.SEGMENTS_PER_REQUEST} segments x {C.PAGE_BYTES} B "
        f"= {row['mib_per_device']:.3f} MiB (claimed {row['claimed_mib_per_device']}) -> needs a ring of order "
        f"{row['order_needed']} ({row['ring_grant_refs']} pages), not one page"
    )
sentence(
    f"one-page ring on {abi}: {real['slots']} slots x {C.SEGMENTS_PER_REQUEST} x {C.PAGE_BYTES} B = "
    f"{real['mib_per_device']:.3f} MiB per device, {real[f'host_gib_{vms}x{disks}']:.2f} GiB for {vms} VMs x {disks} disks"
)

# %% [markdown]
# **Verdict.** The arithmetic in the thread is right (slots x 11 x 4 KiB; 11 MiB of pages need a
# 22 KiB pointer array), but the slot counts are not those of a one-page ring. None of the thread's
# figures matches a one-page ring: as the cells above compute, a one-page ring holds 32 requests on
# both x86 ABIs, so the one-page cost is half of Oliver's corrected 2.75 MB; his 64 slots is a
# 2-page (order 1) ring, and the patch's 256 is an 8-page (order 3) ring, not the 4-page ring Jan
# guessed. (Why 64 was believed is not in the thread; blkback's 2012 pool of 64 pending requests,
# `xen_blkif_reqs`, is one candidate.) David's concern scales with the ring: per host memory is
# per-device memory x VMs x disks, so multi-page rings and indirect segments, not the one-page
# ring, are what make it large, which is what the plots below show.

# %% [markdown]
# ## 4. Trade-offs: ring order, indirect segments, caps
#
# Worst-case mapped memory per device (one queue) for each ring order, for direct requests
# (11 segments), Linux blkfront's default indirect segments (32), blkback's maximum (256) and the
# protocol maximum (4096 = 8 indirect pages x 512), without a cap and with later Linux's
# `max_persistent_grants` = 1056 per ring. The 2012 patch's cap (2816 grants) is drawn as a line.

# %%
segment_choices = (
    C.SEGMENTS_PER_REQUEST,
    C.LINUX_FRONTEND_MAX_INDIRECT_SEGMENTS,
    C.LINUX_BACKEND_MAX_INDIRECT_SEGMENTS,
    C.MAX_INDIRECT_SEGMENTS_PROTOCOL,
)
grid = blkif.memory_grid(abi=abi, segments=segment_choices, caps=(None, C.LINUX_MAX_PERSISTENT_GRANTS))
grid["cap"] = grid["cap"].map(lambda g: "no cap" if pd.isna(g) else f"cap {int(g)} (Linux)")
segment_names = dict(zip(segment_choices, ["direct", "blkfront default", "blkback max", "protocol max"]))
grid["segments per request"] = grid["segments"].map(lambda k: f"{k} ({segment_names[k]})")
patch_cap_mib = C.PATCH_2012_MAX_PERSISTENT_GRANTS * C.PAGE_BYTES / blkif.MIB

fig = plots.ring.memory_per_device(grid, abi, patch_cap_mib)
plt.show()

# %% [markdown]
# Per host: the same worst case for `vms` VMs x `disks` disks with `queues` rings per device,
# against dom0's memory (the `dom0_mem_gib` parameter). Without a cap, the host total grows with ring order and segments per request;
# with Linux's per-ring cap it is bounded by 1056 pages (4.125 MiB) per ring, times the queues.

# %%
host_rows = []
for _, row in grid.iterrows():
    cap = None if row["cap"] == "no cap" else C.LINUX_MAX_PERSISTENT_GRANTS
    host = blkif.host_memory(vms, disks, slots=int(row["slots"]), segments=int(row["segments"]), cap=cap, queues=queues)
    host_rows.append({**row, "host_gib": host.gib})
host_grid = pd.DataFrame(host_rows)

fig = plots.ring.memory_per_host(host_grid, abi, vms=vms, disks=disks, queues=queues, dom0_mem_gib=dom0_mem_gib)
plt.show()

# %% [markdown]
# How many devices a dom0 can back before the worst case fills its memory: host memory against
# the number of devices (VMs x disks) for each ring order, direct requests, no cap.

# %%
device_counts = [1, 10, 50, 100, 200, 300, 500, 1000]
rows = []
for order in range(C.MAX_RING_PAGE_ORDER + 1):
    for devices in device_counts:
        host = blkif.host_memory(devices, 1, slots=blkif.ring_slots(order, abi), queues=queues)
        rows.append({"order": f"order {order} ({blkif.ring_slots(order, abi)} slots)", "devices": devices, "host_gib": host.gib})
by_devices = pd.DataFrame(rows)

fig = plots.ring.memory_by_devices(by_devices, abi, vms=vms, disks=disks, queues=queues, dom0_mem_gib=dom0_mem_gib)
plt.show()

# %% [markdown]
# ## 5. What a deeper ring allows in flight
#
# The number of requests a ring can have outstanding is its slot count; the data in flight is
# slots x segments x 4 KiB. Whether a deeper ring raises throughput depends on the device and on
# the costs modelled in the scaling notebooks (03-scaling-usl, 04-shootdown-model); this notebook
# does not guess it.

# %%
flight = grid[grid["cap"] == "no cap"].assign(in_flight_mib=lambda d: d["in_flight_bytes"] / blkif.MIB)
fig = plots.ring.capacity(flight, abi)
plt.show()
