"""analysis.models.memcpy: the copy model's intervals cover the truth (covariance and case bootstrap)
and its CPU share counts one copy per page segment."""

import numpy as np
import pytest

from analysis.models import MemcpyModel, memcpy_ns
from tests.fit_coverage import COVER, coverage


def test_memcpy_intervals_cover_the_truth():
    sizes = np.tile([64.0, 256, 512, 1024, 2048, 4096], 3)

    def truth(rng):
        return {"fixed_ns": rng.uniform(5, 100), "bw_bytes_s": 10 ** rng.uniform(9, 10.5)}

    rates = coverage(lambda: MemcpyModel(n_boot=0), truth, lambda rng: sizes, memcpy_ns)
    assert all(r >= COVER for r in rates.values()), rates


def test_memcpy_cpu_share_counts_one_copy_per_page_segment():
    model = MemcpyModel()
    p = {"fixed_ns": 50.0, "bw_bytes_s": 4e9}
    # 44 KiB = 11 page segments: 11 fixed costs plus 45056 bytes at 4 GB/s, at 100k IOPS.
    expected = 100_000 * (11 * 50.0 + 45056 / 4e9 * 1e9) / 1e9
    assert model.cpu_share(100_000, 45056, **p) == pytest.approx(expected)
    assert model.io_ns(4096, **p) == pytest.approx(memcpy_ns(4096, **p))


def test_case_bootstrap_intervals_cover_the_truth_for_memcpy():
    """Case resampling (pairs) on a replicated design: >= 85% of 40 trials (200 resamples)."""
    sizes = np.tile([64.0, 256, 512, 1024, 2048, 4096], 4)

    def truth(rng):
        return {"fixed_ns": rng.uniform(5, 100), "bw_bytes_s": 10 ** rng.uniform(9, 10.5)}

    rates = coverage(lambda: MemcpyModel(n_boot=200, bootstrap="case", seed=3), truth,
                      lambda rng: sizes, memcpy_ns, trials=40, ci="ci_boot_")
    assert all(r >= 0.85 for r in rates.values()), rates
