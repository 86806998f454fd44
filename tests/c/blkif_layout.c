/*
 * The blkif ring layouts, declared by hand after the public headers, for tests/test_xen_blkif.py to
 * compare with analysis.xen.blkif's layout engine. Compiled with `cc` (x86_64) and `cc -m32` (x86_32).
 *
 * "xen" view: Xen xen/include/public/io/blkif.h (natural alignment, as a guest compiles it) with
 *   the ring of Linux include/xen/interface/io/ring.h DEFINE_RING_TYPES.
 * "linux" view: Linux drivers/block/xen-blkback/common.h, blkback's __packed per-ABI requests.
 *
 * Output, one fact per line:  <view> <abi> <type> <member|sizeof> <bytes>
 *                       and:  slots <view> <abi> <order> <slots>
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PAGE_BYTES 4096
#define MAX_SEGMENTS 11        /* BLKIF_MAX_SEGMENTS_PER_REQUEST */
#define MAX_INDIRECT_PAGES 8   /* BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST */
#define MAX_ORDER 4            /* XENBUS_MAX_RING_GRANT_ORDER */

/* ---- ring.h arithmetic: round a 32-bit value down to a power of two, then the ring size ---- */
#define RD2(x)  (((x) & 0x00000002) ? 0x2 : ((x) & 0x1))
#define RD4(x)  (((x) & 0x0000000c) ? RD2((x) >> 2) << 2 : RD2(x))
#define RD8(x)  (((x) & 0x000000f0) ? RD4((x) >> 4) << 4 : RD4(x))
#define RD16(x) (((x) & 0x0000ff00) ? RD8((x) >> 8) << 8 : RD8(x))
#define RD32(x) (((x) & 0xffff0000) ? RD16((x) >> 16) << 16 : RD16(x))
#define CONST_RING_SIZE(sring_t, bytes) \
	(RD32(((bytes) - offsetof(sring_t, ring)) / sizeof(((sring_t *)0)->ring[0])))

#define RING_TYPES(tag, req_t, rsp_t)                    \
	union tag##_entry { req_t req; rsp_t rsp; };     \
	struct tag##_sring {                             \
		uint32_t req_prod, req_event;            \
		uint32_t rsp_prod, rsp_event;            \
		uint8_t pad[48];                         \
		union tag##_entry ring[1];               \
	};

/* ---- xen view: the public header's structs, natural alignment ---- */
struct blkif_request_segment {
	uint32_t gref;
	uint8_t first_sect, last_sect;
};

struct blkif_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint64_t id;
	uint64_t sector_number;
	struct blkif_request_segment seg[MAX_SEGMENTS];
};

struct blkif_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint64_t id;
	uint64_t sector_number;
	uint16_t handle;
	uint32_t indirect_grefs[MAX_INDIRECT_PAGES];
#ifdef __i386__
	uint64_t pad;
#endif
};

struct blkif_response {
	uint64_t id;
	uint8_t operation;
	int16_t status;
};

RING_TYPES(blkif, struct blkif_request, struct blkif_response)

/* ---- linux view: blkback's packed requests for 32- and 64-bit guests ---- */
#define PACKED __attribute__((__packed__))

struct l32_rw { uint8_t nr_segments; uint16_t handle; uint64_t id; uint64_t sector_number;
	struct blkif_request_segment seg[MAX_SEGMENTS]; } PACKED;
struct l32_discard { uint8_t flag; uint16_t _pad1; uint64_t id; uint64_t sector_number;
	uint64_t nr_sectors; } PACKED;
struct l32_other { uint8_t _pad1; uint16_t _pad2; uint64_t id; } PACKED;
struct l32_indirect { uint8_t indirect_op; uint16_t nr_segments; uint64_t id; uint64_t sector_number;
	uint16_t handle; uint16_t _pad2; uint32_t indirect_grefs[MAX_INDIRECT_PAGES]; uint64_t _pad3; } PACKED;
struct blkif_x86_32_request { uint8_t operation;
	union { struct l32_rw rw; struct l32_discard discard; struct l32_other other;
		struct l32_indirect indirect; } u; } PACKED;

struct l64_rw { uint8_t nr_segments; uint16_t handle; uint32_t _pad1; uint64_t id; uint64_t sector_number;
	struct blkif_request_segment seg[MAX_SEGMENTS]; } PACKED;
struct l64_discard { uint8_t flag; uint16_t _pad1; uint32_t _pad2; uint64_t id; uint64_t sector_number;
	uint64_t nr_sectors; } PACKED;
struct l64_other { uint8_t _pad1; uint16_t _pad2; uint32_t _pad3; uint64_t id; } PACKED;
struct l64_indirect { uint8_t indirect_op; uint16_t nr_segments; uint32_t _pad1; uint64_t id;
	uint64_t sector_number; uint16_t handle; uint16_t _pad2; uint32_t indirect_grefs[MAX_INDIRECT_PAGES];
	uint32_t _pad3; } PACKED;
struct blkif_x86_64_request { uint8_t operation;
	union { struct l64_rw rw; struct l64_discard discard; struct l64_other other;
		struct l64_indirect indirect; } u; } PACKED;

/* common.h: DEFINE_RING_TYPES(blkif_x86_32, ..., struct blkif_response __packed) */
RING_TYPES(linux_x86_32, struct blkif_x86_32_request, struct blkif_response PACKED)
RING_TYPES(linux_x86_64, struct blkif_x86_64_request, struct blkif_response)

#define FACT(view, abi, type, member) \
	printf("%s %s %s %s %zu\n", view, abi, #type, #member, offsetof(struct type, member))
#define SIZE(view, abi, type) printf("%s %s %s sizeof %zu\n", view, abi, #type, sizeof(struct type))
#define USIZE(view, abi, name, type) printf("%s %s %s sizeof %zu\n", view, abi, name, sizeof(union type))

int main(void)
{
	const char *abi = sizeof(void *) == 8 ? "x86_64" : "x86_32";
	int order;

	SIZE("xen", abi, blkif_request_segment);
	FACT("xen", abi, blkif_request_segment, gref);
	FACT("xen", abi, blkif_request_segment, first_sect);
	FACT("xen", abi, blkif_request_segment, last_sect);
	SIZE("xen", abi, blkif_request);
	FACT("xen", abi, blkif_request, operation);
	FACT("xen", abi, blkif_request, nr_segments);
	FACT("xen", abi, blkif_request, handle);
	FACT("xen", abi, blkif_request, id);
	FACT("xen", abi, blkif_request, sector_number);
	FACT("xen", abi, blkif_request, seg);
	SIZE("xen", abi, blkif_request_indirect);
	FACT("xen", abi, blkif_request_indirect, indirect_op);
	FACT("xen", abi, blkif_request_indirect, nr_segments);
	FACT("xen", abi, blkif_request_indirect, id);
	FACT("xen", abi, blkif_request_indirect, sector_number);
	FACT("xen", abi, blkif_request_indirect, handle);
	FACT("xen", abi, blkif_request_indirect, indirect_grefs);
	SIZE("xen", abi, blkif_response);
	FACT("xen", abi, blkif_response, id);
	FACT("xen", abi, blkif_response, operation);
	FACT("xen", abi, blkif_response, status);
	USIZE("xen", abi, "blkif_sring_entry", blkif_entry);
	FACT("xen", abi, blkif_sring, req_prod);
	FACT("xen", abi, blkif_sring, rsp_event);
	FACT("xen", abi, blkif_sring, pad);
	FACT("xen", abi, blkif_sring, ring);
	for (order = 0; order <= MAX_ORDER; order++)
		printf("slots xen %s %d %lu\n", abi, order,
		       (unsigned long)CONST_RING_SIZE(struct blkif_sring, (unsigned long)PAGE_BYTES << order));

	/* blkback's per-ABI structs do not depend on the compiler's ABI: print both. */
	SIZE("linux", "x86_32", blkif_x86_32_request);
	FACT("linux", "x86_32", blkif_x86_32_request, u.rw.nr_segments);
	FACT("linux", "x86_32", blkif_x86_32_request, u.rw.handle);
	FACT("linux", "x86_32", blkif_x86_32_request, u.rw.id);
	FACT("linux", "x86_32", blkif_x86_32_request, u.rw.sector_number);
	FACT("linux", "x86_32", blkif_x86_32_request, u.rw.seg);
	FACT("linux", "x86_32", blkif_x86_32_request, u.discard.nr_sectors);
	FACT("linux", "x86_32", blkif_x86_32_request, u.indirect.id);
	FACT("linux", "x86_32", blkif_x86_32_request, u.indirect.handle);
	FACT("linux", "x86_32", blkif_x86_32_request, u.indirect.indirect_grefs);
	SIZE("linux", "x86_64", blkif_x86_64_request);
	FACT("linux", "x86_64", blkif_x86_64_request, u.rw.nr_segments);
	FACT("linux", "x86_64", blkif_x86_64_request, u.rw.handle);
	FACT("linux", "x86_64", blkif_x86_64_request, u.rw.id);
	FACT("linux", "x86_64", blkif_x86_64_request, u.rw.sector_number);
	FACT("linux", "x86_64", blkif_x86_64_request, u.rw.seg);
	FACT("linux", "x86_64", blkif_x86_64_request, u.discard.nr_sectors);
	FACT("linux", "x86_64", blkif_x86_64_request, u.indirect.id);
	FACT("linux", "x86_64", blkif_x86_64_request, u.indirect.handle);
	FACT("linux", "x86_64", blkif_x86_64_request, u.indirect.indirect_grefs);
	USIZE("linux", "x86_32", "blkif_sring_entry", linux_x86_32_entry);
	USIZE("linux", "x86_64", "blkif_sring_entry", linux_x86_64_entry);
	for (order = 0; order <= MAX_ORDER; order++) {
		printf("slots linux x86_32 %d %lu\n", order, (unsigned long)
		       CONST_RING_SIZE(struct linux_x86_32_sring, (unsigned long)PAGE_BYTES << order));
		printf("slots linux x86_64 %d %lu\n", order, (unsigned long)
		       CONST_RING_SIZE(struct linux_x86_64_sring, (unsigned long)PAGE_BYTES << order));
	}
	return 0;
}
