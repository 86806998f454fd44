"""Per-request outcomes beyond the four of :mod:`policies`: a crashed dom0, grant copy, rings.

:class:`BlkifResult` is a :class:`~analysis.xen.grants.policies.Result` whose ``status`` codes
may also be :data:`CRASHED` (dom0 hit a ``BUG_ON`` while serving the request: it and every later
request are not served) and whose ``per_request`` may carry the counts of the newer modes:

``copy_hypercalls`` / ``copy_ops`` / ``xen_copy_bytes``
    grant copy (GNTTABOP_copy): hypercalls, one op per page, bytes Xen copies;
``indirect_pages``
    indirect-descriptor pages of the request (BLKIF_OP_INDIRECT), granted and mapped like data;
``queue`` / ``ring_resident_pages``
    the ring (queue) the request went to and the pages persistently mapped for that ring after it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.xen.grants.policies import FAILED, STATUS_NAMES, Result

CRASHED = len(STATUS_NAMES)
ALL_STATUS_NAMES = (*STATUS_NAMES, "crashed")
SUMMED = ("copy_hypercalls", "copy_ops", "xen_copy_bytes", "indirect_pages")


class BlkifResult(Result):
    """A Result that knows the crashed status and the counts of grant copy, indirect and queues."""

    def totals(self) -> dict:
        r = self.per_request
        status = r["status"]
        crashed = status == CRASHED
        out = super().totals()
        served = int(self.trace.segments[(status != FAILED) & ~crashed].sum())
        out["hit_rate"] = out["hits"] / served if served else float("nan")
        out["crashed_requests"] = int(np.count_nonzero(crashed))
        out["crashed_at_request"] = int(np.argmax(crashed)) if crashed.any() else None
        for key in SUMMED:
            if key in r:
                out[key] = int(r[key].sum())
        if "ring_resident_pages" in r:
            out["max_ring_resident_pages"] = int(r["ring_resident_pages"].max(initial=0))
        if "queue" in r:
            out["queues"] = int(r["queue"].max(initial=0)) + 1
        return out

    def frame(self) -> pd.DataFrame:
        table = pd.DataFrame({"time_us": self.trace.time_us, "segments": self.trace.segments, **self.per_request})
        table["status"] = pd.Categorical.from_codes(table["status"], ALL_STATUS_NAMES)
        return table
