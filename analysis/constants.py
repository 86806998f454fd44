"""Constants from the Linux and Xen sources, each with the file it comes from.

Every other module takes these from here; none repeats a literal 11 or 4096.
Each value was checked against the named file in the Linux (torvalds/linux) or Xen (xen-project/xen) sources.
"""

# Linux include/xen/page.h (XEN_PAGE_SIZE) / x86 PAGE_SIZE: grants are per 4 KiB page.
PAGE_BYTES = 4096

# Linux include/linux/blkdev.h (SECTOR_SIZE): blkif addresses in 512-byte sectors.
SECTOR_BYTES = 512

# Xen xen/include/public/io/blkif.h and Linux include/xen/interface/io/blkif.h:
# BLKIF_MAX_SEGMENTS_PER_REQUEST, the direct segments one ring request carries (11 x 4 KiB = 44 KiB).
SEGMENTS_PER_REQUEST = 11
#: Data one request without indirect descriptors carries: 11 x 4 KiB = 44 KiB.
REQUEST_BYTES = SEGMENTS_PER_REQUEST * PAGE_BYTES

# Linux include/xen/interface/io/ring.h (DEFINE_RING_TYPES, struct __name##_sring): four RING_IDX
# (unsigned int) indexes req_prod, req_event, rsp_prod, rsp_event, then uint8_t pad[48], then the
# entries. analysis.xen.blkif computes the header as offsetof(sring, ring); this is the expected value.
RING_INDEXES = 4
RING_PAD_BYTES = 48
RING_HEADER_BYTES = 64

# Linux include/xen/interface/io/blkif.h: BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST and
# BLKIF_OP_INDIRECT (6); each indirect page holds PAGE_BYTES / sizeof(struct blkif_request_segment)
# = 4096 / 8 = 512 segments.
INDIRECT_PAGES_PER_REQUEST = 8
SEGMENTS_PER_INDIRECT_PAGE = 512
BLKIF_OP_INDIRECT = 6
# The protocol maximum of segments in one indirect request: 8 pages x 512 = 4096 (16 MiB of data).
MAX_INDIRECT_SEGMENTS_PROTOCOL = INDIRECT_PAGES_PER_REQUEST * SEGMENTS_PER_INDIRECT_PAGE

# Linux drivers/block/xen-blkback/common.h: MAX_INDIRECT_SEGMENTS, what blkback advertises in
# feature-max-indirect-segments; drivers/block/xen-blkfront.c: max_indirect_segments default 32.
LINUX_BACKEND_MAX_INDIRECT_SEGMENTS = 256
LINUX_FRONTEND_MAX_INDIRECT_SEGMENTS = 32

# Linux drivers/block/xen-blkback/common.h: XEN_BLKIF_REQS_PER_PAGE, "Number of requests that we
# can fit in a ring" (one page); the tests check that ring_slots(0) reproduces it.
LINUX_REQS_PER_RING_PAGE = 32

# Linux include/xen/xenbus.h: XENBUS_MAX_RING_GRANT_ORDER, the largest ring (16 pages).
MAX_RING_PAGE_ORDER = 4
# drivers/block/xen-blkfront.c: max_ring_page_order module parameter, default 0 (one page);
# drivers/block/xen-blkback/xenbus.c: blkback offers up to XENBUS_MAX_RING_GRANT_ORDER.
LINUX_FRONTEND_RING_PAGE_ORDER = 0

# The 2012 patch (seed thread, include/xen/interface/io/blkif.h hunk):
# BLKIF_MAX_PERS_REQUESTS_PER_DEV = 256, "the maximum number of entries in the ring".
PATCH_2012_PERS_REQUESTS_PER_DEV = 256
# The same patch's cap on mapped persistent grants, drivers/block/xen-blkback/common.h hunk:
# pers_gnts[BLKIF_MAX_PERS_REQUESTS_PER_DEV * BLKIF_MAX_SEGMENTS_PER_REQUEST] (2816 grants).
PATCH_2012_MAX_PERSISTENT_GRANTS = PATCH_2012_PERS_REQUESTS_PER_DEV * SEGMENTS_PER_REQUEST

# Linux drivers/block/xen-blkback/blkback.c (commit 3f3aad5e, 3.11): max_persistent_grants
# module parameter default, and the LRU purge interval and percentage.
# Since multi-queue blkback (4.6) the limit is counted per ring (struct xen_blkif_ring,
# persistent_gnt_c), so a device with Q queues may map up to Q x 1056 grants.
LINUX_MAX_PERSISTENT_GRANTS = 1056
LINUX_LRU_INTERVAL_MS = 100
LINUX_LRU_PERCENT_CLEAN = 5

# Seed thread, patch description (Oliver Chick, 2012-09-19): "when Dom0 has 24 VCPUs ... the IPIs
# from performing unmap's is a bottleneck at 5 guests (at which point 650,000 IOPS are being
# performed in total) ... By 10 guests, only 400,000 IOPS are being performed."
SEED_DOM0_VCPUS = 24
SEED_PEAK_GUESTS = 5
SEED_PEAK_IOPS = 650_000
SEED_GUESTS_AT_DECLINE = 10
SEED_IOPS_AT_DECLINE = 400_000

# Linux drivers/block/xen-blkback/blkback.c, module parameter persistent_grant_unused_seconds
# (pgrant_timeout, Juergen Gross, 2018): idle persistent grants older than this are purged.
LINUX_PERSISTENT_GRANT_UNUSED_SECONDS = 60

# fio stat.h (fio 3.x, checked against axboe/fio stat.h and stat.c plat_idx_to_val): completion
# latency histograms have FIO_IO_U_PLAT_GROUP_NR groups of FIO_IO_U_PLAT_VAL = 2^FIO_IO_U_PLAT_BITS
# bins each, 29 x 64 = 1856 bins (FIO_IO_U_PLAT_NR), in ns. fio 2.x used 19 groups in us.
FIO_PLAT_BITS = 6
FIO_PLAT_VAL = 1 << FIO_PLAT_BITS
FIO_PLAT_GROUP_NR = 29
FIO_PLAT_NR = FIO_PLAT_GROUP_NR * FIO_PLAT_VAL

# fio HOWTO.rst "log_hist_coarseness": 0..6; each step halves the number of histogram-log bins
# (iolog.c flush_hist_samples sums 1 << coarseness adjacent bins).
FIO_HIST_MAX_COARSENESS = 6

# Xen xen/common/grant_table.c: GNTTAB_UNMAP_BATCH_SIZE 32, "Number of unmap operations that are done
# between each tlb flush": one GNTTABOP_unmap_grant_ref hypercall of n operations flushes the TLBs
# ceil(n / 32) times (gnttab_unmap_grant_ref processes the ops in batches of this size).
GNTTAB_UNMAP_BATCH_SIZE = 32

# Linux drivers/block/xen-blkfront.c: module parameter max_queues (xen_blkif_max_queues), default 4
# since multi-queue blkfront (Linux 4.6): one ring, one grant list and one backend store per queue.
LINUX_FRONTEND_MAX_QUEUES = 4
