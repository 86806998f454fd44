"""``pgrant-lab ring``: ring geometry and worst-case persistent-grant memory for one configuration.

Prints the slots a ring of page order N holds for a guest ABI, the data it allows in flight, and
the pages and memory blkback keeps mapped in persistent mode per device and per host.
"""

from __future__ import annotations

import argparse
import json
import re

from analysis.xen import blkif
from analysis import constants as C
from analysis.errors import UsageError
from analysis.text import shown


# Largest count any option takes: far above a real host, and it keeps every product of counts and
# bytes a finite float (MiB figures). --vms is bounded tighter: Xen domain IDs of ordinary domains
# are below DOMID_FIRST_RESERVED = 0x7FF0 (xen/include/public/xen.h), dom0 included.
MAX_COUNT = 2**20
MAX_VMS = 0x7FF0 - 1


def _count(text: str, most: int = MAX_COUNT) -> int:
    """argparse type: a non-negative integer written in ASCII decimal, at most ``most``."""
    if not re.fullmatch(r"[0-9]{1,30}", text.strip()):
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {shown(text)}")
    value = int(text)
    if value > most:
        raise argparse.ArgumentTypeError(f"expected at most {most}, found {value if value < 10**30 else shown(text)}")
    return value


def _vms(text: str) -> int:
    return _count(text, MAX_VMS)


def register(sub) -> None:
    p = sub.add_parser(
        "ring",
        help="ring slots, in-flight bytes and persistent-grant memory per device and per host",
        description="Ring geometry (Linux ring.h arithmetic on the blkif layouts) and the worst-case "
        "memory blkback keeps mapped with persistent grants.",
    )
    p.add_argument("--order", type=_count, default=0,
                   help=f"ring page order 0..{C.MAX_RING_PAGE_ORDER}: the ring has 2**order pages (default 0)")
    p.add_argument("--abi", default="x86_64", help=f"guest ABI: {', '.join(blkif.ABIS)} (default x86_64)")
    p.add_argument("--indirect-segments", type=_count, default=None, metavar="K",
                   help=f"segments per request with indirect descriptors, up to {C.MAX_INDIRECT_SEGMENTS_PROTOCOL} "
                   f"(default: {C.SEGMENTS_PER_REQUEST} direct segments)")
    p.add_argument("--vms", type=_vms, default=1, help="guests on the host (default 1)")
    p.add_argument("--disks", type=_count, default=1, help="block devices per guest (default 1)")
    p.add_argument("--queues", type=_count, default=1,
                   help="rings (hardware queues) per device, each with its own grants and cap; Linux blkfront "
                   "max_queues defaults to 4 (default 1, as in 2012)")
    p.add_argument("--cap", type=_count, default=None, metavar="G",
                   help=f"backend cap on persistent grants per ring (2012 patch: {C.PATCH_2012_MAX_PERSISTENT_GRANTS}, "
                   f"Linux max_persistent_grants: {C.LINUX_MAX_PERSISTENT_GRANTS}; default: no cap)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def ring_report(*, order: int, abi: str, segments: int, vms: int, disks: int, cap: int | None,
                queues: int = 1) -> dict:
    """Everything ``pgrant-lab ring`` prints, as one flat dict (bytes unless the key says otherwise)."""
    geometry = blkif.ring_geometry(blkif.check_order(order), abi)
    host = blkif.host_memory(vms, disks, slots=geometry.slots, segments=segments, cap=cap, queues=queues)
    ring = host.per_ring
    return {
        "abi": geometry.abi,
        "order": geometry.order,
        "ring_pages": geometry.ring_pages,
        "ring_grant_refs": geometry.grant_refs,
        "ring_bytes": geometry.ring_bytes,
        "header_bytes": geometry.header_bytes,
        "request_bytes": geometry.request_bytes,
        "response_bytes": geometry.response_bytes,
        "entry_bytes": geometry.entry_bytes,
        "slots": geometry.slots,
        "segments_per_request": segments,
        "indirect_pages_per_request": ring.indirect_pages_per_request,
        "in_flight_bytes_per_ring": geometry.in_flight_bytes(segments),
        "cap": cap,
        "pages_per_ring": ring.pages,
        "capped": ring.capped,
        "queues": queues,
        "pages_per_device": host.pages_per_device,
        "bytes_per_device": host.bytes_per_device,
        "mib_per_device": host.bytes_per_device / blkif.MIB,
        "page_pointer_bytes_per_device": host.page_pointer_bytes_per_device,
        "vms": vms,
        "disks": disks,
        "pages_per_host": host.pages,
        "bytes_per_host": host.bytes,
        "mib_per_host": host.mib,
        "page_pointer_bytes_per_host": host.page_pointer_bytes,
    }


# API argument name -> the option that sets it, so errors name what the user typed.
_OPTION_FOR = {"order": "--order", "abi": "--abi", "segments": "--indirect-segments", "vms": "--vms",
               "disks": "--disks", "cap": "--cap", "queues": "--queues"}


def run(args) -> int:
    segments = C.SEGMENTS_PER_REQUEST if args.indirect_segments is None else args.indirect_segments
    try:
        report = ring_report(order=args.order, abi=args.abi, segments=segments, vms=args.vms,
                             disks=args.disks, cap=args.cap, queues=args.queues)
    except UsageError as err:
        name, _, rest = str(err).partition(":")
        raise UsageError(f"{_OPTION_FOR.get(name, name)}:{rest}") from None
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        width = max(len(k) for k in report)
        for key, value in report.items():
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            print(f"{key:<{width}}  {shown}")
    return 0
