"""Xen blkif ring geometry and the memory blkback keeps mapped for persistent grants.

Everything here is computed from first principles, never copied from a header's comment:

* the C layout of the blkif request, response and shared ring, from field sizes and the x86_64 /
  x86_32 alignment rules (a small struct-layout engine with an ABI table);
* the ring's slot count as Linux include/xen/interface/io/ring.h computes it:
  ``__RD32((ring bytes - offsetof(sring, ring)) / sizeof(ring entry))``, the largest power of two
  not above the number of whole entries that fit after the 64-byte header;
* the pages, bytes and ``struct page *`` pointers blkback keeps mapped per ring in persistent mode,
  per device and per host, with the caps of the 2012 patch and of later Linux;
* the 2012 thread's figures (``data/raw/seed-thread/memory-claims.csv``) next to the computed ones.

Sizes are in bytes unless a name says otherwise; ``mib`` is 2**20 bytes, ``gib`` 2**30 bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union as _TypingUnion

import pandas as pd

from analysis import constants as C
from analysis.errors import PgrantLabError, UsageError

MIB = 2**20
GIB = 2**30
KIB = 2**10


# --------------------------------------------------------------------------------------------
# ABIs: sizes and alignments of the C scalar types used by the blkif headers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Abi:
    """Sizes and in-struct alignments (bytes) of the scalar C types of one ABI."""

    name: str
    sizes: dict
    aligns: dict

    @property
    def pointer_bytes(self) -> int:
        return self.sizes["ptr"]


_SCALAR_SIZES = {"u8": 1, "u16": 2, "i16": 2, "u32": 4, "u64": 8}

# x86-64 System V psABI: every scalar is aligned to its size.
# i386 System V psABI (as gcc -m32 applies it inside structs): 8-byte integers are 4-aligned,
# which is why struct blkif_request is 108 bytes on x86_32 and 112 on x86_64.
ABIS = {
    "x86_64": Abi("x86_64", {**_SCALAR_SIZES, "ptr": 8}, {"u8": 1, "u16": 2, "i16": 2, "u32": 4, "u64": 8, "ptr": 8}),
    "x86_32": Abi("x86_32", {**_SCALAR_SIZES, "ptr": 4}, {"u8": 1, "u16": 2, "i16": 2, "u32": 4, "u64": 4, "ptr": 4}),
}


# blkback runs in dom0, taken to be 64-bit (Jan Beulich, 2012-09-20: "I don't think 11Mb of
# _virtual_ space is unacceptable overhead in a 64-bit kernel"); its struct page pointers are
# 8 bytes whatever the guest's ABI.
DOM0_ABI = "x86_64"
DOM0_POINTER_BYTES = ABIS[DOM0_ABI].pointer_bytes


def get_abi(abi: str | Abi) -> Abi:
    """The ABI named ``abi`` (``x86_64`` or ``x86_32``); UsageError names the allowed set."""
    if isinstance(abi, Abi):
        return abi
    if abi not in ABIS:
        raise UsageError(f"abi: expected one of {', '.join(ABIS)}, found {abi!r}")
    return ABIS[abi]


# --------------------------------------------------------------------------------------------
# A small C struct-layout engine
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Array:
    """``elem name[count]``."""

    elem: "CType"
    count: int


@dataclass(frozen=True)
class Struct:
    """A C struct (or union with ``union=True``); ``packed`` is ``__attribute__((__packed__))``."""

    name: str
    fields: tuple
    packed: bool = False
    union: bool = False


CType = _TypingUnion[str, Array, Struct]


@dataclass(frozen=True)
class Layout:
    """Size and alignment of a C type, and the byte offset of every (nested) member by dotted path."""

    size: int
    align: int
    offsets: dict = field(default_factory=dict)


def _round_up(value: int, align: int) -> int:
    return -(-value // align) * align


def layout(ctype: CType, abi: str | Abi = "x86_64") -> Layout:
    """Size, alignment and member offsets of ``ctype`` under the C rules gcc applies for ``abi``.

    Rules: a member starts at the next multiple of its alignment (1 inside a packed struct); a
    struct's alignment is its largest member alignment (1 if packed) and its size is rounded up
    to it; a union's members all start at 0; an array has its element's alignment.
    """
    abi = get_abi(abi)
    if isinstance(ctype, str):
        return Layout(abi.sizes[ctype], abi.aligns[ctype])
    if isinstance(ctype, Array):
        elem = layout(ctype.elem, abi)
        return Layout(elem.size * ctype.count, elem.align)
    return _struct_layout(ctype, abi)


def _struct_layout(struct: Struct, abi: Abi) -> Layout:
    offsets: dict[str, int] = {}
    end = 0
    align = 1
    for name, member_type in struct.fields:
        member = layout(member_type, abi)
        member_align = 1 if struct.packed else member.align
        start = 0 if struct.union else _round_up(end, member_align)
        offsets[name] = start
        offsets.update({f"{name}.{path}": start + off for path, off in member.offsets.items()})
        end = max(end, start + member.size)
        align = max(align, member_align)
    return Layout(_round_up(end, align), align, offsets)


def _union(name: str, fields: tuple, packed: bool = False) -> Struct:
    return Struct(name, fields, packed=packed, union=True)


# --------------------------------------------------------------------------------------------
# The blkif declarations
# --------------------------------------------------------------------------------------------

# Xen xen/include/public/io/blkif.h and Linux include/xen/interface/io/blkif.h:
# struct blkif_request_segment { grant_ref_t gref; uint8_t first_sect, last_sect; } (8 bytes).
SEGMENT = Struct("blkif_request_segment", (("gref", "u32"), ("first_sect", "u8"), ("last_sect", "u8")))

# Xen xen/include/public/io/blkif.h: struct blkif_response { uint64_t id; uint8_t operation;
# int16_t status; }, natural alignment (16 bytes on x86_64, 12 on x86_32).
RESPONSE = Struct("blkif_response", (("id", "u64"), ("operation", "u8"), ("status", "i16")))


def request_type(abi: str | Abi = "x86_64") -> Struct:
    """Xen xen/include/public/io/blkif.h ``struct blkif_request`` (natural alignment, no packing).

    The same declaration for every ABI: the compiler inserts the 4-byte hole before ``id`` on
    x86_64 and none on x86_32, which this module's layout engine reproduces.
    """
    return Struct(
        "blkif_request",
        (
            ("operation", "u8"),
            ("nr_segments", "u8"),
            ("handle", "u16"),
            ("id", "u64"),
            ("sector_number", "u64"),
            ("seg", Array(SEGMENT, C.SEGMENTS_PER_REQUEST)),
        ),
    )


def indirect_request_type(abi: str | Abi = "x86_64") -> Struct:
    """Xen xen/include/public/io/blkif.h ``struct blkif_request_indirect``.

    ``#ifdef __i386__ uint64_t pad;`` makes it 64 bytes on x86_32 as well as on x86_64.
    """
    fields = (
        ("operation", "u8"),
        ("indirect_op", "u8"),
        ("nr_segments", "u16"),
        ("id", "u64"),
        ("sector_number", "u64"),
        ("handle", "u16"),
        ("indirect_grefs", Array("u32", C.INDIRECT_PAGES_PER_REQUEST)),
    )
    if get_abi(abi).name == "x86_32":
        fields += (("pad", "u64"),)
    return Struct("blkif_request_indirect", fields)


def linux_request_type(abi: str | Abi = "x86_64") -> Struct:
    """Linux drivers/block/xen-blkback/common.h ``struct blkif_x86_{32,64}_request``.

    blkback's own view of a guest's request: ``__packed`` structs with explicit pads, the first
    member ``operation`` followed by a union of the rw / discard / other / indirect layouts.
    Compiled on a 64-bit dom0 for either guest ABI, so scalars need no ABI alignment.
    """
    is_64 = get_abi(abi).name == "x86_64"
    pad_before_id = (("_pad_id", "u32"),) if is_64 else ()
    rw = Struct(
        "request_rw",
        (("nr_segments", "u8"), ("handle", "u16"), *pad_before_id, ("id", "u64"),
         ("sector_number", "u64"), ("seg", Array(SEGMENT, C.SEGMENTS_PER_REQUEST))),
        packed=True,
    )
    discard = Struct(
        "request_discard",
        (("flag", "u8"), ("_pad1", "u16"), *pad_before_id, ("id", "u64"),
         ("sector_number", "u64"), ("nr_sectors", "u64")),
        packed=True,
    )
    other = Struct("request_other", (("_pad1", "u8"), ("_pad2", "u16"), *pad_before_id, ("id", "u64")), packed=True)
    indirect = Struct(
        "request_indirect",
        (("indirect_op", "u8"), ("nr_segments", "u16"), *pad_before_id, ("id", "u64"),
         ("sector_number", "u64"), ("handle", "u16"), ("_pad2", "u16"),
         ("indirect_grefs", Array("u32", C.INDIRECT_PAGES_PER_REQUEST)),
         ("_pad3", "u32" if is_64 else "u64")),
        packed=True,
    )
    body = _union("u", (("rw", rw), ("discard", discard), ("other", other), ("indirect", indirect)))
    return Struct(f"blkif_{get_abi(abi).name}_request", (("operation", "u8"), ("u", body)), packed=True)


def ring_entry_type(abi: str | Abi = "x86_64", *, view: str = "xen") -> Struct:
    """``union blkif_sring_entry { request; response; }`` from DEFINE_RING_TYPES (ring.h).

    ``view="xen"``: the guest's view, the public header compiled for ``abi``.
    ``view="linux"``: blkback's view for a guest of ``abi`` (common.h); for x86_32 the response
    member is declared ``struct blkif_response __packed``, modelled by packing the union.
    """
    if view == "xen":
        return _union("blkif_sring_entry", (("req", request_type(abi)), ("rsp", RESPONSE)))
    if view == "linux":
        packed = get_abi(abi).name == "x86_32"
        return _union("blkif_sring_entry", (("req", linux_request_type(abi)), ("rsp", RESPONSE)), packed=packed)
    raise UsageError(f"view: expected 'xen' or 'linux', found {view!r}")


def sring_type(abi: str | Abi = "x86_64", *, view: str = "xen") -> Struct:
    """``struct blkif_sring`` from DEFINE_RING_TYPES in Linux include/xen/interface/io/ring.h.

    Four RING_IDX (unsigned int) indexes, ``uint8_t pad[48]``, then ``ring[1]`` (variable length).
    """
    indexes = tuple((name, "u32") for name in ("req_prod", "req_event", "rsp_prod", "rsp_event"))
    assert len(indexes) == C.RING_INDEXES
    return Struct(
        "blkif_sring",
        (*indexes, ("pad", Array("u8", C.RING_PAD_BYTES)), ("ring", Array(ring_entry_type(abi, view=view), 1))),
    )


# --------------------------------------------------------------------------------------------
# Ring geometry
# --------------------------------------------------------------------------------------------


def request_size(abi: str | Abi = "x86_64") -> int:
    """sizeof(struct blkif_request) in bytes for ``abi`` (112 on x86_64, 108 on x86_32)."""
    return layout(request_type(abi), abi).size


def response_size(abi: str | Abi = "x86_64") -> int:
    """sizeof(struct blkif_response) in bytes for ``abi`` (16 on x86_64, 12 on x86_32)."""
    return layout(RESPONSE, abi).size


def _compiler_abi(abi: str | Abi, view: str) -> str | Abi:
    """The ABI the structs are compiled for: the guest's (xen view) or dom0's (blkback, linux view)."""
    return abi if view == "xen" else DOM0_ABI


def entry_size(abi: str | Abi = "x86_64", *, view: str = "xen") -> int:
    """sizeof(union blkif_sring_entry): the bytes one ring slot takes."""
    return layout(ring_entry_type(abi, view=view), _compiler_abi(abi, view)).size


def ring_header_bytes(abi: str | Abi = "x86_64", *, view: str = "xen") -> int:
    """offsetof(struct blkif_sring, ring): the bytes before the first slot (64)."""
    return layout(sring_type(abi, view=view), _compiler_abi(abi, view)).offsets["ring"]


def _round_down_pow2(value: int) -> int:
    """ring.h __RD32: the largest power of two not above ``value`` (0 for 0)."""
    return 1 << (value.bit_length() - 1) if value > 0 else 0


def check_order(order) -> int:
    """``order`` if it is an integer ring page order 0..XENBUS_MAX_RING_GRANT_ORDER, else UsageError."""
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= C.MAX_RING_PAGE_ORDER:
        raise UsageError(
            f"order: expected an integer ring page order from 0 to {C.MAX_RING_PAGE_ORDER} "
            f"(XENBUS_MAX_RING_GRANT_ORDER), found {order!r}"
        )
    return order


def ring_bytes(order: int = 0) -> int:
    """Bytes of a ring of 2**order pages of PAGE_BYTES (4 KiB Xen pages)."""
    return C.PAGE_BYTES << check_order(order)


def slots_for_bytes(total_bytes: int, abi: str | Abi = "x86_64", *, view: str = "xen") -> int:
    """__CONST_RING_SIZE(blkif, total_bytes) in ring.h, for any shared-area size in bytes.

    slots = __RD32((total_bytes - offsetof(sring, ring)) / sizeof(entry)); 0 if not one entry fits.
    """
    spare = total_bytes - ring_header_bytes(abi, view=view)
    return _round_down_pow2(max(spare, 0) // entry_size(abi, view=view))


def ring_slots(order: int = 0, abi: str | Abi = "x86_64", *, view: str = "xen") -> int:
    """Requests a shared ring of 2**order pages holds (32 for one page on both x86 ABIs)."""
    return slots_for_bytes(ring_bytes(order), abi, view=view)


def order_for_slots(slots: int, abi: str | Abi = "x86_64") -> int | None:
    """The smallest ring page order whose ring holds at least ``slots`` requests (None if none does)."""
    for order in range(C.MAX_RING_PAGE_ORDER + 1):
        if ring_slots(order, abi) >= slots:
            return order
    return None


@dataclass(frozen=True)
class RingGeometry:
    """One shared ring: its pages (each a grant reference), layout and slot count."""

    abi: str
    order: int
    ring_pages: int
    ring_bytes: int
    header_bytes: int
    request_bytes: int
    response_bytes: int
    entry_bytes: int
    whole_entries: int
    slots: int

    @property
    def grant_refs(self) -> int:
        """Grant references the frontend publishes for the ring (ring-ref0..N-1): one per page."""
        return self.ring_pages

    @property
    def unused_bytes(self) -> int:
        """Ring bytes left idle by the power-of-two rounding and the header."""
        return self.ring_bytes - self.header_bytes - self.slots * self.entry_bytes

    def in_flight_bytes(self, segments: int = C.SEGMENTS_PER_REQUEST, page_bytes: int = C.PAGE_BYTES) -> int:
        """Data bytes the ring allows in flight: slots x segments x page_bytes."""
        return self.slots * check_segments(segments) * page_bytes


def ring_geometry(order: int = 0, abi: str | Abi = "x86_64") -> RingGeometry:
    """The geometry of a ring of page order ``order`` for a guest of ``abi``."""
    abi = get_abi(abi)
    total = ring_bytes(order)
    header = ring_header_bytes(abi)
    entry = entry_size(abi)
    return RingGeometry(
        abi=abi.name,
        order=order,
        ring_pages=1 << order,
        ring_bytes=total,
        header_bytes=header,
        request_bytes=request_size(abi),
        response_bytes=response_size(abi),
        entry_bytes=entry,
        whole_entries=(total - header) // entry,
        slots=ring_slots(order, abi),
    )


def geometry_table(abis=tuple(ABIS), orders=None) -> pd.DataFrame:
    """One row per (abi, order): ring pages (grant refs), bytes, entry size, whole entries, slots."""
    orders = range(C.MAX_RING_PAGE_ORDER + 1) if orders is None else orders
    rows = []
    for abi in abis:
        for order in orders:
            g = ring_geometry(order, abi)
            rows.append({**g.__dict__, "grant_refs": g.grant_refs, "unused_bytes": g.unused_bytes})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Persistent-grant memory
# --------------------------------------------------------------------------------------------


def check_segments(segments) -> int:
    """Segments per request: 1..4096 (8 indirect pages x 512), else UsageError."""
    top = C.MAX_INDIRECT_SEGMENTS_PROTOCOL
    if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= top:
        raise UsageError(
            f"segments: expected an integer from 1 to {top} (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST x "
            f"{C.SEGMENTS_PER_INDIRECT_PAGE} segments per page), found {segments!r}"
        )
    return segments


def _check_count(name: str, value, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name}: expected an integer >= {minimum}, found {value!r}")
    return value


def indirect_pages(segments: int) -> int:
    """Indirect-descriptor pages one request of ``segments`` segments uses (0 for a direct request).

    Xen blkif.h: ceil(segments / (PAGE_SIZE / sizeof(struct blkif_request_segment))); blkback maps
    them through xen_blkbk_map like data pages, so in persistent mode they stay mapped too.
    """
    if check_segments(segments) <= C.SEGMENTS_PER_REQUEST:
        return 0
    return math.ceil(segments / C.SEGMENTS_PER_INDIRECT_PAGE)


@dataclass(frozen=True)
class PersistentMemory:
    """Grant pages blkback keeps mapped for one ring in persistent mode, at the worst case.

    ``pages`` = min(slots x (segments + indirect pages per request), cap). ``bytes`` is what the
    mapped pages occupy in dom0's address space (and, where blkback backs them with ballooned or
    freshly allocated pages, in its memory); ``page_pointer_bytes`` is the ``struct page *`` array
    that indexes them (Jan Beulich, 2012-09-21: "an array of pointers to struct page").
    """

    slots: int
    segments: int
    indirect_pages_per_request: int
    uncapped_pages: int
    pages: int
    page_bytes: int
    pointer_bytes: int
    cap: int | None

    @property
    def capped(self) -> bool:
        return self.pages < self.uncapped_pages

    @property
    def bytes(self) -> int:
        return self.pages * self.page_bytes

    @property
    def mib(self) -> float:
        return self.bytes / MIB

    @property
    def page_pointer_bytes(self) -> int:
        return self.pages * self.pointer_bytes

    def as_dict(self) -> dict:
        return {**self.__dict__, "capped": self.capped, "bytes": self.bytes, "mib": self.mib,
                "page_pointer_bytes": self.page_pointer_bytes}


def persistent_memory(
    slots: int,
    segments: int = C.SEGMENTS_PER_REQUEST,
    page_bytes: int = C.PAGE_BYTES,
    cap: int | None = None,
    *,
    pointer_bytes: int = DOM0_POINTER_BYTES,
) -> PersistentMemory:
    """Worst-case persistently mapped grants of one ring: every slot in flight with every segment.

    slots: ring slots (requests in flight), e.g. ``ring_slots(order)``.
    segments: data segments per request, 11 direct or up to 4096 with indirect descriptors.
    page_bytes: bytes per granted page (4096). cap: the backend's limit on persistent grants
    (``PATCH_2012_MAX_PERSISTENT_GRANTS`` = 2816, ``LINUX_MAX_PERSISTENT_GRANTS`` = 1056 per ring),
    None for no cap. pointer_bytes: sizeof(struct page *) in dom0 (8 on x86_64).
    """
    _check_count("slots", slots, 1)
    indirect = indirect_pages(segments)
    _check_count("page_bytes", page_bytes, 1)
    _check_count("pointer_bytes", pointer_bytes, 1)
    if cap is not None:
        _check_count("cap", cap, 0)
    uncapped = slots * (segments + indirect)
    pages = uncapped if cap is None else min(uncapped, cap)
    return PersistentMemory(slots, segments, indirect, uncapped, pages, page_bytes, pointer_bytes, cap)


@dataclass(frozen=True)
class HostMemory:
    """Persistent-grant memory of a whole host: ``vms`` x ``disks`` devices of ``queues`` rings each."""

    vms: int
    disks: int
    queues: int
    per_ring: PersistentMemory

    @property
    def devices(self) -> int:
        return self.vms * self.disks

    @property
    def pages_per_device(self) -> int:
        return self.per_ring.pages * self.queues

    @property
    def bytes_per_device(self) -> int:
        return self.per_ring.bytes * self.queues

    @property
    def page_pointer_bytes_per_device(self) -> int:
        return self.per_ring.page_pointer_bytes * self.queues

    @property
    def pages(self) -> int:
        return self.pages_per_device * self.devices

    @property
    def bytes(self) -> int:
        return self.bytes_per_device * self.devices

    @property
    def mib(self) -> float:
        return self.bytes / MIB

    @property
    def gib(self) -> float:
        return self.bytes / GIB

    @property
    def page_pointer_bytes(self) -> int:
        return self.page_pointer_bytes_per_device * self.devices


def host_memory(
    vms: int,
    disks: int,
    *,
    slots: int,
    segments: int = C.SEGMENTS_PER_REQUEST,
    page_bytes: int = C.PAGE_BYTES,
    cap: int | None = None,
    queues: int = 1,
    pointer_bytes: int = DOM0_POINTER_BYTES,
) -> HostMemory:
    """Worst-case persistent-grant memory of ``vms`` guests with ``disks`` devices each.

    Each device has ``queues`` rings (blkfront max_queues, default 4 since Linux 4.6; 1 in 2012),
    each with its own persistent-grant store and cap, so per device = queues x per ring and
    per host = per device x vms x disks.
    """
    _check_count("vms", vms, 0)
    _check_count("disks", disks, 0)
    _check_count("queues", queues, 1)
    per_ring = persistent_memory(slots, segments, page_bytes, cap, pointer_bytes=pointer_bytes)
    return HostMemory(vms, disks, queues, per_ring)


def memory_grid(
    *,
    abi: str = "x86_64",
    orders=None,
    segments=(C.SEGMENTS_PER_REQUEST,),
    caps=(None,),
    page_bytes: int = C.PAGE_BYTES,
) -> pd.DataFrame:
    """Tidy table of per-ring memory over ring orders x segments per request x caps.

    Columns: abi, order, slots, segments, cap (None = uncapped), pages, mib_per_device,
    page_pointer_bytes, in_flight_requests, in_flight_bytes.
    """
    orders = range(C.MAX_RING_PAGE_ORDER + 1) if orders is None else orders
    rows = []
    for order in orders:
        slots = ring_slots(order, abi)
        for seg in segments:
            for cap in caps:
                mem = persistent_memory(slots, seg, page_bytes, cap)
                rows.append({
                    "abi": get_abi(abi).name, "order": order, "slots": slots, "segments": seg, "cap": cap,
                    "pages": mem.pages, "mib_per_device": mem.mib, "page_pointer_bytes": mem.page_pointer_bytes,
                    "in_flight_requests": slots, "in_flight_bytes": slots * seg * page_bytes,
                })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The 2012 thread's figures, digitized in data/raw/seed-thread/memory-claims.csv
# --------------------------------------------------------------------------------------------


# The thread writes MB/GB/k; 256 x 11 x 4096 B is exactly 11 x 2**20 B, so they are binary units.
CLAIM_UNIT_BYTES = {"MB": MIB, "Mb": MIB, "GB": GIB, "k": KIB}


def _claimed_bytes(row) -> float:
    return float(row["value"]) * CLAIM_UNIT_BYTES[row["unit"]]


def judge_claims(claims: pd.DataFrame, abi: str = "x86_64") -> pd.DataFrame:
    """Each claim next to the value computed under the claim's own premises and under the real ring.

    Columns added: ``computed`` (in the claim's unit), ``holds`` (claim == computed, or > for
    a ``>`` relation, within 2 %), ``slots_real`` (what a ring of the stated or one-page order holds)
    and ``premise_ok`` (the slot count the claim assumes is the one-page ring's).
    """
    one_page = ring_slots(0, abi)
    out = []
    for _, row in claims.iterrows():
        quantity = row["quantity"]
        slots = int(row["slots"]) if pd.notna(row["slots"]) else None
        if quantity == "ring_slots":
            order = int(row["ring_order"])
            computed = float(ring_slots(order, abi))
            premise_ok = computed == float(row["value"])
        elif quantity == "mem_per_device":
            computed = persistent_memory(slots).bytes / CLAIM_UNIT_BYTES[row["unit"]]
            premise_ok = slots == one_page
        elif quantity == "mem_per_host":
            host = host_memory(int(row["vms"]), int(row["disks"]), slots=slots)
            computed = host.bytes / CLAIM_UNIT_BYTES[row["unit"]]
            premise_ok = slots == one_page
        else:  # page_pointer_array: "11Mb worth of pages" -> pointers to that many pages
            pages = persistent_memory(slots).pages
            computed = pages * DOM0_POINTER_BYTES / CLAIM_UNIT_BYTES[row["unit"]]
            premise_ok = slots == one_page
        claimed = float(row["value"])
        if row["relation"] == ">":
            holds = computed > claimed
        else:
            holds = abs(computed - claimed) <= 0.02 * abs(claimed)
        out.append({**row.to_dict(), "computed": computed, "holds": bool(holds), "premise_ok": bool(premise_ok)})
    return pd.DataFrame(out)


def memory_scenarios(claims: pd.DataFrame, abi: str = "x86_64", *, vms: int = 150, disks: int = 2) -> pd.DataFrame:
    """The thread's per-device figures and the computed one-page ring, side by side.

    One row per slot count the thread assumed (from the ``mem_per_device`` claims) plus the real
    one-page ring of ``abi``: claimed MiB, computed MiB, the ring page order that slot count
    really needs and its grant references, and the host total for ``vms`` x ``disks`` devices.
    """
    rows = []
    per_device = claims[claims["quantity"] == "mem_per_device"]
    for _, row in per_device.iterrows():
        rows.append((f"{row['author']} ({row['date_utc']})", int(row["slots"]), _claimed_bytes(row) / MIB))
    rows.append((f"computed: one-page ring, {get_abi(abi).name}", ring_slots(0, abi), float("nan")))
    out = []
    for label, slots, claimed_mib in rows:
        mem = persistent_memory(slots)
        host = host_memory(vms, disks, slots=slots)
        order = order_for_slots(slots, abi)
        out.append({
            "scenario": label,
            "slots": slots,
            "claimed_mib_per_device": claimed_mib,
            "mib_per_device": mem.mib,
            "order_needed": order,
            "ring_grant_refs": None if order is None else 1 << order,
            "one_page_ring": slots == ring_slots(0, abi),
            "page_pointer_kib": mem.page_pointer_bytes / KIB,
            f"host_gib_{vms}x{disks}": host.gib,
        })
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------
# 2012 against today's defaults
# --------------------------------------------------------------------------------------------

#: Each persistent grant in the 2012 patch is a page dom0 allocates (xen_blkbk_map:
#: ``pers_gnt->page = alloc_page(GFP_KERNEL)``) and keeps mapped to the guest's frame, so the
#: memory is pages of dom0 (David Vrabel's concern), not only the 8-byte pointers that index them
#: (Jan Beulich's "22k of pointers"). Linux since 3.8 still takes one dom0 page per persistent grant.
DOM0_PAGE_PER_PERSISTENT_GRANT = True


def memory_2012_and_today(vms: int = 150, disks: int = 2, abi: str = "x86_64") -> dict:
    """Worst-case persistent-grant memory of ``vms`` x ``disks`` devices, 2012 against today.

    2012: one queue, one-page ring (32 slots) x 11 direct segments, no cap reached (352 pages per
    device; the patch's cap 2816 is never reached). Today (Linux blkfront/blkback defaults): 4
    queues (max_queues), one-page rings, 32 indirect segments (+ 1 indirect page per request) and
    max_persistent_grants = 1056 per ring, i.e. ``pgrant-lab ring --order 0 --indirect-segments 32
    --queues 4 --cap 1056 --vms 150 --disks 2``. Returns bytes and MiB/GiB for both and pages per
    device; every page is a dom0 page (:data:`DOM0_PAGE_PER_PERSISTENT_GRANT`).
    """
    slots = ring_slots(C.LINUX_FRONTEND_RING_PAGE_ORDER, abi)
    then = host_memory(vms, disks, slots=slots)
    now = host_memory(vms, disks, slots=slots, segments=C.LINUX_FRONTEND_MAX_INDIRECT_SEGMENTS,
                      cap=C.LINUX_MAX_PERSISTENT_GRANTS, queues=C.LINUX_FRONTEND_MAX_QUEUES)
    return {"vms": vms, "disks": disks,
            "pages_per_device_2012": then.pages_per_device, "bytes_2012": then.bytes, "gib_2012": then.gib,
            "pages_per_device_today": now.pages_per_device, "bytes_today": now.bytes, "mib_today": now.mib,
            "gib_today": now.gib, "page_pointer_bytes_2012": then.page_pointer_bytes}
