"""Issue 13, item 1: lookup CPU share from pages per second at array sizes the frontend reaches."""

import numpy as np
import pytest

from analysis.models import LookupModel
from analysis.models.lookup import lookup_cpu_share, pages_per_s
from analysis.xen.grants.frontend import reachable_grants_2012


def test_lookups_per_second_are_pages_per_second_whatever_the_request_size():
    # 130k 4 KiB IOPS = 130k lookups/s; the same bytes as 11-segment requests are 130k/11 requests.
    assert pages_per_s(130_000) == 130_000
    assert pages_per_s(130_000 / 11, bytes_per_io=11 * 4096) == pytest.approx(130_000)
    assert lookup_cpu_share(130_000, 500.0) == pytest.approx(0.065)


def test_share_at_the_reachable_size_from_a_fitted_linear_model():
    rng = np.random.default_rng(4)
    n = np.array([1, 16, 64, 128, 256, 352, 512, 1024], dtype=float)
    model = LookupModel(kind="linear", n_boot=0).fit(n, 5 + 0.5 * n + rng.normal(0, 0.2, n.size))
    reachable = reachable_grants_2012()
    share = lookup_cpu_share(130_000, model.predict(reachable))
    assert share == pytest.approx(130_000 * (5 + 0.5 * 352) / 1e9, rel=0.02)
    # An array of 2816 grants is not reachable by a 2012 blkfront: the share there is not the claim's.
    assert reachable < 2816
