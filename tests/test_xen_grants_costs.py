"""analysis.xen.grants.costs: counts times per-operation costs, provenance of every cost, costs from
fitted models, and (issue 13, items 2 and 7) the shootdown term with V - 1 receivers and their
handler time charged."""

import numpy as np
import pytest

from analysis.models.shootdown import ShootdownModel, receiving_vcpus
from analysis.xen.grants import Costs, dom0_ns, throughput_iops


def test_costs_combine_counts_with_per_operation_costs():
    costs = Costs(map_ns_per_page=1000, unmap_ns_per_page=500, shootdown_base_ns=1000, shootdown_ns_per_vcpu=200,
                  shootdown_handler_ns=100, lookup_ns_per_comparison=2, backend_ns_per_request=0,
                  guest_ns_per_request=100, memcpy_ns_per_byte=0.5, dom0_vcpus=4, guest_vcpus=1)
    counts = {"requests": 1, "maps": 2, "unmaps": 2, "unmap_batches": 1, "lookup_comparisons": 10, "memcpy_bytes": 200}
    # 2 x 1000 + 2 x 500 + (1000 + 200 x 3 receiving VCPUs) + 100 x 3 receivers' handlers + 10 x 2 = 4920 ns.
    assert dom0_ns(counts, costs) == 4920
    # Guest: 100 + 200 x 0.5 = 200 ns -> 5e6 requests/s per guest; dom0: 4 x 1e9 / 4920 /s.
    np.testing.assert_allclose(throughput_iops(counts, costs, [0.1, 1, 10]), [5e5, 4e9 / 4920, 4e9 / 4920])


def test_cost_override_records_provenance():
    fitted = Costs().override("fitted: ShootdownModel on data/raw/x", shootdown_ns_per_vcpu=150.0)
    table = fitted.table().set_index("name")
    assert table.loc["shootdown_ns_per_vcpu", "value"] == 150.0
    assert table.loc["shootdown_ns_per_vcpu", "source"] == "fitted: ShootdownModel on data/raw/x"
    assert table.loc["map_ns_per_page", "source"].startswith("assumed")
    assert (table["unit"] != "").all()


def test_costs_from_fitted_models_reproduce_the_fitted_unmap_cost():
    from analysis.models import LookupModel, MemcpyModel, ShootdownModel

    rng = np.random.default_rng(3)
    vcpus = np.array([1, 2, 4, 8, 12, 16, 24, 32], dtype=float)  # receiving VCPUs k = V - 1
    unmap = 900 + 150 * vcpus + rng.normal(0, 5, vcpus.size)  # known truth: 900 ns + 150 ns/receiving VCPU
    shootdown = ShootdownModel(kind="linear", n_boot=20).fit(vcpus, unmap)
    nbytes = np.array([512, 4096, 16384, 65536, 262144], dtype=float)
    memcpy = MemcpyModel(n_boot=20).fit(nbytes, 50 + nbytes / 8.0)  # 8 bytes/ns = 8e9 bytes/s
    grants = np.array([1, 16, 64, 256, 1024, 2816], dtype=float)
    lookup = LookupModel(kind="linear", n_boot=20).fit(grants, 10 + 0.7 * grants)

    costs = Costs(dom0_vcpus=24).from_models("fitted on synthetic data", shootdown=shootdown, memcpy=memcpy,
                                             lookup=lookup)
    # 24 dom0 VCPUs: the unmapping one flushes itself and IPIs the other 23 (Xen flush_area_mask).
    assert costs.shootdown_ns() == pytest.approx(float(shootdown.predict(23)))
    assert costs.shootdown_ns() == pytest.approx(900 + 150 * 23, rel=0.02)
    assert costs.memcpy_ns_per_byte == pytest.approx(1 / 8.0, rel=1e-3)
    assert costs.lookup_ns_per_comparison == pytest.approx(0.7, rel=1e-3)
    assert costs.table().set_index("name").loc["memcpy_ns_per_byte", "source"] == "fitted on synthetic data"


def test_costs_charge_each_flush_with_v_minus_1_receivers_and_their_handlers():
    costs = Costs(map_ns_per_page=0, unmap_ns_per_page=0, shootdown_base_ns=1000, shootdown_ns_per_vcpu=200,
                  shootdown_handler_ns=300, lookup_ns_per_comparison=0, backend_ns_per_request=0, dom0_vcpus=8)
    counts = {"requests": 1, "maps": 0, "unmaps": 176, "unmap_batches": 1, "tlb_flushes": 6, "lookup_comparisons": 0}
    # 6 flushes x (sender 1000 + 200 x 7 + receivers 300 x 7).
    assert dom0_ns(counts, costs) == 6 * (1000 + 200 * 7 + 300 * 7)
    # A table without tlb_flushes (written before the column existed) pays one flush per batch.
    old = {k: v for k, v in counts.items() if k != "tlb_flushes"}
    assert dom0_ns(old, costs) == 1000 + 200 * 7 + 300 * 7
    # One VCPU: nobody to interrupt.
    assert costs.flush_cpu_ns(1) == 1000


def test_shootdown_model_and_costs_agree_on_v_minus_1():
    model = ShootdownModel(kind="linear")
    model.params_, model.fixed_ = {"base_ns": 900.0, "per_vcpu_ns": 150.0, "contention": 0.0}, {}
    for v in (1, 2, 24):
        costs = Costs(dom0_vcpus=v).from_models("synthetic", shootdown=model)
        flush = model.scaling_params(dom0_vcpus=v, service_ns=0.0)["flush_ns"]
        assert costs.shootdown_ns() == pytest.approx(flush)
        assert flush == pytest.approx(900 + 150 * (v - 1))
    np.testing.assert_array_equal(receiving_vcpus([0, 1, 2, 24]), [0, 0, 1, 23])


def test_with_receivers_charged_throughput_falls_as_dom0_vcpus_grow():
    from analysis.xen.grants.costs import blkback_threads_iops

    costs = Costs(map_ns_per_page=100, unmap_ns_per_page=100, shootdown_base_ns=1000, shootdown_ns_per_vcpu=200,
                  shootdown_handler_ns=500, backend_ns_per_request=2000, guest_ns_per_request=0,
                  memcpy_ns_per_byte=0, lookup_ns_per_comparison=0)
    counts = {"requests": 1, "maps": 11, "unmaps": 11, "unmap_batches": 1, "tlb_flushes": 1,
              "lookup_comparisons": 0, "memcpy_bytes": 0}
    x = [float(blkback_threads_iops(counts, costs, 5, dom0_vcpus=v)) for v in (5, 8, 16, 24, 32)]
    assert all(a > b for a, b in zip(x, x[1:]))
    # Exactly: 5 threads, each 2000 + 2200 + (1000 + 200 (V - 1)) + 4 x 500 ns per request.
    assert x[3] == pytest.approx(5e9 / (2000 + 2200 + 1000 + 200 * 23 + 4 * 500))
    n = np.arange(1, 25)
    by_guests = blkback_threads_iops(counts, costs, n, dom0_vcpus=24)
    assert np.all(np.diff(by_guests) > 0) and np.all(np.diff(by_guests / n) < 0)
