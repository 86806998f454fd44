"""analysis.models.shootdown: the unmap and scaling models recover known parameters, the scaling model
is the USL in physical units, and the throughput it implies peaks only with contention."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import UsageError
from analysis.models import USL, ShootdownModel, ShootdownScaling, peak_calibrated, shootdown_iops, unmap_ns, usl
from tests.fit_coverage import COVER, GUESTS, coverage


def test_shootdown_contention_intervals_cover_the_truth():
    vcpus = np.repeat([1.0, 2, 4, 8, 16, 24], 3)
    unmappers = np.tile([1.0, 2, 4], 6)

    def truth(rng):
        return {"base_ns": rng.uniform(100, 2000), "per_vcpu_ns": rng.uniform(20, 500),
                "contention": rng.uniform(0.05, 1.0)}

    def fn(x, **p):
        return unmap_ns(np.vstack(x), **p)

    rates = coverage(lambda: ShootdownModel(n_boot=0), truth,
                      lambda rng: (vcpus, unmappers), fn)
    assert all(r >= COVER for r in rates.values()), rates


def test_shootdown_scaling_intervals_cover_the_truth():
    def truth(rng):
        flush = rng.uniform(200, 3000)
        return {"service_ns": rng.uniform(2000, 20000), "flush_ns": flush,
                "contention_ns": flush * rng.uniform(0.05, 1.0)}

    rates = coverage(lambda: ShootdownScaling(n_boot=0), truth, lambda rng: GUESTS,
                      shootdown_iops)
    assert all(r >= COVER for r in rates.values()), rates


@settings(derandomize=True, max_examples=40, deadline=None)
@given(service=st.floats(100, 1e5), flush=st.floats(1, 1e4),
       contention=st.one_of(st.just(0.0), st.floats(1e-4, 2)))
def test_shootdown_scaling_is_the_usl_in_physical_units(service, flush, contention):
    model = ShootdownScaling()
    p = {"service_ns": service, "flush_ns": flush, "contention_ns": flush * contention}
    assert model.contention(**p) == pytest.approx(contention)
    u = model.to_usl(**p)
    n = np.arange(1, 30, dtype=float)
    np.testing.assert_allclose(shootdown_iops(n, **p),
                               usl(n, lam=u["lambda"], sigma=u["sigma"], kappa=u["kappa"]),
                               rtol=1e-10)
    n_star, x_star = model.peak(**p)
    if contention > 0 and n_star >= 1:  # the model describes N >= 1 guests
        assert n_star == pytest.approx(USL().peak(**u)[0], rel=1e-9)
        grid = np.linspace(max(n_star / 3, 1), n_star * 3, 20001)
        assert x_star >= shootdown_iops(grid, **p).max() * (1 - 1e-9)


def test_shootdown_throughput_peaks_only_with_contention():
    linear = ShootdownModel(kind="linear")
    linear.params_, linear.fixed_ = {"base_ns": 500.0, "per_vcpu_ns": 100.0, "contention": 0.0}, {}
    n = np.arange(1, 25, dtype=float)
    x = linear.throughput(n, dom0_vcpus=24, service_ns=5000)
    assert np.all(np.diff(x) > 0)  # saturates towards 1e9 / unmap cost, never falls
    x = linear.throughput(n, dom0_vcpus=24, service_ns=5000, contention=0.5)
    assert 1 < n[x.argmax()] < 24 and x[-1] < x.max()


@settings(derandomize=True, max_examples=40, deadline=None)
@given(n_peak=st.floats(2, 30), x_peak=st.floats(1e3, 1e7), share=st.floats(0, 0.99))  # 1: flat, no peak
def test_peak_calibrated_curves_peak_where_asked(n_peak, x_peak, share):
    budget = 1e9 / x_peak
    p = peak_calibrated(n_peak, x_peak, share * budget)
    model = ShootdownScaling()
    n_star, x_star = model.peak(**p)
    assert n_star == pytest.approx(n_peak, rel=1e-9)
    assert x_star == pytest.approx(x_peak, rel=1e-9)
    with pytest.raises(UsageError, match="expected 0..[0-9.e+-]+ ns, the flush budget per I/O"):
        peak_calibrated(n_peak, x_peak, budget * 1.01)


def test_shootdown_throughput_equals_the_scaling_model_it_implies():
    model = ShootdownModel(kind="contention")
    p = {"base_ns": 800.0, "per_vcpu_ns": 150.0, "contention": 0.3}
    n = np.arange(1.0, 20)
    # Direct from the per-unmap model: T(N) = service + N * u * unmap_ns(V - 1 receivers, m=N).
    per_unmap = unmap_ns(np.vstack([np.full_like(n, 15.0), n]), **p)
    direct = 1e9 * n / (3000.0 + n * 0.5 * per_unmap)
    np.testing.assert_allclose(model.throughput(n, dom0_vcpus=16, service_ns=3000.0, unmaps_per_io=0.5, **p),
                               direct, rtol=1e-12)
