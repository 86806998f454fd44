"""Cost of the guest-side memcpy that persistent grants add, and the CPU share it implies.

The thread's claim (Oliver Chick, 2012-09-19 10:51 UTC): with persistent grants blkfront
"memcpy's from the shared memory, into the bvec supplied" for every segment, and "There appears to
be very little, if any additional cost to the guest of using persistent grants."

    copy_ns(bytes) = fixed_ns + 1e9 * bytes / bw_bytes_s

One I/O of ``block_bytes`` copies ceil(block_bytes / PAGE_BYTES) segments (one persistent grant
page each), so it costs segments * fixed_ns + 1e9 * block_bytes / bw_bytes_s, and at ``iops`` I/Os
per second the guest spends ``iops * that / 1e9`` CPUs (1.0 = one CPU fully busy) copying.
"""

from __future__ import annotations

import numpy as np

from analysis.constants import PAGE_BYTES
from analysis.models.base import CurveModel, Parameter, domain_message

NS_PER_S = 1e9


def memcpy_ns(nbytes, *, fixed_ns, bw_bytes_s):
    """Time to copy ``nbytes`` bytes in one memcpy call, in ns.

    fixed_ns: per-call cost independent of size (call, setup, first cache misses), ns.
    bw_bytes_s: sustained copy bandwidth, bytes per second.
    """
    return fixed_ns + NS_PER_S * np.asarray(nbytes, dtype=float) / bw_bytes_s


class MemcpyModel(CurveModel):
    """Copy time vs bytes copied.

    ``fit(nbytes, copy_ns)``: bytes per copy, measured ns per copy. ``params_``: ``fixed_ns``
    (ns per call), ``bw_bytes_s`` (bytes/s).
    """

    label = "Memcpy"
    x_name, y_name = "bytes copied", "copy time"
    default_units = ("B", "ns")
    parameters = (
        Parameter("fixed_ns", "ns", "per-call cost independent of the size copied"),
        Parameter("bw_bytes_s", "B/s", "sustained copy bandwidth", lower=1.0),
    )
    function = staticmethod(memcpy_ns)

    def _domain_error(self, x):
        return domain_message("bytes copied", x, x >= 0, ">= 0")

    def guess(self, x, y):
        if np.ptp(x) > 0:
            slope, intercept = np.polyfit(x, y, 1)
        else:
            slope, intercept = y.mean() / x.mean(), 0.0
        slope = slope if slope > 0 else max(y.mean() / max(x.mean(), 1.0), 1e-6)
        return {"fixed_ns": max(float(intercept), 0.0), "bw_bytes_s": NS_PER_S / float(slope)}

    def io_ns(self, block_bytes, **overrides):
        """Copy time for one I/O of ``block_bytes``: one memcpy per PAGE_BYTES segment, in ns."""
        v = self._values(overrides)
        block = np.asarray(block_bytes, dtype=float)
        segments = np.ceil(block / PAGE_BYTES)
        return segments * v["fixed_ns"] + NS_PER_S * block / v["bw_bytes_s"]

    def cpu_share(self, iops, block_bytes, **overrides):
        """Guest CPUs spent copying at ``iops`` I/Os per second of ``block_bytes`` each
        (1.0 = one CPU fully busy)."""
        return np.asarray(iops, dtype=float) * self.io_ns(block_bytes, **overrides) / NS_PER_S
